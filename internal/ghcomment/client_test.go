package ghcomment

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const testToken = "ghs_testtoken0123456789"

// fakeGitHub is the part of GitHub's REST API that Upsert uses: issue
// comments of one repository, paged with Link headers as GitHub pages them.
type fakeGitHub struct {
	t    *testing.T
	srv  *httptest.Server
	repo string

	mu       sync.Mutex
	comments map[int][]*comment // by issue number, oldest first
	nextID   int64
	pageSize int
	requests []string // "METHOD path"
	// fail, when set, answers a request instead of the fake; commit
	// makes the fake carry out the request first (a write that reached
	// GitHub but whose answer was lost).
	fail func(r *http.Request, n int) (status int, header http.Header, commit bool)
	// nextHost, when set, makes Link headers point to another host.
	nextHost string
}

func newFakeGitHub(t *testing.T) *fakeGitHub {
	f := &fakeGitHub{t: t, repo: "contoso/access-reviews", comments: map[int][]*comment{}, nextID: 1000, pageSize: 30}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGitHub) client() *Client {
	return &Client{
		APIURL: f.srv.URL, Token: testToken, HTTPClient: f.srv.Client(),
		Sleep: func(context.Context, time.Duration) error { return nil },
	}
}

var (
	listRE  = regexp.MustCompile(`^/repos/([^/]+/[^/]+)/issues/(\d+)/comments$`)
	patchRE = regexp.MustCompile(`^/repos/([^/]+/[^/]+)/issues/comments/(\d+)$`)
)

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
		return
	}
	require.Equal(f.t, "application/vnd.github+json", r.Header.Get("Accept"))
	if f.fail != nil {
		if status, header, commit := f.fail(r, len(f.requests)); status != 0 {
			if commit {
				f.handle(httptest.NewRecorder(), r)
			}
			for k, v := range header {
				w.Header()[k] = v
			}
			writeJSON(w, status, map[string]string{"message": http.StatusText(status)})
			return
		}
	}
	f.handle(w, r)
}

func (f *fakeGitHub) handle(w http.ResponseWriter, r *http.Request) {
	if m := listRE.FindStringSubmatch(r.URL.Path); m != nil && m[1] == f.repo {
		n, _ := strconv.Atoi(m[2])
		switch r.Method {
		case http.MethodGet:
			page, _ := strconv.Atoi(r.URL.Query().Get("page"))
			page = max(page, 1)
			size := f.pageSize
			if pp, err := strconv.Atoi(r.URL.Query().Get("per_page")); err == nil {
				size = min(pp, f.pageSize)
			}
			all := f.comments[n]
			lo, hi := min((page-1)*size, len(all)), min(page*size, len(all))
			if hi < len(all) {
				host := f.srv.URL
				if f.nextHost != "" {
					host = f.nextHost
				}
				w.Header().Set("Link", fmt.Sprintf(`<%s%s?per_page=%d&page=%d>; rel="next", <%s%s?page=1>; rel="first"`, host, r.URL.Path, size, page+1, host, r.URL.Path))
			}
			writeJSON(w, http.StatusOK, all[lo:hi])
		case http.MethodPost:
			var in struct{ Body string }
			require.NoError(f.t, json.NewDecoder(r.Body).Decode(&in))
			f.nextID++
			c := &comment{ID: f.nextID, Body: in.Body, HTMLURL: fmt.Sprintf("https://github.com/%s/pull/%d#issuecomment-%d", f.repo, n, f.nextID)}
			f.comments[n] = append(f.comments[n], c)
			writeJSON(w, http.StatusCreated, c)
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
		return
	}
	if m := patchRE.FindStringSubmatch(r.URL.Path); m != nil && m[1] == f.repo && r.Method == http.MethodPatch {
		id, _ := strconv.ParseInt(m[2], 10, 64)
		for _, list := range f.comments {
			for _, c := range list {
				if c.ID == id {
					var in struct{ Body string }
					require.NoError(f.t, json.NewDecoder(r.Body).Decode(&in))
					c.Body = in.Body
					writeJSON(w, http.StatusOK, c)
					return
				}
			}
		}
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeGitHub) add(n int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	f.comments[n] = append(f.comments[n], &comment{ID: f.nextID, Body: body})
}

func (f *fakeGitHub) bodies(n int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.comments[n] {
		out = append(out, c.Body)
	}
	return out
}

func (f *fakeGitHub) writes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		if !strings.HasPrefix(r, "GET ") {
			out = append(out, r)
		}
	}
	return out
}

