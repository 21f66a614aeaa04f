package graphclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/arsync/arsync/pkg/graph"
	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

func TestNewBaseURLAndScope(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		opts      Options
		wantBase  string
		wantScope string
		wantErr   string
	}{
		{name: "default is global", wantBase: "https://graph.microsoft.com/v1.0/", wantScope: "https://graph.microsoft.com/.default"},
		{name: "usgov", opts: Options{Cloud: "usgov"}, wantBase: "https://graph.microsoft.us/v1.0/", wantScope: "https://graph.microsoft.us/.default"},
		{name: "usgovdod", opts: Options{Cloud: "USGovDoD"}, wantBase: "https://dod-graph.microsoft.us/v1.0/", wantScope: "https://dod-graph.microsoft.us/.default"},
		{name: "china", opts: Options{Cloud: "china"}, wantBase: "https://microsoftgraph.chinacloudapi.cn/v1.0/", wantScope: "https://microsoftgraph.chinacloudapi.cn/.default"},
		{name: "endpoint overrides cloud host and scope", opts: Options{Cloud: "usgov", BaseURL: "https://graph.microsoft.com/beta"}, wantBase: "https://graph.microsoft.com/beta/", wantScope: "https://graph.microsoft.com/.default"},
		{name: "trailing slash kept once", opts: Options{BaseURL: "https://graph.microsoft.com/v1.0/"}, wantBase: "https://graph.microsoft.com/v1.0/", wantScope: "https://graph.microsoft.com/.default"},
		{name: "no path gets v1.0", opts: Options{BaseURL: "https://graph.example.test"}, wantBase: "https://graph.example.test/v1.0/", wantScope: "https://graph.example.test/.default"},
		{name: "loopback http allowed", opts: Options{BaseURL: "http://127.0.0.1:8080/v1.0"}, wantBase: "http://127.0.0.1:8080/v1.0/", wantScope: "http://127.0.0.1:8080/.default"},
		{name: "localhost http allowed", opts: Options{BaseURL: "http://localhost:1/v1.0"}, wantBase: "http://localhost:1/v1.0/", wantScope: "http://localhost:1/.default"},
		{name: "ipv6 loopback http allowed", opts: Options{BaseURL: "http://[::1]:9/v1.0"}, wantBase: "http://[::1]:9/v1.0/", wantScope: "http://[::1]:9/.default"},
		{name: "explicit scope wins", opts: Options{BaseURL: "http://127.0.0.1:1/v1.0", Scope: "api://x/.default"}, wantBase: "http://127.0.0.1:1/v1.0/", wantScope: "api://x/.default"},
		{name: "plain http elsewhere refused", opts: Options{BaseURL: "http://graph.microsoft.com/v1.0"}, wantErr: `refusing plain http Graph endpoint "http://graph.microsoft.com/v1.0": use https`},
		{name: "other scheme", opts: Options{BaseURL: "ftp://graph.microsoft.com/v1.0"}, wantErr: "want an absolute https URL"},
		{name: "relative", opts: Options{BaseURL: "graph.microsoft.com/v1.0"}, wantErr: "want an absolute https URL"},
		{name: "user info refused without echoing it", opts: Options{BaseURL: "https://me:hunter2@graph.microsoft.com/v1.0"}, wantErr: `invalid Graph endpoint "https://graph.microsoft.com/v1.0": user information`},
		{name: "query refused", opts: Options{BaseURL: "https://graph.microsoft.com/v1.0?x=1"}, wantErr: "takes no query"},
		{name: "unknown cloud", opts: Options{Cloud: "mars"}, wantErr: `unknown cloud "mars": use one of global, usgov, usgovdod, china`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := tt.opts
			o.Credential = StaticToken("x")
			c, err := New(o)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.NotContains(t, err.Error(), "hunter2")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantBase, c.BaseURL())
			require.Equal(t, tt.wantScope, c.Scope())
		})
	}
}

func TestNewRequiresCredential(t *testing.T) {
	t.Parallel()
	_, err := New(Options{})
	require.ErrorContains(t, err, "no credential")
}

