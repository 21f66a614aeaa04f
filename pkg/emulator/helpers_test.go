package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeClock is a settable clock for tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(t time.Time) *fakeClock { return &fakeClock{now: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// t0 is the default test time: the day of the docs' create example.
var t0 = time.Date(2021, 5, 5, 9, 30, 0, 0, time.UTC)

// harness is an emulator behind an httptest server with a JSON client.
type harness struct {
	t     testing.TB
	srv   *Server
	ts    *httptest.Server
	clock *fakeClock
	token string
}

func newHarness(t testing.TB, opts Options) *harness {
	t.Helper()
	clock := newClock(t0)
	if opts.Clock == nil {
		opts.Clock = clock.Now
	}
	if opts.Seed == 0 {
		opts.Seed = 42
	}
	srv, err := New(opts)
	require.NoError(t, err)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &harness{t: t, srv: srv, ts: ts, clock: clock, token: srv.adminToken()}
}

type result struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body generically (maps, float64 numbers).
func (r result) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "body: %s", r.body)
	return m
}

func (r result) values(t testing.TB) []any {
	t.Helper()
	v, ok := r.json(t)["value"].([]any)
	require.True(t, ok, "no value array in %s", r.body)
	return v
}

// errCode returns error.code of an error body.
func (r result) errCode(t testing.TB) string {
	t.Helper()
	e, ok := r.json(t)["error"].(map[string]any)
	require.True(t, ok, "no error object in %s", r.body)
	return e["code"].(string)
}

func (r result) errMessage(t testing.TB) string {
	t.Helper()
	e, ok := r.json(t)["error"].(map[string]any)
	require.True(t, ok, "no error object in %s", r.body)
	return e["message"].(string)
}

// do sends a request; body may be nil, a string, []byte or a value to
// encode as JSON. path is relative to the version root unless it starts
// with "/v" or "http".
func (h *harness) do(method, path string, body any, hdr ...string) result {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		require.NoError(h.t, err)
		rd = bytes.NewReader(data)
	}
	u := path
	switch {
	case strings.HasPrefix(path, "http"):
	case strings.HasPrefix(path, "/v1.0") || strings.HasPrefix(path, "/beta") || strings.HasPrefix(path, "/v"):
		u = h.ts.URL + path
	default:
		u = h.ts.URL + "/v1.0/" + strings.TrimPrefix(path, "/")
	}
	if base, q, ok := strings.Cut(u, "?"); ok {
		u = base + "?" + strings.ReplaceAll(q, " ", "%20")
	}
	req, err := http.NewRequest(method, u, rd)
	require.NoError(h.t, err)
	req.Header.Set("Authorization", "Bearer "+h.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := h.ts.Client().Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	return result{status: resp.StatusCode, header: resp.Header, body: data}
}

// create POSTs a definition and returns its id.
func (h *harness) create(body any) string {
	h.t.Helper()
	r := h.do(http.MethodPost, definitionsPath, body)
	require.Equal(h.t, http.StatusCreated, r.status, "body: %s", r.body)
	return r.json(h.t)["id"].(string)
}

// validDefinition is a small valid create body; callers change it.
func validDefinition() map[string]any {
	return map[string]any{
		"displayName":          "Guests of Marketing",
		"descriptionForAdmins": "Quarterly review\n[arsync:guests-marketing]",
		"scope": map[string]any{
			"@odata.type": "#microsoft.graph.accessReviewQueryScope",
			"query":       "/groups/ea1ee477-0a50-41ac-8699-c70d0c1f868a/transitiveMembers/microsoft.graph.user/?$filter=(userType eq 'Guest')",
			"queryType":   "MicrosoftGraph",
		},
		"reviewers": []any{
			map[string]any{"query": "/users/398164b1-5196-49dd-ada2-364b49f99b27", "queryType": "MicrosoftGraph"},
		},
		"settings": map[string]any{
			"mailNotificationsEnabled": true,
			"instanceDurationInDays":   3,
			"recurrence": map[string]any{
				"pattern": map[string]any{"type": "absoluteMonthly", "interval": 3},
				"range":   map[string]any{"type": "noEnd", "startDate": "2021-05-05"},
			},
		},
	}
}

// setPath sets a dotted path in a nested map ("settings.recurrence.range.type"),
// creating maps on the way; a nil value deletes the key.
func setPath(m map[string]any, path string, v any) map[string]any {
	parts := splitDotted(path)
	cur := m
	for _, p := range parts[:len(parts)-1] {
		next, ok := cur[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[p] = next
		}
		cur = next
	}
	last := parts[len(parts)-1]
	if v == nil {
		delete(cur, last)
	} else {
		cur[last] = v
	}
	return m
}

// getPath reads a dotted path from decoded JSON; numeric parts index arrays.
func getPath(v any, path string) any {
	for _, p := range splitDotted(path) {
		switch t := v.(type) {
		case map[string]any:
			v = t[p]
		case []any:
			i := 0
			for _, c := range p {
				i = i*10 + int(c-'0')
			}
			if i >= len(t) {
				return nil
			}
			v = t[i]
		default:
			return nil
		}
	}
	return v
}

// splitDotted splits a dotted path, keeping "@odata.type" whole.
func splitDotted(path string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(path, "@odata.type", "@odata\x00type"), ".") {
		out = append(out, strings.ReplaceAll(p, "\x00", "."))
	}
	return out
}

// indentJSON pretty-prints JSON for golden files.
func indentJSON(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	require.NoError(t, json.Indent(&out, b, "", "  "))
	out.WriteByte('\n')
	return out.Bytes()
}

func jsonReader(t testing.TB, v any) io.Reader {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return bytes.NewReader(b)
}
