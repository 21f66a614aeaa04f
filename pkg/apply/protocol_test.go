package apply

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/graph"
)

// fakeClient scripts Graph's answers, to pin the uncertain-create protocol
// call by call. Each hook gets the 1-based number of its call.
type fakeClient struct {
	mu     sync.Mutex
	calls  []string
	posts  int
	lists  int
	create func(n int, d *graph.Definition) (*graph.Definition, error)
	list   func(n int) ([]*graph.Definition, error)
	update func(id string) error
	del    func(id string) error
	// get answers GetDefinition; nil: 404, as for an empty tenant.
	get func(id string) (*graph.Definition, error)
}

func (f *fakeClient) GetDefinition(_ context.Context, id string) (*graph.Definition, error) {
	f.record("GET " + id)
	if f.get == nil {
		return nil, &graph.Error{StatusCode: http.StatusNotFound, Method: http.MethodGet}
	}
	return f.get(id)
}

// asPlanned answers GetDefinition with each change's definition as p says
// it was read (Before), or, without one, a definition carrying the
// change's marker: the tenant has not moved since p was made.
func asPlanned(p *diff.Plan) func(id string) (*graph.Definition, error) {
	return func(id string) (*graph.Definition, error) {
		for _, c := range p.Changes {
			if c.ID != id {
				continue
			}
			if c.Before != nil {
				d := c.Before.Clone()
				return &d, nil
			}
			return &graph.Definition{ID: id, DisplayName: c.DisplayName, DescriptionForAdmins: graph.WithMarker("d", c.Name)}, nil
		}
		return nil, &graph.Error{StatusCode: http.StatusNotFound, Method: http.MethodGet}
	}
}

func (f *fakeClient) record(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
}

func (f *fakeClient) CreateDefinition(_ context.Context, d *graph.Definition) (*graph.Definition, error) {
	f.record("POST")
	f.mu.Lock()
	f.posts++
	n := f.posts
	f.mu.Unlock()
	if f.create == nil {
		return &graph.Definition{ID: fmt.Sprintf("new-%d", n)}, nil
	}
	return f.create(n, d)
}

func (f *fakeClient) UpdateDefinition(_ context.Context, id string, _ *graph.Definition) error {
	f.record("PUT " + id)
	if f.update == nil {
		return nil
	}
	return f.update(id)
}

func (f *fakeClient) DeleteDefinition(_ context.Context, id string) error {
	f.record("DELETE " + id)
	if f.del == nil {
		return nil
	}
	return f.del(id)
}

func (f *fakeClient) ListDefinitions(_ context.Context, opts *graph.ListOptions) iter.Seq2[*graph.Definition, error] {
	sel := ""
	if opts != nil {
		sel = "?$select=" + strings.Join(opts.Select, ",")
	}
	f.record("GET" + sel)
	f.mu.Lock()
	f.lists++
	n := f.lists
	f.mu.Unlock()
	return func(yield func(*graph.Definition, error) bool) {
		if f.list == nil {
			return
		}
		defs, err := f.list(n)
		for _, d := range defs {
			if !yield(d, nil) {
				return
			}
		}
		if err != nil {
			yield(nil, err)
		}
	}
}

// unknown is a create whose outcome is unknown, as graphclient reports it.
var unknown = &graph.UnknownOutcomeError{Method: http.MethodPost, URL: "https://graph/definitions",
	Err: &graph.Error{StatusCode: http.StatusGatewayTimeout, Method: http.MethodPost}}

func marked(id, name, created string) *graph.Definition {
	return &graph.Definition{ID: id, DescriptionForAdmins: graph.WithMarker("x", name), CreatedDateTime: created}
}

// sleepRecorder is an Options.Sleep that records and does not wait.
type sleepRecorder struct {
	mu     sync.Mutex
	waits  []time.Duration
	cancel func() // called on the Nth sleep when set
	at     int
}

func (s *sleepRecorder) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	n := len(s.waits)
	s.mu.Unlock()
	if s.cancel != nil && n == s.at {
		s.cancel()
	}
	return ctx.Err()
}

func createPlan(names ...string) *diff.Plan {
	p := &diff.Plan{FormatVersion: diff.FormatVersion}
	for _, n := range names {
		p.Changes = append(p.Changes, diff.Change{Action: diff.Create, Name: n,
			After: &graph.Definition{DisplayName: n, DescriptionForAdmins: graph.WithMarker("d", n)}})
	}
	return p
}