func TestCloudConfig(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, authority, graph, scope string }{
		{"global", "https://login.microsoftonline.com/", "https://graph.microsoft.com", "https://graph.microsoft.com/.default"},
		{"usgov", "https://login.microsoftonline.us/", "https://graph.microsoft.us", "https://graph.microsoft.us/.default"},
		{"usgovdod", "https://login.microsoftonline.us/", "https://dod-graph.microsoft.us", "https://dod-graph.microsoft.us/.default"},
		{"china", "https://login.chinacloudapi.cn/", "https://microsoftgraph.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn/.default"},
	}
	for _, tt := range tests {
		ci, err := CloudConfig(tt.name)
		require.NoError(t, err)
		want := CloudInfo{Name: tt.name, AuthorityHost: tt.authority, GraphURL: tt.graph, Scope: tt.scope}
		if diff := cmp.Diff(want, ci); diff != "" {
			t.Errorf("CloudConfig(%q) mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"5", 5 * time.Second, true},
		{" 41 ", 41 * time.Second, true},
		{"315", 315 * time.Second, true},
		{"2.128", 3 * time.Second, true}, // fractions round up, never early
		{"0.5", time.Second, true},
		{"0", 0, true},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{"Sun, 01 Mar 2026 12:00:07 GMT", 7 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"", 0, false},
		{"soon", 0, false},
		{"-3", 0, false},
		{"NaN", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		require.Equal(t, tt.wantOK, ok, "parseRetryAfter(%q) ok", tt.in)
		require.Equal(t, tt.want, got, "parseRetryAfter(%q)", tt.in)
	}
}

func TestBackoffIsExponentialWithJitterAndCapped(t *testing.T) {
	t.Parallel()
	for _, r := range []float64{0, 0.5, 0.999} {
		c, _ := newTestClient(t, "http://127.0.0.1:1", func(o *Options) { o.Rand = func() float64 { return r } })
		for n := 1; n <= 20; n++ {
			full := min(time.Second<<(n-1), time.Minute)
			got := c.backoff(n)
			require.GreaterOrEqual(t, got, full/2, "backoff(%d) with rand %v", n, r)
			require.Less(t, got, full+1, "backoff(%d) with rand %v", n, r)
		}
	}
	c, _ := newTestClient(t, "http://127.0.0.1:1", func(o *Options) { o.Rand = func() float64 { return 0.5 } })
	require.Equal(t, 750*time.Millisecond, c.backoff(1))
	require.Equal(t, 6*time.Second, c.backoff(4))
	require.Equal(t, 45*time.Second, c.backoff(30))
}

func TestRetriesHonourRetryAfterAndKeepClientRequestID(t *testing.T) {
	t.Parallel()
	clockNow := newFakeClock().Now()
	srv := newScriptServer(t,
		step{status: 429, header: map[string]string{"Retry-After": "2"}, body: graphError("TooManyRequests", "slow down")},
		step{status: 503, header: map[string]string{"Retry-After": "2.128"}},
		step{status: 504, header: map[string]string{"Retry-After": clockNow.Add(12 * time.Second).Format(http.TimeFormat)}},
		step{status: 429}, // no Retry-After: backoff for retry 4 = 8 s * (0.5 + 0.5*0.5)
		step{status: 200, body: `{"id":"def-1","displayName":"Guests"}`},
	)
	c, clock := newTestClient(t, srv.URL)
	d, err := c.GetDefinition(t.Context(), "def-1")
	require.NoError(t, err)
	require.Equal(t, "Guests", d.DisplayName)

	// Each Retry-After gets jitter on top (0.5 s with the test's random
	// 0.5). The HTTP date was 12 s ahead of the start; the fake clock had
	// moved 2.5 s + 3.5 s by then. The backoff has its own jitter.
	want := []time.Duration{2500 * time.Millisecond, 3500 * time.Millisecond, 6500 * time.Millisecond, 6 * time.Second}
	if diff := cmp.Diff(want, clock.Sleeps()); diff != "" {
		t.Errorf("waits mismatch (-want +got):\n%s", diff)
	}
	reqs := srv.Requests()
	require.Len(t, reqs, 5)
	for i, r := range reqs {
		require.Equal(t, "/v1.0/identityGovernance/accessReviews/definitions/def-1", r.Path)
		require.Equal(t, "req-1", r.Header.Get("client-request-id"), "attempt %d", i+1)
		require.Equal(t, "Bearer "+testToken, r.Header.Get("Authorization"))
		if i == 0 {
			require.Empty(t, r.Header.Get("Retry-Attempt"))
		} else {
			require.Equal(t, string(rune('0'+i)), r.Header.Get("Retry-Attempt"))
		}
	}
	// The next logical request gets a fresh id.
	_, err = c.GetDefinition(t.Context(), "def-1")
	require.NoError(t, err)
	require.Equal(t, "req-2", srv.Requests()[5].Header.Get("client-request-id"))
}

func TestRetriesAreBounded(t *testing.T) {
	t.Parallel()
	srv := newScriptServer(t, step{status: 503, body: graphError("serviceNotAvailable", "try later")})
	c, clock := newTestClient(t, srv.URL, func(o *Options) { o.MaxRetries = 3 })
	_, err := c.GetDefinition(t.Context(), "x")
	var gerr *graph.Error
	require.ErrorAs(t, err, &gerr)
	require.Equal(t, 503, gerr.StatusCode)
	require.Equal(t, 4, gerr.Attempts)
	require.Len(t, srv.Requests(), 4)
	require.Len(t, clock.Sleeps(), 3)
	require.False(t, graph.IsUnknownOutcome(err), "a GET has no unknown outcome")

	srv2 := newScriptServer(t, step{status: 429, header: map[string]string{"Retry-After": "1"}})
	c2, clock2 := newTestClient(t, srv2.URL, func(o *Options) { o.MaxRetries = -1 })
	_, err = c2.GetDefinition(t.Context(), "x")
	require.True(t, graph.IsThrottled(err))
	require.Len(t, srv2.Requests(), 1)
	require.Empty(t, clock2.Sleeps())
}

func TestRetryAfterLongerThanAllowedGivesUp(t *testing.T) {
	t.Parallel()
	srv := newScriptServer(t, step{status: 429, header: map[string]string{"Retry-After": "900"}, body: graphError("TooManyRequests", "throttled")})
	c, clock := newTestClient(t, srv.URL) // default MaxRetryWait is 10 min
	_, err := c.GetDefinition(t.Context(), "x")
	require.True(t, graph.IsThrottled(err))
	require.ErrorContains(t, err, "giving up: the service asked to wait 15m0s, longer than the 10m0s allowed")
	require.Empty(t, clock.Sleeps(), "the wait must not be cut short, so no wait at all")
	var gerr *graph.Error
	require.ErrorAs(t, err, &gerr)
	require.Equal(t, 900*time.Second, gerr.RetryAfter)

	// A wait of several minutes is fine.
	srv2 := newScriptServer(t, step{status: 429, header: map[string]string{"Retry-After": "315"}}, step{status: 200, body: `{"id":"x"}`})
	c2, clock2 := newTestClient(t, srv2.URL)
	_, err = c2.GetDefinition(t.Context(), "x")
	require.NoError(t, err)
	require.Equal(t, []time.Duration{315*time.Second + 500*time.Millisecond}, clock2.Sleeps(), "plus jitter")
}

func TestRetryAfterPastTheDeadlineGivesUpAtOnce(t *testing.T) {
	t.Parallel()
	srv := newScriptServer(t, step{status: 429, header: map[string]string{"Retry-After": "120"}})
	c, clock := newTestClient(t, srv.URL)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	_, err := c.GetDefinition(ctx, "x")
	require.True(t, graph.IsThrottled(err))
	require.ErrorContains(t, err, "would pass the deadline")
	require.Empty(t, clock.Sleeps())
}

func TestCancelDuringLongRetryAfterReturnsPromptly(t *testing.T) {
	t.Parallel()
	seen := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "300")
		w.WriteHeader(http.StatusTooManyRequests)
		seen <- struct{}{}
	}))
	defer srv.Close()
	// The real sleep: the context must cut it short.
	c, _ := newTestClient(t, srv.URL, func(o *Options) { o.Sleep = nil })
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-seen
		cancel()
	}()
	start := time.Now()
	_, err := c.GetDefinition(ctx, "x")
	require.ErrorIs(t, err, context.Canceled)
	require.Less(t, time.Since(start), 10*time.Second)
}

