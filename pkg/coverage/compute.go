package coverage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/arsync/arsync/pkg/graph"
)

// Inputs is what the directory holds that coverage judges.
type Inputs struct {
	Groups       []Group
	Roles        []Role
	Applications []Application
	// Warnings say what the directory reads left out (PartialError).
	Warnings []string
}

// Read reads the three kinds of target from d.
func Read(ctx context.Context, d Directory) (Inputs, error) {
	var in Inputs
	var err error
	in.Groups, err = d.GroupsWithGuests(ctx)
	if err = in.partial(err); err != nil {
		return Inputs{}, fmt.Errorf("reading the groups with guests: %w", err)
	}
	in.Roles, err = d.RolesWithAssignments(ctx)
	if err = in.partial(err); err != nil {
		return Inputs{}, fmt.Errorf("reading the directory roles' assignments: %w", err)
	}
	in.Applications, err = d.ApplicationsWithAssignments(ctx)
	if err = in.partial(err); err != nil {
		return Inputs{}, fmt.Errorf("reading the applications' assignments: %w", err)
	}
	return in, nil
}

// partial keeps a PartialError's warning and clears it; other errors pass.
func (in *Inputs) partial(err error) error {
	var pe *PartialError
	if errors.As(err, &pe) {
		in.Warnings = append(in.Warnings, pe.Warning)
		return nil
	}
	return err
}

// Compute decides, for each target of dir, which of defs reach it. Only a
// definition whose series has not ended on now covers anything. The
// targets come uncovered first, then partly covered, then covered; by
// kind (groups, roles, applications) and name within each.
func Compute(defs []graph.Definition, dir Inputs, now time.Time) Report {
	r := Report{FormatVersion: FormatVersion, Targets: []Target{}, Summary: map[Kind]Counts{
		KindGroup: {}, KindRole: {}, KindApplication: {},
	}, Warnings: slices.Clone(dir.Warnings)}
	var reaches []reach
	for i := range defs {
		d := &defs[i]
		if ended(d, now) {
			continue
		}
		reaches = append(reaches, analyse(d))
	}
	for _, g := range dir.Groups {
		t := Target{Kind: KindGroup, ID: g.ID, DisplayName: g.DisplayName, Guests: g.Guests}
		gp := groupProps(g)
		for i := range reaches {
			rc := &reaches[i]
			partial, ok := rc.group(g.ID, gp)
			if ok {
				t.CoveredBy = append(t.CoveredBy, rc.by(partial))
			}
		}
		r.add(t)
	}
	for _, ro := range dir.Roles {
		t := Target{Kind: KindRole, ID: ro.ID, DisplayName: ro.DisplayName, Assignments: ro.Active + ro.Eligible}
		for i := range reaches {
			rc := &reaches[i]
			if p, ok := rc.roles[strings.ToLower(ro.ID)]; ok {
				// A review of only the active (or only the eligible)
				// assignments leaves the others out.
				partial := rc.partial || p.principalsOnly ||
					p.only == "active" && ro.Eligible > 0 || p.only == "eligible" && ro.Active > 0
				t.CoveredBy = append(t.CoveredBy, rc.by(partial))
			}
		}
		r.add(t)
	}
	for _, a := range dir.Applications {
		t := Target{Kind: KindApplication, ID: a.ID, DisplayName: a.DisplayName, Assignments: a.Assignments}
		for i := range reaches {
			rc := &reaches[i]
			if p, ok := rc.apps[strings.ToLower(a.ID)]; ok {
				t.CoveredBy = append(t.CoveredBy, rc.by(rc.partial || p))
			}
		}
		r.add(t)
	}
	// Warnings last: evaluating a filter on a group can add one.
	for _, rc := range reaches {
		for _, w := range rc.warnings {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%q (%s): %s", rc.def.DisplayName, rc.def.ID, w))
		}
	}
	slices.SortStableFunc(r.Targets, func(a, b Target) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(kindRank[a.Kind], kindRank[b.Kind]),
			cmp.Compare(strings.ToLower(a.DisplayName), strings.ToLower(b.DisplayName)), cmp.Compare(a.ID, b.ID))
	})
	return r
}

var kindRank = map[Kind]int{KindGroup: 0, KindRole: 1, KindApplication: 2}

// rank orders uncovered, partly covered, covered.
func rank(t Target) int {
	switch {
	case !t.Covered:
		return 0
	case t.Partial:
		return 1
	}
	return 2
}

