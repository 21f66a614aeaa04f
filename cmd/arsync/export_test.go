package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/emulator/emulatortest"
	"github.com/arsync/arsync/pkg/graph"
)

// createByHand posts the documented Graph request bodies (docs/graph-behaviour.md#documented-payloads)
// as a person with the portal or a script would: without arsync's marker.
func createByHand(t *testing.T, run *emulator.Running) int {
	t.Helper()
	files, err := filepath.Glob("../../pkg/spec/testdata/export/graph/*-request.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	c := clientFor(t, run)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		var d graph.Definition
		require.NoError(t, json.Unmarshal(raw, &d))
		_, err = c.CreateDefinition(context.Background(), &d)
		require.NoError(t, err, f)
	}
	return len(files)
}

// TestExportAdoptApply is the adoption path of issue 7 through the CLI:
// definitions made by hand -> export --all -> plan shows only adopt ->
// apply -> plan shows no changes.
func TestExportAdoptApply(t *testing.T) {
	run := emulatortest.New(t, emulator.Options{Seed: 3})
	n := createByHand(t, run)
	dir := filepath.Join(t.TempDir(), "reviews")

	code, out, errOut := runCLI(t, run, "export", "--all", "--out", dir)
	require.Equal(t, exitOK, code, errOut)
	// 20.2 auto-applies a default Deny: the file loads, with plan's warning.
	// Two documented definitions have managers or a group's owners as
	// reviewers and no fallback reviewer: a warning each.
	require.Equal(t, 3, strings.Count(errOut, "\n"), errOut)
	require.Contains(t, errOut, "access-review.yaml:15:7: warning: spec.reviewers are each reviewed user's manager")
	require.Contains(t, errOut, `one-time-review-of-guests-in-the-sales-group.yaml:15:7: warning: spec.reviewers are the owners of group "Sales"`)
	require.Contains(t, errOut, "review-inactive-guests-on-teams.yaml:27:22: warning: spec.settings.autoApplyDecisionsEnabled with defaultDecision Deny")
	require.Contains(t, out, "wrote "+filepath.Join(dir, "test-create.yaml")+"  (adopted by the next apply; \"Test create\", id ")
	require.Contains(t, out, "Exported 4 definition(s) to "+dir+": 0 managed, 4 to adopt.")
	written, err := os.ReadFile(filepath.Join(dir, "test-create.yaml"))
	require.NoError(t, err)
	require.Contains(t, string(written), "query: /groups/${group:Finance}/transitiveMembers/microsoft.graph.user\n")
	require.Contains(t, string(written), "- user: alice@contoso.com\n")

	code, out, errOut = runCLI(t, run, "plan", "--detailed-exitcode", dir)
	require.Equal(t, exitChanges, code, errOut)
	require.Contains(t, out, "Plan: 0 to create, 0 to update, 4 to adopt, 0 to replace, 0 to delete")
	require.Equal(t, n, strings.Count(out, "<= adopt "), out)

	code, out, errOut = runCLI(t, run, "apply", "--auto-approve", dir)
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)

	code, out, errOut = runCLI(t, run, "plan", "--detailed-exitcode", dir)
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	require.Contains(t, out, "No changes.")

	// Managed now. The files are there: without --force nothing is written.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "access-review.yaml"), []byte("# edited\n"), 0o644))
	code, _, errOut = runCLI(t, run, "export", "--out", dir)
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, "Error: 4 files already exist: "+filepath.Join(dir, "access-review.yaml")+", ")
	require.Contains(t, errOut, "nothing was written (overwrite with --force)")
	edited, err := os.ReadFile(filepath.Join(dir, "access-review.yaml"))
	require.NoError(t, err)
	require.Equal(t, "# edited\n", string(edited))

	code, out, errOut = runCLI(t, run, "export", "--out", dir, "--force")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "4 managed, 0 to adopt.")
	again, err := os.ReadFile(filepath.Join(dir, "test-create.yaml"))
	require.NoError(t, err)
	require.NotContains(t, string(again), "Not managed yet")
	require.NotContains(t, string(again), "[arsync:")

	code, out, errOut = runCLI(t, run, "plan", "--detailed-exitcode", dir)
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
}

func TestExportNothingManaged(t *testing.T) {
	run := emulatortest.New(t, emulator.Options{Seed: 3})
	n := createByHand(t, run)
	dir := t.TempDir()

	code, out, errOut := runCLI(t, run, "export", "--out", dir)
	require.Equal(t, exitOK, code, errOut)
	require.Empty(t, out)
	require.Contains(t, errOut, "No definition carries arsync's marker; nothing was written. --all exports the 4 unmanaged one(s).")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries)
	require.Equal(t, 4, n)
}

func TestExportEmptyTenant(t *testing.T) {
	run := emulatortest.New(t, emulator.Options{Seed: 3})
	code, out, errOut := runCLI(t, run, "export", "--all", "--out", t.TempDir())
	require.Equal(t, exitOK, code, errOut)
	require.Empty(t, out)
	require.Contains(t, errOut, "The tenant has no access review definitions; nothing was written.")
}

// TestExportBrokenDefinition: a live definition that breaks a rule plan
// checks is still written, with its problems on stderr and exit code 1.
func TestExportBrokenDefinition(t *testing.T) {
	run := emulatortest.New(t, emulator.Options{Seed: 3})
	d := graph.Definition{
		DisplayName:             "Long note",
		DescriptionForReviewers: strings.Repeat("x", 300),
		Scope:                   &graph.Scope{ODataType: graph.TypeQueryScope, Query: "/groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/members", QueryType: "MicrosoftGraph"},
		Settings: &graph.ScheduleSettings{Recurrence: &graph.PatternedRecurrence{
			Pattern: &graph.RecurrencePattern{Type: "weekly", Interval: 1},
			Range:   &graph.RecurrenceRange{Type: "noEnd", StartDate: "2026-01-05"},
		}},
	}
	_, err := clientFor(t, run).CreateDefinition(context.Background(), &d)
	require.NoError(t, err)
	dir := t.TempDir()

	code, out, errOut := runCLI(t, run, "export", "--all", "--out", dir)
	require.Equal(t, exitError, code)
	require.Contains(t, out, "wrote "+filepath.Join(dir, "long-note.yaml"))
	require.Contains(t, errOut, filepath.Join(dir, "long-note.yaml")+":")
	require.Contains(t, errOut, "256")
	require.Contains(t, errOut, "Error: 1 exported file(s) break rules that plan checks (see above); edit them before planning")
	_, err = os.Stat(filepath.Join(dir, "long-note.yaml"))
	require.NoError(t, err)
}

func TestExportRejectsArguments(t *testing.T) {
	run := emulatortest.New(t, emulator.Options{Seed: 3})
	code, _, errOut := runCLI(t, run, "export", "reviews/")
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, "unknown command")
}
