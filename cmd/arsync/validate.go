package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/arsync/arsync/pkg/spec"
)

// ValidateOptions are validate's arguments and what it needs to run.
type ValidateOptions struct {
	IO     *streams
	Config func() (*spec.Config, error)

	Paths []string
}

// NewCmdValidate is "arsync validate". With a non-nil runF the command
// calls it with the parsed options instead of validating.
func NewCmdValidate(f *Factory, runF func(*ValidateOptions) error) *cobra.Command {
	o := &ValidateOptions{IO: f.IO, Config: f.Config}
	return &cobra.Command{
		Use:   "validate [PATH...]",
		Short: "Check spec files offline",
		Long: `Validate reads every *.yaml and *.yml file under the given paths (default:
the config's paths, else the current directory) and checks them against the
arsync/v1 format and Microsoft Graph's access-review rules, without signing
in. Every problem in every file is printed to stderr as file:line:col. The
exit code is 0 when all files are valid (warnings allowed) and 1 otherwise.`,
		Example: `  # Check the example reviews
  arsync validate examples/reviews

  # Check the paths listed in arsync.yaml
  arsync validate`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeSpecPaths("yaml", "yml"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Paths = args
			if err := refuseSavedPlan(args); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return runValidate(cmd.Context(), o)
		},
	}
}

func runValidate(ctx context.Context, o *ValidateOptions) error {
	cfg, err := o.Config()
	if err != nil {
		if ds, ok := err.(spec.Diagnostics); ok {
			fmt.Fprintln(o.IO.ErrOut, ds.Error())
			return silentExit(exitError)
		}
		return err
	}
	paths := cfg.SpecPaths(o.Paths)
	res, err := spec.LoadContext(ctx, paths...)
	if err != nil {
		return err
	}
	// Warnings first: they say why a file was skipped.
	for _, d := range res.Diagnostics {
		fmt.Fprintln(o.IO.ErrOut, d.String())
	}
	if len(res.Files) == 0 {
		return fmt.Errorf("no spec files (*.yaml, *.yml) found in %s", strings.Join(paths, ", "))
	}
	summary := validateSummary(res)
	if res.Diagnostics.HasErrors() {
		fmt.Fprintln(o.IO.ErrOut, summary)
		return silentExit(exitError)
	}
	fmt.Fprintln(o.IO.Out, summary)
	return nil
}

// validateSummary is the one-line result, e.g. "7 files, 8 definitions:
// valid, 1 warning" or "2 files: 3 errors, 1 warning".
func validateSummary(res *spec.Result) string {
	errs, warns := res.Diagnostics.Count(spec.Error), res.Diagnostics.Count(spec.Warning)
	head := countNoun(len(res.Files), "file")
	if errs > 0 {
		s := head + ": " + countNoun(errs, "error")
		if warns > 0 {
			s += ", " + countNoun(warns, "warning")
		}
		return s
	}
	s := head + ", " + countNoun(len(res.Definitions), "definition") + ": valid"
	if warns > 0 {
		s += ", " + countNoun(warns, "warning")
	}
	return s
}

func countNoun(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
