package apply

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/arsync/arsync/pkg/graph"
)

// create POSTs the change's body and settles an unknown outcome by looking
// for the marker (docs/safety.md#creates-with-an-unknown-outcome-no-duplicates;
// why: docs/graph-behaviour.md#read-after-create). exclude
// is a definition id that carries the same marker and must not be taken
// for the new one (the definition a replace has just deleted). Requests go
// on wctx; ctx decides whether to start another one. When a POST's outcome
// was unknown and nothing carrying the marker was found, the error is a
// *createError saying the definition may yet appear. A POST sent again, or
// younger definitions found with the marker, flag res.MayDuplicate.
func (r *runner) create(ctx, wctx context.Context, res *Result, exclude string) (err error) {
	r.postMu.Lock()
	defer r.postMu.Unlock()
	unknown := false
	defer func() {
		if err != nil && unknown {
			err = &createError{err: err, maybeCreated: true}
		}
	}()

	ch := &res.Change
	var lastErr error
	for attempt := 1; attempt <= r.opts.MaxCreateAttempts; attempt++ {
		if err := ctx.Err(); err != nil {
			if attempt == 1 {
				return &canceledError{fmt.Errorf("not created: %w", err)}
			}
			return &canceledError{fmt.Errorf("not created; %v; interrupted: %w", lastErr, err)}
		}
		if attempt > 1 {
			// The earlier POST may have been carried out and be missing
			// from lists for longer than the window: if so, this one makes
			// a duplicate (docs/graph-behaviour.md#read-after-create).
			res.MayDuplicate = true
			res.Notes = append(res.Notes, fmt.Sprintf("the create's outcome was unknown (%v) and no definition carried the marker after %s; sent again; a duplicate may appear: the next plan reports it and apply --allow-delete removes it",
				shortErr(lastErr), r.opts.LookupWindow))
		}
		created, err := r.c.CreateDefinition(wctx, ch.After)
		if err == nil {
			res.NewID = created.ID
			r.answered = append(r.answered, res)
			return nil
		}
		if !graph.IsUnknownOutcome(err) {
			return fmt.Errorf("creating the definition: %w", err)
		}
		lastErr, unknown = err, true
		found, dups, lerr := r.lookup(ctx, wctx, ch.Name, exclude)
		if lerr != nil {
			if isCanceled(lerr) {
				return &canceledError{fmt.Errorf("the create's outcome is unknown (%v) and the look-up for its marker was interrupted; the next plan finds it by its marker if it was created: %w", err, lerr)}
			}
			return fmt.Errorf("the create's outcome is unknown (%v) and looking for its marker failed, so it was not sent again: %w", err, lerr)
		}
		if found != nil {
			res.NewID = found.ID
			res.Notes = append(res.Notes, fmt.Sprintf("the create's outcome was unknown (%v); definition %s carries the marker and was adopted", shortErr(err), found.ID))
			if len(dups) > 0 {
				res.MayDuplicate = true
				res.Notes = append(res.Notes, fmt.Sprintf("%d younger definition(s) also carry %s: %s; the next plan reports them and apply --allow-delete removes them",
					len(dups), graph.Marker(ch.Name), strings.Join(dups, ", ")))
			}
			return nil
		}
	}
	return fmt.Errorf("creating the definition: %d attempts, each with an unknown outcome and not found afterwards: %w", r.opts.MaxCreateAttempts, lastErr)
}

// createError is a create that did not finish. maybeCreated says a POST's
// outcome was unknown and its definition was not found afterwards, so it
// may yet appear.
type createError struct {
	err          error
	maybeCreated bool
}

func (e *createError) Error() string { return e.err.Error() }
func (e *createError) Unwrap() error { return e.err }

// maybeCreated reports whether err is a create whose POST may have been
// carried out.
func maybeCreated(err error) bool {
	var ce *createError
	return errors.As(err, &ce) && ce.maybeCreated
}

// lookup looks for live definitions carrying name's marker, other than
// exclude, until one shows up or LookupWindow has been waited: a definition
// just created may be missing from lists for a while. It returns the oldest
// match and the ids of any younger ones.
func (r *runner) lookup(ctx, wctx context.Context, name, exclude string) (*graph.Definition, []string, error) {
	var waited time.Duration
	interval := r.opts.LookupInterval
	for {
		if err := ctx.Err(); err != nil {
			return nil, nil, &canceledError{err}
		}
		owner, younger, err := findMarked(wctx, r.c, name, exclude)
		if err != nil {
			return nil, nil, err
		}
		if owner != nil {
			var dups []string
			for _, m := range younger {
				dups = append(dups, m.ID)
			}
			return owner, dups, nil
		}
		if waited >= r.opts.LookupWindow {
			return nil, nil, nil
		}
		d := min(interval, r.opts.LookupWindow-waited)
		if err := r.opts.Sleep(ctx, d); err != nil {
			return nil, nil, &canceledError{err}
		}
		waited += d
		interval = min(2*interval, maxLookupInterval)
	}
}

