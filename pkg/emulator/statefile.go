package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Reading the state file. The file may have been edited by hand or cut
// short, so everything the store relies on is checked before it is used
// (ids, dates, lists without holes, values the emulator knows), and the
// first problem becomes one error that names the file, the place
// ("definitions[1] (id ...): instances[0]: decisions[2]") and the member.
// A file the emulator wrote costs one typed decode and the checks of its
// values; only a file with a problem is read again, member by member
// (stateShape), to name the member: encoding/json's errors say neither
// which list element nor, for dates, which field.

// errNewerState marks a state file written by a newer emulator.
var errNewerState = errors.New("written by a newer arsync")

// loadState reads a state file; a missing file is no state (nil, nil).
func loadState(path string) (*store, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading emulator state: %w", err)
	}
	st, err := parseState(data)
	switch {
	case errors.Is(err, errNewerState):
		return nil, fmt.Errorf("emulator state %s was %w; upgrade arsync, or remove the file to start again", path, err)
	case err != nil:
		return nil, fmt.Errorf("emulator state %s is not valid: %w; fix the file, or remove it to start again", path, err)
	}
	return st, nil
}

// The state file as read: stateFile with the parts that need checking
// kept apart.
type stateIn struct {
	FormatVersion json.RawMessage `json:"formatVersion"`
	Definitions   []*entryIn      `json:"definitions"`
	Lifecycle     *lifeState      `json:"lifecycle"`
	Journal       *journalRef     `json:"journal"`
}

type entryIn struct {
	ID         string            `json:"id"`
	APIVersion string            `json:"apiVersion"`
	CreatedAt  time.Time         `json:"createdAt"`
	VisibleAt  *time.Time        `json:"visibleAt"`
	Definition *object           `json:"definition"`
	Instances  []*storedInstance `json:"instances"`
}

// storedInstance is an instance as read, with its JSON, which the store
// keeps to save it again unchanged.
type storedInstance struct {
	raw json.RawMessage
	in  *instance
}

func (s *storedInstance) UnmarshalJSON(b []byte) error {
	s.raw = append(json.RawMessage(nil), b...)
	s.in = &instance{}
	return json.Unmarshal(b, s.in)
}

// parseState checks and decodes a whole state file.
func parseState(data []byte) (*store, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, errors.New("the file is empty")
	}
	if trimmed[0] != '{' { // null decodes into the struct without an error
		if err := stateShape(data); err != nil {
			return nil, err
		}
		return nil, errors.New("the file is not a JSON object")
	}
	var sf stateIn
	err := json.Unmarshal(data, &sf)
	if err == nil {
		if err = checkVersion(sf.FormatVersion, true); err != nil {
			return nil, err
		}
		var st *store
		if st, err = buildStore(&sf); err == nil {
			return st, nil
		}
	} else {
		err = jsonError("", err)
	}
	// A null in a list decodes to an empty value, and a JSON error names no
	// list element: find the member at fault, if it is one.
	if serr := stateShape(data); serr != nil {
		return nil, serr
	}
	return nil, err
}

// checkVersion reads formatVersion; present says whether the member is
// there at all.
func checkVersion(raw json.RawMessage, present bool) error {
	if !present || len(raw) == 0 || isNull(raw) {
		return errors.New("formatVersion is missing")
	}
	var version int
	if err := json.Unmarshal(raw, &version); err != nil {
		return fmt.Errorf("formatVersion: %s is not a whole number", snippet(raw))
	}
	switch {
	case version > stateFormat:
		return fmt.Errorf("%w (format version %d; this one reads version %d)", errNewerState, version, stateFormat)
	case version < 1:
		return fmt.Errorf("formatVersion %d is not a format version (this emulator reads version %d)", version, stateFormat)
	}
	return nil
}

