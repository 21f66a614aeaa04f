package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/permcheck"
	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/emulator/emulatortest"
	"github.com/arsync/arsync/pkg/graphclient"
)

// craftedJWT is an unsigned token with claims as its payload: what a
// sign-in with those permissions would hand arsync.
func craftedJWT(t *testing.T, claims map[string]any) string {
	t.Helper()
	b, err := json.Marshal(claims)
	require.NoError(t, err)
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"typ":"JWT","alg":"RS256"}`)) + "." + enc(b) + ".c2ln"
}

// signInAs points arsync, through ARSYNC_ACCESS_TOKEN, at a proxy to a
// test emulator that swaps whatever token arsync sends for the emulator's
// own: the emulator then answers as Graph does, whatever the token
// arsync holds claims. It returns the arguments that select the proxy and
// a count of the requests that reached it.
func signInAs(t *testing.T, run *emulator.Running, token string) ([]string, *atomic.Int64) {
	t.Helper()
	return proxyWithToken(t, run, run.Token, token)
}

// proxyWithToken is signInAs with the token the proxy swaps in: real.
func proxyWithToken(t *testing.T, run *emulator.Running, real, token string) ([]string, *atomic.Int64) {
	t.Helper()
	target, err := url.Parse(run.URL)
	require.NoError(t, err)
	var n atomic.Int64
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		r.Header.Set("Authorization", "Bearer "+real)
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	docEnv(t, map[string]string{graphclient.EnvAccessToken: token})
	return []string{"--graph-endpoint", srv.URL + target.Path}, &n
}

const testTenant = "5c1b9a52-7f0e-4a7b-9d39-0b6f2e3c4d11"

func appToken(t *testing.T, tid string, roles ...string) string {
	return craftedJWT(t, map[string]any{"tid": tid, "idtyp": "app", "appid": "a1", "app_displayname": "arsync-ci", "oid": "o1", "roles": roles})
}

// TestPlanAndApplyRefuseUpFront: a token whose claims show it cannot do
// the job is refused after signing in and before any Graph request, with
// the sentence auth status gives; an opaque token goes on.
func TestPlanAndApplyRefuseUpFront(t *testing.T) {
	t.Chdir(t.TempDir())
	run := emulatortest.New(t, emulator.Options{Seed: 1})
	docWrite(t, map[string]string{"reviews/r.yaml": docReview("all-users", "All users", docNoRefScope, 7)})
	readOnly := appToken(t, testTenant, permcheck.AccessReviewRead)
	tests := []struct {
		name  string
		token string
		args  []string
		want  string // "" when the command goes on
	}{
		{name: "read-only app plans", token: readOnly, args: []string{"plan", "reviews"}},
		{name: "read-only app cannot apply", token: readOnly, args: []string{"apply", "--auto-approve", "reviews"},
			want: "Error: the sign-in cannot apply (it writes access reviews): the token lacks AccessReview.ReadWrite.All (application permission); nothing was sent to Graph (arsync auth status shows what this sign-in can do)\n"},
		{name: "no access-review permission cannot plan", token: appToken(t, testTenant, "User.Read.All"), args: []string{"plan", "reviews"},
			want: "Error: the sign-in cannot plan (it reads the access reviews): the token lacks AccessReview.Read.All (application permission); nothing was sent to Graph (arsync auth status shows what this sign-in can do)\n"},
		{name: "a user without a role that may write", token: craftedJWT(t, map[string]any{"tid": testTenant, "idtyp": "user", "upn": "ken@contoso.com",
			"scp": "AccessReview.ReadWrite.All Directory.Read.All", "wids": []string{permcheck.RoleSecurityReader}}), args: []string{"apply", "--auto-approve", "reviews"},
			want: "Error: the sign-in cannot apply (it writes access reviews): the token lacks a directory role of the signed-in user that may manage access reviews (Identity Governance Administrator, User Administrator, Privileged Role Administrator or Global Administrator); nothing was sent to Graph (arsync auth status shows what this sign-in can do)\n"},
		{name: "opaque token plans", token: "EwBwA8l6BAAU-opaque-token", args: []string{"plan", "-v", "reviews"}},
		{name: "opaque token applies", token: "EwBwA8l6BAAU-opaque-token", args: []string{"apply", "--auto-approve", "reviews"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			endpoint, requests := signInAs(t, run, tt.token)
			code, _, stderr := docRunSplit(t, nil, append(tt.args, endpoint...)...)
			if tt.want != "" {
				require.Equal(t, exitError, code)
				require.Equal(t, tt.want, stderr)
				require.Zero(t, requests.Load(), "refused before any Graph request")
				return
			}
			require.Equal(t, exitOK, code, stderr)
			require.NotZero(t, requests.Load())
			if tt.args[1] == "-v" {
				require.Contains(t, stderr, couldNotCheck)
			}
		})
	}
}

// TestSavedPlanTenantFromToken: with the tenant known only to the sign-in
// (no --tenant-id, no tenantId), a create-only plan made in one tenant is
// refused in another, before any request, naming --tenant-id.
func TestSavedPlanTenantFromToken(t *testing.T) {
	t.Chdir(t.TempDir())
	run := emulatortest.New(t, emulator.Options{Seed: 1})
	docWrite(t, map[string]string{"reviews/r.yaml": docReview("all-users", "All users", docNoRefScope, 7)})
	endpoint, requests := signInAs(t, run, appToken(t, "tenant-a", permcheck.AccessReviewReadWrite))
	code, _, stderr := docRunSplit(t, nil, append([]string{"plan", "--out", "plan.json", "reviews"}, endpoint...)...)
	require.Equal(t, exitOK, code, stderr)
	p, err := readPlanFile("plan.json")
	require.NoError(t, err)
	require.Equal(t, "tenant-a", p.TenantID)
	require.Equal(t, 1, p.Summary.Create)

	// Same endpoint, another tenant's token.
	t.Setenv(graphclient.EnvAccessToken, appToken(t, "tenant-b", permcheck.AccessReviewReadWrite))
	requests.Store(0)
	code, _, stderr = docRunSplit(t, nil, append([]string{"apply", "--plan", "plan.json"}, endpoint...)...)
	require.Equal(t, exitError, code)
	require.Contains(t, stderr, "Error: this plan was made for tenant tenant-a, but arsync is signed in to tenant tenant-b; nothing was written: apply it signed in to tenant tenant-a (--tenant-id tenant-a, or tenantId in arsync.yaml, with an identity of that tenant), or run arsync plan for tenant tenant-b")
	require.Zero(t, requests.Load())
}

// TestEmulatorPlanAppliedElsewhere: a plan made with --emulator and applied
// without it (or the other way round) says so before signing in.
func TestEmulatorPlanAppliedElsewhere(t *testing.T) {
	t.Chdir(t.TempDir())
	docEnv(t, nil)
	docWrite(t, map[string]string{"reviews/r.yaml": docReview("all-users", "All users", docNoRefScope, 7)})
	code, _, stderr := docRunSplit(t, nil, "plan", "--emulator", "--out", "plan.json", "reviews")
	require.Equal(t, exitOK, code, stderr)
	// No sign-in method is configured: reaching the sign-in would fail
	// with the whole chain's error.
	code, _, stderr = docRunSplit(t, nil, "apply", "--auth", "env", "--plan", "plan.json")
	require.Equal(t, exitError, code)
	require.Equal(t, "Error: this plan was made against the emulator; apply it with --emulator, or run arsync plan against the tenant\n", stderr)

	run := emulatortest.New(t, emulator.Options{Seed: 1})
	endpoint, _ := signInAs(t, run, run.Token)
	code, _, stderr = docRunSplit(t, nil, append([]string{"plan", "--out", "real.json", "reviews"}, endpoint...)...)
	require.Equal(t, exitOK, code, stderr)
	code, _, stderr = docRunSplit(t, nil, "apply", "--emulator", "--plan", "real.json")
	require.Equal(t, exitError, code)
	require.Regexp(t, `^Error: this plan was made for endpoint http://127\.0\.0\.1:\d+/v1\.0/, not the emulator; apply it without --emulator, or run arsync plan --emulator\n$`, stderr)
}