// awaitListed waits until every definition this run created from a POST's
// own answer is listed, for at most LookupWindow: Graph may leave a new
// definition out of lists for a while, and a plan made meanwhile would
// plan it again (docs/graph-behaviour.md#read-after-create). What is still
// missing then gets NotListed and a note; that is no failure: the change
// was done. Nothing is written. Lists go on wctx, so one still runs after
// Ctrl-C; ctx decides whether to wait for another.
func (r *runner) awaitListed(ctx, wctx context.Context) {
	var pending []*Result
	for _, res := range r.answered {
		if res.Outcome == Done && res.NewID != "" {
			pending = append(pending, res)
		}
	}
	if len(pending) == 0 {
		return
	}
	giveUp := func(format string, args ...any) {
		for _, res := range pending {
			res.NotListed = true
			res.Notes = append(res.Notes, fmt.Sprintf("definition %s %s; a plan made before it is listed plans it again: wait a few minutes before the next plan",
				res.NewID, fmt.Sprintf(format, args...)))
		}
	}
	const interrupted = "was not seen in the list before apply was interrupted"
	var waited time.Duration
	interval := r.opts.LookupInterval
	for {
		listed, err := listedIDs(wctx, r.c)
		if err != nil {
			if ctx.Err() != nil {
				giveUp(interrupted)
			} else {
				giveUp("could not be looked for in the list (%v)", err)
			}
			return
		}
		pending = slices.DeleteFunc(pending, func(res *Result) bool { return listed[res.NewID] })
		switch {
		case len(pending) == 0:
			return
		case ctx.Err() != nil:
			giveUp(interrupted)
			return
		case waited >= r.opts.LookupWindow:
			giveUp("is not listed yet after %s (Graph's read-after-create lag)", r.opts.LookupWindow)
			return
		case waited == 0:
			r.printf("waiting up to %s for %s to appear in the list (Graph's read-after-create lag)\n", r.opts.LookupWindow, plural(len(pending), "new definition"))
		}
		d := min(interval, r.opts.LookupWindow-waited)
		if err := r.opts.Sleep(ctx, d); err != nil {
			giveUp(interrupted)
			return
		}
		waited += d
		interval = min(2*interval, maxLookupInterval)
	}
}

// listedIDs lists the ids of the live definitions.
func listedIDs(ctx context.Context, c Client) (map[string]bool, error) {
	ids := map[string]bool{}
	for d, err := range c.ListDefinitions(ctx, &graph.ListOptions{Select: []string{"id"}}) {
		if err != nil {
			return nil, fmt.Errorf("listing definitions: %w", err)
		}
		ids[d.ID] = true
	}
	return ids, nil
}

// plural is "1 new definition" or "3 new definitions".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// markerFields are the properties a marker look-up needs.
var markerFields = []string{"id", "displayName", "descriptionForAdmins", "createdDateTime"}

// findMarked lists the definitions (other than exclude) and returns the
// one that owns name's marker (graph.Owner) and the younger ones that also
// carry it. The marker is not filterable, so it is matched here.
func findMarked(ctx context.Context, c Client, name, exclude string) (owner *graph.Definition, younger []*graph.Definition, err error) {
	var defs []*graph.Definition
	for d, err := range c.ListDefinitions(ctx, &graph.ListOptions{Select: markerFields}) {
		if err != nil {
			return nil, nil, fmt.Errorf("listing definitions: %w", err)
		}
		if d.ID != "" && d.ID != exclude {
			defs = append(defs, d)
		}
	}
	owner, younger = graph.Owner(defs, name)
	return owner, younger, nil
}

// shortErr keeps notes readable: the status of a Graph error, else the
// error text.
func shortErr(err error) string {
	var ge *graph.Error
	if errors.As(err, &ge) {
		return fmt.Sprintf("%d %s", ge.StatusCode, http.StatusText(ge.StatusCode))
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && len(s)-i < 80 {
		return s[i+2:]
	}
	return s
}
