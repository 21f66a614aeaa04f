package apply

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/graph"
)

// tamper stands between the Graph client and the emulator and changes the
// answer to the nth request with method (counted from 1): the emulator
// carries the request out first when commit is set, and the client gets
// status and body instead of the emulator's answer. It makes the answers
// the emulator's faults cannot: a 201 with an unreadable body, a DELETE
// carried out and then answered 500.
type tamper struct {
	method string
	nth    int
	// times is how many requests from the nth on are tampered with
	// (0: one).
	times  int
	commit bool
	status int
	body   string

	mu sync.Mutex
	n  int
}

func (tp *tamper) RoundTrip(req *http.Request) (*http.Response, error) {
	fire := false
	if req.Method == tp.method {
		tp.mu.Lock()
		tp.n++
		fire = tp.n >= tp.nth && tp.n < tp.nth+max(tp.times, 1)
		tp.mu.Unlock()
	}
	if !fire {
		return http.DefaultTransport.RoundTrip(req)
	}
	if tp.commit {
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	} else if req.Body != nil {
		req.Body.Close()
	}
	return &http.Response{
		StatusCode: tp.status, Status: http.StatusText(tp.status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  http.Header{"Content-Type": {"application/json"}},
		Body:    io.NopCloser(strings.NewReader(tp.body)),
		Request: req, ContentLength: int64(len(tp.body)),
	}, nil
}

func (e *env) posts() int {
	n := 0
	for _, r := range e.srv.Requests() {
		if r.Method == http.MethodPost {
			n++
		}
	}
	return n
}

// markedIDs are the stored definitions carrying name's marker, hidden ones
// included.
func (e *env) markedIDs(name string) []string {
	var ids []string
	for _, d := range e.stored() {
		if n, _, ok := graph.SplitMarker(d.DescriptionForAdmins); ok && n == name {
			ids = append(ids, d.ID)
		}
	}
	return ids
}

// TestApplyCreateAnsweredWithAnUnreadableBody: the create was carried out
// and answered 201, but the body does not say which definition it made. It
// was made, so it must not be reported failed (the next plan would plan it
// again and make a duplicate): it is found by its marker and adopted.
func TestApplyCreateAnsweredWithAnUnreadableBody(t *testing.T) {
	for name, body := range map[string]string{
		"not JSON":        "<html><body>Created</body></html>",
		"JSON with no id": `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#identityGovernance/accessReviews/definitions/$entity"}`,
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			desired := defs(3)
			p := e.plan(desired, false)
			e.withTransport(&tamper{method: http.MethodPost, nth: 2, commit: true, status: http.StatusCreated, body: body})

			rep, err := Apply(t.Context(), e.client, p, e.opts())
			require.NoError(t, err)
			require.Equal(t, 3, rep.Count(Done))
			res := rep.Results[1]
			require.Equal(t, e.markedIDs("review-001"), []string{res.NewID})
			require.Len(t, res.Notes, 1)
			require.Contains(t, res.Notes[0], "carries the marker and was adopted")
			require.False(t, res.MayDuplicate)
			require.Equal(t, 3, e.posts(), "the create was not sent again")
			e.requireConverged(desired)
		})
	}
}

