package apply

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/golden"
	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/graph"
)

// applyAll applies desired from scratch and checks it converged.
func applyAll(t *testing.T, e *env, desired []diff.Desired) {
	t.Helper()
	rep, err := Apply(context.Background(), e.client, e.plan(desired, false), e.opts())
	require.NoError(t, err)
	require.True(t, rep.OK())
	e.requireConverged(desired)
}

func TestApplyCreatesAndConverges(t *testing.T) {
	e := newEnv(t)
	desired := defs(5)
	p := e.plan(desired, false)
	require.Equal(t, diff.Summary{Create: 5}, p.Summary)

	var progress bytes.Buffer
	rep, err := Apply(context.Background(), e.client, p, e.opts(func(o *Options) { o.Progress = &progress }))
	require.NoError(t, err)
	require.Len(t, rep.Results, 5)
	ids := map[string]bool{}
	for _, r := range rep.Results {
		require.Equal(t, Done, r.Outcome, r.Change.Name)
		require.NotEmpty(t, r.NewID)
		ids[r.NewID] = true
	}
	require.Len(t, ids, 5, "five distinct definitions")
	require.Len(t, lines(progress.String()), 5)
	e.requireConverged(desired)

	// Nothing to do the second time: no writes at all.
	e.srv.ResetRequests()
	rep, err = Apply(context.Background(), e.client, e.plan(desired, false), e.opts())
	require.NoError(t, err)
	require.Empty(t, rep.Results)
	require.Zero(t, e.writes())
}

func TestApplyOneEditIsOneUpdate(t *testing.T) {
	e := newEnv(t)
	desired := defs(5)
	applyAll(t, e, desired)

	desired[2] = def(2, withDuration(14))
	p := e.plan(desired, false)
	require.Equal(t, diff.Summary{Update: 1, NoOp: 4}, p.Summary)

	e.srv.ResetRequests()
	rep, err := Apply(context.Background(), e.client, p, e.opts())
	require.NoError(t, err)
	require.Len(t, rep.Results, 1)
	require.Equal(t, Done, rep.Results[0].Outcome)
	var puts []string
	for _, r := range e.srv.Requests() {
		if r.Method != http.MethodGet {
			puts = append(puts, r.Method+" "+r.Path)
		}
	}
	require.Equal(t, []string{http.MethodPut + " /v1.0/identityGovernance/accessReviews/definitions/" + p.Changes[2].ID}, puts)
	e.requireConverged(desired)
}

func TestApplyDeleteNeedsAllowDelete(t *testing.T) {
	e := newEnv(t)
	desired := defs(5)
	applyAll(t, e, desired)

	desired = desired[:4]
	p := e.plan(desired, false)
	require.Equal(t, diff.Summary{Delete: 1, NoOp: 4}, p.Summary)

	e.srv.ResetRequests()
	rep, err := Apply(context.Background(), e.client, p, e.opts())
	require.Nil(t, rep)
	var ge *GateError
	require.ErrorAs(t, err, &ge)
	require.Equal(t, GateDelete, ge.Gate)
	require.Equal(t, []string{"review-004"}, ge.Names)
	require.Contains(t, err.Error(), "--allow-delete")
	require.Empty(t, e.srv.Requests(), "refused before any request")

	rep, err = Apply(context.Background(), e.client, p, e.opts(func(o *Options) { o.AllowDelete = true }))
	require.NoError(t, err)
	require.Equal(t, 1, rep.Count(Done))
	e.requireConverged(desired)
	require.Len(t, e.stored(), 4)
}

