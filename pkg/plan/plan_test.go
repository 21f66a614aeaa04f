package plan_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/plan"
	"github.com/arsync/arsync/pkg/spec"
)

var testNow = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testNow }

func TestMakeFake(t *testing.T) {
	t.Parallel()
	g := &fakeGraph{defs: []graph.Definition{liveReview(t, bobID)}}
	var debug bytes.Buffer
	p, err := plan.Make(t.Context(), g, loadSpecs(t, "testdata/fake"), plan.Options{
		Now: fixedNow, TenantID: "contoso", GraphEndpoint: "https://graph.example/v1.0", Debug: &debug,
	})
	require.NoError(t, err)
	require.Equal(t, "2026-12-01T09:00:00Z", p.CreatedAt)
	require.Equal(t, "contoso", p.TenantID)
	require.Equal(t, "https://graph.example/v1.0", p.GraphEndpoint)
	require.Len(t, p.Changes, 1)
	require.Equal(t, diff.Update, p.Changes[0].Action)
	require.Equal(t, "testdata/fake/review.yaml:1", p.Changes[0].Source)
	// Both sides are named: bob from the live side's labels, alice from
	// the spec's resolution.
	var text bytes.Buffer
	require.NoError(t, diff.RenderText(&text, p, diff.TextOptions{}))
	require.Contains(t, text.String(), bobID+" = bob@contoso.com")
	require.Contains(t, text.String(), aliceID+" = alice@contoso.com")
	require.Empty(t, debug.String(), "nothing was left out")
}

func TestMakeErrors(t *testing.T) {
	t.Parallel()
	errGraph := errors.New("Graph said no")
	dup := liveReview(t, aliceID)
	dup2 := dup
	dup2.ID = "11111111-0000-0000-0000-000000000002"
	dup2.CreatedDateTime = "2026-01-11T09:00:00Z"
	tests := []struct {
		name  string
		g     *fakeGraph
		specs string
		check func(t *testing.T, err error)
	}{
		{
			name: "listing fails",
			g:    &fakeGraph{listErr: errGraph},
			check: func(t *testing.T, err error) {
				require.ErrorIs(t, err, errGraph)
				require.EqualError(t, err, "listing the tenant's access review definitions: Graph said no")
			},
		},
		{
			name: "a look-up fails",
			g:    &fakeGraph{lookupErr: errGraph},
			check: func(t *testing.T, err error) {
				require.ErrorIs(t, err, errGraph)
				require.ErrorContains(t, err, "resolving names in the directory: ")
			},
		},
		{
			name:  "a name matches nothing",
			g:     &fakeGraph{},
			specs: "carol@contoso.com",
			check: func(t *testing.T, err error) {
				var diags spec.Diagnostics
				require.ErrorAs(t, err, &diags)
				require.Len(t, diags, 1)
				require.Equal(t, spec.Error, diags[0].Severity)
				// Unwrapped: the message is the diagnostics', each at its
				// file:line:col.
				require.Equal(t, diags.Error(), err.Error())
				require.Contains(t, err.Error(), "review.yaml:10:")
				require.Contains(t, err.Error(), "carol@contoso.com")
			},
		},
		{
			name: "resolution fails before a listing failure is seen",
			g:    &fakeGraph{lookupErr: errGraph, listErr: errors.New("later")},
			check: func(t *testing.T, err error) {
				require.ErrorContains(t, err, "resolving names in the directory: ")
			},
		},
		{
			name: "duplicate markers",
			g:    &fakeGraph{defs: []graph.Definition{dup, dup2}},
			check: func(t *testing.T, err error) {
				var de *diff.DuplicateMarkerError
				require.ErrorAs(t, err, &de)
				require.Equal(t, "marketing-members", de.Name)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			specs := loadSpecs(t, "testdata/fake")
			if tt.specs != "" {
				specs = withReviewer(t, tt.specs)
			}
			p, err := plan.Make(t.Context(), tt.g, specs, plan.Options{Now: fixedNow})
			require.Nil(t, p)
			require.Error(t, err)
			tt.check(t, err)
		})
	}
}

// withReviewer is testdata/fake/review.yaml with another reviewer.
func withReviewer(t *testing.T, upn string) *spec.Result {
	t.Helper()
	src := readFile(t, "testdata/fake/review.yaml")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "review.yaml"), strings.Replace(src, "alice@contoso.com", upn, 1))
	return loadSpecs(t, dir)
}

