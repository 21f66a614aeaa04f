package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/arsync/arsync/internal/emuctl"
	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/report"
)

// The emulator's controls: "arsync emulator advance|decide|now" work on a
// state file (by default the one --emulator uses), so a demo or a test can
// move the review lifecycle along between arsync runs.

// EmulatorStateOptions pick the emulator a control works on.
type EmulatorStateOptions struct {
	State  string
	Tenant string
}

func (o *EmulatorStateOptions) flags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&o.State, "state", emulatorStateFile, "the emulator's state `file` (the one --emulator uses by default)")
	fl.StringVar(&o.Tenant, "tenant", "", "directory seed, a YAML tenant `file` (default: "+emulatorTenantFile+" when present, else the built-in demo tenant)")
}

// open opens the emulator on the state file, holding its lock until
// closeEmulator.
func (o *EmulatorStateOptions) open() (*emulator.Server, error) {
	return emuctl.Open(o.State, o.Tenant, emulatorTenantFile)
}

// closeEmulator closes srv, releasing the state file's lock, and adds a
// failure to do so to *err.
func closeEmulator(srv *emulator.Server, err *error) {
	*err = errors.Join(*err, srv.Close())
}

// EmulatorAdvanceOptions are "emulator advance"'s flags and argument: Step
// (from DURATION) or To (from --to), never both.
type EmulatorAdvanceOptions struct {
	IO *streams
	EmulatorStateOptions

	Step time.Duration
	To   *time.Time
	// ReviewersDecide: simulated reviewers decide on the way
	// (emulator.Server.SetReviewersDecide).
	ReviewersDecide bool
}

// NewCmdEmulatorAdvance is "arsync emulator advance". With a non-nil runF
// the command calls it with the parsed options instead of moving the clock.
func NewCmdEmulatorAdvance(f *Factory, runF func(*EmulatorAdvanceOptions) error) *cobra.Command {
	o := &EmulatorAdvanceOptions{IO: f.IO}
	var to string
	cmd := &cobra.Command{
		Use:   "advance [DURATION]",
		Short: "Move the emulator's clock forward and run the reviews up to then",
		Long: `Advance moves the emulator's clock forward by DURATION (30d, 2w, 12h, 90m)
or to --to TIME, and carries out everything due on the way, in order:
review instances start and end, default decisions are taken, and decisions
are applied to the directory (denied guests leave their groups). It prints
what happened. The clock is kept in the state file, so the next --emulator
run sees the new time.

With --reviewers-decide, the reviewers of running instances decide on the
way, each item at its own moment of the instance: most are approved, some
denied, a few "don't know", and about a quarter are never reviewed. The
outcomes follow from the instances' and items' ids, so they repeat with the
same state.`,
		Example: `  arsync apply --emulator --auto-approve examples/reviews
  arsync emulator advance 45d       # the quarterly reviews start
  arsync status --emulator
  arsync emulator advance --to 2027-02-01
  arsync emulator advance 365d --reviewers-decide   # a year of decisions`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if (len(args) == 1) == (to != "") {
				return errors.New("give either a DURATION or --to TIME")
			}
			if len(args) == 1 {
				var err error
				if o.Step, err = emuctl.ParseStep(args[0]); err != nil {
					return err
				}
			} else {
				t, err := emuctl.ParseTime(to)
				if err != nil {
					return fmt.Errorf("--to: %w", err)
				}
				o.To = &t
			}
			if runF != nil {
				return runF(o)
			}
			return runEmulatorAdvance(o)
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "move the clock to `TIME` (RFC 3339 or a date) instead")
	cmd.Flags().BoolVar(&o.ReviewersDecide, "reviewers-decide", false, "simulated reviewers decide the running reviews' items on the way")
	o.flags(cmd)
	return cmd
}

func runEmulatorAdvance(o *EmulatorAdvanceOptions) (err error) {
	srv, err := o.open()
	if err != nil {
		return err
	}
	defer closeEmulator(srv, &err)
	srv.SetReviewersDecide(o.ReviewersDecide)
	var events []emulator.LifecycleEvent
	if o.To != nil {
		events, err = srv.SetNow(*o.To)
	} else {
		events, err = srv.Advance(o.Step)
	}
	for _, e := range events {
		fmt.Fprintln(o.IO.Out, e.String())
	}
	if err != nil {
		return err
	}
	if len(events) == 0 {
		fmt.Fprintln(o.IO.Out, "Nothing was due.")
	}
	fmt.Fprintf(o.IO.ErrOut, "The emulator's time is now %s.\n", srv.Now().UTC().Format(time.RFC3339))
	return nil
}

