package main

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/plan"
	"github.com/arsync/arsync/pkg/spec"
)

// PlanOptions are plan's flags and arguments, and what it needs to run.
type PlanOptions struct {
	IO      *streams
	Config  func() (*spec.Config, error)
	Connect func(ctx context.Context, cfg *spec.Config) (*session, error)

	Paths            []string
	Output           string
	Out              string
	DetailedExitCode bool
	DeleteDuplicates bool
	Target           targetFlags
}

// NewCmdPlan is "arsync plan". With a non-nil runF the command calls it
// with the parsed options instead of planning.
func NewCmdPlan(f *Factory, runF func(*PlanOptions) error) *cobra.Command {
	o := &PlanOptions{IO: f.IO, Config: f.Config, Connect: f.Connect}
	cmd := &cobra.Command{
		Use:   "plan [PATH...]",
		Short: "Show what apply would change in the tenant",
		Long: `Plan compares the spec files with the definitions in the tenant and prints
the changes that apply would make. It writes nothing to the tenant.

Spec files are validated first; any error stops the plan before Graph is
called. PATHs default to the config's paths, else the current directory.`,
		Example: `  # Against the built-in emulator
  arsync plan --emulator examples/reviews

  # Markdown for a pull-request comment, and the saved plan for apply --plan
  arsync plan -o markdown --out plan.json reviews/

  # In CI: exit 2 when there are changes, 0 when there are none
  arsync plan --detailed-exitcode

  # Only the definitions named guests-* (the others are left out, not deleted)
  arsync plan --target 'guests-*' reviews/`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeSpecPaths("yaml", "yml"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Paths = args
			if err := checkFormat(o.Output, planFormats); err != nil {
				return err
			}
			if err := refuseSavedPlan(args); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return runPlan(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.Output, "output", "o", "text", "output format: "+orList(planFormats))
	fl.StringVar(&o.Out, "out", "", "also write the plan as JSON to `file` (for apply --plan)")
	fl.BoolVar(&o.DetailedExitCode, "detailed-exitcode", false, "exit 0 when there are no changes, 2 when there are, 1 on error")
	fl.BoolVar(&o.DeleteDuplicates, "allow-delete", false, "plan the deletion of younger duplicates of a managed definition")
	addTargetFlags(cmd, f, &o.Target)
	addSignInFlags(cmd, f.Globals)
	completeFlag(cmd, "output", planFormats...)
	return cmd
}

func runPlan(ctx context.Context, o *PlanOptions) error {
	cfg, err := o.Config()
	if err != nil {
		return err
	}
	targets, err := o.Target.names()
	if err != nil {
		return err
	}
	// Validate before signing in: bad input never costs a Graph call.
	specs, err := loadSpecs(ctx, o.IO, cfg.SpecPaths(o.Paths))
	if err != nil {
		return err
	}
	sess, err := o.Connect(ctx, cfg)
	if err != nil {
		return err
	}
	defer sess.Close()
	if err := checkSignIn(sess, "plan"); err != nil {
		return err
	}

	p, err := makePlan(ctx, sess, specs, o.DeleteDuplicates || cfg.AllowDelete, targets)
	if err != nil {
		return err
	}
	// Only with a coverage section does plan read the directory for it.
	if cfg.Coverage != nil {
		if p.Coverage, err = plan.CheckCoverage(ctx, sess.Client, cfg.Coverage, p, sess.Now()); err != nil {
			return fmt.Errorf("checking coverage: %w", err)
		}
	}
	if o.Out != "" {
		var buf bytes.Buffer
		if err := diff.RenderJSON(&buf, p); err != nil {
			return err
		}
		if err := os.WriteFile(o.Out, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("writing the plan: %w", err)
		}
	}
	switch o.Output {
	case "markdown":
		err = diff.RenderMarkdown(o.IO.Out, p)
	case "json":
		err = diff.RenderJSON(o.IO.Out, p)
	default:
		err = renderPlanText(o.IO, p)
	}
	if err != nil {
		return err
	}
	if o.Out != "" {
		// On stderr: stdout is the plan alone, for pipes and the Action.
		fmt.Fprintf(o.IO.ErrOut, "Saved the plan to %s. To apply exactly this plan: arsync apply --plan %s\n", o.Out, shellQuote(o.Out))
	}
	if p.Coverage.Fails() {
		return &exitCodeError{code: exitError, msg: fmt.Sprintf("%d required target(s) would stay uncovered after this plan (coverage in arsync.yaml)", len(p.Coverage.Uncovered))}
	}
	if o.DetailedExitCode && p.HasChanges() {
		return silentExit(exitChanges)
	}
	return nil
}
