package graphclient

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/golden"
)

const (
	testTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	testApp    = "0e6c4c2a-3f3b-4c6e-9d8a-1b2c3d4e5f60"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// fakeCred is a credential built by a fake builder.
type fakeCred struct {
	kind  string
	env   *authEnv
	err   error
	block bool // wait for the context to end
	calls atomic.Int32
}

func (f *fakeCred) GetToken(ctx context.Context, _ policy.TokenRequestOptions) (azcore.AccessToken, error) {
	f.calls.Add(1)
	if f.block {
		<-ctx.Done()
		return azcore.AccessToken{}, fmt.Errorf("%s: %w", f.kind, ctx.Err())
	}
	if f.err != nil {
		return azcore.AccessToken{}, f.err
	}
	return azcore.AccessToken{Token: "token-from-" + f.kind, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// fakeBuilders returns builders that make fakeCreds; failing names the
// kinds whose GetToken fails (with the given message), blocking those that
// never answer.
func fakeBuilders(failing map[string]string, blocking ...string) (builders, map[string]*fakeCred) {
	made := map[string]*fakeCred{}
	var mu sync.Mutex
	mk := func(kind string) func(*authEnv) (azcore.TokenCredential, error) {
		return func(e *authEnv) (azcore.TokenCredential, error) {
			f := &fakeCred{kind: kind, env: e}
			if msg, ok := failing[kind]; ok {
				f.err = errors.New(msg)
			}
			for _, b := range blocking {
				f.block = f.block || b == kind
			}
			mu.Lock()
			made[kind] = f
			mu.Unlock()
			return f, nil
		}
	}
	return builders{
		env: mk(AuthEnv), workloadIdentity: mk(AuthWorkloadIdentity), githubOIDC: mk(AuthGitHubOIDC),
		managedIdentity: mk(AuthManagedIdentity), azureCLI: mk(AuthAzureCLI), deviceCode: mk(AuthDeviceCode),
	}, made
}

func token(t *testing.T, cred azcore.TokenCredential) (string, error) {
	t.Helper()
	tok, err := cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}})
	return tok.Token, err
}

