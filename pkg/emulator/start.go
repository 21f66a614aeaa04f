package emulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Running is an emulator listening on a real socket.
type Running struct {
	URL    string // the version root, e.g. http://127.0.0.1:41234/v1.0
	Token  string // a read-write token for the tenant's admin that does not expire (Server.IssueToken mints others)
	Server *Server

	close     func() error
	closeOnce sync.Once
	closeErr  error
}

// Close stops the listener, waits for requests in flight (at most a few
// seconds) and closes the Server, releasing its state file's lock. It is
// safe to call more than once.
func (r *Running) Close() error {
	r.closeOnce.Do(func() { r.closeErr = r.close() })
	return r.closeErr
}

// ErrRemoteListen is returned by Start for a non-loopback address without
// Options.AllowRemote.
var ErrRemoteListen = errors.New("the emulator serves plain HTTP with test credentials, so it listens only on loopback addresses unless remote access is allowed explicitly")

// Start builds a Server and serves it on Options.Addr (default
// 127.0.0.1:0, a free port).
func Start(opts Options) (*Running, error) {
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if !opts.AllowRemote {
		if err := checkLoopback(addr); err != nil {
			return nil, err
		}
	}
	srv, err := New(opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("starting the emulator: %w", err)
	}
	hs := httpServer(opts, srv)
	done := make(chan struct{})
	go func() {
		_ = hs.Serve(ln)
		close(done)
	}()
	r := &Running{
		URL:    "http://" + ln.Addr().String() + "/v1.0",
		Token:  srv.adminToken(),
		Server: srv,
	}
	r.close = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := hs.Shutdown(ctx)
		if err != nil {
			_ = hs.Close()
		}
		<-done
		return errors.Join(err, srv.Close())
	}
	return r, nil
}

// The default timeouts of Start's HTTP server (see Options).
const (
	defaultReadHeaderTimeout = 10 * time.Second
	defaultReadTimeout       = time.Minute
	defaultWriteTimeout      = 5 * time.Minute
	defaultIdleTimeout       = time.Minute
)

// httpServer is Start's HTTP server for h, with the timeouts of opts.
func httpServer(opts Options, h http.Handler) *http.Server {
	or := func(d, def time.Duration) time.Duration {
		if d > 0 {
			return d
		}
		return def
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: or(opts.ReadHeaderTimeout, defaultReadHeaderTimeout),
		ReadTimeout:       or(opts.ReadTimeout, defaultReadTimeout),
		WriteTimeout:      or(opts.WriteTimeout, defaultWriteTimeout),
		IdleTimeout:       or(opts.IdleTimeout, defaultIdleTimeout),
	}
}

// checkLoopback accepts only addresses whose host is a loopback IP or
// "localhost".
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("listen address %q: %w", addr, ErrRemoteListen)
	}
	return nil
}

// Attach describes a Server that the caller already serves at baseURL (the
// scheme and host, e.g. an httptest server's URL) as a Running; closeFn
// stops serving it, then Close closes the Server.
func Attach(srv *Server, baseURL string, closeFn func()) *Running {
	return &Running{
		URL:    strings.TrimSuffix(baseURL, "/") + "/v1.0",
		Token:  srv.adminToken(),
		Server: srv,
		close: func() error {
			closeFn()
			return srv.Close()
		},
	}
}
