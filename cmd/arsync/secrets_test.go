package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/graphclient"
)

// TestReflectedTokenNeverReachesTheTerminal runs `arsync plan -v` with
// ARSYNC_ACCESS_TOKEN against a service that echoes the token in every
// part of its answers (error code, inner codes, message, ids, date,
// headers, a text body cut anywhere through the token, a nextLink), and
// checks that no 8-byte part of the token reaches stdout or stderr.
func TestReflectedTokenNeverReachesTheTerminal(t *testing.T) {
	const tok = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoLm1pY3Jvc29mdC5jb20iLCJ1cG4iOiJhZG1pbkBjb250b3NvLmNvbSJ9.c2lnbmF0dXJlLTAxMjM0NTY3ODlhYmNkZWY"
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
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, strings.Repeat("x", off)+echo+strings.Repeat(" and more", 50))
		}
	}))
	t.Cleanup(srv.Close)

	t.Chdir(t.TempDir())
	docEnv(t, map[string]string{graphclient.EnvAccessToken: tok})
	require.NoError(t, os.MkdirAll("noref", 0o755))
	require.NoError(t, os.WriteFile("noref/r.yaml", []byte(strings.Replace(docReview("all-users", "All users", "/users", 7),
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
