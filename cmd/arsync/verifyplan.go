package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/arsync/arsync/internal/ghcomment"
	"github.com/arsync/arsync/pkg/spec"
)

// VerifyPlanOptions are "github verify-plan"'s flags and what it needs.
type VerifyPlanOptions struct {
	IO     *streams
	Config func() (*spec.Config, error)
	Getenv func(string) string

	Plan    string
	Key     string
	Repo    string
	SHA     string
	PR      int
	Require bool
}

// NewCmdGitHubVerifyPlan is "arsync github verify-plan". With a non-nil
// runF the command calls it with the parsed options instead of checking.
func NewCmdGitHubVerifyPlan(f *Factory, runF func(*VerifyPlanOptions) error) *cobra.Command {
	o := &VerifyPlanOptions{IO: f.IO, Config: f.Config, Getenv: f.Getenv}
	cmd := &cobra.Command{
		Use:   "verify-plan --plan FILE",
		Short: "Check that a plan made on merge is the plan the pull request showed",
		Long: `Verify-plan compares a saved plan (arsync plan --out FILE), made after a
merge, with the last plan the merged pull request's comment showed: both
record the digest of what the plan writes (its changesDigest), which does
not depend on when the plan was made. The pull request is the merged one
whose merge commit is GITHUB_SHA (or --sha), unless --pr is given; the
comment is the tenant's plan comment (--key, default the plan's tenant).

It prints a workflow command for the job log: ::notice when they match,
::warning when they do not. With --require a mismatch, a commit no pull
request merged or a pull request without a plan comment is an ::error,
posted as a comment on the pull request, and exits 1: the Action then
applies nothing. It needs GITHUB_TOKEN (with "pull-requests: write" to
post).`,
		Example: `  arsync plan --out plan.json reviews/
  arsync github verify-plan --plan plan.json --require && arsync apply --plan plan.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(o)
			}
			return runGitHubVerifyPlan(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Plan, "plan", "", "saved plan `file` (JSON) made on merge")
	fl.StringVar(&o.Key, "key", "", "what identifies this tenant's plan comment (default: the plan's tenant id)")
	fl.StringVar(&o.Repo, "repo", "", "repository as owner/name (default $GITHUB_REPOSITORY)")
	fl.StringVar(&o.SHA, "sha", "", "the merged `commit` (default $GITHUB_SHA)")
	fl.IntVar(&o.PR, "pr", 0, "pull request `number` (default: the one that merged the commit)")
	fl.BoolVar(&o.Require, "require", false, "fail, and say why on the pull request, unless the plans match")
	_ = cmd.MarkFlagRequired("plan")
	return cmd
}

func runGitHubVerifyPlan(ctx context.Context, o *VerifyPlanOptions) error {
	p, err := readPlanFile(o.Plan)
	if err != nil {
		return err
	}
	env, err := ghcomment.FromEnv(o.Getenv)
	if err != nil {
		return err
	}
	repo := firstNonEmpty(o.Repo, env.Repo)
	sha := firstNonEmpty(o.SHA, o.Getenv("GITHUB_SHA"))
	key := firstNonEmpty(o.Key, p.TenantID)
	switch {
	case env.Token == "":
		return errors.New("GITHUB_TOKEN is not set; pass the workflow's token (env: GITHUB_TOKEN: ${{ github.token }})")
	case repo == "":
		return errors.New("no repository: GITHUB_REPOSITORY is not set; pass --repo owner/name")
	}
	c := &ghcomment.Client{APIURL: env.APIURL, Token: env.Token}

	// why is set when the plans cannot be said to match.
	var why string
	number := o.PR
	if number == 0 {
		pr, err := c.MergedPullRequest(ctx, repo, sha)
		if err != nil {
			return o.fail(fmt.Sprintf("could not find the pull request that merged %s: %v", short(sha), err))
		}
		if pr == nil {
			return o.fail(fmt.Sprintf("no merged pull request brought commit %s in: its plan was not reviewed on a pull request", short(sha)))
		}
		number = pr.Number
	}
	reviewed, err := c.LastDigest(ctx, repo, number, ghcomment.Marker(key))
	switch {
	case err != nil:
		return o.fail(fmt.Sprintf("could not read the plan comment of pull request #%d: %v", number, err))
	case reviewed == "":
		why = fmt.Sprintf("pull request #%d shows no arsync plan for %s (plan comments off, another comment-key, or its last plan failed), so there is no reviewed plan to compare with", number, key)
	case reviewed != p.ChangesDigest:
		why = fmt.Sprintf("the plan made on merge (%s) is not the last plan shown on pull request #%d (%s): the tenant or the specs changed after that plan was made (another merge, or an edit in the tenant)", p.ChangesDigest, number, reviewed)
	default:
		fmt.Fprintf(o.IO.Out, "::notice title=arsync::the plan matches the last plan shown on pull request #%d (%s)\n", number, reviewed)
		return nil
	}
	if !o.Require {
		return o.fail(why)
	}
	body := ghcomment.CheckMarker(key) + "\n" +
		"### arsync did not apply this pull request to <code>" + strings.NewReplacer("<", "&lt;", ">", "&gt;", "&", "&amp;").Replace(key) + "</code>\n\n" +
		"With `require-reviewed-plan`, arsync applies a merge only when its plan is the plan this pull request showed last. Here " + why + ".\n\n" +
		"Nothing was written. To go on, open a pull request (an empty change will do) so that the current plan is shown and reviewed, and merge it.\n"
	if env.RunURL != "" {
		body += "\n<sub>arsync · <a href=\"" + env.RunURL + "\">workflow run</a></sub>\n"
	}
	if _, perr := c.Upsert(ctx, repo, number, ghcomment.CheckMarker(key), body); perr != nil {
		fmt.Fprintf(o.IO.Out, "::warning title=arsync::could not say why on pull request #%d: %s\n", number, escapeWorkflow(perr.Error()))
	}
	return o.fail(why)
}

// fail ends a check that could not be made or did not pass: an ::error and
// exit 1 with --require, else a ::warning.
func (o *VerifyPlanOptions) fail(why string) error {
	if !o.Require {
		fmt.Fprintf(o.IO.Out, "::warning title=arsync::%s; applying it anyway (require-reviewed-plan is off)\n", escapeWorkflow(why))
		return nil
	}
	fmt.Fprintf(o.IO.Out, "::error title=arsync::%s; nothing was applied\n", escapeWorkflow(why))
	return fmt.Errorf("refusing to apply: %s", why)
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// escapeWorkflow escapes a workflow command's message.
func escapeWorkflow(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}
