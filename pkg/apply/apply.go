package apply

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"sync"
	"time"

	"github.com/arsync/arsync/internal/clock"
	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/graph"
)

// Client is what apply needs from Graph; *graphclient.Client implements it.
// Its methods must do their own retrying of what is safe to retry and
// report a create or a delete whose outcome is unknown with an error for
// which graph.IsUnknownOutcome is true, and a missing definition with one
// for which graph.IsNotFound is true.
type Client interface {
	// GetDefinition re-reads a definition just before it is written
	// (StaleChangeError), and after a delete whose outcome is unknown.
	GetDefinition(ctx context.Context, id string) (*graph.Definition, error)
	CreateDefinition(ctx context.Context, d *graph.Definition) (*graph.Definition, error)
	UpdateDefinition(ctx context.Context, id string, d *graph.Definition) error
	DeleteDefinition(ctx context.Context, id string) error
	ListDefinitions(ctx context.Context, opts *graph.ListOptions) iter.Seq2[*graph.Definition, error]
}

// Defaults of Options.
const (
	// DefaultMaxChangePercent is the share of managed definitions that one
	// apply may update, replace or delete without Force.
	DefaultMaxChangePercent  = 30
	DefaultConcurrency       = 4
	DefaultLookupWindow      = 2 * time.Minute
	DefaultLookupInterval    = 5 * time.Second
	DefaultMaxCreateAttempts = 5
	DefaultCancelGrace       = 30 * time.Second

	// maxLookupInterval caps the doubling wait between marker look-ups.
	maxLookupInterval = 30 * time.Second
)

// Options control Apply. The zero value is usable: no deletes, no
// replaces, the default change limit, output discarded.
type Options struct {
	// AllowDelete permits delete changes (--allow-delete, allowDelete).
	AllowDelete bool
	// AllowReplace permits replace changes (--allow-replace, allowReplace).
	AllowReplace bool
	// Force permits changing more than MaxChangePercent of the managed
	// definitions.
	Force bool
	// MaxChangePercent (0 to 100) is how many percent of the managed
	// definitions one run may update, replace or delete without Force;
	// nil means DefaultMaxChangePercent. spec.Config.MaxChangePercent
	// can be passed as is.
	MaxChangePercent *int

	// Concurrency bounds the changes in progress at once (default 4).
	// Creates are sent one at a time whatever it is (see the package
	// documentation).
	Concurrency int
	// Progress receives one line per finished change and the warnings
	// (stderr in the CLI); nil discards them.
	Progress io.Writer
	// Now is the clock for durations (default time.Now).
	Now func() time.Time
	// Sleep waits between marker look-ups, returning early with ctx's
	// error (default: a timer). Tests inject a fake.
	Sleep func(ctx context.Context, d time.Duration) error
	// LookupWindow bounds how long a create whose outcome is unknown is
	// looked for by its marker before it is POSTed again (default 2 min:
	// read-after-create lag means one empty list proves nothing), and how
	// long apply waits at the end for what it created to be listed.
	LookupWindow time.Duration
	// LookupInterval is the first wait between look-ups; it doubles up to
	// 30 s (default 5 s).
	LookupInterval time.Duration
	// MaxCreateAttempts bounds the POSTs of one create (default 5). A POST
	// is repeated only after a full look-up window found nothing, so a
	// repeat costs time, never a duplicate.
	MaxCreateAttempts int
	// CancelGrace is how long the change in flight may still run after ctx
	// is cancelled (default 30 s); after it, its requests are abandoned.
	CancelGrace time.Duration

	// graceTimer runs f after d and returns what stops it (default
	// time.AfterFunc): tests end the grace on cue instead of waiting.
	graceTimer func(d time.Duration, f func()) (stop func() bool)
}

func (o Options) withDefaults() Options {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = clock.Sleep
	}
	if o.LookupWindow <= 0 {
		o.LookupWindow = DefaultLookupWindow
	}
	if o.LookupInterval <= 0 {
		o.LookupInterval = DefaultLookupInterval
	}
	if o.MaxCreateAttempts <= 0 {
		o.MaxCreateAttempts = DefaultMaxCreateAttempts
	}
	if o.CancelGrace <= 0 {
		o.CancelGrace = DefaultCancelGrace
	}
	if o.graceTimer == nil {
		o.graceTimer = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	return o
}

// Outcome is what became of one change.
type Outcome string

const (
	// Done: the change was carried out.
	Done Outcome = "done"
	// Failed: the change was attempted and did not complete; Result.Err
	// says why.
	Failed Outcome = "failed"
	// Canceled: the change was interrupted by cancellation after it had
	// started (for example while resolving a create's unknown outcome).
	Canceled Outcome = "canceled"
	// NotStarted: cancellation came before the change was started.
	NotStarted Outcome = "not started"
)