func TestCreateIsNotReplayedWhenTheOutcomeIsUnknown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		step       step
		wantStatus int
	}{
		{"500", step{status: 500, body: graphError("generalException", "boom")}, 500},
		{"502", step{status: 502, body: "<html>Bad Gateway</html>"}, 502},
		{"503 even with Retry-After", step{status: 503, header: map[string]string{"Retry-After": "1"}}, 503},
		{"504", step{status: 504, body: graphError("GatewayTimeout", "timed out")}, 504},
		{"408", step{status: 408}, 408},
		{"connection reset", step{drop: true}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newScriptServer(t, tt.step, step{status: 201, body: `{"id":"dup"}`})
			c, clock := newTestClient(t, srv.URL)
			_, err := c.CreateDefinition(t.Context(), &graph.Definition{DisplayName: "Guests"})
			require.True(t, graph.IsUnknownOutcome(err), "got %v", err)
			var u *graph.UnknownOutcomeError
			require.ErrorAs(t, err, &u)
			require.Equal(t, "POST", u.Method)
			require.Contains(t, u.URL, "/v1.0/identityGovernance/accessReviews/definitions")
			require.Len(t, srv.Requests(), 1, "a create must not be sent twice")
			require.Empty(t, clock.Sleeps())
			var gerr *graph.Error
			if tt.wantStatus != 0 {
				require.ErrorAs(t, err, &gerr)
				require.Equal(t, tt.wantStatus, gerr.StatusCode)
			} else {
				require.False(t, errors.As(err, &gerr))
			}
		})
	}
}

func TestCreateIsRetriedOnThrottling(t *testing.T) {
	t.Parallel()
	srv := newScriptServer(t,
		step{status: 429, header: map[string]string{"Retry-After": "3"}, body: graphError("TooManyRequests", "x")},
		step{status: 429, header: map[string]string{"Retry-After": "0.2"}},
		step{status: 201, body: `{"id":"new-1","displayName":"Guests & members <all>","status":"NotStarted"}`},
	)
	c, clock := newTestClient(t, srv.URL)
	in := &graph.Definition{DisplayName: "Guests & members <all>", DescriptionForAdmins: "x\n[arsync:guests]"}
	got, err := c.CreateDefinition(t.Context(), in)
	require.NoError(t, err)
	require.Equal(t, "new-1", got.ID)
	require.Equal(t, []time.Duration{3500 * time.Millisecond, 1500 * time.Millisecond}, clock.Sleeps(), "Retry-After plus jitter")
	reqs := srv.Requests()
	require.Len(t, reqs, 3)
	for _, r := range reqs {
		require.Equal(t, "POST", r.Method)
		require.Equal(t, `{"displayName":"Guests & members <all>","descriptionForAdmins":"x\n[arsync:guests]"}`, r.Body, "every attempt sends the same bytes")
		require.Equal(t, "application/json", r.Header.Get("Content-Type"))
		require.Equal(t, "req-1", r.Header.Get("client-request-id"))
	}
}

