package main

// Habits from other tools, through Main: Terraform's single-dash flags and
// its "apply plan.json", the advice after plan --out.

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/emulator/emulatortest"
)

// TestSingleDashLongFlag: "plan -out plan.json" ends before anything runs,
// with the two-dash form, instead of "unknown output format "ut"".
func TestSingleDashLongFlag(t *testing.T) {
	t.Chdir(t.TempDir())
	code, out, errOut := runArsync(t, "plan", "-out", "plan.json", "reviews")
	require.Equal(t, exitError, code)
	require.Empty(t, out)
	require.Equal(t, "Error: -out: arsync's long flags take two dashes: --out plan.json\n", errOut)
	_, err := os.Stat("plan.json")
	require.ErrorIs(t, err, os.ErrNotExist)

	code, _, errOut = runArsync(t, "apply", "-auto-approve", "--emulator", "reviews")
	require.Equal(t, exitError, code)
	require.Equal(t, "Error: -auto-approve: arsync's long flags take two dashes: --auto-approve\n", errOut)
	_, err = os.Stat(emulatorStateDir)
	require.ErrorIs(t, err, os.ErrNotExist, "the emulator did not start")

	// A --emulator before the command took the command for its value.
	code, _, errOut = runArsync(t, "--emulator", "plan", "reviews")
	require.Equal(t, exitError, code)
	require.Equal(t, "Error: --emulator goes after the command: arsync plan --emulator\n", errOut)
	// Sign-in flags with a value still work there, as they always did.
	code, _, errOut = runArsync(t, "--graph-endpoint", "https://graph.microsoft.com/v1.0", "--emulator=true", "plan")
	require.Equal(t, exitError, code)
	require.Equal(t, "Error: --emulator cannot be combined with --graph-endpoint: the emulator is its own endpoint and needs no sign-in; drop one\n", errOut)

	code, _, errOut = runArsync(t, "-version")
	require.Equal(t, exitError, code)
	require.Equal(t, "Error: -version: arsync's long flags take two dashes: --version\n", errOut)
}

// TestSavedPlanHabits: plan --out says where the plan went and how to apply
// it; "apply plan.json" applies it as --plan does; a saved plan where spec
// files go is never read as YAML.
func TestSavedPlanHabits(t *testing.T) {
	run := emulatortest.New(t, emulator.Options{Seed: 1})
	dir := reviewsDir(t, "alpha", "bravo")
	saved := filepath.Join(t.TempDir(), "plan.json")

	code, plain, errOut := applyCLI(t, run, "{}", nil, "plan", dir)
	require.Equal(t, exitOK, code, errOut)
	code, out, errOut := applyCLI(t, run, "{}", nil, "plan", "--out", saved, dir)
	require.Equal(t, exitOK, code, errOut)
	require.Equal(t, plain, out, "stdout is the same with --out")
	require.Equal(t, "Saved the plan to "+saved+". To apply exactly this plan: arsync apply --plan "+saved+"\n", errOut)

	// Where spec paths go: plan and validate refuse it, with the way to apply it.
	refusal := "Error: " + saved + " is a plan saved by arsync plan --out, not a spec file; to apply exactly that plan: arsync apply --plan " + saved + "\n"
	code, out, errOut = applyCLI(t, run, "{}", nil, "plan", saved)
	require.Equal(t, exitError, code)
	require.Empty(t, out)
	require.Equal(t, refusal, errOut)
	code, _, errOut = runArsync(t, "validate", dir, saved)
	require.Equal(t, exitError, code)
	require.Equal(t, refusal, errOut)

	// With spec paths or --plan: one or the other.
	code, _, errOut = applyCLI(t, run, "{}", nil, "apply", saved, dir)
	require.Equal(t, exitError, code)
	require.Equal(t, "Error: "+saved+" is a saved plan: apply it alone (arsync apply --plan "+saved+"), not with spec paths\n", errOut)
	code, _, errOut = applyCLI(t, run, "{}", nil, "apply", "--plan", saved, saved)
	require.Equal(t, exitError, code)
	require.Equal(t, "Error: give either --plan or spec paths, not both: a saved plan already says what to apply\n", errOut)
	require.Empty(t, writeRequests(run))

	// Alone: applied exactly as with --plan, without asking.
	writeReview(t, dir, "charlie", marketingID, 7)
	code, out, errOut = applyCLI(t, run, "{}", nil, "apply", saved)
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, errOut, saved+" is a plan saved by arsync plan --out: applying it as with --plan "+saved+"\n")
	require.Contains(t, out, "Apply complete: 2 done (of 2 changes).")
	require.NotContains(t, out, "charlie")

	// An edited saved plan gets the saved plan's refusal, not YAML errors.
	require.NoError(t, os.WriteFile(saved, []byte(`{"formatVersion": 1, "changes": []}`), 0o644))
	code, _, errOut = applyCLI(t, run, "{}", nil, "apply", saved)
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, "the saved plan was edited after arsync plan wrote it")
	require.NotContains(t, errOut, "apiVersion")

	// A spec written as JSON is still a spec.
	spec := filepath.Join(t.TempDir(), "review.json")
	require.NoError(t, os.WriteFile(spec, []byte(`{"apiVersion": "arsync/v1"}`), 0o644))
	code, _, errOut = runArsync(t, "validate", spec)
	require.Equal(t, exitError, code)
	require.NotContains(t, errOut, "saved")
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"plan.json":            "plan.json",
		"/tmp/x-1/plan_2.json": "/tmp/x-1/plan_2.json",
		`C:\plans\plan.json`:   `C:\plans\plan.json`,
		"my plan.json":         "'my plan.json'",
		"it's.json":            `'it'\''s.json'`,
		"$HOME/plan.json":      "'$HOME/plan.json'",
	} {
		require.Equal(t, want, shellQuote(in), in)
	}
}

