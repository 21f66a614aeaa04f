// Package emulatortest starts a Graph emulator for a test: an httptest
// server on loopback that is closed when the test ends.
package emulatortest

import (
	"bytes"
	"net/http"
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

// NewSynthetic starts an emulator (see New) on a generated tenant of
// spec's size (emulator.SyntheticTenant) holding definitions access review
// definitions (emulator.SyntheticDefinitions, same seed), for benchmarks at
// tenant scale. opts.Tenant is replaced. The definitions are created
// through the handler before the server listens, and the request log is
// cleared afterwards, so Server.Requests counts only the caller's round
// trips.
func NewSynthetic(t testing.TB, spec emulator.SyntheticSpec, definitions int, opts emulator.Options) *emulator.Running {
	t.Helper()
	tenant, err := emulator.SyntheticTenant(spec)
	if err != nil {
		t.Fatalf("building the synthetic tenant: %v", err)
	}
	bodies, err := emulator.SyntheticDefinitions(tenant, definitions, spec.Seed)
	if err != nil {
		t.Fatalf("building the synthetic definitions: %v", err)
	}
	opts.Tenant = tenant
	r := New(t, opts)
	for i, b := range bodies {
		req := httptest.NewRequest(http.MethodPost, "/v1.0/identityGovernance/accessReviews/definitions", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+r.Token)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		r.Server.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated {
			t.Fatalf("creating synthetic definition %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	r.Server.ResetRequests()
	return r
}