func TestAuthSelection(t *testing.T) {
	t.Parallel()
	ids := map[string]string{EnvTenantID: testTenant, EnvClientID: testApp}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range ids {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name      string
		method    string
		env       map[string]string
		wantToken string
		wantErr   string
	}{
		{name: "auto: static token wins over everything", env: with(map[string]string{EnvAccessToken: "static-abc", EnvClientSecret: "s"}), wantToken: "static-abc"},
		{name: "auto: secret", env: with(map[string]string{EnvClientSecret: "s"}), wantToken: "token-from-env"},
		{name: "auto: certificate", env: with(map[string]string{EnvClientCertPath: "/c.pem"}), wantToken: "token-from-env"},
		{name: "auto: env before workload identity", env: with(map[string]string{EnvClientSecret: "s", EnvFederatedTokenFile: "/f"}), wantToken: "token-from-env"},
		{name: "auto: workload identity", env: with(map[string]string{EnvFederatedTokenFile: "/f", EnvGitHubOIDCRequestURL: "u", EnvGitHubOIDCToken: "t"}), wantToken: "token-from-workload-identity"},
		{name: "auto: github oidc", env: with(map[string]string{EnvGitHubOIDCRequestURL: "u", EnvGitHubOIDCToken: "t"}), wantToken: "token-from-github-oidc"},
		{name: "auto: github oidc without client id falls to managed identity", env: map[string]string{EnvGitHubOIDCRequestURL: "u", EnvGitHubOIDCToken: "t"}, wantToken: "token-from-managed-identity"},
		{name: "auto: nothing configured, managed identity", env: map[string]string{}, wantToken: "token-from-managed-identity"},
		{name: "empty method is auto", method: "", env: with(map[string]string{EnvClientSecret: "s"}), wantToken: "token-from-env"},
		{name: "explicit env", method: "env", env: with(map[string]string{EnvClientSecret: "s"}), wantToken: "token-from-env"},
		{name: "explicit env ignores the static token", method: "ENV", env: with(map[string]string{EnvClientSecret: "s", EnvAccessToken: "x"}), wantToken: "token-from-env"},
		{name: "explicit env missing secret", method: "env", env: ids, wantErr: "--auth env: neither AZURE_CLIENT_SECRET nor AZURE_CLIENT_CERTIFICATE_PATH is set"},
		{name: "explicit env missing ids", method: "env", env: map[string]string{EnvClientSecret: "s"}, wantErr: "--auth env: AZURE_TENANT_ID (or --tenant-id) and AZURE_CLIENT_ID not set"},
		{name: "explicit workload identity missing file", method: "workload-identity", env: ids, wantErr: "--auth workload-identity: AZURE_FEDERATED_TOKEN_FILE is not set"},
		{name: "explicit github-oidc outside actions", method: "github-oidc", env: ids, wantErr: `--auth github-oidc: ACTIONS_ID_TOKEN_REQUEST_URL or ACTIONS_ID_TOKEN_REQUEST_TOKEN is not set (outside GitHub Actions, or the job lacks "permissions: id-token: write")`},
		{name: "explicit azure-cli", method: "azure-cli", env: map[string]string{}, wantToken: "token-from-azure-cli"},
		{name: "explicit managed identity", method: "managed-identity", env: map[string]string{}, wantToken: "token-from-managed-identity"},
		{name: "explicit device code", method: "device-code", env: map[string]string{}, wantToken: "token-from-device-code"},
		{name: "unknown method", method: "password", env: ids, wantErr: `unknown --auth method "password": use one of auto, env, workload-identity, github-oidc, azure-cli, managed-identity, device-code`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, _ := fakeBuilders(nil)
			cred, err := newCredential(t.Context(), AuthOptions{Method: tt.method, Getenv: envMap(tt.env)}, b)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			got, err := token(t, cred)
			require.NoError(t, err)
			require.Equal(t, tt.wantToken, got)
		})
	}
}

func TestAuthOptionsOverrideEnvironment(t *testing.T) {
	t.Parallel()
	b, made := fakeBuilders(nil)
	env := map[string]string{EnvTenantID: "env-tenant", EnvClientID: "env-client", EnvClientSecret: "s"}
	_, err := newCredential(t.Context(), AuthOptions{Method: "env", TenantID: "flag-tenant", Cloud: "china", Getenv: envMap(env)}, b)
	require.NoError(t, err)
	e := made[AuthEnv].env
	require.Equal(t, "flag-tenant", e.tenant)
	require.Equal(t, "env-client", e.client)
	require.Equal(t, "https://login.chinacloudapi.cn/", e.cloud.AuthorityHost)

	_, err = newCredential(t.Context(), AuthOptions{Cloud: "moon", Getenv: envMap(env)}, b)
	require.ErrorContains(t, err, `unknown cloud "moon"`)
}

func TestAutoFailureSaysWhatWasTriedAndWhy(t *testing.T) {
	t.Parallel()
	b, _ := fakeBuilders(map[string]string{
		AuthManagedIdentity: "ManagedIdentityCredential: no response from the IMDS endpoint\nmore detail\nhttps://aka.ms/troubleshoot",
		AuthAzureCLI:        "AzureCLICredential: Azure CLI not found on path",
	})
	cred, err := newCredential(t.Context(), AuthOptions{Getenv: envMap(map[string]string{EnvClientID: testApp})}, b)
	require.NoError(t, err)
	_, err = token(t, cred)
	var ae *AuthError
	require.ErrorAs(t, err, &ae)
	golden.Assert(t, "testdata/auth-auto-error.golden", []byte(err.Error()+"\n"))
	require.Len(t, ae.Tried, 6)
}

