package emulator

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

func TestParseFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec string
		want *Faults
		err  string
	}{
		{spec: "", want: &Faults{}},
		{spec: "seed=7,rate=0.2,kinds=429|503|reset|commit-then-fail", want: &Faults{
			Seed: 7, Rate: 0.2, Kinds: []FaultKind{Fault429, Fault503, FaultDrop, FaultCommitThenFail}}},
		{spec: "429:0.2,retry-after=2;latency=20ms;drop:POST:0.1;seed=7", want: &Faults{
			Seed: 7, RetryAfter: 2 * time.Second, Latency: 20 * time.Millisecond,
			Rules: []FaultRule{{Kind: Fault429, Probability: 0.2}, {Kind: FaultDrop, Method: "POST", Probability: 0.1}}}},
		{spec: "commit-then-fail:POST:#1; bucket=5/10s ; lag=2s", want: &Faults{
			BucketSize: 5, BucketWindow: 10 * time.Second, ReadAfterCreateLag: 2 * time.Second,
			Rules: []FaultRule{{Kind: FaultCommitThenFail, Method: "POST", Nth: 1}}}},
		{spec: "503:get:/users:#3,retry-after=2.128", want: &Faults{
			RetryAfter: 2128 * time.Millisecond, RetryAfterForm: RetryAfterFraction,
			Rules: []FaultRule{{Kind: Fault503, Method: "GET", Path: "/users", Nth: 3}}}},
		{spec: "retry-after=date:3", want: &Faults{RetryAfter: 3 * time.Second, RetryAfterForm: RetryAfterDate}},
		{spec: "retry-after=none", want: &Faults{RetryAfterForm: RetryAfterNone}},
		{spec: "retry-after=mixed", want: &Faults{RetryAfterForm: RetryAfterMixed}},
		{spec: "retry-after=1500ms", want: &Faults{RetryAfter: 1500 * time.Millisecond, RetryAfterForm: RetryAfterFraction}},
		{spec: "latency=10ms-50ms,paths=/identityGovernance|/users", want: &Faults{
			Latency: 10 * time.Millisecond, LatencyMax: 50 * time.Millisecond, Paths: []string{"/identityGovernance", "/users"}}},
		{spec: "bucket=3", want: &Faults{BucketSize: 3}},
		{spec: "seed=x", err: "seed must be an integer"},
		{spec: "rate=2", err: "from 0 to 1"},
		{spec: "kinds=429|418", err: "unknown fault kind \"418\""},
		{spec: "teapot", err: "unknown fault kind"},
		{spec: "429:sometimes", err: "not a method, a probability"},
		{spec: "429:#0", err: "#N"},
		{spec: "429::GET", err: "empty qualifier"},
		{spec: "commit-then-fail:GET", err: "applies to writes"},
		{spec: "latency=fast", err: "not a duration"},
		{spec: "latency=50ms-10ms", err: "backwards"},
		{spec: "bucket=0", err: "positive integer"},
		{spec: "bucket=5/0s", err: "positive duration"},
		{spec: "retry-after=-1", err: "between 0 and 86400"},
		{spec: "retry-after=soon", err: "retry-after must be"},
		{spec: "retry-after=date:x", err: "whole number"},
		{spec: "colour=red", err: "unknown setting \"colour\""},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := ParseFaults(tt.spec)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseFaults(%q) mismatch (-want +got):\n%s", tt.spec, diff)
			}
		})
	}
}

// statusRun sends the same request sequence and returns the statuses.
func statusRun(t *testing.T, spec string, seed int64) []int {
	t.Helper()
	f, err := ParseFaults(spec)
	require.NoError(t, err)
	h := newHarness(t, Options{Faults: f, Seed: seed})
	var out []int
	for i := range 120 {
		h.clock.Advance(time.Minute) // stay clear of Retry-After windows
		var r result
		if i%3 == 0 {
			r = h.do(http.MethodPost, definitionsPath, validDefinition())
		} else {
			r = h.do(http.MethodGet, "users?$top=2", nil)
		}
		out = append(out, r.status)
	}
	require.Zero(t, h.srv.RetryAfterViolations())
	return out
}

func TestFaultsAreDeterministic(t *testing.T) {
	t.Parallel()
	const spec = "rate=0.3,kinds=429|500|503|504|commit-then-fail"
	a := statusRun(t, spec+",seed=7", 0)
	b := statusRun(t, spec+",seed=7", 0)
	require.Equal(t, a, b, "the same seed gives the same faults")
	c := statusRun(t, spec+",seed=8", 0)
	require.NotEqual(t, a, c, "another seed gives other faults")
	d := statusRun(t, spec, 7) // Options.Seed when the spec has none
	require.Equal(t, a, d)

	kinds := map[int]int{}
	for _, s := range a {
		kinds[s]++
	}
	require.Greater(t, kinds[200]+kinds[201], 60, "most requests succeed at rate 0.3: %v", kinds)
	for _, s := range []int{429, 500, 503, 504} {
		require.Positive(t, kinds[s], "status %d never injected: %v", s, kinds)
	}
}

func TestRetryAfterForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec  string
		check func(t *testing.T, v string)
	}{
		{"retry-after=2", func(t *testing.T, v string) { require.Equal(t, "2", v) }},
		{"retry-after=2.128", func(t *testing.T, v string) { require.Equal(t, "2.128", v) }},
		{"retry-after=1500ms", func(t *testing.T, v string) { require.Equal(t, "1.5", v) }},
		{"retry-after=none", func(t *testing.T, v string) { require.Empty(t, v) }},
		{"retry-after=date:3", func(t *testing.T, v string) {
			d, err := http.ParseTime(v)
			require.NoError(t, err)
			require.Equal(t, t0.Add(3*time.Second), d)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			t.Parallel()
			f, err := ParseFaults("429:GET:#1;" + tt.spec)
			require.NoError(t, err)
			h := newHarness(t, Options{Faults: f})
			r := h.do(http.MethodGet, "users", nil)
			require.Equal(t, http.StatusTooManyRequests, r.status)
			require.Equal(t, "TooManyRequests", r.errCode(t))
			tt.check(t, r.header.Get("Retry-After"))
		})
	}
	// A mix: every form appears over enough throttled answers.
	f, err := ParseFaults("429:GET;retry-after=mixed:1")
	require.NoError(t, err)
	h := newHarness(t, Options{Faults: f})
	forms := map[string]bool{}
	for range 40 {
		h.clock.Advance(2 * time.Second)
		v := h.do(http.MethodGet, "users", nil).header.Get("Retry-After")
		switch {
		case v == "":
			forms["none"] = true
		case v == "1":
			forms["seconds"] = true
		case v == "1.0":
			forms["fraction"] = true
		default:
			_, err := http.ParseTime(v)
			require.NoError(t, err, v)
			forms["date"] = true
		}
	}
	require.Len(t, forms, 4, "forms seen: %v", forms)
}

func TestRetryAfterViolations(t *testing.T) {
	t.Parallel()
	f, err := ParseFaults("429:GET:/users:#1;retry-after=2")
	require.NoError(t, err)
	h := newHarness(t, Options{Faults: f})
	require.Equal(t, 429, h.do(http.MethodGet, "users", nil).status)
	require.Zero(t, h.srv.RetryAfterViolations())

	h.clock.Advance(time.Second) // too early
	r := h.do(http.MethodGet, "users", nil)
	require.Equal(t, 429, r.status)
	require.Equal(t, "1", r.header.Get("Retry-After"))
	require.Equal(t, 1, h.srv.RetryAfterViolations())

	require.Equal(t, 200, h.do(http.MethodGet, "groups", nil).status, "other requests are not held back")
	h.clock.Advance(time.Second) // exactly on time
	require.Equal(t, 200, h.do(http.MethodGet, "users", nil).status)
	require.Equal(t, 1, h.srv.RetryAfterViolations())
}

func TestTokenBucket(t *testing.T) {
	t.Parallel()
	f, err := ParseFaults("bucket=3/10s")
	require.NoError(t, err)
	h := newHarness(t, Options{Faults: f})
	for range 3 {
		require.Equal(t, 200, h.do(http.MethodGet, definitionsPath, nil).status)
	}
	require.Equal(t, 200, h.do(http.MethodGet, "users", nil).status, "the directory is not in the access-review bucket")
	h.clock.Advance(4 * time.Second)
	r := h.do(http.MethodGet, definitionsPath, nil)
	require.Equal(t, 429, r.status)
	require.Equal(t, "6", r.header.Get("Retry-After"))
	require.Contains(t, r.errMessage(t), "throttle.msgraph.accessreviews.app.10s")
	h.clock.Advance(6 * time.Second)
	require.Equal(t, 200, h.do(http.MethodGet, definitionsPath, nil).status, "a new window")
	require.Zero(t, h.srv.RetryAfterViolations())
}

