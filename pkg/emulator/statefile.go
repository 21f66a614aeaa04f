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
// short, so every part is checked before the store uses it: the first
// problem becomes one error that names the file, the place
// ("definitions[1] (id ...): instances[0]: decisions[2]: principal.id")
// and what is wrong. Nothing the store later relies on (an id, a date, a
// list without holes) is left unchecked, so a loaded state never panics.

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

// parseState checks and decodes a whole state file.
func parseState(data []byte) (*store, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("the file is empty")
	}
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("not JSON at byte %d of %d: %w", se.Offset, len(data), err)
		}
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	top, err := readObject("", data)
	if err != nil {
		return nil, errors.New("the file is not a JSON object")
	}
	vraw, ok := top["formatVersion"]
	if !ok || isNull(vraw) {
		return nil, errors.New("formatVersion is missing")
	}
	var version int
	if err := json.Unmarshal(vraw, &version); err != nil {
		return nil, fmt.Errorf("formatVersion: %s is not a whole number", snippet(vraw))
	}
	switch {
	case version > stateFormat:
		return nil, fmt.Errorf("%w (format version %d; this one reads version %d)", errNewerState, version, stateFormat)
	case version < 1:
		return nil, fmt.Errorf("formatVersion %d is not a format version (this emulator reads version %d)", version, stateFormat)
	}

	st := newStore()
	entries, err := top.list("", "definitions")
	if err != nil {
		return nil, err
	}
	firstAt := map[string]int{}
	for i, raw := range entries {
		where := fmt.Sprintf("definitions[%d]", i)
		r, err := readEntry(where, raw)
		if err != nil {
			return nil, err
		}
		if j, dup := firstAt[r.ID]; dup {
			return nil, fmt.Errorf("%s: id %s is also definitions[%d]'s", where, r.ID, j)
		}
		firstAt[r.ID] = i
		st.add(r)
	}
	if raw, ok := top["lifecycle"]; ok && !isNull(raw) {
		ls, err := readLifecycle(raw)
		if err != nil {
			return nil, err
		}
		st.life = ls
	}
	if err := checkPeriods(st); err != nil {
		return nil, err
	}
	return st, nil
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