func TestAutoStopsAtAConfiguredMethodThatFails(t *testing.T) {
	t.Parallel()
	b, made := fakeBuilders(map[string]string{AuthEnv: "ClientSecretCredential: AADSTS7000215: Invalid client secret provided.\nTrace ID: x"})
	env := map[string]string{EnvTenantID: testTenant, EnvClientID: testApp, EnvClientSecret: "wrong"}
	cred, err := newCredential(t.Context(), AuthOptions{Getenv: envMap(env)}, b)
	require.NoError(t, err)
	_, err = token(t, cred)
	require.EqualError(t, err, "no sign-in method worked for --auth auto; tried in order: "+
		"ARSYNC_ACCESS_TOKEN: not set; "+
		"env: ClientSecretCredential: AADSTS7000215: Invalid client secret provided.; "+
		"workload-identity: AZURE_FEDERATED_TOKEN_FILE is not set; "+
		`github-oidc: ACTIONS_ID_TOKEN_REQUEST_URL or ACTIONS_ID_TOKEN_REQUEST_TOKEN is not set (outside GitHub Actions, or the job lacks "permissions: id-token: write"); `+
		"managed-identity: not tried, because env is configured and failed; "+
		"azure-cli: not tried, because env is configured and failed")
	require.Zero(t, made[AuthManagedIdentity].calls.Load(), "must not sign in as another identity")
	require.Zero(t, made[AuthAzureCLI].calls.Load())
}

func TestAutoManagedIdentityProbeIsBounded(t *testing.T) {
	t.Parallel()
	b, made := fakeBuilders(nil, AuthManagedIdentity)
	cred, err := newCredential(t.Context(), AuthOptions{Getenv: envMap(nil), probe: time.Millisecond}, b)
	require.NoError(t, err)
	got, err := token(t, cred)
	require.NoError(t, err)
	require.Equal(t, "token-from-azure-cli", got)
	// The chosen method is kept: later calls go straight to it.
	_, err = token(t, cred)
	require.NoError(t, err)
	require.EqualValues(t, 1, made[AuthManagedIdentity].calls.Load())
	require.EqualValues(t, 2, made[AuthAzureCLI].calls.Load())

	b2, _ := fakeBuilders(map[string]string{AuthAzureCLI: "az: not logged in"}, AuthManagedIdentity)
	cred, err = newCredential(t.Context(), AuthOptions{Getenv: envMap(nil), probe: time.Millisecond}, b2)
	require.NoError(t, err)
	_, err = token(t, cred)
	require.ErrorContains(t, err, "managed-identity: no managed identity endpoint answered within 1ms; azure-cli: az: not logged in")
}

func TestAutoBuildErrorIsReportedAtOnce(t *testing.T) {
	t.Parallel()
	env := map[string]string{EnvTenantID: testTenant, EnvClientID: testApp, EnvClientCertPath: filepath.Join(t.TempDir(), "missing.pem")}
	_, err := NewCredential(t.Context(), AuthOptions{Getenv: envMap(env)})
	require.ErrorContains(t, err, "--auth auto: env: reading the client certificate named by AZURE_CLIENT_CERTIFICATE_PATH")
}

func TestStaticToken(t *testing.T) {
	t.Parallel()
	tok, err := StaticToken("abc").GetToken(t.Context(), policy.TokenRequestOptions{})
	require.NoError(t, err)
	require.Equal(t, "abc", tok.Token)
	require.True(t, tok.ExpiresOn.After(time.Now()))
	_, err = StaticToken(" ").GetToken(t.Context(), policy.TokenRequestOptions{})
	require.ErrorContains(t, err, "empty")
}

// fakeEntra answers Microsoft Entra ID's endpoints (discovery, token,
// device code) and IMDS, recording what it was sent.
type fakeEntra struct {
	mu    sync.Mutex
	hosts []string
	forms []url.Values // token request bodies
}

