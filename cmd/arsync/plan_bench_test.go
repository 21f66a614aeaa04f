package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/benchutil"
	"github.com/arsync/arsync/pkg/emulator"
)

// benchLatency is the per-request latency of issue 5's plan benchmark.
const benchLatency = 20 * time.Millisecond

// writeBenchSpecs writes n definitions over files files. Each one names a
// group and a reviewer from the demo tenant, so the plan resolves names.
func writeBenchSpecs(tb testing.TB, dir string, n, files int) {
	tb.Helper()
	t, err := emulator.LoadTenant("../../examples/tenant.yaml")
	require.NoError(tb, err)
	var users, groups []string
	for _, u := range t.Users {
		if u.UserType != "Guest" {
			users = append(users, u.UserPrincipalName)
		}
	}
	for _, g := range t.Groups {
		if g.DisplayName != "Contractors" { // two groups share that name
			groups = append(groups, g.DisplayName)
		}
	}
	bufs := make([]bytes.Buffer, files)
	for i := range n {
		fmt.Fprintf(&bufs[i%files], `---
apiVersion: arsync/v1
kind: AccessReviewDefinition
metadata:
  name: bench-%04d
spec:
  displayName: Bench review %04d
  descriptionForAdmins: Generated for the plan benchmark.
  scope:
    query: /groups/${group:%s}/transitiveMembers/microsoft.graph.user
  reviewers:
    - user: %s
  settings:
    mailNotificationsEnabled: true
    instanceDurationInDays: %d
    recurrence:
      pattern: {type: absoluteMonthly, interval: 3}
      range: {type: noEnd, startDate: 2026-01-05}
`, i, i, groups[i%len(groups)], users[i%len(users)], 1+i%20)
	}
	for i := range bufs {
		require.NoError(tb, os.WriteFile(filepath.Join(dir, fmt.Sprintf("reviews-%03d.yaml", i)), bufs[i].Bytes(), 0o644))
	}
}

// BenchmarkPlan1000 measures issue 5's target: `arsync plan` over 1,000
// managed definitions (the steady state: all up to date) against the
// emulator with 20 ms of latency per request. The lower bound is the
// requests a plan cannot avoid (the list pages and the batched name look-ups)
// times the latency; "x-lower-bound" is the measured time over that bound.
// "peak-heap-MB" samples the whole process (the emulator's store included).
func BenchmarkPlan1000(b *testing.B) {
	const n = 1000
	dir := b.TempDir()
	specs := filepath.Join(dir, "reviews")
	require.NoError(b, os.Mkdir(specs, 0o755))
	writeBenchSpecs(b, specs, n, 10)
	// One emulator; the latency is switched on after seeding, so that the
	// seeding apply does not pay it. Like the emulator's own latency fault it
	// delays each HTTP request (a $batch once).
	srv, err := emulator.New(emulator.Options{Seed: 1})
	require.NoError(b, err)
	var latency atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(latency.Load()))
		srv.ServeHTTP(w, r)
	}))
	run := emulator.Attach(srv, ts.URL, ts.Close)
	b.Cleanup(func() { _ = run.Close() })

	code, _, errOut := runBenchCLI(b, run, "apply", "--auto-approve", specs)
	require.Equal(b, exitOK, code, errOut)
	latency.Store(int64(benchLatency))

	var peak float64
	var lowerBound time.Duration
	b.ResetTimer()
	for range b.N {
		run.Server.ResetRequests()
		stop := benchutil.PeakHeap()
		code, out, errOut := runBenchCLI(b, run, "plan", "--detailed-exitcode", specs)
		peak = max(peak, stop())
		if code != exitOK {
			b.Fatalf("plan exit %d\n%s\n%s", code, out, errOut)
		}
		lists, lookups := 0, 0
		for _, r := range run.Server.Requests() {
			switch {
			case r.Batch:
			case strings.Contains(r.Path, "/accessReviews/definitions"):
				lists++
			default:
				lookups++
			}
		}
		lowerBound = time.Duration(int(math.Ceil(n/100.0))+lookups) * benchLatency
		b.ReportMetric(float64(lists), "list-requests")
		b.ReportMetric(float64(lookups), "lookup-requests")
	}
	b.StopTimer()
	perOp := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(lowerBound.Milliseconds()), "lower-bound-ms")
	b.ReportMetric(float64(perOp)/float64(lowerBound), "x-lower-bound")
	b.ReportMetric(peak, "peak-heap-MB")
}

// runBenchCLI is runCLI for benchmarks, with the output discarded.
func runBenchCLI(b *testing.B, run *emulator.Running, args ...string) (int, string, string) {
	b.Helper()
	b.Setenv("ARSYNC_ACCESS_TOKEN", run.Token)
	cfg := filepath.Join(b.TempDir(), "arsync.yaml")
	require.NoError(b, os.WriteFile(cfg, []byte("{}\n"), 0o644))
	args = append([]string{"--config", cfg, "--graph-endpoint", run.URL}, args...)
	var errOut bytes.Buffer
	code := Main(context.Background(), args, strings.NewReader(""), io.Discard, &errOut)
	return code, "", errOut.String()
}