func TestUnknownOutcomeProtocol(t *testing.T) {
	const sel = "GET?$select=id,displayName,descriptionForAdmins,createdDateTime"
	tests := []struct {
		name    string
		plan    *diff.Plan
		client  *fakeClient
		cancel  int // cancel the run on this sleep
		calls   []string
		waits   []time.Duration
		outcome Outcome
		newID   string
		mayDup  bool
		errHas  string
		notes   []string // substrings, one per note
	}{
		{
			name: "found at once: adopted, never sent twice",
			plan: createPlan("a"),
			client: &fakeClient{
				create: func(int, *graph.Definition) (*graph.Definition, error) { return nil, unknown },
				list: func(int) ([]*graph.Definition, error) {
					return []*graph.Definition{marked("other", "b", ""), marked("x1", "a", "2026-01-01T00:00:00Z")}, nil
				},
			},
			calls: []string{"POST", sel}, outcome: Done, newID: "x1",
			notes: []string{"the create's outcome was unknown (504 Gateway Timeout); definition x1 carries the marker and was adopted"},
		},
		{
			name: "read-after-create lag: found on the fourth look",
			plan: createPlan("a"),
			client: &fakeClient{
				create: func(int, *graph.Definition) (*graph.Definition, error) { return nil, unknown },
				list: func(n int) ([]*graph.Definition, error) {
					if n < 4 {
						return nil, nil
					}
					return []*graph.Definition{marked("x1", "a", "")}, nil
				},
			},
			calls: []string{"POST", sel, sel, sel, sel},
			waits: []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second}, outcome: Done, newID: "x1",
			notes: []string{"adopted"},
		},
		{
			name: "not found within the window: sent again, and flagged",
			plan: createPlan("a"),
			client: &fakeClient{
				create: func(n int, _ *graph.Definition) (*graph.Definition, error) {
					if n == 1 {
						return nil, unknown
					}
					return &graph.Definition{ID: "x2"}, nil
				},
				list: func(n int) ([]*graph.Definition, error) {
					if n <= 7 {
						return nil, nil
					}
					return []*graph.Definition{{ID: "x2"}}, nil // listed at the end
				},
			},
			calls: []string{"POST", sel, sel, sel, sel, sel, sel, sel, "POST", "GET?$select=id"},
			// 5+10+20+30+30+25 = 2 min: the window, and not a second more.
			waits:   []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 30 * time.Second, 30 * time.Second, 25 * time.Second},
			outcome: Done, newID: "x2", mayDup: true,
			notes: []string{"the create's outcome was unknown (504 Gateway Timeout) and no definition carried the marker after 2m0s; sent again; a duplicate may appear: the next plan reports it and apply --allow-delete removes it"},
		},
		{
			name: "created but not listed: waited for",
			plan: createPlan("a"),
			client: &fakeClient{
				list: func(n int) ([]*graph.Definition, error) {
					if n < 3 {
						return []*graph.Definition{{ID: "other"}}, nil
					}
					return []*graph.Definition{{ID: "other"}, {ID: "new-1"}}, nil
				},
			},
			calls: []string{"POST", "GET?$select=id", "GET?$select=id", "GET?$select=id"},
			waits: []time.Duration{5 * time.Second, 10 * time.Second}, outcome: Done, newID: "new-1",
		},
		{
			name: "created, and the list fails afterwards: said, not a failure",
			plan: createPlan("a"),
			client: &fakeClient{
				list: func(int) ([]*graph.Definition, error) {
					return nil, &graph.Error{StatusCode: http.StatusForbidden, Method: http.MethodGet}
				},
			},
			calls: []string{"POST", "GET?$select=id"}, outcome: Done, newID: "new-1",
			notes: []string{"definition new-1 could not be looked for in the list (listing definitions: GET : 403 Forbidden (no error code): no error message); a plan made before it is listed plans it again: wait a few minutes before the next plan"},
		},
		{
			name: "unknown every time: gives up after five POSTs",
			plan: createPlan("a"),
			client: &fakeClient{
				create: func(int, *graph.Definition) (*graph.Definition, error) { return nil, unknown },
			},
			outcome: Failed, errHas: "5 attempts, each with an unknown outcome and not found afterwards", mayDup: true,
			notes: []string{"sent again", "sent again", "sent again", "sent again"},
		},
		{
			name: "the look-up fails: not sent again",
			plan: createPlan("a"),
			client: &fakeClient{
				create: func(int, *graph.Definition) (*graph.Definition, error) { return nil, unknown },
				list: func(int) ([]*graph.Definition, error) {
					return nil, &graph.Error{StatusCode: http.StatusForbidden, Method: http.MethodGet}
				},
			},
			calls: []string{"POST", sel}, outcome: Failed,
			errHas: "looking for its marker failed, so it was not sent again",
		},
		{
			name: "duplicates found: the oldest is adopted, the others reported",
			plan: createPlan("a"),
			client: &fakeClient{
				create: func(int, *graph.Definition) (*graph.Definition, error) { return nil, unknown },
				list: func(int) ([]*graph.Definition, error) {
					return []*graph.Definition{
						marked("young", "a", "2026-03-02T10:00:00Z"),
						marked("old", "a", "2026-03-02T09:00:00Z"),
					}, nil
				},
			},
			calls: []string{"POST", sel}, outcome: Done, newID: "old", mayDup: true,
			notes: []string{"adopted", "1 younger definition(s) also carry [arsync:a]: young; the next plan reports them and apply --allow-delete removes them"},
		},
		{
			name: "a plain error is not an unknown outcome: no look-up",
			plan: createPlan("a"),
			client: &fakeClient{
				create: func(int, *graph.Definition) (*graph.Definition, error) {
					return nil, &graph.Error{StatusCode: http.StatusBadRequest, Method: http.MethodPost, Message: "bad"}
				},
			},
			calls: []string{"POST"}, outcome: Failed, errHas: "creating the definition: POST : 400 Bad Request",
		},
		{
			name: "Ctrl-C while looking: interrupted, not sent again",
			plan: createPlan("a", "b"),
			client: &fakeClient{
				create: func(int, *graph.Definition) (*graph.Definition, error) { return nil, unknown },
			},
			cancel: 2,
			calls:  []string{"POST", sel, sel}, waits: []time.Duration{5 * time.Second, 10 * time.Second},
			outcome: Canceled, errHas: "the look-up for its marker was interrupted; the next plan finds it by its marker",
		},
		{
			name: "replace: the deleted definition's marker does not count",
			plan: &diff.Plan{FormatVersion: diff.FormatVersion, Changes: []diff.Change{{
				Action: diff.Replace, Name: "a", ID: "old", LiveFingerprint: "sha256:x",
				After: &graph.Definition{DescriptionForAdmins: graph.WithMarker("", "a")},
			}}},
			client: &fakeClient{
				create: func(int, *graph.Definition) (*graph.Definition, error) { return nil, unknown },
				list: func(n int) ([]*graph.Definition, error) {
					if n == 1 {
						return []*graph.Definition{marked("old", "a", "")}, nil // still listed
					}
					return []*graph.Definition{marked("old", "a", ""), marked("new", "a", "")}, nil
				},
			},
			calls: []string{"GET old", "DELETE old", "POST", sel, sel}, waits: []time.Duration{5 * time.Second},
			outcome: Done, newID: "new", notes: []string{"adopted"},
		},
		{
			name: "delete of a definition already gone is done, and not sent",
			plan: &diff.Plan{FormatVersion: diff.FormatVersion, Changes: []diff.Change{{Action: diff.Delete, Name: "a", ID: "gone", LiveFingerprint: "sha256:x"}}},
			client: &fakeClient{
				get: func(string) (*graph.Definition, error) {
					return nil, &graph.Error{StatusCode: http.StatusNotFound, Method: http.MethodGet}
				},
			},
			calls: []string{"GET gone"}, outcome: Done, notes: []string{"definition gone was already gone"},
		},
		{
			name: "delete of a definition gone between its read and its delete is done",
			plan: &diff.Plan{FormatVersion: diff.FormatVersion, Changes: []diff.Change{{Action: diff.Delete, Name: "a", ID: "gone", LiveFingerprint: "sha256:x"}}},
			client: &fakeClient{
				del: func(string) error {
					return &graph.Error{StatusCode: http.StatusNotFound, Method: http.MethodDelete}
				},
			},
			calls: []string{"GET gone", "DELETE gone"}, outcome: Done, notes: []string{"definition gone was already gone"},
		},
		{
			name: "update of a definition that is gone is refused, not sent",
			plan: &diff.Plan{FormatVersion: diff.FormatVersion, Changes: []diff.Change{{Action: diff.Update, Name: "a", ID: "gone", DisplayName: "A", LiveFingerprint: "sha256:x",
				After: &graph.Definition{DescriptionForAdmins: graph.WithMarker("", "a")}}}},
			client: &fakeClient{
				get: func(string) (*graph.Definition, error) {
					return nil, &graph.Error{StatusCode: http.StatusNotFound, Method: http.MethodGet}
				},
			},
			calls: []string{"GET gone"}, outcome: Failed,
			errHas: `stale plan: definition gone ("A") no longer exists; nothing was written for a: run arsync plan again`,
		},
		{
			name: "failing to re-read writes nothing",
			plan: &diff.Plan{FormatVersion: diff.FormatVersion, Changes: []diff.Change{{Action: diff.Delete, Name: "a", ID: "x", LiveFingerprint: "sha256:x"}}},
			client: &fakeClient{
				get: func(string) (*graph.Definition, error) {
					return nil, &graph.Error{StatusCode: http.StatusForbidden, Method: http.MethodGet}
				},
			},
			calls: []string{"GET x"}, outcome: Failed,
			errHas: "reading definition x before writing it, so nothing was written: GET : 403 Forbidden",
		},
		{
			name: "replace whose delete fails creates nothing",
			plan: &diff.Plan{FormatVersion: diff.FormatVersion, Changes: []diff.Change{{
				Action: diff.Replace, Name: "a", ID: "old", LiveFingerprint: "sha256:x",
				After: &graph.Definition{DescriptionForAdmins: graph.WithMarker("", "a")},
			}}},
			client: &fakeClient{
				del: func(string) error {
					return &graph.Error{StatusCode: http.StatusForbidden, Method: http.MethodDelete}
				},
			},
			calls: []string{"GET old", "DELETE old"}, outcome: Failed, errHas: "deleting definition old",
		},
		{
			name: "replace whose create fails says the old one is gone",
			plan: &diff.Plan{FormatVersion: diff.FormatVersion, Changes: []diff.Change{{
				Action: diff.Replace, Name: "a", ID: "old", LiveFingerprint: "sha256:x",
				After: &graph.Definition{DescriptionForAdmins: graph.WithMarker("", "a")},
			}}},
			client: &fakeClient{
				create: func(int, *graph.Definition) (*graph.Definition, error) {
					return nil, &graph.Error{StatusCode: http.StatusBadRequest, Method: http.MethodPost}
				},
			},
			calls: []string{"GET old", "DELETE old", "POST"}, outcome: Failed,
			errHas: "definition old was deleted with its review history (instances and decisions) and the new one was not created; run apply again to create it: creating the definition: POST : 400 Bad Request",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			sr := &sleepRecorder{at: tt.cancel}
			if tt.cancel > 0 {
				sr.cancel = cancel
			}
			if tt.client.get == nil {
				tt.client.get = asPlanned(tt.plan)
			}
			rep, _ := Apply(ctx, tt.client, tt.plan, Options{Sleep: sr.Sleep, AllowDelete: true, AllowReplace: true})
			require.NotNil(t, rep)
			res := rep.Results[0]
			require.Equal(t, tt.outcome, res.Outcome, "err: %v", res.Err)
			require.Equal(t, tt.newID, res.NewID)
			require.Equal(t, tt.mayDup, res.MayDuplicate)
			if tt.calls != nil {
				if d := cmp.Diff(tt.calls, tt.client.calls); d != "" {
					t.Errorf("calls (-want +got):\n%s", d)
				}
			}
			if d := cmp.Diff(tt.waits, sr.waits); tt.waits != nil && d != "" {
				t.Errorf("waits (-want +got):\n%s", d)
			}
			if tt.errHas == "" {
				require.NoError(t, res.Err)
			} else {
				require.ErrorContains(t, res.Err, tt.errHas)
			}
			require.Len(t, res.Notes, len(tt.notes), "%q", res.Notes)
			for i, n := range tt.notes {
				require.Contains(t, res.Notes[i], n)
			}
			if tt.cancel > 0 {
				require.Equal(t, NotStarted, rep.Results[1].Outcome)
			}
		})
	}
}