func TestUpsertCreatesThenEdits(t *testing.T) {
	gh := newFakeGitHub(t)
	c := gh.client()
	ctx := t.Context()
	m := Marker("contoso.onmicrosoft.com")
	gh.add(7, "Looks good to me")

	res, err := c.Upsert(ctx, gh.repo, 7, m, m+"\nfirst plan")
	require.NoError(t, err)
	require.Equal(t, Created, res.Outcome)
	require.Contains(t, res.URL, "/pull/7#issuecomment-")

	res2, err := c.Upsert(ctx, gh.repo, 7, m, m+"\nsecond plan")
	require.NoError(t, err)
	require.Equal(t, Updated, res2.Outcome)
	require.Equal(t, res.ID, res2.ID, "the same comment is edited")

	res3, err := c.Upsert(ctx, gh.repo, 7, m, m+"\nsecond plan")
	require.NoError(t, err)
	require.Equal(t, Unchanged, res3.Outcome)

	require.Equal(t, []string{"Looks good to me", m + "\nsecond plan"}, gh.bodies(7))
	require.Equal(t, []string{
		"POST /repos/contoso/access-reviews/issues/7/comments",
		fmt.Sprintf("PATCH /repos/contoso/access-reviews/issues/comments/%d", res.ID),
	}, gh.writes(), "an unchanged plan writes nothing")
}

// TestUpsertOneCommentPerTenant: a matrix over tenants keeps one comment
// per tenant; a comment that only quotes a marker is not taken.
func TestUpsertOneCommentPerTenant(t *testing.T) {
	gh := newFakeGitHub(t)
	c := gh.client()
	a, b := Marker("tenant-a"), Marker("tenant-b")
	gh.add(3, "> "+a+"\nquoting the bot")
	for _, key := range []string{a, b, a, b} {
		_, err := c.Upsert(t.Context(), gh.repo, 3, key, key+"\nplan")
		require.NoError(t, err)
	}
	require.Equal(t, []string{"> " + a + "\nquoting the bot", a + "\nplan", b + "\nplan"}, gh.bodies(3))
}

// TestUpsertFindsOnLaterPage: long discussions page; the marker may be on
// any page.
func TestUpsertFindsOnLaterPage(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.pageSize = 10
	m := Marker("t")
	for i := range 25 {
		gh.add(9, fmt.Sprintf("comment %d", i))
	}
	gh.add(9, m+"\nold plan")
	for i := range 5 {
		gh.add(9, fmt.Sprintf("later comment %d", i))
	}
	res, err := gh.client().Upsert(t.Context(), gh.repo, 9, m, m+"\nnew plan")
	require.NoError(t, err)
	require.Equal(t, Updated, res.Outcome)
	require.Len(t, gh.bodies(9), 31)
	require.Equal(t, m+"\nnew plan", gh.bodies(9)[25])
}

// TestUpsertLostCreateIsNotDuplicated: GitHub stores the comment but the
// answer is a 502; the retry lists again and edits it instead of posting a
// second one.
func TestUpsertLostCreateIsNotDuplicated(t *testing.T) {
	gh := newFakeGitHub(t)
	posts := 0
	gh.fail = func(r *http.Request, _ int) (int, http.Header, bool) {
		if r.Method == http.MethodPost {
			posts++
			if posts == 1 {
				return http.StatusBadGateway, nil, true
			}
		}
		return 0, nil, false
	}
	var waits []time.Duration
	c := gh.client()
	c.Sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	m := Marker("t")
	res, err := c.Upsert(t.Context(), gh.repo, 1, m, m+"\nplan")
	require.NoError(t, err)
	require.Equal(t, Unchanged, res.Outcome, "the lost create already holds the body")
	require.Len(t, gh.bodies(1), 1, "no duplicate comment")
	require.Equal(t, 1, posts)
	require.Equal(t, []time.Duration{time.Second}, waits)
}