func (f *fakeEntra) Do(r *http.Request) (*http.Response, error) {
	var form url.Values
	if r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		form, _ = url.ParseQuery(string(b))
	}
	f.mu.Lock()
	f.hosts = append(f.hosts, r.URL.Host)
	f.mu.Unlock()
	host := "https://" + r.URL.Host
	tenant := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")[0]
	var body any
	switch p := r.URL.Path; {
	case r.URL.Host == "169.254.169.254":
		body = map[string]any{"access_token": "mi-token", "expires_in": "3600", "expires_on": fmt.Sprint(time.Now().Add(time.Hour).Unix()),
			"resource": r.URL.Query().Get("resource"), "token_type": "Bearer"}
	case strings.HasSuffix(p, "/discovery/instance"):
		body = map[string]any{"tenant_discovery_endpoint": host + "/" + testTenant + "/v2.0/.well-known/openid-configuration", "api-version": "1.1",
			"metadata": []any{map[string]any{"preferred_network": r.URL.Host, "preferred_cache": r.URL.Host, "aliases": []string{r.URL.Host}}}}
	case strings.HasSuffix(p, "/.well-known/openid-configuration"):
		base := host + "/" + tenant
		body = map[string]any{"token_endpoint": base + "/oauth2/v2.0/token", "authorization_endpoint": base + "/oauth2/v2.0/authorize",
			"device_authorization_endpoint": base + "/oauth2/v2.0/devicecode", "issuer": base + "/v2.0"}
	case strings.HasSuffix(p, "/devicecode"):
		body = map[string]any{"device_code": "dc", "user_code": "ABCD-EFGH", "verification_uri": "https://microsoft.com/devicelogin",
			"expires_in": 900, "interval": 1, "message": "To sign in, use a web browser to open https://microsoft.com/devicelogin and enter the code ABCD-EFGH."}
	case strings.HasSuffix(p, "/oauth2/v2.0/token"):
		f.mu.Lock()
		f.forms = append(f.forms, form)
		f.mu.Unlock()
		body = map[string]any{"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600, "access_token": "entra-token"}
	default:
		return &http.Response{StatusCode: 404, Body: io.NopCloser(strings.NewReader("{}")), Header: http.Header{}, Request: r}, nil
	}
	b, _ := json.Marshal(body)
	return &http.Response{StatusCode: 200, Body: io.NopCloser(bytes.NewReader(b)),
		Header: http.Header{"Content-Type": {"application/json"}}, Request: r}, nil
}

func (f *fakeEntra) Forms() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.forms...)
}

func (f *fakeEntra) Hosts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.hosts...)
}