// TestApplyDeleteWhoseAnswerIsLost: a DELETE answered 500 on every attempt
// the client makes may have been carried out. A replace reads the definition: gone, it creates
// the new one at once; still there, it fails saying nothing was lost.
func TestApplyDeleteWhoseAnswerIsLost(t *testing.T) {
	boom := `{"error":{"code":"generalException","message":"An unexpected error occurred"}}`
	tests := []struct {
		name    string
		action  diff.Action
		commit  bool
		outcome Outcome
		errHas  string
		note    string
	}{
		{
			name: "replace: carried out, then 500", action: diff.Replace, commit: true, outcome: Done,
			note: "the delete's outcome was unknown (500 Internal Server Error); definition %s was gone when checked",
		},
		{
			name: "replace: 500 before it was carried out", action: diff.Replace, outcome: Failed,
			errHas: "; definition %s is still there, so nothing was lost: the old definition and its review history are intact and the new one was not created; run apply again to replace it",
		},
		{
			name: "delete: carried out, then 500", action: diff.Delete, commit: true, outcome: Done,
			note: "the delete's outcome was unknown (500 Internal Server Error); definition %s was gone when checked",
		},
		{
			name: "delete: 500 before it was carried out", action: diff.Delete, outcome: Failed,
			errHas: "; definition %s is still there: nothing was deleted; run apply again to delete it",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			desired := defs(2)
			applyAll(t, e, desired)
			oldID := e.markedIDs("review-001")[0]
			if tt.action == diff.Replace {
				desired[1] = def(1, withScopeGroup(groupIDs[0]))
			} else {
				desired = desired[:1]
			}
			p := e.plan(desired, false)
			require.Equal(t, tt.action, p.Changes[len(p.Changes)-1].Action)
			e.withTransport(&tamper{method: http.MethodDelete, nth: 1, times: 100, commit: tt.commit, status: http.StatusInternalServerError, body: boom})
			e.srv.ResetRequests()

			rep, err := Apply(t.Context(), e.client, p, e.opts(func(o *Options) { o.AllowDelete, o.AllowReplace = true, true }))
			res := rep.Results[len(rep.Results)-1]
			require.Equal(t, tt.outcome, res.Outcome, "err: %v", res.Err)
			if tt.outcome == Done {
				require.NoError(t, err)
				require.Equal(t, []string{fmtID(tt.note, oldID)}, res.Notes)
				e.requireConverged(desired)
				require.NotContains(t, storedIDs(e), oldID)
				return
			}
			require.ErrorAs(t, err, new(*IncompleteError))
			require.ErrorContains(t, res.Err, "deleting definition "+oldID+": DELETE ")
			require.ErrorContains(t, res.Err, fmtID(tt.errHas, oldID))
			require.True(t, graph.IsUnknownOutcome(res.Err))
			require.Contains(t, storedIDs(e), oldID, "the old definition is intact")
			require.Zero(t, e.posts(), "nothing was created")

			// The next run does it.
			e.withTransport(nil)
			rep, err = Apply(t.Context(), e.client, e.plan(desired, false), e.opts(func(o *Options) { o.AllowDelete, o.AllowReplace = true, true }))
			require.NoError(t, err)
			require.Equal(t, 1, rep.Count(Done))
			e.requireConverged(desired)
		})
	}
}

func fmtID(format, id string) string { return strings.ReplaceAll(format, "%s", id) }

func storedIDs(e *env) []string {
	var ids []string
	for _, d := range e.stored() {
		ids = append(ids, d.ID)
	}
	return ids
}