// buildStore checks the values of a decoded state file and makes the
// store.
func buildStore(sf *stateIn) (*store, error) {
	st := newStore()
	firstAt := make(map[string]int, len(sf.Definitions))
	for i, e := range sf.Definitions {
		where := fmt.Sprintf("definitions[%d]", i)
		if e == nil {
			return nil, fmt.Errorf("%s is null", where)
		}
		r, err := makeRecord(where, e)
		if err != nil {
			return nil, err
		}
		if j, dup := firstAt[r.ID]; dup {
			return nil, fmt.Errorf("%s: id %s is also definitions[%d]'s", where, r.ID, j)
		}
		firstAt[r.ID] = i
		st.add(r)
	}
	if sf.Lifecycle != nil {
		if err := checkLifecycle(sf.Lifecycle); err != nil {
			return nil, err
		}
		st.life = sf.Lifecycle
	}
	if err := checkPeriods(st); err != nil {
		return nil, err
	}
	if sf.Journal != nil {
		st.journal = *sf.Journal
	}
	return st, nil
}

// makeRecord checks one stored definition, with its instances.
func makeRecord(where string, e *entryIn) (*defRecord, error) {
	if e.ID == "" {
		return nil, fmt.Errorf("%s: id is missing", where)
	}
	if !guidRE.MatchString(e.ID) {
		return nil, fmt.Errorf("%s: id %q is not a GUID", where, e.ID)
	}
	// Lookups lower-case the id they are given.
	id := strings.ToLower(e.ID)
	where += " (id " + id + ")"
	switch {
	case e.APIVersion != "v1.0" && e.APIVersion != "beta":
		return nil, fmt.Errorf("%s: apiVersion %q must be v1.0 or beta", where, e.APIVersion)
	case e.CreatedAt.IsZero():
		return nil, fmt.Errorf("%s: createdAt is missing", where)
	case e.Definition == nil:
		return nil, fmt.Errorf("%s: definition is missing", where)
	}
	if err := checkDefinition(id, e.Definition); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	r := &defRecord{ID: id, Version: e.APIVersion, CreatedAt: e.CreatedAt, Object: e.Definition, life: &defLife{}}
	if e.VisibleAt != nil {
		r.VisibleAt = *e.VisibleAt
	}
	firstAt := make(map[string]int, len(e.Instances))
	for i, si := range e.Instances {
		iw := fmt.Sprintf("%s: instances[%d]", where, i)
		if si == nil || si.in == nil {
			return nil, fmt.Errorf("%s is null", iw)
		}
		if err := checkInstance(iw, si.in); err != nil {
			return nil, err
		}
		if err := si.in.checkStages(); err != nil {
			return nil, fmt.Errorf("%s: %w", iw, err)
		}
		key := strings.ToLower(si.in.ID)
		if j, dup := firstAt[key]; dup {
			return nil, fmt.Errorf("%s: id %s is also instances[%d]'s", iw, si.in.ID, j)
		}
		firstAt[key] = i
		r.Instances = append(r.Instances, si.raw)
		r.life.instances = append(r.life.instances, si.in)
	}
	return r, nil
}

// checkPeriods checks that the instances of each definition go with its
// period bookkeeping: without it, or with an older lastStart, the
// lifecycle would start the same periods again, making instances with the
// same ids.
func checkPeriods(st *store) error {
	for i, r := range st.defs {
		if len(r.life.instances) == 0 {
			continue
		}
		var ps *periodState
		if st.life != nil {
			ps = st.life.Periods[r.ID]
		}
		pw := "lifecycle.periods." + r.ID
		switch {
		case ps == nil:
			return fmt.Errorf("definitions[%d] (id %s) has instances, but %s is missing", i, r.ID, pw)
		case !ps.Created.Equal(r.CreatedAt):
			return fmt.Errorf("%s.definitionCreated %s is not the createdAt %s of definitions[%d]", pw,
				ps.Created.UTC().Format(time.RFC3339Nano), r.CreatedAt.UTC().Format(time.RFC3339Nano), i)
		}
		for j, in := range r.life.instances {
			if in.PeriodStart.After(ps.LastStart) {
				return fmt.Errorf("definitions[%d] (id %s): instances[%d].periodStart %s is after %s.lastStart", i, r.ID, j,
					in.PeriodStart.UTC().Format(time.RFC3339Nano), pw)
			}
		}
	}
	return nil
}

