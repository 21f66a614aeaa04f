package graphclient

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeClock is an injected clock whose Sleep records the wait and moves
// time forward instead of sleeping.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.sleeps = append(f.sleeps, d)
	f.now = f.now.Add(d)
	f.mu.Unlock()
	return ctx.Err()
}

func (f *fakeClock) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

// recordedRequest is what a test server saw.
type recordedRequest struct {
	Method, Path, EscapedPath, RawQuery string
	Header                              http.Header
	Body                                string
}

// step is one scripted response. drop closes the connection without an
// answer (a reset as the client sees it).
type step struct {
	status int
	header map[string]string
	body   string
	drop   bool
}

// scriptServer answers requests with the scripted steps in order (the last
// one repeats) and records every request.
type scriptServer struct {
	*httptest.Server
	mu    sync.Mutex
	steps []step
	reqs  []recordedRequest
}

func newScriptServer(t *testing.T, steps ...step) *scriptServer {
	t.Helper()
	s := &scriptServer{steps: steps}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, recordedRequest{r.Method, r.URL.Path, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), string(b)})
		i := min(len(s.reqs)-1, len(s.steps)-1)
		st := s.steps[i]
		s.mu.Unlock()
		writeStep(w, st)
	}))
	t.Cleanup(s.Close)
	return s
}

func writeStep(w http.ResponseWriter, st step) {
	if st.drop {
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("response writer cannot hijack")
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	for k, v := range st.header {
		w.Header().Set(k, v)
	}
	if st.body != "" && w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(st.status)
	io.WriteString(w, st.body)
}

func (s *scriptServer) Requests() []recordedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recordedRequest(nil), s.reqs...)
}

const testToken = "test-token-0123456789"

// newTestClient returns a client for srvURL/v1.0 with a fake clock,
// deterministic jitter (0.5) and request ids req-1, req-2, ...
func newTestClient(t *testing.T, srvURL string, mods ...func(*Options)) (*Client, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	var mu sync.Mutex
	n := 0
	opts := Options{
		BaseURL:    srvURL + "/v1.0",
		Credential: StaticToken(testToken),
		Sleep:      clock.Sleep,
		Now:        clock.Now,
		Rand:       func() float64 { return 0.5 },
		NewRequestID: func() string {
			mu.Lock()
			defer mu.Unlock()
			n++
			return fmt.Sprintf("req-%d", n)
		},
	}
	for _, m := range mods {
		m(&opts)
	}
	c, err := New(opts)
	require.NoError(t, err)
	return c, clock
}

// graphError renders Graph's error body.
func graphError(code, msg string) string {
	return fmt.Sprintf(`{"error":{"code":%q,"message":%q,"innerError":{"date":"2026-03-01T12:00:00","request-id":"rid-body","client-request-id":"crid-body"}}}`, code, msg)
}
