package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/arsync/arsync/pkg/report"
	"github.com/arsync/arsync/pkg/spec"
)

// DecisionsOptions are decisions' flags and what it needs to run.
type DecisionsOptions struct {
	IO      *streams
	Config  func() (*spec.Config, error)
	Connect func(ctx context.Context, cfg *spec.Config) (*session, error)

	Review   string
	Instance string
	Decision string
	Since    string
	Stage    int
	Output   string

	Reviewer  string
	Principal string
	Resource  string
	Pending   bool
	Cursor    string
	Overlap   time.Duration
}

// NewCmdDecisions is "arsync decisions". With a non-nil runF the command
// calls it with the parsed options instead of listing.
func NewCmdDecisions(f *Factory, runF func(*DecisionsOptions) error) *cobra.Command {
	o := &DecisionsOptions{IO: f.IO, Config: f.Config, Connect: f.Connect}
	cmd := &cobra.Command{
		Use:   "decisions",
		Short: "List reviewers' decisions across review instances",
		Long: `Decisions lists every decision item of every access review instance: the
review, the resource (group, application or role), the principal (name,
userPrincipalName, guest or member), the decision and the recommendation,
who reviewed it and why, when it was reviewed and applied, and the
applyResult. Rows are written as the pages arrive from Graph, so the output
can be piped while a large tenant is still being read, in constant memory.

--review takes a managed review's name or any definition's id (unmanaged
definitions are included by default). --decision and --pending (items not
reviewed yet) are filtered by Graph. --reviewer, --principal and --resource
take an id, matched as is, or a name, matched without regard to case
against the display name and, for people, the userPrincipalName; a name
with an @ is also looked up as a UPN or mail address.

An instance's items show, for a multi-stage review, the last decision
recorded in any stage. --stage N lists instead the items of stage N of each
multi-stage instance that has reached it: the principals that went on to
that stage, with that stage's decisions and reviewers (rows carry the stage
number; single-stage reviews are left out).

--since makes scheduled collection incremental: only items whose
reviewedDateTime or appliedDateTime is strictly after the given time are
written. It takes an RFC 3339 time, a date (midnight UTC) or a duration back
from now (24h, 7d). Graph cannot filter on those times, so every item is
still read.

--cursor FILE collects without gaps or repeats: the first run writes every
item (after --since, when given) and records in FILE a watermark, the run's
start; each later run writes only the items new or changed since
(reviewed, applied, or in an instance started since), looking back
--cursor-overlap before the watermark and skipping the versions FILE says
were written. FILE is replaced, atomically, only after the whole output was
written: a run that fails leaves it as it was, and the next run writes the
failed run's items again. Once FILE exists, --since is ignored. A cursor
belongs to its filters: a run with other filters is refused.

Formats: table (for a terminal), csv (a header row, then one row per item),
json (one array) and jsonl (one object per line).`,
		Example: `  # Everything, for a spreadsheet
  arsync decisions -o csv > decisions.csv

  # What the owners denied in one review
  arsync decisions --review guests-m365-quarterly --decision Deny

  # A nightly job: what is new or changed since the last complete run
  arsync decisions --cursor decisions.cursor -o jsonl > "decisions-$(date +%F).jsonl"

  # What Bob has not reviewed yet... and what he decided about one group
  arsync decisions --pending --resource Marketing
  arsync decisions --reviewer bob@contoso.com --resource Marketing

  # What the second stage of a multi-stage review decided
  arsync decisions --review engineering-staged --stage 2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Bad flags fail before signing in.
			o.Review, o.Instance = strings.TrimSpace(o.Review), strings.TrimSpace(o.Instance)
			if o.Decision != "" {
				d, err := report.CanonicalDecision(o.Decision)
				if err != nil {
					return fmt.Errorf("--decision: %w", err)
				}
				o.Decision = d
			}
			if cmd.Flags().Changed("stage") {
				if err := report.CheckStage(o.Stage); err != nil {
					return fmt.Errorf("--stage: %w", err)
				}
			}
			if o.Pending && o.Decision != "" && o.Decision != "NotReviewed" {
				return fmt.Errorf("--pending lists NotReviewed items; it cannot be combined with --decision %s", o.Decision)
			}
			if o.Overlap <= 0 {
				return fmt.Errorf("--cursor-overlap %s: give a positive duration such as 24h", o.Overlap)
			}
			if o.Cursor != "" {
				if _, err := report.ReadCursor(o.Cursor); err != nil {
					return fmt.Errorf("--cursor: %w", err)
				}
			}
			if o.Since != "" {
				// Checked here against the machine's clock; run reads it
				// again against the session's.
				if _, err := report.ParseSince(o.Since, time.Now()); err != nil {
					return err
				}
			}
			// The writer's own check, so that the message is report's.
			if _, err := report.NewDecisionWriter(io.Discard, o.Output); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return runDecisions(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Review, "review", "", "only this review: a managed review's `NAME` or a definition id")
	fl.StringVar(&o.Instance, "instance", "", "only this instance `ID`")
	fl.StringVar(&o.Decision, "decision", "", "only this decision: Approve, Deny, NotReviewed or DontKnow")
	fl.StringVar(&o.Since, "since", "", "only items reviewed or applied after `TIME` (RFC 3339, a date, or a duration such as 24h or 7d)")
	fl.IntVar(&o.Stage, "stage", 0, "only the items of stage `N` (1 to 3) of multi-stage reviews, with that stage's decisions")
	fl.StringVar(&o.Reviewer, "reviewer", "", "only items reviewed by this user: a `NAME`, UPN or id")
	fl.StringVar(&o.Principal, "principal", "", "only items about this principal: a `NAME`, UPN or id")
	fl.StringVar(&o.Resource, "resource", "", "only items about this group, application or role: a `NAME` or id")
	fl.BoolVar(&o.Pending, "pending", false, "only items not reviewed yet (NotReviewed)")
	fl.StringVar(&o.Cursor, "cursor", "", "incremental collection: write only what is new or changed since the run that wrote `FILE`, then update it")
	fl.DurationVar(&o.Overlap, "cursor-overlap", report.DefaultCursorOverlap, "how far before the cursor's watermark to look again for late items")
	fl.StringVarP(&o.Output, "output", "o", "table", "output format: "+strings.Join(report.DecisionFormats, ", "))
	addSignInFlags(cmd, f.Globals)
	completeFlag(cmd, "output", report.DecisionFormats...)
	completeFlag(cmd, "decision", decisionValues...)
	_ = cmd.RegisterFlagCompletionFunc("review", completeReviewNames(f))
	return cmd
}

func runDecisions(ctx context.Context, o *DecisionsOptions) error {
	s := o.IO
	q := report.DecisionQuery{Review: o.Review, Instance: o.Instance, Decision: o.Decision, Stage: o.Stage,
		Reviewer: o.Reviewer, Principal: o.Principal, Resource: o.Resource, Pending: o.Pending, Overlap: o.Overlap}
	if o.Cursor != "" {
		c, err := report.ReadCursor(o.Cursor)
		if err != nil {
			return fmt.Errorf("--cursor: %w", err)
		}
		q.Cursor = c
	}
	w, err := report.NewDecisionWriter(s.Out, o.Output)
	if err != nil {
		return err
	}
	sess, err := openSession(ctx, o.Config, o.Connect)
	if err != nil {
		return err
	}
	defer sess.Close()
	// Relative to the session's clock: the emulator's with --emulator.
	q.Now = sess.Now()
	if o.Since != "" {
		if q.Cursor.Started() {
			fmt.Fprintf(s.ErrOut, "Note: --since is ignored: the cursor %s continues from %s.\n", o.Cursor, q.Cursor.Watermark)
		} else if q.Since, err = report.ParseSince(o.Since, q.Now); err != nil {
			return err
		}
	}
	st, err := report.Decisions(ctx, sess.Client, q, w)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if errors.Is(err, report.ErrNoSuchReview) {
			return fmt.Errorf("--review: %w", err)
		}
		if errors.Is(err, report.ErrNoSuchStage) {
			return fmt.Errorf("--stage: %w", err)
		}
		if errors.Is(err, report.ErrCursorSelection) {
			return fmt.Errorf("--cursor %s: %w", o.Cursor, err)
		}
		if o.Cursor != "" {
			err = fmt.Errorf("%w; the cursor %s was left as it was: the next run writes these items again", err, o.Cursor)
		}
		return err
	}
	// Only now, the output complete: a run that failed, or was killed,
	// leaves the old cursor and the next run repeats its window.
	if st.Cursor != nil {
		if err := report.WriteCursor(o.Cursor, st.Cursor); err != nil {
			return fmt.Errorf("--cursor: %w (the output is complete; the next run writes it again)", err)
		}
	}
	fmt.Fprintf(s.ErrOut, "%d decision(s) written, of %d read in %d instance(s) of %d review(s).\n", st.Rows, st.Decisions, st.Instances, st.Definitions)
	return nil
}
