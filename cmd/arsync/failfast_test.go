package main

import (
	"bytes"
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/graphclient"
	"github.com/arsync/arsync/pkg/spec"
)

// fakeSignInFactory is a Factory whose Connect builds a real Graph client
// for --graph-endpoint with a fixed token, as ARSYNC_ACCESS_TOKEN would,
// and a sleeper that records backoff waits instead of sleeping.
func fakeSignInFactory(out, errOut *bytes.Buffer, waits *[]time.Duration) *Factory {
	g := &globalOptions{}
	var mu sync.Mutex
	return &Factory{
		IO:      &streams{In: strings.NewReader(""), Out: out, ErrOut: errOut},
		Globals: g,
		Config:  func() (*spec.Config, error) { return &spec.Config{}, nil },
		Connect: func(ctx context.Context, cfg *spec.Config) (*session, error) {
			c, err := graphclient.New(graphclient.Options{
				BaseURL:    g.GraphEndpoint,
				Credential: graphclient.StaticToken("fake-token-0123456789"),
				Sleep: func(ctx context.Context, d time.Duration) error {
					mu.Lock()
					defer mu.Unlock()
					*waits = append(*waits, d)
					return ctx.Err()
				},
			})
			if err != nil {
				return nil, err
			}
			return &session{Client: c, TenantID: "fake-tenant", Endpoint: c.BaseURL(), Now: time.Now}, nil
		},
	}
}

// TestPlanAgainstAnUntrustedCertificateFailsAtOnce: plan pointed at an
// HTTPS server whose certificate this machine does not trust (a
// self-signed one, as a TLS-inspecting proxy presents) makes one
// connection and ends with one error naming what to check, without a
// single backoff wait.
func TestPlanAgainstAnUntrustedCertificateFailsAtOnce(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a request got through: %s %s", r.Method, r.URL)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // its handshake errors
	srv.StartTLS()
	defer srv.Close()

	var out, errOut bytes.Buffer
	var waits []time.Duration
	root := newRootCmd(fakeSignInFactory(&out, &errOut, &waits))
	root.SetArgs([]string{"plan", "--graph-endpoint", srv.URL + "/v1.0", seedSpec})
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.ExecuteContext(t.Context())
	require.Error(t, err)
	msg := err.Error()
	require.Contains(t, msg, "x509: certificate signed by unknown authority")
	require.Contains(t, msg, "not retried")
	for _, hint := range []string{"TLS-inspecting proxy", "SSL_CERT_FILE", "HTTPS_PROXY"} {
		require.Equal(t, 1, strings.Count(msg, hint), "%q once in %s", hint, msg)
	}
	require.Empty(t, waits, "no backoff")
	require.EqualValues(t, 1, conns.Load(), "one connection attempt")
}