func TestMakeNilInputs(t *testing.T) {
	t.Parallel()
	_, err := plan.Make(t.Context(), nil, loadSpecs(t, "testdata/fake"), plan.Options{})
	require.EqualError(t, err, "plan: no Graph client")
	_, err = plan.Make(t.Context(), &fakeGraph{}, nil, plan.Options{})
	require.EqualError(t, err, "plan: no specs")

	// Specs with errors: the broken definition is missing from
	// Definitions, and planning would delete it.
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "review.yaml"), strings.Replace(readFile(t, "testdata/fake/review.yaml"), "instanceDurationInDays", "instanceDurationInDayz", 1))
	res, err := spec.Load(dir)
	require.NoError(t, err)
	require.True(t, res.Diagnostics.HasErrors())
	g := &fakeGraph{}
	g.onList = func(context.Context) error { t.Error("Graph was called"); return nil }
	_, err = plan.Make(t.Context(), g, res, plan.Options{})
	require.EqualError(t, err, "plan: the specs have 1 error(s); nothing was sent to Graph")
}

// TestMakeDuplicatesDeleted: DeleteDuplicates reaches diff.Compute.
func TestMakeDuplicatesDeleted(t *testing.T) {
	t.Parallel()
	a := liveReview(t, aliceID)
	b := a
	b.ID = "11111111-0000-0000-0000-000000000002"
	b.CreatedDateTime = "2026-01-11T09:00:00Z"
	p, err := plan.Make(t.Context(), &fakeGraph{defs: []graph.Definition{a, b}}, loadSpecs(t, "testdata/fake"),
		plan.Options{Now: fixedNow, DeleteDuplicates: true})
	require.NoError(t, err)
	var deleted []string
	for _, c := range p.Changes {
		if c.Action == diff.Delete {
			deleted = append(deleted, c.ID)
		}
	}
	require.Equal(t, []string{b.ID}, deleted, "the younger one")
}

// TestMakeConcurrent: the listing and the name look-ups are independent
// round trips and overlap. Each fake waits for the other to have started;
// run one after the other, they would wait for ever (the test's context
// ends the wait instead, and the test fails).
func TestMakeConcurrent(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	listing, lookingUp := make(chan struct{}), make(chan struct{})
	g := &fakeGraph{
		onList: func(context.Context) error {
			close(listing)
			return waitFor(ctx, lookingUp, "a name look-up")
		},
		// Users and groups are looked up concurrently: signal once.
		onLookup: onceThen(lookingUp, func() error { return waitFor(ctx, listing, "the listing") }),
	}
	_, err := plan.Make(ctx, g, loadSpecs(t, "testdata/fake"), plan.Options{Now: fixedNow})
	require.NoError(t, err)
}

// onceThen closes ch on the first call (of any goroutine) and then runs f.
func onceThen(ch chan struct{}, f func() error) func(context.Context) error {
	var once sync.Once
	return func(context.Context) error {
		once.Do(func() { close(ch) })
		return f()
	}
}

func waitFor(ctx context.Context, ch <-chan struct{}, what string) error {
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s never started alongside: not concurrent", what)
	}
}

func TestMakeCancelled(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		g    func(cancel context.CancelFunc) *fakeGraph
	}{
		{"before it starts", func(cancel context.CancelFunc) *fakeGraph {
			cancel()
			return &fakeGraph{onList: ctxErr, onLookup: ctxErr}
		}},
		{"while listing", func(cancel context.CancelFunc) *fakeGraph {
			return &fakeGraph{onList: func(ctx context.Context) error { cancel(); return ctx.Err() }}
		}},
		{"while resolving", func(cancel context.CancelFunc) *fakeGraph {
			return &fakeGraph{onLookup: func(ctx context.Context) error { cancel(); return ctx.Err() }}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			g := tt.g(cancel)
			var debug bytes.Buffer
			p, err := plan.Make(ctx, g, loadSpecs(t, "testdata/fake"), plan.Options{Now: fixedNow, Debug: &debug})
			require.ErrorIs(t, err, context.Canceled)
			require.Nil(t, p)
			require.Empty(t, debug.String(), "a cancellation is not a skipped courtesy")
		})
	}
}

func ctxErr(ctx context.Context) error { return ctx.Err() }
