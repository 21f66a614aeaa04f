package emulator

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStart(t *testing.T) {
	t.Parallel()
	r, err := Start(Options{Seed: 1})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(r.URL, "http://127.0.0.1:"), r.URL)
	require.True(t, strings.HasSuffix(r.URL, "/v1.0"), r.URL)

	req, _ := http.NewRequest(http.MethodGet, r.URL+"/users/alice@contoso.com", nil)
	req.Header.Set("Authorization", "Bearer "+r.Token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)

	require.NoError(t, r.Close())
	require.NoError(t, r.Close(), "Close is idempotent")
	_, err = http.DefaultClient.Do(req)
	require.Error(t, err, "the listener is closed")
}

func TestStartRefusesRemoteAddresses(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "example.com:80"} {
		_, err := Start(Options{Addr: addr})
		require.True(t, errors.Is(err, ErrRemoteListen), "%s: %v", addr, err)
	}
	_, err := Start(Options{Addr: "nonsense"})
	require.ErrorContains(t, err, "listen address")
	for _, addr := range []string{"localhost:0", "[::1]:0"} {
		r, err := Start(Options{Addr: addr})
		if err != nil && strings.Contains(err.Error(), "address") && addr == "[::1]:0" {
			continue // no IPv6 loopback on this machine
		}
		require.NoError(t, err, addr)
		require.NoError(t, r.Close())
	}
	r, err := Start(Options{Addr: "0.0.0.0:0", AllowRemote: true})
	require.NoError(t, err)
	require.NoError(t, r.Close())
}

func TestStartReportsBadOptions(t *testing.T) {
	t.Parallel()
	_, err := Start(Options{PageSize: -1})
	require.ErrorContains(t, err, "page size")
	_, err = Start(Options{Tenant: &Tenant{Users: []User{{DisplayName: "no upn"}}}})
	require.ErrorContains(t, err, "userPrincipalName is required")
}
