package report

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/arsync/arsync/pkg/graph"
)

// The reviewer query forms (docs/graph-behaviour.md#reviewers).
var (
	reviewerUserRE  = regexp.MustCompile(`(?i)^(?:/(?:v1\.0|beta))?/users/([0-9a-f-]{36})$`)
	reviewerGroupRE = regexp.MustCompile(`(?i)^(?:/(?:v1\.0|beta))?/groups/([0-9a-f-]{36})/(transitiveMembers|members|owners)\b`)
	reviewerAppRE   = regexp.MustCompile(`(?i)^(?:/(?:v1\.0|beta))?/servicePrincipals/([0-9a-f-]{36})/owners\b`)
)

// reviewersOf lists reviewer scopes with their queries; descriptions are
// filled in by nameAll.
func reviewersOf(scopes []graph.ReviewerScope) []Reviewer {
	out := make([]Reviewer, 0, len(scopes))
	for _, s := range scopes {
		out = appendNew(out, Reviewer{Query: s.Query})
	}
	return out
}

// appendNew appends the reviewers not in list yet.
func appendNew(list []Reviewer, rs ...Reviewer) []Reviewer {
	for _, r := range rs {
		if !slices.ContainsFunc(list, func(o Reviewer) bool { return strings.EqualFold(o.Query, r.Query) }) {
			list = append(list, r)
		}
	}
	return list
}

// reviewerIDs are the directory ids a reviewer query names.
func reviewerID(q string) string {
	for _, re := range []*regexp.Regexp{reviewerUserRE, reviewerGroupRE, reviewerAppRE} {
		if m := re.FindStringSubmatch(q); m != nil {
			return strings.ToLower(m[1])
		}
	}
	return ""
}

// describe says who a reviewer query names, with the names known.
func describe(q string, name func(id string) string) string {
	if m := reviewerUserRE.FindStringSubmatch(q); m != nil {
		return name(m[1])
	}
	if m := reviewerGroupRE.FindStringSubmatch(q); m != nil {
		if strings.EqualFold(m[2], "owners") {
			return "owners of " + name(m[1])
		}
		return "members of " + name(m[1])
	}
	if m := reviewerAppRE.FindStringSubmatch(q); m != nil {
		return "owners of " + name(m[1])
	}
	switch strings.ToLower(strings.TrimSpace(q)) {
	case "./owners":
		return "owners of each reviewed group"
	case "./manager":
		return "each reviewed user's manager"
	}
	return q
}

// nameAll names the instances' resources and describes the reviewers of
// every definition, reading the names of all their ids at once, then
// sorts each definition's instances by resource name.
func nameAll(ctx context.Context, nm *names, defs []DefinitionStatus) error {
	var objs, roles []string
	add := func(list *[]string, id string) {
		if id != "" && !slices.Contains(*list, id) {
			*list = append(*list, id)
		}
	}
	forReviewers := func(rs []Reviewer) {
		for _, r := range rs {
			add(&objs, reviewerID(r.Query))
		}
	}
	for _, d := range defs {
		forReviewers(d.Reviewers)
		forReviewers(d.FallbackReviewers)
		for _, in := range d.Instances {
			forReviewers(in.Reviewers)
			if in.Resource == "" && in.ResourceID != "" {
				if in.ResourceType == kindRole {
					add(&roles, in.ResourceID)
				} else {
					add(&objs, in.ResourceID)
				}
			}
		}
	}
	if err := nm.prefetch(ctx, objs, roles); err != nil {
		return err
	}
	name := func(id string) string { return firstNonEmpty(nm.known[strings.ToLower(id)], id) }
	describeAll := func(rs []Reviewer) {
		for i := range rs {
			rs[i].Description = describe(rs[i].Query, name)
		}
	}
	for i := range defs {
		d := &defs[i]
		describeAll(d.Reviewers)
		describeAll(d.FallbackReviewers)
		for j := range d.Instances {
			in := &d.Instances[j]
			if in.Resource == "" && in.ResourceID != "" {
				in.Resource = nm.known[in.ResourceID]
			}
			describeAll(in.Reviewers)
			// An instance reviews one group: its "./owners" are that
			// group's owners.
			for k := range in.Reviewers {
				if strings.EqualFold(strings.TrimSpace(in.Reviewers[k].Query), "./owners") && in.ResourceType == kindGroup {
					in.Reviewers[k].Description = "owners of " + firstNonEmpty(in.Resource, in.ResourceID)
				}
			}
		}
		slices.SortStableFunc(d.Instances, func(a, b InstanceStatus) int {
			if c := strings.Compare(strings.ToLower(a.Resource), strings.ToLower(b.Resource)); c != 0 {
				return c
			}
			return strings.Compare(a.Scope, b.Scope)
		})
	}
	return nil
}

