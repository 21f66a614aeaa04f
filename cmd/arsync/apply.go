package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/arsync/arsync/pkg/apply"
	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/spec"
)

// ApplyOptions are apply's flags and arguments, and what it needs to run.
type ApplyOptions struct {
	IO      *streams
	Config  func() (*spec.Config, error)
	Connect func(ctx context.Context, cfg *spec.Config) (*session, error)

	Paths        []string
	AutoApprove  bool
	AllowDelete  bool
	AllowReplace bool
	Force        bool
	PlanFile     string
	Target       targetFlags
	// Emulator is --emulator: a saved plan is checked against it before
	// signing in.
	Emulator bool
}

// NewCmdApply is "arsync apply". With a non-nil runF the command calls it
// with the parsed options instead of applying.
func NewCmdApply(f *Factory, runF func(*ApplyOptions) error) *cobra.Command {
	o := &ApplyOptions{IO: f.IO, Config: f.Config, Connect: f.Connect}
	cmd := &cobra.Command{
		Use:   "apply [PATH...] | apply --plan FILE",
		Short: "Make the tenant match the spec files",
		Long: `Apply plans as "arsync plan" does, shows the plan, and after confirmation
makes the changes: creates, then updates, then replaces and deletes.

On a terminal it asks for "yes"; anywhere else it needs --auto-approve.
With --plan it applies a plan saved by "arsync plan --out" exactly as it was
reviewed; a saved plan given alone where PATHs go ("arsync apply plan.json",
as Terraform takes one) is applied the same way. It refuses, writing nothing, a plan edited since it was saved (its
digest no longer matches), and a stale plan: one made for another tenant, or
one a definition of which has changed since. Every update, adopt, replace
and delete is also checked against the definition as it is just before it
is written: arsync writes only a definition carrying the change's own
marker, or, to adopt, one without a marker and with the planned name.

Deletes and replaces (which lose the review history) need --allow-delete and
--allow-replace (or allowDelete/allowReplace in arsync.yaml). Changing more
than maxChangePercent (default 30%) of the managed definitions needs
--force once at least 10 are managed. All of this is checked before the
first write. Progress goes to stderr, the final report to stdout; the exit
code is 1 if any change was not done, or may have left a duplicate
definition (a create sent again after its outcome stayed unknown). Before
it ends, apply waits (up to 2 minutes) until Graph lists what it created,
so that the next plan does not plan it again.`,
		Example: `  # Against the built-in emulator
  arsync apply --emulator --auto-approve examples/reviews

  # In CI, after review of the saved plan
  arsync plan --out plan.json reviews/
  arsync apply --plan plan.json

  # Only one review; the others are neither changed nor deleted
  arsync apply --emulator --target guests-m365-quarterly examples/reviews`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeSpecPaths("yaml", "yml", "json"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Paths = args
			o.Emulator = f.Globals.Emulator
			if o.PlanFile != "" && o.Target.set() {
				return errors.New("give either --plan or --target: a saved plan already records its targets (plan --target ... --out FILE)")
			}
			if o.PlanFile != "" && len(args) > 0 {
				return errors.New("give either --plan or spec paths, not both: a saved plan already says what to apply")
			}
			// "apply plan.json", as Terraform takes a saved plan.
			if p, ok := savedPlanIn(args); ok {
				if len(args) > 1 {
					return fmt.Errorf("%s is a saved plan: apply it alone (arsync apply --plan %s), not with spec paths", p, shellQuote(p))
				}
				fmt.Fprintf(o.IO.ErrOut, "%s is a plan saved by arsync plan --out: applying it as with --plan %s\n", p, shellQuote(p))
				o.PlanFile, o.Paths = p, nil
				if o.Target.set() {
					return errors.New("give either a saved plan or --target: a saved plan already records its targets (plan --target ... --out FILE)")
				}
			}
			if runF != nil {
				return runF(o)
			}
			return runApply(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&o.AutoApprove, "auto-approve", false, "apply without asking for confirmation")
	fl.BoolVar(&o.AllowDelete, "allow-delete", false, "allow deleting definitions (and younger duplicates of a managed one)")
	fl.BoolVar(&o.AllowReplace, "allow-replace", false, "allow replacing definitions whose scope or other fixed fields changed")
	fl.BoolVar(&o.Force, "force", false, "allow changing more than maxChangePercent of the managed definitions")
	fl.StringVar(&o.PlanFile, "plan", "", "apply the plan saved in `FILE` by plan --out")
	addTargetFlags(cmd, f, &o.Target)
	addSignInFlags(cmd, f.Globals)
	_ = cmd.RegisterFlagCompletionFunc("plan", completeSpecPaths("json"))
	return cmd
}

func runApply(ctx context.Context, o *ApplyOptions) error {
	s := o.IO
	cfg, err := o.Config()
	if err != nil {
		return err
	}
	opts := apply.Options{
		AllowDelete:      o.AllowDelete || cfg.AllowDelete,
		AllowReplace:     o.AllowReplace || cfg.AllowReplace,
		Force:            o.Force,
		MaxChangePercent: cfg.MaxChangePercent,
		Progress:         s.ErrOut,
	}

	var p *diff.Plan
	var sess *session
	if o.PlanFile != "" {
		if p, err = readPlanFile(o.PlanFile); err != nil {
			return err
		}
		// Gates first: a refused plan needs no sign-in.
		if err := apply.CheckGates(p, opts); err != nil {
			return err
		}
		if err := checkPlanEmulator(p, o.Emulator); err != nil {
			return err
		}
		if sess, err = o.Connect(ctx, cfg); err != nil {
			return err
		}
		defer sess.Close()
		if err := checkSignIn(sess, "apply"); err != nil {
			return err
		}
		if err := apply.CheckStale(ctx, sess.Client, p, sess.TenantID, sess.Endpoint); err != nil {
			return err
		}
		if err := renderPlanText(s, p); err != nil {
			return err
		}
	} else {
		targets, err := o.Target.names()
		if err != nil {
			return err
		}
		// Validate before signing in: bad input never costs a Graph call.
		specs, err := loadSpecs(ctx, s, cfg.SpecPaths(o.Paths))
		if err != nil {
			return err
		}
		if sess, err = o.Connect(ctx, cfg); err != nil {
			return err
		}
		defer sess.Close()
		if err := checkSignIn(sess, "apply"); err != nil {
			return err
		}
		if p, err = makePlan(ctx, sess, specs, opts.AllowDelete, targets); err != nil {
			return err
		}
		if err := renderPlanText(s, p); err != nil {
			return err
		}
		if !p.HasChanges() {
			return nil
		}
		if err := apply.CheckGates(p, opts); err != nil {
			return err
		}
		if !o.AutoApprove {
			if err := confirm(ctx, s); err != nil {
				return err
			}
		}
	}

	rep, err := apply.Apply(ctx, sess.Client, p, opts)
	if rep != nil {
		fmt.Fprintln(s.Out)
		if werr := rep.Write(s.Out); werr != nil && err == nil {
			err = werr
		}
	}
	var inc *apply.IncompleteError
	if errors.As(err, &inc) {
		msg := inc.Error()
		if errors.Is(err, context.Canceled) {
			msg = "interrupted: " + msg + "; run apply again to finish"
		}
		return &exitCodeError{code: exitError, msg: msg}
	}
	return err
}

// checkPlanEmulator refuses, before signing in, a plan made against the
// emulator applied elsewhere and the other way round: the sign-in would
// fail, or the plan's endpoint would not match, with a less useful word.
func checkPlanEmulator(p *diff.Plan, emulator bool) error {
	madeOnEmulator := p.GraphEndpoint == emulatorEndpoint
	switch {
	case madeOnEmulator && !emulator:
		return errors.New("this plan was made against the emulator; apply it with --emulator, or run arsync plan against the tenant")
	case !madeOnEmulator && emulator:
		return fmt.Errorf("this plan was made for endpoint %s, not the emulator; apply it without --emulator, or run arsync plan --emulator", p.GraphEndpoint)
	}
	return nil
}

// readPlanFile reads a plan saved by plan --out.
func readPlanFile(path string) (*diff.Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the saved plan: %w", err)
	}
	defer f.Close()
	p, err := diff.ReadPlan(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// errNotConfirmed ends an apply that was not approved; nothing was written.
var errNotConfirmed = errors.New("apply cancelled: nothing was written")

// confirm asks for "yes" on a terminal. Anywhere else (CI, a pipe) there is
// nobody to ask, so --auto-approve is required. Ctrl-C at the prompt
// cancels.
func confirm(ctx context.Context, s *streams) error {
	if !isTerminal(s.In) {
		return errors.New("refusing to apply without confirmation: standard input is not a terminal; review the plan and run again with --auto-approve (nothing was written)")
	}
	fmt.Fprint(s.ErrOut, "\nDo you want to make these changes? Only 'yes' will be accepted: ")
	type answer struct {
		text string
		err  error
	}
	ch := make(chan answer, 1)
	go func() {
		text, err := bufio.NewReader(s.In).ReadString('\n')
		ch <- answer{text, err}
	}()
	select {
	case <-ctx.Done():
		fmt.Fprintln(s.ErrOut)
		return errNotConfirmed
	case a := <-ch:
		if a.err != nil && !errors.Is(a.err, io.EOF) {
			return fmt.Errorf("reading the answer: %w", a.err)
		}
		if strings.TrimSpace(a.text) != "yes" {
			return errNotConfirmed
		}
		return nil
	}
}

// isTerminal reports whether r is a terminal. A character device is not
// enough: /dev/null is one, and a CI job's stdin often is /dev/null.
// A reader may also say so itself (tests stand in for a terminal that way).
func isTerminal(r io.Reader) bool {
	if t, ok := r.(interface{ IsTerminal() bool }); ok {
		return t.IsTerminal()
	}
	f, ok := r.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}
