package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/arsync/arsync/pkg/report"
	"github.com/arsync/arsync/pkg/spec"
)

// StatusOptions are status's flags and arguments, and what it needs to run.
type StatusOptions struct {
	IO      *streams
	Config  func() (*spec.Config, error)
	Connect func(ctx context.Context, cfg *spec.Config) (*session, error)

	Paths  []string
	Output string
	All    bool
}

// NewCmdStatus is "arsync status". With a non-nil runF the command calls
// it with the parsed options instead of reporting.
func NewCmdStatus(f *Factory, runF func(*StatusOptions) error) *cobra.Command {
	o := &StatusOptions{IO: f.IO, Config: f.Config, Connect: f.Connect}
	cmd := &cobra.Command{
		Use:   "status [PATH...]",
		Short: "Show the managed reviews, their current instances and progress",
		Long: `Status lists each access review definition arsync manages with its Graph
status, its reviewers (named: "owners of Marketing", a user's name), and,
for a recurring review, when its next instance starts. Per reviewed
resource (each group of an all-groups review) it shows the current
instance: the running one, else the latest, with its dates, its reviewers,
how many items are decided of the total, how many are pending (not
reviewed) and overdue (pending past the instance's end), the decisions so
far and how many were applied. For a multi-stage review it also shows which
stage runs (STAGE 2/3) and, per instance, each stage so far with the
decisions of the principals that reached it.

With PATHs (or the config's paths) only the reviews defined there are shown,
and those not in the tenant yet are listed; without, every managed review.
--all adds the reviews arsync does not manage (made in the portal).

Formats: text, json, csv (one row per current instance) and markdown.`,
		Example: `  # Against the built-in emulator
  arsync status --emulator

  # The reviews of one directory, as JSON for a dashboard
  arsync status -o json reviews/

  # Every review in the tenant, managed or not, for a spreadsheet
  arsync status --all -o csv > reviews.csv`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeSpecPaths("yaml", "yml"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Paths = args
			if err := checkFormat(o.Output, statusFormats); err != nil {
				return err
			}
			if err := refuseSavedPlan(args); err != nil {
				return err
			}
			if o.All && len(args) > 0 {
				return fmt.Errorf("--all shows every review in the tenant; it cannot be combined with PATHs (%s)", strings.Join(args, ", "))
			}
			if runF != nil {
				return runF(o)
			}
			return runStatus(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "text", "output format: "+orList(statusFormats))
	cmd.Flags().BoolVar(&o.All, "all", false, "include the reviews arsync does not manage")
	addSignInFlags(cmd, f.Globals)
	completeFlag(cmd, "output", statusFormats...)
	return cmd
}

func runStatus(ctx context.Context, o *StatusOptions) error {
	cfg, err := o.Config()
	if err != nil {
		return err
	}
	var names []string
	// --all: every review, whatever paths the config names.
	if !o.All && (len(o.Paths) > 0 || len(cfg.Paths) > 0) {
		specs, err := loadSpecs(ctx, o.IO, cfg.SpecPaths(o.Paths))
		if err != nil {
			return err
		}
		for _, d := range specs.Definitions {
			names = append(names, d.Name)
		}
		if len(names) == 0 {
			return fmt.Errorf("no access review definitions in %s", strings.Join(cfg.SpecPaths(o.Paths), ", "))
		}
	}
	sess, err := o.Connect(ctx, cfg)
	if err != nil {
		return err
	}
	defer sess.Close()
	// Overdue is judged on the session's clock: the emulator's with --emulator.
	rep, err := report.StatusOf(ctx, sess.Client, report.StatusQuery{Names: names, All: o.All}, sess.Now())
	if err != nil {
		return err
	}
	return report.RenderStatus(o.IO.Out, rep, o.Output)
}
