package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/arsync/arsync/pkg/report"
)

type statusOptions struct {
	Output string
}

func newStatusCmd(s *streams, g *globalOptions) *cobra.Command {
	o := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status [PATH...]",
		Short: "Show the managed reviews, their current instances and progress",
		Long: `Status lists each access review definition arsync manages with its Graph
status and, per reviewed resource (each group of an all-groups review), its
current instance: the running one, else the latest. For each it shows the
dates and the decisions so far (approved, denied, don't know, not reviewed)
and how many were applied.

With PATHs (or the config's paths) only the reviews defined there are shown,
and those not in the tenant yet are listed; without, every managed review.`,
		Example: `  # Against the built-in emulator
  arsync status --emulator

  # The reviews of one directory, as JSON for a dashboard
  arsync status -o json reviews/`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStatus(cmd.Context(), s, g, o, args)
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "text", "output format: "+orList(statusFormats))
	return cmd
}

func runStatus(ctx context.Context, s *streams, g *globalOptions, o *statusOptions, args []string) error {
	if err := checkFormat(o.Output, statusFormats); err != nil {
		return err
	}
	cfg, err := loadConfig(g)
	if err != nil {
		return err
	}
	var names []string
	if len(args) > 0 || len(cfg.Paths) > 0 {
		specs, err := loadSpecs(s, cfg.SpecPaths(args))
		if err != nil {
			return err
		}
		for _, d := range specs.Definitions {
			names = append(names, d.Name)
		}
		if len(names) == 0 {
			return fmt.Errorf("no access review definitions in %s", strings.Join(cfg.SpecPaths(args), ", "))
		}
	}
	sess, err := connect(ctx, s, g, cfg)
	if err != nil {
		return err
	}
	defer sess.Close()
	rep, err := report.Status(ctx, sess.Client, names, sessionNow(sess))
	if err != nil {
		return err
	}
	if o.Output == "json" {
		return report.RenderStatusJSON(s.Out, rep)
	}
	return report.RenderStatusText(s.Out, rep)
}

// sessionNow is the current time: the emulator's own clock with
// --emulator (moved by "arsync emulator advance"), else the system's.
func sessionNow(sess *session) time.Time {
	if sess.Emulator != nil {
		return sess.Emulator.Server.Now()
	}
	return time.Now()
}
