package graphclient

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arsync/arsync/pkg/graph"
	"github.com/stretchr/testify/require"
)

// faultyServer answers GET definitions/{id} and POST definitions, failing a
// seeded 20% of requests with 429/503/504 whose Retry-After is an integer,
// a fraction, an HTTP date or absent. It counts Retry-After violations: a
// request that comes back (same client-request-id) before the time it was
// told. Time is the test's fake clock, shared with the client.
type faultyServer struct {
	*httptest.Server
	clock *fakeClock

	mu         sync.Mutex
	rng        *rand.Rand
	notBefore  map[string]time.Time // client-request-id -> earliest allowed retry
	violations int
	faults     map[int]int
	requests   int
	created    int
}

func newFaultyServer(t *testing.T, clock *fakeClock, seed uint64) *faultyServer {
	f := &faultyServer{clock: clock, rng: rand.New(rand.NewPCG(seed, seed)), notBefore: map[string]time.Time{}, faults: map[int]int{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *faultyServer) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	now := f.clock.Now()
	crid := r.Header.Get("client-request-id")
	if nb, ok := f.notBefore[crid]; ok && now.Before(nb) {
		f.violations++
	}
	delete(f.notBefore, crid)
	if f.rng.Float64() < 0.2 {
		status := []int{429, 503, 504}[f.rng.IntN(3)]
		if r.Method == http.MethodPost && status != 429 {
			status = 429 // creates are only retried on 429; the rest is covered elsewhere
		}
		f.faults[status]++
		var wait time.Duration
		switch f.rng.IntN(4) {
		case 0:
			n := 1 + f.rng.IntN(30)
			w.Header().Set("Retry-After", strconv.Itoa(n))
			wait = time.Duration(n) * time.Second
		case 1:
			secs := 0.1 + f.rng.Float64()*5
			w.Header().Set("Retry-After", strconv.FormatFloat(secs, 'f', 3, 64))
			wait = time.Duration(secs * float64(time.Second))
		case 2:
			// An HTTP date has whole seconds: announce the next whole second.
			at := now.Add(time.Duration(1+f.rng.IntN(20)) * time.Second)
			at = time.Unix(int64(math.Ceil(float64(at.UnixNano())/1e9)), 0)
			w.Header().Set("Retry-After", at.UTC().Format(http.TimeFormat))
			wait = at.Sub(now)
		default:
			// No Retry-After: any backoff is allowed.
		}
		f.notBefore[crid] = now.Add(wait)
		w.WriteHeader(status)
		fmt.Fprint(w, graphError("TooManyRequests", "injected"))
		return
	}
	if r.Method == http.MethodPost {
		f.created++
		w.WriteHeader(201)
		fmt.Fprintf(w, `{"id":"new-%d"}`, f.created)
		return
	}
	json.NewEncoder(w).Encode(graph.Definition{ID: r.URL.Path})
}

func TestSoakWithInjectedFaults(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := newFaultyServer(t, clock, 7)
	var ids atomic.Int64
	c, err := New(Options{
		BaseURL:      srv.URL + "/v1.0",
		Credential:   StaticToken(testToken),
		Sleep:        clock.Sleep,
		Now:          clock.Now,
		Rand:         rand.New(rand.NewPCG(1, 2)).Float64,
		NewRequestID: func() string { return fmt.Sprintf("crid-%d", ids.Add(1)) },
		MaxRetries:   20,
	})
	require.NoError(t, err)
	for i := range 1000 {
		if i%10 == 0 {
			_, err := c.CreateDefinition(t.Context(), &graph.Definition{DisplayName: fmt.Sprint(i)})
			require.NoError(t, err, "create %d", i)
			continue
		}
		d, err := c.GetDefinition(t.Context(), fmt.Sprint("d", i))
		require.NoError(t, err, "get %d", i)
		require.Equal(t, fmt.Sprint("/v1.0/identityGovernance/accessReviews/definitions/d", i), d.ID)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	require.Zero(t, srv.violations, "Retry-After violations")
	require.Equal(t, 100, srv.created, "no create was duplicated")
	require.Greater(t, srv.faults[429]+srv.faults[503]+srv.faults[504], 200, "faults were injected: %v", srv.faults)
	t.Logf("%d requests for 1000 logical calls; faults %v", srv.requests, srv.faults)
}

// BenchmarkListDefinitions10000 lists 10,000 definitions in pages of 100
// from a server that adds 20 ms to every response, and reports the number
// of requests and the wall time relative to requests × latency.
func BenchmarkListDefinitions10000(b *testing.B) {
	const n, pageSize, latency = 10000, 100, 20 * time.Millisecond
	var hits atomic.Int64
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		time.Sleep(latency)
		skip, _ := strconv.Atoi(r.URL.Query().Get("$skip"))
		p := page[graph.Definition]{}
		for i := skip; i < min(skip+pageSize, n); i++ {
			p.Value = append(p.Value, &graph.Definition{ID: strconv.Itoa(i), DisplayName: "Review " + strconv.Itoa(i),
				DescriptionForAdmins: "Quarterly review\n[arsync:review-" + strconv.Itoa(i) + "]",
				Scope:                &graph.Scope{ODataType: graph.TypeQueryScope, Query: "/v1.0/groups/g/members", QueryType: graph.QueryTypeMicrosoftGraph}})
		}
		if skip+pageSize < n {
			p.NextLink = srv.URL + r.URL.Path + "?$top=100&$skip=" + strconv.Itoa(skip+pageSize)
		}
		json.NewEncoder(w).Encode(p)
	}))
	defer srv.Close()
	c, err := New(Options{BaseURL: srv.URL + "/v1.0", Credential: StaticToken(testToken)})
	if err != nil {
		b.Fatal(err)
	}
	hits.Store(0)
	start := time.Now()
	for b.Loop() {
		count := 0
		for _, err := range c.ListDefinitions(b.Context(), &graph.ListOptions{Top: pageSize}) {
			if err != nil {
				b.Fatal(err)
			}
			count++
		}
		if count != n {
			b.Fatalf("listed %d definitions, want %d", count, n)
		}
	}
	elapsed := time.Since(start)
	reqs := float64(hits.Load()) / float64(b.N)
	b.ReportMetric(reqs, "requests/op")
	b.ReportMetric(float64(elapsed)/float64(b.N)/(reqs*float64(latency)), "wall/(requests×latency)")
}
