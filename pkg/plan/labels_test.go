package plan_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/plan"
)

// TestMakeLabelsSkipped: when the live side's ids cannot be named (no
// directory read permission, say), the plan still comes, with ids, and
// the debug writer says why.
func TestMakeLabelsSkipped(t *testing.T) {
	t.Parallel()
	forbidden := &graph.Error{StatusCode: 403, Code: "Authorization_RequestDenied", Message: "Insufficient privileges to complete the operation."}
	for _, debugOn := range []bool{true, false} {
		t.Run(fmt.Sprint("debug ", debugOn), func(t *testing.T) {
			t.Parallel()
			g := &fakeGraph{defs: []graph.Definition{liveReview(t, bobID)}, objectsErr: forbidden}
			opts := plan.Options{Now: fixedNow}
			var debug bytes.Buffer
			if debugOn {
				opts.Debug = &debug
			}
			p, err := plan.Make(t.Context(), g, loadSpecs(t, "testdata/fake"), opts)
			require.NoError(t, err)
			require.Equal(t, 1, g.objectCalls)
			var text bytes.Buffer
			require.NoError(t, diff.RenderText(&text, p, diff.TextOptions{}))
			require.NotContains(t, text.String(), bobID+" = bob", "no label for the live side")
			require.Contains(t, text.String(), bobID)
			if !debugOn {
				return
			}
			lines := strings.Split(strings.TrimSuffix(debug.String(), "\n"), "\n")
			require.Len(t, lines, 1, debug.String())
			require.Contains(t, lines[0], "plan: ")
			require.Contains(t, lines[0], "without names")
			require.Contains(t, lines[0], "Insufficient privileges")
		})
	}
}

// TestMakeCancelledWhileLabelling: naming the live ids is optional, but a
// cancellation while at it still ends the plan.
func TestMakeCancelledWhileLabelling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		g    func(cancel context.CancelFunc) *fakeGraph
	}{
		{"while naming the live ids", func(cancel context.CancelFunc) *fakeGraph {
			return &fakeGraph{defs: []graph.Definition{liveReview(t, bobID)},
				onObjects: func(ctx context.Context) error { cancel(); return ctx.Err() }}
		}},
		{"while naming the live ids, with another error", func(cancel context.CancelFunc) *fakeGraph {
			// A transport may report a cancelled request in its own words.
			return &fakeGraph{defs: []graph.Definition{liveReview(t, bobID)},
				onObjects: func(context.Context) error { cancel(); return errors.New("request aborted") }}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var debug bytes.Buffer
			p, err := plan.Make(ctx, tt.g(cancel), loadSpecs(t, "testdata/fake"), plan.Options{Now: fixedNow, Debug: &debug})
			require.ErrorIs(t, err, context.Canceled)
			require.Nil(t, p)
			require.Empty(t, debug.String(), "a cancellation is not a skipped courtesy")
		})
	}
}