// readEntry checks one stored definition, with its instances.
func readEntry(where string, raw json.RawMessage) (*defRecord, error) {
	o, err := readObject(where, raw)
	if err != nil {
		return nil, err
	}
	id, err := o.str(where, "id", true)
	if err != nil {
		return nil, err
	}
	if !guidRE.MatchString(id) {
		return nil, fmt.Errorf("%s: id %q is not a GUID", where, id)
	}
	// Lookups lower-case the id they are given.
	id = strings.ToLower(id)
	where += " (id " + id + ")"
	version, err := o.str(where, "apiVersion", true)
	if err != nil {
		return nil, err
	}
	if version != "v1.0" && version != "beta" {
		return nil, fmt.Errorf("%s: apiVersion %q must be v1.0 or beta", where, version)
	}
	r := &defRecord{ID: id, Version: version}
	if r.CreatedAt, err = o.time(where, "createdAt", true); err != nil {
		return nil, err
	}
	if r.VisibleAt, err = o.time(where, "visibleAt", false); err != nil {
		return nil, err
	}
	draw, ok := o["definition"]
	switch {
	case !ok:
		return nil, fmt.Errorf("%s: definition is missing", where)
	case isNull(draw):
		return nil, fmt.Errorf("%s: definition is null", where)
	}
	def := &object{}
	if err := def.UnmarshalJSON(draw); err != nil {
		if bytes.HasPrefix(bytes.TrimSpace(draw), []byte("{")) {
			return nil, fmt.Errorf("%s: definition: %w", where, err)
		}
		return nil, fmt.Errorf("%s: definition: %s is not an object", where, snippet(draw))
	}
	if err := checkDefinition(id, def); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	r.Object = def

	raws, err := o.list(where, "instances")
	if err != nil {
		return nil, err
	}
	l := &defLife{}
	firstAt := map[string]int{}
	for i, raw := range raws {
		iw := fmt.Sprintf("%s: instances[%d]", where, i)
		in, err := readInstance(iw, raw)
		if err != nil {
			return nil, err
		}
		key := strings.ToLower(in.ID)
		if j, dup := firstAt[key]; dup {
			return nil, fmt.Errorf("%s: id %s is also instances[%d]'s", iw, in.ID, j)
		}
		firstAt[key] = i
		l.instances = append(l.instances, in)
	}
	r.Instances = raws
	r.life = l
	return r, nil
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

// readInstance checks one stored instance with its decisions.
func readInstance(where string, raw json.RawMessage) (*instance, error) {
	o, err := readObject(where, raw)
	if err != nil {
		return nil, err
	}
	// Dates first: encoding/json's date errors do not name the field.
	var times [3]time.Time
	for i, k := range []string{"periodStart", "startDateTime", "endDateTime"} {
		if times[i], err = o.time(where, k, true); err != nil {
			return nil, err
		}
	}
	decisions, err := o.list(where, "decisions")
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"reviewers", "fallbackReviewers", "contactedReviewers"} {
		if _, err := o.list(where, k); err != nil {
			return nil, err
		}
	}
	// Decisions are read one by one below, so that errors name them.
	trimmed := make(map[string]json.RawMessage, len(o))
	for k, v := range o {
		if k != "decisions" {
			trimmed[k] = v
		}
	}
	in := &instance{}
	if err := decodeInto(where, mustMarshal(trimmed), in); err != nil {
		return nil, err
	}
	in.PeriodStart, in.Start, in.End = times[0], times[1], times[2]
	switch {
	case in.ID == "":
		return nil, fmt.Errorf("%s: id is missing", where)
	case !slices.Contains(instanceStatuses, in.Status):
		return nil, fmt.Errorf("%s: status %q is not one of %s", where, in.Status, strings.Join(instanceStatuses, ", "))
	case in.Scope == nil:
		return nil, fmt.Errorf("%s: scope is null", where)
	}
	if p := nullElement(in.Scope, "scope"); p != "" {
		return nil, fmt.Errorf("%s: %s is null", where, p)
	}
	if _, gerr := storedNormalizer.scope(in.Scope, "scope", scopeTop); gerr != nil {
		return nil, fmt.Errorf("%s: scope: %s", where, strings.TrimSuffix(gerr.message, "."))
	}
	for _, list := range []struct {
		key  string
		objs []*object
	}{{"reviewers", in.Reviewers}, {"fallbackReviewers", in.Fallback}} {
		holder := newObject()
		a := make([]any, len(list.objs))
		for i, r := range list.objs {
			if p := nullElement(r, fmt.Sprintf("%s[%d]", list.key, i)); p != "" {
				return nil, fmt.Errorf("%s: %s is null", where, p)
			}
			a[i] = r
		}
		holder.set(list.key, a)
		if _, gerr := storedNormalizer.reviewerList(holder, list.key, ""); gerr != nil {
			return nil, fmt.Errorf("%s: %s: %s", where, list.key, strings.TrimSuffix(gerr.message, "."))
		}
	}
	if in.Resource != nil {
		if err := checkResource(where+": resource", in.Resource); err != nil {
			return nil, err
		}
	}
	for i, c := range in.Contacted {
		if c.ID == "" {
			return nil, fmt.Errorf("%s: contactedReviewers[%d]: id is missing", where, i)
		}
	}
	firstAt := map[string]int{}
	for i, raw := range decisions {
		dw := fmt.Sprintf("%s: decisions[%d]", where, i)
		d, err := readDecision(dw, raw)
		if err != nil {
			return nil, err
		}
		key := strings.ToLower(d.ID)
		if j, dup := firstAt[key]; dup {
			return nil, fmt.Errorf("%s: id %s is also decisions[%d]'s", dw, d.ID, j)
		}
		firstAt[key] = i
		in.Decisions = append(in.Decisions, d)
	}
	return in, nil
}

// The values a decision item's properties take
// (docs/graph-behaviour.md#instances-and-decisions).
var (
	decisionValues       = []string{decisionApprove, decisionDeny, decisionNotReviewed, decisionDontKnow}
	recommendationValues = []string{decisionApprove, decisionDeny, recommendNoInfo}
	applyResultValues    = []string{"", applyNew, applyOK, applyNotFound, applyNotSupported}
	resourceTypes        = []string{"Group", "ServicePrincipal", "DirectoryRole"}
)

