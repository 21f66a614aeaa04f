package graphclient

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/graph"
)

// endlessServer answers every list with a page whose nextLink names a page
// never seen before; page(n) renders the items of page n. It gives up with
// 500 after giveUp requests, so that a client without a bound ends rather
// than hangs the test.
func endlessServer(t *testing.T, giveUp int, page func(n int) string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(hits.Add(1))
		if n > giveUp {
			http.Error(w, "the test server gave up", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, `{"value":[%s],"@odata.nextLink":"http://%s/v1.0/%s?$skiptoken=%d"}`, page(n), r.Host, definitionsPath, n)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestListingIsBounded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		maxPages int
		page     func(n int) string
		wantErr  string
		wantHits int32
		wantLen  int
	}{
		{name: "empty pages forever", page: func(int) string { return "" },
			wantErr: "stopped after 50 empty pages in a row", wantHits: maxEmptyPages},
		{name: "the same page forever", page: func(int) string { return `{"id":"a"},{"id":"b"}` },
			wantErr: "page 2 repeats page 1", wantHits: 2, wantLen: 2},
		{name: "new items forever", maxPages: 30, page: func(n int) string { return fmt.Sprintf(`{"id":"d%d"}`, n) },
			wantErr: "stopped after 30 pages, the most one list may take", wantHits: 30, wantLen: 30},
		{name: "empty pages between full ones are fine", maxPages: 120, page: func(n int) string {
			if n%40 == 0 {
				return fmt.Sprintf(`{"id":"d%d"}`, n)
			}
			return ""
		}, wantErr: "stopped after 120 pages", wantHits: 120, wantLen: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, hits := endlessServer(t, 5000, tt.page)
			c, _ := newTestClient(t, srv.URL, func(o *Options) { o.MaxPages = tt.maxPages })
			start := time.Now()
			defs, err := collect(c.ListDefinitions(t.Context(), nil))
			require.ErrorContains(t, err, tt.wantErr)
			require.ErrorContains(t, err, "GET http://"+srv.Listener.Addr().String()+"/v1.0/"+definitionsPath+"?$skiptoken=")
			require.Len(t, defs, tt.wantLen, "the items before the stop are delivered")
			require.Equal(t, tt.wantHits, hits.Load(), "no page beyond the limit is requested")
			require.Less(t, time.Since(start), 10*time.Second)
		})
	}
}

func TestListingStopsAtANextLinkThatDoesNotAdvance(t *testing.T) {
	t.Parallel()
	// Each page links to the page "next" names (a cycle back to an
	// earlier page, or the page itself).
	for _, tt := range []struct {
		name string
		next map[string]string
		want string
	}{
		{"to itself", map[string]string{"": "a", "a": "a"}, "the service returned a nextLink to a page already read (page 2 links to itself)"},
		{"back to the first", map[string]string{"": "a", "a": "b", "b": ""}, "the service returned a nextLink to a page already read (page 3 links back to page 1)"},
		{"back to the second", map[string]string{"": "a", "a": "b", "b": "a"}, "the service returned a nextLink to a page already read (page 3 links back to page 2)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				tok := r.URL.Query().Get("$skiptoken")
				link := "http://" + r.Host + "/v1.0/" + definitionsPath
				if n := tt.next[tok]; n != "" {
					link += "?$skiptoken=" + n
				}
				fmt.Fprintf(w, `{"value":[{"id":"x%s"}],"@odata.nextLink":%s}`, tok, strconv.Quote(link))
			}))
			t.Cleanup(srv.Close)
			c, _ := newTestClient(t, srv.URL)
			defs, err := collect(c.ListDefinitions(t.Context(), nil))
			require.ErrorContains(t, err, tt.want)
			require.Len(t, defs, int(hits.Load()), "every page read is delivered, and none twice")
		})
	}
}

func TestDefaultPageLimit(t *testing.T) {
	t.Parallel()
	c, err := New(Options{Credential: StaticToken("x")})
	require.NoError(t, err)
	require.Equal(t, DefaultMaxPages, c.maxPages)
	require.Equal(t, 10000, DefaultMaxPages)
	srv, hits := endlessServer(t, 500, func(n int) string { return fmt.Sprintf(`{"id":"d%d"}`, n) })
	c, _ = newTestClient(t, srv.URL)
	_, err = collect(listPages[graph.Definition](t.Context(), c, srv.URL+"/v1.0/"+definitionsPath))
	require.ErrorContains(t, err, "the test server gave up", "500 pages are within the default")
	require.EqualValues(t, 500+maxServerErrorAttempts, hits.Load(), "the last page's 500 is tried again")
}
