package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/chromiumtest"
	"github.com/arsync/arsync/internal/emuctl"
	"github.com/arsync/arsync/pkg/coverage"
	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/emulator/emulatortest"
	"github.com/arsync/arsync/pkg/spec"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "rewrite docs/report.png from the demo tenant's report in headless Chromium")

func TestReportFlags(t *testing.T) {
	testFlags(t, nil, NewCmdReport, []flagCase[ReportOptions]{
		{name: "defaults", want: ReportOptions{Output: "html"}},
		{name: "out and since", args: []string{"--out", "r.html", "--since", "90d"}, want: ReportOptions{Output: "html", Out: "r.html", Since: "90d"}},
		{name: "markdown", args: []string{"-o", "markdown"}, want: ReportOptions{Output: "markdown"}},
		{name: "unknown format", args: []string{"-o", "pdf"}, err: `unknown output format "pdf": use html or markdown`},
		{name: "bad since", args: []string{"--since", "last week"}, err: `--since "last week": use an RFC 3339 time (2026-01-31T12:00:00Z), a date (2026-01-31) or a duration such as 24h or 7d`},
		{name: "no arguments", args: []string{"reviews"}, err: `unknown command "reviews" for "arsync report"`},
	})
}

// demoTenant is the README's demo: the examples applied to the emulator's
// demo tenant, two decisions taken, and the clock moved on so that the
// quarterly review runs a second round and the others start and end.
func demoTenant(t *testing.T) *emulator.Running {
	t.Helper()
	return demoTenantUntil(t, false, time.Date(2026, 4, 10, 9, 0, 0, 0, time.UTC))
}