// add completes t from its coveredBy and counts it.
func (r *Report) add(t Target) {
	if t.CoveredBy == nil {
		t.CoveredBy = []CoveredBy{}
	}
	slices.SortFunc(t.CoveredBy, func(a, b CoveredBy) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.DisplayName), strings.ToLower(b.DisplayName)), cmp.Compare(a.ID, b.ID))
	})
	t.Covered = len(t.CoveredBy) > 0
	t.Partial = t.Covered && !slices.ContainsFunc(t.CoveredBy, func(c CoveredBy) bool { return !c.Partial })
	c := r.Summary[t.Kind]
	switch {
	case !t.Covered:
		c.Uncovered++
	case t.Partial:
		c.Covered++
		c.Partial++
	default:
		c.Covered++
	}
	r.Summary[t.Kind] = c
	r.Targets = append(r.Targets, t)
}

// Uncovered returns the targets no definition covers.
func (r Report) Uncovered() []Target {
	var out []Target
	for _, t := range r.Targets {
		if !t.Covered {
			out = append(out, t)
		}
	}
	return out
}

// roleReach is how a definition reaches one role.
type roleReach struct {
	only           string // "active" or "eligible" when it reviews only those assignments
	principalsOnly bool   // it reviews only some principals (a type or a filter)
}

// reach is what one definition's scope reaches.
type reach struct {
	def      *graph.Definition
	managed  string          // the marker's name, read once
	partial  bool            // only some members are reviewed (inactive users, a principal filter)
	groups   map[string]bool // group id -> partial
	allGroup bool            // every group (a principal/resource scope over /groups)
	enum     filterExpr      // the groups an instanceEnumerationScope filter selects
	enumAll  bool            // instanceEnumerationScope /groups without a filter
	enumBad  bool            // an enumeration that cannot be evaluated: reaches nothing
	members  memberReach     // how the per-group scope (./members) reaches guests
	roles    map[string]roleReach
	apps     map[string]bool // service principal id -> partial
	warnings []string
}

// memberReach is whether a scope's member filter lets guests through.
type memberReach int

const (
	membersGuests  memberReach = iota // guests are reviewed
	membersNoGuest                    // the filter leaves guests out
	membersUnknown                    // the filter cannot be evaluated
)

func (rc *reach) by(partial bool) CoveredBy {
	return CoveredBy{ID: rc.def.ID, DisplayName: rc.def.DisplayName, ManagedName: rc.managed, Partial: partial}
}

// group reports whether rc reaches group id, and whether only partly.
func (rc *reach) group(id string, gp props) (partial, ok bool) {
	if p, ok := rc.groups[strings.ToLower(id)]; ok {
		return p || rc.partial, true
	}
	if rc.allGroup {
		return rc.partial, true
	}
	if rc.enumBad || rc.members != membersGuests {
		return false, false
	}
	if rc.enumAll {
		return rc.partial, true
	}
	if rc.enum != nil {
		in, err := rc.enum(gp)
		if err != nil {
			if !slices.Contains(rc.warnings, err.Error()) {
				rc.warnings = append(rc.warnings, err.Error())
			}
			return false, false
		}
		return rc.partial, in
	}
	return false, false
}