func TestApplyReplaceNeedsAllowReplace(t *testing.T) {
	e := newEnv(t)
	desired := defs(5)
	applyAll(t, e, desired)

	desired[1] = def(1, withScopeGroup(groupIDs[0]))
	p := e.plan(desired, false)
	require.Equal(t, diff.Summary{Replace: 1, NoOp: 4}, p.Summary)
	oldID := p.Changes[1].ID

	e.srv.ResetRequests()
	_, err := Apply(context.Background(), e.client, p, e.opts(func(o *Options) { o.AllowDelete = true }))
	var ge *GateError
	require.ErrorAs(t, err, &ge)
	require.Equal(t, GateReplace, ge.Gate)
	require.Contains(t, err.Error(), "--allow-replace")
	require.Empty(t, e.srv.Requests(), "refused before any request")

	var progress bytes.Buffer
	rep, err := Apply(context.Background(), e.client, p, e.opts(func(o *Options) {
		o.AllowReplace = true
		o.Progress = &progress
	}))
	require.NoError(t, err)
	require.Len(t, rep.Results, 1)
	res := rep.Results[0]
	require.Equal(t, Done, res.Outcome)
	require.NotEmpty(t, res.NewID)
	require.NotEqual(t, oldID, res.NewID)
	require.Contains(t, progress.String(), "warning: replacing review-001 deletes definition "+oldID)
	require.Contains(t, progress.String(), "review history")
	e.requireConverged(desired)
}

func TestApplyChangeLimitNeedsForce(t *testing.T) {
	e := newEnv(t)
	desired := defs(12)
	applyAll(t, e, desired)
	for i := range 4 { // 4 of 12 is 33%, above the default 30%
		desired[i] = def(i, withDuration(10+i))
	}
	p := e.plan(desired, false)
	e.srv.ResetRequests()
	_, err := Apply(context.Background(), e.client, p, e.opts())
	var ge *GateError
	require.ErrorAs(t, err, &ge)
	require.Equal(t, GateLimit, ge.Gate)
	require.Equal(t, "refusing to update, replace or delete 4 of 12 managed definitions (33%, more than the 30% limit) without --force (maxChangePercent in arsync.yaml sets the limit)", ge.Error())
	require.Zero(t, e.writes())

	rep, err := Apply(context.Background(), e.client, p, e.opts(func(o *Options) { o.Force = true }))
	require.NoError(t, err)
	require.Equal(t, 4, rep.Count(Done))
	e.requireConverged(desired)
}

// TestApplyOrder: creates, then updates, then replaces and deletes, each
// phase finished before the next starts, whatever the concurrency.
func TestApplyOrder(t *testing.T) {
	e := newEnv(t)
	desired := defs(6)
	applyAll(t, e, desired)
	desired[0] = def(0, withDuration(20))                 // update
	desired[1] = def(1, withScopeGroup(groupIDs[2]))      // replace (1 % 3 is Sales)
	desired = append(desired[:5], def(7), def(8), def(9)) // delete 5, create 7-9
	p := e.plan(desired, false)
	require.Equal(t, diff.Summary{Create: 3, Update: 1, Replace: 1, Delete: 1, NoOp: 3}, p.Summary)

	e.srv.ResetRequests()
	rep, err := Apply(context.Background(), e.client, p, e.opts(func(o *Options) {
		o.AllowDelete, o.AllowReplace, o.Force = true, true, true
		o.Concurrency = 8
	}))
	require.NoError(t, err)
	var got []string
	for _, r := range rep.Results {
		got = append(got, string(r.Change.Action)+" "+r.Change.Name)
	}
	require.Equal(t, []string{
		"create review-007", "create review-008", "create review-009",
		"update review-000",
		"replace review-001", "delete review-005",
	}, got)

	// The requests themselves: every POST of a create before the PUT,
	// the PUT before any DELETE.
	var methods []string
	for _, r := range e.srv.Requests() {
		if r.Method != http.MethodGet {
			methods = append(methods, r.Method)
		}
	}
	require.Len(t, methods, 7)
	require.Equal(t, []string{"POST", "POST", "POST", "PUT"}, methods[:4])
	require.ElementsMatch(t, []string{"DELETE", "DELETE", "POST"}, methods[4:])
	e.requireConverged(desired)
}