// demoTenantUntil is demoTenant with the clock moved on to end, and, with
// decide, the emulator's simulated reviewers deciding along the way (as
// "arsync emulator advance --reviewers-decide" does).
func demoTenantUntil(t *testing.T, decide bool, end time.Time) *emulator.Running {
	t.Helper()
	run := emulatortest.New(t, emulator.Options{Seed: 17, Clock: func() time.Time { return time.Date(2025, 12, 1, 9, 0, 0, 0, time.UTC) }})
	code, _, errOut := runCLI(t, run, "apply", "--auto-approve", "../../examples/reviews")
	require.Equal(t, exitOK, code, errOut)
	_, err := run.Server.SetNow(time.Date(2026, 1, 8, 10, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	id, _, err := emuctl.FindReview(run.Server, "guests-m365-quarterly")
	require.NoError(t, err)
	_, err = run.Server.RecordDecision(emulator.DecisionInput{DefinitionID: id, Principal: upnSam, Decision: "Approve", Justification: "Still on the project"})
	require.NoError(t, err)
	_, err = run.Server.RecordDecision(emulator.DecisionInput{DefinitionID: id, Principal: upnTom, Decision: "Deny", Justification: "Contract ended"})
	require.NoError(t, err)
	run.Server.SetReviewersDecide(decide)
	_, err = run.Server.SetNow(end)
	require.NoError(t, err)
	return run
}

// reportOn runs report against run with the emulator's clock and a fixed
// version, so the page is the same every time but for the data.
func reportOn(t *testing.T, run *emulator.Running, cov func(context.Context, *session) (*coverage.Report, error), args ...string) (string, string) {
	t.Helper()
	out, errOut := &strings.Builder{}, &strings.Builder{}
	f := offlineFactory(t)
	f.IO = &streams{In: strings.NewReader(""), Out: out, ErrOut: errOut}
	f.Config = func() (*spec.Config, error) { return &spec.Config{}, nil }
	f.Connect = func(context.Context, *spec.Config) (*session, error) {
		return &session{Client: clientFor(t, run), TenantID: "5c1b9a52-7f0e-4a7b-9d39-0b6f2e3c4d11", Now: run.Server.Now}, nil
	}
	var o *ReportOptions
	cmd := NewCmdReport(f, func(p *ReportOptions) error { o = p; return nil })
	cmd.SetArgs(args)
	require.NoError(t, cmd.Execute())
	if cov != nil {
		o.Coverage = cov
	}
	saved := version
	version = "v0.0.0-demo"
	t.Cleanup(func() { version = saved })
	require.NoError(t, runReport(context.Background(), o))
	return out.String(), errOut.String()
}

// TestReportDemoTenant: the demo tenant's report has every review with
// its instances, the tenant, the version and the emulator's time; without
// coverage it says why; --since leaves out the first round; markdown has
// the same figures.
func TestReportDemoTenant(t *testing.T) {
	run := demoTenant(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "report.html")
	_, errOut := reportOn(t, run, nil, "--out", file)
	require.NotContains(t, errOut, "Warning")
	require.Regexp(t, `Wrote the report of \d+ review\(s\) to `+regexp.QuoteMeta(file), errOut)
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	page := string(b)
	for _, want := range []string{"<h1>Access reviews of 5c1b9a52-7f0e-4a7b-9d39-0b6f2e3c4d11</h1>", "arsync v0.0.0-demo",
		`<time datetime="2026-04-10T09:00:00Z">`, "guests-m365-quarterly", "payroll-app-users", "Vendor Access", "Partner Portal", "Privileged Role Administrator",
		`<td class="d">2026-01-05</td><td class="d">2026-01-19</td><td>Marketing</td>`, `<td class="d">2026-04-05</td>`} {
		require.Contains(t, page, want)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left")

	since, _ := reportOn(t, run, nil, "--since", "2026-03-01")
	require.NotContains(t, since, `<td class="d">2026-01-05</td>`, "the first round ended before --since")
	require.Contains(t, since, `<td class="d">2026-04-05</td>`)

	md, _ := reportOn(t, run, fakeCoverage, "-o", "markdown")
	require.Contains(t, md, "# Access reviews of 5c1b9a52-7f0e-4a7b-9d39-0b6f2e3c4d11\n")
	require.Contains(t, md, "```mermaid\nxychart-beta\n")
	require.Contains(t, md, "| **Uncovered** | Contractors | 3 | - |")
	require.Contains(t, md, "| 2026-01-05 | 2026-01-19 | Marketing | Applied | 1/2 | 1 | 0 | 0 | 1 | 1 |")

	// A coverage that fails is a warning: the report still comes out.
	_, errOut = reportOn(t, run, func(context.Context, *session) (*coverage.Report, error) {
		return nil, errors.New("reading the groups: 403 Forbidden")
	}, "-o", "markdown")
	require.Contains(t, errOut, "Warning: the report has no coverage: reading the groups: 403 Forbidden")
}

// fakeCoverage stands in for the coverage computation.
func fakeCoverage(context.Context, *session) (*coverage.Report, error) {
	return &coverage.Report{FormatVersion: coverage.FormatVersion, Targets: []coverage.Target{
		{Kind: coverage.KindGroup, ID: "g", DisplayName: "Contractors", Guests: 3},
	}}, nil
}

// TestReportInChromium renders the demo tenant's report in headless
// Chromium: it loads from disk with no console error and no network
// request, and every chart has a text alternative. With
// -update-screenshot it rewrites docs/report.png, shown in the README.
func TestReportInChromium(t *testing.T) {
	chromium := chromiumtest.Need(t)
	run := demoTenantUntil(t, true, time.Date(2026, 4, 10, 9, 0, 0, 0, time.UTC))
	file := filepath.Join(t.TempDir(), "report.html")
	reportOn(t, run, nil, "--out", file)
	res, err := chromiumtest.Load(context.Background(), chromium, file, chromiumtest.Options{Width: 1100, MaxHeight: 1500})
	require.NoError(t, err)
	require.Empty(t, res.ConsoleErrors)
	require.Empty(t, res.Requests)
	require.Positive(t, res.SVGs)
	require.Empty(t, res.Unlabelled)
	if *updateScreenshot {
		require.NoError(t, os.WriteFile("../../docs/report.png", res.Screenshot, 0o644))
	}
}
