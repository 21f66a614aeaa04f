package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/emuctl"
	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/emulator/emulatortest"
	"github.com/arsync/arsync/pkg/graph"
)

// planJSON runs plan -o json and decodes it.
func planJSON(t *testing.T, run *emulator.Running, dir string) *diff.Plan {
	t.Helper()
	code, out, errOut := runCLI(t, run, "plan", "-o", "json", dir)
	require.Equal(t, exitOK, code, errOut)
	var p diff.Plan
	require.NoError(t, json.Unmarshal([]byte(out), &p))
	return &p
}

func changeNamed(t *testing.T, p *diff.Plan, name string) diff.Change {
	t.Helper()
	for _, c := range p.Changes {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no change for %s in the plan", name)
	return diff.Change{}
}

// TestRenameKeepsHistory: renaming metadata.name with the old name in
// metadata.previousNames updates the running review with one PUT; its id,
// its instances and the decisions made in them stay.
func TestRenameKeepsHistory(t *testing.T) {
	run, dir := reviewsEmulator(t)
	id, _, err := emuctl.FindReview(run.Server, "guests-m365-quarterly")
	require.NoError(t, err)
	c := clientFor(t, run)
	instancesBefore := 0
	for _, err := range c.ListInstances(context.Background(), id, nil) {
		require.NoError(t, err)
		instancesBefore++
	}
	require.Positive(t, instancesBefore)

	file := filepath.Join(dir, "guests.yaml")
	src, err := os.ReadFile(file)
	require.NoError(t, err)
	renamed := strings.Replace(string(src), "  name: guests-m365-quarterly\n", "  name: guests-quarterly\n  previousNames: [guests-m365-quarterly]\n", 1)
	require.NotEqual(t, string(src), renamed, "the seed changed; update this test")
	require.NoError(t, os.WriteFile(file, []byte(renamed), 0o644))

	code, out, errOut := runCLI(t, run, "plan", dir)
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "~ update guests-quarterly")
	require.Contains(t, out, "(renamed from guests-m365-quarterly)")
	require.Contains(t, out, "Plan: 0 to create, 1 to update, 0 to adopt, 0 to replace, 0 to delete; 0 unchanged.")
	p := planJSON(t, run, dir)
	require.Equal(t, "guests-m365-quarterly", changeNamed(t, p, "guests-quarterly").RenamedFrom)
	code, out, errOut = runCLI(t, run, "plan", "-o", "markdown", dir)
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "<b>guests-quarterly</b>: Guest access to Microsoft 365 groups (renamed from guests-m365-quarterly)")

	run.Server.ResetRequests()
	code, out, errOut = runCLI(t, run, "apply", "--auto-approve", dir)
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	require.Equal(t, []string{"PUT /" + id}, writeRequests(run), "one PUT rewrites the marker")

	newID, _, err := emuctl.FindReview(run.Server, "guests-quarterly")
	require.NoError(t, err)
	require.Equal(t, id, newID, "the definition keeps its id")
	_, _, err = emuctl.FindReview(run.Server, "guests-m365-quarterly")
	require.Error(t, err, "no definition carries the old name")
	instancesAfter := 0
	for _, err := range c.ListInstances(context.Background(), id, nil) {
		require.NoError(t, err)
		instancesAfter++
	}
	require.Equal(t, instancesBefore, instancesAfter, "the instances stay")
	code, out, errOut = runCLI(t, run, "decisions", "--review", "guests-quarterly", "-o", "csv")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, upnSam, "the decisions stay, under the new name")

	code, out, errOut = runCLI(t, run, "plan", "--detailed-exitcode", dir)
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
}

// TestChangedOutsideArsync: right after apply nothing is flagged (the
// multi-stage and recipients examples included); an edit made through
// Graph's API is flagged with its fields, a YAML edit is not; once applied,
// nothing is flagged again.
func TestChangedOutsideArsync(t *testing.T) {
	run := emulatortest.New(t, emulator.Options{Seed: 1})
	dir := t.TempDir()
	entries, err := os.ReadDir("../../examples/reviews")
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("../../examples/reviews", e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644))
	}
	code, out, errOut := runCLI(t, run, "apply", "--auto-approve", dir)
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)

	noneFlagged := func() {
		t.Helper()
		code, out, errOut := runCLI(t, run, "plan", "-o", "json", "--detailed-exitcode", dir)
		require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
		require.NotContains(t, out, "changedOutside")
	}
	noneFlagged()

	// Every definition's marker records what was written.
	c := clientFor(t, run)
	for d, err := range c.ListDefinitions(context.Background(), nil) {
		require.NoError(t, err)
		fields, known := graph.ChangedSinceWritten(*d)
		require.True(t, known, "%s: %s", d.DisplayName, d.DescriptionForAdmins)
		require.Empty(t, fields, d.DisplayName)
	}

	// In the tenant: the guest review's reviewers' description and
	// reminders, through the API as the portal would.
	guestsID, _, err := emuctl.FindReview(run.Server, "guests-m365-quarterly")
	require.NoError(t, err)
	d, err := c.GetDefinition(context.Background(), guestsID)
	require.NoError(t, err)
	d.DescriptionForReviewers = "Edited in the portal."
	d.Settings.ReminderNotificationsEnabled = ptrBool(!*d.Settings.ReminderNotificationsEnabled)
	require.NoError(t, c.UpdateDefinition(context.Background(), guestsID, d))
	// In the repository: the marketing review's display name.
	file := filepath.Join(dir, "marketing-members.yaml")
	src, err := os.ReadFile(file)
	require.NoError(t, err)
	edited := strings.Replace(string(src), "displayName: Marketing group membership", "displayName: Marketing group membership (monthly)", 1)
	require.NotEqual(t, string(src), edited)
	require.NoError(t, os.WriteFile(file, []byte(edited), 0o644))

	p := planJSON(t, run, dir)
	guests := changeNamed(t, p, "guests-m365-quarterly")
	require.Equal(t, diff.Update, guests.Action)
	require.True(t, guests.ChangedOutside)
	require.Equal(t, []string{"descriptionForReviewers", "settings"}, guests.ChangedOutsideFields)
	marketing := changeNamed(t, p, "marketing-members-monthly")
	require.Equal(t, diff.Update, marketing.Action)
	require.False(t, marketing.ChangedOutside, "a YAML edit is not a change outside arsync")

	code, out, errOut = runCLI(t, run, "plan", dir)
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "Changed outside arsync (edited in the tenant since arsync last wrote them): 1\n    guests-m365-quarterly  \"Guest access to Microsoft 365 groups\"  id="+guestsID+": descriptionForReviewers, settings\n")
	require.Contains(t, out, "# changed outside arsync since arsync last wrote it (descriptionForReviewers, settings); this plan undoes that")
	code, out, errOut = runCLI(t, run, "plan", "-o", "markdown", dir)
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "> [!CAUTION]\n> **Changed outside arsync (edited in the tenant since arsync last wrote them): 1**\n")

	code, out, errOut = runCLI(t, run, "apply", "--auto-approve", dir)
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	noneFlagged()
}

func ptrBool(b bool) *bool { return &b }
