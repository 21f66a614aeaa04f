// Package auditreport renders "arsync report": one page for auditors and
// managers with, per access review, its instances over time (completion
// and outcomes as charts with text alternatives and data tables) and the
// tenant's coverage, uncovered targets first. HTML is one self-contained
// file (inline CSS and SVG, a Content-Security-Policy that forbids every
// load); markdown is a GitHub job summary with tables and Mermaid charts.
//
// The page is built from a plain Model; rendering is deterministic (the
// clock and version are the Model's), so golden files can pin it.
package auditreport

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/arsync/arsync/pkg/coverage"
	"github.com/arsync/arsync/pkg/report"
)

// Model is everything the report shows.
type Model struct {
	Tenant      string
	Version     string
	GeneratedAt time.Time
	// Since, when set, is the start of the period: instances that ended
	// before it are left out.
	Since   time.Time
	Reviews []Review
	// Coverage is nil when it could not be read; CoverageNote says why.
	Coverage     *coverage.Report
	CoverageNote string
}

// Review is one access review definition and its instances.
type Review struct {
	Name        string // arsync name; "" for an unmanaged definition
	DisplayName string
	ID          string
	Status      string
	// TotalInstances counts every instance in the tenant, also those
	// before Since.
	TotalInstances int
	Instances      []Instance // oldest first
}

// Title is the review's heading: its arsync name, else its display name.
func (r Review) Title() string {
	if r.Name != "" {
		return r.Name
	}
	return r.DisplayName
}

// Instance is one instance of a review with its decision items counted.
type Instance struct {
	ID       string
	Resource string // the reviewed group, application or role; "" when none
	Status   string
	Start    string // RFC 3339, UTC
	End      string
	Total    int
	Decided  int
	Outcomes
}

// Outcomes counts decision items by what became of them. Applied counts
// the decided items whose decision was applied, so it overlaps the others.
type Outcomes struct {
	Approved    int
	Denied      int
	DontKnow    int
	NotReviewed int
	Applied     int
}

func (o *Outcomes) add(p Outcomes) {
	o.Approved += p.Approved
	o.Denied += p.Denied
	o.DontKnow += p.DontKnow
	o.NotReviewed += p.NotReviewed
	o.Applied += p.Applied
}

// Totals adds up the review's instances.
func (r Review) Totals() (total, decided int, o Outcomes) {
	for _, in := range r.Instances {
		total += in.Total
		decided += in.Decided
		o.add(in.Outcomes)
	}
	return total, decided, o
}

// ReviewsFrom turns a status report read with report.StatusQuery.History
// into the report's reviews.
func ReviewsFrom(rep *report.StatusReport) []Review {
	var out []Review
	for _, d := range rep.Definitions {
		r := Review{Name: d.Name, DisplayName: d.DisplayName, ID: d.ID, Status: d.Status, TotalInstances: d.TotalInstances}
		for _, in := range d.Instances {
			i := Instance{ID: in.ID, Resource: in.Resource, Status: in.Status, Start: in.StartDateTime, End: in.EndDateTime,
				Total: in.Total, Decided: in.Decided}
			i.Approved, i.Denied, i.DontKnow, i.NotReviewed = in.Decisions["Approve"], in.Decisions["Deny"], in.Decisions["DontKnow"], in.Decisions["NotReviewed"]
			for result, n := range in.ApplyResults {
				// AppliedSuccessfully, AppliedWithUnknownFailure, ...:
				// every result but New (not applied yet) and
				// ApplyNotSupported.
				if strings.HasPrefix(result, "Applied") {
					i.Applied += n
				}
			}
			r.Instances = append(r.Instances, i)
		}
		out = append(out, r)
	}
	return out
}

// coverageRank orders targets for people: uncovered first, then partly
// covered, then covered.
func coverageRank(t coverage.Target) int {
	switch {
	case t.Partial:
		return 1
	case !t.Covered:
		return 0
	}
	return 2
}

// coverageState is a target's state in words.
func coverageState(t coverage.Target) string {
	switch coverageRank(t) {
	case 0:
		return "Uncovered"
	case 1:
		return "Partial"
	}
	return "Covered"
}

// coverageKinds are the report's coverage tables, in order.
var coverageKinds = []struct {
	Kind   coverage.Kind
	Title  string
	Amount string // the column of the target's size
}{
	{coverage.KindGroup, "Groups with guests", "Guests"},
	{coverage.KindRole, "Directory roles with assignments", "Assignments"},
	{coverage.KindApplication, "Applications with assignments", "Assignments"},
}

// sortedTargets are the targets of one kind, uncovered first, then by name.
func sortedTargets(rep *coverage.Report, kind coverage.Kind) []coverage.Target {
	var out []coverage.Target
	for _, t := range rep.Targets {
		if t.Kind == kind {
			out = append(out, t)
		}
	}
	slices.SortStableFunc(out, func(a, b coverage.Target) int {
		return cmp.Or(cmp.Compare(coverageRank(a), coverageRank(b)),
			strings.Compare(strings.ToLower(a.DisplayName), strings.ToLower(b.DisplayName)),
			strings.Compare(a.ID, b.ID))
	})
	return out
}

// counts are one kind's targets by state; Covered are fully covered.
type counts struct{ Uncovered, Partial, Covered int }

func (c counts) total() int { return c.Uncovered + c.Partial + c.Covered }

// countsOf counts one kind's targets as the tables show them.
func countsOf(rep *coverage.Report, kind coverage.Kind) counts {
	var c counts
	for _, t := range rep.Targets {
		if t.Kind != kind {
			continue
		}
		switch coverageRank(t) {
		case 0:
			c.Uncovered++
		case 1:
			c.Partial++
		default:
			c.Covered++
		}
	}
	return c
}

// coveredByText lists what covers a target.
func coveredByText(t coverage.Target) string {
	var parts []string
	for _, c := range t.CoveredBy {
		s := c.DisplayName
		if c.ManagedName != "" {
			s = c.ManagedName
		}
		if s == "" {
			s = c.ID
		}
		if c.Partial {
			s += " (partial)"
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// amountOf is a target's size: guests of a group, else assignments.
func amountOf(t coverage.Target) int {
	if t.Kind == coverage.KindGroup {
		return t.Guests
	}
	return t.Assignments
}

// day is the date of an RFC 3339 time ("" stays "").
func day(ts string) string {
	if len(ts) >= 10 {
		return ts[:10]
	}
	return ts
}

// percent is part of whole in whole percent, rounded down (0 of 0 is 0).
func percent(part, whole int) int {
	if whole <= 0 {
		return 0
	}
	return part * 100 / whole
}
