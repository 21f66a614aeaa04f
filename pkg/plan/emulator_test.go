package plan_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/golden"
	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/emulator/emulatortest"
	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/graphclient"
	"github.com/arsync/arsync/pkg/plan"
)

// startEmulator starts a test emulator and returns it with a Graph client
// signed in to it.
func startEmulator(t *testing.T, opts emulator.Options) (*emulator.Running, *graphclient.Client) {
	t.Helper()
	run := emulatortest.New(t, opts)
	c, err := graphclient.New(graphclient.Options{BaseURL: run.URL, Credential: graphclient.StaticToken(run.Token)})
	require.NoError(t, err)
	return run, c
}

// copyExamples copies examples/reviews to a new directory and returns it.
func copyExamples(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "reviews")
	entries, err := os.ReadDir("../../examples/reviews")
	require.NoError(t, err)
	for _, e := range entries {
		writeFile(t, filepath.Join(dir, e.Name()), readFile(t, filepath.Join("../../examples/reviews", e.Name())))
	}
	return dir
}

// edit replaces old with repl, once, in the file at path.
func edit(t *testing.T, path, old, repl string) {
	t.Helper()
	s := readFile(t, path)
	require.Contains(t, s, old, "%s changed; update this test", path)
	writeFile(t, path, strings.Replace(s, old, repl, 1))
}

// applyCreates creates every definition p creates, as apply would.
func applyCreates(t *testing.T, c *graphclient.Client, p *diff.Plan) {
	t.Helper()
	for _, ch := range p.Changes {
		require.Equal(t, diff.Create, ch.Action)
		_, err := c.CreateDefinition(context.Background(), ch.After)
		require.NoError(t, err)
	}
}

// scenario is a tenant with the examples applied, then specs that change
// them every way a plan shows: an update whose reviewer and start date
// change (labels on both sides, the "started on" warning), a replace, a
// delete, an adoption and an unmanaged definition.
func scenario(t *testing.T, opts emulator.Options) (*emulator.Running, *graphclient.Client, string) {
	t.Helper()
	run, c := startEmulator(t, opts)
	dir := copyExamples(t)
	first, err := plan.Make(t.Context(), c, loadSpecs(t, dir), plan.Options{Now: run.Server.Now})
	require.NoError(t, err)
	require.Len(t, first.Changes, 8)
	applyCreates(t, c, first)

	yes := true
	for _, name := range []string{"Legacy review", "Adopt me"} {
		_, err := c.CreateDefinition(t.Context(), &graph.Definition{
			DisplayName: name,
			Scope:       &graph.Scope{ODataType: graph.TypeQueryScope, Query: "/groups/" + marketingID + "/members", QueryType: "MicrosoftGraph"},
			Reviewers:   []graph.ReviewerScope{{Query: "/users/" + aliceID, QueryType: "MicrosoftGraph"}},
			Settings: &graph.ScheduleSettings{MailNotificationsEnabled: &yes, Recurrence: &graph.PatternedRecurrence{
				Pattern: &graph.RecurrencePattern{Type: "weekly", Interval: 1},
				Range:   &graph.RecurrenceRange{Type: "noEnd", StartDate: "2026-03-02"}}},
		})
		require.NoError(t, err)
	}

	mm := filepath.Join(dir, "marketing-members.yaml")
	edit(t, mm, "- user: alice@contoso.com ", "- user: bob@contoso.com ")
	edit(t, mm, `startDate: "2026-02-01"`, `startDate: "2026-02-02"`)
	edit(t, filepath.Join(dir, "project-guests.yaml"), "${group:Sales}/transitive", "${group:Marketing}/transitive")
	require.NoError(t, os.Remove(filepath.Join(dir, "payroll-app-users.yaml")))
	writeFile(t, filepath.Join(dir, "adopt-me.yaml"), `apiVersion: arsync/v1
kind: AccessReviewDefinition
metadata:
  name: adopt-me
spec:
  displayName: Adopt me
  scope:
    query: /groups/${group:Marketing}/members
  reviewers:
    - user: alice@contoso.com
  settings:
    instanceDurationInDays: 3
    recurrence:
      pattern: {type: weekly, interval: 1}
      range: {type: noEnd, startDate: 2026-03-02}
`)
	return run, c, dir
}

// TestMakeGolden: what Make plans for the scenario, rendered as plan -o
// text and -o json print it, with the tenant and endpoint --emulator
// records. "arsync plan --emulator" printed the same before the pipeline
// moved here (the JSON's createdAt aside: it read the machine's clock).
func TestMakeGolden(t *testing.T) {
	t.Parallel()
	clock := func() time.Time { return testNow }
	run, c, dir := scenario(t, emulator.Options{Seed: 1, Clock: clock})
	p, err := plan.Make(t.Context(), c, loadSpecs(t, dir), plan.Options{
		Now: run.Server.Now, TenantID: "emulator", GraphEndpoint: "emulator",
	})
	require.NoError(t, err)
	var text, js bytes.Buffer
	require.NoError(t, diff.RenderText(&text, p, diff.TextOptions{}))
	require.NoError(t, diff.RenderJSON(&js, p))
	// Sources name the temporary directory, and so the digest covers it.
	digest := regexp.MustCompile(`"digest": "sha256:[0-9a-f]{64}"`)
	mask := func(b []byte) []byte {
		s := strings.ReplaceAll(string(b), dir+string(filepath.Separator), "reviews/")
		return []byte(digest.ReplaceAllLiteralString(s, `"digest": "sha256:(of the unmasked file)"`))
	}
	golden.Assert(t, "testdata/scenario.txt.golden", mask(text.Bytes()))
	golden.Assert(t, "testdata/scenario.json.golden", mask(js.Bytes()))
}

// TestMakeClockFromSession: the warning about a started series depends on
// the session's clock, not the machine's: with the emulator's clock before
// the series started there is none, after it there is.
func TestMakeClockFromSession(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		now     time.Time
		warning bool
	}{
		{"emulator in the past", time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC), false},
		{"emulator in the future", time.Date(2031, 1, 15, 0, 0, 0, 0, time.UTC), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			run, c := startEmulator(t, emulator.Options{Seed: 1, Clock: func() time.Time { return tt.now }})
			dir := filepath.Join(t.TempDir(), "reviews")
			writeFile(t, filepath.Join(dir, "review.yaml"), readFile(t, "testdata/fake/review.yaml"))
			first, err := plan.Make(t.Context(), c, loadSpecs(t, dir), plan.Options{Now: run.Server.Now})
			require.NoError(t, err)
			applyCreates(t, c, first)
			edit(t, filepath.Join(dir, "review.yaml"), "startDate: 2026-02-01", "startDate: 2026-02-02")

			p, err := plan.Make(t.Context(), c, loadSpecs(t, dir), plan.Options{Now: run.Server.Now})
			require.NoError(t, err)
			require.Equal(t, tt.now.Format(time.RFC3339), p.CreatedAt)
			require.Len(t, p.Changes, 1)
			require.Equal(t, diff.Update, p.Changes[0].Action)
			if tt.warning {
				require.Len(t, p.Warnings, 1)
				require.Contains(t, p.Warnings[0], "the series started on 2026-02-01")
			} else {
				require.Empty(t, p.Warnings)
			}
		})
	}
}