// ended reports whether d's series is over on now: Graph says so in its
// status, or its schedule ends before now
// (docs/graph-behaviour.md#recurrence, #status-values).
func ended(d *graph.Definition, now time.Time) bool {
	switch strings.ToLower(d.Status) {
	case "completed", "applied":
		return true
	}
	if d.Settings == nil || d.Settings.Recurrence == nil || d.Settings.Recurrence.Range == nil {
		return false
	}
	rec := d.Settings.Recurrence
	rg := rec.Range
	start, err := time.Parse(time.DateOnly, firstN(rg.StartDate, 10))
	if err != nil {
		return false
	}
	days := 0
	if d.Settings.InstanceDurationInDays != nil {
		days = *d.Settings.InstanceDurationInDays
	}
	if len(d.StageSettings) > 0 { // the stages replace the instance duration
		days = 0
		for _, s := range d.StageSettings {
			days += s.DurationInDays
		}
	}
	var end time.Time
	endDate, endErr := time.Parse(time.DateOnly, firstN(rg.EndDate, 10))
	hasEnd := endErr == nil && !strings.HasPrefix(rg.EndDate, "9999")
	oneTime := rec.Pattern == nil || rec.Pattern.Type == ""
	switch {
	case hasEnd && strings.EqualFold(rg.Type, "endDate"), hasEnd && strings.EqualFold(rg.Type, "numbered") && rg.NumberOfOccurrences <= 0:
		end = endDate
		if oneTime {
			end = later(end, start.AddDate(0, 0, days))
		}
	case strings.EqualFold(rg.Type, "numbered") && rg.NumberOfOccurrences > 0 && !oneTime:
		last := start
		n := max(rec.Pattern.Interval, 1) * (rg.NumberOfOccurrences - 1)
		switch strings.ToLower(rec.Pattern.Type) {
		case "weekly":
			last = start.AddDate(0, 0, 7*n)
		case "absolutemonthly":
			last = start.AddDate(0, n, 0)
		default:
			return false
		}
		end = last.AddDate(0, 0, days)
	case oneTime && !strings.EqualFold(rg.Type, "noEnd"):
		if hasEnd {
			end = later(endDate, start.AddDate(0, 0, days))
		} else {
			end = start.AddDate(0, 0, max(days, 1))
		}
	default:
		return false
	}
	// The series runs through its last day.
	return !now.Before(end.AddDate(0, 0, 1))
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func firstN(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// splitQuery returns a scope query's canonical path segments and $filter.
func splitQuery(q string) (segs []string, filter string) {
	q = graph.NormalizeQuery(q)
	path, opts, _ := strings.Cut(q, "?")
	for _, part := range strings.Split(opts, "&") {
		k, v, _ := strings.Cut(part, "=")
		if k == "$filter" {
			filter = v
		}
	}
	for _, s := range strings.Split(strings.Trim(path, "/"), "/") {
		if s != "" && s != "." {
			segs = append(segs, s)
		}
	}
	if len(segs) > 0 && strings.EqualFold(segs[len(segs)-1], "microsoft.graph.user") {
		segs = segs[:len(segs)-1]
	}
	return segs, filter
}

func isInactive(s *graph.Scope) bool {
	return strings.EqualFold(strings.TrimPrefix(s.ODataType, "#"), "microsoft.graph.accessReviewInactiveUsersQueryScope")
}

func isPRM(s *graph.Scope) bool {
	return strings.EqualFold(strings.TrimPrefix(s.ODataType, "#"), "microsoft.graph.principalResourceMembershipsScope") ||
		s.ODataType == "" && (len(s.PrincipalScopes) > 0 || len(s.ResourceScopes) > 0)
}

// analyse reads what d's scope reaches, from the scope forms Graph
// documents (docs/graph-behaviour.md#scopes-and-queries).
func analyse(d *graph.Definition) reach {
	rc := reach{def: d, managed: graph.ManagedName(d), groups: map[string]bool{}, roles: map[string]roleReach{}, apps: map[string]bool{}}
	s := d.Scope
	if s == nil {
		return rc
	}
	if isPRM(s) {
		rc.analysePRM(s)
		return rc
	}
	rc.partial = isInactive(s)
	segs, filter := splitQuery(s.Query)
	switch {
	case len(segs) >= 1 && strings.EqualFold(segs[0], "members"):
		// ./members: one instance per group of the instanceEnumerationScope.
		rc.members = memberFilter(filter, &rc)
		rc.analyseEnumeration(d.InstanceEnumerationScope)
	case len(segs) >= 3 && strings.EqualFold(segs[0], "groups") &&
		(strings.EqualFold(segs[2], "members") || strings.EqualFold(segs[2], "transitiveMembers")):
		if m := memberFilter(filter, &rc); m == membersGuests {
			rc.groups[strings.ToLower(segs[1])] = false
		}
	case len(segs) >= 3 && strings.EqualFold(segs[0], "roleManagement"):
		rc.analyseRole(segs, filter, false)
	case len(segs) == 3 && strings.EqualFold(segs[0], "servicePrincipals") && strings.EqualFold(segs[2], "appRoleAssignedTo"):
		rc.apps[strings.ToLower(segs[1])] = false
	}
	return rc
}

// memberFilter judges a scope's member filter on a guest user.
func memberFilter(filter string, rc *reach) memberReach {
	if filter == "" {
		return membersGuests
	}
	e, err := parseFilter(filter)
	var ok bool
	if err == nil {
		ok, err = e(guestProps)
	}
	if err != nil {
		rc.warnings = append(rc.warnings, fmt.Sprintf("cannot tell whether the scope's filter %q reaches guests (%v); counted as not covering", filter, err))
		return membersUnknown
	}
	if ok {
		return membersGuests
	}
	return membersNoGuest
}

// analyseEnumeration reads which groups an instanceEnumerationScope lists.
func (rc *reach) analyseEnumeration(e *graph.Scope) {
	if e == nil || strings.TrimSpace(e.Query) == "" {
		rc.enumBad = true
		return
	}
	segs, filter := splitQuery(e.Query)
	switch {
	case len(segs) == 2 && strings.EqualFold(segs[0], "groups"):
		rc.groups[strings.ToLower(segs[1])] = false
		rc.enumBad = true // only that group
	case len(segs) == 1 && strings.EqualFold(segs[0], "groups") && filter == "":
		rc.enumAll = true
	case len(segs) == 1 && strings.EqualFold(segs[0], "groups"):
		f, err := parseFilter(filter)
		if err != nil {
			rc.warnings = append(rc.warnings, fmt.Sprintf("cannot evaluate the instanceEnumerationScope filter %q (%v); counted as covering no group", filter, err))
			rc.enumBad = true
			return
		}
		rc.enum = f
	default:
		rc.warnings = append(rc.warnings, fmt.Sprintf("the instanceEnumerationScope query %q is not one coverage reads; counted as covering no group", e.Query))
		rc.enumBad = true
	}
	if rc.members != membersGuests {
		clear(rc.groups)
	}
}

// analyseRole reads a role review's query: roleDefinitions/{id} (active
// and eligible assignments), roleAssignmentScheduleInstances (active) or
// roleEligibilityScheduleInstances (eligible) filtered on roleDefinitionId.
func (rc *reach) analyseRole(segs []string, filter string, principalsOnly bool) {
	if len(segs) < 3 || !strings.EqualFold(segs[1], "directory") {
		return
	}
	switch strings.ToLower(segs[2]) {
	case "roledefinitions":
		if len(segs) == 4 {
			rc.roles[strings.ToLower(segs[3])] = roleReach{principalsOnly: principalsOnly}
		}
		return
	case "roleassignmentscheduleinstances", "roleeligibilityscheduleinstances", "roleassignmentandeligbilityschedules":
	default:
		return
	}
	only := ""
	switch strings.ToLower(segs[2]) {
	case "roleassignmentscheduleinstances":
		only = "active"
	case "roleeligibilityscheduleinstances":
		only = "eligible"
	}
	lower := strings.ToLower(filter)
	// isof(principal, ...) or an assignmentType keeps only some principals.
	principalsOnly = principalsOnly || strings.Contains(lower, "isof(") || strings.Contains(lower, "assignmenttype")
	for _, id := range roleIDs(filter) {
		rc.roles[id] = roleReach{only: only, principalsOnly: principalsOnly}
	}
}

// roleIDs returns the ids a filter compares roleDefinitionId with.
func roleIDs(filter string) []string {
	var out []string
	lower := strings.ToLower(filter)
	for {
		i := strings.Index(lower, "roledefinitionid eq '")
		if i < 0 {
			return out
		}
		lower = lower[i+len("roledefinitionid eq '"):]
		j := strings.IndexByte(lower, '\'')
		if j < 0 {
			return out
		}
		out = append(out, lower[:j])
		lower = lower[j:]
	}
}

// analysePRM reads a principalResourceMembershipsScope: its resources say
// what is reviewed, its principals whose access.
func (rc *reach) analysePRM(s *graph.Scope) {
	guests, everyone := membersGuests, len(s.PrincipalScopes) == 0
	if len(s.PrincipalScopes) > 0 {
		guests = membersNoGuest
	}
	anyInactive := false
	for i := range s.PrincipalScopes {
		p := &s.PrincipalScopes[i]
		segs, filter := splitQuery(p.Query)
		inactive := isInactive(p)
		anyInactive = anyInactive || inactive
		switch {
		case len(segs) == 1 && strings.EqualFold(segs[0], "users"):
			if m := memberFilter(filter, rc); m == membersGuests {
				guests = membersGuests
			}
			everyone = everyone || filter == "" && !inactive
		default:
			// Members of some group: only some guests, only some users.
			if guests != membersGuests {
				guests = membersUnknown
			}
		}
	}
	rc.partial = anyInactive || guests == membersUnknown
	for i := range s.ResourceScopes {
		segs, filter := splitQuery(s.ResourceScopes[i].Query)
		switch {
		case len(segs) == 1 && strings.EqualFold(segs[0], "groups"):
			if guests != membersNoGuest {
				rc.allGroup = true
			}
		case len(segs) >= 2 && (strings.EqualFold(segs[0], "groups") || strings.EqualFold(segs[0], "teams")):
			if guests != membersNoGuest {
				rc.groups[strings.ToLower(segs[1])] = false
			}
		case len(segs) >= 3 && strings.EqualFold(segs[0], "roleManagement"):
			rc.analyseRole(segs, filter, !everyone)
		case len(segs) == 2 && strings.EqualFold(segs[0], "servicePrincipals"):
			rc.apps[strings.ToLower(segs[1])] = !everyone
		}
	}
	rc.members = membersNoGuest // no ./members enumeration
}
