package emulator

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func batchBody(reqs ...map[string]any) map[string]any {
	out := make([]any, len(reqs))
	for i, r := range reqs {
		out[i] = r
	}
	return map[string]any{"requests": out}
}

func get(id, url string, deps ...string) map[string]any {
	m := map[string]any{"id": id, "method": "GET", "url": url}
	if len(deps) > 0 {
		d := make([]any, len(deps))
		for i, x := range deps {
			d[i] = x
		}
		m["dependsOn"] = d
	}
	return m
}

// responsesByID indexes a $batch answer.
func responsesByID(t *testing.T, r result) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, v := range r.json(t)["responses"].([]any) {
		m := v.(map[string]any)
		out[m["id"].(string)] = m
	}
	return out
}

func TestBatch(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	post := map[string]any{"id": "create", "method": "POST", "url": "/identityGovernance/accessReviews/definitions",
		"headers": map[string]any{"Content-Type": "application/json"}, "body": validDefinition()}
	r := h.do(http.MethodPost, "$batch", batchBody(
		get("1", "/users/alice@contoso.com?$select=id"),
		get("2", "groups?$filter=displayName eq 'Marketing'&$select=id"), // no leading slash
		get("3", "/users/nobody@contoso.com"),
		get("4", "/groups/"+idMarketing, "3"), // depends on a failure
		get("5", "/groups/"+idMarketing, "1"),
		post,
		get("7", "/identityGovernance/accessReviews/definitions?$select=displayName", "create"),
		map[string]any{"id": "8", "method": "POST", "url": "/$batch", "headers": map[string]any{"Content-Type": "application/json"}, "body": batchBody(get("x", "/users"))},
	))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	byID := responsesByID(t, r)
	require.Len(t, byID, 8)
	status := func(id string) float64 { return byID[id]["status"].(float64) }
	require.Equal(t, 200.0, status("1"))
	require.Equal(t, idAlice, getPath(byID["1"], "body.id"))
	require.Equal(t, 200.0, status("2"))
	require.Equal(t, idMarketing, getPath(byID["2"], "body.value.0.id"))
	require.Equal(t, 404.0, status("3"))
	require.Equal(t, "Request_ResourceNotFound", getPath(byID["3"], "body.error.code"))
	require.Equal(t, 424.0, status("4"))
	require.Equal(t, "FailedDependency", getPath(byID["4"], "body.error.code"))
	require.Equal(t, 200.0, status("5"))
	require.Equal(t, 201.0, status("create"))
	require.Contains(t, getPath(byID["create"], "headers.Location"), "/definitions/")
	require.Equal(t, "Guests of Marketing", getPath(byID["7"], "body.value.0.displayName"))
	require.Equal(t, 400.0, status("8"), "a batch cannot nest")
	require.Contains(t, getPath(byID["1"], "headers.Content-Type"), "application/json")

	var inner, outer int
	for _, rec := range h.srv.Requests() {
		if rec.Batch {
			inner++
		} else {
			outer++
		}
	}
	require.Equal(t, 8, inner)
	require.Equal(t, 1, outer, "one round trip")
}

func TestBatchRejectsMalformed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	var many []map[string]any
	for i := range 21 {
		many = append(many, get(fmt.Sprint(i), "/users"))
	}
	tests := []struct {
		name    string
		body    any
		message string
	}{
		{"21 requests", batchBody(many...), "at most 20 requests"},
		{"no requests", map[string]any{"requests": []any{}}, "at least one request"},
		{"requests missing", map[string]any{}, "at least one request"},
		{"duplicate ids", batchBody(get("a", "/users"), get("A", "/groups")), "used by more than one request"},
		{"missing id", batchBody(map[string]any{"method": "GET", "url": "/users"}), "needs an id"},
		{"bad method", batchBody(map[string]any{"id": "1", "method": "FETCH", "url": "/users"}), "invalid method"},
		{"missing url", batchBody(map[string]any{"id": "1", "method": "GET"}), "needs a url"},
		{"absolute url", batchBody(get("1", "https://graph.microsoft.com/v1.0/users")), "must be relative"},
		{"unknown dependency", batchBody(get("1", "/users", "9")), "not in the batch"},
		{"self dependency", batchBody(get("1", "/users", "1")), "depends on itself"},
		{"cycle", batchBody(get("1", "/users", "2"), get("2", "/users", "1")), "cycle"},
		{"body without content type", batchBody(map[string]any{"id": "1", "method": "POST", "url": "/directoryObjects/getByIds", "body": map[string]any{"ids": []any{idAlice}}}), "no Content-Type"},
		{"unknown property", batchBody(map[string]any{"id": "1", "method": "GET", "url": "/users", "priority": 1}), "unexpected property"},
		{"not an object", map[string]any{"requests": []any{"GET /users"}}, "must be an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(http.MethodPost, "$batch", tt.body)
			require.Equal(t, http.StatusBadRequest, r.status, "body: %s", r.body)
			require.Contains(t, r.errMessage(t), tt.message)
		})
	}
	require.Equal(t, http.StatusMethodNotAllowed, h.do(http.MethodGet, "$batch", nil).status)
}

// TestBatchInnerThrottling: each request of a batch meets the fault
// injector on its own, and an inner 429 carries Retry-After in its headers.
func TestBatchInnerThrottling(t *testing.T) {
	t.Parallel()
	f, err := ParseFaults("429:GET:/groups:#2;retry-after=3")
	require.NoError(t, err)
	h := newHarness(t, Options{Faults: f})
	r := h.do(http.MethodPost, "$batch", batchBody(
		get("1", "/groups/"+idMarketing),
		get("2", "/groups/"+idFinance),
		get("3", "/groups/"+idFinance+"/owners", "2"),
	))
	require.Equal(t, http.StatusOK, r.status)
	byID := responsesByID(t, r)
	require.Equal(t, 200.0, byID["1"]["status"])
	require.Equal(t, 429.0, byID["2"]["status"])
	require.Equal(t, "3", getPath(byID["2"], "headers.Retry-After"))
	require.Equal(t, "TooManyRequests", getPath(byID["2"], "body.error.code"))
	require.Equal(t, 424.0, byID["3"]["status"])

	// Retrying the throttled request at once is a Retry-After violation.
	r = h.do(http.MethodPost, "$batch", batchBody(get("2", "/groups/"+idFinance)))
	require.Equal(t, 429.0, responsesByID(t, r)["2"]["status"])
	require.Equal(t, 1, h.srv.RetryAfterViolations())
}