// TestDeleteUnknownOutcomeProtocol pins the check after a DELETE whose
// outcome is unknown, call by call.
func TestDeleteUnknownOutcomeProtocol(t *testing.T) {
	unknownDelete := &graph.UnknownOutcomeError{Method: http.MethodDelete, URL: "https://graph/definitions/old",
		Err: &graph.Error{StatusCode: http.StatusBadGateway, Method: http.MethodDelete}}
	notFound := &graph.Error{StatusCode: http.StatusNotFound, Method: http.MethodGet}
	forbidden := &graph.Error{StatusCode: http.StatusForbidden, Method: http.MethodGet, Message: "no"}
	replace := &diff.Plan{FormatVersion: diff.FormatVersion, Changes: []diff.Change{{
		Action: diff.Replace, Name: "a", ID: "old", LiveFingerprint: "sha256:x",
		After: &graph.Definition{DescriptionForAdmins: graph.WithMarker("", "a")},
	}}}
	del := &diff.Plan{FormatVersion: diff.FormatVersion, Changes: []diff.Change{{Action: diff.Delete, Name: "a", ID: "old", LiveFingerprint: "sha256:x"}}}
	tests := []struct {
		name    string
		plan    *diff.Plan
		get     func(string) (*graph.Definition, error)
		calls   []string
		outcome Outcome
		newID   string
		errHas  []string
		notes   []string
	}{
		{
			name: "replace: gone, so the new one is created",
			plan: replace, get: func(string) (*graph.Definition, error) { return nil, notFound },
			calls: []string{"DELETE old", "GET old", "POST", "GET?$select=id"}, outcome: Done, newID: "new-1",
			notes: []string{"the delete's outcome was unknown (502 Bad Gateway); definition old was gone when checked"},
		},
		{
			name: "replace: still there, nothing lost",
			plan: replace, calls: []string{"DELETE old", "GET old"}, outcome: Failed,
			errHas: []string{"deleting definition old: DELETE https://graph/definitions/old: outcome unknown, the request may have been carried out: DELETE : 502 Bad Gateway (no error code): no error message; definition old is still there, so nothing was lost: the old definition and its review history are intact and the new one was not created; run apply again to replace it"},
		},
		{
			name: "replace: the check fails",
			plan: replace, get: func(string) (*graph.Definition, error) { return nil, forbidden },
			calls: []string{"DELETE old", "GET old"}, outcome: Failed,
			errHas: []string{
				"deleting definition old: DELETE https://graph/definitions/old: outcome unknown",
				"; checking whether definition old is gone failed too (GET : 403 Forbidden (no error code): no): it may have been deleted with its review history (instances and decisions), and the new one was not created; run arsync plan: it shows a create if it is gone, or this replace again if not",
			},
		},
		{
			name: "delete: gone, so done",
			plan: del, get: func(string) (*graph.Definition, error) { return nil, notFound },
			calls: []string{"DELETE old", "GET old"}, outcome: Done,
			notes: []string{"the delete's outcome was unknown (502 Bad Gateway); definition old was gone when checked"},
		},
		{
			name: "delete: the check fails",
			plan: del, get: func(string) (*graph.Definition, error) { return nil, forbidden },
			calls: []string{"DELETE old", "GET old"}, outcome: Failed,
			errHas: []string{"; checking whether definition old is gone failed too (GET : 403 Forbidden (no error code): no): it may or may not have been deleted; run arsync plan: it shows this delete again if it is still there"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gets := 0
			fc := &fakeClient{
				del: func(string) error { return unknownDelete },
				get: func(id string) (*graph.Definition, error) {
					gets++
					switch {
					case gets == 1: // the re-check before the write: as planned
						return &graph.Definition{ID: id, DescriptionForAdmins: graph.WithMarker("", "a")}, nil
					case tt.get == nil: // still there
						return &graph.Definition{ID: id}, nil
					}
					return tt.get(id)
				},
				list: func(int) ([]*graph.Definition, error) {
					return []*graph.Definition{{ID: "new-1"}}, nil
				},
			}
			rep, _ := Apply(t.Context(), fc, tt.plan, Options{Sleep: (&sleepRecorder{}).Sleep, AllowDelete: true, AllowReplace: true})
			res := rep.Results[0]
			require.Equal(t, tt.outcome, res.Outcome, "err: %v", res.Err)
			require.Equal(t, tt.newID, res.NewID)
			if d := cmp.Diff(append([]string{"GET old"}, tt.calls...), fc.calls); d != "" {
				t.Errorf("calls (-want +got):\n%s", d)
			}
			for _, s := range tt.errHas {
				require.ErrorContains(t, res.Err, s)
			}
			if tt.errHas == nil {
				require.NoError(t, res.Err)
			}
			require.Equal(t, tt.notes, res.Notes)
		})
	}
}

// TestApplyCreateSentAgainMayDuplicate: a create is carried out, answered
// 504, and stays out of the lists for longer than the look-up window, so it
// is sent again: a duplicate appears once Graph lists the first one. The
// run must not say "complete": the change is done but flagged, the report
// and the error say a duplicate may appear, and the next plan with
// --allow-delete removes it.
func TestApplyCreateSentAgainMayDuplicate(t *testing.T) {
	e := newEnv(t)
	desired := defs(2)
	p := e.plan(desired, false)
	e.withFaults(&emulator.Faults{
		ReadAfterCreateLag: 3 * time.Minute,
		Rules:              []emulator.FaultRule{{Kind: emulator.FaultCommitThenFail, Method: http.MethodPost, Nth: 1}},
	})

	rep, err := Apply(t.Context(), e.client, p, e.opts())
	var inc *IncompleteError
	require.ErrorAs(t, err, &inc)
	require.Equal(t, IncompleteError{Total: 2, Done: 2, MayDuplicate: 1}, *inc)
	require.EqualError(t, err, "apply needs a follow-up: 2 of 2 changes done, 1 may have left a duplicate definition: the next plan reports it and apply --allow-delete removes it")
	res := rep.Results[0]
	require.Equal(t, Done, res.Outcome)
	require.True(t, res.MayDuplicate)
	require.False(t, rep.OK())
	require.Contains(t, res.Notes[0], "the create's outcome was unknown (504 Gateway Timeout) and no definition carried the marker after 2m0s; sent again; a duplicate may appear: the next plan reports it and apply --allow-delete removes it")
	require.Len(t, e.markedIDs("review-000"), 2, "the first POST was carried out after all")

	var out bytes.Buffer
	require.NoError(t, rep.Write(&out))
	require.True(t, strings.HasPrefix(out.String(), "Apply needs a follow-up: 2 done (of 2 changes), 1 may have left a duplicate.\n"), out.String())
	require.Contains(t, out.String(), "(a duplicate may appear)")

	// Once Graph lists both, the next plan reports the duplicate and
	// --allow-delete removes the younger one.
	e.clock.Advance(3 * time.Minute)
	_, err = diff.Compute(desired, e.live(), diff.Options{})
	require.ErrorAs(t, err, new(*diff.DuplicateMarkerError))
	p = e.plan(desired, true)
	require.Equal(t, diff.Summary{Delete: 1, NoOp: 2}, p.Summary)
	_, err = Apply(t.Context(), e.client, p, e.opts(func(o *Options) { o.AllowDelete = true }))
	require.NoError(t, err)
	e.requireConverged(desired)
}

