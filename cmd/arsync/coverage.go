package main

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/arsync/arsync/pkg/coverage"
	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/spec"
)

// CoverageOptions are coverage's flags, and what it needs to run.
type CoverageOptions struct {
	IO      *streams
	Config  func() (*spec.Config, error)
	Connect func(ctx context.Context, cfg *spec.Config) (*session, error)

	Output          string
	FailOnUncovered bool
}

// coverageSource is what coverage reads: every definition and the directory.
type coverageSource interface {
	ListDefinitions(ctx context.Context, opts *graph.ListOptions) iter.Seq2[*graph.Definition, error]
	coverage.Directory
}

// NewCmdCoverage is "arsync coverage". With a non-nil runF the command
// calls it with the parsed options instead of reporting.
func NewCmdCoverage(f *Factory, runF func(*CoverageOptions) error) *cobra.Command {
	o := &CoverageOptions{IO: f.IO, Config: f.Config, Connect: f.Connect}
	cmd := &cobra.Command{
		Use:   "coverage",
		Short: "Show which groups with guests, roles and applications no access review covers",
		Long: `Coverage reads the directory and every access review definition in the
tenant, managed by arsync or not, and lists:

  - groups with guest members (Microsoft 365 groups, Teams, security
    groups), with their number of guests;
  - directory roles with active or eligible assignments;
  - applications (service principals) with users or groups assigned;

each with the definitions whose scope reaches it: a review of that group,
role or application, an all-groups or all-Teams review whose
instanceEnumerationScope filter selects the group, or a
principalResourceMemberships scope over it. A review of inactive users
only, of only some principals, or of only the active (or eligible)
assignments of a role covers partly. Only a definition whose series has not
ended covers anything. Uncovered targets come first.

Formats: text, json, csv and markdown. --fail-on-uncovered exits 1 when a
target is uncovered (partly covered ones pass).`,
		Example: `  # Against the built-in emulator
  arsync coverage --emulator

  # In CI: fail when a group with guests, a role or an application is not reviewed
  arsync coverage --fail-on-uncovered -o markdown >> "$GITHUB_STEP_SUMMARY"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(o.Output, coverage.Formats); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return runCoverage(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "text", "output format: "+orList(coverage.Formats))
	cmd.Flags().BoolVar(&o.FailOnUncovered, "fail-on-uncovered", false, "exit 1 when a target is uncovered")
	addSignInFlags(cmd, f.Globals)
	completeFlag(cmd, "output", coverage.Formats...)
	return cmd
}

func runCoverage(ctx context.Context, o *CoverageOptions) error {
	sess, err := openSession(ctx, o.Config, o.Connect)
	if err != nil {
		return err
	}
	defer sess.Close()
	rep, err := coverageOf(ctx, sess)
	if err != nil {
		return err
	}
	if err := coverage.Render(o.IO.Out, rep, o.Output); err != nil {
		return err
	}
	if n := len(rep.Uncovered()); o.FailOnUncovered && n > 0 {
		return &exitCodeError{code: exitError, msg: fmt.Sprintf("%d target(s) are not covered by any access review (--fail-on-uncovered)", n)}
	}
	return nil
}

// coverageOf reads every definition and the directory and computes the
// coverage on the session's clock.
func coverageOf(ctx context.Context, sess *session) (coverage.Report, error) {
	src, ok := sess.Client.(coverageSource)
	if !ok {
		return coverage.Report{}, fmt.Errorf("this Graph client cannot read the directory for coverage")
	}
	defs, err := listAll(ctx, src)
	if err != nil {
		return coverage.Report{}, err
	}
	in, err := coverage.Read(ctx, src)
	if err != nil {
		return coverage.Report{}, err
	}
	return coverage.Compute(defs, in, sess.Now()), nil
}

// listAll lists every access review definition in the tenant.
func listAll(ctx context.Context, src coverageSource) ([]graph.Definition, error) {
	var defs []graph.Definition
	for d, err := range src.ListDefinitions(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("listing access review definitions: %w", err)
		}
		defs = append(defs, *d)
	}
	return defs, nil
}

// planCoverage checks cfg's coverage policy against the tenant as it would
// be once p is applied: the live definitions, less those p deletes or
// replaces, plus what p creates, updates or adopts as desired.
func planCoverage(ctx context.Context, sess *session, pol *spec.CoveragePolicy, p *diff.Plan) (*diff.CoverageCheck, error) {
	src, ok := sess.Client.(coverageSource)
	if !ok {
		return nil, fmt.Errorf("this Graph client cannot read the directory for coverage")
	}
	live, err := listAll(ctx, src)
	if err != nil {
		return nil, err
	}
	in, err := coverage.Read(ctx, src)
	if err != nil {
		return nil, err
	}
	rep := coverage.Compute(afterPlan(live, p), in, sess.Now())
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
