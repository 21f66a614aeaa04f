package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/graphclient"
)

// TestReflectedTokenNeverReachesTheTerminal runs `arsync plan -v` with
// ARSYNC_ACCESS_TOKEN against a service that echoes the token in every
// part of its answers (error code, inner codes, message, ids, date,
// headers, a text body cut anywhere through the token, a nextLink), and
// checks that no 8-byte part of the token reaches stdout or stderr. The
// token's claims say it may read access reviews, so that plan sends its
// requests.
func TestReflectedTokenNeverReachesTheTerminal(t *testing.T) {
	const tok = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoLm1pY3Jvc29mdC5jb20iLCJ1cG4iOiJhZG1pbkBjb250b3NvLmNvbSIsInNjcCI6IkFjY2Vzc1Jldmlldy5SZWFkLkFsbCJ9.c2lnbmF0dXJlLTAxMjM0NTY3ODlhYmNkZWY"
	var mode atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		echo := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		for _, h := range []string{"request-id", "client-request-id", "Date"} {
			w.Header().Set(h, echo)
		}
		m := mode.Load().(string)
		switch {
		case m == "json":
			b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": echo, "message": "token " + echo,
				"innerError": map[string]any{"code": echo, "date": echo, "request-id": echo, "client-request-id": echo}}})
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			w.Write(b)
		case m == "throttle":
			// Longer than the client may wait: it gives up at once.
			w.Header().Set("Retry-After", "86400")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprintf(w, `{"error":{"code":%q,"message":%q}}`, echo, echo)
		case m == "next":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"value":[],"@odata.nextLink":"https://graph.evil.example/v1.0/%s?$skiptoken=%s"}`, echo, echo)
		case strings.HasPrefix(m, "text:"):
			var off int
			fmt.Sscan(strings.TrimPrefix(m, "text:"), &off)
			w.Header().Set("Content-Type", "text/plain")
			// Not a 500, which the client tries again after a real backoff.
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, strings.Repeat("x", off)+echo+strings.Repeat(" and more", 50))
		}
	}))
	t.Cleanup(srv.Close)

	t.Chdir(t.TempDir())
	docEnv(t, map[string]string{graphclient.EnvAccessToken: tok})
	require.NoError(t, os.MkdirAll("noref", 0o755))
	require.NoError(t, os.WriteFile("noref/r.yaml", []byte(strings.Replace(docReview("all-users", "All users", docNoRefScope, 7),
		"  reviewers:\n    - user: alice@contoso.com\n", "", 1)), 0o644))

	modes := []string{"json", "throttle", "next"}
	for off := 300 - len(tok) - 20; off <= 310; off++ {
		modes = append(modes, fmt.Sprintf("text:%d", off))
	}
	for _, m := range modes {
		mode.Store(m)
		code, stdout, stderr := docRunSplit(t, nil, "plan", "-v", "--graph-endpoint", srv.URL+"/v1.0", "noref")
		require.Equal(t, exitError, code, m)
		require.Contains(t, stderr, "[REDACTED]", m)
		for _, out := range []string{stdout, stderr} {
			for i := 0; i+8 <= len(tok); i++ {
				require.NotContains(t, out, tok[i:i+8], "mode %s: part of the token (byte %d on) was printed", m, i)
			}
		}
	}
}

// TestThrottlePauseIsDocumented: with several updates in flight, a 429
// pauses the others too, and -v says so. The first PUT is throttled at
// once; every other PUT takes 100 ms, so the updates started after the
// 429 find the host paused.
func TestThrottlePauseIsDocumented(t *testing.T) {
	docPagesAbs(t)
	t.Chdir(t.TempDir())
	run, _ := docEmulator(t, emulator.Options{Seed: 1}, nil)
	upstream, err := url.Parse(run.URL)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: upstream.Scheme, Host: upstream.Host})
	var puts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			// The second PUT: the first goes alone (apply's first write
			// tells whether the sign-in may write), the rest in parallel.
			if puts.Add(1) == 2 {
				w.Header().Set("Retry-After", "1")
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprint(w, `{"error":{"code":"TooManyRequests","message":"Too many requests from Identifier:x under category:throttle.msgraph.accessreviews.app.10s. Please try again later."}}`)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	endpoint := []string{"--graph-endpoint", srv.URL + "/v1.0"}
	write := func(days int) {
		files := map[string]string{}
		for i := range 8 {
			name := fmt.Sprintf("review-%d", i)
			files["reviews/"+name+".yaml"] = docReview(name, "Review "+name, docNoRefScope, days)
		}
		docWrite(t, files)
	}
	write(7)
	code, out := docRun(t, nil, append([]string{"apply", "--auto-approve", "reviews"}, endpoint...)...)
	require.Equal(t, exitOK, code, out)
	write(14)
	code, out = docRun(t, nil, append([]string{"apply", "--auto-approve", "-v", "reviews"}, endpoint...)...)
	require.Equal(t, exitOK, code, out)
	documented(t, "troubleshooting", out, "Microsoft Graph asked to pause")
}

// TestEndlessListsAreDocumented: a list whose paging does not end stops
// with an error saying why.
func TestEndlessListsAreDocumented(t *testing.T) {
	docPagesAbs(t)
	t.Chdir(t.TempDir())
	var mode atomic.Value
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		next := fmt.Sprintf("http://%s/v1.0/identityGovernance/accessReviews/definitions?$skiptoken=%d", r.Host, n)
		value := ""
		switch mode.Load().(string) {
		case "loop":
			next = fmt.Sprintf("http://%s/v1.0/identityGovernance/accessReviews/definitions?$skiptoken=%d", r.Host, min(n, 3))
			value = fmt.Sprintf(`{"id":"d%d"}`, n)
		case "repeat":
			value = `{"id":"d1","displayName":"Review"}`
		case "many":
			value = fmt.Sprintf(`{"id":"d%d"}`, n)
		}
		fmt.Fprintf(w, `{"value":[%s],"@odata.nextLink":%q}`, value, next)
	}))
	t.Cleanup(srv.Close)
	docEnv(t, map[string]string{graphclient.EnvAccessToken: "x"})
	require.NoError(t, os.MkdirAll("noref", 0o755))
	require.NoError(t, os.WriteFile("noref/r.yaml", []byte(strings.Replace(docReview("all-users", "All users", docNoRefScope, 7),
		"  reviewers:\n    - user: alice@contoso.com\n", "", 1)), 0o644))
	for _, tt := range []struct{ mode, want string }{
		{"empty", "empty pages in a row"},
		{"loop", "a page already read"},
		{"repeat", "repeats page 1"},
		{"many", "the most one list may take"},
	} {
		mode.Store(tt.mode)
		hits.Store(0)
		code, out := docRun(t, nil, "plan", "--graph-endpoint", srv.URL+"/v1.0", "noref")
		require.Equal(t, exitError, code)
		require.Contains(t, out, tt.want)
		documented(t, "troubleshooting", out, tt.want)
	}
}

// docPagesAbs makes the documented pages' paths absolute, as
// TestTroubleshootingMessages does, before a test leaves this directory.
func docPagesAbs(t *testing.T) {
	t.Helper()
	for k, p := range docPages {
		abs, err := filepath.Abs(p)
		require.NoError(t, err)
		docPages[k] = abs
	}
}
