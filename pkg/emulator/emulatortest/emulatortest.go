// Package emulatortest starts a Graph emulator for a test: an httptest
// server on loopback that is closed when the test ends.
package emulatortest

import (
	"net/http/httptest"
	"testing"

	"github.com/arsync/arsync/pkg/emulator"
)

// New starts an emulator with opts for the duration of t. The returned
// Running has the version-root URL (".../v1.0") and a read-write token.
func New(t testing.TB, opts emulator.Options) *emulator.Running {
	t.Helper()
	srv, err := emulator.New(opts)
	if err != nil {
		t.Fatalf("starting the Graph emulator: %v", err)
	}
	ts := httptest.NewServer(srv)
	r := emulator.Attach(srv, ts.URL, ts.Close)
	t.Cleanup(func() { _ = r.Close() })
	return r
}