func TestCreateRetriedWhenNothingWasSent(t *testing.T) {
	t.Parallel()
	// A closed port: the dial fails, so the create certainly did not happen.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	c, clock := newTestClient(t, "http://"+addr, func(o *Options) { o.MaxRetries = 2 })
	_, err = c.CreateDefinition(t.Context(), &graph.Definition{DisplayName: "x"})
	require.Error(t, err)
	require.False(t, graph.IsUnknownOutcome(err), "a refused connection is a known outcome: %v", err)
	require.Len(t, clock.Sleeps(), 2)
}

// A host that refuses connections fails fast: maxDialRetries retries, not
// the default eight with minutes of backoff.
func TestRefusedConnectionGivesUpSoon(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	c, clock := newTestClient(t, "http://"+addr, func(o *Options) { o.MaxRetries = DefaultMaxRetries })
	_, err = c.GetDefinition(t.Context(), "x")
	require.ErrorContains(t, err, "(attempt 3)")
	require.ErrorContains(t, err, "connection refused")
	require.Len(t, clock.Sleeps(), maxDialRetries)
}

func TestCreateCancelledInFlightIsUnknown(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{})
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		close(arrived)
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	defer srv.Close()
	defer close(done)
	c, _ := newTestClient(t, srv.URL)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-arrived
		cancel()
	}()
	_, err := c.CreateDefinition(ctx, &graph.Definition{DisplayName: "x"})
	require.True(t, graph.IsUnknownOutcome(err), "got %v", err)
	require.ErrorIs(t, err, context.Canceled)
}

func TestIdempotentRequestsRetryTransportErrors(t *testing.T) {
	t.Parallel()
	srv := newScriptServer(t, step{drop: true}, step{status: 200, body: `{"id":"x"}`})
	c, clock := newTestClient(t, srv.URL)
	_, err := c.GetDefinition(t.Context(), "x")
	require.NoError(t, err)
	require.Len(t, srv.Requests(), 2)
	require.Equal(t, []time.Duration{750 * time.Millisecond}, clock.Sleeps())
}

// TestTransportErrorNamesTheRequestOnce: a transport failure reads
// "GET <url> (attempt n): <what failed>", without net/http's repeat of the
// method and the unsanitised URL.
func TestTransportErrorNamesTheRequestOnce(t *testing.T) {
	t.Parallel()
	srv := newScriptServer(t, step{drop: true})
	c, _ := newTestClient(t, srv.URL, func(o *Options) { o.MaxRetries = 1 })
	_, err := c.Do(t.Context(), http.MethodGet, "identityGovernance/accessReviews/definitions?$top=1&client_secret=hunter2", nil, nil)
	require.Error(t, err)
	msg := err.Error()
	require.Equal(t, 1, strings.Count(msg, "/v1.0/identityGovernance/accessReviews/definitions"), msg)
	require.True(t, strings.HasPrefix(msg, "GET "+srv.URL+"/v1.0/identityGovernance/accessReviews/definitions?"), msg)
	require.Contains(t, msg, " (attempt 2): ")
	require.NotContains(t, msg, `Get "`)
	require.NotContains(t, msg, "hunter2")
}

// TestServerErrorsAreRetriedABoundedNumberOfTimes: GET, PUT and DELETE are
// sent again after a 500 or 502, as azcore's retry policy does
// (docs/graph-behaviour.md#throttling-and-retries), at most
// maxServerErrorAttempts times in all, with the usual backoff.
func TestServerErrorsAreRetriedABoundedNumberOfTimes(t *testing.T) {
	t.Parallel()
	call := func(c *Client, method string) error {
		switch method {
		case http.MethodGet:
			_, err := c.GetDefinition(t.Context(), "x")
			return err
		case http.MethodPut:
			return c.UpdateDefinition(t.Context(), "x", &graph.Definition{DisplayName: "x"})
		default:
			return c.DeleteDefinition(t.Context(), "x")
		}
	}
	for _, status := range []int{500, 502} {
		for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
			t.Run(fmt.Sprintf("%s %d then success", method, status), func(t *testing.T) {
				t.Parallel()
				srv := newScriptServer(t, step{status: status, body: graphError("generalException", "boom")}, step{status: 200, body: `{"id":"x"}`})
				c, clock := newTestClient(t, srv.URL)
				require.NoError(t, call(c, method))
				require.Len(t, srv.Requests(), 2)
				require.Equal(t, []time.Duration{750 * time.Millisecond}, clock.Sleeps(), "the usual backoff")
			})
			t.Run(fmt.Sprintf("%s %d every time", method, status), func(t *testing.T) {
				t.Parallel()
				srv := newScriptServer(t, step{status: status, body: graphError("generalException", "boom")})
				c, clock := newTestClient(t, srv.URL)
				err := call(c, method)
				var gerr *graph.Error
				require.ErrorAs(t, err, &gerr)
				require.Equal(t, status, gerr.StatusCode)
				require.Equal(t, maxServerErrorAttempts, gerr.Attempts)
				require.Len(t, srv.Requests(), maxServerErrorAttempts)
				require.Len(t, clock.Sleeps(), maxServerErrorAttempts-1)
				// A DELETE answered 500 may have been carried out: the caller
				// checks (TestDeleteDefinitionOutcome).
				require.Equal(t, method == http.MethodDelete, graph.IsUnknownOutcome(err))
			})
		}
	}
	// MaxRetries still bounds them all.
	srv := newScriptServer(t, step{status: 500, body: graphError("generalException", "boom")})
	c, clock := newTestClient(t, srv.URL, func(o *Options) { o.MaxRetries = -1 })
	_, err := c.GetDefinition(t.Context(), "x")
	require.Error(t, err)
	require.Len(t, srv.Requests(), 1)
	require.Empty(t, clock.Sleeps())
}

