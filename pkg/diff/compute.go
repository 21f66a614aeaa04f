package diff

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/arsync/arsync/pkg/graph"
)

// Compute plans how to make the live definitions match the desired ones.
// It is pure and deterministic: the order of its inputs does not matter and
// it reads neither the clock nor the network. It returns every problem it
// finds at once, joined; callers can pick out *DuplicateMarkerError,
// *AmbiguousAdoptionError and *InputError with errors.As.
func Compute(desired []Desired, live []graph.Definition, opts Options) (*Plan, error) {
	var errs []error

	// Desired definitions, by name.
	ds := make([]*Desired, len(desired))
	for i := range desired {
		ds[i] = &desired[i]
	}
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].Name < ds[j].Name })
	for i, d := range ds {
		if n, _, ok := graph.SplitMarker(graph.Marker(d.Name)); !ok || n != d.Name {
			errs = append(errs, &InputError{Name: d.Name, Source: d.Source, Reason: "metadata.name must be 1 to 63 characters of a-z, 0-9 and '-'"})
		}
		if i > 0 && ds[i-1].Name == d.Name {
			reason := "metadata.name is used twice"
			if ds[i-1].Source != "" {
				reason += " (also at " + ds[i-1].Source + ")"
			}
			errs = append(errs, &InputError{Name: d.Name, Source: d.Source, Reason: reason})
		}
	}

	// Live definitions, by marker and, unmarked, by displayName.
	lv := make([]*graph.Definition, len(live))
	for i := range live {
		lv[i] = &live[i]
	}
	sort.SliceStable(lv, func(i, j int) bool { return graph.OlderFirst(lv[i], lv[j]) })
	seenID := map[string]bool{}
	var listed []*graph.Definition
	for _, l := range lv {
		if l.ID == "" {
			errs = append(errs, &InputError{Reason: fmt.Sprintf("definition %q has no id", l.DisplayName)})
			continue
		}
		if seenID[l.ID] {
			errs = append(errs, &InputError{ID: l.ID, Reason: "listed twice"})
			continue
		}
		seenID[l.ID] = true
		listed = append(listed, l)
	}
	marked, others := graph.ByMarker(listed)
	unmarked := map[string][]*graph.Definition{}
	for _, l := range others {
		unmarked[l.DisplayName] = append(unmarked[l.DisplayName], l)
	}

	p := &Plan{
		FormatVersion: FormatVersion,
		TenantID:      opts.TenantID,
		GraphEndpoint: opts.GraphEndpoint,
		Changes:       []Change{},
		Unmanaged:     []Unmanaged{},
		Warnings:      []string{},
	}
	if !opts.Now.IsZero() {
		p.CreatedAt = opts.Now.UTC().Format(time.RFC3339)
	}
	lab := newLabeler(opts.Labels)

	// Duplicate markers: keep the oldest, delete the others, or stop.
	for _, name := range slices.Sorted(maps.Keys(marked)) {
		group := marked[name]
		if len(group) < 2 {
			continue
		}
		if !opts.DeleteDuplicates {
			e := &DuplicateMarkerError{Name: name}
			for _, l := range group {
				e.Definitions = append(e.Definitions, ref(l))
			}
			errs = append(errs, e)
			continue
		}
		for _, l := range group[1:] {
			p.Changes = append(p.Changes, Change{
				Action:          Delete,
				Name:            name,
				ID:              l.ID,
				DisplayName:     l.DisplayName,
				Reason:          fmt.Sprintf("duplicate marker; the older definition %s is kept", group[0].ID),
				Before:          clone(l),
				LiveFingerprint: Fingerprint(*l),
			})
		}
		marked[name] = group[:1]
	}

	// Renames: a desired definition without a marked match takes the live
	// definition carrying the first of its previous names that one carries.
	// With a match of its own, the previous names' definitions are
	// ordinary deletes.
	renamedFrom, renameErrs := renames(ds, marked)
	errs = append(errs, renameErrs...)

	// Adoption: desired definitions without a marked match claim the
	// unmarked live definitions with their displayName.
	claims := map[string][]*Desired{}
	for _, d := range ds {
		if len(marked[d.Name]) == 0 && renamedFrom[d.Name] == "" && d.Definition.DisplayName != "" && len(unmarked[d.Definition.DisplayName]) > 0 {
			claims[d.Definition.DisplayName] = append(claims[d.Definition.DisplayName], d)
		}
	}
	adopted := map[string]bool{} // live ids
	blocked := map[string]bool{} // displayNames with an ambiguous adoption
	for _, dn := range slices.Sorted(maps.Keys(claims)) {
		cands := unmarked[dn]
		if len(cands) == 1 && len(claims[dn]) == 1 {
			adopted[cands[0].ID] = true
			continue
		}
		e := &AmbiguousAdoptionError{DisplayName: dn}
		for _, d := range claims[dn] {
			e.Names = append(e.Names, d.Name)
		}
		for _, l := range cands {
			e.Candidates = append(e.Candidates, ref(l))
		}
		errs = append(errs, e)
		blocked[dn] = true
	}

	// One change per desired definition.
	wanted := map[string]bool{}
	previousNameOf := map[string]string{}
	for _, d := range ds {
		for _, old := range d.PreviousNames {
			previousNameOf[old] = d.Name
		}
	}
	for _, d := range ds {
		wanted[d.Name] = true
		var c Change
		var err error
		switch {
		case len(marked[d.Name]) > 0:
			c, err = compare(d, marked[d.Name][0], false, lab)
		case renamedFrom[d.Name] != "":
			old := renamedFrom[d.Name]
			wanted[old] = true
			c, err = compare(d, marked[old][0], false, lab)
			c.RenamedFrom = old
			if c.Action != Replace {
				c.Reason = fmt.Sprintf("renamed from %s: the update rewrites the marker; the definition keeps its id, instances and decisions", old)
			}
			if c.Action == NoOp {
				// Only the marker changes: one PUT rewrites it.
				l := marked[old][0]
				c.Action = Update
				c.After = putBody(d, l, false)
				c.UnchangedFields = countUnchanged(graph.Normalize(d.Definition), nil)
				c.Before = clone(l)
				c.LiveFingerprint = Fingerprint(*l)
			}
		case d.Definition.DisplayName != "" && len(unmarked[d.Definition.DisplayName]) > 0:
			if blocked[d.Definition.DisplayName] {
				continue
			}
			c, err = compare(d, unmarked[d.Definition.DisplayName][0], true, lab)
		default:
			c = create(d, lab)
		}
		if err != nil {
			errs = append(errs, &InputError{Name: d.Name, Source: d.Source, Reason: err.Error()})
			continue
		}
		p.Changes = append(p.Changes, c)
	}

	// Marked definitions nothing wants any more.
	for _, name := range slices.Sorted(maps.Keys(marked)) {
		if wanted[name] || len(marked[name]) == 0 {
			continue
		}
		l := marked[name][0]
		reason := "no longer in the configuration"
		if by := previousNameOf[name]; by != "" {
			reason = fmt.Sprintf("%s is a previous name of %s, which has a definition of its own", name, by)
		}
		c := Change{
			Action:          Delete,
			Name:            name,
			ID:              l.ID,
			DisplayName:     l.DisplayName,
			Reason:          reason,
			Before:          clone(l),
			LiveFingerprint: Fingerprint(*l),
		}
		c.ChangedOutsideFields, _ = graph.ChangedSinceWritten(*l)
		c.ChangedOutside = len(c.ChangedOutsideFields) > 0
		p.Changes = append(p.Changes, c)
	}

	// Unmarked definitions nothing adopts.
	for _, l := range lv {
		if l.ID == "" || adopted[l.ID] {
			continue
		}
		if _, _, ok := graph.SplitMarker(l.DescriptionForAdmins); ok {
			continue
		}
		p.Unmanaged = append(p.Unmanaged, Unmanaged{ID: l.ID, DisplayName: l.DisplayName})
	}

	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	sort.SliceStable(p.Changes, func(i, j int) bool {
		a, b := p.Changes[i], p.Changes[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if ra, rb := actionRank(a.Action), actionRank(b.Action); ra != rb {
			return ra < rb
		}
		return a.ID < b.ID
	})
	known := slices.Collect(maps.Keys(wanted))
	for name, group := range marked {
		if len(group) > 0 && !wanted[name] {
			known = append(known, name)
		}
	}
	slices.Sort(known)
	if err := keepTargets(p, opts.Targets, known); err != nil {
		return nil, err
	}
	sort.SliceStable(p.Unmanaged, func(i, j int) bool {
		a, b := p.Unmanaged[i], p.Unmanaged[j]
		if a.DisplayName != b.DisplayName {
			return a.DisplayName < b.DisplayName
		}
		return a.ID < b.ID
	})
	for _, c := range p.Changes {
		p.Summary.add(c.Action)
		p.Warnings = append(p.Warnings, warnings(c, opts.Now)...)
	}
	var err error
	if p.ChangesDigest, err = p.DigestChanges(); err != nil {
		return nil, err
	}
	return p, nil
}