// TestApplyWaitsUntilNewDefinitionsAreListed: Graph may leave a new
// definition out of lists for a while. A plan made right after apply would
// then plan it again, and a second apply would make a duplicate. So apply
// waits, within the look-up window, until what it created is listed; what
// is still missing after that is reported (not a failure).
func TestApplyWaitsUntilNewDefinitionsAreListed(t *testing.T) {
	t.Run("listed within the window", func(t *testing.T) {
		e := newEnv(t)
		desired := defs(3)
		p := e.plan(desired, false)
		e.withFaults(&emulator.Faults{ReadAfterCreateLag: 40 * time.Second})
		t0 := e.clock.Now()
		var progress bytes.Buffer
		rep, err := Apply(t.Context(), e.client, p, e.opts(func(o *Options) { o.Progress = &progress }))
		require.NoError(t, err)
		require.True(t, rep.OK())
		for _, r := range rep.Results {
			require.Empty(t, r.Notes)
			require.False(t, r.NotListed)
		}
		require.GreaterOrEqual(t, e.clock.Now().Sub(t0), 40*time.Second)
		require.Less(t, e.clock.Now().Sub(t0), 2*time.Minute)
		require.Contains(t, progress.String(), "waiting up to 2m0s for 3 new definitions to appear in the list (Graph's read-after-create lag)\n")

		// At once, no clock moved: the next plan has nothing to do.
		p = e.plan(desired, false)
		require.False(t, p.HasChanges(), "the next plan plans the creates again")
		e.requireConverged(desired)
	})
	t.Run("still missing after the window", func(t *testing.T) {
		e := newEnv(t)
		desired := defs(2)
		p := e.plan(desired, false)
		e.withFaults(&emulator.Faults{ReadAfterCreateLag: 5 * time.Minute})
		rep, err := Apply(t.Context(), e.client, p, e.opts())
		require.NoError(t, err, "not a failure by itself")
		for _, r := range rep.Results {
			require.Equal(t, Done, r.Outcome)
			require.True(t, r.NotListed)
			require.Equal(t, []string{"definition " + r.NewID + " is not listed yet after 2m0s (Graph's read-after-create lag); a plan made before it is listed plans it again: wait a few minutes before the next plan"}, r.Notes)
		}
		var out bytes.Buffer
		require.NoError(t, rep.Write(&out))
		require.True(t, strings.HasPrefix(out.String(), "Apply complete: 2 done (of 2 changes).\n"), out.String())
		require.Contains(t, out.String(), "is not listed yet after 2m0s")
	})
	t.Run("interrupted while waiting", func(t *testing.T) {
		e := newEnv(t)
		p := e.plan(defs(1), false)
		e.withFaults(&emulator.Faults{ReadAfterCreateLag: 5 * time.Minute})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		rep, err := Apply(ctx, e.client, p, e.opts(func(o *Options) {
			o.Sleep = func(ctx context.Context, d time.Duration) error {
				cancel()
				return ctx.Err()
			}
		}))
		require.NoError(t, err, "the change was done")
		res := rep.Results[0]
		require.True(t, res.NotListed)
		require.Equal(t, []string{"definition " + res.NewID + " was not seen in the list before apply was interrupted; a plan made before it is listed plans it again: wait a few minutes before the next plan"}, res.Notes)
	})
}
