package ghcomment

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/golden"
	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/spec"
)

var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

var testMeta = Meta{
	Key:    "contoso.onmicrosoft.com",
	Commit: "4f2a9c1e0b7d5a3c8e6f1b2d4a6c8e0f1a3b5c7d",
	RunURL: "https://github.com/contoso/access-reviews/actions/runs/123456789",
}

// allSixPlan plans testdata/allsix: YAML specs against live definitions
// as Graph returns them, giving one change of every action plus an
// unmanaged definition.
func allSixPlan(t *testing.T) *diff.Plan {
	t.Helper()
	res, err := spec.Load("testdata/allsix/reviews")
	require.NoError(t, err)
	require.False(t, res.Diagnostics.HasErrors(), "%s", res.Diagnostics)
	var desired []diff.Desired
	for _, d := range res.Definitions {
		g, err := d.ToGraph(nil) // the fixtures use ids, not names
		require.NoError(t, err)
		src := filepath.ToSlash(d.Source.File)
		src = "reviews/" + filepath.Base(src) + fmt.Sprintf(":%d", d.Source.Line)
		desired = append(desired, diff.Desired{Name: d.Name, Source: src, Definition: g})
	}
	data, err := os.ReadFile("testdata/allsix/live.json")
	require.NoError(t, err)
	var live struct {
		Value []graph.Definition `json:"value"`
	}
	require.NoError(t, json.Unmarshal(data, &live))
	p, err := diff.Compute(desired, live.Value, diff.Options{
		Now:           testNow,
		TenantID:      "contoso.onmicrosoft.com",
		GraphEndpoint: "https://graph.microsoft.com/v1.0",
	})
	require.NoError(t, err)
	return p
}

func TestPlanBodyAllSixActions(t *testing.T) {
	p := allSixPlan(t)
	got := map[diff.Action]string{}
	for _, c := range p.Changes {
		got[c.Action] = c.Name
	}
	require.Equal(t, map[diff.Action]string{
		diff.Create:  "new-review",
		diff.Update:  "tuned",
		diff.Adopt:   "portal-made",
		diff.Replace: "rescoped",
		diff.Delete:  "retired",
		diff.NoOp:    "steady",
	}, got, "the fixture must plan every action once")
	require.Len(t, p.Unmanaged, 1)

	body, err := PlanBody(p, testMeta)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(body, Marker(testMeta.Key)+"\n"))
	golden.Assert(t, "testdata/all-six.md.golden", []byte(body))
}

func TestPlanBodyNoChanges(t *testing.T) {
	body, err := PlanBody(&diff.Plan{FormatVersion: diff.FormatVersion, Summary: diff.Summary{NoOp: 3},
		Changes: []diff.Change{
			{Action: diff.NoOp, Name: "a", ID: "1", DisplayName: "A"},
			{Action: diff.NoOp, Name: "b", ID: "2", DisplayName: "B"},
			{Action: diff.NoOp, Name: "c", ID: "3", DisplayName: "C"},
		}}, Meta{Key: "8f1e2a3b-0000-4000-8000-000000000001"})
	require.NoError(t, err)
	golden.Assert(t, "testdata/no-changes.md.golden", []byte(body))
}

func TestFailureBody(t *testing.T) {
	log := "reviews/guests.yaml:12:5: unknown field \"instanceDurationInDay\" in spec.settings; did you mean \"instanceDurationInDays\"?\n" +
		"reviews/guests.yaml:20:7: warning: spec.settings.defaultDecision Deny has no effect unless defaultDecisionEnabled is true\n" +
		"\x1b[31mError:\x1b[0m 1 file: 1 error, 1 warning\n" +
		"a line with a fence ``` inside\n"
	golden.Assert(t, "testdata/failure.md.golden", []byte(FailureBody(log, testMeta)))
	require.Contains(t, FailureBody("", testMeta), "arsync printed nothing")
}

// TestPlanBodyTooLong: a plan longer than a comment keeps its summary and
// whole sections, says what it left out, and fits GitHub's limit.
func TestPlanBodyTooLong(t *testing.T) {
	p := &diff.Plan{FormatVersion: diff.FormatVersion}
	for i := range 400 {
		name := fmt.Sprintf("review-%03d", i)
		p.Changes = append(p.Changes, diff.Change{
			Action: diff.Create, Name: name, DisplayName: "Review " + name,
			Source: "reviews/" + name + ".yaml:2",
			Fields: []diff.FieldChange{
				{Path: "displayName", After: "Review " + name},
				{Path: "descriptionForReviewers", After: strings.Repeat("Please check every member. ", 9)},
				{Path: "scope.query", After: "/groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/transitiveMembers/microsoft.graph.user"},
			},
			After: &graph.Definition{DisplayName: "Review " + name},
		})
	}
	p.Summary.Create = 400
	body, err := PlanBody(p, testMeta)
	require.NoError(t, err)
	require.LessOrEqual(t, utf8.RuneCountInString(body), MaxBodyLen)
	require.True(t, strings.HasPrefix(body, Marker(testMeta.Key)+"\n"))
	require.True(t, strings.HasSuffix(body, footer(testMeta)))
	require.Contains(t, body, "400 to create")
	require.Regexp(t, `> \d+ of 400 sections are not shown`, body)
	require.Equal(t, strings.Count(body, "<details>"), strings.Count(body, "</details>"), "no section is cut in half")
	require.Greater(t, strings.Count(body, "<details>"), 50, "as many sections as fit are kept")
}

func TestFailureBodyTooLong(t *testing.T) {
	var b strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&b, "reviews/r%04d.yaml:3:1: apiVersion is missing; every document starts with apiVersion: arsync/v1\n", i)
	}
	body := FailureBody(b.String(), testMeta)
	require.LessOrEqual(t, utf8.RuneCountInString(body), MaxBodyLen)
	require.Contains(t, body, "characters left out")
	require.Contains(t, body, "reviews/r4999.yaml:3:1", "the end of the log is kept")
	require.True(t, strings.HasSuffix(body, footer(testMeta)))
}

func TestMarker(t *testing.T) {
	for _, tc := range []struct{ key, want string }{
		{"contoso.onmicrosoft.com", "<!-- arsync-plan: contoso.onmicrosoft.com -->"},
		{"8f1e2a3b-0000-4000-8000-000000000001", "<!-- arsync-plan: 8f1e2a3b-0000-4000-8000-000000000001 -->"},
		{"tenants/prod", "<!-- arsync-plan: tenants/prod -->"},
		{"", "<!-- arsync-plan: default -->"},
		{"evil --> <script>", "<!-- arsync-plan: evil_-____script_ -->"},
		{"a b", "<!-- arsync-plan: a_b -->"},
	} {
		got := Marker(tc.key)
		require.Equal(t, tc.want, got, tc.key)
		require.Equal(t, 1, strings.Count(got, "-->"), "the key cannot end the comment early")
	}
}
