package graphclient

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"strings"
)

// setupError is a certificate, TLS or protocol failure: the connection
// reached something that is not the Graph arsync expects (a TLS-inspecting
// proxy, an http server spoken to with https, another service). Waiting
// does not change that, so it is never retried, and its message says what
// to check (docs/graph-behaviour.md#throttling-and-retries).
type setupError struct {
	err  error
	hint string
	// sent says the request may have reached a server: an answer that is
	// not HTTP came after it was sent. A failed handshake sent nothing.
	sent bool
}

func (e *setupError) Error() string { return e.err.Error() + "; not retried: " + e.hint }
func (e *setupError) Unwrap() error { return e.err }

// The hints. Go reads SSL_CERT_FILE and SSL_CERT_DIR on Linux and other
// Unix systems, not on macOS or Windows, which use the system's store.
const (
	trustHint = "if your network inspects TLS (a TLS-inspecting proxy presents its own certificate for every site), " +
		"trust that proxy's CA certificate: add it to the system's certificate store or, on Linux, " +
		"point SSL_CERT_FILE (a PEM file) or SSL_CERT_DIR at it; set HTTPS_PROXY when Graph is reached through a proxy"
	schemeHint = "check the scheme, host and port of --graph-endpoint (https:// for Graph, http:// only for a local emulator), " +
		"and HTTPS_PROXY if a proxy is in the way"
)

// classifySetupError returns err as a *setupError when it is a failure
// that retrying cannot heal, or nil.
func classifySetupError(err error) *setupError {
	var (
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
		authErr    x509.UnknownAuthorityError
		verifyErr  *tls.CertificateVerificationError
		recordErr  tls.RecordHeaderError
		alertErr   tls.AlertError
		opErr      *net.OpError
	)
	switch {
	case errors.As(err, &hostErr):
		return &setupError{err: err, hint: "the server's certificate is for another name: " + schemeHint + "; " + trustHint}
	case errors.As(err, &invalidErr) && (invalidErr.Reason == x509.Expired):
		return &setupError{err: err, hint: "the server's certificate has expired or is not valid yet (check this machine's clock); " + trustHint}
	case errors.As(err, &authErr), errors.As(err, &invalidErr), errors.As(err, &verifyErr):
		return &setupError{err: err, hint: "the server's certificate is not trusted by this machine; " + trustHint}
	case errors.Is(err, http.ErrSchemeMismatch), errors.As(err, &recordErr):
		return &setupError{err: err, hint: "the server does not speak TLS: " + schemeHint}
	case errors.As(err, &alertErr), errors.As(err, &opErr) && opErr.Op == "remote error":
		// The server (or a proxy) refused the TLS handshake with an alert.
		return &setupError{err: err, hint: "the server refused the TLS handshake; " + trustHint + "; " + schemeHint}
	case strings.Contains(err.Error(), "malformed HTTP"):
		// net/http says so only in its text.
		return &setupError{err: err, hint: "the server's answer is not HTTP: " + schemeHint, sent: true}
	}
	return nil
}
