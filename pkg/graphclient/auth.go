package graphclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// Sign-in methods for --auth.
const (
	AuthAuto             = "auto"
	AuthEnv              = "env"
	AuthWorkloadIdentity = "workload-identity"
	AuthGitHubOIDC       = "github-oidc"
	AuthAzureCLI         = "azure-cli"
	AuthManagedIdentity  = "managed-identity"
	AuthDeviceCode       = "device-code"
)

// AuthMethods lists the accepted --auth values.
var AuthMethods = []string{AuthAuto, AuthEnv, AuthWorkloadIdentity, AuthGitHubOIDC, AuthAzureCLI, AuthManagedIdentity, AuthDeviceCode}

// Environment variables read by NewCredential (through AuthOptions.Getenv).
const (
	EnvAccessToken          = "ARSYNC_ACCESS_TOKEN"
	EnvTenantID             = "AZURE_TENANT_ID"
	EnvClientID             = "AZURE_CLIENT_ID"
	EnvClientSecret         = "AZURE_CLIENT_SECRET"
	EnvClientCertPath       = "AZURE_CLIENT_CERTIFICATE_PATH"
	EnvClientCertPassword   = "AZURE_CLIENT_CERTIFICATE_PASSWORD"
	EnvClientSendCertChain  = "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN"
	EnvFederatedTokenFile   = "AZURE_FEDERATED_TOKEN_FILE"
	EnvGitHubOIDCRequestURL = "ACTIONS_ID_TOKEN_REQUEST_URL"
	EnvGitHubOIDCToken      = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
)

// GitHubOIDCAudience is the audience Entra expects in a federated GitHub token.
const GitHubOIDCAudience = "api://AzureADTokenExchange"

// managedIdentityProbe bounds the first managed-identity token request in
// --auth auto: off Azure the IMDS address does not answer, and auto must
// move on to the Azure CLI rather than hang.
const managedIdentityProbe = 5 * time.Second

// AuthOptions selects and configures a credential.
type AuthOptions struct {
	// Method is one of AuthMethods; empty means auto.
	Method string
	// TenantID and ClientID override AZURE_TENANT_ID and AZURE_CLIENT_ID.
	TenantID string
	ClientID string
	// Cloud selects the sign-in authority (global, usgov, usgovdod, china).
	Cloud string
	// Getenv reads the environment (default os.Getenv); tests inject a map.
	Getenv func(string) string
	// DeviceCodePrompt receives device-code sign-in instructions (default os.Stderr).
	DeviceCodePrompt io.Writer
	// HTTPClient fetches the GitHub Actions OIDC token (default: a client
	// with a 30 s timeout).
	HTTPClient *http.Client

	// transport, when set, carries azidentity's requests (tests: a fake
	// Entra ID).
	transport policy.Transporter
	// probe overrides managedIdentityProbe (tests).
	probe time.Duration
}

// StaticToken is a fixed bearer token used as is (ARSYNC_ACCESS_TOKEN, the
// emulator, tests). It cannot be refreshed; it is reported valid for a day.
type StaticToken string

// GetToken implements azcore.TokenCredential.
func (t StaticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	if strings.TrimSpace(string(t)) == "" {
		return azcore.AccessToken{}, errors.New("the static access token is empty")
	}
	return azcore.AccessToken{Token: string(t), ExpiresOn: time.Now().Add(24 * time.Hour)}, nil
}

// AuthError says that no sign-in method produced a token: for --auth auto,
// every method that was considered and why it did not work.
type AuthError struct {
	Method string
	Tried  []AuthAttempt
}

// AuthAttempt is one method considered by --auth auto.
type AuthAttempt struct {
	Method string
	Reason string
}

func (e *AuthError) Error() string {
	parts := make([]string, len(e.Tried))
	for i, a := range e.Tried {
		parts[i] = a.Method + ": " + a.Reason
	}
	return fmt.Sprintf("no sign-in method worked for --auth %s; tried in order: %s", e.Method, strings.Join(parts, "; "))
}

// authEnv is the resolved input of the credential builders.
type authEnv struct {
	opts   AuthOptions
	getenv func(string) string
	tenant string
	client string
	cloud  CloudInfo
}

func (e *authEnv) clientOptions() azcore.ClientOptions {
	co := azcore.ClientOptions{Cloud: e.cloud.azureCloud()}
	co.Retry.ShouldRetry = signInShouldRetry
	if e.opts.transport != nil {
		co.Transport = e.opts.transport
	}
	return co
}