// TestColorFlag: --color always colours a plan that is not on a terminal,
// FORCE_COLOR too, and --color never wins over FORCE_COLOR.
func TestColorFlag(t *testing.T) {
	t.Chdir(t.TempDir())
	dir := reviewsDir(t, "alpha")
	const esc = "\x1b["
	code, out, errOut := runArsync(t, "plan", "--emulator", "--color", "always", dir)
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, esc)
	code, out, _ = runArsync(t, "plan", "--emulator", dir)
	require.Equal(t, exitOK, code)
	require.NotContains(t, out, esc)

	t.Setenv("FORCE_COLOR", "1")
	_, out, _ = runArsync(t, "plan", "--emulator", dir)
	require.Contains(t, out, esc)
	_, out, _ = runArsync(t, "plan", "--emulator", "--color=never", dir)
	require.NotContains(t, out, esc)

	code, _, errOut = runArsync(t, "validate", "--color", "sometimes", dir)
	require.Equal(t, exitError, code)
	require.Equal(t, "Error: --color \"sometimes\": use auto, always or never\n", errOut)
}

// TestTroubleshootingHabits keeps the command-line messages quoted in
// docs/troubleshooting.md#the-command-line true (see docs_test.go).
func TestTroubleshootingHabits(t *testing.T) {
	for k, p := range docPages { // as TestTroubleshootingMessages: before leaving the package's directory
		abs, err := filepath.Abs(p)
		require.NoError(t, err)
		docPages[k] = abs
	}
	t.Chdir(t.TempDir())
	docEnv(t, nil)
	docWrite(t, map[string]string{"reviews/r.yaml": docReview("all-users", "All users", docNoRefScope, 7)})
	for _, args := range [][]string{
		{"plan", "-out", "plan.json", "reviews"},
		{"apply", "-auto-approve", "reviews"},
		{"plan", "-no-color", "reviews"},
		{"plan", "--emulator", "--graph-endpoint", "https://graph.microsoft.com/v1.0", "reviews"},
		{"validate", "--emulator", "reviews"},
		{"--emulator", "plan", "reviews"},
		{"validate", "--color", "sometimes", "reviews"},
	} {
		code, out := docRun(t, nil, args...)
		require.Equal(t, exitError, code)
		documented(t, "troubleshooting", out, "Error:")
	}

	code, out := docRun(t, nil, "plan", "--emulator", "--out", "plan.json", "reviews")
	require.Equal(t, exitOK, code, out)
	for _, args := range [][]string{{"plan", "plan.json"}, {"apply", "plan.json", "reviews"}} {
		code, out := docRun(t, nil, args...)
		require.Equal(t, exitError, code)
		documented(t, "troubleshooting", out, "Error:")
	}
	code, out = docRun(t, nil, "apply", "--emulator", "plan.json")
	require.Equal(t, exitOK, code, out)
	documented(t, "troubleshooting", out, "is a plan saved by")
}

func TestIsSavedPlan(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name, content string
		want          bool
	}{
		{"a plan", `{"formatVersion": 1, "changes": []}`, true},
		{"digest after other members", `{"changes": [{"a": {"b": [1, 2]}}], "digest": "sha256:x"}`, true},
		{"cut short after formatVersion", `{"formatVersion": 1, "chan`, true},
		{"a spec as JSON", `{"apiVersion": "arsync/v1", "kind": "AccessReviewDefinition"}`, false},
		{"formatVersion nested", `{"spec": {"formatVersion": 1}}`, false},
		{"flow YAML", `{apiVersion: arsync/v1}`, false},
		{"YAML", "apiVersion: arsync/v1\n", false},
		{"an array", `[{"formatVersion": 1}]`, false},
		{"empty", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name)
			require.NoError(t, os.WriteFile(p, []byte(tt.content), 0o644))
			require.Equal(t, tt.want, isSavedPlan(p))
		})
	}
	require.False(t, isSavedPlan(dir), "a directory")
	require.False(t, isSavedPlan(filepath.Join(dir, "missing")))
}
