package graphclient

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/graph"
)

// reflectedToken looks like a real access token (a JWT: header, claims,
// signature), long enough that cutting it anywhere leaves a readable part.
const reflectedToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6Ik1uQ19WWmNBVGZNNXBP" +
	".eyJhdWQiOiJodHRwczovL2dyYXBoLm1pY3Jvc29mdC5jb20iLCJyb2xlcyI6WyJBY2Nlc3NSZXZpZXcuUmVhZFdyaXRlLkFsbCJdfQ" +
	".c2lnbmF0dXJlLW9mLXRoZS10b2tlbi0wMTIzNDU2Nzg5YWJjZGVm"

// requireNoFragment fails if out holds any part of secret of minLen bytes
// or more (every such part contains one of secret's minLen-byte windows).
func requireNoFragment(t testing.TB, out, secret string, minLen int) {
	t.Helper()
	for i := 0; i+minLen <= len(secret); i++ {
		if j := strings.Index(out, secret[i:i+minLen]); j >= 0 {
			lo, hi := max(0, j-40), min(len(out), j+minLen+40)
			t.Errorf("output holds %q, part of the token (at byte %d of it), in ...%s...", secret[i:i+minLen], i, out[lo:hi])
			return
		}
	}
}

// reflectingServer is a badly behaved service that echoes the bearer
// token wherever a response can carry text, in the way the request's
// "case" parameter asks.
func reflectingServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		q := r.URL.Query()
		if strings.HasSuffix(r.URL.Path, "/$batch") {
			// Inner answers carry headers and bodies of their own; a
			// non-JSON one comes as a JSON string.
			var in struct{ Requests []struct{ ID, URL string } }
			json.NewDecoder(r.Body).Decode(&in)
			var out []map[string]any
			for _, rq := range in.Requests {
				a := map[string]any{"id": rq.ID, "status": 403, "headers": map[string]string{"request-id": tok, "client-request-id": tok},
					"body": map[string]any{"error": map[string]any{"code": tok, "message": tok}}}
				if strings.Contains(rq.URL, "text") {
					a["status"], a["body"] = 400, strings.Repeat("y", 280)+tok
				}
				out = append(out, a)
			}
			b, _ := json.Marshal(map[string]any{"responses": out})
			w.Header().Set("Content-Type", "application/json")
			w.Write(b)
			return
		}
		for _, h := range []string{"request-id", "client-request-id", "Date", "x-ms-ags-diagnostic"} {
			w.Header().Set(h, tok)
		}
		switch q.Get("case") {
		case "json":
			inner := map[string]any{"code": tok, "date": tok, "request-id": tok, "client-request-id": tok,
				"innerError": map[string]any{"code": "deeper-" + tok, "innerError": map[string]any{"code": tok + "-deepest"}}}
			b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": tok, "message": "denied for Bearer " + tok, "innerError": inner}})
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(403)
			w.Write(b)
		case "json-escaped":
			// The same token, spelt with JSON escapes.
			var esc strings.Builder
			for _, ch := range tok {
				fmt.Fprintf(&esc, `\u%04x`, ch)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"error":{"code":"%s","message":"echo %s"}}`, esc.String(), esc.String())
		case "text":
			// The token at byte off of a text body, so that it straddles
			// the cut of a long message at every offset.
			off, _ := strconv.Atoi(q.Get("off"))
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(500)
			body := strings.Repeat("x", off) + tok + strings.Repeat(" trailing words", 40)
			w.Write([]byte(body))
		case "split":
			// A proxy that wraps long lines and cuts what it echoes.
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			fmt.Fprintf(w, "<p>Authorization: Bearer %s\n%s</p><p>seen: %s...</p>", tok[:60], tok[60:], tok[:30])
		case "throttle":
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(429)
			w.Write([]byte(graphError(tok, "slow down "+tok)))
		case "too-large":
			w.Header().Set("Content-Length", "100000")
			w.WriteHeader(200)
			w.Write(bytes.Repeat([]byte("x"), 100000))
		case "next":
			// A nextLink carrying the token, to another host.
			fmt.Fprintf(w, `{"value":[],"@odata.nextLink":"https://evil.example/%s?x=%s"}`, tok, tok)
		case "decode":
			// A body that does not decode, holding the token.
			fmt.Fprintf(w, `{"id": %s}`, tok)
		default:
			w.WriteHeader(404)
			fmt.Fprintf(w, `{"error":{"code":"NotFound","message":"%s"}}`, tok)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestReflectedTokenIsNeverPrinted: whatever part of an answer the
// service echoes the token in, no error message and no debug line holds
// any 8-byte part of it, also when a long text body is cut right
// through the token.
func TestReflectedTokenIsNeverPrinted(t *testing.T) {
	t.Parallel()
	srv := reflectingServer(t)
	var log lockedBuffer
	c, _ := newTestClient(t, srv.URL, func(o *Options) {
		o.Credential = StaticToken(reflectedToken)
		o.Debug = &log
		o.MaxRetries = 1
	})
	c.maxBody = 50000
	cases := []string{"json", "json-escaped", "split", "throttle", "too-large", "next", "decode", "default"}
	for off := maxErrorText - len(reflectedToken) - 2; off <= maxErrorText+2; off++ {
		cases = append(cases, "text&off="+strconv.Itoa(off))
	}
	var all strings.Builder
	for _, cs := range cases {
		var err error
		if cs == "next" {
			_, err = collect(listPages[graph.Definition](t.Context(), c, c.BaseURL()+definitionsPath+"?case=next"))
			require.ErrorIs(t, err, ErrForeignHost)
		} else {
			var out map[string]any
			_, err = c.Do(t.Context(), http.MethodGet, "identityGovernance/accessReviews/definitions?case="+cs, nil, &out)
		}
		require.Error(t, err, cs)
		msg := err.Error()
		requireNoFragment(t, msg, reflectedToken, 8)
		all.WriteString(msg + "\n")
	}
	// $batch answers are decoded apart.
	for _, paths := range [][]string{{"users"}, {"users?text"}} {
		_, err := c.batchGet(t.Context(), paths)
		require.Error(t, err)
		requireNoFragment(t, err.Error(), reflectedToken, 8)
		all.WriteString(err.Error() + "\n")
	}
	// Creates take another path to their errors.
	for _, cs := range []string{"json", "text&off=250"} {
		_, err := c.Do(t.Context(), http.MethodPost, "identityGovernance/accessReviews/definitions?case="+cs, map[string]string{"x": "y"}, nil)
		require.Error(t, err)
		requireNoFragment(t, err.Error(), reflectedToken, 8)
		all.WriteString(err.Error() + "\n")
	}
	requireNoFragment(t, log.String(), reflectedToken, 8)
	require.Contains(t, all.String(), "[REDACTED]")
	require.Contains(t, log.String(), "[REDACTED]")
	t.Logf("errors:\n%s\ndebug:\n%s", all.String(), log.String())
}

func TestSecretSetScrub(t *testing.T) {
	t.Parallel()
	const tok = "abcdefghijklmnopqrstuvwxyz0123456789"
	set := newSecretSet([]string{"short", "pässwört-secret"}).withToken(tok)
	tests := []struct{ name, in, want string }{
		{"whole", "echo " + tok + " end", "echo [REDACTED] end"},
		{"twice", tok + tok, "[REDACTED][REDACTED]"},
		{"prefix of 12", "cut: " + tok[:12] + "…", "cut: [REDACTED]…"},
		{"suffix of 9", "tail " + tok[len(tok)-9:], "tail [REDACTED]"},
		{"7 bytes stay", "abcdefg only", "abcdefg only"},
		{"wrapped", tok[:20] + "\n" + tok[20:], "[REDACTED]\n[REDACTED]"},
		{"inside a word", "x" + tok[5:30] + "y", "x[REDACTED]y"},
		{"short secrets are not scrubbed", "a short word", "a short word"},
		{"non-ASCII secret, whole rune kept out", "pw=pässwört", "pw=[REDACTED]"},
		{"nothing", "nothing to hide", "nothing to hide"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, set.scrub(tt.in), tt.name)
	}
	// Cutting a long text anywhere through the token leaves no part of it.
	for off := 0; off <= 320; off++ {
		in := strings.Repeat("z", off) + tok + " more"
		requireNoFragment(t, set.clean(in, 300), tok, 8)
	}
	// The oldest tokens are forgotten; Options.Secrets never are.
	for i := range maxTokens {
		set = set.withToken(fmt.Sprintf("token-number-%d-xyz", i))
	}
	require.Equal(t, "abcdefghijklmnopqrstuvwxyz0123456789", set.scrub(tok))
	require.Equal(t, "[REDACTED]", set.scrub("pässwört-secret"))
	require.Same(t, set, set.withToken("token-number-1-xyz"), "a known token does not rebuild the set")
	var none *secretSet
	require.Equal(t, "as is "+tok, none.scrub("as is "+tok))
}

func TestOneLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"  a \n\t b  ", 10, "a b"},
		{"abcd", 3, "abc…"},
		{"ab cd", 3, "ab …"},
		{"abc", 3, "abc"},
		{"abc   \n", 3, "abc"},
		{"äöü ßx", 4, "äöü …"},
		{"", 3, ""},
		{strings.Repeat(" ", 1<<20) + "tail", 10, "tail"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, oneLine(tt.in, tt.max), "%q", tt.in)
		// The same as collapsing the whole text, then cutting it.
		whole := []rune(strings.Join(strings.Fields(tt.in), " "))
		want := string(whole)
		if len(whole) > tt.max {
			want = string(whole[:tt.max]) + "…"
		}
		require.Equal(t, want, oneLine(tt.in, tt.max), "%q", tt.in)
	}
}

func TestErrorFieldsAreBoundedButTheURLIsKept(t *testing.T) {
	t.Parallel()
	long := "https://graph.microsoft.com/v1.0/users?$filter=userPrincipalName%20in%20(" + strings.Repeat("%27someone%40contoso.com%27,", 20) + ")"
	h := http.Header{"Request-Id": {strings.Repeat("r", 1000)}}
	e := newError(newSecretSet(nil), http.MethodGet, long, 400, h, []byte(`{"error":{"code":"`+strings.Repeat("c", 1000)+`","message":"`+strings.Repeat("m ", 3000)+`"}}`))
	require.Equal(t, long, e.URL)
	require.Equal(t, strings.Repeat("r", maxErrorField)+"…", e.RequestID)
	require.Equal(t, strings.Repeat("c", maxErrorField)+"…", e.Code)
	require.Len(t, []rune(e.Message), maxErrorMessage+1)
}
