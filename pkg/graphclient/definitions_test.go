package graphclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/golden"
	"github.com/arsync/arsync/pkg/graph"
)

// pagedServer serves n definitions under /v1.0/.../definitions in pages of
// size, linking pages with an absolute nextLink that carries $skiptoken
// (opaque to the client) and the original query. nextHost, when set,
// replaces the host of the nextLink.
func pagedServer(t *testing.T, n, size int, nextHost func(self string) string) (*httptest.Server, *atomic.Int32) {
	srv, hits, _ := pagedServerQueries(t, n, size, nextHost)
	return srv, hits
}

func pagedServerQueries(t *testing.T, n, size int, nextHost func(self string) string) (*httptest.Server, *atomic.Int32, func() []string) {
	t.Helper()
	var hits atomic.Int32
	var mu sync.Mutex
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		mu.Lock()
		queries = append(queries, r.URL.RawQuery)
		mu.Unlock()
		if r.URL.Path != "/v1.0/"+definitionsPath {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		start, _ := strconv.Atoi(q.Get("$skiptoken"))
		var p struct {
			Value    []graph.Definition `json:"value"`
			NextLink string             `json:"@odata.nextLink,omitempty"`
		}
		p.Value = []graph.Definition{}
		for i := start; i < min(start+size, n); i++ {
			p.Value = append(p.Value, graph.Definition{ID: fmt.Sprintf("d%03d", i), DisplayName: fmt.Sprintf("Review %d", i)})
		}
		if start+size < n {
			q.Set("$skiptoken", strconv.Itoa(start+size))
			host := "http://" + r.Host
			if nextHost != nil {
				host = nextHost(host)
			}
			p.NextLink = host + r.URL.Path + "?" + q.Encode()
		}
		json.NewEncoder(w).Encode(p)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), queries...)
	}
}

func TestListDefinitionsFollowsNextLinks(t *testing.T) {
	t.Parallel()
	srv, hits, queries := pagedServerQueries(t, 7, 3, nil)
	c, _ := newTestClient(t, srv.URL)
	var ids []string
	for d, err := range c.ListDefinitions(t.Context(), &graph.ListOptions{Filter: "status eq 'InProgress'", Top: 3, Select: []string{"id", "displayName"}}) {
		require.NoError(t, err)
		ids = append(ids, d.ID)
	}
	require.Equal(t, []string{"d000", "d001", "d002", "d003", "d004", "d005", "d006"}, ids)
	require.EqualValues(t, 3, hits.Load())
	seenQueries := queries()
	// The first URL carries the options; the next ones are the nextLinks as given.
	require.Equal(t, "$filter=status%20eq%20%27InProgress%27&$top=3&$select=id%2CdisplayName", seenQueries[0])
	require.Contains(t, seenQueries[1], "%24skiptoken=3")
	require.Contains(t, seenQueries[2], "%24skiptoken=6")
	require.Contains(t, seenQueries[2], "%24filter=status+eq+%27InProgress%27")
}

func TestListDefinitionsStopsWhenTheLoopDoes(t *testing.T) {
	t.Parallel()
	srv, hits := pagedServer(t, 10, 2, nil)
	c, _ := newTestClient(t, srv.URL)
	n := 0
	for _, err := range c.ListDefinitions(t.Context(), nil) {
		require.NoError(t, err)
		n++
		if n == 3 {
			break
		}
	}
	require.EqualValues(t, 2, hits.Load())
}

func TestAllDefinitions(t *testing.T) {
	t.Parallel()
	srv, hits := pagedServer(t, 250, 7, nil)
	c, _ := newTestClient(t, srv.URL)
	defs, err := c.AllDefinitions(t.Context())
	require.NoError(t, err)
	require.Len(t, defs, 250)
	seen := map[string]bool{}
	for _, d := range defs {
		require.False(t, seen[d.ID], "duplicate %s", d.ID)
		seen[d.ID] = true
	}
	require.EqualValues(t, 36, hits.Load()) // ceil(250/7)
}

