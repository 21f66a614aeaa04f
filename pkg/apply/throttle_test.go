package apply

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/emulator/emulatortest"
	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/graphclient"
)

// simClock is virtual time in which waits end in the order of their
// deadlines, as they would in real time, but without waiting for real:
// when nothing has happened for a moment (no wait began, no request is
// on its way: see simTransport), the clock jumps to the earliest deadline
// and wakes that one waiter, then waits for quiet again. Waiters due at the same
// time wake in the order they began to wait. The fake clock of the other
// tests moves time on every Sleep, so parallel waits add up and the order
// in which parallel requests come back is left to the scheduler: it
// cannot show requests that come back together.
type simClock struct {
	mu       sync.Mutex
	now      time.Time
	waiters  []*simWaiter
	seq      int
	activity int // bumped by everything that happens
	busy     int // requests being forwarded
}

type simWaiter struct {
	at   time.Time
	seq  int
	wake chan struct{}
}

// simQuiet is how long nothing must happen before the clock moves.
const simQuiet = 5 * time.Millisecond

func newSimClock() *simClock { return &simClock{now: testStart} }

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *simClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	c.mu.Lock()
	w := &simWaiter{at: c.now.Add(d), seq: c.seq, wake: make(chan struct{})}
	c.seq++
	c.activity++
	c.waiters = append(c.waiters, w)
	c.mu.Unlock()
	select {
	case <-w.wake:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		c.waiters = slices.DeleteFunc(c.waiters, func(x *simWaiter) bool { return x == w })
		c.activity++
		c.mu.Unlock()
		return ctx.Err()
	}
}

// working marks a stretch of real work (a request on its way) during
// which the clock must not move.
func (c *simClock) working(delta int) {
	c.mu.Lock()
	c.busy += delta
	c.activity++
	c.mu.Unlock()
}

// run moves the clock until stop is closed.
func (c *simClock) run(stop <-chan struct{}) {
	for {
		c.mu.Lock()
		last := c.activity
		c.mu.Unlock()
		select {
		case <-stop:
			return
		case <-time.After(simQuiet):
		}
		c.mu.Lock()
		if c.activity == last && c.busy == 0 && len(c.waiters) > 0 {
			next := slices.MinFunc(c.waiters, func(a, b *simWaiter) int {
				if d := a.at.Compare(b.at); d != 0 {
					return d
				}
				return a.seq - b.seq
			})
			c.waiters = slices.DeleteFunc(c.waiters, func(x *simWaiter) bool { return x == next })
			if next.at.After(c.now) {
				c.now = next.at
			}
			c.activity++
			close(next.wake)
		}
		c.mu.Unlock()
	}
}

// everyThird is a Graph in front of the emulator that takes latency of
// virtual time to answer and throttles every third access-review request
// with 429 and Retry-After: 1, whoever sends it. Like Graph, it counts
// throttled requests too: a request that arrives while it is throttled is
// refused again and keeps it throttled for another second
// (docs/graph-behaviour.md#throttling-and-retries). It counts the
// requests that came back before their own Retry-After had passed, and
// those sent after a 429 had reached the client and before its
// Retry-After had passed: a client that knows the service is throttling
// it should not send anything then.
//
// (A client without the shared pause converges here too, but only
// because its requests are then refused and it waits each out; against
// Graph, they would prolong the throttling.)
type everyThird struct {
	clock   *simClock
	latency time.Duration
	proxy   *httputil.ReverseProxy

	mu         sync.Mutex
	n          int
	until      time.Time // throttled until then
	throttled  int
	notBefore  map[string]time.Time // method and path -> end of its Retry-After
	violations int
	// pausedFrom and pausedUntil are when the latest 429 reached the
	// client and when its Retry-After ends.
	pausedFrom, pausedUntil time.Time
	ignoredPause            int
}

