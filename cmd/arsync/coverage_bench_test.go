package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/arsync/arsync/pkg/coverage"
	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/emulator/emulatortest"
	"github.com/arsync/arsync/pkg/graphclient"
)

// BenchmarkCoverageTenantScale is issue 17's target: coverage of a tenant
// of 10,000 groups, 50,000 users and 200 definitions in at most
// ceil(10,000/20) + 150 = 650 round trips and under 150 MB.
//
// arsync runs as its own process (this test binary standing in for it,
// see TestMain), "arsync coverage -o json --graph-endpoint URL", against
// the emulator in this process: round-trips are the HTTP requests the
// emulator received (a $batch is one, whatever it carries), peak-RSS-MB is
// the arsync process's peak resident set size (Linux's VmHWM, which the
// child reads as it exits: wait4's maxrss would count this process's
// memory, shared with the child until its exec).
// Measuring in one process would count the emulator's tenant (about
// 185 MB live) and the garbage the collector lets grow in proportion to it.
func BenchmarkCoverageTenantScale(b *testing.B) {
	const groups, users, defs = 10_000, 50_000, 200
	run := emulatortest.NewSynthetic(b, emulator.SyntheticSpec{Groups: groups, Users: users, Seed: 1}, defs, emulator.Options{Seed: 1})
	limit := (groups+19)/20 + 150

	var trips, rss float64
	var out []byte
	b.ResetTimer()
	for range b.N {
		run.Server.ResetRequests()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		hwm := filepath.Join(b.TempDir(), "status")
		cmd.Env = append(os.Environ(), "ARSYNC_TEST_MAIN=1", "ARSYNC_TEST_HWM="+hwm,
			"ARSYNC_TEST_ARGS=coverage -o json --graph-endpoint "+run.URL,
			graphclient.EnvAccessToken+"="+run.Token)
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		var err error
		if out, err = cmd.Output(); err != nil {
			b.Fatalf("arsync coverage: %v\n%s", err, errOut.String())
		}
		rss = max(rss, vmHWM(b, hwm))
		n := 0
		for _, r := range run.Server.Requests() {
			if !r.Batch {
				n++
			}
		}
		trips = float64(n)
	}
	b.StopTimer()
	var rep coverage.Report
	if err := json.Unmarshal(out, &rep); err != nil {
		b.Fatalf("reading the report: %v", err)
	}
	b.ReportMetric(trips, "round-trips")
	b.ReportMetric(rss, "peak-RSS-MB")
	b.ReportMetric(float64(len(rep.Targets)), "targets")
	if trips > float64(limit) {
		b.Errorf("%v round trips, more than the %d allowed", trips, limit)
	}
}

// vmHWM reads the peak resident set in MB from a copy of /proc/PID/status.
func vmHWM(b *testing.B, path string) float64 {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Skipf("no /proc/self/status from the child (not Linux?): %v", err)
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				b.Fatalf("reading VmHWM %q: %v", v, err)
			}
			return float64(kb) / 1024
		}
	}
	b.Fatalf("no VmHWM in %s", path)
	return 0
}
