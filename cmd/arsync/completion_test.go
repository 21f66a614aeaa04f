package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/report"
)

// complete asks arsync, as a shell's completion script does, for the
// completions of the last word of args, and returns them with the directive
// line (":4" is ShellCompDirectiveNoFileComp).
func complete(t *testing.T, args ...string) []string {
	t.Helper()
	code, out, errOut := runArsync(t, append([]string{"__complete"}, args...)...)
	require.Equal(t, exitOK, code, errOut)
	return strings.Split(strings.TrimSuffix(out, "\n"), "\n")
}

// TestCompletion: flag values and review names complete, through Main.
func TestCompletion(t *testing.T) {
	t.Chdir(t.TempDir())
	docWrite(t, map[string]string{
		"arsync.yaml":          "paths: [reviews]\n",
		"reviews/guests.yaml":  docReview("guests-quarterly", "Guests, quarterly", "/groups/"+marketingID+"/transitiveMembers/microsoft.graph.user", 7),
		"reviews/sales.yaml":   docReview("sales-monthly", "Sales, monthly", "/groups/"+salesID+"/transitiveMembers/microsoft.graph.user", 7),
		"other/admins.yaml":    docReview("admins", "Admins", "/groups/"+salesID+"/transitiveMembers/microsoft.graph.user", 7),
		"other/arsync.yaml":    "paths: [.]\n",
		"reviews/broken.yaml":  "apiVersion: arsync/v1\nkind: AccessReviewDefinition\nmetadata: {name: broken}\n",
		"reviews/notes.txt":    "not a spec",
		"reviews/nested/x.yml": "",
	})
	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{"plan -o", []string{"plan", "-o", ""}, []string{"text", "markdown", "json", ":4"}},
		{"plan --output=m", []string{"plan", "--output", "m"}, []string{"markdown", ":4"}},
		{"status -o", []string{"status", "-o", ""}, []string{"text", "json", "csv", "markdown", ":4"}},
		{"decisions -o", []string{"decisions", "-o", ""}, append(append([]string{}, report.DecisionFormats...), ":4")},
		{"--auth", []string{"apply", "--auth", ""}, []string{"auto", "env", "workload-identity", "github-oidc", "azure-cli", "managed-identity", "device-code", ":4"}},
		{"--cloud", []string{"export", "--cloud", "us"}, []string{"usgov", "usgovdod", ":4"}},
		{"init --cloud", []string{"init", "--cloud", ""}, []string{"global", "usgov", "usgovdod", "china", ":4"}},
		{"--graph-endpoint", []string{"plan", "--graph-endpoint", ""}, []string{
			"https://graph.microsoft.com/v1.0", "https://graph.microsoft.us/v1.0", "https://dod-graph.microsoft.us/v1.0",
			"https://microsoftgraph.chinacloudapi.cn/v1.0", ":4"}},
		{"--color", []string{"validate", "--color", ""}, []string{"auto", "always", "never", ":4"}},
		{"--decision", []string{"decisions", "--decision", ""}, []string{"Approve", "Deny", "NotReviewed", "DontKnow", ":4"}},
		{"--decision D", []string{"decisions", "--decision", "D"}, []string{"Deny", "DontKnow", ":4"}},
		{"emulator decide --decision", []string{"emulator", "decide", "--decision", "N"}, []string{"NotReviewed", ":4"}},
		{"--review: the config's paths", []string{"decisions", "--review", ""},
			[]string{"guests-quarterly\tGuests, quarterly", "sales-monthly\tSales, monthly", ":4"}},
		{"--review g", []string{"decisions", "--review", "g"}, []string{"guests-quarterly\tGuests, quarterly", ":4"}},
		{"--review, another config", []string{"decisions", "--config", "other/arsync.yaml", "--review", ""}, []string{"admins\tAdmins", ":4"}},
		{"emulator decide --review", []string{"emulator", "decide", "--review", "s"}, []string{"sales-monthly\tSales, monthly", ":4"}},
		{"plan --target", []string{"plan", "--target", "g"}, []string{"guests-quarterly\tGuests, quarterly", ":4"}},
		{"apply --target, after another", []string{"apply", "--target", "guests-quarterly", "--target", "s"}, []string{"sales-monthly\tSales, monthly", ":4"}},
		{"spec paths", []string{"plan", ""}, []string{"yaml", "yml", ":8"}},
		{"apply: spec paths or a saved plan", []string{"apply", ""}, []string{"yaml", "yml", "json", ":8"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, complete(t, tt.args...))
		})
	}
}

// TestCompletionNeverFails: a missing or broken config or spec directory
// completes no review names, and says nothing on stdout but the directive.
func TestCompletionNeverFails(t *testing.T) {
	t.Chdir(t.TempDir())
	require.Equal(t, []string{":4"}, complete(t, "decisions", "--config", "missing.yaml", "--review", ""))
	require.NoError(t, os.WriteFile("arsync.yaml", []byte("paths: [nowhere]\n"), 0o644))
	require.Equal(t, []string{":4"}, complete(t, "decisions", "--review", ""))
	require.NoError(t, os.WriteFile("arsync.yaml", []byte("paths: [\n"), 0o644))
	require.Equal(t, []string{":4"}, complete(t, "decisions", "--review", ""))
}

// TestDecisionValues: the values --decision completes are the ones it
// accepts.
func TestDecisionValues(t *testing.T) {
	for _, d := range decisionValues {
		got, err := report.CanonicalDecision(d)
		require.NoError(t, err)
		require.Equal(t, d, got)
	}
}
