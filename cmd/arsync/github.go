package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/arsync/arsync/internal/ghcomment"
)

func newGitHubCmd(s *streams, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "github",
		Short: "Pull-request comments and annotations for GitHub Actions",
		Long: `The github commands are what the arsync GitHub Action (action.yml) runs
around plan: they post the plan as one pull-request comment per tenant and
show spec problems on the pull request's diff. They read the variables
GitHub Actions sets (GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_EVENT_PATH,
GITHUB_API_URL, ...).`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newGitHubCommentCmd(s, g), newGitHubAnnotateCmd(s))
	return cmd
}

type commentOptions struct {
	Plan, Failed string
	Key, Repo    string
	PR           int
	DryRun       bool
	StepSummary  bool
}

func newGitHubCommentCmd(s *streams, g *globalOptions) *cobra.Command {
	o := &commentOptions{}
	cmd := &cobra.Command{
		Use:   "comment (--plan FILE | --failed LOG)",
		Short: "Post or update the pull request's plan comment",
		Long: `Comment posts a saved plan (arsync plan --out FILE), or the log of a plan
that failed, as a comment on the pull request. The comment starts with a
hidden marker for the tenant (--key, default the plan's tenant id), and
later runs edit that comment instead of adding new ones; an unchanged plan
is not written again.

It needs GITHUB_TOKEN with "permissions: pull-requests: write". The
repository and pull request come from GITHUB_REPOSITORY and the event
payload (GITHUB_EVENT_PATH) unless --repo and --pr are given.`,
		Example: `  arsync plan --out plan.json reviews/
  arsync github comment --plan plan.json --step-summary

  # A plan that failed: post its messages, then fail the job
  arsync plan reviews/ 2> plan.log || arsync github comment --failed plan.log

  # Print the comment instead of posting it
  arsync github comment --plan plan.json --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runGitHubComment(cmd.Context(), s, g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Plan, "plan", "", "saved plan `file` (JSON) to post")
	f.StringVar(&o.Failed, "failed", "", "`log` of a plan that failed, to post instead of a plan")
	f.StringVar(&o.Key, "key", "", "what identifies this tenant's comment (default: the plan's tenant id, --tenant-id or the config's tenantId)")
	f.StringVar(&o.Repo, "repo", "", "repository as owner/name (default $GITHUB_REPOSITORY)")
	f.IntVar(&o.PR, "pr", 0, "pull request `number` (default: from $GITHUB_EVENT_PATH)")
	f.BoolVar(&o.DryRun, "dry-run", false, "print the comment to stdout instead of posting it")
	f.BoolVar(&o.StepSummary, "step-summary", false, "also add the comment to the job summary ($GITHUB_STEP_SUMMARY)")
	cmd.MarkFlagsMutuallyExclusive("plan", "failed")
	cmd.MarkFlagsOneRequired("plan", "failed")
	return cmd
}

func runGitHubComment(ctx context.Context, s *streams, g *globalOptions, o *commentOptions) error {
	env, err := ghcomment.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	meta := ghcomment.Meta{Key: o.Key, Commit: env.Commit, RunURL: env.RunURL}
	var body string
	if o.Plan != "" {
		p, err := readPlanFile(o.Plan)
		if err != nil {
			return err
		}
		meta.Key = firstNonEmpty(meta.Key, p.TenantID, tenantKey(g))
		if body, err = ghcomment.PlanBody(p, meta); err != nil {
			return err
		}
	} else {
		log, err := os.ReadFile(o.Failed)
		if err != nil {
			return fmt.Errorf("reading the log of the failed plan: %w", err)
		}
		meta.Key = firstNonEmpty(meta.Key, tenantKey(g))
		body = ghcomment.FailureBody(string(log), meta)
	}

	if o.StepSummary && env.StepSummary != "" {
		if err := appendFile(env.StepSummary, body+"\n"); err != nil {
			return fmt.Errorf("writing the job summary: %w", err)
		}
	}
	if o.DryRun {
		_, err := io.WriteString(s.Out, body)
		return err
	}

	repo := firstNonEmpty(o.Repo, env.Repo)
	number := o.PR
	if number == 0 {
		number = env.PullRequest
	}
	switch {
	case env.Token == "":
		return errors.New("GITHUB_TOKEN is not set; pass the workflow's token (env: GITHUB_TOKEN: ${{ github.token }}) or use --dry-run")
	case repo == "":
		return errors.New("no repository: GITHUB_REPOSITORY is not set; pass --repo owner/name")
	case number == 0:
		event := firstNonEmpty(env.EventName, "this")
		return fmt.Errorf("no pull request: the %s event has none; pass --pr NUMBER, or run on pull_request", event)
	}
	c := &ghcomment.Client{APIURL: env.APIURL, Token: env.Token}
	res, err := c.Upsert(ctx, repo, number, ghcomment.Marker(meta.Key), body)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.ErrOut, "plan comment %s: %s\n", res.Outcome, res.URL)
	return nil
}

// tenantKey is the tenant to name the comment after when no plan says it:
// --tenant-id, else the config's tenantId. A config that does not load
// (the failure being reported may be in it) names no tenant.
func tenantKey(g *globalOptions) string {
	if g.TenantID != "" {
		return g.TenantID
	}
	if cfg, err := loadConfig(g); err == nil {
		return cfg.TenantID
	}
	return ""
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func newGitHubAnnotateCmd(s *streams) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "annotate LOG",
		Short: "Print workflow commands that mark spec problems on the pull request's diff",
		Long: `Annotate reads arsync's messages (from validate or plan; "-" for stdin) and
prints a GitHub Actions workflow command for each file:line:col problem, so
that GitHub shows it at that line of the pull request. --dir is the
directory arsync ran in, relative to the repository root.`,
		Example: `  arsync validate 2> validate.log || { arsync github annotate --dir tenants/prod validate.log; exit 1; }`,
		Args:    cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			var data []byte
			var err error
			if args[0] == "-" {
				data, err = io.ReadAll(s.In)
			} else {
				data, err = os.ReadFile(args[0])
			}
			if err != nil {
				return fmt.Errorf("reading the log: %w", err)
			}
			for _, line := range ghcomment.Annotations(string(data), dir) {
				fmt.Fprintln(s.Out, line)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "directory arsync ran in, relative to the repository root")
	return cmd
}
