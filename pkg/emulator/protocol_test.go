package emulator

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var guidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestProtocolHeadersAndErrorShape(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})

	r := h.do(http.MethodGet, definitionsPath, nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Regexp(t, guidPattern, r.header.Get("request-id"))
	require.Equal(t, r.header.Get("request-id"), r.header.Get("client-request-id"), "without a client id, Graph echoes the request-id")
	require.Equal(t, "Wed, 05 May 2021 09:30:00 GMT", r.header.Get("Date"))
	require.Equal(t, "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8", r.header.Get("Content-Type"))
	require.Equal(t, "4.0", r.header.Get("OData-Version"))
	require.NotEmpty(t, r.header.Get("x-ms-ags-diagnostic"))

	r = h.do(http.MethodGet, definitionsPath+"/missing", nil, "client-request-id", "my-correlation-id")
	require.Equal(t, http.StatusNotFound, r.status)
	require.Equal(t, "my-correlation-id", r.header.Get("client-request-id"))
	// The error body has exactly Graph's shape.
	var body struct {
		Error struct {
			Code       string            `json:"code"`
			Message    string            `json:"message"`
			InnerError map[string]string `json:"innerError"`
		} `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&body))
	require.Equal(t, "ResourceNotFound", body.Error.Code)
	require.NotEmpty(t, body.Error.Message)
	require.Equal(t, map[string]string{
		"date":              "2021-05-05T09:30:00",
		"request-id":        r.header.Get("request-id"),
		"client-request-id": "my-correlation-id",
	}, body.Error.InnerError)

	ids := map[string]bool{}
	for range 20 {
		ids[h.do(http.MethodGet, "users?$top=1", nil).header.Get("request-id")] = true
	}
	require.Len(t, ids, 20, "request-ids are unique")
}

func TestVersionsAndPaths(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	tests := []struct {
		path   string
		status int
	}{
		{"/v1.0/users?$top=1", 200},
		{"/beta/users?$top=1", 200},
		{"/beta/identityGovernance/accessReviews/definitions", 200},
		{"/v2.0/users", 400},
		{"/", 400},
		{"/v1.0", 400},
		{"/v1.0/", 400},
		{"/v1.0/identityGovernance", 400},
		{"/v1.0/identityGovernance/accessReviews", 200},
		{"/v1.0/identityGovernance/accessReviews/policy", 400},
		{"/v1.0/identityGovernance/entitlementManagement", 400},
		{"/v1.0/users/", 200},
	}
	for _, tt := range tests {
		r := h.do(http.MethodGet, tt.path, nil)
		require.Equal(t, tt.status, r.status, "%s: %s", tt.path, r.body)
	}
}

func TestRequestBodies(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	raw, err := json.Marshal(validDefinition())
	require.NoError(t, err)
	send := func(body io.Reader, length int64, hdr map[string]string) result {
		req, err := http.NewRequest(http.MethodPost, h.ts.URL+"/v1.0/"+definitionsPath, body)
		require.NoError(t, err)
		req.ContentLength = length
		req.Header.Set("Authorization", "Bearer "+h.token)
		req.Header.Set("Content-Type", "application/json")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := h.ts.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return result{status: resp.StatusCode, header: resp.Header, body: b}
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(raw)
	require.NoError(t, zw.Close())

	t.Run("gzip", func(t *testing.T) {
		r := send(bytes.NewReader(gz.Bytes()), int64(gz.Len()), map[string]string{"Content-Encoding": "gzip"})
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
	})
	t.Run("gzip and chunked", func(t *testing.T) {
		// A reader of unknown length makes the client send Transfer-Encoding: chunked.
		r := send(io.MultiReader(bytes.NewReader(gz.Bytes())), -1, map[string]string{"Content-Encoding": "gzip"})
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
	})
	t.Run("chunked", func(t *testing.T) {
		r := send(io.MultiReader(bytes.NewReader(raw)), -1, nil)
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
	})
	t.Run("not gzip", func(t *testing.T) {
		r := send(bytes.NewReader(raw), int64(len(raw)), map[string]string{"Content-Encoding": "gzip"})
		require.Equal(t, http.StatusBadRequest, r.status)
		require.Contains(t, r.errMessage(t), "gzip")
	})
	t.Run("truncated gzip", func(t *testing.T) {
		cut := gz.Bytes()[:gz.Len()-6]
		r := send(bytes.NewReader(cut), int64(len(cut)), map[string]string{"Content-Encoding": "gzip"})
		require.Equal(t, http.StatusBadRequest, r.status)
	})
	t.Run("unsupported encoding", func(t *testing.T) {
		r := send(bytes.NewReader(raw), int64(len(raw)), map[string]string{"Content-Encoding": "br"})
		require.Equal(t, http.StatusUnsupportedMediaType, r.status)
	})
	t.Run("too large", func(t *testing.T) {
		big := `{"displayName":"` + strings.Repeat("x", maxBody) + `"}`
		r := send(strings.NewReader(big), int64(len(big)), nil)
		require.Equal(t, http.StatusRequestEntityTooLarge, r.status)
	})
	t.Run("gzip bomb", func(t *testing.T) {
		var bomb bytes.Buffer
		zw := gzip.NewWriter(&bomb)
		_, _ = zw.Write(bytes.Repeat([]byte(" "), maxBody+10))
		require.NoError(t, zw.Close())
		r := send(bytes.NewReader(bomb.Bytes()), int64(bomb.Len()), map[string]string{"Content-Encoding": "gzip"})
		require.Equal(t, http.StatusRequestEntityTooLarge, r.status)
	})
}

func TestHandlerWithoutHijacker(t *testing.T) {
	t.Parallel()
	// A recorder cannot be hijacked: a dropped connection aborts the handler
	// the way net/http expects.
	f, err := ParseFaults("drop:#1")
	require.NoError(t, err)
	srv, err := New(Options{Faults: f, Seed: 1})
	require.NoError(t, err)
	req, _ := http.NewRequest(http.MethodGet, "http://x/v1.0/users", nil)
	req.Header.Set("Authorization", "Bearer "+srv.Token("admin@contoso.com"))
	require.PanicsWithValue(t, http.ErrAbortHandler, func() { srv.ServeHTTP(httptest.NewRecorder(), req) })
}