func TestAuthStatus(t *testing.T) {
	t.Run("emulator", func(t *testing.T) {
		t.Chdir(t.TempDir())
		docEnv(t, nil)
		code, stdout, stderr := docRunSplit(t, nil, "auth", "status", "--emulator")
		require.Equal(t, exitOK, code, stderr)
		require.Equal(t, `Tenant:           `+testTenant+`
Cloud:            emulator
Endpoint:         emulator
Signed in as:     user admin@contoso.com (MOD Administrator, object id fc9a2c2b-1ddc-486d-a211-5fe8ca77fa1f)
Permissions:      delegated permissions (scp): AccessReview.ReadWrite.All, Directory.Read.All, RoleManagement.Read.Directory
Directory roles:  Global Administrator, Identity Governance Administrator

Commands:
  plan       ok
  apply      ok
  export     ok
  status     ok
  decisions  ok
  coverage   ok
  report     ok
`, stdout)

		code, stdout, _ = docRunSplit(t, nil, "auth", "status", "--emulator", "-o", "json")
		require.Equal(t, exitOK, code)
		var st authStatus
		require.NoError(t, json.Unmarshal([]byte(stdout), &st))
		require.Equal(t, testTenant, st.TenantID)
		require.True(t, st.Checked)
		require.Equal(t, "user", st.Identity.Type)
		require.Len(t, st.Commands, len(permcheck.Commands))
	})

	t.Run("a read-only application", func(t *testing.T) {
		t.Chdir(t.TempDir())
		run := emulatortest.New(t, emulator.Options{Seed: 1})
		endpoint, requests := signInAs(t, run, appToken(t, testTenant, permcheck.AccessReviewRead, permcheck.UserRead))
		code, stdout, _ := docRunSplit(t, nil, append([]string{"auth", "status"}, endpoint...)...)
		require.Equal(t, exitError, code, "apply could not work")
		require.Zero(t, requests.Load(), "auth status calls no Graph API")
		require.Contains(t, stdout, "Signed in as:  application arsync-ci (appId a1, object id o1)\n")
		require.Contains(t, stdout, "Permissions:   application permissions (roles): AccessReview.Read.All, User.Read.All\n")
		require.Contains(t, stdout, "  apply      no: the sign-in cannot apply (it writes access reviews): the token lacks AccessReview.ReadWrite.All (application permission)\n")
		require.Contains(t, stdout, "  export     no: the sign-in cannot export (it reads the access reviews and turns ids into names): the token lacks Directory.Read.All (application permission)\n")
		require.Contains(t, stdout, "  plan       ok\n               without GroupMember.Read.All (or Group.Read.All), specs cannot name groups")
	})

	t.Run("an opaque token", func(t *testing.T) {
		t.Chdir(t.TempDir())
		run := emulatortest.New(t, emulator.Options{Seed: 1})
		endpoint, _ := signInAs(t, run, "EwBwA8l6BAAU-opaque-token")
		code, stdout, _ := docRunSplit(t, nil, append([]string{"--tenant-id", "contoso.onmicrosoft.com", "auth", "status"}, endpoint...)...)
		require.Equal(t, exitOK, code)
		require.Contains(t, stdout, "Tenant:    contoso.onmicrosoft.com\n")
		require.Contains(t, stdout, "Token:     "+couldNotCheck+"\n")
	})

	t.Run("flags", func(t *testing.T) {
		code, _, stderr := docRunSplit(t, nil, "auth", "status", "-o", "yaml")
		require.Equal(t, exitError, code)
		require.Contains(t, stderr, `unknown output format "yaml"`)
	})
}