// source is one sign-in method: when it applies and how to build it.
type source struct {
	name string
	// missing says why the method is not configured ("" when it is).
	missing func(e *authEnv) string
	// decisive methods were configured on purpose (their variables are
	// set); when one fails, auto stops instead of falling through to
	// another identity.
	decisive bool
	build    func(e *authEnv) (azcore.TokenCredential, error)
}

// builders holds the constructors, replaceable in tests.
type builders struct {
	env, workloadIdentity, githubOIDC, managedIdentity, azureCLI, deviceCode func(*authEnv) (azcore.TokenCredential, error)
}

var realBuilders = builders{
	env:              buildEnv,
	workloadIdentity: buildWorkloadIdentity,
	githubOIDC:       buildGitHubOIDC,
	managedIdentity:  buildManagedIdentity,
	azureCLI:         buildAzureCLI,
	deviceCode:       buildDeviceCode,
}

func (b builders) sources() map[string]source {
	return map[string]source{
		AuthEnv: {name: AuthEnv, missing: missingEnv, decisive: true, build: b.env},
		AuthWorkloadIdentity: {name: AuthWorkloadIdentity, decisive: true, build: b.workloadIdentity,
			missing: func(e *authEnv) string {
				if e.getenv(EnvFederatedTokenFile) == "" {
					return EnvFederatedTokenFile + " is not set"
				}
				return missingIDs(e)
			}},
		AuthGitHubOIDC: {name: AuthGitHubOIDC, decisive: true, build: b.githubOIDC,
			missing: func(e *authEnv) string {
				if e.getenv(EnvGitHubOIDCRequestURL) == "" || e.getenv(EnvGitHubOIDCToken) == "" {
					return EnvGitHubOIDCRequestURL + " or " + EnvGitHubOIDCToken + " is not set (outside GitHub Actions, or the job lacks \"permissions: id-token: write\")"
				}
				return missingIDs(e)
			}},
		AuthManagedIdentity: {name: AuthManagedIdentity, build: b.managedIdentity, missing: func(*authEnv) string { return "" }},
		AuthAzureCLI:        {name: AuthAzureCLI, build: b.azureCLI, missing: func(*authEnv) string { return "" }},
		AuthDeviceCode:      {name: AuthDeviceCode, build: b.deviceCode, missing: func(*authEnv) string { return "" }},
	}
}

// autoOrder is the order --auth auto tries, after ARSYNC_ACCESS_TOKEN.
var autoOrder = []string{AuthEnv, AuthWorkloadIdentity, AuthGitHubOIDC, AuthManagedIdentity, AuthAzureCLI}

func missingIDs(e *authEnv) string {
	var m []string
	if e.tenant == "" {
		m = append(m, EnvTenantID+" (or --tenant-id)")
	}
	if e.client == "" {
		m = append(m, EnvClientID)
	}
	if len(m) > 0 {
		return strings.Join(m, " and ") + " not set"
	}
	return ""
}

func missingEnv(e *authEnv) string {
	if e.getenv(EnvClientSecret) == "" && e.getenv(EnvClientCertPath) == "" {
		return "neither " + EnvClientSecret + " nor " + EnvClientCertPath + " is set"
	}
	return missingIDs(e)
}

// NewCredential returns the credential for opts.Method. It does no network
// I/O; sign-in happens on the first GetToken.
//
// auto uses ARSYNC_ACCESS_TOKEN when set; otherwise it tries, in order, the
// environment (client secret or certificate), workload identity, GitHub
// Actions OIDC, managed identity and the Azure CLI, skipping the methods
// whose variables are absent, and keeps the first that returns a token. If
// a method whose variables are set fails, it stops there rather than sign
// in as someone else. When nothing works, the *AuthError lists every method
// and why it did not work.
func NewCredential(ctx context.Context, opts AuthOptions) (azcore.TokenCredential, error) {
	return newCredential(ctx, opts, realBuilders)
}

