package apply

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/graph"
)

// Where the grace after Ctrl-C runs out during a replace.
const (
	cutAsDeleteReturns = iota // the DELETE committed; the create never starts
	cutBeforePOST             // the create is cut off before its POST is sent
	cutDuringPOST             // the POST is in flight: its outcome is unknown
)

// graceOnCue is an Options.graceTimer that does not run out by itself: end
// runs it out, once Apply has started it (that happens on a goroutine of
// its own after cancellation).
type graceOnCue struct {
	t       *testing.T
	started chan func()
}

func newGraceOnCue(t *testing.T) *graceOnCue {
	return &graceOnCue{t: t, started: make(chan func(), 1)}
}

func (g *graceOnCue) timer(_ time.Duration, f func()) func() bool {
	g.started <- f
	return func() bool { return true }
}

func (g *graceOnCue) end() {
	select {
	case f := <-g.started:
		f()
	case <-time.After(time.Minute): // a failure guard, not synchronisation
		g.t.Error("the grace was never started")
	}
}

// cutOffClient is a fakeClient whose replace is interrupted after its
// DELETE: Ctrl-C comes while the DELETE is in flight, and the grace runs
// out at cut. Its create fails as graphclient's does on an abandoned
// context: with the context's error when nothing was sent, with an unknown
// outcome when the POST was in flight.
type cutOffClient struct {
	*fakeClient
	cancel context.CancelFunc
	grace  *graceOnCue
	cut    int
}

func (c *cutOffClient) DeleteDefinition(ctx context.Context, id string) error {
	c.cancel()
	if c.cut == cutAsDeleteReturns {
		c.grace.end()
	}
	return c.fakeClient.DeleteDefinition(ctx, id)
}

func (c *cutOffClient) CreateDefinition(ctx context.Context, d *graph.Definition) (*graph.Definition, error) {
	c.record("POST")
	c.grace.end()
	if err := ctx.Err(); err == nil {
		return nil, nil // unreachable: the test then fails on the outcome
	}
	if c.cut == cutDuringPOST {
		return nil, &graph.UnknownOutcomeError{Method: http.MethodPost, URL: "https://graph/definitions", Err: ctx.Err()}
	}
	return nil, ctx.Err()
}

// TestReplaceInterruptedAfterItsDelete: Ctrl-C during a replace's delete,
// and the grace runs out before its create is done. The old definition and
// its history are gone: the result must say so, and what to do, rather
// than only "context canceled".
func TestReplaceInterruptedAfterItsDelete(t *testing.T) {
	replace := &diff.Plan{FormatVersion: diff.FormatVersion, Changes: []diff.Change{{
		Action: diff.Replace, Name: "a", ID: "old", LiveFingerprint: "sha256:x",
		After: &graph.Definition{DescriptionForAdmins: graph.WithMarker("", "a")},
	}}}
	const (
		gone       = "definition old was deleted with its review history (instances and decisions)"
		notCreated = gone + " and the new one was not created; run apply again to create it: "
	)
	tests := []struct {
		name   string
		cut    int
		calls  []string
		errHas []string
	}{
		{
			name:   "grace over as the delete returns",
			cut:    cutAsDeleteReturns,
			calls:  []string{"GET old", "DELETE old"},
			errHas: []string{notCreated + "not created: context canceled"},
		},
		{
			name:   "create cut off before its POST was sent",
			cut:    cutBeforePOST,
			calls:  []string{"GET old", "DELETE old", "POST"},
			errHas: []string{notCreated + "creating the definition: context canceled"},
		},
		{
			name:  "create cut off while its POST was in flight",
			cut:   cutDuringPOST,
			calls: []string{"GET old", "DELETE old", "POST"},
			errHas: []string{
				gone + " and the new one may not have been created; run apply again: it adopts the new one by its marker if it exists, or creates it: ",
				"the look-up for its marker was interrupted",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			grace := newGraceOnCue(t)
			fc := &cutOffClient{fakeClient: &fakeClient{get: asPlanned(replace)}, cancel: cancel, grace: grace, cut: tt.cut}
			var progress strings.Builder
			rep, err := Apply(ctx, fc, replace, Options{
				AllowReplace: true, Progress: &progress, graceTimer: grace.timer,
				Now: func() time.Time { return testStart },
			})
			require.ErrorIs(t, err, context.Canceled)
			require.Equal(t, tt.calls, fc.calls)
			res := rep.Results[0]
			require.Equal(t, Canceled, res.Outcome, "err: %v", res.Err)
			require.ErrorIs(t, res.Err, context.Canceled)
			for _, s := range tt.errHas {
				require.ErrorContains(t, res.Err, s)
			}
			require.Contains(t, progress.String(), "[1/1] -/+ replace a ... canceled (0s): "+gone)

			var report strings.Builder
			require.NoError(t, rep.Write(&report))
			require.Contains(t, report.String(), "canceled  "+gone)
		})
	}
}