// TestUnknownOutcomeMaxPosts pins the POST count when every attempt is
// unknown and nothing is ever found: MaxCreateAttempts, no more.
func TestUnknownOutcomeMaxPosts(t *testing.T) {
	for _, max := range []int{1, 2, 5} {
		t.Run(fmt.Sprint(max), func(t *testing.T) {
			fc := &fakeClient{create: func(int, *graph.Definition) (*graph.Definition, error) { return nil, unknown }}
			rep, err := Apply(t.Context(), fc, createPlan("a"), Options{Sleep: (&sleepRecorder{}).Sleep, MaxCreateAttempts: max})
			require.ErrorAs(t, err, new(*IncompleteError))
			require.Equal(t, max, fc.posts)
			require.Equal(t, Failed, rep.Results[0].Outcome)
			require.True(t, graph.IsUnknownOutcome(rep.Results[0].Err))
		})
	}
}

func TestValidatePlan(t *testing.T) {
	body := func(name string) *graph.Definition {
		return &graph.Definition{DescriptionForAdmins: graph.WithMarker("d", name)}
	}
	tests := []struct {
		name   string
		change diff.Change
		errHas string
	}{
		{"create ok", diff.Change{Action: diff.Create, Name: "a", After: body("a")}, ""},
		{"noop needs nothing", diff.Change{Action: diff.NoOp, Name: "a"}, ""},
		{"unknown action", diff.Change{Action: "rename", Name: "a"}, "unknown action"},
		{"bad name", diff.Change{Action: diff.Create, Name: "A B", After: body("a")}, "not a valid metadata.name"},
		{"create without body", diff.Change{Action: diff.Create, Name: "a"}, "no request body"},
		{"create without marker", diff.Change{Action: diff.Create, Name: "a", After: &graph.Definition{}}, "does not carry the marker [arsync:a]"},
		{"create with another marker", diff.Change{Action: diff.Create, Name: "a", After: body("b")}, "does not carry the marker [arsync:a]"},
		{"create with an id", diff.Change{Action: diff.Create, Name: "a", After: &graph.Definition{ID: "x", DescriptionForAdmins: graph.Marker("a")}}, "must not carry an id"},
		{"update without id", diff.Change{Action: diff.Update, Name: "a", After: body("a")}, "no live id"},
		{"update body for another id", diff.Change{Action: diff.Update, Name: "a", ID: "x", After: &graph.Definition{ID: "y", DescriptionForAdmins: graph.Marker("a")}}, "carries id y"},
		{"delete without id", diff.Change{Action: diff.Delete, Name: "a"}, "no live id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validatePlan(&diff.Plan{FormatVersion: diff.FormatVersion, Changes: []diff.Change{tt.change}})
			if tt.errHas == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalidPlan)
			require.ErrorContains(t, err, tt.errHas)
		})
	}
	require.ErrorContains(t, validatePlan(nil), "no plan")
	require.ErrorContains(t, validatePlan(&diff.Plan{FormatVersion: 2}), "format version 2")
	twice := &diff.Plan{FormatVersion: diff.FormatVersion, Changes: []diff.Change{
		{Action: diff.Delete, Name: "a", ID: "x"}, {Action: diff.Delete, Name: "b", ID: "x"},
	}}
	require.ErrorContains(t, validatePlan(twice), "definition x is also changed by a")

	// Apply refuses an invalid plan before any call.
	fc := &fakeClient{}
	_, err := Apply(t.Context(), fc, &diff.Plan{FormatVersion: diff.FormatVersion, Changes: []diff.Change{{Action: diff.Create, Name: "a"}}}, Options{})
	require.True(t, errors.Is(err, ErrInvalidPlan))
	require.Empty(t, fc.calls)
}

// TestApplyConcurrencyBound: updates run concurrently, never more than
// Concurrency at once, once the first write has gone through alone (it
// tells whether the sign-in may write at all).
func TestApplyConcurrencyBound(t *testing.T) {
	var mu sync.Mutex
	inFlight, peak, calls := 0, 0, 0
	release := make(chan struct{})
	var once sync.Once
	fc := &fakeClient{update: func(string) error {
		mu.Lock()
		if calls++; calls == 1 {
			mu.Unlock()
			return nil
		}
		inFlight++
		peak = max(peak, inFlight)
		reached := inFlight == 3
		mu.Unlock()
		if reached {
			once.Do(func() { close(release) })
		}
		<-release
		mu.Lock()
		inFlight--
		mu.Unlock()
		return nil
	}}
	p := synthPlan(map[string]int{"update": 9})
	fc.get = asPlanned(p)
	rep, err := Apply(t.Context(), fc, p, Options{Concurrency: 3})
	require.NoError(t, err)
	require.Equal(t, 9, rep.Count(Done))
	require.Equal(t, 3, peak)
}
