package graphclient

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/graph"
)

// manualClock is virtual time that moves only when the test says: a
// Sleep blocks until Advance has moved the clock past its end, so the
// test sees every waiter and decides when each wakes.
type manualClock struct {
	mu       sync.Mutex
	now      time.Time
	waiters  []manualWaiter
	asleep   chan time.Duration // receives every wait as it starts
	requests []time.Duration    // every wait asked for
}

type manualWaiter struct {
	until time.Time
	wake  chan struct{}
}

func newManualClock() *manualClock {
	return &manualClock{now: newFakeClock().Now(), asleep: make(chan time.Duration, 100)}
}

func (m *manualClock) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

func (m *manualClock) Sleep(ctx context.Context, d time.Duration) error {
	m.mu.Lock()
	w := manualWaiter{until: m.now.Add(d), wake: make(chan struct{})}
	m.waiters = append(m.waiters, w)
	m.requests = append(m.requests, d)
	m.mu.Unlock()
	m.asleep <- d
	select {
	case <-w.wake:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Advance moves the clock and wakes the waiters whose time has come; it
// returns how many woke.
func (m *manualClock) Advance(d time.Duration) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = m.now.Add(d)
	woke := 0
	m.waiters = slices.DeleteFunc(m.waiters, func(w manualWaiter) bool {
		if m.now.Before(w.until) {
			return false
		}
		close(w.wake)
		woke++
		return true
	})
	return woke
}

// TestThrottlingPausesEveryRequestToTheHost: after one 429 with
// Retry-After: 2, no request at all reaches the host until 2 s have
// passed, and the requests held back come back spread out (jitter), not
// all at once.
func TestThrottlingPausesEveryRequestToTheHost(t *testing.T) {
	t.Parallel()
	clock := newManualClock()
	var mu sync.Mutex
	var arrivals []time.Duration // since the start, per request
	start := clock.Now()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrivals = append(arrivals, clock.Now().Sub(start))
		first := len(arrivals) == 1
		mu.Unlock()
		if first {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, graphError("TooManyRequests", "slow down"))
			return
		}
		fmt.Fprint(w, `{"id":"x"}`)
	}))
	t.Cleanup(srv.Close)
	rng := rand.New(rand.NewPCG(1, 2))
	var rngMu sync.Mutex
	c, _ := newTestClient(t, srv.URL, func(o *Options) {
		o.Sleep, o.Now = clock.Sleep, clock.Now
		o.Rand = func() float64 { rngMu.Lock(); defer rngMu.Unlock(); return rng.Float64() }
	})
	arrived := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(arrivals)
	}

	errs := make(chan error, 5)
	get := func(id string) { _, err := c.GetDefinition(context.Background(), id); errs <- err }
	go get("first")
	guard(t, clock.asleep, "the throttled request waits")
	for i := range 4 {
		go get(fmt.Sprint("other-", i))
	}
	for held := 0; held < 4; {
		select {
		case <-clock.asleep:
			held++
		case err := <-errs:
			t.Fatalf("a request was answered (error %v) while the host was throttled: %d requests sent", err, arrived())
		case <-time.After(30 * time.Second):
			t.Fatal("stuck: the requests held back by the throttled host never waited")
		}
	}
	require.Equal(t, 1, arrived(), "nothing but the throttled request was sent")
	require.Zero(t, clock.Advance(1999*time.Millisecond), "no wait ends before Retry-After")
	require.Equal(t, 1, arrived())

	// Let time pass in small steps until every request is done.
	for done := 0; done < 5; {
		select {
		case err := <-errs:
			require.NoError(t, err)
			done++
		case <-clock.asleep: // a request found the gate closed again: fine
		case <-time.After(time.Millisecond):
			clock.Advance(50 * time.Millisecond)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, arrivals, 6, "five requests, the first of them twice")
	for _, at := range arrivals[1:] {
		require.GreaterOrEqual(t, at, 2*time.Second, "a request was sent while the host was throttled: %v", arrivals)
	}
	clock.mu.Lock()
	waits := slices.Clone(clock.requests[:5])
	clock.mu.Unlock()
	slices.Sort(waits)
	require.Greater(t, waits[4]-waits[0], 200*time.Millisecond, "the waits are spread by jitter: %v", waits)
	require.Less(t, waits[4], 3*time.Second, "jitter adds at most a second: %v", waits)
	require.Equal(t, waits, slices.Compact(slices.Clone(waits)), "no two waits alike: %v", waits)
}

// TestThrottleGateKeepsRetryAfterLimits: a request held back by the gate
// gives up, with nothing sent, when the wait would pass its deadline; the
// gate does not hold requests for a Retry-After longer than MaxRetryWait
// (the request that got it fails at once instead).
func TestThrottleGateKeepsRetryAfterLimits(t *testing.T) {
	t.Parallel()
	srv := newScriptServer(t,
		step{status: 429, header: map[string]string{"Retry-After": "30"}, body: graphError("TooManyRequests", "slow down")},
		step{status: 429, header: map[string]string{"Retry-After": "3600"}, body: graphError("TooManyRequests", "much slower")},
		step{status: 200, body: `{"id":"x"}`},
	)
	c, clock := newTestClient(t, srv.URL, func(o *Options) { o.MaxRetries = -1 })
	_, err := c.GetDefinition(t.Context(), "a")
	require.True(t, graph.IsThrottled(err))

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err = c.CreateDefinition(ctx, &graph.Definition{DisplayName: "x"})
	require.ErrorContains(t, err, "not sent: Microsoft Graph asked to pause requests to")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.False(t, graph.IsUnknownOutcome(err), "nothing was sent")
	require.Len(t, srv.Requests(), 1)
	require.Empty(t, clock.Sleeps())

	// After the 30 s, the next request goes; its 3600 s Retry-After is
	// over MaxRetryWait, so it fails and closes nothing.
	_, err = c.GetDefinition(t.Context(), "b")
	require.ErrorContains(t, err, "much slower")
	_, err = c.GetDefinition(t.Context(), "c")
	require.NoError(t, err)
	require.Len(t, clock.Sleeps(), 1, "one wait, for the gate the first 429 closed")
	require.GreaterOrEqual(t, clock.Sleeps()[0], 30*time.Second)
}