func newCredential(_ context.Context, opts AuthOptions, b builders) (azcore.TokenCredential, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	ci, err := CloudConfig(opts.Cloud)
	if err != nil {
		return nil, err
	}
	e := &authEnv{opts: opts, getenv: getenv, cloud: ci, tenant: opts.TenantID, client: opts.ClientID}
	if e.tenant == "" {
		e.tenant = getenv(EnvTenantID)
	}
	if e.client == "" {
		e.client = getenv(EnvClientID)
	}
	method := strings.ToLower(strings.TrimSpace(opts.Method))
	if method == "" {
		method = AuthAuto
	}
	srcs := b.sources()
	if method != AuthAuto {
		s, ok := srcs[method]
		if !ok {
			return nil, fmt.Errorf("unknown --auth method %q: use one of %s", opts.Method, strings.Join(AuthMethods, ", "))
		}
		if why := s.missing(e); why != "" {
			return nil, fmt.Errorf("--auth %s: %s", method, why)
		}
		cred, err := s.build(e)
		if err != nil {
			return nil, fmt.Errorf("--auth %s: %w", method, err)
		}
		return &namedCredential{name: method, cred: cred}, nil
	}

	if tok := getenv(EnvAccessToken); tok != "" {
		return StaticToken(tok), nil
	}
	ch := &chainCredential{steps: []chainStep{{name: EnvAccessToken, reason: "not set"}}}
	probe := opts.probe
	if probe == 0 {
		probe = managedIdentityProbe
	}
	for _, name := range autoOrder {
		s := srcs[name]
		if why := s.missing(e); why != "" {
			ch.steps = append(ch.steps, chainStep{name: name, reason: why})
			continue
		}
		cred, err := s.build(e)
		if err != nil {
			// Configured but broken (say, an unreadable certificate): say
			// so now rather than silently signing in another way.
			return nil, fmt.Errorf("--auth auto: %s: %w", name, err)
		}
		st := chainStep{name: name, cred: cred, decisive: s.decisive}
		if name == AuthManagedIdentity {
			st.probe = probe
		}
		ch.steps = append(ch.steps, st)
	}
	return ch, nil
}

// namedCredential prefixes sign-in errors with the method.
type namedCredential struct {
	name string
	cred azcore.TokenCredential
}

func (n *namedCredential) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tok, err := n.cred.GetToken(ctx, o)
	if err != nil {
		if hint := signInSetupHint(err); hint != "" {
			return tok, fmt.Errorf("signing in with --auth %s: %w; %s", n.name, err, hint)
		}
		return tok, fmt.Errorf("signing in with --auth %s: %w", n.name, err)
	}
	return tok, nil
}

// signInSetupHint is the hint for a certificate or TLS failure while
// signing in, or "". MSAL passes some transport errors on as text only, so
// the text is checked too.
func signInSetupHint(err error) string {
	if se := classifySetupError(err); se != nil {
		return se.hint
	}
	msg := err.Error()
	if strings.Contains(msg, "x509: ") || strings.Contains(msg, "tls: ") {
		return "the sign-in endpoint's certificate or TLS handshake failed; " + trustHint
	}
	return ""
}

type chainStep struct {
	name     string
	reason   string // why it is not configured; cred is nil then
	cred     azcore.TokenCredential
	decisive bool
	probe    time.Duration // bound on the first GetToken (managed identity)
}

// chainCredential is --auth auto: the first step that yields a token is
// used from then on.
type chainCredential struct {
	steps []chainStep

	mu     sync.Mutex
	chosen azcore.TokenCredential
}

func (c *chainCredential) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.chosen != nil {
		return c.chosen.GetToken(ctx, o)
	}
	ae := &AuthError{Method: AuthAuto}
	for i, st := range c.steps {
		if st.cred == nil {
			ae.Tried = append(ae.Tried, AuthAttempt{st.name, st.reason})
			continue
		}
		tctx, cancel := ctx, context.CancelFunc(func() {})
		if st.probe > 0 {
			tctx, cancel = context.WithTimeout(ctx, st.probe)
		}
		tok, err := st.cred.GetToken(tctx, o)
		timedOut := tctx.Err() != nil
		cancel()
		if err == nil {
			c.chosen = st.cred
			return tok, nil
		}
		if ctx.Err() != nil {
			return azcore.AccessToken{}, ctx.Err()
		}
		reason := summarize(err)
		if st.probe > 0 && timedOut {
			reason = fmt.Sprintf("no managed identity endpoint answered within %s", st.probe)
		}
		ae.Tried = append(ae.Tried, AuthAttempt{st.name, reason})
		if st.decisive {
			for _, rest := range c.steps[i+1:] {
				why := rest.reason
				if rest.cred != nil {
					why = "not tried, because " + st.name + " is configured and failed"
				}
				ae.Tried = append(ae.Tried, AuthAttempt{rest.name, why})
			}
			break
		}
	}
	return azcore.AccessToken{}, ae
}

// summarize reduces a credential error (azidentity's are many lines long,
// with troubleshooting links) to its first line.
func summarize(err error) string {
	s := strings.TrimSpace(err.Error())
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	s = strings.TrimRight(s, ":")
	if utf8.RuneCountInString(s) > 240 {
		s = string([]rune(s)[:240]) + "…"
	}
	if s == "" {
		s = "failed without a message"
	}
	return s
}

