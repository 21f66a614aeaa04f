package graphclient

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/golden"
	"github.com/arsync/arsync/pkg/graph"
)

func TestErrorDecoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		header map[string]string
		body   string
	}{
		{name: "graph error with innerError", status: 404,
			body: `{"error":{"code":"ResourceNotFound","message":"The access review definition was not found.","innerError":{"date":"2026-03-01T12:00:00","request-id":"0a1b","client-request-id":"req-1"}}}`},
		{name: "empty code, as the access-review back end sends", status: 400,
			header: map[string]string{"request-id": "hdr-rid", "client-request-id": "req-1", "Date": "Sun, 01 Mar 2026 12:00:00 GMT"},
			body:   `{"error":{"code":"","message":"Invalid Access Reviews input data exception. Recurrence pattern is not valid."}}`},
		{name: "nested innerError codes", status: 429, header: map[string]string{"Retry-After": "41"},
			body: `{"error":{"code":"TooManyRequests","message":"Too many requests from Identifier:x under category:throttle.msgraph.accessreviews.app.10s","innerError":{"code":"throttledRequest","request-id":"r1","innerError":{"code":"accessReviewsThrottle"}}}}`},
		{name: "html body", status: 502, header: map[string]string{"request-id": "r2"},
			body: "<html>\n<body>\n  <h1>502 Bad Gateway</h1>\n</body>\n</html>\n"},
		{name: "empty body", status: 503},
		{name: "binary body", status: 500, body: "\xff\xfe\x00\x01"},
		{name: "error field not an object", status: 400, body: `{"error":"invalid_request"}`},
		{name: "long text body is cut", status: 500, body: strings.Repeat("stack frame ", 60)},
		{name: "forbidden", status: 403,
			body: `{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation.","innerError":{"request-id":"r3","client-request-id":"r3"}}}`},
		{name: "unusual status", status: 599, body: `{"error":{"code":"x","message":"y"}}`},
		{name: "generic message, the reason in innerError.message", status: 400,
			body: `{"error":{"code":"BadRequest","message":"The request is invalid.","innerError":{"code":"invalidRequest","message":"reviewers[0].query: the group 9b1c does not exist.","request-id":"r4","date":"2026-03-01T12:00:00"}}}`},
		{name: "generic message, the reasons in details", status: 400,
			body: `{"error":{"code":"BadRequest","message":"An error has occurred.","target":"definition","details":[{"code":"InvalidValue","message":"instanceDurationInDays must be at most 730.","target":"settings.instanceDurationInDays"},{"code":"MissingValue","message":"scope is required."}],"innerError":{"request-id":"r5"}}}`},
		{name: "innerError.message that repeats the message is not shown twice", status: 400,
			body: `{"error":{"code":"BadRequest","message":"Recurrence pattern is not valid.","innerError":{"message":"Recurrence pattern is not valid","request-id":"r6"}}}`},
		{name: "many details are cut", status: 400,
			body: `{"error":{"code":"BadRequest","message":"The request is invalid.","details":[{"code":"a","message":"1"},{"code":"b","message":"2"},{"code":"c","message":"3"},{"code":"d","message":"4"},{"code":"e","message":"5"},{"code":"f","message":"6"},{"code":"g","message":"7"}]}}`},
		{name: "details that are not objects are ignored", status: 400,
			body: `{"error":{"code":"BadRequest","message":"The request is invalid.","details":"no"}}`},
	}
	var out strings.Builder
	for _, tt := range tests {
		h := http.Header{}
		for k, v := range tt.header {
			h.Set(k, v)
		}
		e := newError(nil, "GET", "https://graph.microsoft.com/v1.0/identityGovernance/accessReviews/definitions/d1", tt.status, h, []byte(tt.body))
		if ra, ok := parseRetryAfter(h.Get("Retry-After"), newFakeClock().Now()); ok {
			e.RetryAfter = ra
			e.Attempts = 9
		}
		fmt.Fprintf(&out, "## %s\n%s\n\n", tt.name, e.Error())
		require.NotContains(t, e.Error(), "\n", "one line")
	}
	golden.Assert(t, "testdata/errors.golden", []byte(out.String()))
}

func TestErrorClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status                                           int
		notFound, throttled, forbidden, conflict, unauth bool
	}{
		{404, true, false, false, false, false},
		{429, false, true, false, false, false},
		{403, false, false, true, false, false},
		{409, false, false, false, true, false},
		{401, false, false, false, false, true},
		{400, false, false, false, false, false},
	}
	for _, tt := range tests {
		var err error = fmt.Errorf("wrapped: %w", &graph.Error{StatusCode: tt.status})
		require.Equal(t, tt.notFound, graph.IsNotFound(err), "%d", tt.status)
		require.Equal(t, tt.throttled, graph.IsThrottled(err), "%d", tt.status)
		require.Equal(t, tt.forbidden, graph.IsForbidden(err), "%d", tt.status)
		require.Equal(t, tt.conflict, graph.IsConflict(err), "%d", tt.status)
		require.Equal(t, tt.unauth, errors.Is(err, graph.ErrUnauthorized), "%d", tt.status)
		require.False(t, graph.IsUnknownOutcome(err))
	}
	u := fmt.Errorf("creating: %w", &graph.UnknownOutcomeError{Method: "POST", URL: "u", Err: &graph.Error{StatusCode: 504}})
	require.True(t, graph.IsUnknownOutcome(u))
	var gerr *graph.Error
	require.ErrorAs(t, u, &gerr)
	require.Equal(t, 504, gerr.StatusCode)
	require.False(t, graph.IsUnknownOutcome(nil))
	require.False(t, graph.IsNotFound(nil))
}