// selfSignedPEM writes an RSA key and certificate to a temporary PEM file.
func selfSignedPEM(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "arsync-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	var buf bytes.Buffer
	pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	pem.Encode(&buf, &pem.Block{Type: "PRIVATE KEY", Bytes: must(x509.MarshalPKCS8PrivateKey(key))})
	path := filepath.Join(t.TempDir(), "client.pem")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o600))
	return path
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// The real builders, signing in against a fake Entra ID: no tenant, no network.
func TestRealCredentialsAgainstAFakeEntra(t *testing.T) {
	t.Parallel()
	ids := map[string]string{EnvTenantID: testTenant, EnvClientID: testApp}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range ids {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	fedFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(fedFile, []byte("federated-jwt-from-file"), 0o600))

	var ghCalls atomic.Int32
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := ghCalls.Add(1)
		if r.Header.Get("Authorization") != "Bearer gh-request-token" || r.URL.Query().Get("audience") != GitHubOIDCAudience ||
			r.URL.Query().Get("api-version") != "2.0" {
			w.WriteHeader(401)
			return
		}
		fmt.Fprintf(w, `{"value":"github-jwt-%d"}`, n)
	}))
	t.Cleanup(gh.Close)

	tests := []struct {
		name       string
		method     string
		cloud      string
		env        map[string]string
		wantHost   string
		checkForm  func(t *testing.T, f url.Values)
		wantToken  string
		wantPrompt string
	}{
		{name: "client secret", method: "env", env: with(map[string]string{EnvClientSecret: "s3cret"}), wantHost: "login.microsoftonline.com",
			checkForm: func(t *testing.T, f url.Values) {
				require.Equal(t, "s3cret", f.Get("client_secret"))
				require.Equal(t, "client_credentials", f.Get("grant_type"))
			}},
		{name: "client certificate, usgov authority", method: "env", cloud: "usgov", env: with(map[string]string{EnvClientCertPath: selfSignedPEM(t)}), wantHost: "login.microsoftonline.us",
			checkForm: func(t *testing.T, f url.Values) {
				require.Equal(t, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", f.Get("client_assertion_type"))
				require.NotEmpty(t, f.Get("client_assertion"))
				require.Contains(t, strings.Fields(f.Get("scope")), "https://graph.microsoft.us/.default")
			}},
		{name: "workload identity, china authority", method: "workload-identity", cloud: "china", env: with(map[string]string{EnvFederatedTokenFile: fedFile}), wantHost: "login.chinacloudapi.cn",
			checkForm: func(t *testing.T, f url.Values) {
				require.Equal(t, "federated-jwt-from-file", f.Get("client_assertion"))
			}},
		{name: "github oidc", method: "github-oidc", env: with(map[string]string{EnvGitHubOIDCRequestURL: gh.URL + "/token?api-version=2.0", EnvGitHubOIDCToken: "gh-request-token"}), wantHost: "login.microsoftonline.com",
			checkForm: func(t *testing.T, f url.Values) {
				require.Regexp(t, `^github-jwt-\d+$`, f.Get("client_assertion"))
			}},
		{name: "github oidc through auto", method: "auto", env: with(map[string]string{EnvGitHubOIDCRequestURL: gh.URL + "/token?api-version=2.0", EnvGitHubOIDCToken: "gh-request-token"}), wantHost: "login.microsoftonline.com",
			checkForm: func(t *testing.T, f url.Values) {
				require.Regexp(t, `^github-jwt-\d+$`, f.Get("client_assertion"))
			}},
		{name: "managed identity", method: "managed-identity", env: map[string]string{}, wantHost: "169.254.169.254", wantToken: "mi-token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			entra := &fakeEntra{}
			cred, err := NewCredential(t.Context(), AuthOptions{Method: tt.method, Cloud: tt.cloud, Getenv: envMap(tt.env), transport: entra, HTTPClient: gh.Client()})
			require.NoError(t, err)
			ci, _ := CloudConfig(tt.cloud)
			tok, err := cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{ci.Scope}})
			require.NoError(t, err)
			want := tt.wantToken
			if want == "" {
				want = "entra-token"
			}
			require.Equal(t, want, tok.Token)
			for _, h := range entra.Hosts() {
				require.Equal(t, tt.wantHost, h, "every sign-in request goes to the cloud's authority")
			}
			if tt.checkForm != nil {
				forms := entra.Forms()
				require.Len(t, forms, 1)
				tt.checkForm(t, forms[0])
			}
		})
	}
}