// storedNormalizer checks stored definitions, instance scopes and
// reviewers as a PUT would. It is beta's, whose properties include
// v1.0's: a definition created in v1.0 may have been updated in beta.
var storedNormalizer = &normalizer{version: "beta", prefix: true}

// checkDefinition checks a stored definition object: the properties the
// emulator sets itself, then everything else as a PUT of it would.
func checkDefinition(id string, def *object) error {
	if p := nullElement(def, "definition"); p != "" {
		return fmt.Errorf("%s is null", p)
	}
	v, ok := def.get("id")
	switch {
	case !ok || v == nil:
		return errors.New("definition.id is missing")
	case !isString(v):
		return fmt.Errorf("definition.id: %s is not a string", marshal(v))
	case !strings.EqualFold(v.(string), id):
		return fmt.Errorf("definition.id %s does not match the entry's id", v)
	}
	for _, k := range []string{"createdDateTime", "lastModifiedDateTime"} {
		v, ok := def.get(k)
		if !ok || v == nil {
			return fmt.Errorf("definition.%s is missing", k)
		}
		s, isStr := v.(string)
		if _, err := time.Parse(time.RFC3339Nano, s); !isStr || err != nil {
			return fmt.Errorf("definition.%s: %s is not a date-time", k, marshal(v))
		}
	}
	if v, ok := def.get("status"); ok && v != nil && !isString(v) {
		return fmt.Errorf("definition.status: %s is not a string", marshal(v))
	}
	by, ok := def.get("createdBy")
	if !ok || by == nil {
		return errors.New("definition.createdBy is missing")
	}
	byObj, isObj := by.(*object)
	if !isObj {
		return fmt.Errorf("definition.createdBy: %s is not an object", marshal(by))
	}
	for _, k := range []string{"id", "displayName", "userPrincipalName"} {
		if v := byObj.vals[k]; v != nil && !isString(v) {
			return fmt.Errorf("definition.createdBy.%s: %s is not a string", k, marshal(v))
		}
	}
	if _, gerr := storedNormalizer.definition(def); gerr != nil {
		return fmt.Errorf("definition: %s", strings.TrimSuffix(gerr.message, "."))
	}
	return nil
}

// instanceStatuses are the statuses the lifecycle gives instances.
var instanceStatuses = []string{statusInProgress, statusCompleted, statusApplied}

// instanceShape finds the first member of an instance, or of one of its
// decisions, that has the wrong JSON type, an unreadable date or a null in
// a list; nil when there is none.
func instanceShape(where string, raw json.RawMessage) error {
	o, err := readObject(where, raw)
	if err != nil {
		return err
	}
	for _, k := range []string{"periodStart", "startDateTime", "endDateTime"} {
		if _, err := o.time(where, k); err != nil {
			return err
		}
	}
	for _, k := range []string{"reviewers", "fallbackReviewers", "contactedReviewers"} {
		if _, err := o.list(where, k); err != nil {
			return err
		}
	}
	decisions, err := o.list(where, "decisions")
	if err != nil {
		return err
	}
	rest := make(map[string]json.RawMessage, len(o))
	for k, v := range o {
		switch k {
		case "decisions", "periodStart", "startDateTime", "endDateTime":
		default:
			rest[k] = v
		}
	}
	if err := decodeInto(where, mustMarshal(rest), &instance{}); err != nil {
		return err
	}
	for i, raw := range decisions {
		dw := fmt.Sprintf("%s: decisions[%d]", where, i)
		d, err := readObject(dw, raw)
		if err != nil {
			return err
		}
		for _, k := range []string{"reviewedDateTime", "appliedDateTime"} {
			if _, err := d.time(dw, k); err != nil {
				return err
			}
		}
		reviewers, err := d.list(dw, "reviewers")
		if err != nil {
			return err
		}
		for j, r := range reviewers {
			var s string
			if json.Unmarshal(r, &s) != nil {
				return fmt.Errorf("%s: reviewers[%d]: %s is not a string", dw, j, snippet(r))
			}
		}
		rest := make(map[string]json.RawMessage, len(d))
		for k, v := range d {
			if k != "reviewedDateTime" && k != "appliedDateTime" {
				rest[k] = v
			}
		}
		if err := decodeInto(dw, mustMarshal(rest), &decisionItem{}); err != nil {
			return err
		}
	}
	return nil
}