func actionRank(a Action) int {
	switch a {
	case Create:
		return 0
	case Update:
		return 1
	case Adopt:
		return 2
	case Replace:
		return 3
	case Delete:
		return 4
	}
	return 5
}

func ref(l *graph.Definition) LiveRef {
	return LiveRef{ID: l.ID, DisplayName: l.DisplayName, CreatedDateTime: l.CreatedDateTime}
}

// clone deep-copies a definition, so that a plan shares no memory with the
// inputs of Compute. A definition that was read keeps what was read, so
// that a PUT built from it sends back what Graph returned.
func clone(d *graph.Definition) *graph.Definition {
	if d == nil {
		return nil
	}
	c := d.Clone()
	return &c
}

// postBody is the body of the POST that creates d: the desired definition
// with the marker and nothing read-only.
func postBody(d *Desired) *graph.Definition {
	b := clone(&d.Definition)
	*b = b.UpdateBody()
	b.ID = ""
	b.DescriptionForAdmins = graph.WithMarkerDigest(b.DescriptionForAdmins, d.Name, graph.WrittenDigest(*b))
	return b
}

func create(d *Desired, lab labeler) Change {
	shown := d.Definition.UpdateBody()
	shown.ID = ""
	shown.DescriptionForAdmins = graph.StripMarker(shown.DescriptionForAdmins)
	fields := leaves(shown)
	return Change{
		Action:      Create,
		Name:        d.Name,
		DisplayName: d.Definition.DisplayName,
		Source:      d.Source,
		Fields:      fields,
		Labels:      lab.labels(fields, d.Display),
		After:       postBody(d),
	}
}