// TestApplyFailureDoesNotHideOthers: one update fails with a 500 (not
// retried: apply adds no blind retries); the others are still done, the
// report says which failed, and the error is an *IncompleteError.
func TestApplyFailureDoesNotHideOthers(t *testing.T) {
	e := newEnv(t)
	desired := defs(5)
	applyAll(t, e, desired)
	for i := range desired {
		desired[i] = def(i, withDuration(9))
	}
	p := e.plan(desired, false)
	e.withFaults(&emulator.Faults{Rules: failPuts(e.markedIDs("review-001")[0])})

	rep, err := Apply(context.Background(), e.client, p, e.opts(func(o *Options) {
		o.Force = true
		o.Concurrency = 1
	}))
	var inc *IncompleteError
	require.ErrorAs(t, err, &inc)
	require.Equal(t, IncompleteError{Total: 5, Done: 4, Failed: 1}, *inc)
	require.False(t, errors.Is(err, context.Canceled))
	require.Equal(t, Failed, rep.Results[1].Outcome)
	require.Contains(t, rep.Results[1].Err.Error(), "500")
	puts := 0
	for _, r := range e.srv.Requests() {
		if r.Method == http.MethodPut {
			puts++
		}
	}
	require.Equal(t, 4+3, puts, "the failed PUT was sent 3 times, the client's bound for a 500")

	// The next run fixes what failed.
	e.withFaults(nil)
	rep, err = Apply(context.Background(), e.client, e.plan(desired, false), e.opts())
	require.NoError(t, err)
	require.Len(t, rep.Results, 1)
	e.requireConverged(desired)
}

// TestApplyUnknownOutcomeCreates covers the uncertain-create protocol
// against the emulator: a create whose answer is lost is looked for by its
// marker and never sent twice when it was carried out. One sent again
// after the whole look-up window is done, but flagged: had the first POST
// been carried out and stayed unlisted, it would have left a duplicate.
func TestApplyUnknownOutcomeCreates(t *testing.T) {
	tests := []struct {
		name   string
		faults emulator.Faults
		// posts is how many POSTs reach the emulator for 3 creates.
		posts int
		note  string
		// sentAgain: one create was sent again, so the run needs a
		// follow-up.
		sentAgain bool
		// minWait is the least virtual time the look-ups must wait.
		minWait time.Duration
	}{
		{
			name:   "commit then 504",
			faults: emulator.Faults{Rules: []emulator.FaultRule{{Kind: emulator.FaultCommitThenFail, Method: http.MethodPost, Nth: 2}}},
			posts:  3, note: "carries the marker and was adopted",
		},
		{
			name:   "commit then dropped connection",
			faults: emulator.Faults{Rules: []emulator.FaultRule{{Kind: emulator.FaultCommitThenDrop, Method: http.MethodPost, Nth: 1}}},
			posts:  3, note: "carries the marker and was adopted",
		},
		{
			name: "commit then 504, hidden by read-after-create lag",
			faults: emulator.Faults{
				ReadAfterCreateLag: 40 * time.Second,
				Rules:              []emulator.FaultRule{{Kind: emulator.FaultCommitThenFail, Method: http.MethodPost, Nth: 3}},
			},
			posts: 3, note: "carries the marker and was adopted", minWait: 40 * time.Second,
		},
		{
			name:   "500 before commit",
			faults: emulator.Faults{Rules: []emulator.FaultRule{{Kind: emulator.Fault500, Method: http.MethodPost, Nth: 2}}},
			posts:  4, note: "no definition carried the marker after 2m0s; sent again; a duplicate may appear", minWait: 2 * time.Minute,
			sentAgain: true,
		},
		{
			name:   "connection reset before commit",
			faults: emulator.Faults{Rules: []emulator.FaultRule{{Kind: emulator.FaultDrop, Method: http.MethodPost, Nth: 1}}},
			posts:  4, note: "sent again", minWait: 2 * time.Minute, sentAgain: true,
		},
		{
			name:   "503 on a create",
			faults: emulator.Faults{Rules: []emulator.FaultRule{{Kind: emulator.Fault503, Method: http.MethodPost, Nth: 1}}},
			posts:  4, note: "sent again", minWait: 2 * time.Minute, sentAgain: true,
		},
		{
			name:   "429 is retried by the client, after Retry-After",
			faults: emulator.Faults{RetryAfter: 3 * time.Second, Rules: []emulator.FaultRule{{Kind: emulator.Fault429, Method: http.MethodPost, Nth: 2}}},
			posts:  4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			desired := defs(3)
			p := e.plan(desired, false)
			f := tt.faults
			e.withFaults(&f)
			t0 := e.clock.Now()

			rep, err := Apply(context.Background(), e.client, p, e.opts())
			if tt.sentAgain {
				var inc *IncompleteError
				require.ErrorAs(t, err, &inc)
				require.Equal(t, IncompleteError{Total: 3, Done: 3, MayDuplicate: 1}, *inc)
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, 3, rep.Count(Done))
			posts := 0
			for _, r := range e.srv.Requests() {
				if r.Method == http.MethodPost {
					posts++
				}
			}
			require.Equal(t, tt.posts, posts)
			var notes []string
			for _, r := range rep.Results {
				notes = append(notes, r.Notes...)
			}
			if tt.note == "" {
				require.Empty(t, notes)
			} else {
				require.Len(t, notes, 1)
				require.Contains(t, notes[0], tt.note)
			}
			require.GreaterOrEqual(t, e.clock.Now().Sub(t0), tt.minWait)
			require.Zero(t, e.srv.RetryAfterViolations())
			e.clock.Advance(time.Minute) // past any lag
			e.requireConverged(desired)
			require.Len(t, e.stored(), 3, "no duplicates")
		})
	}
}

