package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/arsync/arsync/internal/ghcomment"
	"github.com/arsync/arsync/pkg/spec"
)

// NewCmdGitHub is "arsync github", the parent of its subcommands.
func NewCmdGitHub(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "github",
		Short: "Pull-request comments and annotations for GitHub Actions",
		Long: `The github commands are what the arsync GitHub Action (action.yml) runs
around plan: they post the plan as one pull-request comment per tenant,
show spec problems on the pull request's diff, and on merge check that the
plan about to be applied is the one the pull request showed. They read the variables
GitHub Actions sets (GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_EVENT_PATH,
GITHUB_API_URL, ...).`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(NewCmdGitHubComment(f, nil), NewCmdGitHubAnnotate(f, nil), NewCmdGitHubVerifyPlan(f, nil))
	return cmd
}

// CommentOptions are "github comment"'s flags and what it needs to run.
type CommentOptions struct {
	IO     *streams
	Config func() (*spec.Config, error)
	Getenv func(string) string

	Plan, Failed string
	Key, Repo    string
	PR           int
	DryRun       bool
	StepSummary  bool
	TenantID     string
}

// NewCmdGitHubComment is "arsync github comment". With a non-nil runF the
// command calls it with the parsed options instead of posting.
func NewCmdGitHubComment(f *Factory, runF func(*CommentOptions) error) *cobra.Command {
	o := &CommentOptions{IO: f.IO, Config: f.Config, Getenv: f.Getenv}
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
			if runF != nil {
				return runF(o)
			}
			return runGitHubComment(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Plan, "plan", "", "saved plan `file` (JSON) to post")
	fl.StringVar(&o.Failed, "failed", "", "`log` of a plan that failed, to post instead of a plan")
	fl.StringVar(&o.Key, "key", "", "what identifies this tenant's comment (default: the plan's tenant id, --tenant-id or the config's tenantId)")
	fl.StringVar(&o.Repo, "repo", "", "repository as owner/name (default $GITHUB_REPOSITORY)")
	fl.IntVar(&o.PR, "pr", 0, "pull request `number` (default: from $GITHUB_EVENT_PATH)")
	fl.BoolVar(&o.DryRun, "dry-run", false, "print the comment to stdout instead of posting it")
	fl.BoolVar(&o.StepSummary, "step-summary", false, "also add the comment to the job summary ($GITHUB_STEP_SUMMARY)")
	fl.StringVar(&o.TenantID, "tenant-id", "", "the tenant to name the comment after when no plan says it (default: the config's tenantId)")
	cmd.MarkFlagsMutuallyExclusive("plan", "failed")
	cmd.MarkFlagsOneRequired("plan", "failed")
	return cmd
}

func runGitHubComment(ctx context.Context, o *CommentOptions) error {
	s := o.IO
	env, err := ghcomment.FromEnv(o.Getenv)
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
		meta.Key = firstNonEmpty(meta.Key, p.TenantID, tenantKey(o))
		if body, err = ghcomment.PlanBody(p, meta); err != nil {
			return err
		}
	} else {
		log, err := os.ReadFile(o.Failed)
		if err != nil {
			return fmt.Errorf("reading the log of the failed plan: %w", err)
		}
		meta.Key = firstNonEmpty(meta.Key, tenantKey(o))
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
func tenantKey(o *CommentOptions) string {
	if o.TenantID != "" {
		return o.TenantID
	}
	if cfg, err := o.Config(); err == nil {
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

// AnnotateOptions are "github annotate"'s flag and argument.
type AnnotateOptions struct {
	IO *streams

	Log string // a file, or "-" for standard input
	Dir string
}

// NewCmdGitHubAnnotate is "arsync github annotate". With a non-nil runF the
// command calls it with the parsed options instead of annotating.
func NewCmdGitHubAnnotate(f *Factory, runF func(*AnnotateOptions) error) *cobra.Command {
	o := &AnnotateOptions{IO: f.IO}
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
			o.Log = args[0]
			if runF != nil {
				return runF(o)
			}
			return runGitHubAnnotate(o)
		},
	}
	cmd.Flags().StringVar(&o.Dir, "dir", "", "directory arsync ran in, relative to the repository root")
	return cmd
}

func runGitHubAnnotate(o *AnnotateOptions) error {
	var data []byte
	var err error
	if o.Log == "-" {
		data, err = io.ReadAll(o.IO.In)
	} else {
		data, err = os.ReadFile(o.Log)
	}
	if err != nil {
		return fmt.Errorf("reading the log: %w", err)
	}
	for _, line := range ghcomment.Annotations(string(data), o.Dir) {
		fmt.Fprintln(o.IO.Out, line)
	}
	return nil
}