// Result is the outcome of one change of the plan.
type Result struct {
	Change  diff.Change
	Outcome Outcome
	// NewID is the id of the definition a create or replace made (or
	// found by its marker after an unknown outcome).
	NewID string
	Err   error
	// Notes say what a reader of the report should know beyond the
	// outcome (an adopted unknown outcome, a definition already gone).
	Notes []string
	// MayDuplicate says a second definition with this change's marker may
	// exist, now or once Graph lists it: a POST was sent again after an
	// earlier one's outcome stayed unknown and nothing carrying the marker
	// was found within LookupWindow, or younger definitions carrying it
	// were found. The next plan reports a duplicate, and apply
	// --allow-delete removes it. Apply's error counts these changes.
	MayDuplicate bool
	// NotListed says the definition this change created was not yet
	// listed when apply stopped waiting for it (LookupWindow): a plan made
	// before Graph lists it would plan it again. Not a failure by itself.
	NotListed bool
	Duration  time.Duration
}

// Report lists the outcome of every change apply was given, noops
// excluded, in the order they were planned to run.
type Report struct {
	Results []Result
	// Stopped is the write Graph refused with 401 or 403, after which
	// apply started no further change; nil if none was.
	Stopped *graph.Error
}

// Count returns how many results have outcome o.
func (r *Report) Count(o Outcome) int {
	if r == nil {
		return 0
	}
	n := 0
	for _, res := range r.Results {
		if res.Outcome == o {
			n++
		}
	}
	return n
}

// OK reports whether every change was done and none may have left a
// duplicate.
func (r *Report) OK() bool {
	return r != nil && r.Count(Done) == len(r.Results) && r.mayDuplicate() == 0
}

// mayDuplicate counts the results flagged MayDuplicate.
func (r *Report) mayDuplicate() int {
	n := 0
	for _, res := range r.Results {
		if res.MayDuplicate {
			n++
		}
	}
	return n
}

// IncompleteError is Apply's error when some changes were not done, or
// some may have left a duplicate definition (Result.MayDuplicate): either
// way the run needs a follow-up. The report has the details;
// errors.Is(err, context.Canceled) is true when cancellation was the reason
// any change was not done.
type IncompleteError struct {
	Total, Done, Failed, Canceled, NotStarted int
	// MayDuplicate counts the changes that may have left a duplicate.
	MayDuplicate int
	// Cause is the context's error when the run was cancelled.
	Cause error
	// Refused is the write Graph refused with 401 or 403, after which
	// nothing more was started; nil if none was.
	Refused *graph.Error
}

func (e *IncompleteError) Error() string {
	if e.Done == e.Total {
		return fmt.Sprintf("apply needs a follow-up: %d of %d changes done, %d may have left a duplicate definition: the next plan reports it and apply --allow-delete removes it",
			e.Done, e.Total, e.MayDuplicate)
	}
	s := fmt.Sprintf("apply incomplete: %d of %d changes done", e.Done, e.Total)
	if e.Failed > 0 {
		s += fmt.Sprintf(", %d failed", e.Failed)
	}
	if e.Canceled > 0 {
		s += fmt.Sprintf(", %d interrupted", e.Canceled)
	}
	if e.NotStarted > 0 {
		s += fmt.Sprintf(", %d not started", e.NotStarted)
	}
	if e.MayDuplicate > 0 {
		s += fmt.Sprintf(", %d may have left a duplicate", e.MayDuplicate)
	}
	switch {
	case e.Refused != nil && e.NotStarted > 0:
		s += fmt.Sprintf("; Graph refused a write (%d %s), so no further changes were started: see the report", e.Refused.StatusCode, http.StatusText(e.Refused.StatusCode))
	case e.Refused != nil:
		s += fmt.Sprintf("; Graph refused a write (%d %s): see the report", e.Refused.StatusCode, http.StatusText(e.Refused.StatusCode))
	}
	if e.Cause != nil {
		s += " (" + e.Cause.Error() + ")"
	}
	return s
}

func (e *IncompleteError) Unwrap() error { return e.Cause }

// ErrInvalidPlan is wrapped by Apply's error for a plan it cannot carry out
// as written (a missing id or body, a body without the marker).
var ErrInvalidPlan = errors.New("invalid plan")

// phases are the order of execution: each phase finishes before the next
// starts.
var phases = [][]diff.Action{
	{diff.Create},
	{diff.Update, diff.Adopt},
	{diff.Replace, diff.Delete},
}

