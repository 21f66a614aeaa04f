package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/arsync/arsync/pkg/coverage"
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
	defs, in, err := coverage.Load(ctx, sess.Client)
	if err != nil {
		return coverage.Report{}, err
	}
	return coverage.Compute(defs, in, sess.Now()), nil
}
