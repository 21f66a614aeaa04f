package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/emuctl"
	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/report"
)

// failingDecisions serves the emulator but, once armed, answers 400 to
// every request for decision items after the first ok ones: a Graph error
// in the middle of a run (400 is not retried).
type failingDecisions struct {
	h  http.Handler
	ok atomic.Int64 // decision requests still answered; negative: not armed
}

func (f *failingDecisions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/decisions") && f.ok.Load() >= 0 && f.ok.Add(-1) < 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":{"code":"BadRequest","message":"injected failure"}}`))
		return
	}
	f.h.ServeHTTP(w, r)
}

// cursorEmulator is reviewsEmulator's scenario (the seed's guest review
// running since 5 January 2026, Sam approved) on an emulator that serves
// one item per page and can be made to fail.
func cursorEmulator(t *testing.T) (*emulator.Running, *failingDecisions, string) {
	t.Helper()
	srv, err := emulator.New(emulator.Options{Seed: 3, PageSize: 1, Clock: func() time.Time { return time.Date(2025, 12, 1, 9, 0, 0, 0, time.UTC) }})
	require.NoError(t, err)
	fail := &failingDecisions{h: srv}
	fail.ok.Store(-1)
	ts := httptest.NewServer(fail)
	run := emulator.Attach(srv, ts.URL, ts.Close)
	t.Cleanup(func() { _ = run.Close() })
	dir := t.TempDir()
	seedWithDefaultDeny(t, seedSpec, dir, time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC))
	code, _, errOut := runCLI(t, run, "apply", "--auto-approve", dir)
	require.Equal(t, exitOK, code, errOut)
	id, _, err := emuctl.FindReview(run.Server, "guests-m365-quarterly")
	require.NoError(t, err)
	_, err = run.Server.SetNow(time.Date(2026, 1, 6, 10, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	_, err = run.Server.RecordDecision(emulator.DecisionInput{DefinitionID: id, Principal: upnSam, Decision: "Approve", Justification: "ok"})
	require.NoError(t, err)
	return run, fail, id
}

func jsonlRows(t *testing.T, out string) []report.DecisionRow {
	t.Helper()
	var rows []report.DecisionRow
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var r report.DecisionRow
		require.NoError(t, json.Unmarshal([]byte(line), &r), line)
		rows = append(rows, r)
	}
	return rows
}

// rowKey is an item in one version.
func rowKey(r report.DecisionRow) string {
	return r.InstanceID + "/" + r.DecisionID + " " + r.ReviewedDateTime + "|" + r.AppliedDateTime + "|" + r.Decision + "|" + r.ApplyResult
}

// TestDecisionsCursorEndToEnd is issue 16's acceptance scenario for
// incremental collection, through Main against the emulator: a run after a
// failed run misses nothing and repeats nothing, a repeated run writes
// nothing, and items changed after they were collected come back once.
func TestDecisionsCursorEndToEnd(t *testing.T) {
	run, fail, defID := cursorEmulator(t)
	cursor := filepath.Join(t.TempDir(), "decisions.cursor")
	collect := func() (code int, rows []report.DecisionRow, errOut string) {
		t.Helper()
		code, out, errOut := runCLI(t, run, "decisions", "--cursor", cursor, "-o", "jsonl")
		return code, jsonlRows(t, out), errOut
	}
	var union []report.DecisionRow // what the complete runs wrote
	good := func(n int, why string) {
		t.Helper()
		code, rows, errOut := collect()
		require.Equal(t, exitOK, code, errOut)
		require.Len(t, rows, n, why)
		union = append(union, rows...)
	}
	decide := func(at time.Time, principal, decision, reviewer string) {
		t.Helper()
		_, err := run.Server.SetNow(at)
		require.NoError(t, err)
		_, err = run.Server.RecordDecision(emulator.DecisionInput{DefinitionID: defID, Principal: principal,
			Decision: decision, Justification: "checked", Reviewer: reviewer})
		require.NoError(t, err)
	}

	good(5, "the first run writes every item, pending ones too")
	good(0, "a repeated run with nothing new writes nothing")

	// Bob denies Tom; the next run fails after one page of items.
	decide(time.Date(2026, 1, 7, 9, 0, 0, 0, time.UTC), upnTom, "Deny", "bob@contoso.com")
	before, err := os.ReadFile(cursor)
	require.NoError(t, err)
	fail.ok.Store(1)
	code, _, errOut := collect()
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, "injected failure")
	require.Contains(t, errOut, "the cursor "+cursor+" was left as it was")
	after, err := os.ReadFile(cursor)
	require.NoError(t, err)
	require.Equal(t, string(before), string(after), "a failed run leaves the cursor as it was")
	fail.ok.Store(-1)

	// A late run, days later, with another decision since: both come.
	decide(time.Date(2026, 1, 12, 9, 0, 0, 0, time.UTC), upnLina, "Approve", "")
	good(2, "Tom's denial (lost by the failed run) and Lina's approval")
	good(0, "nothing new")

	// The instances end: every item is applied (the unreviewed ones denied
	// by default) and comes back once, in its new version.
	_, err = run.Server.SetNow(time.Date(2026, 1, 20, 9, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	good(5, "every item changed when it was applied")
	good(0, "nothing new")

	// The union of the complete runs: every version once, and the final
	// state of every item.
	seen := map[string]int{}
	for _, r := range union {
		seen[rowKey(r)]++
	}
	for k, n := range seen {
		require.Equal(t, 1, n, "written twice: %s", k)
	}
	code, out, errOut := runCLI(t, run, "decisions", "-o", "jsonl")
	require.Equal(t, exitOK, code, errOut)
	all := jsonlRows(t, out)
	require.Len(t, all, 5)
	for _, r := range all {
		require.Contains(t, seen, rowKey(r), "the final version of every item was collected")
		require.Equal(t, "AppliedSuccessfully", r.ApplyResult)
	}

	// The cursor belongs to its filters.
	code, _, errOut = runCLI(t, run, "decisions", "--cursor", cursor, "--pending")
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, "--cursor "+cursor+": the cursor was made for another selection")
	// --since only starts a cursor.
	code, _, errOut = runCLI(t, run, "decisions", "--cursor", cursor, "--since", "30d")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, errOut, "Note: --since is ignored")
}

// TestDecisionsCursorFile: the cursor file's format, and one that is not a
// cursor is refused before anything is sent.
func TestDecisionsCursorFile(t *testing.T) {
	run, _, _ := cursorEmulator(t)
	cursor := filepath.Join(t.TempDir(), "c.json")
	code, _, errOut := runCLI(t, run, "decisions", "--cursor", cursor, "--since", "2026-01-06T09:00:00Z", "-o", "csv")
	require.Equal(t, exitOK, code, errOut)
	c, err := report.ReadCursor(cursor)
	require.NoError(t, err)
	require.Equal(t, report.CursorFormatVersion, c.FormatVersion)
	require.Equal(t, "2026-01-06T10:00:00Z", c.Watermark)
	require.Equal(t, "2026-01-05T10:00:00Z", c.From)
	require.Equal(t, "24h0m0s", c.Overlap)
	require.Equal(t, "all", c.Selection)
	require.Len(t, c.Seen, 1, "only Sam's item has a time after From (the instances started on the 5th at midnight)")
	entries, err := os.ReadDir(filepath.Dir(cursor))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left behind")

	require.NoError(t, os.WriteFile(cursor, []byte("not json"), 0o644))
	run.Server.ResetRequests()
	code, _, errOut = runCLI(t, run, "decisions", "--cursor", cursor)
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, "is not a cursor written by arsync decisions")
	require.Empty(t, run.Server.Requests())

	// A cursor that could not be written is refused before collecting.
	missing := filepath.Join(t.TempDir(), "no-such-dir", "cursor.json")
	code, _, errOut = runCLI(t, run, "decisions", "--cursor", missing)
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, "the cursor's directory "+filepath.Dir(missing)+" does not exist")
	require.Empty(t, run.Server.Requests())
}

// TestDecisionsFilters: --reviewer, --principal and --resource take names
// (any letter case) or ids; --pending keeps what nobody has reviewed.
func TestDecisionsFilters(t *testing.T) {
	run, _ := reviewsEmulator(t)
	count := func(args ...string) int {
		t.Helper()
		code, out, errOut := runCLI(t, run, append([]string{"decisions", "-o", "jsonl"}, args...)...)
		require.Equal(t, exitOK, code, errOut)
		return len(jsonlRows(t, out))
	}
	for _, tc := range []struct {
		args []string
		want int
	}{
		{nil, 5},
		{[]string{"--resource", "Marketing"}, 2},
		{[]string{"--resource", "project falcon"}, 2},
		{[]string{"--resource", tenantSales}, 1},
		{[]string{"--resource", "Nope"}, 0},
		{[]string{"--principal", upnSam}, 1},
		{[]string{"--principal", "SAM TAYLOR (FABRIKAM)"}, 1},
		{[]string{"--principal", "sam@fabrikam.com"}, 1}, // the guest's mail, looked up
		{[]string{"--reviewer", "alice@contoso.com"}, 1},
		{[]string{"--reviewer", "bob@contoso.com"}, 0},
		{[]string{"--pending"}, 4},
		{[]string{"--pending", "--resource", "Marketing"}, 1},
	} {
		require.Equal(t, tc.want, count(tc.args...), tc.args)
	}
}