func TestDeleteDefinition(t *testing.T) {
	t.Parallel()
	notFound := step{status: 404, body: graphError("ResourceNotFound", "gone")}
	tests := []struct {
		name         string
		steps        []step
		wantNotFound bool
		wantReqs     int
	}{
		{"204", []step{{status: 204}}, false, 1},
		{"first-attempt 404 is not found", []step{notFound}, true, 1},
		{"404 after a 503 is done", []step{{status: 503}, notFound}, false, 2},
		{"404 after a 504 is done", []step{{status: 504}, notFound}, false, 2},
		{"404 after a reset is done", []step{{drop: true}, notFound}, false, 2},
		{"404 after a 500 is done", []step{{status: 500}, notFound}, false, 2},
		{"404 after a 502 is done", []step{{status: 502}, notFound}, false, 2},
		{"404 after a 429 is not found", []step{{status: 429, header: map[string]string{"Retry-After": "1"}}, notFound}, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newScriptServer(t, tt.steps...)
			c, _ := newTestClient(t, srv.URL)
			err := c.DeleteDefinition(t.Context(), "def 1")
			require.Equal(t, tt.wantNotFound, graph.IsNotFound(err), "err = %v", err)
			if !tt.wantNotFound {
				require.NoError(t, err)
			}
			reqs := srv.Requests()
			require.Len(t, reqs, tt.wantReqs)
			require.Equal(t, "DELETE", reqs[0].Method)
			require.Equal(t, "/v1.0/identityGovernance/accessReviews/definitions/def%201", reqs[0].EscapedPath)
		})
	}
}

func TestUpdateDefinition(t *testing.T) {
	t.Parallel()
	for _, status := range []int{200, 204} {
		srv := newScriptServer(t, step{status: status, body: map[int]string{200: `{"id":"d1"}`, 204: ""}[status]})
		c, _ := newTestClient(t, srv.URL)
		yes := true
		d := &graph.Definition{
			DisplayName:     "Guests",
			Status:          "InProgress",
			CreatedDateTime: "2026-01-01T00:00:00Z",
			CreatedBy:       &graph.UserIdentity{ID: "u1"},
			Settings:        &graph.ScheduleSettings{MailNotificationsEnabled: &yes},
		}
		require.NoError(t, c.UpdateDefinition(t.Context(), "d1", d))
		reqs := srv.Requests()
		require.Len(t, reqs, 1)
		require.Equal(t, "PUT", reqs[0].Method)
		require.Equal(t, `{"id":"d1","displayName":"Guests","settings":{"mailNotificationsEnabled":true}}`, reqs[0].Body)
		require.Equal(t, "InProgress", d.Status, "the caller's value is not modified")
	}
	c, _ := newTestClient(t, "http://127.0.0.1:1")
	require.ErrorContains(t, c.UpdateDefinition(t.Context(), "d1", &graph.Definition{ID: "d2"}), "different id (d2)")
	require.ErrorContains(t, c.UpdateDefinition(t.Context(), "", &graph.Definition{}), "empty definition id")
	require.ErrorContains(t, c.UpdateDefinition(t.Context(), "d1", nil), "nil definition")
}

func TestUpdateIsRetriedOnGatewayTimeout(t *testing.T) {
	t.Parallel()
	srv := newScriptServer(t, step{status: 504}, step{status: 204})
	c, _ := newTestClient(t, srv.URL)
	require.NoError(t, c.UpdateDefinition(t.Context(), "d1", &graph.Definition{DisplayName: "x"}))
	require.Len(t, srv.Requests(), 2)
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer other.Close()
	srv := newScriptServer(t, step{status: 302, header: map[string]string{"Location": other.URL + "/steal"}})
	c, _ := newTestClient(t, srv.URL)
	_, err := c.GetDefinition(t.Context(), "x")
	var gerr *graph.Error
	require.ErrorAs(t, err, &gerr)
	require.Equal(t, 302, gerr.StatusCode)
	require.Zero(t, hits.Load())
}