// checkInstance checks the values of a decoded instance.
func checkInstance(where string, in *instance) error {
	for _, t := range []struct {
		name string
		at   time.Time
	}{{"periodStart", in.PeriodStart}, {"startDateTime", in.Start}, {"endDateTime", in.End}} {
		if t.at.IsZero() {
			return fmt.Errorf("%s: %s is missing", where, t.name)
		}
	}
	switch {
	case in.ID == "":
		return fmt.Errorf("%s: id is missing", where)
	case !slices.Contains(instanceStatuses, in.Status):
		return fmt.Errorf("%s: status %q is not one of %s", where, in.Status, strings.Join(instanceStatuses, ", "))
	case in.Scope == nil:
		return fmt.Errorf("%s: scope is missing", where)
	}
	if p := nullElement(in.Scope, "scope"); p != "" {
		return fmt.Errorf("%s: %s is null", where, p)
	}
	if _, gerr := storedNormalizer.scope(in.Scope, "scope", scopeTop); gerr != nil {
		return fmt.Errorf("%s: scope: %s", where, strings.TrimSuffix(gerr.message, "."))
	}
	for _, list := range []struct {
		key  string
		objs []*object
	}{{"reviewers", in.Reviewers}, {"fallbackReviewers", in.Fallback}} {
		holder := newObject()
		a := make([]any, len(list.objs))
		for i, r := range list.objs {
			if r == nil {
				return fmt.Errorf("%s: %s[%d] is null", where, list.key, i)
			}
			if p := nullElement(r, fmt.Sprintf("%s[%d]", list.key, i)); p != "" {
				return fmt.Errorf("%s: %s is null", where, p)
			}
			a[i] = r
		}
		holder.set(list.key, a)
		if _, gerr := storedNormalizer.reviewerList(holder, list.key, ""); gerr != nil {
			return fmt.Errorf("%s: %s: %s", where, list.key, strings.TrimSuffix(gerr.message, "."))
		}
	}
	if in.Resource != nil {
		if err := checkResource(where+": resource", in.Resource); err != nil {
			return err
		}
	}
	for i, c := range in.Contacted {
		if c.ID == "" {
			return fmt.Errorf("%s: contactedReviewers[%d]: id is missing", where, i)
		}
	}
	firstAt := make(map[string]int, len(in.Decisions))
	for i, d := range in.Decisions {
		dw := fmt.Sprintf("%s: decisions[%d]", where, i)
		if d == nil {
			return fmt.Errorf("%s is null", dw)
		}
		if err := checkDecision(dw, d); err != nil {
			return err
		}
		key := strings.ToLower(d.ID)
		if j, dup := firstAt[key]; dup {
			return fmt.Errorf("%s: id %s is also decisions[%d]'s", dw, d.ID, j)
		}
		firstAt[key] = i
	}
	return nil
}

// The values a decision item's properties take
// (docs/graph-behaviour.md#instances-and-decisions).
var (
	decisionValues       = []string{decisionApprove, decisionDeny, decisionNotReviewed, decisionDontKnow}
	recommendationValues = []string{decisionApprove, decisionDeny, recommendNoInfo}
	applyResultValues    = []string{"", applyNew, applyOK, applyNotFound, applyNotSupported}
	resourceTypes        = []string{"Group", "ServicePrincipal", "DirectoryRole"}
)