// Apply carries out p with c. It checks the plan and the gates before its
// first write; a refusal returns a nil report and writes nothing (a
// *GateError, joined if several gates refuse). Otherwise it returns the
// report of every change, and an *IncompleteError if any change is not
// done. Just before it writes an update, adopt, replace or delete, it
// re-reads the definition and refuses the change, writing nothing for it,
// when the definition is not one the change may write (a failed result
// whose error is a *StaleChangeError). Apply does not otherwise check that
// a saved plan is fresh: call CheckStale first.
func Apply(ctx context.Context, c Client, p *diff.Plan, opts Options) (*Report, error) {
	if c == nil {
		return nil, errors.New("apply: no Graph client")
	}
	if err := validatePlan(p); err != nil {
		return nil, err
	}
	if err := CheckGates(p, opts); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()

	gate := &writeGate{}
	r := &runner{c: gatedClient{Client: c, g: gate}, opts: opts, gate: gate}
	var order []int // indexes into p.Changes, in execution order
	phaseOf := map[int]int{}
	for ph, actions := range phases {
		for i, ch := range p.Changes {
			for _, a := range actions {
				if ch.Action == a {
					order = append(order, i)
					phaseOf[i] = ph
				}
			}
		}
	}
	report := &Report{Results: make([]Result, len(order))}
	for k, i := range order {
		report.Results[k] = Result{Change: p.Changes[i], Outcome: NotStarted}
	}
	r.total = len(order)

	// Requests run on wctx, which outlives ctx by CancelGrace: a request in
	// flight when Ctrl-C comes is finished rather than cut off, so its
	// outcome is known.
	wctx, wcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer wcancel()
	stop := context.AfterFunc(ctx, func() {
		stopTimer := opts.graceTimer(opts.CancelGrace, wcancel)
		context.AfterFunc(wctx, func() { stopTimer() })
	})
	defer stop()

	start := 0
	for ph := range phases {
		end := start
		for end < len(order) && phaseOf[order[end]] == ph {
			end++
		}
		n := opts.Concurrency
		if ph == 0 {
			// Creates go one at a time anyway (postMu); running them in
			// plan order makes runs repeatable.
			n = 1
		}
		r.runPhase(ctx, wctx, report.Results[start:end], n)
		start = end
	}
	r.awaitListed(ctx, wctx)

	inc := &IncompleteError{Total: len(order)}
	if ge := gate.stopped(); ge != nil {
		report.Stopped = ge
		inc.Refused = ge
	}
	for _, res := range report.Results {
		if res.MayDuplicate {
			inc.MayDuplicate++
		}
		switch res.Outcome {
		case Done:
			inc.Done++
		case Failed:
			inc.Failed++
		case Canceled:
			inc.Canceled++
		case NotStarted:
			inc.NotStarted++
		}
	}
	if inc.Done == inc.Total && inc.MayDuplicate == 0 {
		return report, nil
	}
	if inc.Canceled+inc.NotStarted > 0 {
		inc.Cause = ctx.Err()
	}
	return report, inc
}

// runner is one Apply run.
type runner struct {
	c    Client
	opts Options
	// gate holds writes back after one Graph refused (401/403).
	gate *writeGate

	// postMu makes POSTs to the definitions collection (and the look-ups
	// that resolve them) go one at a time. It also guards answered.
	postMu sync.Mutex
	// answered are the results whose new id came from the create's own
	// answer, not from a list: Graph may not list them yet (awaitListed).
	answered []*Result

	outMu    sync.Mutex
	finished int
	total    int
}

// runPhase runs the results' changes with bounded concurrency. Nothing is
// started once ctx is done.
func (r *runner) runPhase(ctx, wctx context.Context, results []Result, concurrency int) {
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i := range results {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		if r.gate.stopped() != nil {
			// A write was refused: the rest would be refused alike.
			<-sem
			break
		}
		wg.Add(1)
		go func(res *Result) {
			defer wg.Done()
			defer func() { <-sem }()
			r.run(ctx, wctx, res)
		}(&results[i])
	}
	wg.Wait()
}

