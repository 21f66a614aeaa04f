package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// syncBuffer lets the test read what a running command has printed.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startEmulatorCmd runs "arsync emulator args..." until the returned stop
// is called; it waits for the printed URL and token.
func startEmulatorCmd(t *testing.T, args ...string) (url, token string, stop func() (int, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out, errOut := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- Main(ctx, append([]string{"emulator"}, args...), strings.NewReader(""), out, errOut) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case code := <-done:
			cancel()
			t.Fatalf("emulator exited with %d: %s", code, errOut.String())
		default:
		}
		for _, line := range strings.Split(out.String(), "\n") {
			if v, ok := strings.CutPrefix(line, "url: "); ok {
				url = v
			}
			if v, ok := strings.CutPrefix(line, "token: "); ok {
				token = v
			}
		}
		if url != "" && token != "" {
			break
		}
		require.True(t, time.Now().Before(deadline), "no URL printed: %q", out.String())
		time.Sleep(5 * time.Millisecond)
	}
	stopped := false
	stop = func() (int, string) {
		stopped = true
		cancel()
		return <-done, errOut.String()
	}
	t.Cleanup(func() {
		if !stopped {
			stop()
		}
	})
	require.Contains(t, out.String(), "export ARSYNC_ACCESS_TOKEN='"+token+"'")
	return url, token, stop
}

func emulatorRequest(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const emulatorTestDefinition = `{"displayName":"Guests of Sales",
 "scope":{"query":"/groups/119cc181-22f0-4e18-8537-264e7524ee0b/transitiveMembers","queryType":"MicrosoftGraph"},
 "settings":{"recurrence":{"pattern":{"type":"weekly","interval":1},"range":{"type":"noEnd","startDate":"2030-01-01"}}}}`

func TestEmulatorCommandServesAndStops(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	url, token, stop := startEmulatorCmd(t, "--state", state, "--page-size", "5", "--seed", "3")
	require.True(t, strings.HasPrefix(url, "http://127.0.0.1:"), url)

	code, body := emulatorRequest(t, http.MethodPost, url+"/identityGovernance/accessReviews/definitions", token, emulatorTestDefinition)
	require.Equal(t, http.StatusCreated, code, body)
	code, body = emulatorRequest(t, http.MethodGet, url+"/users?$select=id", token, "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "@odata.nextLink", "--page-size applies")

	exit, stderr := stop()
	require.Equal(t, 0, exit, stderr)
	require.Contains(t, stderr, "stopped")
	_, err := os.Stat(state)
	require.NoError(t, err, "the state file was written")

	// A second run continues from the state file.
	url, token, stop = startEmulatorCmd(t, "--state", state)
	code, body = emulatorRequest(t, http.MethodGet, url+"/identityGovernance/accessReviews/definitions", token, "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "Guests of Sales")
	exit, _ = stop()
	require.Equal(t, 0, exit)
}

func TestEmulatorCommandOptions(t *testing.T) {
	t.Run("tenant file and faults", func(t *testing.T) {
		tenant := filepath.Join(t.TempDir(), "tenant.yaml")
		require.NoError(t, os.WriteFile(tenant, []byte("admin: root@fabrikam.com\nusers: [{userPrincipalName: root@fabrikam.com, displayName: Root}]\n"), 0o644))
		url, token, stop := startEmulatorCmd(t, "--tenant", tenant, "--faults", "503:GET:/groups:#1;retry-after=0", "--range-style", "numbered")
		code, body := emulatorRequest(t, http.MethodGet, url+"/users", token, "")
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, body, "root@fabrikam.com")
		require.NotContains(t, body, "alice@contoso.com")
		code, _ = emulatorRequest(t, http.MethodGet, url+"/groups", token, "")
		require.Equal(t, http.StatusServiceUnavailable, code)
		code, body = emulatorRequest(t, http.MethodPost, url+"/identityGovernance/accessReviews/definitions", token, emulatorTestDefinition)
		require.Equal(t, http.StatusCreated, code, body)
		require.Contains(t, body, `"endDate":"9999-12-31"`)
		stop()
	})
	bad := []struct {
		name string
		args []string
		err  string
	}{
		{"remote listen", []string{"--listen", "0.0.0.0:0"}, "listens only on loopback"},
		{"bad faults", []string{"--faults", "teapot"}, "--faults: fault clause \"teapot\""},
		{"bad page size", []string{"--page-size", "0"}, "--page-size must be at least 1"},
		{"bad range style", []string{"--range-style", "sideways"}, "--range-style"},
		{"missing tenant", []string{"--tenant", filepath.Join(t.TempDir(), "none.yaml")}, "reading tenant"},
		{"arguments", []string{"extra"}, "unknown command"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Main(t.Context(), append([]string{"emulator"}, tt.args...), strings.NewReader(""), &out, &errOut)
			require.Equal(t, 1, code)
			require.Contains(t, errOut.String(), tt.err)
			require.Empty(t, out.String())
		})
	}
}