func TestNextLinkToAForeignHostIsRefused(t *testing.T) {
	t.Parallel()
	var foreignHits atomic.Int32
	var foreignAuth atomic.Value
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		foreignHits.Add(1)
		foreignAuth.Store(r.Header.Get("Authorization"))
		w.Write([]byte(`{"value":[]}`))
	}))
	defer foreign.Close()
	for _, target := range []string{foreign.URL, "https://evil.example.test", "//evil.example.test"} {
		srv, _ := pagedServer(t, 5, 2, func(string) string { return target })
		c, _ := newTestClient(t, srv.URL)
		var got []string
		var lastErr error
		for d, err := range c.ListDefinitions(t.Context(), nil) {
			if err != nil {
				lastErr = err
				break
			}
			got = append(got, d.ID)
		}
		require.Equal(t, []string{"d000", "d001"}, got, "the first page is delivered")
		require.ErrorIs(t, lastErr, ErrForeignHost, "target %s", target)
	}
	require.Zero(t, foreignHits.Load(), "nothing, and so no token, may reach the foreign host")
	require.Nil(t, foreignAuth.Load())
}

func TestNextLinkLoopIsAnError(t *testing.T) {
	t.Parallel()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"value":[{"id":"a"}],"@odata.nextLink":"%s/v1.0/%s?$skiptoken=1"}`, srv.URL, definitionsPath)
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL)
	_, err := c.AllDefinitions(t.Context())
	require.ErrorContains(t, err, "nextLink to a page already read")
}

func TestListErrorsMidway(t *testing.T) {
	t.Parallel()
	srv := newScriptServer(t,
		step{status: 200, body: `{"value":[{"id":"a"}],"@odata.nextLink":"NEXT"}`},
	)
	// Rewrite the script now that the URL is known.
	srv.steps = []step{
		{status: 200, body: `{"value":[{"id":"a"}],"@odata.nextLink":"` + srv.URL + `/v1.0/next"}`},
		{status: 403, body: graphError("Authorization_RequestDenied", "no")},
	}
	c, _ := newTestClient(t, srv.URL)
	defs, err := collect(c.ListDefinitions(t.Context(), nil))
	require.True(t, graph.IsForbidden(err))
	require.Len(t, defs, 1)
	_, err = c.AllDefinitions(t.Context())
	require.ErrorContains(t, err, "listing access review definitions: GET ")
}

func TestListOptionsValidation(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t, "http://127.0.0.1:1")
	_, err := collect(c.ListDefinitions(t.Context(), &graph.ListOptions{Top: -1}))
	require.ErrorContains(t, err, "$top must not be negative")
	_, err = collect(c.ListInstances(t.Context(), "", nil))
	require.ErrorContains(t, err, "empty definition id")
	_, err = collect(c.ListDecisions(t.Context(), "d", " ", nil))
	require.ErrorContains(t, err, "empty instance id")
	_, err = c.GetDefinition(t.Context(), "")
	require.ErrorContains(t, err, "empty definition id")
	_, err = c.CreateDefinition(t.Context(), nil)
	require.ErrorContains(t, err, "nil definition")
	require.ErrorContains(t, c.DeleteDefinition(t.Context(), ""), "empty definition id")
}

func TestListOptionsQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		opts *graph.ListOptions
		want string
	}{
		{nil, ""},
		{&graph.ListOptions{}, ""},
		{&graph.ListOptions{Filter: "contains(scope/microsoft.graph.accessReviewQueryScope/query, '/groups')"},
			"?$filter=contains%28scope%2Fmicrosoft.graph.accessReviewQueryScope%2Fquery%2C%20%27%2Fgroups%27%29"},
		{&graph.ListOptions{Top: 100, OrderBy: "createdDateTime desc", Count: true}, "?$top=100&$orderby=createdDateTime%20desc&$count=true"},
	}
	for _, tt := range tests {
		got, err := listQuery(tt.opts)
		require.NoError(t, err)
		require.Equal(t, tt.want, got)
	}
	require.Equal(t, "'O''Brien'", graph.ODataQuote("O'Brien"))
}

func TestCreateDefinitionRoundTrip(t *testing.T) {
	t.Parallel()
	yes, days := true, 3
	in := &graph.Definition{
		DisplayName:             "Guest access to Microsoft 365 groups",
		DescriptionForAdmins:    "Quarterly review of guests\n[arsync:guests-m365-quarterly]",
		DescriptionForReviewers: "Remove guests who no longer need access",
		Scope: &graph.Scope{ODataType: graph.TypeQueryScope, Query: "./members/microsoft.graph.user/?$count=true&$filter=(userType eq 'Guest')",
			QueryType: graph.QueryTypeMicrosoftGraph},
		InstanceEnumerationScope: &graph.Scope{ODataType: graph.TypeQueryScope, Query: "/groups?$filter=(groupTypes/any(c:c+eq+'Unified'))&$count=true", QueryType: graph.QueryTypeMicrosoftGraph},
		Reviewers:                []graph.ReviewerScope{{Query: "./owners", QueryType: graph.QueryTypeMicrosoftGraph}},
		Settings: &graph.ScheduleSettings{
			MailNotificationsEnabled: &yes, DefaultDecisionEnabled: &yes, DefaultDecision: "Deny", InstanceDurationInDays: &days,
			Recurrence: &graph.PatternedRecurrence{
				Pattern: &graph.RecurrencePattern{Type: "absoluteMonthly", Interval: 3},
				Range:   &graph.RecurrenceRange{Type: "endDate", StartDate: "2024-03-21", EndDate: "2025-03-21"},
			},
			ApplyActions: []graph.ApplyAction{{ODataType: graph.TypeRemoveAccessApplyAction}},
		},
	}
	var gotBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var d graph.Definition
		gotBody, _ = io.ReadAll(r.Body)
		require.NoError(t, json.Unmarshal(gotBody, &d))
		d.ID = "new-id"
		d.Status = "NotStarted"
		w.WriteHeader(201)
		json.NewEncoder(w).Encode(d)
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL)
	out, err := c.CreateDefinition(t.Context(), in)
	require.NoError(t, err)
	want := *in
	want.ID, want.Status = "new-id", "NotStarted"
	if diff := cmp.Diff(&want, out, cmpopts.IgnoreUnexported(graph.Definition{})); diff != "" {
		t.Errorf("CreateDefinition mismatch (-want +got):\n%s", diff)
	}
	golden.Assert(t, "testdata/create-body.json", append(gotBody, '\n'))
}

func TestCreateWithoutIDIsUnknown(t *testing.T) {
	t.Parallel()
	srv := newScriptServer(t, step{status: 201})
	c, _ := newTestClient(t, srv.URL)
	_, err := c.CreateDefinition(t.Context(), &graph.Definition{DisplayName: "x"})
	require.True(t, graph.IsUnknownOutcome(err))
	require.ErrorContains(t, err, "without the created definition's id")
}

// TestListPrefetchesTheNextPage: the next page is requested while the
// current page's items are still being consumed, and stopping the loop
// early sends nothing further.
func TestListPrefetchesTheNextPage(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	requested := map[string]chan struct{}{"0": make(chan struct{}), "2": make(chan struct{}), "4": make(chan struct{})}
	var starts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := r.URL.Query().Get("$skiptoken")
		if start == "" {
			start = "0"
		}
		mu.Lock()
		starts = append(starts, start)
		if ch, ok := requested[start]; ok {
			close(ch)
			delete(requested, start)
		}
		mu.Unlock()
		n, _ := strconv.Atoi(start)
		fmt.Fprintf(w, `{"value":[{"id":"d%d"},{"id":"d%d"}],"@odata.nextLink":"http://%s/v1.0/%s?$skiptoken=%d"}`, n, n+1, r.Host, definitionsPath, n+2)
	}))
	t.Cleanup(srv.Close)
	c, _ := newTestClient(t, srv.URL+"/v1.0")

	var got []string
	for d, err := range c.ListDefinitions(t.Context(), nil) {
		require.NoError(t, err)
		got = append(got, d.ID)
		if d.ID == "d0" {
			select { // page 2 is requested before page 1 is consumed
			case <-requestedCh(&mu, requested, "2"):
			case <-time.After(10 * time.Second):
				t.Fatal("the second page was not requested while the first was consumed")
			}
		}
		if d.ID == "d2" {
			break
		}
	}
	require.Equal(t, []string{"d0", "d1", "d2"}, got)
	mu.Lock()
	defer mu.Unlock()
	// Page 3 may have been requested when page 2 arrived, but no page after it.
	require.Subset(t, []string{"0", "2", "4"}, starts)
}

// requestedCh returns the channel closed when the page starting at start
// is requested (already closed if it has been).
func requestedCh(mu *sync.Mutex, requested map[string]chan struct{}, start string) <-chan struct{} {
	mu.Lock()
	defer mu.Unlock()
	if ch, ok := requested[start]; ok {
		return ch
	}
	done := make(chan struct{})
	close(done)
	return done
}

// TestCreateUnreadableAnswerIsUnknown: a 2xx answer to a create whose body
// does not name the new definition says it was made without saying which
// one it is. That is an unknown outcome (the caller finds it by its
// marker), never a plain failure, and the POST is not sent again.
func TestCreateUnreadableAnswerIsUnknown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		step   step
		errHas string
	}{
		{"no body", step{status: 201}, "answered 201 without the created definition's id"},
		{"HTML", step{status: 201, body: "<html>Created</html>", header: map[string]string{"Content-Type": "text/html"}}, "answered 201 with a body that is not a definition"},
		{"truncated JSON", step{status: 201, body: `{"id":"new-1","displayName":"x`}, "answered 201 with a body that is not a definition"},
		{"a JSON array", step{status: 201, body: `[]`}, "answered 201 with a body that is not a definition"},
		{"an id of the wrong type", step{status: 201, body: `{"id":5}`}, "answered 201 with a body that is not a definition"},
		{"JSON without an id", step{status: 201, body: `{"displayName":"x"}`}, "answered 201 without the created definition's id"},
		{"a blank id", step{status: 201, body: `{"id":"  "}`}, "answered 201 without the created definition's id"},
		{"null", step{status: 200, body: `null`}, "answered 200 without the created definition's id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newScriptServer(t, tt.step, step{status: 201, body: `{"id":"dup"}`})
			c, _ := newTestClient(t, srv.URL)
			got, err := c.CreateDefinition(t.Context(), &graph.Definition{DisplayName: "x"})
			require.Nil(t, got)
			require.True(t, graph.IsUnknownOutcome(err), "got %v", err)
			require.ErrorContains(t, err, tt.errHas)
			require.Len(t, srv.Requests(), 1, "a create must not be sent twice")
		})
	}
}