func TestUpsertRetries(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		header    http.Header
		failures  int
		wantErr   string
		wantWaits []time.Duration
	}{
		{"server error twice", http.StatusInternalServerError, nil, 2, "", []time.Duration{time.Second, 2 * time.Second}},
		{"secondary rate limit", http.StatusForbidden, http.Header{"Retry-After": {"7"}}, 1, "", []time.Duration{7 * time.Second}},
		{"rate limit capped wait", http.StatusTooManyRequests, http.Header{"Retry-After": {"3600"}}, 1, "", []time.Duration{time.Minute}},
		{"gives up after three", http.StatusServiceUnavailable, nil, 5, "503 Service Unavailable", []time.Duration{time.Second, 2 * time.Second}},
		{"no permission is final", http.StatusForbidden, nil, 1, `permissions: pull-requests: write`, nil},
		{"not found is final", http.StatusNotFound, nil, 1, "404 Not Found", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gh := newFakeGitHub(t)
			n := 0
			gh.fail = func(r *http.Request, _ int) (int, http.Header, bool) {
				if r.Method == http.MethodPost && n < tt.failures {
					n++
					return tt.status, tt.header, false
				}
				return 0, nil, false
			}
			var waits []time.Duration
			c := gh.client()
			c.Sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
			m := Marker("t")
			_, err := c.Upsert(t.Context(), gh.repo, 2, m, m+"\nplan")
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.Empty(t, gh.bodies(2))
			} else {
				require.NoError(t, err)
				require.Equal(t, []string{m + "\nplan"}, gh.bodies(2))
			}
			require.Equal(t, tt.wantWaits, waits)
		})
	}
}

func TestUpsertCancelledWhileWaiting(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.fail = func(*http.Request, int) (int, http.Header, bool) { return http.StatusBadGateway, nil, false }
	ctx, cancel := context.WithCancel(t.Context())
	c := gh.client()
	c.Sleep = func(ctx context.Context, _ time.Duration) error { cancel(); return ctx.Err() }
	_, err := c.Upsert(ctx, gh.repo, 2, Marker("t"), Marker("t")+"\nplan")
	require.ErrorIs(t, err, context.Canceled)
}

// TestUpsertTokenStaysHome: a next-page link to another host is not
// followed, so the token goes nowhere else, and no error shows the token.
func TestUpsertTokenStaysHome(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the token was sent to another host: %s %s", r.Method, r.URL)
	}))
	defer other.Close()
	gh := newFakeGitHub(t)
	gh.pageSize = 1
	gh.nextHost = other.URL
	gh.add(4, "one")
	gh.add(4, "two")
	_, err := gh.client().Upsert(t.Context(), gh.repo, 4, Marker("t"), Marker("t")+"\nplan")
	require.ErrorContains(t, err, "not following it")
	require.NotContains(t, err.Error(), testToken)

	bad := gh.client()
	bad.Token = "wrong"
	_, err = bad.Upsert(t.Context(), gh.repo, 4, Marker("t"), Marker("t")+"\nplan")
	require.ErrorContains(t, err, "401 Unauthorized: Bad credentials")
}

func TestUpsertRejectsBadInput(t *testing.T) {
	c := &Client{APIURL: "http://127.0.0.1:1"}
	m := Marker("t")
	for _, tc := range []struct {
		repo   string
		number int
		body   string
		want   string
	}{
		{"contoso", 1, m, "not owner/name"},
		{"contoso/x/y", 1, m, "not owner/name"},
		{"contoso/x", 0, m, "not positive"},
		{"contoso/x", 1, "no marker", "must start with its marker"},
		{"contoso/x", 1, m + strings.Repeat("x", MaxBodyLen), "GitHub allows 65536"},
	} {
		_, err := c.Upsert(t.Context(), tc.repo, tc.number, m, tc.body)
		require.ErrorContains(t, err, tc.want)
	}
}
