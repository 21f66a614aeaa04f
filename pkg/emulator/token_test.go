package emulator

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

// unsignedJWT is a JWT-shaped token nobody signed, as older emulators
// issued and as anyone can write.
func unsignedJWT(claims map[string]any) string {
	enc := base64.RawURLEncoding
	b, _ := json.Marshal(claims)
	return enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc.EncodeToString(b) + "."
}

const wantChallenge = `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`

func TestAuthentication(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	issue := func(o TokenOptions) string {
		t.Helper()
		tok, err := h.srv.IssueToken(o)
		require.NoError(t, err)
		return tok
	}
	other, err := New(Options{Seed: 42}) // same seed, another key
	require.NoError(t, err)
	mine := h.srv.Token("alice@contoso.com")
	head, payload, _ := strings.Cut(mine, ".")
	payload, sig, _ := strings.Cut(payload, ".")
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	require.NoError(t, err)
	forged := head + "." + base64.RawURLEncoding.EncodeToString(bytes.Replace(raw, []byte("alice@"), []byte("admin@"), 1)) + "." + sig

	tests := []struct {
		name      string
		authz     string // the whole Authorization header; "" = none
		method    string
		path      string // default: the definitions
		status    int
		message   string // the whole of error.message, for 401s
		createdBy map[string]any
	}{
		{name: "no header", method: "GET", status: 401, message: msgTokenEmpty},
		{name: "another scheme", authz: "Basic YTpi", method: "GET", status: 401, message: msgTokenEmpty},
		{name: "a token without a scheme", authz: mine, method: "GET", status: 401, message: msgTokenEmpty},
		{name: "bearer without a token", authz: "Bearer ", method: "GET", status: 401, message: msgTokenNull},
		{name: "garbage", authz: "Bearer garbage", method: "GET", status: 401, message: msgTokenMalformed},
		{name: "garbage with dots", authz: "Bearer a.b.c", method: "GET", status: 401, message: msgTokenMalformed},
		{name: "payload not JSON", authz: "Bearer " + head + ".bm90IGpzb24." + sig, method: "GET", status: 401, message: msgTokenMalformed},
		{name: "garbage on a write", authz: "Bearer garbage", method: "POST", status: 401, message: msgTokenMalformed},
		{name: "garbage on the directory", authz: "Bearer garbage", method: "GET", path: "users", status: 401, message: msgTokenMalformed},
		{name: "unsigned JWT for Graph", authz: "Bearer " + unsignedJWT(map[string]any{"aud": "https://graph.microsoft.com", "upn": "admin@contoso.com", "scp": "AccessReview.ReadWrite.All"}),
			method: "GET", status: 401, message: msgTokenInvalid},
		{name: "JWT for another resource", authz: "Bearer " + unsignedJWT(map[string]any{"aud": "https://graph.windows.net", "upn": "admin@contoso.com"}),
			method: "GET", status: 401, message: msgTokenAudience},
		{name: "another emulator's token", authz: "Bearer " + other.Token("admin@contoso.com"), method: "GET", status: 401, message: msgTokenInvalid},
		{name: "claims changed after signing", authz: "Bearer " + forged, method: "GET", status: 401, message: msgTokenInvalid},
		{name: "signature cut off", authz: "Bearer " + head + "." + payload + ".", method: "GET", status: 401, message: msgTokenInvalid},
		{name: "expired", authz: "Bearer " + issue(TokenOptions{User: "alice@contoso.com", Lifetime: -time.Minute}), method: "GET", status: 401, message: msgTokenExpired},
		{name: "expiring on the dot", authz: "Bearer " + issue(TokenOptions{Lifetime: -time.Nanosecond}), method: "GET", status: 401, message: msgTokenExpired},
		{name: "unknown user's token is empty", authz: "Bearer " + h.srv.Token("nobody@contoso.com"), method: "GET", status: 401, message: msgTokenNull},

		{name: "valid", authz: "Bearer " + mine, method: "GET", status: 200},
		{name: "lower-case scheme", authz: "bearer " + mine, method: "GET", status: 200},
		{name: "with a lifetime", authz: "Bearer " + issue(TokenOptions{Lifetime: time.Hour}), method: "GET", status: 200},
		{name: "read-only reads", authz: "Bearer " + h.srv.ReadOnlyToken("alice@contoso.com"), method: "GET", status: 200},
		{name: "read-only writes", authz: "Bearer " + h.srv.ReadOnlyToken("alice@contoso.com"), method: "POST", status: 403},
		{name: "no access-review permission", authz: "Bearer " + issue(TokenOptions{Permissions: []string{"User.Read"}}), method: "GET", status: 403},
		{name: "no permission at all", authz: "Bearer " + issue(TokenOptions{Permissions: []string{}}), method: "GET", status: 403},
		{name: "no access-review permission reads the directory", authz: "Bearer " + issue(TokenOptions{Permissions: []string{"User.Read.All"}}), method: "GET", path: "users", status: 200},
		{name: "no directory permission", authz: "Bearer " + issue(TokenOptions{Permissions: []string{PermissionReadWrite}}), method: "GET", path: "users", status: 403},
		{name: "Directory.Read.All reads no eligibility schedules", authz: "Bearer " + issue(TokenOptions{Permissions: []string{PermissionReadWrite, "Directory.Read.All"}}), method: "GET", path: "roleManagement/directory/roleEligibilityScheduleInstances", status: 403},
		{name: "RoleManagement.Read.Directory reads them", authz: "Bearer " + issue(TokenOptions{Permissions: []string{"RoleManagement.Read.Directory"}}), method: "GET", path: "roleManagement/directory/roleEligibilityScheduleInstances", status: 200},
		{name: "GroupMember.Read.All reads groups", authz: "Bearer " + issue(TokenOptions{Permissions: []string{"GroupMember.Read.All"}}), method: "GET", path: "groups", status: 200},
		{name: "admin by default", authz: "Bearer " + issue(TokenOptions{}), method: "POST", status: 201,
			createdBy: map[string]any{"id": idAdmin, "displayName": "MOD Administrator", "userPrincipalName": "admin@contoso.com"}},
		{name: "user", authz: "Bearer " + mine, method: "POST", status: 201,
			createdBy: map[string]any{"id": idAlice, "displayName": "Alice Wong", "userPrincipalName": "alice@contoso.com"}},
		{name: "user by object id, upper case", authz: "Bearer " + h.srv.Token(strings.ToUpper(idAlice)), method: "POST", status: 201,
			createdBy: map[string]any{"id": idAlice, "displayName": "Alice Wong", "userPrincipalName": "alice@contoso.com"}},
		{name: "app-only", authz: "Bearer " + issue(TokenOptions{App: appIDPayroll}), method: "POST", status: 201,
			createdBy: map[string]any{"id": idPayroll, "displayName": "Payroll App", "userPrincipalName": nil}},
		{name: "app-only read-only", authz: "Bearer " + issue(TokenOptions{App: appIDPayroll, Permissions: []string{PermissionRead}}), method: "POST", status: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.method == "POST" {
				body = validDefinition()
			}
			path := tt.path
			if path == "" {
				path = definitionsPath
			}
			r := h.do(tt.method, path, body, "Authorization", tt.authz)
			require.Equal(t, tt.status, r.status, "body: %s", r.body)
			switch tt.status {
			case http.StatusUnauthorized:
				require.Equal(t, "InvalidAuthenticationToken", r.errCode(t))
				require.Equal(t, tt.message, r.errMessage(t))
				require.Equal(t, wantChallenge, r.header.Get("WWW-Authenticate"))
			case http.StatusForbidden:
				// The access-review service says Forbidden, the
				// directory Authorization_RequestDenied.
				want := "Forbidden"
				if tt.path != "" {
					want = "Authorization_RequestDenied"
				}
				require.Equal(t, want, r.errCode(t))
				require.Empty(t, r.header.Get("WWW-Authenticate"))
			}
			if tt.createdBy != nil {
				if diff := cmp.Diff(tt.createdBy, r.json(t)["createdBy"]); diff != "" {
					t.Errorf("createdBy mismatch (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestTokenExpiresOnTheEmulatorsClock(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	tok, err := h.srv.IssueToken(TokenOptions{User: "alice@contoso.com", Lifetime: time.Hour})
	require.NoError(t, err)
	get := func() result {
		return h.do(http.MethodGet, definitionsPath, nil, "Authorization", "Bearer "+tok)
	}
	require.Equal(t, http.StatusOK, get().status)
	_, err = h.srv.Advance(59 * time.Minute)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, get().status)
	_, err = h.srv.Advance(time.Minute)
	require.NoError(t, err)
	r := get()
	require.Equal(t, http.StatusUnauthorized, r.status)
	require.Equal(t, msgTokenExpired, r.errMessage(t))
	// The server's own token has no expiry.
	require.Equal(t, http.StatusOK, h.do(http.MethodGet, definitionsPath, nil).status)
}

func TestBatchItemsUseTheOuterToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	batch := map[string]any{"requests": []any{
		map[string]any{"id": "1", "method": "GET", "url": "/identityGovernance/accessReviews/definitions"},
		map[string]any{"id": "2", "method": "GET", "url": "/users?$top=1"},
	}}
	// A token in an inner request's headers does not replace the batch's.
	batch["requests"].([]any)[0].(map[string]any)["headers"] = map[string]any{"Authorization": "Bearer garbage"}
	ro := h.srv.ReadOnlyToken("alice@contoso.com")
	r := h.do(http.MethodPost, "$batch", batch, "Authorization", "Bearer "+ro)
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	for _, resp := range r.json(t)["responses"].([]any) {
		require.EqualValues(t, 200, resp.(map[string]any)["status"], "%v", resp)
	}
	r = h.do(http.MethodPost, "$batch", batch, "Authorization", "Bearer garbage")
	require.Equal(t, http.StatusUnauthorized, r.status)
}

// TestUnauthorizedBodyIsAnODataError checks a 401 against what Microsoft's
// Go SDK parses (msgraph-sdk-go's odataerrors.ODataError, through Kiota's
// JSON parse node): a JSON content type, error.code, error.message and
// error.innerError's request-id, client-request-id and date, which Kiota
// reads as a time when it has exactly 19 characters and no zone. The
// manual check against the SDK itself is in docs/auth.md.
func TestUnauthorizedBodyIsAnODataError(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	r := h.do(http.MethodGet, definitionsPath, nil, "Authorization", "Bearer garbage", "client-request-id", "5f3c9ad1-0000-4000-8000-000000000001")
	require.Equal(t, http.StatusUnauthorized, r.status)
	mediaType, _, _ := strings.Cut(r.header.Get("Content-Type"), ";")
	require.Equal(t, "application/json", strings.ToLower(strings.TrimSpace(mediaType)))

	var body struct {
		Error struct {
			Code       string `json:"code"`
			Message    string `json:"message"`
			InnerError struct {
				Date            string `json:"date"`
				RequestID       string `json:"request-id"`
				ClientRequestID string `json:"client-request-id"`
			} `json:"innerError"`
		} `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&body), "body: %s", r.body)
	e := body.Error
	require.Equal(t, "InvalidAuthenticationToken", e.Code)
	require.Equal(t, msgTokenMalformed, e.Message)
	require.Equal(t, r.header.Get("request-id"), e.InnerError.RequestID)
	require.Regexp(t, guidPattern, e.InnerError.RequestID)
	require.Equal(t, "5f3c9ad1-0000-4000-8000-000000000001", e.InnerError.ClientRequestID)
	require.Equal(t, t0.Format("2006-01-02T15:04:05"), e.InnerError.Date, "Graph's date has no zone")
	require.Equal(t, wantChallenge, r.header.Get("WWW-Authenticate"))
}

func TestIssueTokenRefuses(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	tests := []struct {
		name string
		opts TokenOptions
		err  string
	}{
		{"user and app", TokenOptions{User: "alice@contoso.com", App: appIDPayroll}, "not both"},
		{"unknown user", TokenOptions{User: "nobody@contoso.com"}, `user "nobody@contoso.com": not a user`},
		{"unknown app", TokenOptions{App: "00000000-0000-0000-0000-000000000001"}, "no service principal"},
		{"empty permission", TokenOptions{Permissions: []string{""}}, "one name without spaces"},
		{"permission with a space", TokenOptions{Permissions: []string{"AccessReview.Read.All User.Read"}}, "one name without spaces"},
		{"directory roles for an app", TokenOptions{App: appIDPayroll, DirectoryRoles: []string{}}, "for a user's token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := h.srv.IssueToken(tt.opts)
			require.ErrorContains(t, err, tt.err)
			require.Empty(t, tok)
		})
	}
}

// TestTokenClaims pins what an issued token says, for clients that decode
// it (they must not rely on it; see the package documentation).
func TestTokenClaims(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	decode := func(tok string) (map[string]any, map[string]any) {
		parts := strings.Split(tok, ".")
		require.Len(t, parts, 3)
		var hdr, claims map[string]any
		require.True(t, decodeSegment(parts[0], &hdr))
		require.True(t, decodeSegment(parts[1], &claims))
		return hdr, claims
	}
	hdr, claims := decode(h.srv.Token("alice@contoso.com"))
	require.Equal(t, map[string]any{"typ": "JWT", "alg": "HS256", "kid": "arsync-emulator"}, hdr)
	tid := h.srv.tenantID()
	require.Equal(t, map[string]any{
		"aud": "https://graph.microsoft.com", "iss": "https://arsync-emulator.invalid/" + tid + "/",
		"iat": float64(t0.Unix()), "idtyp": "user", "upn": "alice@contoso.com", "oid": idAlice,
		"name": "Alice Wong", "scp": "AccessReview.ReadWrite.All Directory.Read.All RoleManagement.Read.Directory", "tid": tid, "ver": "1.0",
	}, claims)

	app, err := h.srv.IssueToken(TokenOptions{App: appIDPayroll, Lifetime: time.Hour})
	require.NoError(t, err)
	_, claims = decode(app)
	require.Equal(t, "app", claims["idtyp"])
	require.Equal(t, "Payroll App", claims["app_displayname"])
	require.Equal(t, []any{"AccessReview.ReadWrite.All", "Directory.Read.All", "RoleManagement.Read.Directory"}, claims["roles"])
	require.Equal(t, float64(t0.Add(time.Hour).Unix()), claims["exp"])
	require.NotContains(t, claims, "upn")
	require.NotContains(t, claims, "scp")
	require.NotContains(t, claims, "wids")

	// wids: the user's tenant-wide directory roles, as template ids.
	_, claims = decode(h.srv.Token("admin@contoso.com"))
	require.Equal(t, []any{"62e90394-69f5-4237-9190-012177145e10", "45d8d3c5-c802-45c6-b32a-1d70b5e1e86e"}, claims["wids"])
	_, claims = decode(h.srv.Token("laura@contoso.com"))
	require.Equal(t, []any{"fe930be7-5e62-47db-91af-98c3a49a38b1"}, claims["wids"])
	tok, err := h.srv.IssueToken(TokenOptions{User: "admin@contoso.com", DirectoryRoles: []string{}})
	require.NoError(t, err)
	_, claims = decode(tok)
	require.Equal(t, []any{}, claims["wids"])
}

// TestTokenForAnUnlistedAdmin: a tenant file need not list its admin
// (admin@<domain>); the server's own token still works, acting as a user
// the directory does not know.
func TestTokenForAnUnlistedAdmin(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{Tenant: &Tenant{Domain: "fabrikam.com", Users: []User{{UserPrincipalName: "bob@fabrikam.com", DisplayName: "Bob"}}}})
	h.token = Attach(h.srv, h.ts.URL, func() {}).Token
	r := h.do(http.MethodPost, definitionsPath, validDefinition())
	require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
	require.Equal(t, map[string]any{"id": nameGUID("user:admin@fabrikam.com"), "displayName": "admin@fabrikam.com", "userPrincipalName": "admin@fabrikam.com"},
		r.json(t)["createdBy"])
	_, err := h.srv.IssueToken(TokenOptions{User: "admin@fabrikam.com"})
	require.ErrorContains(t, err, "not a user", "only the default may be unlisted")
	tok, err := h.srv.IssueToken(TokenOptions{Lifetime: 1500 * time.Millisecond})
	require.NoError(t, err)
	parts := strings.Split(tok, ".")
	var claims map[string]any
	require.True(t, decodeSegment(parts[1], &claims))
	require.Equal(t, "admin@fabrikam.com", claims["upn"])
	require.Equal(t, nameGUID("user:admin@fabrikam.com"), claims["oid"])
	require.Equal(t, []any{"62e90394-69f5-4237-9190-012177145e10"}, claims["wids"], "an unlisted admin is a Global Administrator")
	require.Equal(t, float64(t0.Unix()+2), claims["exp"], "a lifetime is rounded up to whole seconds")
}