// TestApplyDuplicatesFromACrashedRun: two live definitions carry one
// marker. Without --allow-delete the plan stops with the report; with it,
// the younger one is deleted and the older kept.
func TestApplyDuplicatesFromACrashedRun(t *testing.T) {
	e := newEnv(t)
	desired := defs(3)
	applyAll(t, e, desired)
	keep := e.plan(desired, false).Changes[1].ID
	e.clock.Advance(time.Hour)
	younger := e.seed(desired[1].Definition, desired[1].Name)

	_, err := diff.Compute(desired, e.live(), diff.Options{})
	var dup *diff.DuplicateMarkerError
	require.ErrorAs(t, err, &dup)
	require.Equal(t, "review-001", dup.Name)

	p := e.plan(desired, true)
	require.Equal(t, diff.Summary{Delete: 1, NoOp: 3}, p.Summary)
	_, err = Apply(context.Background(), e.client, p, e.opts())
	require.ErrorAs(t, err, new(*GateError))

	rep, err := Apply(context.Background(), e.client, p, e.opts(func(o *Options) { o.AllowDelete = true }))
	require.NoError(t, err)
	require.Equal(t, younger, rep.Results[0].Change.ID)
	e.requireConverged(desired)
	var ids []string
	for _, d := range e.stored() {
		ids = append(ids, d.ID)
	}
	require.Contains(t, ids, keep)
	require.NotContains(t, ids, younger)
}

// cancelingClient cancels the run's context when the Nth write starts,
// and lets that write finish.
type cancelingClient struct {
	Client
	n      int
	writes int
	cancel context.CancelFunc
}

func (c *cancelingClient) write(ctx context.Context) {
	c.writes++
	if c.writes == c.n {
		c.cancel()
	}
	// The request in flight runs on a context Ctrl-C does not end.
	if ctx.Err() != nil {
		panic("the request in flight was cut off")
	}
}

func (c *cancelingClient) CreateDefinition(ctx context.Context, d *graph.Definition) (*graph.Definition, error) {
	c.write(ctx)
	return c.Client.CreateDefinition(ctx, d)
}

func (c *cancelingClient) UpdateDefinition(ctx context.Context, id string, d *graph.Definition) error {
	c.write(ctx)
	return c.Client.UpdateDefinition(ctx, id, d)
}

func (c *cancelingClient) DeleteDefinition(ctx context.Context, id string) error {
	c.write(ctx)
	return c.Client.DeleteDefinition(ctx, id)
}

