package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/diff"
)

// editFile replaces old with new in path, which must contain it.
func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(data), old)
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644))
}

// TestTargetedPlanAndApply runs --target end to end through Main against
// the emulator: a targeted plan and apply touch only their targets, deletes
// included, and a saved targeted plan applies only what it shows.
func TestTargetedPlanAndApply(t *testing.T) {
	examples, err := filepath.Abs("../../examples/reviews")
	require.NoError(t, err)
	for k, p := range docPages { // documented reads them after the Chdir
		abs, err := filepath.Abs(p)
		require.NoError(t, err)
		docPages[k] = abs
	}
	t.Chdir(t.TempDir())
	require.NoError(t, os.CopyFS("reviews", os.DirFS(examples)))
	code, out := docRun(t, nil, "apply", "--emulator", "--auto-approve", "reviews")
	require.Equal(t, exitOK, code, out)

	// The README's scenario: one file alone plans to delete the 7 others
	// (refused without --allow-delete); with --target it touches only its
	// own review.
	code, out = docRun(t, nil, "apply", "--emulator", "--auto-approve", "reviews/guests-m365-groups.yaml")
	require.Equal(t, exitError, code, out)
	require.Contains(t, out, "refusing to delete 7 definitions")
	code, out = docRun(t, nil, "apply", "--emulator", "--auto-approve", "--target", "guests-m365-quarterly", "reviews/guests-m365-groups.yaml")
	require.Equal(t, exitOK, code, out)
	require.Contains(t, out, "No changes. The targeted definitions match the configuration (1 definition up to date). Targeted plan: 7 changes outside the targets left out.")

	// Two edits and a removed file; target one of the edits.
	editFile(t, "reviews/guests-m365-groups.yaml", "Remove guests who no longer need access to your group.", "Remove guests who left.")
	editFile(t, "reviews/marketing-members.yaml", "Confirm that each person still works on Marketing projects.", "Confirm each person.")
	require.NoError(t, os.Remove("reviews/payroll-app-users.yaml"))
	code, stdout, stderr := docRunSplit(t, nil, "plan", "--emulator", "--target", "guests-*", "--out", "plan.json", "-o", "json", "reviews")
	require.Equal(t, exitOK, code, stderr)
	var p struct {
		Targets []string
		Partial bool
		Changes []struct{ Action, Name string }
		LeftOut []struct{ Action, Name string }
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &p))
	require.Equal(t, []string{"guests-*"}, p.Targets)
	require.True(t, p.Partial)
	var changed, left []string
	for _, c := range p.Changes {
		changed = append(changed, c.Action+" "+c.Name)
	}
	for _, c := range p.LeftOut {
		if c.Action != "noop" {
			left = append(left, c.Action+" "+c.Name)
		}
	}
	require.Equal(t, []string{"update guests-m365-quarterly"}, changed)
	require.ElementsMatch(t, []string{"update marketing-members-monthly", "delete payroll-app-users"}, left)

	// The text plan says it is partial and what it left out.
	code, out = docRun(t, nil, "plan", "--emulator", "--target", "guests-*", "reviews")
	require.Equal(t, exitOK, code, out)
	require.Contains(t, out, "~ update guests-m365-quarterly")
	require.Contains(t, out, "Note: this is a targeted plan (--target guests-*)")
	require.Contains(t, out, "Left out, not done: 2 changes outside the targets\n")
	require.Contains(t, out, "- delete payroll-app-users")
	documented(t, "safety", out, "Note: this is a targeted plan", "Left out, not done", "payroll-app-users", "marketing-members-monthly", "Targeted plan: 2 changes")
	require.Contains(t, out, "Plan: 0 to create, 1 to update, 0 to adopt, 0 to replace, 0 to delete; 0 unchanged. Targeted plan: 2 changes outside the targets left out.")

	// apply --plan applies the saved targeted plan: one update, no delete
	// (and so no need for --allow-delete).
	code, out = docRun(t, nil, "apply", "--emulator", "--plan", "plan.json")
	require.Equal(t, exitOK, code, out)
	require.Contains(t, out, "Apply complete: 1 done (of 1 changes).")
	code, out = docRun(t, nil, "apply", "--emulator", "--plan", "plan.json", "--target", "x")
	require.Equal(t, exitError, code, out)
	documented(t, "safety", out, "give either --plan or --target")

	// What was left out is still to do, and only that.
	code, stdout, _ = docRunSplit(t, nil, "plan", "--emulator", "-o", "json", "reviews")
	require.Equal(t, exitOK, code)
	var full diff.Plan
	require.NoError(t, json.Unmarshal([]byte(stdout), &full))
	changed = nil
	for _, c := range full.Changes {
		if c.Action != diff.NoOp {
			changed = append(changed, string(c.Action)+" "+c.Name)
		}
	}
	require.Equal(t, []string{"update marketing-members-monthly", "delete payroll-app-users"}, changed)
	require.False(t, full.Partial)

	// A targeted apply of a delete: only that one.
	require.NoError(t, os.WriteFile("targets.txt", []byte("# the retired review\npayroll-app-users   # gone from reviews/\n\n"), 0o644))
	code, out = docRun(t, nil, "apply", "--emulator", "--auto-approve", "--allow-delete", "--target-file", "targets.txt", "reviews")
	require.Equal(t, exitOK, code, out)
	require.Contains(t, out, "- delete payroll-app-users")
	require.Contains(t, out, "Apply complete: 1 done (of 1 changes).")
	code, out = docRun(t, nil, "plan", "--emulator", "reviews")
	require.Equal(t, exitOK, code, out)
	require.Contains(t, out, "Plan: 0 to create, 1 to update, 0 to adopt, 0 to replace, 0 to delete; 6 unchanged.")

	// A typo is an error with a suggestion, not an empty plan.
	code, out = docRun(t, nil, "plan", "--emulator", "--target", "marketing-members-montly", "reviews")
	require.Equal(t, exitError, code, out)
	require.Contains(t, out, `Error: --target "marketing-members-montly" matches no definition in the spec files or the tenant; did you mean "marketing-members-monthly"?`)
	documented(t, "safety", out, "matches no definition")
	code, out = docRun(t, nil, "plan", "--emulator", "--target", "[x", "reviews")
	require.Equal(t, exitError, code, out)
	require.Contains(t, out, `Error: --target "[x": not a name or a glob`)
}

func TestTargetFlagsNames(t *testing.T) {
	dir := t.TempDir()
	file := func(content string) string {
		p := filepath.Join(dir, "t"+strings.Repeat("x", len(content)%7)+".txt")
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	tests := []struct {
		name    string
		flags   targetFlags
		want    []string
		wantErr string
	}{
		{"flags", targetFlags{Targets: []string{"a", "b-*", "a"}}, []string{"a", "b-*"}, ""},
		{"file with comments", targetFlags{Targets: []string{"a"}, File: file("# reviews\n\nb  # the b one\r\n  c-?\n")}, []string{"a", "b", "c-?"}, ""},
		{"two on a line", targetFlags{File: file("a b\n")}, nil, ":1: one name or glob a line, not \"a b\""},
		{"only comments", targetFlags{File: file("# nothing\n")}, nil, "names no target"},
		{"missing file", targetFlags{File: filepath.Join(dir, "nope")}, nil, "reading the targets: open "},
		{"bad glob", targetFlags{Targets: []string{"a["}}, nil, `--target "a[": not a name or a glob`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.flags.names()
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}
