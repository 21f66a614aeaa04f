package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
  scope: {query: /users}
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