// checkDecision checks the values of a decoded decision item.
func checkDecision(where string, d *decisionItem) error {
	switch {
	case d.ID == "":
		return fmt.Errorf("%s: id is missing", where)
	case d.Principal.ID == "":
		return fmt.Errorf("%s: principal.id is missing", where)
	case !slices.Contains(decisionValues, d.Decision):
		return fmt.Errorf("%s: decision %q is not one of %s", where, d.Decision, strings.Join(decisionValues, ", "))
	case !slices.Contains(recommendationValues, d.Recommendation):
		return fmt.Errorf("%s: recommendation %q is not one of %s", where, d.Recommendation, strings.Join(recommendationValues, ", "))
	case !slices.Contains(applyResultValues, d.ApplyResult):
		return fmt.Errorf("%s: applyResult %q is not one of %s", where, d.ApplyResult, strings.Join(applyResultValues[1:], ", "))
	case d.ReviewedBy != nil && d.ReviewedBy.ID == "":
		return fmt.Errorf("%s: reviewedBy.id is missing", where)
	case d.AppliedBy != nil && d.AppliedBy.ID == "":
		return fmt.Errorf("%s: appliedBy.id is missing", where)
	}
	for i, r := range d.Reviewers {
		if r == "" {
			return fmt.Errorf("%s: reviewers[%d] is empty", where, i)
		}
	}
	if d.Resource != nil {
		return checkResource(where+": resource", d.Resource)
	}
	return nil
}

func checkResource(where string, r *resourceRef) error {
	switch {
	case r.ID == "":
		return fmt.Errorf("%s.id is missing", where)
	case !slices.Contains(resourceTypes, r.Type):
		return fmt.Errorf("%s.type %q is not one of %s", where, r.Type, strings.Join(resourceTypes, ", "))
	}
	return nil
}

// dirChangeOps are the directory changes the lifecycle records.
var dirChangeOps = []string{opRemoveMember, opRemoveAppRoleAssignment, opRemoveRoleAssignment, opDisableUser, opDeleteUser}

// checkLifecycle checks the values of the lifecycle's part of the file.
func checkLifecycle(ls *lifeState) error {
	const where = "lifecycle"
	if ls.ClockOffset != "" {
		if d, err := time.ParseDuration(ls.ClockOffset); err != nil || d < 0 {
			return fmt.Errorf("lifecycle.clockOffset %q is not a non-negative duration", ls.ClockOffset)
		}
	}
	periods := make(map[string]*periodState, len(ls.Periods))
	for id, ps := range ls.Periods {
		pw := where + ".periods." + id
		switch {
		case ps == nil:
			return fmt.Errorf("%s is null", pw)
		case ps.Created.IsZero():
			return fmt.Errorf("%s.definitionCreated is missing", pw)
		case ps.Count < 0:
			return fmt.Errorf("%s.count %d is negative", pw, ps.Count)
		}
		periods[strings.ToLower(id)] = ps
	}
	ls.Periods = periods
	for i, c := range ls.Directory {
		cw := fmt.Sprintf("%s.directoryChanges[%d]", where, i)
		removal := c.Op != opDisableUser && c.Op != opDeleteUser
		switch {
		case !slices.Contains(dirChangeOps, c.Op):
			return fmt.Errorf("%s: op %q is not one of %s", cw, c.Op, strings.Join(dirChangeOps, ", "))
		case c.Time.IsZero():
			return fmt.Errorf("%s: time is missing", cw)
		case c.Object == "":
			return fmt.Errorf("%s: object is missing", cw)
		case removal && c.Member == "":
			return fmt.Errorf("%s: member is missing", cw)
		}
	}
	for i, p := range ls.PendingDeletions {
		dw := fmt.Sprintf("%s.pendingDeletions[%d]", where, i)
		switch {
		case p.User == "":
			return fmt.Errorf("%s: user is missing", dw)
		case p.Due.IsZero():
			return fmt.Errorf("%s: due is missing", dw)
		}
	}
	return nil
}