// countingCred counts GetToken calls and returns tokens tok-1, tok-2, ...
type countingCred struct {
	n      atomic.Int32
	scopes [][]string
	mu     sync.Mutex
	err    error
}

func (c *countingCred) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	n := c.n.Add(1)
	c.mu.Lock()
	c.scopes = append(c.scopes, o.Scopes)
	c.mu.Unlock()
	if c.err != nil {
		return azcore.AccessToken{}, c.err
	}
	return azcore.AccessToken{Token: "tok-" + string(rune('0'+n)) + "-padding", ExpiresOn: time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC)}, nil
}

func TestTokensAreCachedAndRefreshed(t *testing.T) {
	t.Parallel()
	srv := newScriptServer(t, step{status: 200, body: `{"id":"x"}`})
	cred := &countingCred{}
	c, clock := newTestClient(t, srv.URL, func(o *Options) { o.Credential = cred })
	for range 5 {
		_, err := c.GetDefinition(t.Context(), "x")
		require.NoError(t, err)
	}
	require.EqualValues(t, 1, cred.n.Load())
	require.Equal(t, []string{c.Scope()}, cred.scopes[0])
	// 5 minutes before expiry the token is renewed.
	clock.mu.Lock()
	clock.now = clock.now.Add(56 * time.Minute)
	clock.mu.Unlock()
	_, err := c.GetDefinition(t.Context(), "x")
	require.NoError(t, err)
	require.EqualValues(t, 2, cred.n.Load())
	require.Equal(t, "Bearer tok-2-padding", srv.Requests()[5].Header.Get("Authorization"))
}

func TestUnauthorizedFetchesAFreshTokenOnce(t *testing.T) {
	t.Parallel()
	srv := newScriptServer(t, step{status: 401, body: graphError("InvalidAuthenticationToken", "expired")}, step{status: 200, body: `{"id":"x"}`})
	cred := &countingCred{}
	c, _ := newTestClient(t, srv.URL, func(o *Options) { o.Credential = cred })
	_, err := c.GetDefinition(t.Context(), "x")
	require.NoError(t, err)
	require.EqualValues(t, 2, cred.n.Load())

	srv2 := newScriptServer(t, step{status: 401, body: graphError("InvalidAuthenticationToken", "bad")})
	c2, _ := newTestClient(t, srv2.URL)
	_, err = c2.GetDefinition(t.Context(), "x")
	require.ErrorIs(t, err, graph.ErrUnauthorized)
	require.Len(t, srv2.Requests(), 2)
}

func TestTokenFailureSendsNothing(t *testing.T) {
	t.Parallel()
	srv := newScriptServer(t, step{status: 200})
	cred := &countingCred{err: errors.New("no sign-in method worked")}
	c, _ := newTestClient(t, srv.URL, func(o *Options) { o.Credential = cred })
	_, err := c.CreateDefinition(t.Context(), &graph.Definition{DisplayName: "x"})
	require.ErrorContains(t, err, "getting an access token for "+c.Scope()+": no sign-in method worked")
	require.False(t, graph.IsUnknownOutcome(err))
	require.Empty(t, srv.Requests())
}

func TestConcurrencyIsBounded(t *testing.T) {
	t.Parallel()
	var inflight, maxInflight atomic.Int32
	arrived := make(chan struct{}, 100)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inflight.Add(1)
		for {
			m := maxInflight.Load()
			if n <= m || maxInflight.CompareAndSwap(m, n) {
				break
			}
		}
		arrived <- struct{}{}
		<-release
		inflight.Add(-1)
		w.Write([]byte(`{"id":"x"}`))
	}))
	t.Cleanup(srv.Close)
	var once sync.Once
	releaseAll := func() { once.Do(func() { close(release) }) }
	t.Cleanup(releaseAll) // runs before srv.Close, so a failing test cannot hang
	c, _ := newTestClient(t, srv.URL, func(o *Options) { o.MaxConcurrency = 2 })
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 10 {
		wg.Go(func() {
			if _, err := c.GetDefinition(t.Context(), "x"); err != nil {
				failed.Add(1)
			}
		})
	}
	<-arrived
	<-arrived
	// A third request would arrive now if the bound did not hold.
	select {
	case <-arrived:
		releaseAll()
		t.Fatal("a third request was in flight with MaxConcurrency 2")
	case <-time.After(100 * time.Millisecond):
	}
	releaseAll()
	wg.Wait()
	require.Zero(t, failed.Load())
	require.EqualValues(t, 2, maxInflight.Load())
}

