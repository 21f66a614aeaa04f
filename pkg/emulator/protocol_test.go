package emulator

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

func jwt(claims map[string]any) string {
	enc := base64.RawURLEncoding
	b, _ := json.Marshal(claims)
	return enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." + enc.EncodeToString(b) + "."
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	tests := []struct {
		name      string
		authz     string // the whole Authorization header; "" = none
		method    string
		status    int
		code      string
		message   string
		createdBy map[string]any
	}{
		{name: "no header", method: "GET", status: 401, code: "InvalidAuthenticationToken", message: "Access token is empty."},
		{name: "basic auth", authz: "Basic YTpi", method: "GET", status: 401, code: "InvalidAuthenticationToken"},
		{name: "empty bearer", authz: "Bearer ", method: "GET", status: 401, code: "InvalidAuthenticationToken"},
		{name: "expired JWT", authz: "Bearer " + jwt(map[string]any{"upn": "alice@contoso.com", "exp": float64(t0.Add(-time.Minute).Unix())}), method: "GET", status: 401, message: "token is expired"},
		{name: "read-only JWT reads", authz: "Bearer " + ReadOnlyToken("alice@contoso.com"), method: "GET", status: 200},
		{name: "read-only JWT writes", authz: "Bearer " + ReadOnlyToken("alice@contoso.com"), method: "POST", status: 403, code: "Forbidden"},
		{name: "scp without write scope", authz: "Bearer " + jwt(map[string]any{"upn": "bob@contoso.com", "scp": "AccessReview.Read.All User.Read"}), method: "POST", status: 403},
		{name: "emu-readonly writes", authz: "Bearer emu-readonly:bob@contoso.com", method: "POST", status: 403},
		{name: "lower-case scheme", authz: "bearer anything", method: "GET", status: 200},
		{name: "opaque token acts as the admin", authz: "Bearer opaque-token", method: "POST", status: 201,
			createdBy: map[string]any{"id": idAdmin, "displayName": "MOD Administrator", "userPrincipalName": "admin@contoso.com"}},
		{name: "JWT user", authz: "Bearer " + Token("alice@contoso.com"), method: "POST", status: 201,
			createdBy: map[string]any{"id": idAlice, "displayName": "Alice Wong", "userPrincipalName": "alice@contoso.com"}},
		{name: "JWT with scp read-write", authz: "Bearer " + jwt(map[string]any{"preferred_username": "BOB@contoso.com", "scp": "AccessReview.ReadWrite.All"}), method: "POST", status: 201,
			createdBy: map[string]any{"id": idBob, "displayName": "Bob Kelly", "userPrincipalName": "bob@contoso.com"}},
		{name: "JWT user outside the directory", authz: "Bearer " + jwt(map[string]any{"upn": "x@elsewhere.com", "oid": "11111111-2222-3333-4444-555555555555", "name": "X"}), method: "POST", status: 201,
			createdBy: map[string]any{"id": "11111111-2222-3333-4444-555555555555", "displayName": "X", "userPrincipalName": "x@elsewhere.com"}},
		{name: "app-only JWT", authz: "Bearer " + jwt(map[string]any{"appid": appIDPayroll, "roles": []string{"AccessReview.ReadWrite.All"}}), method: "POST", status: 201,
			createdBy: map[string]any{"id": idPayroll, "displayName": "Payroll App", "userPrincipalName": nil}},
		{name: "emu user", authz: "Bearer emu:dana@contoso.com", method: "POST", status: 201,
			createdBy: map[string]any{"id": idDana, "displayName": "Dana Whitfield", "userPrincipalName": "dana@contoso.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.method == "POST" {
				body = validDefinition()
			}
			r := h.do(tt.method, definitionsPath, body, "Authorization", tt.authz)
			require.Equal(t, tt.status, r.status, "body: %s", r.body)
			if tt.code != "" {
				require.Equal(t, tt.code, r.errCode(t))
			}
			if tt.message != "" {
				require.Contains(t, r.errMessage(t), tt.message)
			}
			if tt.status == 401 {
				require.Contains(t, r.header.Get("WWW-Authenticate"), "Bearer")
			}
			if tt.createdBy != nil {
				if diff := cmp.Diff(tt.createdBy, r.json(t)["createdBy"]); diff != "" {
					t.Errorf("createdBy mismatch (-want +got):\n%s", diff)
				}
			}
		})
	}
}

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
	req.Header.Set("Authorization", "Bearer t")
	require.PanicsWithValue(t, http.ErrAbortHandler, func() { srv.ServeHTTP(httptest.NewRecorder(), req) })
}