func (f *everyThird) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.Method + " " + r.URL.Path
	f.mu.Lock()
	now := f.clock.Now()
	if nb, ok := f.notBefore[key]; ok && now.Before(nb) {
		f.violations++
	}
	delete(f.notBefore, key)
	if now.After(f.pausedFrom) && now.Before(f.pausedUntil) {
		f.ignoredPause++
	}
	throttle := false
	if strings.Contains(r.URL.Path, "/identityGovernance/") {
		if now.Before(f.until) {
			throttle = true
		} else {
			f.n++
			throttle = f.n%3 == 0
		}
	}
	if throttle {
		f.throttled++
		f.until = now.Add(time.Second)
		f.notBefore[key] = f.until
	}
	f.mu.Unlock()
	f.clock.working(-1) // the latency is virtual time
	err := f.clock.Sleep(r.Context(), f.latency)
	f.clock.working(1)
	if err != nil {
		return
	}
	if throttle {
		f.mu.Lock()
		now := f.clock.Now()
		f.pausedFrom = now
		if end := now.Add(time.Second); end.After(f.pausedUntil) {
			f.pausedUntil = end
		}
		f.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"error":{"code":"TooManyRequests","message":"Too many requests from Identifier:x under category:throttle.msgraph.accessreviews.app.10s"}}`)
		return
	}
	f.proxy.ServeHTTP(w, r)
}

// simTransport keeps the simulated clock still from the moment a request
// is sent until its answer has been read (but for the service's virtual
// latency), so that time cannot move between a 429 and the client's
// reaction to it.
type simTransport struct{ clock *simClock }

func (t simTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.clock.working(1)
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		t.clock.working(-1)
		return nil, err
	}
	resp.Body = &simBody{ReadCloser: resp.Body, clock: t.clock}
	return resp, nil
}

type simBody struct {
	io.ReadCloser
	clock *simClock
	once  sync.Once
}

func (b *simBody) Close() error {
	b.once.Do(func() { b.clock.working(-1) })
	return b.ReadCloser.Close()
}

// TestParallelUpdatesConvergeUnderThrottling: 20 updates with concurrency
// 4 against a Graph that throttles every third request all succeed: the
// client pauses every request while the host is throttled and spreads
// the retries with jitter, instead of sending the throttled requests
// back together (in the same order, into the same 429s) until their
// retries run out. No request comes back before its Retry-After.
func TestParallelUpdatesConvergeUnderThrottling(t *testing.T) {
	t.Parallel()
	clock := newSimClock()
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go clock.run(stop)

	run := emulatortest.New(t, emulator.Options{Clock: clock.Now, Seed: 11})
	direct, err := graphclient.New(graphclient.Options{BaseURL: run.URL, Credential: graphclient.StaticToken(run.Token)})
	require.NoError(t, err)
	const n = 20
	for i := range n {
		body := def(i).Definition
		body.DescriptionForAdmins = graph.WithMarker(body.DescriptionForAdmins, def(i).Name)
		_, err := direct.CreateDefinition(context.Background(), &body)
		require.NoError(t, err)
	}

	upstream, err := url.Parse(run.URL)
	require.NoError(t, err)
	fake := &everyThird{clock: clock, latency: 100 * time.Millisecond, notBefore: map[string]time.Time{},
		proxy: httputil.NewSingleHostReverseProxy(&url.URL{Scheme: upstream.Scheme, Host: upstream.Host})}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)

	rng := rand.New(rand.NewPCG(13, 13))
	var rngMu sync.Mutex
	client, err := graphclient.New(graphclient.Options{
		BaseURL:    srv.URL + "/v1.0",
		Credential: graphclient.StaticToken(run.Token),
		Sleep:      clock.Sleep,
		Now:        clock.Now,
		HTTPClient: &http.Client{Transport: simTransport{clock}},
		Rand: func() float64 {
			rngMu.Lock()
			defer rngMu.Unlock()
			return rng.Float64()
		},
	})
	require.NoError(t, err)

	desired := make([]diff.Desired, n)
	for i := range desired {
		desired[i] = def(i, withDuration(10+i))
	}
	var live []graph.Definition
	for d, err := range direct.ListDefinitions(context.Background(), nil) {
		require.NoError(t, err)
		live = append(live, *d)
	}
	p, err := diff.Compute(desired, live, diff.Options{Now: clock.Now(), TenantID: "contoso", GraphEndpoint: srv.URL + "/v1.0"})
	require.NoError(t, err)
	require.Equal(t, diff.Summary{Update: n}, p.Summary)

	var progress bytes.Buffer
	t0 := clock.Now()
	rep, err := Apply(context.Background(), client, p, Options{
		Force: true, Concurrency: 4, Progress: &progress, Now: clock.Now, Sleep: clock.Sleep,
	})
	require.NoError(t, err, "progress:\n%s", progress.String())
	require.Equal(t, n, rep.Count(Done), "every update done; progress:\n%s", progress.String())

	fake.mu.Lock()
	t.Logf("%d throttled, %d sent while paused, %s of virtual time", fake.throttled, fake.ignoredPause, clock.Now().Sub(t0))
	require.Positive(t, fake.throttled, "the throttle is on")
	require.Zero(t, fake.violations, "requests sent before their Retry-After")
	require.Zero(t, fake.ignoredPause, "requests sent after a 429 reached the client, before its Retry-After")
	fake.mu.Unlock()

	var after []graph.Definition
	for d, err := range direct.ListDefinitions(context.Background(), nil) {
		require.NoError(t, err)
		after = append(after, *d)
	}
	p, err = diff.Compute(desired, after, diff.Options{Now: clock.Now(), TenantID: "contoso", GraphEndpoint: srv.URL + "/v1.0"})
	require.NoError(t, err)
	require.False(t, p.HasChanges(), "converged: the next plan has nothing to do")
}