func TestDebugLogAndErrorsNeverShowTheToken(t *testing.T) {
	t.Parallel()
	const canary = "CANARY-eyJ0eXAiOiJKV1QiLCJhbGciOi-TOKEN"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A badly behaved service that echoes the Authorization header.
		echo := r.Header.Get("Authorization")
		w.Header().Set("request-id", "rid-1")
		switch r.URL.Query().Get("case") {
		case "throttle":
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(429)
			w.Write([]byte(graphError("TooManyRequests", "token "+echo)))
		case "text":
			w.WriteHeader(400)
			w.Write([]byte("bad request for " + echo))
		default:
			w.WriteHeader(403)
			w.Write([]byte(graphError("Authorization_RequestDenied", "denied for "+echo)))
		}
	}))
	defer srv.Close()
	var log bytes.Buffer
	c, _ := newTestClient(t, srv.URL, func(o *Options) {
		o.Credential = StaticToken(canary)
		o.Debug = &log
		o.MaxRetries = 1
	})
	var msgs []string
	var errs []error
	for _, cs := range []string{"throttle", "text", "forbidden"} {
		_, err := c.Do(t.Context(), "GET", "identityGovernance/accessReviews/definitions?case="+cs+"&access_token="+canary, nil, nil)
		require.Error(t, err)
		errs = append(errs, err)
		msgs = append(msgs, err.Error())
	}
	require.True(t, graph.IsThrottled(errs[0]))
	require.True(t, graph.IsForbidden(errs[2]))
	_, err := c.CreateDefinition(t.Context(), &graph.Definition{DisplayName: canary})
	require.Error(t, err)
	msgs = append(msgs, err.Error())
	all := log.String() + strings.Join(msgs, "\n")
	require.NotContains(t, all, canary)
	require.Contains(t, all, "[REDACTED]")
	require.Contains(t, log.String(), "graph: GET http://"+srv.Listener.Addr().String()+"/v1.0/identityGovernance/accessReviews/definitions?access_token=REDACTED&case=throttle -> 429")
	require.Contains(t, log.String(), "request-id rid-1, client-request-id req-1")
	require.Contains(t, log.String(), "graph: retrying in 1.5s (Retry-After 1s, plus jitter)")
	// The throttled request gave up, but the host stays paused for the
	// next one.
	require.Contains(t, log.String(), "case=text waits 1.5s: Microsoft Graph asked to pause requests to "+srv.Listener.Addr().String()+" (Retry-After)")
}

func TestDoRefusesForeignAbsoluteURLs(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer other.Close()
	srv := newScriptServer(t, step{status: 200, body: `{}`})
	c, _ := newTestClient(t, srv.URL)
	_, err := c.Do(t.Context(), "GET", other.URL+"/v1.0/users", nil, nil)
	require.ErrorIs(t, err, ErrForeignHost)
	require.Zero(t, hits.Load())
	_, err = c.Do(t.Context(), "GET", "//"+other.Listener.Addr().String()+"/v1.0/users", nil, nil)
	require.ErrorIs(t, err, ErrForeignHost)
	require.Zero(t, hits.Load())
	_, err = c.Do(t.Context(), "GET", srv.URL+"/v1.0/users", nil, nil)
	require.NoError(t, err)
	// A URL inside the query of a relative path is not an absolute URL.
	_, err = c.Do(t.Context(), "GET", "users?$filter=mail eq 'https://x.test'", nil, nil)
	require.NoError(t, err)
	reqs := srv.Requests()
	require.Equal(t, "/v1.0/users", reqs[len(reqs)-1].Path)
}

func TestNewUUID(t *testing.T) {
	t.Parallel()
	a, b := newUUID(), newUUID()
	require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, a)
	require.NotEqual(t, a, b)
}

func TestEscapeRawQuery(t *testing.T) {
	t.Parallel()
	require.Equal(t, "$filter=userPrincipalName%20eq%20'o''brien_fabrikam.com%23EXT%23@contoso.com'&$top=5",
		escapeRawQuery("$filter=userPrincipalName eq 'o''brien_fabrikam.com#EXT#@contoso.com'&$top=5"))
	require.Equal(t, "a%C3%A9%22%3C%3E%25zz", escapeRawQuery("aé\"<>%25zz"))
	require.Equal(t, "already%20escaped", escapeRawQuery("already%20escaped"))
}

// TestOversizedResponseIsNotRetried: a body over the size limit is the
// service's answer, not a transient fault: the request fails at once,
// naming itself and the limit, whatever the method and status. A create
// whose success could not be read has an unknown outcome.
func TestOversizedResponseIsNotRetried(t *testing.T) {
	t.Parallel()
	const limit = 1024
	tests := []struct {
		name    string
		method  string
		status  int
		chunked bool // no Content-Length: the limit is found while reading
		unknown bool
	}{
		{name: "GET", method: http.MethodGet, status: 200},
		{name: "GET without Content-Length", method: http.MethodGet, status: 200, chunked: true},
		{name: "GET answered 503", method: http.MethodGet, status: 503},
		{name: "PUT", method: http.MethodPut, status: 200, chunked: true},
		{name: "DELETE", method: http.MethodDelete, status: 200},
		{name: "POST created", method: http.MethodPost, status: 201, chunked: true, unknown: true},
		{name: "POST refused", method: http.MethodPost, status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var requests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				w.Header().Set("request-id", "rid-big")
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				body := `{"value":"` + strings.Repeat("x", limit) + `"}`
				if tt.chunked {
					// Flushing the headers first makes net/http send chunks.
					w.(http.Flusher).Flush()
				}
				io.WriteString(w, body)
			}))
			t.Cleanup(srv.Close)
			c, clock := newTestClient(t, srv.URL)
			c.maxBody = limit
			var body any
			if tt.method == http.MethodPost || tt.method == http.MethodPut {
				body = map[string]string{"displayName": "x"}
			}
			_, err := c.Do(t.Context(), tt.method, "identityGovernance/accessReviews/definitions/x", body, nil)
			require.ErrorIs(t, err, ErrResponseTooLarge)
			require.ErrorContains(t, err, tt.method+" "+srv.URL+"/v1.0/identityGovernance/accessReviews/definitions/x: ")
			require.ErrorContains(t, err, fmt.Sprintf("response body over the 1 KiB limit (status %d, request-id rid-big)", tt.status))
			require.Equal(t, tt.unknown, graph.IsUnknownOutcome(err), "got %v", err)
			if !tt.unknown {
				require.True(t, strings.HasSuffix(err.Error(), "; not retried"), err.Error())
			}
			require.EqualValues(t, 1, requests.Load(), "requests")
			require.Empty(t, clock.Sleeps())
		})
	}
}