// compare plans the change of live definition l into d. adopt says l carries
// no marker yet.
func compare(d *Desired, l *graph.Definition, adopt bool, lab labeler) (Change, error) {
	want := graph.Normalize(d.Definition)
	have := graph.Normalize(*l)
	var fields []FieldChange
	if !sameNormalized(have, want) {
		var err error
		if fields, err = fieldDiffs(have, want); err != nil {
			return Change{}, err
		}
	}
	c := Change{
		Name:        d.Name,
		ID:          l.ID,
		DisplayName: d.Definition.DisplayName,
		Source:      d.Source,
	}
	reviewersChanged, forces := false, false
	for i := range fields {
		top := topField(fields[i].Path)
		switch {
		case immutableFields[top]:
			fields[i].ForcesReplacement = true
		case top == "reviewers":
			reviewersChanged = true
			fields[i].ForcesReplacement = !allUserReviewers(have.Reviewers) || !allUserReviewers(want.Reviewers)
		}
		forces = forces || fields[i].ForcesReplacement
	}
	switch {
	case forces:
		c.Action = Replace
		c.After = postBody(d)
		if adopt {
			c.Reason = "adopts the unmanaged definition with this displayName; " + forcingList(fields) + " cannot be updated"
		} else {
			c.Reason = forcingList(fields) + " cannot be updated"
		}
	case adopt:
		c.Action = Adopt
		c.Reason = "an unmanaged definition has this displayName; arsync takes it over by writing its marker"
	case len(fields) > 0:
		c.Action = Update
	default:
		c.Action = NoOp
		return c, nil
	}
	if c.After == nil {
		c.After = putBody(d, l, reviewersChanged)
	}
	c.Fields = fields
	c.UnchangedFields = countUnchanged(want, fields)
	c.Labels = lab.labels(fields, d.Display)
	c.Before = clone(l)
	c.LiveFingerprint = Fingerprint(*l)
	if !adopt {
		c.ChangedOutsideFields = changedOutside(l, fields)
		c.ChangedOutside = len(c.ChangedOutsideFields) > 0
	}
	return c, nil
}

