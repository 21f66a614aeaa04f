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
}

// NewCmdStatus is "arsync status". With a non-nil runF the command calls
// it with the parsed options instead of reporting.
func NewCmdStatus(f *Factory, runF func(*StatusOptions) error) *cobra.Command {
	o := &StatusOptions{IO: f.IO, Config: f.Config, Connect: f.Connect}
	cmd := &cobra.Command{
		Use:   "status [PATH...]",
		Short: "Show the managed reviews, their current instances and progress",
		Long: `Status lists each access review definition arsync manages with its Graph
status and, per reviewed resource (each group of an all-groups review), its
current instance: the running one, else the latest. For each it shows the
dates and the decisions so far (approved, denied, don't know, not reviewed)
and how many were applied. For a multi-stage review it also shows which
stage runs (STAGE 2/3) and, per instance, each stage so far with the
decisions of the principals that reached it.

With PATHs (or the config's paths) only the reviews defined there are shown,
and those not in the tenant yet are listed; without, every managed review.`,
		Example: `  # Against the built-in emulator
  arsync status --emulator

  # The reviews of one directory, as JSON for a dashboard
  arsync status -o json reviews/`,
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
			if runF != nil {
				return runF(o)
			}
			return runStatus(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "text", "output format: "+orList(statusFormats))
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
	if len(o.Paths) > 0 || len(cfg.Paths) > 0 {
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
	rep, err := report.Status(ctx, sess.Client, names, sess.Now())
	if err != nil {
		return err
	}
	if o.Output == "json" {
		return report.RenderStatusJSON(o.IO.Out, rep)
	}
	return report.RenderStatusText(o.IO.Out, rep)
}