// TestDeleteDefinitionOutcome: a DELETE that ends in anything but a 4xx
// answer (after the client's own retries) may have been carried out, and
// says so with an *UnknownOutcomeError; the caller checks whether the
// definition is gone. A 4xx answer means nothing was deleted.
func TestDeleteDefinitionOutcome(t *testing.T) {
	t.Parallel()
	boom := graphError("generalException", "boom")
	tests := []struct {
		name    string
		steps   []step
		unknown bool
		status  int // of the *graph.Error inside, 0 for none
	}{
		{"500 until the retries run out", []step{{status: 500, body: boom}}, true, 500},
		{"502 until the retries run out", []step{{status: 502, body: "<html>Bad Gateway</html>"}}, true, 502},
		{"408", []step{{status: 408}}, true, 408},
		{"503 until the retries run out", []step{{status: 503, header: map[string]string{"Retry-After": "1"}}}, true, 503},
		{"dropped connections until the retries run out", []step{{drop: true}}, true, 0},
		{"400", []step{{status: 400, body: graphError("BadRequest", "no")}}, false, 400},
		{"403", []step{{status: 403, body: graphError("Forbidden", "no")}}, false, 403},
		{"409", []step{{status: 409, body: graphError("Conflict", "no")}}, false, 409},
		{"404 on the first attempt", []step{{status: 404, body: graphError("ResourceNotFound", "gone")}}, false, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newScriptServer(t, tt.steps...)
			c, _ := newTestClient(t, srv.URL, func(o *Options) { o.MaxRetries = 2 })
			err := c.DeleteDefinition(t.Context(), "def-1")
			require.Error(t, err)
			require.Equal(t, tt.unknown, graph.IsUnknownOutcome(err), "err = %v", err)
			var gerr *graph.Error
			if tt.status == 0 {
				require.False(t, errors.As(err, &gerr), "err = %v", err)
			} else {
				require.ErrorAs(t, err, &gerr)
				require.Equal(t, tt.status, gerr.StatusCode)
			}
			if tt.unknown {
				var u *graph.UnknownOutcomeError
				require.ErrorAs(t, err, &u)
				require.Equal(t, http.MethodDelete, u.Method)
				require.Contains(t, u.URL, "/v1.0/identityGovernance/accessReviews/definitions/def-1")
			}
		})
	}

	// A context ended before the call sends nothing: not unknown.
	srv := newScriptServer(t, step{status: 204})
	c, _ := newTestClient(t, srv.URL)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := c.DeleteDefinition(ctx, "def-1")
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, graph.IsUnknownOutcome(err))
	require.Empty(t, srv.Requests())
}
