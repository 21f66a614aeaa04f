package plan

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/arsync/arsync/pkg/coverage"
	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/spec"
)

// CheckCoverage checks pol, arsync.yaml's coverage policy, against the
// tenant as it would be once p is applied: the live definitions, less those
// p deletes or replaces, plus what p creates, updates or adopts as desired,
// judged on now.
func CheckCoverage(ctx context.Context, src coverage.Source, pol *spec.CoveragePolicy, p *diff.Plan, now time.Time) (*diff.CoverageCheck, error) {
	live, in, err := coverage.Load(ctx, src)
	if err != nil {
		return nil, err
	}
	rep := coverage.Compute(afterPlan(live, p), in, now)
	return checkPolicy(pol, rep, in), nil
}

// afterPlan is live with p's changes made.
func afterPlan(live []graph.Definition, p *diff.Plan) []graph.Definition {
	byID := map[string]int{}
	for i, d := range live {
		byID[d.ID] = i
	}
	gone := map[int]bool{}
	var added []graph.Definition
	for _, c := range p.Changes {
		switch c.Action {
		case diff.Create:
			if c.After != nil {
				added = append(added, *c.After)
			}
		case diff.Update, diff.Adopt:
			if c.Before == nil || c.After == nil {
				continue
			}
			if i, ok := byID[c.Before.ID]; ok {
				d := *c.After
				d.ID, d.Status = live[i].ID, live[i].Status
				live[i] = d
			}
		case diff.Replace, diff.Delete:
			if c.Before != nil {
				if i, ok := byID[c.Before.ID]; ok {
					gone[i] = true
				}
			}
			if c.Action == diff.Replace && c.After != nil {
				added = append(added, *c.After)
			}
		}
	}
	out := make([]graph.Definition, 0, len(live)+len(added))
	for i, d := range live {
		if !gone[i] {
			out = append(out, d)
		}
	}
	return append(out, added...)
}

// checkPolicy lists the targets pol requires that rep leaves uncovered.
func checkPolicy(pol *spec.CoveragePolicy, rep coverage.Report, in coverage.Inputs) *diff.CoverageCheck {
	check := &diff.CoverageCheck{Uncovered: []diff.CoverageTarget{}}
	required := func(t coverage.Target) bool {
		switch t.Kind {
		case coverage.KindGroup:
			return pol.GuestGroups
		case coverage.KindRole:
			return slices.ContainsFunc(pol.Roles, func(r string) bool {
				return strings.EqualFold(r, t.ID) || strings.EqualFold(r, t.DisplayName)
			})
		case coverage.KindApplication:
			appID := ""
			for _, a := range in.Applications {
				if a.ID == t.ID {
					appID = a.AppID
				}
			}
			return slices.ContainsFunc(pol.Applications, func(a string) bool {
				return strings.EqualFold(a, t.ID) || strings.EqualFold(a, t.DisplayName) || appID != "" && strings.EqualFold(a, appID)
			})
		}
		return false
	}
	found := map[string]bool{}
	for _, t := range rep.Targets {
		if !required(t) {
			continue
		}
		check.Required++
		found[strings.ToLower(t.ID)], found[strings.ToLower(t.DisplayName)] = true, true
		if !t.Covered {
			check.Uncovered = append(check.Uncovered, diff.CoverageTarget{Kind: string(t.Kind), ID: t.ID, DisplayName: t.DisplayName})
		}
	}
	for _, a := range in.Applications {
		if found[strings.ToLower(a.ID)] {
			found[strings.ToLower(a.AppID)] = true
		}
	}
	for _, name := range append(slices.Clone(pol.Roles), pol.Applications...) {
		if !found[strings.ToLower(name)] {
			check.Missing = append(check.Missing, name)
		}
	}
	return check
}
