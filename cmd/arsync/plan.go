package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/spec"
)

type planOptions struct {
	Output           string
	Out              string
	DetailedExitCode bool
	DeleteDuplicates bool
}

func newPlanCmd(s *streams, g *globalOptions) *cobra.Command {
	o := &planOptions{}
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
  arsync plan --detailed-exitcode`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPlan(cmd.Context(), s, g, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.Output, "output", "o", "text", "output format: "+orList(planFormats))
	f.StringVar(&o.Out, "out", "", "also write the plan as JSON to `file` (for apply --plan)")
	f.BoolVar(&o.DetailedExitCode, "detailed-exitcode", false, "exit 0 when there are no changes, 2 when there are, 1 on error")
	f.BoolVar(&o.DeleteDuplicates, "allow-delete", false, "plan the deletion of younger duplicates of a managed definition")
	return cmd
}

func runPlan(ctx context.Context, s *streams, g *globalOptions, o *planOptions, args []string) error {
	if err := checkFormat(o.Output, planFormats); err != nil {
		return err
	}
	cfg, err := loadConfig(g)
	if err != nil {
		return err
	}
	paths := cfg.SpecPaths(args)
	// Validate before signing in: bad input never costs a Graph call.
	specs, err := loadSpecs(s, paths)
	if err != nil {
		return err
	}
	sess, err := connect(ctx, s, g, cfg)
	if err != nil {
		return err
	}
	defer sess.Close()

	p, err := computePlan(ctx, sess, specs, o.DeleteDuplicates || cfg.AllowDelete)
	if err != nil {
		return err
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
		err = diff.RenderMarkdown(s.Out, p)
	case "json":
		err = diff.RenderJSON(s.Out, p)
	default:
		err = renderPlanText(s, p)
	}
	if err != nil {
		return err
	}
	if o.DetailedExitCode && p.HasChanges() {
		return silentExit(exitChanges)
	}
	return nil
}

// computePlan resolves the specs' names and reads the live definitions,
// concurrently since both are independent round trips, then compares them.
func computePlan(ctx context.Context, sess *session, specs *spec.Result, deleteDuplicates bool) (*diff.Plan, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type listed struct {
		defs []graph.Definition
		err  error
	}
	liveC := make(chan listed, 1)
	go func() {
		defs, err := listLive(ctx, sess)
		liveC <- listed{defs, err}
	}()
	desired, err := desiredFrom(ctx, sess, specs)
	if err != nil {
		return nil, err
	}
	live := <-liveC
	if live.err != nil {
		return nil, live.err
	}
	// Name the ids on the live side too, so field changes read "alice@..."
	// rather than a GUID. Labels are a courtesy: without directory read
	// permission the plan still works, with ids.
	labels, err := spec.DescribeIDs(ctx, sess.Client, live.defs)
	if err != nil {
		labels = nil
	}
	return diff.Compute(desired, live.defs, diff.Options{
		Labels:           labels,
		Now:              time.Now().UTC(),
		TenantID:         sess.TenantID,
		GraphEndpoint:    sess.Endpoint,
		DeleteDuplicates: deleteDuplicates,
	})
}