// TestApplyCtrlC: cancellation during the third write. That write is
// finished; nothing more is sent; the report says what was done.
func TestApplyCtrlC(t *testing.T) {
	e := newEnv(t)
	desired := defs(6)
	p := e.plan(desired, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cc := &cancelingClient{Client: e.client, n: 3, cancel: cancel}

	var progress bytes.Buffer
	rep, err := Apply(ctx, cc, p, e.opts(func(o *Options) {
		o.Concurrency = 1
		o.Progress = &progress
	}))
	var inc *IncompleteError
	require.ErrorAs(t, err, &inc)
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, IncompleteError{Total: 6, Done: 3, NotStarted: 3, Cause: context.Canceled}, *inc)
	var outcomes []Outcome
	for _, r := range rep.Results {
		outcomes = append(outcomes, r.Outcome)
	}
	require.Equal(t, []Outcome{Done, Done, Done, NotStarted, NotStarted, NotStarted}, outcomes)
	require.Equal(t, 3, cc.writes)
	require.Len(t, e.stored(), 3, "the write in flight was carried out, nothing after it")
	require.Len(t, lines(progress.String()), 3)

	var out bytes.Buffer
	require.NoError(t, rep.Write(&out))
	require.True(t, strings.HasPrefix(out.String(), "Apply incomplete: 3 done, 3 not started (of 6 changes).\n"), out.String())

	// Running again finishes the job.
	rep, err = Apply(context.Background(), e.client, e.plan(desired, false), e.opts())
	require.NoError(t, err)
	require.Equal(t, 3, rep.Count(Done))
	e.requireConverged(desired)
}

// TestApplyCanceledBeforeStart: a context already cancelled starts nothing.
func TestApplyCanceledBeforeStart(t *testing.T) {
	e := newEnv(t)
	p := e.plan(defs(2), false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep, err := Apply(ctx, e.client, p, e.opts())
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, 2, rep.Count(NotStarted))
	require.Zero(t, e.writes())
}

// TestApplyProgressAndReport pins the progress lines and the final report
// of a run with every action and one failure.
func TestApplyProgressAndReport(t *testing.T) {
	e := newEnv(t)
	desired := defs(4)
	applyAll(t, e, desired)
	desired[0] = def(0, withDuration(21))
	desired[1] = def(1, withScopeGroup(groupIDs[0]))
	desired[2] = def(2, withDuration(22))
	desired = append(desired[:3], def(5))
	p := e.plan(desired, false)
	e.withFaults(&emulator.Faults{Rules: failPuts(e.markedIDs("review-002")[0])})

	var progress bytes.Buffer
	clockStep := &steppingClock{c: e.clock, step: 1200 * time.Millisecond}
	rep, err := Apply(context.Background(), e.client, p, e.opts(func(o *Options) {
		o.AllowDelete, o.AllowReplace = true, true
		o.Concurrency = 1
		o.Progress = &progress
		o.Now = clockStep.Now
	}))
	require.ErrorAs(t, err, new(*IncompleteError))
	var report bytes.Buffer
	require.NoError(t, rep.Write(&report))
	// The emulator's port changes from run to run.
	scrub := func(s string) string { return strings.ReplaceAll(s, e.run.URL, "http://emulator/v1.0") }
	golden.Assert(t, "testdata/progress.txt", []byte(scrub(progress.String())))
	golden.Assert(t, "testdata/report.txt", []byte(scrub(report.String())))
}

// failPuts answers every PUT to definition id with 500, so that the
// client gives up on it after its retries.
func failPuts(id string) []emulator.FaultRule {
	return []emulator.FaultRule{{Kind: emulator.Fault500, Method: http.MethodPut, Path: "/identityGovernance/accessReviews/definitions/" + id}}
}

// steppingClock moves the fake clock a fixed step on every reading, so
// durations in progress lines are deterministic and not zero.
type steppingClock struct {
	c    *fakeClock
	step time.Duration
}

func (s *steppingClock) Now() time.Time {
	s.c.Advance(s.step)
	return s.c.Now()
}
