package graphclient

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/graph"
)

// countingServer is an httptest server that counts the connections it
// accepts, so a test can assert how many attempts a client made.
type countingServer struct {
	*httptest.Server
	conns atomic.Int32
}

func newCountingServer(t *testing.T, start func(*httptest.Server)) *countingServer {
	t.Helper()
	cs := &countingServer{}
	cs.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id":"x"}`))
	}))
	cs.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			cs.conns.Add(1)
		}
	}
	// The server's own handshake errors would only clutter the test log.
	cs.Config.ErrorLog = log.New(io.Discard, "", 0)
	start(cs.Server)
	t.Cleanup(cs.Close)
	return cs
}

// garbageServer accepts connections and answers each with bytes that are
// not HTTP, counting them.
func garbageServer(t *testing.T) (addr string, conns *atomic.Int32) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	conns = &atomic.Int32{}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				_, _ = c.Read(buf)
				_, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\nProtocol mismatch.\r\n"))
			}()
		}
	}()
	return l.Addr().String(), conns
}

// expiredTLSServer serves with a certificate that the client trusts but
// that expired yesterday.
func expiredTLSServer(t *testing.T) (*countingServer, *http.Client) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "expired"},
		NotBefore:             time.Now().Add(-48 * time.Hour),
		NotAfter:              time.Now().Add(-24 * time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	srv := newCountingServer(t, func(s *httptest.Server) {
		s.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
		s.StartTLS()
	})
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return srv, &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// TestCertificateAndProtocolErrorsFailAtOnce: a certificate the client
// does not trust, an expired one, one for another name, https spoken to an
// http server, a TLS alert and an answer that is not HTTP do not heal by
// retrying. Each ends after one connection, without a backoff wait, in one
// error that says what to check.
func TestCertificateAndProtocolErrorsFailAtOnce(t *testing.T) {
	t.Parallel()
	type target struct {
		baseURL string
		hc      *http.Client
		conns   func() int32
	}
	tests := []struct {
		name    string
		setup   func(t *testing.T) target
		errHas  []string
		mayBeIn bool // the request may have reached a server
	}{
		{
			name: "self-signed certificate",
			setup: func(t *testing.T) target {
				srv := newCountingServer(t, (*httptest.Server).StartTLS)
				return target{srv.URL, nil, srv.conns.Load}
			},
			errHas: []string{"x509: certificate signed by unknown authority", "not retried", "TLS-inspecting proxy", "SSL_CERT_FILE", "HTTPS_PROXY"},
		},
		{
			name: "expired certificate",
			setup: func(t *testing.T) target {
				srv, hc := expiredTLSServer(t)
				return target{srv.URL, hc, srv.conns.Load}
			},
			errHas: []string{"certificate has expired", "not retried", "clock", "SSL_CERT_FILE"},
		},
		{
			name: "certificate for another name",
			setup: func(t *testing.T) target {
				srv := newCountingServer(t, (*httptest.Server).StartTLS)
				// The test certificate names 127.0.0.1 and example.com, not localhost.
				return target{strings.Replace(srv.URL, "127.0.0.1", "localhost", 1), srv.Client(), srv.conns.Load}
			},
			errHas: []string{"x509: certificate is valid for", "not retried", "--graph-endpoint", "HTTPS_PROXY"},
		},
		{
			name: "https to an http server",
			setup: func(t *testing.T) target {
				srv := newCountingServer(t, (*httptest.Server).Start)
				return target{strings.Replace(srv.URL, "http://", "https://", 1), nil, srv.conns.Load}
			},
			errHas: []string{"server gave HTTP response to HTTPS client", "not retried", "scheme", "--graph-endpoint"},
		},
		{
			name: "https to a server that speaks neither",
			setup: func(t *testing.T) target {
				addr, conns := garbageServer(t)
				return target{"https://" + addr, nil, conns.Load}
			},
			errHas: []string{"first record does not look like a TLS handshake", "not retried", "scheme", "--graph-endpoint"},
		},
		{
			name: "TLS alert",
			setup: func(t *testing.T) target {
				srv := newCountingServer(t, func(s *httptest.Server) {
					s.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
					s.StartTLS()
				})
				return target{srv.URL, srv.Client(), srv.conns.Load}
			},
			errHas: []string{"remote error: tls:", "not retried", "TLS-inspecting proxy"},
		},
		{
			name: "an answer that is not HTTP",
			setup: func(t *testing.T) target {
				addr, conns := garbageServer(t)
				return target{"http://" + addr, nil, conns.Load}
			},
			errHas:  []string{"malformed HTTP response", "not retried", "--graph-endpoint", "HTTPS_PROXY"},
			mayBeIn: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
				tg := tt.setup(t)
				c, clock := newTestClient(t, tg.baseURL, func(o *Options) { o.HTTPClient = tg.hc })
				var err error
				switch method {
				case http.MethodGet:
					_, err = c.GetDefinition(t.Context(), "x")
				case http.MethodPost:
					_, err = c.CreateDefinition(t.Context(), &graph.Definition{DisplayName: "x"})
				default:
					err = c.DeleteDefinition(t.Context(), "x")
				}
				require.Error(t, err, method)
				for _, s := range tt.errHas {
					require.ErrorContains(t, err, s, method)
				}
				require.Equal(t, 1, strings.Count(err.Error(), "not retried"), "one error, said once: %v", err)
				require.EqualValues(t, 1, tg.conns(), "%s: one connection attempt", method)
				require.Empty(t, clock.Sleeps(), "%s: no backoff", method)
				// A failed handshake sent nothing: even a create's or a
				// delete's outcome is known.
				if method != http.MethodGet {
					require.Equal(t, tt.mayBeIn, graph.IsUnknownOutcome(err), "%s: %v", method, err)
				}
			}
		})
	}
}