// stateShape finds the first member of a state file that has the wrong
// JSON type, an unreadable date or a null in a list; nil when there is
// none. It checks formatVersion first: a newer file may have another shape.
func stateShape(data []byte) error {
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("not JSON at byte %d of %d: %w", se.Offset, len(data), err)
		}
		return fmt.Errorf("not JSON: %w", err)
	}
	top, err := readObject("", data)
	if err != nil {
		return errors.New("the file is not a JSON object")
	}
	version, ok := top["formatVersion"]
	if err := checkVersion(version, ok); err != nil {
		return err
	}
	entries, err := top.list("", "definitions")
	if err != nil {
		return err
	}
	for i, raw := range entries {
		if err := entryShape(fmt.Sprintf("definitions[%d]", i), raw); err != nil {
			return err
		}
	}
	if raw, ok := top["lifecycle"]; ok && !isNull(raw) {
		return lifecycleShape(raw)
	}
	return nil
}

// entryShape is stateShape for a definitions[] entry.
func entryShape(where string, raw json.RawMessage) error {
	o, err := readObject(where, raw)
	if err != nil {
		return err
	}
	id, err := o.str(where, "id")
	if err != nil {
		return err
	}
	if id != "" {
		where += " (id " + strings.ToLower(id) + ")"
	}
	if _, err := o.str(where, "apiVersion"); err != nil {
		return err
	}
	for _, k := range []string{"createdAt", "visibleAt"} {
		if _, err := o.time(where, k); err != nil {
			return err
		}
	}
	if draw, ok := o["definition"]; ok && !isNull(draw) {
		if err := (&object{}).UnmarshalJSON(draw); err != nil {
			if bytes.HasPrefix(bytes.TrimSpace(draw), []byte("{")) {
				return fmt.Errorf("%s: definition: %w", where, err)
			}
			return fmt.Errorf("%s: definition: %s is not an object", where, snippet(draw))
		}
	}
	instances, err := o.list(where, "instances")
	if err != nil {
		return err
	}
	for i, raw := range instances {
		if err := instanceShape(fmt.Sprintf("%s: instances[%d]", where, i), raw); err != nil {
			return err
		}
	}
	return nil
}