// EmulatorDecideOptions are "emulator decide"'s flags: the review and the
// decision to record (Input.Decision canonical, e.g. "Approve").
type EmulatorDecideOptions struct {
	IO *streams
	EmulatorStateOptions

	Review string
	Input  emulator.DecisionInput
}

// NewCmdEmulatorDecide is "arsync emulator decide". With a non-nil runF
// the command calls it with the parsed options instead of recording.
func NewCmdEmulatorDecide(f *Factory, runF func(*EmulatorDecideOptions) error) *cobra.Command {
	o := &EmulatorDecideOptions{IO: f.IO}
	in := &o.Input
	cmd := &cobra.Command{
		Use:   "decide --review NAME|ID --principal UPN|ID --decision Approve|Deny|DontKnow|NotReviewed",
		Short: "Record a reviewer's decision in the emulator",
		Long: `Decide records a decision as a reviewer would in the My Access portal, on
the principal's items in the review's running instances (every group's, or
only --resource's). The reviewer is --reviewer, who must be one of the
item's reviewers, else the item's first reviewer. The review's rules apply:
a justification when justificationRequiredOnApproval is set, and only while
the instance is InProgress.`,
		Example: `  arsync emulator decide --review guests-m365-quarterly \
    --principal 'sam_fabrikam.com#EXT#@contoso.onmicrosoft.com' \
    --decision Approve --justification 'Agency contract runs to 2027'`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if o.Review == "" || in.Principal == "" || in.Decision == "" {
				return errors.New("--review, --principal and --decision are required")
			}
			dec, err := report.CanonicalDecision(in.Decision)
			if err != nil {
				return fmt.Errorf("--decision: %w", err)
			}
			in.Decision = dec
			if runF != nil {
				return runF(o)
			}
			return runEmulatorDecide(o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Review, "review", "", "the review: its arsync `NAME`, id or displayName")
	fl.StringVar(&in.Principal, "principal", "", "the reviewed user or service principal: `UPN` or id")
	fl.StringVar(&in.Decision, "decision", "", "Approve, Deny, DontKnow or NotReviewed")
	fl.StringVar(&in.Justification, "justification", "", "the reviewer's reason")
	fl.StringVar(&in.Reviewer, "reviewer", "", "who decides: a reviewer's `UPN` or id (default: the item's first reviewer)")
	fl.StringVar(&in.Resource, "resource", "", "only the items for this group, application or role (`NAME` or id)")
	fl.StringVar(&in.InstanceID, "instance", "", "only this instance `ID`")
	o.flags(cmd)
	completeFlag(cmd, "decision", decisionValues...)
	_ = cmd.RegisterFlagCompletionFunc("review", completeReviewNames(f))
	return cmd
}

func runEmulatorDecide(o *EmulatorDecideOptions) (err error) {
	srv, err := o.open()
	if err != nil {
		return err
	}
	defer closeEmulator(srv, &err)
	id, name, err := emuctl.FindReview(srv, o.Review)
	if err != nil {
		return err
	}
	in := o.Input
	in.DefinitionID = id
	n, err := srv.RecordDecision(in)
	if n > 0 {
		fmt.Fprintf(o.IO.Out, "Recorded %s for %s on %d item(s) of %q.\n", in.Decision, in.Principal, n, name)
	}
	return err
}

// EmulatorNowOptions are "emulator now"'s flags.
type EmulatorNowOptions struct {
	IO *streams
	EmulatorStateOptions
}

// NewCmdEmulatorNow is "arsync emulator now". With a non-nil runF the
// command calls it with the parsed options instead of printing.
func NewCmdEmulatorNow(f *Factory, runF func(*EmulatorNowOptions) error) *cobra.Command {
	o := &EmulatorNowOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "now",
		Short: "Print the emulator's current time",
		Args:  cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) (err error) {
			if runF != nil {
				return runF(o)
			}
			srv, err := o.open()
			if err != nil {
				return err
			}
			defer closeEmulator(srv, &err)
			fmt.Fprintln(o.IO.Out, srv.Now().UTC().Format(time.RFC3339))
			return nil
		},
	}
	o.flags(cmd)
	return cmd
}