// prefetch reads the names of directory objects (in batches of up to
// 1000 ids a request) and role definitions it does not know yet. Names are
// a courtesy: without directory read permission (403) ids are shown.
func (n *names) prefetch(ctx context.Context, objs, roles []string) error {
	var ask []string
	for _, id := range objs {
		if _, ok := n.known[id]; !ok {
			ask = append(ask, id)
		}
	}
	if len(ask) > 0 {
		found, err := n.src.GetDirectoryObjects(ctx, ask)
		if err != nil && !graph.IsForbidden(err) {
			return fmt.Errorf("reading the names of resources and reviewers: %w", err)
		}
		for _, id := range ask {
			o := found[id]
			n.known[id] = firstNonEmpty(o.DisplayName, o.UserPrincipalName)
		}
	}
	ask = ask[:0]
	for _, id := range roles {
		if _, ok := n.known[id]; !ok {
			ask = append(ask, id)
		}
	}
	if len(ask) > 0 {
		found, err := n.src.LookupRoleDefinitions(ctx, ask)
		if err != nil && !graph.IsForbidden(err) {
			return fmt.Errorf("reading the names of roles: %w", err)
		}
		for _, id := range ask {
			name := ""
			if rs := found[id]; len(rs) == 1 {
				name = rs[0].DisplayName
			}
			n.known[id] = name
		}
	}
	return nil
}

// nextStart is when a recurring review's next instance starts: the first
// period of its recurrence (docs/graph-behaviour.md#recurrence) after the
// last instance's start, or, before any instance, the first one not over
// by now. Periods start on range.startDate and every interval weeks or
// months after (monthly on pattern.dayOfMonth when set, moved to the
// month's last day when it is shorter), in UTC; the range's endDate or
// numberOfOccurrences ends the series. ok is false for a one-time review
// that has started, or a series that is over.
func nextStart(def *graph.Definition, last, now time.Time) (time.Time, bool) {
	if def.Settings == nil || def.Settings.Recurrence == nil || def.Settings.Recurrence.Range == nil {
		return time.Time{}, false
	}
	rec := def.Settings.Recurrence
	start, err := time.Parse("2006-01-02", rec.Range.StartDate)
	if err != nil {
		return time.Time{}, false
	}
	var until time.Time
	if rec.Range.EndDate != "" && rec.Range.Type != "noEnd" {
		until, _ = time.Parse("2006-01-02", rec.Range.EndDate)
	}
	count := 0
	if rec.Range.Type == "numbered" {
		count = rec.Range.NumberOfOccurrences
	}
	weeks, months, day := 0, 0, 0
	if p := rec.Pattern; p != nil && p.Type != "" {
		switch p.Type {
		case "weekly":
			weeks = max(p.Interval, 1)
		case "absoluteMonthly":
			months, day = max(p.Interval, 1), p.DayOfMonth
		default:
			return time.Time{}, false
		}
	}
	period := func(k int) time.Time {
		switch {
		case k == 0:
			return start
		case weeks > 0:
			return start.AddDate(0, 0, 7*weeks*k)
		}
		y, m, d := start.Date()
		if day > 0 {
			d = day
		}
		first := time.Date(y, m+time.Month(months*k), 1, 0, 0, 0, 0, time.UTC)
		return time.Date(first.Year(), first.Month(), min(d, first.AddDate(0, 1, -1).Day()), 0, 0, 0, 0, time.UTC)
	}
	after := last
	if last.IsZero() {
		after = now.Add(-time.Nanosecond) // the first period not started by now
		if start.After(now) {
			return start, true
		}
	}
	for k := 0; k < 100000; k++ {
		if weeks == 0 && months == 0 && k > 0 || count > 0 && k >= count {
			return time.Time{}, false
		}
		ps := period(k)
		if !until.IsZero() && ps.After(until) {
			return time.Time{}, false
		}
		if ps.After(after) {
			return ps, true
		}
	}
	return time.Time{}, false
}