// lifecycleShape is stateShape for the lifecycle's part.
func lifecycleShape(raw json.RawMessage) error {
	const where = "lifecycle"
	o, err := readObject(where, raw)
	if err != nil {
		return err
	}
	if _, err := o.str(where, "clockOffset"); err != nil {
		return err
	}
	if praw, ok := o["periods"]; ok && !isNull(praw) {
		periods, err := readObject(where+".periods", praw)
		if err != nil {
			return err
		}
		for id, raw := range periods {
			pw := where + ".periods." + id
			po, err := readObject(pw, raw)
			if err != nil {
				return err
			}
			for _, k := range []string{"definitionCreated", "lastStart"} {
				if _, err := po.time(pw, k); err != nil {
					return err
				}
			}
			var n int
			if c, ok := po["count"]; ok && json.Unmarshal(c, &n) != nil {
				return fmt.Errorf("%s.count: %s is not a whole number", pw, snippet(c))
			}
		}
	}
	lists := []struct {
		key   string
		times []string
		strs  []string
	}{
		{"directoryChanges", []string{"time"}, []string{"op", "object", "member"}},
		{"pendingDeletions", []string{"due"}, []string{"user"}},
	}
	for _, l := range lists {
		items, err := o.list(where, l.key)
		if err != nil {
			return err
		}
		for i, raw := range items {
			iw := fmt.Sprintf("%s.%s[%d]", where, l.key, i)
			io, err := readObject(iw, raw)
			if err != nil {
				return err
			}
			for _, k := range l.times {
				if _, err := io.time(iw, k); err != nil {
					return err
				}
			}
			for _, k := range l.strs {
				if _, err := io.str(iw, k); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// jsonObject is a JSON object's members, read one at a time so that each
// error names its member.
type jsonObject map[string]json.RawMessage

// readObject reads raw as an object; where names it in errors.
func readObject(where string, raw json.RawMessage) (jsonObject, error) {
	if isNull(raw) {
		return nil, fmt.Errorf("%s is null", where)
	}
	var o jsonObject
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, fmt.Errorf("%s: %s is not an object", where, snippet(raw))
	}
	return o, nil
}

// field names member key of the object at where: "definitions[0]: key"
// after a list element, "lifecycle.key" after a member, "key" at the top.
func field(where, key string) string {
	switch {
	case where == "":
		return key
	case strings.HasSuffix(where, "]") || strings.HasSuffix(where, ")"):
		return where + ": " + key
	}
	return where + "." + key
}

// str reads a string member; absent or null is "".
func (o jsonObject) str(where, key string) (string, error) {
	raw, ok := o[key]
	if !ok || isNull(raw) {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", fmt.Errorf("%s: %s is not a string", field(where, key), snippet(raw))
	}
	return s, nil
}

// time reads an RFC 3339 date-time member; absent or null is the zero
// time.
func (o jsonObject) time(where, key string) (time.Time, error) {
	raw, ok := o[key]
	if !ok || isNull(raw) {
		return time.Time{}, nil
	}
	var s string
	var t time.Time
	if json.Unmarshal(raw, &s) != nil || t.UnmarshalText([]byte(s)) != nil {
		return time.Time{}, fmt.Errorf("%s: %s is not a date-time", field(where, key), snippet(raw))
	}
	return t, nil
}

// list reads a list member; absent or null is empty, and a null element is
// an error.
func (o jsonObject) list(where, key string) ([]json.RawMessage, error) {
	raw, ok := o[key]
	if !ok || isNull(raw) {
		return nil, nil
	}
	var a []json.RawMessage
	if json.Unmarshal(raw, &a) != nil {
		return nil, fmt.Errorf("%s: %s is not a list", field(where, key), snippet(raw))
	}
	for i, x := range a {
		if isNull(x) {
			return nil, fmt.Errorf("%s[%d] is null", field(where, key), i)
		}
	}
	return a, nil
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

func isString(v any) bool { _, ok := v.(string); return ok }

// snippet quotes a JSON value in an error, shortened.
func snippet(raw json.RawMessage) string {
	s := string(bytes.TrimSpace(raw))
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return s
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // a map of raw messages that were read from JSON
	}
	return b
}

// decodeInto decodes raw into v, with jsonError's errors.
func decodeInto(where string, raw json.RawMessage, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return jsonError(where, err)
	}
	return nil
}

// jsonError turns encoding/json's type errors into "where: field: a JSON
// string is not a number".
func jsonError(where string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("%s: %s: a JSON %s is not %s", where, te.Field, te.Value, kindName(te.Type))
	}
	return fmt.Errorf("%s: %w", where, err)
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "a list"
	case reflect.Pointer:
		return kindName(t.Elem())
	}
	return "an object"
}

// nullElement returns the path of the first null inside a list in v (an
// object or list read from JSON), or "".
func nullElement(v any, path string) string {
	switch t := v.(type) {
	case *object:
		if t == nil {
			return ""
		}
		for _, k := range t.keys {
			if p := nullElement(t.vals[k], path+"."+k); p != "" {
				return p
			}
		}
	case []any:
		for i, x := range t {
			p := path + "[" + strconv.Itoa(i) + "]"
			if x == nil {
				return p
			}
			if p := nullElement(x, p); p != "" {
				return p
			}
		}
	}
	return ""
}
