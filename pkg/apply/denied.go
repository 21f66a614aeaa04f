package apply

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/arsync/arsync/pkg/graph"
)

// A write Graph refuses with 401 or 403 says the sign-in may not write
// access reviews; every other write of the run would be refused alike
// (docs/graph-behaviour.md#permissions). So apply starts nothing after
// one, and sends writes one at a time until one has succeeded: a run
// without the permission sends one write, not one per change in flight.

// errStopped is the error of a write not sent because an earlier one was
// refused; the change counts as not started.
var errStopped = errors.New("not sent: an earlier write was refused")

// writePermission names what a definition write needs
// (docs/graph-behaviour.md#permissions). Whether the sign-in is an app or
// a user cannot be told here, so the hint names both.
const writePermission = "writing access-review definitions needs AccessReview.ReadWrite.All: " +
	"an application permission with admin consent for an app's sign-in, or, for a signed-in user, " +
	"the delegated permission together with a directory role such as Identity Governance Administrator"

// refusedWrite returns the *graph.Error of err when it is a write (not a
// read) that Graph answered 401 or 403, else nil.
func refusedWrite(err error) *graph.Error {
	var ge *graph.Error
	if err == nil || graph.IsUnknownOutcome(err) || !errors.As(err, &ge) {
		return nil
	}
	if ge.StatusCode != http.StatusUnauthorized && ge.StatusCode != http.StatusForbidden {
		return nil
	}
	switch ge.Method {
	case http.MethodGet, http.MethodHead, "":
		return nil
	}
	return ge
}

// mustFinishKey marks the context of a write that completes a change
// already half done (a replace's create after its delete): it is sent
// even after a refusal, or the review would be left deleted.
type mustFinishKey struct{}

// writeGate serialises writes until one succeeds and remembers the first
// refused one.
type writeGate struct {
	probe   sync.Mutex
	wroteOK atomic.Bool
	refused atomic.Pointer[graph.Error]
}

func (g *writeGate) stopped() *graph.Error { return g.refused.Load() }

// do sends one write through the gate.
func (g *writeGate) do(ctx context.Context, write func() error) error {
	if !g.wroteOK.Load() {
		g.probe.Lock()
		if g.wroteOK.Load() {
			g.probe.Unlock()
		} else {
			defer g.probe.Unlock()
		}
	}
	if g.stopped() != nil && ctx.Value(mustFinishKey{}) == nil {
		return errStopped
	}
	err := write()
	if err == nil {
		g.wroteOK.Store(true)
	} else if ge := refusedWrite(err); ge != nil {
		g.refused.CompareAndSwap(nil, ge)
	}
	return err
}

// gatedClient sends c's writes through g.
type gatedClient struct {
	Client
	g *writeGate
}

func (c gatedClient) CreateDefinition(ctx context.Context, d *graph.Definition) (out *graph.Definition, err error) {
	err = c.g.do(ctx, func() error {
		out, err = c.Client.CreateDefinition(ctx, d)
		return err
	})
	return out, err
}

func (c gatedClient) UpdateDefinition(ctx context.Context, id string, d *graph.Definition) error {
	return c.g.do(ctx, func() error { return c.Client.UpdateDefinition(ctx, id, d) })
}

func (c gatedClient) DeleteDefinition(ctx context.Context, id string) error {
	return c.g.do(ctx, func() error { return c.Client.DeleteDefinition(ctx, id) })
}

// refusalHint says what a refused write needs, for the report.
func refusalHint(ge *graph.Error) string {
	what := "Graph refused the write (403 Forbidden)"
	if ge.StatusCode == http.StatusUnauthorized {
		what = "Graph did not accept the sign-in's token for the write (401 Unauthorized)"
	}
	return fmt.Sprintf("%s: %s", what, writePermission)
}