func buildEnv(e *authEnv) (azcore.TokenCredential, error) {
	if secret := e.getenv(EnvClientSecret); secret != "" {
		return azidentity.NewClientSecretCredential(e.tenant, e.client, secret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: e.clientOptions()})
	}
	path := e.getenv(EnvClientCertPath)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the client certificate named by %s: %w", EnvClientCertPath, err)
	}
	certs, key, err := azidentity.ParseCertificates(data, []byte(e.getenv(EnvClientCertPassword)))
	if err != nil {
		return nil, fmt.Errorf("parsing the client certificate %s: %w", path, err)
	}
	send := strings.EqualFold(e.getenv(EnvClientSendCertChain), "true") || e.getenv(EnvClientSendCertChain) == "1"
	return azidentity.NewClientCertificateCredential(e.tenant, e.client, certs, key,
		&azidentity.ClientCertificateCredentialOptions{ClientOptions: e.clientOptions(), SendCertificateChain: send})
}

func buildWorkloadIdentity(e *authEnv) (azcore.TokenCredential, error) {
	return azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
		ClientOptions: e.clientOptions(),
		ClientID:      e.client,
		TenantID:      e.tenant,
		TokenFilePath: e.getenv(EnvFederatedTokenFile),
	})
}

func buildGitHubOIDC(e *authEnv) (azcore.TokenCredential, error) {
	reqURL, reqTok := e.getenv(EnvGitHubOIDCRequestURL), e.getenv(EnvGitHubOIDCToken)
	hc := e.opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	// GitHub's tokens live minutes: fetch a fresh one every time Entra
	// needs an assertion.
	assertion := func(ctx context.Context) (string, error) {
		return fetchGitHubOIDCToken(ctx, hc, reqURL, reqTok)
	}
	return azidentity.NewClientAssertionCredential(e.tenant, e.client, assertion,
		&azidentity.ClientAssertionCredentialOptions{ClientOptions: e.clientOptions()})
}

// fetchGitHubOIDCToken asks the GitHub Actions runtime for an OIDC token
// with Entra's audience.
func fetchGitHubOIDCToken(ctx context.Context, hc *http.Client, reqURL, reqTok string) (string, error) {
	u, err := url.Parse(reqURL)
	if err != nil || !u.IsAbs() {
		return "", fmt.Errorf("%s is not an absolute URL", EnvGitHubOIDCRequestURL)
	}
	q := u.Query()
	q.Set("audience", GitHubOIDCAudience)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("requesting a GitHub Actions OIDC token: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+reqTok)
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("requesting a GitHub Actions OIDC token from %s: %w", u.Host, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("reading the GitHub Actions OIDC token: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("requesting a GitHub Actions OIDC token from %s: %d %s", u.Host, resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	var v struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.Value == "" {
		return "", fmt.Errorf("the GitHub Actions OIDC token response from %s has no token", u.Host)
	}
	return v.Value, nil
}

func buildManagedIdentity(e *authEnv) (azcore.TokenCredential, error) {
	o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: e.clientOptions()}
	if e.client != "" {
		// As DefaultAzureCredential does: AZURE_CLIENT_ID names a
		// user-assigned identity.
		o.ID = azidentity.ClientID(e.client)
	}
	return azidentity.NewManagedIdentityCredential(o)
}

func buildAzureCLI(e *authEnv) (azcore.TokenCredential, error) {
	// The Azure CLI follows "az cloud set", not our cloud option.
	return azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: e.tenant})
}

func buildDeviceCode(e *authEnv) (azcore.TokenCredential, error) {
	w := e.opts.DeviceCodePrompt
	if w == nil {
		w = os.Stderr
	}
	return azidentity.NewDeviceCodeCredential(&azidentity.DeviceCodeCredentialOptions{
		ClientOptions: e.clientOptions(),
		TenantID:      e.tenant,
		ClientID:      e.client,
		UserPrompt: func(_ context.Context, m azidentity.DeviceCodeMessage) error {
			_, err := fmt.Fprintln(w, m.Message)
			return err
		},
	})
}

// signInShouldRetry is azcore's retry rule for sign-in requests, except that
// certificate, TLS and protocol errors are not retried: like Graph's own
// requests (classifySetupError), waiting cannot heal them, and azcore would
// spend seconds on backoff before saying so. Setting ShouldRetry replaces
// azcore's status list, so the statuses it retries by default are listed
// (docs/graph-behaviour.md#throttling-and-retries).
func signInShouldRetry(resp *http.Response, err error) bool {
	if err != nil {
		return classifySetupError(err) == nil
	}
	switch resp.StatusCode {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}
