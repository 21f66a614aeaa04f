package graphclient

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"
)

// maxJitter bounds the random time added to every wait the service asked
// for. Requests that were told the same Retry-After (or held back by the
// same pause) would otherwise all come back in the same instant, be
// throttled together, and do it again (docs/graph-behaviour.md#throttling-and-retries);
// a second spreads a few parallel requests well apart while adding
// little to Graph's waits of seconds to minutes.
const maxJitter = time.Second

// throttleGate holds back every request of a client to its Graph host
// while the service has asked for a pause. The client sends only to one
// host (sameOrigin), so one gate is that host's gate.
type throttleGate struct {
	mu    sync.Mutex
	until time.Time
}

// pauseUntil closes the gate until t, unless it is already closed longer.
func (g *throttleGate) pauseUntil(t time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if t.After(g.until) {
		g.until = t
	}
}

// openAt is when the gate opens (in the past when it is open).
func (g *throttleGate) openAt() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.until
}

// pauseHost closes the gate for d from now: after a 429, or a 503 with
// Retry-After, every request to the host waits, not just the one that
// was told. Graph counts throttled requests against the limit too, and
// its limits are per application and tenant, not per request. A wait
// longer than MaxRetryWait closes nothing: the request that got it gives
// up, and the others find out for themselves.
func (c *Client) pauseHost(d time.Duration) {
	if d <= 0 || c.maxRetryWait > 0 && d > c.maxRetryWait {
		return
	}
	c.gate.pauseUntil(c.now().Add(d))
}

// waitForHost waits while the host is paused, plus jitter, so that the
// requests held back come back spread out. It gives up, before sending,
// when the pause would outlast ctx's deadline.
func (c *Client) waitForHost(ctx context.Context, cl call) error {
	for {
		d := c.gate.openAt().Sub(c.now())
		if d <= 0 {
			return nil
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
			return fmt.Errorf("not sent: Microsoft Graph asked to pause requests to %s for another %s, past the deadline: %w",
				c.base.Host, d, context.DeadlineExceeded)
		}
		total := c.withJitter(ctx, d)
		c.logf("graph: %s %s waits %s: Microsoft Graph asked to pause requests to %s (Retry-After)", cl.method, c.sanitize(cl.url), total.Round(time.Millisecond), c.base.Host)
		if err := c.sleep(ctx, total); err != nil {
			return err
		}
	}
}

// withJitter returns d plus a random part of maxJitter from the client's
// random source, cut so that the wait does not outlast ctx's deadline.
func (c *Client) withJitter(ctx context.Context, d time.Duration) time.Duration {
	r := c.rand()
	if r < 0 || r >= 1 || math.IsNaN(r) {
		r = 0
	}
	total := d + time.Duration(r*float64(maxJitter))
	if dl, ok := ctx.Deadline(); ok {
		total = max(d, min(total, time.Until(dl)))
	}
	return total
}