// run carries out one change and prints its progress line.
func (r *runner) run(ctx, wctx context.Context, res *Result) {
	ch := &res.Change
	t0 := r.opts.Now()
	write, err := r.recheck(wctx, res)
	action := ch.Action
	if !write {
		action = diff.NoOp
	}
	if action == diff.Replace {
		r.printf("warning: replacing %s deletes definition %s (%q) with its review history (instances and decisions), then creates it again\n",
			ch.Name, ch.ID, ch.DisplayName)
	}
	switch action {
	case diff.Create:
		err = r.create(ctx, wctx, res, "")
	case diff.Update, diff.Adopt:
		err = r.c.UpdateDefinition(wctx, ch.ID, ch.After)
		if err != nil {
			err = fmt.Errorf("updating definition %s: %w", ch.ID, err)
		}
	case diff.Delete:
		err = r.delete(wctx, res)
	case diff.Replace:
		// A delete whose outcome stayed unknown is checked by reading the
		// definition: gone, the replace goes on; otherwise it stops here.
		if err = r.delete(wctx, res); err == nil {
			// The old definition is gone: finish the change even if ctx
			// was cancelled meanwhile, or the review would be left deleted.
			// That lasts only CancelGrace, so a failure or cut-off here
			// must still say what was lost.
			fctx := context.WithValue(wctx, mustFinishKey{}, true)
			if err = r.create(fctx, fctx, res, ch.ID); err != nil {
				err = replaceNotCreated(ch.ID, maybeCreated(err), err)
			}
		}
	}
	res.Duration = r.opts.Now().Sub(t0)
	switch {
	case errors.Is(err, errStopped):
		// Nothing of this change was written (a replace whose delete was
		// carried out finishes its create whatever happened meanwhile).
		res.Outcome, res.Err = NotStarted, nil
		return
	case err == nil:
		res.Outcome = Done
	case isCanceled(err):
		res.Outcome, res.Err = Canceled, err
	default:
		res.Outcome, res.Err = Failed, err
	}
	r.progress(res)
}

// recheck re-reads the definition an update, adopt, replace or delete is
// about to write and says whether to write it: the plan may be older than
// the tenant, or not what arsync planned at all, so only the definition
// as it is now can say whether the change may touch it
// (docs/safety.md#what-apply-re-checks-as-it-writes). A definition that is
// gone is not written either: a delete is then done, with a note; any
// other change is refused.
func (r *runner) recheck(ctx context.Context, res *Result) (write bool, err error) {
	ch := &res.Change
	switch ch.Action {
	case diff.Update, diff.Adopt, diff.Replace, diff.Delete:
	default:
		return true, nil
	}
	live, err := r.c.GetDefinition(ctx, ch.ID)
	switch {
	case graph.IsNotFound(err) && ch.Action == diff.Delete:
		res.Notes = append(res.Notes, fmt.Sprintf("definition %s was already gone", ch.ID))
		return false, nil
	case graph.IsNotFound(err):
		return false, &StaleChangeError{Name: ch.Name, Action: ch.Action, ID: ch.ID, DisplayName: ch.DisplayName, Reason: "no longer exists"}
	case err != nil:
		return false, fmt.Errorf("reading definition %s before writing it, so nothing was written: %w", ch.ID, err)
	}
	if why := ownershipProblem(ch, live); why != "" {
		return false, &StaleChangeError{Name: ch.Name, Action: ch.Action, ID: ch.ID, DisplayName: live.DisplayName, Reason: why}
	}
	return true, nil
}

// delete deletes the change's definition. When the DELETE's outcome is
// unknown (an answer lost after it may have been carried out) it reads the
// definition: a 404 means it is gone, and the delete counts as done.
// Otherwise the error says whether anything was lost, in the words of the
// change's action.
func (r *runner) delete(wctx context.Context, res *Result) error {
	id := res.Change.ID
	err := r.c.DeleteDefinition(wctx, id)
	switch {
	case err == nil:
		return nil
	case graph.IsNotFound(err):
		res.Notes = append(res.Notes, fmt.Sprintf("definition %s was already gone", id))
		return nil
	case !graph.IsUnknownOutcome(err):
		return fmt.Errorf("deleting definition %s: %w", id, err)
	}
	replace := res.Change.Action == diff.Replace
	_, gerr := r.c.GetDefinition(wctx, id)
	switch {
	case graph.IsNotFound(gerr):
		res.Notes = append(res.Notes, fmt.Sprintf("the delete's outcome was unknown (%s); definition %s was gone when checked", shortErr(err), id))
		return nil
	case gerr == nil && replace:
		return fmt.Errorf("deleting definition %s: %w; definition %s is still there, so nothing was lost: the old definition and its review history are intact and the new one was not created; run apply again to replace it", id, err, id)
	case gerr == nil:
		return fmt.Errorf("deleting definition %s: %w; definition %s is still there: nothing was deleted; run apply again to delete it", id, err, id)
	case replace:
		return fmt.Errorf("deleting definition %s: %w; checking whether definition %s is gone failed too (%w): it may have been deleted with its review history (instances and decisions), and the new one was not created; run arsync plan: it shows a create if it is gone, or this replace again if not", id, err, id, gerr)
	default:
		return fmt.Errorf("deleting definition %s: %w; checking whether definition %s is gone failed too (%w): it may or may not have been deleted; run arsync plan: it shows this delete again if it is still there", id, err, id, gerr)
	}
}