func TestGitHubOIDCTokenIsFetchedFreshEveryTime(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		require.Equal(t, "Bearer req-tok", r.Header.Get("Authorization"))
		require.Equal(t, "api://AzureADTokenExchange", r.URL.Query().Get("audience"))
		fmt.Fprintf(w, `{"value":"jwt-%d","count":1}`, n)
	}))
	defer gh.Close()
	for i := 1; i <= 3; i++ {
		got, err := fetchGitHubOIDCToken(t.Context(), gh.Client(), gh.URL+"/_apis/token?api-version=2.0", "req-tok")
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("jwt-%d", i), got)
	}

	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/403":
			w.WriteHeader(403)
			fmt.Fprint(w, `{"message":"req-tok is not allowed"}`)
		case "/empty":
			fmt.Fprint(w, `{"value":""}`)
		default:
			fmt.Fprint(w, `not json`)
		}
	}))
	defer bad.Close()
	for path, want := range map[string]string{
		"/403":   "requesting a GitHub Actions OIDC token from " + bad.Listener.Addr().String() + ": 403 Forbidden",
		"/empty": "has no token",
		"/text":  "has no token",
	} {
		_, err := fetchGitHubOIDCToken(t.Context(), bad.Client(), bad.URL+path, "req-tok")
		require.ErrorContains(t, err, want)
		require.NotContains(t, err.Error(), "req-tok")
	}
	_, err := fetchGitHubOIDCToken(t.Context(), bad.Client(), "not a url", "req-tok")
	require.ErrorContains(t, err, "ACTIONS_ID_TOKEN_REQUEST_URL is not an absolute URL")
}

func TestDeviceCodePromptsTheUser(t *testing.T) {
	t.Parallel()
	var prompt bytes.Buffer
	entra := &fakeEntra{}
	cred, err := NewCredential(t.Context(), AuthOptions{Method: "device-code", TenantID: testTenant, ClientID: testApp,
		Getenv: envMap(nil), DeviceCodePrompt: &prompt, transport: entra})
	require.NoError(t, err)
	tok, err := cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}})
	require.NoError(t, err)
	require.Equal(t, "entra-token", tok.Token)
	require.Contains(t, prompt.String(), "enter the code ABCD-EFGH")
}

func TestRealBuildersConstructWithoutNetwork(t *testing.T) {
	t.Parallel()
	// Azure CLI: construction runs nothing; sign-in would run "az".
	cred, err := NewCredential(t.Context(), AuthOptions{Method: "azure-cli", Getenv: envMap(nil)})
	require.NoError(t, err)
	require.NotNil(t, cred)
	// A certificate file that is not a certificate.
	bad := filepath.Join(t.TempDir(), "bad.pem")
	require.NoError(t, os.WriteFile(bad, []byte("nope"), 0o600))
	_, err = NewCredential(t.Context(), AuthOptions{Method: "env", Getenv: envMap(map[string]string{
		EnvTenantID: testTenant, EnvClientID: testApp, EnvClientCertPath: bad})})
	require.ErrorContains(t, err, "--auth env: parsing the client certificate "+bad)
}

// untrustedEntra answers every sign-in request as a TLS-inspecting proxy
// whose CA this machine does not trust would: a certificate error.
type untrustedEntra struct {
	mu   sync.Mutex
	seen map[string]int // requests by method and URL
}

func (u *untrustedEntra) Do(r *http.Request) (*http.Response, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.seen == nil {
		u.seen = map[string]int{}
	}
	u.seen[r.Method+" "+r.URL.String()]++
	return nil, &url.Error{Op: "Post", URL: "https://login.microsoftonline.com", Err: x509.UnknownAuthorityError{}}
}

// TestSignInCertificateErrorIsNotRetried: azcore's retry policy would try a
// certificate error four times with backoff (seconds); each request is sent
// once, with the hint, as for Graph's own requests. (MSAL asks two
// different URLs: instance discovery, then the tenant's metadata.)
func TestSignInCertificateErrorIsNotRetried(t *testing.T) {
	t.Parallel()
	entra := &untrustedEntra{}
	env := map[string]string{EnvTenantID: testTenant, EnvClientID: testApp, EnvClientSecret: "s3cret"}
	cred, err := NewCredential(t.Context(), AuthOptions{Method: "env", Getenv: envMap(env), transport: entra})
	require.NoError(t, err)
	_, err = cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}})
	require.Error(t, err)
	require.NotEmpty(t, entra.seen)
	for req, n := range entra.seen {
		require.Equal(t, 1, n, "%s is not retried", req)
	}
	require.Contains(t, err.Error(), "SSL_CERT_FILE")
}