// changedOutside returns the top-level fields of live definition l that
// were changed in the tenant since arsync last wrote it and still differ
// from the YAML (fields): see Change.ChangedOutside.
func changedOutside(l *graph.Definition, fields []FieldChange) []string {
	since, known := graph.ChangedSinceWritten(*l)
	if !known {
		return nil
	}
	differ := map[string]bool{}
	for _, f := range fields {
		differ[topField(f.Path)] = true
	}
	var out []string
	for _, name := range since {
		if differ[name] {
			out = append(out, name)
		}
	}
	return out
}

// renames matches desired definitions that no live definition carries the
// marker of to the live definition carrying one of their previous names
// (the first, in the order written, that one carries), and checks the
// previous names: each a valid name, not a current name, and the previous
// name of one definition only. It returns desired name -> previous name.
func renames(ds []*Desired, marked map[string][]*graph.Definition) (map[string]string, []error) {
	var errs []error
	current := map[string]bool{}
	for _, d := range ds {
		current[d.Name] = true
	}
	claimedBy := map[string]string{}
	out := map[string]string{}
	for _, d := range ds {
		for _, old := range d.PreviousNames {
			fail := func(reason string) {
				errs = append(errs, &InputError{Name: d.Name, Source: d.Source, Reason: reason})
			}
			switch n, _, ok := graph.SplitMarker(graph.Marker(old)); {
			case !ok || n != old:
				fail(fmt.Sprintf("previous name %q must be 1 to 63 characters of a-z, 0-9 and '-'", old))
				continue
			case current[old]:
				fail(fmt.Sprintf("previous name %q is the metadata.name of a definition", old))
				continue
			case claimedBy[old] != "" && claimedBy[old] != d.Name:
				fail(fmt.Sprintf("previous name %q is also a previous name of %s", old, claimedBy[old]))
				continue
			}
			claimedBy[old] = d.Name
			if len(marked[d.Name]) == 0 && out[d.Name] == "" && len(marked[old]) > 0 {
				out[d.Name] = old
			}
		}
	}
	return out, errs
}

// putBody is the whole object an update's or adoption's PUT sends
// (docs/graph-behaviour.md#put-not-patch): the live definition as it was
// read, with the desired writable fields laid over it and the read-only
// ones removed. What Graph cannot update (scope, instanceEnumerationScope,
// stageSettings, additionalNotificationRecipients, reviewers unless only
// user reviewers changed) and the properties arsync does not model go back
// exactly as Graph returned them: they are equal by meaning, or this would
// be a replace, and a strict service compares their bytes. Writable fields
// are the desired ones, in their typed spelling where they differ.
func putBody(d *Desired, l *graph.Definition, reviewersChanged bool) *graph.Definition {
	want := postBody(d)
	b := clone(l)
	b.DisplayName = want.DisplayName
	b.DescriptionForAdmins = want.DescriptionForAdmins
	b.DescriptionForReviewers = want.DescriptionForReviewers
	b.Settings = want.Settings
	b.FallbackReviewers = want.FallbackReviewers
	if reviewersChanged {
		b.Reviewers = want.Reviewers
	}
	*b = b.UpdateBody()
	b.ID = l.ID
	// The digest of what this PUT writes, which for the fields taken from
	// l may be spelled otherwise than the YAML but means the same.
	b.DescriptionForAdmins = graph.WithMarkerDigest(b.DescriptionForAdmins, d.Name, graph.WrittenDigest(*b))
	return b
}

func topField(path string) string {
	if i := strings.IndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return path
}

func forcingList(fields []FieldChange) string {
	var names []string
	seen := map[string]bool{}
	for _, f := range fields {
		if t := topField(f.Path); f.ForcesReplacement && !seen[t] {
			seen[t] = true
			names = append(names, t)
		}
	}
	return strings.Join(names, ", ")
}

var userReviewerRE = regexp.MustCompile(`^/users/[^/?]+$`)