// replaceNotCreated is the error of a replace whose delete was carried out
// and whose create was not, for whatever reason (cancellation included):
// the history is lost already, and only another run brings the definition
// back. maybeCreated says a POST's outcome was unknown.
func replaceNotCreated(id string, maybeCreated bool, err error) error {
	const gone = "definition %s was deleted with its review history (instances and decisions)"
	if maybeCreated {
		return fmt.Errorf(gone+" and the new one may not have been created; run apply again: it adopts the new one by its marker if it exists, or creates it: %w", id, err)
	}
	return fmt.Errorf(gone+" and the new one was not created; run apply again to create it: %w", id, err)
}

// canceledError marks a change stopped by cancellation.
type canceledError struct{ err error }

func (e *canceledError) Error() string { return e.err.Error() }
func (e *canceledError) Unwrap() error { return e.err }

func isCanceled(err error) bool {
	var c *canceledError
	return errors.As(err, &c) || errors.Is(err, context.Canceled)
}

func (r *runner) printf(format string, args ...any) {
	r.outMu.Lock()
	defer r.outMu.Unlock()
	fmt.Fprintf(r.opts.Progress, format, args...)
}

// progress prints "[12/40] ~ update guests-m365-quarterly ... done (1.2s)".
func (r *runner) progress(res *Result) {
	r.outMu.Lock()
	defer r.outMu.Unlock()
	r.finished++
	line := fmt.Sprintf("[%d/%d] %s %s %s ... %s (%s)", r.finished, r.total,
		res.Change.Action.Symbol(), res.Change.Action, res.Change.Name, res.Outcome, roundDuration(res.Duration))
	if ge := refusedWrite(res.Err); ge != nil {
		// The report has Graph's answer and what is missing, once.
		line += fmt.Sprintf(": Graph refused the write (%d %s); no further changes are started; the report says what is missing", ge.StatusCode, http.StatusText(ge.StatusCode))
	} else if res.Err != nil {
		line += ": " + res.Err.Error()
	}
	fmt.Fprintln(r.opts.Progress, line)
	for _, n := range res.Notes {
		fmt.Fprintln(r.opts.Progress, "    note: "+n)
	}
}

// roundDuration shows a duration to a tenth of a second, or in
// milliseconds below one second.
func roundDuration(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}

// validatePlan checks what Apply relies on, so that a bad plan fails
// before the first write rather than halfway.
func validatePlan(p *diff.Plan) error {
	if p == nil {
		return fmt.Errorf("%w: no plan", ErrInvalidPlan)
	}
	if p.FormatVersion != diff.FormatVersion {
		return fmt.Errorf("%w: format version %d, this arsync applies version %d", ErrInvalidPlan, p.FormatVersion, diff.FormatVersion)
	}
	var errs []error
	seenID := map[string]string{}
	for i, c := range p.Changes {
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("%w: change %d (%s %s): %s", ErrInvalidPlan, i+1, c.Action, c.Name, fmt.Sprintf(format, args...)))
		}
		if !c.Action.Valid() {
			bad("unknown action")
			continue
		}
		if c.Action == diff.NoOp {
			continue
		}
		if n, _, ok := graph.SplitMarker(graph.Marker(c.Name)); !ok || n != c.Name {
			bad("the name is not a valid metadata.name")
			continue
		}
		if c.Action != diff.Create {
			if c.ID == "" {
				bad("no live id")
			} else if prev, dup := seenID[c.ID]; dup {
				bad("definition %s is also changed by %s", c.ID, prev)
			} else {
				seenID[c.ID] = c.Name
			}
		}
		if c.Action == diff.Delete {
			continue
		}
		if c.After == nil {
			bad("no request body")
			continue
		}
		// The marker is what identifies the definition later, above all
		// after a create whose outcome is unknown.
		if n, _, ok := graph.SplitMarker(c.After.DescriptionForAdmins); !ok || n != c.Name {
			bad("the body does not carry the marker %s", graph.Marker(c.Name))
		}
		switch c.Action {
		case diff.Create, diff.Replace:
			if c.After.ID != "" {
				bad("a create body must not carry an id")
			}
		case diff.Update, diff.Adopt:
			if c.After.ID != "" && c.After.ID != c.ID {
				bad("the body carries id %s, the change targets %s", c.After.ID, c.ID)
			}
		}
	}
	return errors.Join(errs...)
}