func TestCommitThenFail(t *testing.T) {
	t.Parallel()
	f, err := ParseFaults("commit-then-fail:POST:#1;commit-then-drop:PUT:#1")
	require.NoError(t, err)
	h := newHarness(t, Options{Faults: f})
	r := h.do(http.MethodPost, definitionsPath, validDefinition())
	require.Equal(t, http.StatusGatewayTimeout, r.status)
	vals := h.do(http.MethodGet, definitionsPath, nil).values(t)
	require.Len(t, vals, 1, "the POST was stored although the client saw a 504")
	id := vals[0].(map[string]any)["id"].(string)

	body := validDefinition()
	body["displayName"] = "Changed"
	req, _ := http.NewRequest(http.MethodPut, h.ts.URL+"/v1.0/"+definitionsPath+"/"+id, jsonReader(t, body))
	req.Header.Set("Authorization", "Bearer "+h.token)
	_, err = h.ts.Client().Do(req)
	require.Error(t, err, "the connection was dropped")
	got := h.do(http.MethodGet, definitionsPath+"/"+id, nil).json(t)
	require.Equal(t, "Changed", got["displayName"], "the PUT happened")

	recs := h.srv.Requests()
	require.Equal(t, string(FaultCommitThenFail), recs[0].Fault)
	require.Equal(t, 0, recs[2].Status, "a dropped answer is recorded with status 0")
}

func TestDroppedConnection(t *testing.T) {
	t.Parallel()
	f, err := ParseFaults("reset:GET:#2")
	require.NoError(t, err)
	h := newHarness(t, Options{Faults: f})
	require.Equal(t, 200, h.do(http.MethodGet, "users", nil).status)
	req, _ := http.NewRequest(http.MethodGet, h.ts.URL+"/v1.0/users", nil)
	req.Header.Set("Authorization", "Bearer "+h.token)
	// A fresh connection: net/http silently retries an idempotent request
	// that fails on a reused one.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	_, err = client.Do(req)
	require.Error(t, err)
	require.Equal(t, 200, h.do(http.MethodGet, "users", nil).status)
}

func TestLatencyUsesTheInjectedSleep(t *testing.T) {
	t.Parallel()
	f, err := ParseFaults("latency=10ms-20ms;seed=3")
	require.NoError(t, err)
	var mu sync.Mutex
	var slept []time.Duration
	h := newHarness(t, Options{Faults: f, Sleep: func(_ context.Context, d time.Duration) error {
		mu.Lock()
		slept = append(slept, d)
		mu.Unlock()
		return nil
	}})
	for range 10 {
		require.Equal(t, 200, h.do(http.MethodGet, "users", nil).status)
	}
	require.Len(t, slept, 10)
	distinct := map[time.Duration]bool{}
	for _, d := range slept {
		require.GreaterOrEqual(t, d, 10*time.Millisecond)
		require.LessOrEqual(t, d, 20*time.Millisecond)
		distinct[d] = true
	}
	require.Greater(t, len(distinct), 1)
}

func TestReadAfterCreateLag(t *testing.T) {
	t.Parallel()
	f, err := ParseFaults("lag=5s")
	require.NoError(t, err)
	h := newHarness(t, Options{Faults: f})
	id := h.create(validDefinition())
	require.Equal(t, http.StatusNotFound, h.do(http.MethodGet, definitionsPath+"/"+id, nil).status)
	require.Empty(t, h.do(http.MethodGet, definitionsPath, nil).values(t))
	require.Equal(t, http.StatusNotFound, h.do(http.MethodDelete, definitionsPath+"/"+id, nil).status)
	require.Len(t, h.srv.Definitions(), 1, "stored all the same")
	h.clock.Advance(5 * time.Second)
	require.Equal(t, http.StatusOK, h.do(http.MethodGet, definitionsPath+"/"+id, nil).status)
	require.Len(t, h.do(http.MethodGet, definitionsPath, nil).values(t), 1)
}

func TestRandomFaultsOnlyOnChosenPaths(t *testing.T) {
	t.Parallel()
	f, err := ParseFaults("rate=1,kinds=503,paths=/users,retry-after=0")
	require.NoError(t, err)
	h := newHarness(t, Options{Faults: f})
	for i := range 5 {
		require.Equal(t, 503, h.do(http.MethodGet, "users?i="+strconv.Itoa(i), nil).status)
		require.Equal(t, 200, h.do(http.MethodGet, "groups?$top=1", nil).status, fmt.Sprint(i))
	}
}

func TestRulePathsWithOrWithoutVersion(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"/users", "/v1.0/users", "/beta/Users"} {
		f, err := ParseFaults("503:GET:" + p)
		require.NoError(t, err)
		h := newHarness(t, Options{Faults: f})
		require.Equal(t, 503, h.do(http.MethodGet, "users/alice@contoso.com", nil).status, p)
		require.Equal(t, 200, h.do(http.MethodGet, "groups", nil).status, p)
	}
}