func readDecision(where string, raw json.RawMessage) (*decisionItem, error) {
	o, err := readObject(where, raw)
	if err != nil {
		return nil, err
	}
	var reviewed, applied time.Time
	if reviewed, err = o.time(where, "reviewedDateTime", false); err != nil {
		return nil, err
	}
	if applied, err = o.time(where, "appliedDateTime", false); err != nil {
		return nil, err
	}
	reviewers, err := o.list(where, "reviewers")
	if err != nil {
		return nil, err
	}
	for i, r := range reviewers {
		var s string
		if json.Unmarshal(r, &s) != nil {
			return nil, fmt.Errorf("%s: reviewers[%d]: %s is not a string", where, i, snippet(r))
		}
		if s == "" {
			return nil, fmt.Errorf("%s: reviewers[%d] is empty", where, i)
		}
	}
	d := &decisionItem{}
	if err := decodeInto(where, raw, d); err != nil {
		return nil, err
	}
	d.ReviewedAt, d.AppliedAt = reviewed, applied
	switch {
	case d.ID == "":
		return nil, fmt.Errorf("%s: id is missing", where)
	case d.Principal.ID == "":
		return nil, fmt.Errorf("%s: principal.id is missing", where)
	case !slices.Contains(decisionValues, d.Decision):
		return nil, fmt.Errorf("%s: decision %q is not one of %s", where, d.Decision, strings.Join(decisionValues, ", "))
	case !slices.Contains(recommendationValues, d.Recommendation):
		return nil, fmt.Errorf("%s: recommendation %q is not one of %s", where, d.Recommendation, strings.Join(recommendationValues, ", "))
	case !slices.Contains(applyResultValues, d.ApplyResult):
		return nil, fmt.Errorf("%s: applyResult %q is not one of %s", where, d.ApplyResult, strings.Join(applyResultValues[1:], ", "))
	case d.ReviewedBy != nil && d.ReviewedBy.ID == "":
		return nil, fmt.Errorf("%s: reviewedBy.id is missing", where)
	case d.AppliedBy != nil && d.AppliedBy.ID == "":
		return nil, fmt.Errorf("%s: appliedBy.id is missing", where)
	}
	if d.Resource != nil {
		if err := checkResource(where+": resource", d.Resource); err != nil {
			return nil, err
		}
	}
	return d, nil
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

// readLifecycle checks the lifecycle's part of the file.
func readLifecycle(raw json.RawMessage) (*lifeState, error) {
	const where = "lifecycle"
	o, err := readObject(where, raw)
	if err != nil {
		return nil, err
	}
	ls := &lifeState{Periods: map[string]*periodState{}}
	if ls.ClockOffset, err = o.str(where, "clockOffset", false); err != nil {
		return nil, err
	}
	if ls.ClockOffset != "" {
		if d, err := time.ParseDuration(ls.ClockOffset); err != nil || d < 0 {
			return nil, fmt.Errorf("lifecycle.clockOffset %q is not a non-negative duration", ls.ClockOffset)
		}
	}
	if praw, ok := o["periods"]; ok && !isNull(praw) {
		periods, err := readObject(where+".periods", praw)
		if err != nil {
			return nil, err
		}
		for id, raw := range periods {
			pw := where + ".periods." + id
			po, err := readObject(pw, raw)
			if err != nil {
				return nil, err
			}
			ps := &periodState{}
			if ps.Created, err = po.time(pw, "definitionCreated", true); err != nil {
				return nil, err
			}
			if ps.LastStart, err = po.time(pw, "lastStart", false); err != nil {
				return nil, err
			}
			if c, ok := po["count"]; ok && json.Unmarshal(c, &ps.Count) != nil || ps.Count < 0 {
				return nil, fmt.Errorf("%s.count: %s is not a count", pw, snippet(po["count"]))
			}
			ls.Periods[strings.ToLower(id)] = ps
		}
	}
	changes, err := o.list(where, "directoryChanges")
	if err != nil {
		return nil, err
	}
	for i, raw := range changes {
		cw := fmt.Sprintf("%s.directoryChanges[%d]", where, i)
		co, err := readObject(cw, raw)
		if err != nil {
			return nil, err
		}
		var c dirChange
		if c.Time, err = co.time(cw, "time", true); err != nil {
			return nil, err
		}
		if c.Op, err = co.str(cw, "op", true); err != nil {
			return nil, err
		}
		if !slices.Contains(dirChangeOps, c.Op) {
			return nil, fmt.Errorf("%s: op %q is not one of %s", cw, c.Op, strings.Join(dirChangeOps, ", "))
		}
		if c.Object, err = co.str(cw, "object", true); err != nil {
			return nil, err
		}
		removal := c.Op != opDisableUser && c.Op != opDeleteUser
		if c.Member, err = co.str(cw, "member", removal); err != nil {
			return nil, err
		}
		ls.Directory = append(ls.Directory, c)
	}
	deletions, err := o.list(where, "pendingDeletions")
	if err != nil {
		return nil, err
	}
	for i, raw := range deletions {
		dw := fmt.Sprintf("%s.pendingDeletions[%d]", where, i)
		do, err := readObject(dw, raw)
		if err != nil {
			return nil, err
		}
		var p pendingDeletion
		if p.User, err = do.str(dw, "user", true); err != nil {
			return nil, err
		}
		if p.Due, err = do.time(dw, "due", true); err != nil {
			return nil, err
		}
		ls.PendingDeletions = append(ls.PendingDeletions, p)
	}
	return ls, nil
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

// str reads a string member; an absent or null one is "" (an error when
// required).
func (o jsonObject) str(where, key string, required bool) (string, error) {
	raw, ok := o[key]
	if !ok || isNull(raw) {
		if required {
			return "", fmt.Errorf("%s is missing", field(where, key))
		}
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", fmt.Errorf("%s: %s is not a string", field(where, key), snippet(raw))
	}
	if s == "" && required {
		return "", fmt.Errorf("%s is missing", field(where, key))
	}
	return s, nil
}

// time reads an RFC 3339 date-time member; an absent or null one is the
// zero time (an error when required).
func (o jsonObject) time(where, key string, required bool) (time.Time, error) {
	raw, ok := o[key]
	if !ok || isNull(raw) {
		if required {
			return time.Time{}, fmt.Errorf("%s is missing", field(where, key))
		}
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

// decodeInto decodes raw into v, turning encoding/json's type errors into
// "field: a JSON string is not a number".
func decodeInto(where string, raw json.RawMessage, v any) error {
	err := json.Unmarshal(raw, v)
	if err == nil {
		return nil
	}
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
