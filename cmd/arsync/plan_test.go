package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/emulator/emulatortest"
)

// seedSpec is examples/reviews/guests-m365-groups.yaml: it uses ids only, so
// it plans without directory look-ups.
const seedSpec = "../../examples/reviews/guests-m365-groups.yaml"

// runCLI runs arsync against a test emulator, as CI would: the Graph
// endpoint from a flag and a static token from ARSYNC_ACCESS_TOKEN.
func runCLI(t *testing.T, run *emulator.Running, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	t.Setenv("ARSYNC_ACCESS_TOKEN", run.Token)
	full := append([]string{"--config", filepath.Join(t.TempDir(), "none.yaml")}, args...)
	// A missing explicit --config is an error; use an empty one instead.
	require.NoError(t, os.WriteFile(full[1], []byte("{}\n"), 0o644))
	full = append(full, "--graph-endpoint", run.URL)
	var out, errOut bytes.Buffer
	code = Main(context.Background(), full, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestPlanCreateThenNoChanges(t *testing.T) {
	run := emulatortest.New(t, emulator.Options{Seed: 1})

	code, out, errOut := runCLI(t, run, "plan", "--detailed-exitcode", seedSpec)
	require.Equal(t, exitChanges, code, errOut)
	require.Contains(t, out, "+ create guests-m365-quarterly")
	require.Contains(t, out, "Plan: 1 to create")
	require.Empty(t, writeRequests(run), "plan must not write")

	// Create the definition as apply would (the plan's After body), then
	// the same plan must show no changes: no false drift.
	code, out, errOut = runCLI(t, run, "plan", "-o", "json", seedSpec)
	require.Equal(t, exitOK, code, errOut)
	p, err := diff.ReadPlan(strings.NewReader(out))
	require.NoError(t, err)
	require.Len(t, p.Changes, 1)
	require.Equal(t, diff.Action("create"), p.Changes[0].Action)
	_, err = clientFor(t, run).CreateDefinition(context.Background(), p.Changes[0].After)
	require.NoError(t, err)

	code, out, errOut = runCLI(t, run, "plan", "--detailed-exitcode", seedSpec)
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	require.Contains(t, out, "No changes.")
}

func TestPlanOutputs(t *testing.T) {
	run := emulatortest.New(t, emulator.Options{Seed: 1})
	saved := filepath.Join(t.TempDir(), "plan.json")

	code, out, errOut := runCLI(t, run, "plan", "-o", "markdown", "--out", saved, seedSpec)
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "<details>")

	data, err := os.ReadFile(saved)
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(data, &raw))
	require.EqualValues(t, 1, raw["formatVersion"])
	require.Equal(t, run.URL, strings.TrimSuffix(raw["graphEndpoint"].(string), "/"))

	code, _, errOut = runCLI(t, run, "plan", "-o", "yaml", seedSpec)
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, `unknown output format "yaml"`)
}

func TestPlanInvalidSpecsCallNoGraph(t *testing.T) {
	run := emulatortest.New(t, emulator.Options{Seed: 1})
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte(`apiVersion: arsync/v1
kind: AccessReviewDefinition
metadata:
  name: bad
spec:
  displayName: Bad
  scope: {query: /groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/members}
  settings:
    instanceDurationInDays: 3
    recurence: {}
`), 0o644))

	code, _, errOut := runCLI(t, run, "plan", "--detailed-exitcode", dir)
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, bad+":10:5:")
	require.Contains(t, errOut, "recurrence")
	require.Empty(t, run.Server.Requests(), "invalid specs must not reach Graph")
}

// A path with no spec file is refused: planned literally, it would delete
// every managed definition.
func TestPlanRefusesNoSpecFiles(t *testing.T) {
	run := emulatortest.New(t, emulator.Options{Seed: 1})
	empty := t.TempDir()
	for _, args := range [][]string{{"plan", empty}, {"apply", "--auto-approve", empty}} {
		code, _, errOut := runCLI(t, run, args...)
		require.Equal(t, exitError, code, args[0])
		require.Contains(t, errOut, "no spec files (*.yaml, *.yml) found in "+empty, args[0])
	}
	require.Empty(t, run.Server.Requests(), "nothing may reach Graph")
}

