package emulator

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

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
	_, err = Start(Options{IdleTimeout: -time.Second})
	require.ErrorContains(t, err, "idle timeout -1s: must not be negative")
}

func TestStartTimeouts(t *testing.T) {
	t.Parallel()
	hs := httpServer(Options{}, nil)
	require.Equal(t, []time.Duration{10 * time.Second, time.Minute, 5 * time.Minute, time.Minute},
		[]time.Duration{hs.ReadHeaderTimeout, hs.ReadTimeout, hs.WriteTimeout, hs.IdleTimeout}, "every timeout has a default")
	hs = httpServer(Options{ReadHeaderTimeout: 1, ReadTimeout: 2, WriteTimeout: 3, IdleTimeout: 4}, nil)
	require.Equal(t, []time.Duration{1, 2, 3, 4}, []time.Duration{hs.ReadHeaderTimeout, hs.ReadTimeout, hs.WriteTimeout, hs.IdleTimeout})
}

// TestStartClosesIdleConnections: the server closes a kept-alive
// connection that stays idle, and one that never finishes its headers.
// Each read waits for the server, bounded by a deadline far above the
// timeouts: a timeout error instead of EOF means the server kept it open.
func TestStartClosesIdleConnections(t *testing.T) {
	t.Parallel()
	r, err := Start(Options{Seed: 1, IdleTimeout: 50 * time.Millisecond, ReadHeaderTimeout: 50 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	addr := strings.TrimSuffix(strings.TrimPrefix(r.URL, "http://"), "/v1.0")
	dial := func(t *testing.T) (net.Conn, *bufio.Reader) {
		conn, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		t.Cleanup(func() { _ = conn.Close() })
		require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
		return conn, bufio.NewReader(conn)
	}
	// closed reads until the connection ends: io.EOF when the server closed it.
	closed := func(t *testing.T, br *bufio.Reader) {
		_, err := io.Copy(io.Discard, br)
		if err == nil {
			err = io.EOF // io.Copy reports EOF as success
		}
		require.ErrorIs(t, err, io.EOF, "the server keeps the connection open")
	}

	t.Run("idle after a request", func(t *testing.T) {
		t.Parallel()
		conn, br := dial(t)
		_, err := fmt.Fprintf(conn, "GET /v1.0/users/alice@contoso.com HTTP/1.1\r\nHost: emulator\r\nAuthorization: Bearer %s\r\n\r\n", r.Token)
		require.NoError(t, err)
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		_, err = io.Copy(io.Discard, resp.Body)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.False(t, resp.Close, "the connection is kept alive")
		closed(t, br)
	})
	t.Run("unfinished headers", func(t *testing.T) {
		t.Parallel()
		conn, br := dial(t)
		_, err := fmt.Fprint(conn, "GET /v1.0/users HTTP/1.1\r\nHost: emulator\r\n")
		require.NoError(t, err)
		closed(t, br)
	})
}