// allUserReviewers reports whether rs (normalised) is a non-empty list of
// individual users: the only reviewers Graph lets a PUT change
// (docs/graph-behaviour.md#put-not-patch). An
// empty list is a self-review, which is not.
func allUserReviewers(rs []graph.ReviewerScope) bool {
	if len(rs) == 0 {
		return false
	}
	for _, r := range rs {
		if !userReviewerRE.MatchString(r.Query) {
			return false
		}
	}
	return true
}

// countUnchanged counts the leaves of the desired definition that no field
// change covers.
func countUnchanged(want graph.Definition, fields []FieldChange) int {
	n := 0
	for _, lf := range leaves(want) {
		covered := false
		for _, f := range fields {
			if lf.Path == f.Path || strings.HasPrefix(lf.Path, f.Path+".") || strings.HasPrefix(lf.Path, f.Path+"[") {
				covered = true
				break
			}
		}
		if !covered {
			n++
		}
	}
	return n
}

// labels maps the GUIDs that appear in fields to their names in display.
// labeler holds Options.Labels by lower-case id.
type labeler map[string]string

func newLabeler(names map[string]string) labeler {
	lab := make(labeler, len(names))
	for k, v := range names {
		lab[strings.ToLower(k)] = v
	}
	return lab
}

// labels names the ids in fields' values, from display (a Desired's) first,
// then from lab.
func (lab labeler) labels(fields []FieldChange, display map[string]string) map[string]string {
	if len(display) == 0 && len(lab) == 0 || len(fields) == 0 {
		return nil
	}
	lower := newLabeler(display)
	out := map[string]string{}
	for _, f := range fields {
		for _, v := range []any{f.Before, f.After} {
			b, err := graph.MarshalNoEscape(v)
			if err != nil {
				continue
			}
			for _, g := range graph.GUIDs(string(b)) {
				g = strings.ToLower(g)
				name := lower[g]
				if name == "" {
					name = lab[g]
				}
				if name != "" {
					out[g] = name
				}
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// warnings are the plan's notes on c that a reviewer must not miss.
func warnings(c Change, now time.Time) []string {
	var w []string
	switch c.Action {
	case Replace:
		w = append(w, fmt.Sprintf("%s: replacing %q deletes definition %s with its review history (instances and decisions) and creates it again (%s)",
			c.Name, c.DisplayName, c.ID, c.Reason))
	case Delete:
		w = append(w, fmt.Sprintf("%s: deleting %q (%s) also deletes its review history (instances and decisions)", c.Name, c.DisplayName, c.ID))
	case Update, Adopt:
		for _, f := range c.Fields {
			if f.Path != "settings.recurrence.range.startDate" || now.IsZero() {
				continue
			}
			before, _ := f.Before.(string)
			if before != "" && before <= now.UTC().Format("2006-01-02") {
				w = append(w, fmt.Sprintf("%s: the series started on %s; Graph keeps the start date of a started series, so the new start date will not take effect and this change will show again",
					c.Name, before))
			}
		}
	}
	return w
}

// Fingerprint identifies what arsync manages of a live definition as read,
// as "sha256:<hex>": the SHA-256 of the JSON encoding of its update body
// (graph.Definition.UpdateBody) with every object's members sorted by name
// (graph.SortedJSON). For a definition that was read that body is the
// object Graph returned less the read-only members (status, createdBy,
// createdDateTime, lastModifiedDateTime) and OData annotations, so the hash
// covers every member the saved plan's PUT sends back byte for byte, the
// marker and unknown properties included: a change to any of them since
// the plan (an edit in the portal, an immutable field now spelled
// otherwise) makes the plan stale rather than be reverted or refused. A
// hash of the typed fields would miss that. What Graph changes by itself
// and the PUT does not send is left out: a plan made just before a series
// starts stays valid when its status flips to InProgress
// (docs/graph-behaviour.md#put-not-patch). Member order and spacing carry
// no meaning and are left out too.
func Fingerprint(d graph.Definition) string {
	b, err := json.Marshal(d.UpdateBody())
	if err == nil {
		b, err = graph.SortedJSON(b)
	}
	if err != nil {
		// Definition is plain data and its encoding valid JSON; this
		// cannot happen, but a fingerprint must still differ by content.
		b = []byte(fmt.Sprintf("%#v", d))
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
