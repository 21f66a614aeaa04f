package main

import (
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

type emulatorCtlOptions struct {
	state  string
	tenant string
}

func (o *emulatorCtlOptions) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.state, "state", emulatorStateFile, "the emulator's state `file` (the one --emulator uses by default)")
	f.StringVar(&o.tenant, "tenant", "", "directory seed, a YAML tenant `file` (default: "+emulatorTenantFile+" when present, else the built-in demo tenant)")
}

func (o *emulatorCtlOptions) open() (*emulator.Server, error) {
	return emuctl.Open(o.state, o.tenant, emulatorTenantFile)
}

// emulatorControlCmds are the emulator command's subcommands.
func emulatorControlCmds(s *streams) []*cobra.Command {
	return []*cobra.Command{newEmulatorAdvanceCmd(s), newEmulatorDecideCmd(s), newEmulatorNowCmd(s)}
}

func newEmulatorAdvanceCmd(s *streams) *cobra.Command {
	o := &emulatorCtlOptions{}
	var to string
	cmd := &cobra.Command{
		Use:   "advance [DURATION]",
		Short: "Move the emulator's clock forward and run the reviews up to then",
		Long: `Advance moves the emulator's clock forward by DURATION (30d, 2w, 12h, 90m)
or to --to TIME, and carries out everything due on the way, in order:
review instances start and end, default decisions are taken, and decisions
are applied to the directory (denied guests leave their groups). It prints
what happened. The clock is kept in the state file, so the next --emulator
run sees the new time.`,
		Example: `  arsync apply --emulator --auto-approve examples/reviews
  arsync emulator advance 45d       # the quarterly reviews start
  arsync status --emulator
  arsync emulator advance --to 2027-02-01`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if (len(args) == 1) == (to != "") {
				return fmt.Errorf("give either a DURATION or --to TIME")
			}
			var step time.Duration
			var target time.Time
			var err error
			if len(args) == 1 {
				if step, err = emuctl.ParseStep(args[0]); err != nil {
					return err
				}
			} else if target, err = emuctl.ParseTime(to); err != nil {
				return fmt.Errorf("--to: %w", err)
			}
			srv, err := o.open()
			if err != nil {
				return err
			}
			var events []emulator.LifecycleEvent
			if len(args) == 1 {
				events, err = srv.Advance(step)
			} else {
				events, err = srv.SetNow(target)
			}
			for _, e := range events {
				fmt.Fprintln(s.Out, e.String())
			}
			if err != nil {
				return err
			}
			if len(events) == 0 {
				fmt.Fprintln(s.Out, "Nothing was due.")
			}
			fmt.Fprintf(s.ErrOut, "The emulator's time is now %s.\n", srv.Now().UTC().Format(time.RFC3339))
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "move the clock to `TIME` (RFC 3339 or a date) instead")
	o.flags(cmd)
	return cmd
}

func newEmulatorDecideCmd(s *streams) *cobra.Command {
	o := &emulatorCtlOptions{}
	in := emulator.DecisionInput{}
	var review string
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
			if review == "" || in.Principal == "" || in.Decision == "" {
				return fmt.Errorf("--review, --principal and --decision are required")
			}
			dec, err := report.CanonicalDecision(in.Decision)
			if err != nil {
				return fmt.Errorf("--decision: %w", err)
			}
			in.Decision = dec
			srv, err := o.open()
			if err != nil {
				return err
			}
			id, name, err := emuctl.FindReview(srv, review)
			if err != nil {
				return err
			}
			in.DefinitionID = id
			n, err := srv.RecordDecision(in)
			if n > 0 {
				fmt.Fprintf(s.Out, "Recorded %s for %s on %d item(s) of %q.\n", in.Decision, in.Principal, n, name)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&review, "review", "", "the review: its arsync `NAME`, id or displayName")
	f.StringVar(&in.Principal, "principal", "", "the reviewed user or service principal: `UPN` or id")
	f.StringVar(&in.Decision, "decision", "", "Approve, Deny, DontKnow or NotReviewed")
	f.StringVar(&in.Justification, "justification", "", "the reviewer's reason")
	f.StringVar(&in.Reviewer, "reviewer", "", "who decides: a reviewer's `UPN` or id (default: the item's first reviewer)")
	f.StringVar(&in.Resource, "resource", "", "only the items for this group, application or role (`NAME` or id)")
	f.StringVar(&in.InstanceID, "instance", "", "only this instance `ID`")
	o.flags(cmd)
	return cmd
}

func newEmulatorNowCmd(s *streams) *cobra.Command {
	o := &emulatorCtlOptions{}
	cmd := &cobra.Command{
		Use:   "now",
		Short: "Print the emulator's current time",
		Args:  cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			srv, err := o.open()
			if err != nil {
				return err
			}
			fmt.Fprintln(s.Out, srv.Now().UTC().Format(time.RFC3339))
			return nil
		},
	}
	o.flags(cmd)
	return cmd
}