func TestResponseLimitIs64MiB(t *testing.T) {
	c, _ := newTestClient(t, "http://127.0.0.1")
	require.EqualValues(t, 64<<20, c.maxBody)
}

// blockingCred hands out its first token at once; every later sign-in
// says it has started (on started) and then waits for release. Token n is
// "secret-token-n-padding".
type blockingCred struct {
	n       atomic.Int32
	started chan struct{}
	release chan struct{}
}

func newBlockingCred() *blockingCred {
	return &blockingCred{started: make(chan struct{}, 8), release: make(chan struct{})}
}

func (b *blockingCred) GetToken(ctx context.Context, _ policy.TokenRequestOptions) (azcore.AccessToken, error) {
	n := b.n.Add(1)
	if n > 1 {
		b.started <- struct{}{}
		select {
		case <-b.release:
		case <-ctx.Done():
			return azcore.AccessToken{}, ctx.Err()
		}
	}
	// Token n expires n hours after the fake clock's start.
	exp := time.Date(2026, 3, 1, 12+int(n), 0, 0, 0, time.UTC)
	return azcore.AccessToken{Token: fmt.Sprintf("secret-token-%d-padding", n), ExpiresOn: exp}, nil
}

// lockedBuffer is a Debug writer the test may read while the client writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// guard fails the test if ch does not deliver within a generous time; it
// catches a hang, it does not order anything.
func guard[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("stuck: %s", what)
		panic("unreachable")
	}
}

// TestSignInDoesNotStallLoggingOrErrors: while a token is being fetched
// (a device-code sign-in can take minutes), debug logging and error
// formatting go on, and still scrub every token used so far; requests
// needing the token wait for the one sign-in, or for their context.
func TestSignInDoesNotStallLoggingOrErrors(t *testing.T) {
	t.Parallel()
	const oldToken = "secret-token-1-padding"
	srv := newScriptServer(t, step{status: 200, body: `{"id":"x"}`})
	cred := newBlockingCred()
	var log lockedBuffer
	c, clock := newTestClient(t, srv.URL, func(o *Options) {
		o.Credential = cred
		o.Debug = &log
	})
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(cred.release) }) }
	t.Cleanup(release) // a failing test does not leave the sign-in hanging

	_, err := c.GetDefinition(t.Context(), "x")
	require.NoError(t, err)
	clock.mu.Lock()
	clock.now = clock.now.Add(56 * time.Minute) // past the refresh margin
	clock.mu.Unlock()

	// Three requests need the new token; one of them signs in.
	results := make(chan error, 3)
	for range 3 {
		go func() {
			_, err := c.GetDefinition(t.Context(), "x")
			results <- err
		}()
	}
	guard(t, cred.started, "the sign-in never started")

	done := make(chan []string, 1)
	go func() {
		var out []string
		_, err := c.Do(t.Context(), http.MethodGet, "https://elsewhere.example/"+oldToken, nil, nil)
		out = append(out, err.Error())
		out = append(out, c.scrubErr(fmt.Errorf("echoed %s", oldToken)).Error())
		c.logf("graph: a line naming %s", oldToken)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err = c.token(ctx) // waits for the sign-in in progress, or its context
		out = append(out, fmt.Sprint(err))
		done <- out
	}()
	out := guard(t, done, "logging or error formatting waited for the sign-in")
	require.Contains(t, out[0], ErrForeignHost.Error())
	require.Equal(t, "echoed [REDACTED]", out[1])
	require.Equal(t, context.Canceled.Error(), out[2])
	require.Contains(t, log.String(), "graph: a line naming [REDACTED]\n")

	release()
	for range 3 {
		require.NoError(t, guard(t, results, "a request never finished"))
	}
	require.EqualValues(t, 2, cred.n.Load(), "one sign-in for the three requests")
	reqs := srv.Requests()
	require.Len(t, reqs, 4)
	for _, r := range reqs[1:] {
		require.Equal(t, "Bearer secret-token-2-padding", r.Header.Get("Authorization"))
	}
	all := log.String() + strings.Join(out, "\n") + c.scrub("secret-token-2-padding")
	require.NotContains(t, all, "secret-token-")
}