// TestPlanNamesLiveIDs: ids that only the live side has are named in the
// plan too (from one getByIds call), not only those the specs resolved.
func TestPlanNamesLiveIDs(t *testing.T) {
	run := emulatortest.New(t, emulator.Options{Seed: 1})
	dir := reviewsDir(t, "alpha")
	code, _, errOut := applyCLI(t, run, "{}", nil, "apply", "--auto-approve", dir)
	require.Equal(t, exitOK, code, errOut)

	writeReview(t, dir, "alpha", salesID, 7) // the scope moves from Marketing to Sales
	code, out, errOut := runCLI(t, run, "plan", dir)
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "-/+ replace alpha")
	require.Contains(t, out, marketingID+" = Marketing", "the live scope's group is named")
}

// TestPlanDebugSaysLabelsSkipped: when the directory refuses to name the
// live side's ids, plan still works (with ids) and -v says why, in one line.
func TestPlanDebugSaysLabelsSkipped(t *testing.T) {
	run := emulatortest.New(t, emulator.Options{Seed: 1})
	dir := reviewsDir(t, "alpha")
	code, _, errOut := applyCLI(t, run, "{}", nil, "apply", "--auto-approve", dir)
	require.Equal(t, exitOK, code, errOut)
	writeReview(t, dir, "alpha", salesID, 7)

	// getByIds answers 403, as without directory read permission.
	target, err := url.Parse(run.URL)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/directoryObjects/getByIds") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	t.Setenv("ARSYNC_ACCESS_TOKEN", run.Token)
	cfg := filepath.Join(t.TempDir(), "arsync.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("{}\n"), 0o644))

	for _, debug := range []bool{false, true} {
		args := []string{"--config", cfg, "--graph-endpoint", front.URL + target.Path, "plan", dir}
		if debug {
			args = append(args, "-v")
		}
		var out, errOut bytes.Buffer
		code := Main(context.Background(), args, strings.NewReader(""), &out, &errOut)
		require.Equal(t, exitOK, code, errOut.String())
		require.Contains(t, out.String(), "-/+ replace alpha")
		require.NotContains(t, out.String(), marketingID+" = Marketing", "the live side is not named")
		var skipped []string
		for _, line := range strings.Split(errOut.String(), "\n") {
			if strings.HasPrefix(line, "plan: ") {
				skipped = append(skipped, line)
			}
		}
		if !debug {
			require.Empty(t, skipped, "only -v says it")
			continue
		}
		require.Len(t, skipped, 1, errOut.String())
		require.Contains(t, skipped[0], "without names")
		require.Contains(t, skipped[0], "Insufficient privileges")
	}
}

// TestPlanEmulatorClock: under --emulator the plan's clock is the
// emulator's, as status's is: once "emulator advance" has moved it past
// the start of a series, plan warns that a new start date will not take
// effect, though the machine's clock has not got there.
func TestPlanEmulatorClock(t *testing.T) {
	seed, err := filepath.Abs(seedSpec)
	require.NoError(t, err)
	t.Chdir(t.TempDir())
	start := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 30)
	seedWithDefaultDeny(t, seed, "reviews", start)
	mustRun(t, "apply", "--emulator", "--auto-approve", "reviews")
	seedWithDefaultDeny(t, seed, "reviews", start.AddDate(0, 0, 1))

	var p diff.Plan
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "plan", "--emulator", "-o", "json", "reviews")), &p))
	require.Len(t, p.Changes, 1)
	require.Equal(t, diff.Update, p.Changes[0].Action)
	require.Empty(t, p.Warnings, "the series has not started")

	mustRun(t, "emulator", "advance", "60d")
	emuNow := strings.TrimSpace(mustRun(t, "emulator", "now"))
	out := mustRun(t, "plan", "--emulator", "-o", "json", "reviews")
	require.NoError(t, json.Unmarshal([]byte(out), &p))
	require.Len(t, p.Warnings, 1, out)
	require.Contains(t, p.Warnings[0], "the series started on "+start.Format("2006-01-02"))
	// The plan's time is the emulator's (to the minute: "now" ran first).
	created, err := time.Parse(time.RFC3339, p.CreatedAt)
	require.NoError(t, err)
	want, err := time.Parse(time.RFC3339, emuNow)
	require.NoError(t, err)
	require.WithinDuration(t, want, created, time.Minute)
}
