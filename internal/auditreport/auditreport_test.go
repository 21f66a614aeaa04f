package auditreport

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/golden"
	"github.com/arsync/arsync/pkg/coverage"
	"github.com/arsync/arsync/pkg/report"
)

// sampleModel has a managed review with instances over two rounds, an
// unmanaged one with none in the period, coverage of every kind and state,
// and names that must be escaped.
func sampleModel() Model {
	inst := func(start, end, res, status string, o Outcomes) Instance {
		total := o.Approved + o.Denied + o.DontKnow + o.NotReviewed
		return Instance{ID: "i-" + start + res, Resource: res, Status: status, Start: start + "T00:00:00Z", End: end + "T00:00:00Z",
			Total: total, Decided: total - o.NotReviewed, Outcomes: o}
	}
	return Model{
		Tenant: "contoso.onmicrosoft.com", Version: "v1.2.3",
		GeneratedAt: time.Date(2026, 4, 20, 9, 30, 0, 0, time.UTC),
		Since:       time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Reviews: []Review{
			{Name: "guests-m365-quarterly", DisplayName: "Guest access to Microsoft 365 groups", ID: "d1", Status: "InProgress", TotalInstances: 5,
				Instances: []Instance{
					inst("2026-01-05", "2026-01-19", "Marketing", "Completed", Outcomes{Approved: 1, Denied: 1, Applied: 2}),
					inst("2026-01-05", "2026-01-19", "Sales | <EMEA>", "Completed", Outcomes{Approved: 2, NotReviewed: 1, Applied: 2}),
					inst("2026-04-05", "2026-04-19", "Marketing", "InProgress", Outcomes{Approved: 1, DontKnow: 1, NotReviewed: 2}),
					inst("2026-04-05", "2026-04-19", "Sales | <EMEA>", "InProgress", Outcomes{}),
				}},
			{DisplayName: `Made in the portal <script>alert("x")</script>`, ID: "d2", Status: "Completed", TotalInstances: 1},
		},
		Coverage: &coverage.Report{FormatVersion: 1, Targets: []coverage.Target{
			{Kind: coverage.KindGroup, ID: "g1", DisplayName: "Marketing", Guests: 2, Covered: true,
				CoveredBy: []coverage.CoveredBy{{ID: "d1", DisplayName: "Guest access", ManagedName: "guests-m365-quarterly"}}},
			{Kind: coverage.KindGroup, ID: "g2", DisplayName: "Contractors", Guests: 5},
			{Kind: coverage.KindGroup, ID: "g3", DisplayName: "Alumni", Guests: 1, Covered: true, Partial: true,
				CoveredBy: []coverage.CoveredBy{{ID: "d3", DisplayName: "Inactive guests", Partial: true}}},
			{Kind: coverage.KindRole, ID: "r1", DisplayName: "Global Administrator", Assignments: 2},
			{Kind: coverage.KindApplication, ID: "a1", DisplayName: "Payroll", Assignments: 3, Covered: true,
				CoveredBy: []coverage.CoveredBy{{ID: "d4", DisplayName: "Payroll app users", ManagedName: "payroll-app-users"}}},
		}},
	}
}

func TestGolden(t *testing.T) {
	cases := []struct {
		name   string
		model  func() Model
		render func(*bytes.Buffer, Model) error
	}{
		{"report.html", sampleModel, func(b *bytes.Buffer, m Model) error { return WriteHTML(b, m) }},
		{"report.md", sampleModel, func(b *bytes.Buffer, m Model) error { return WriteMarkdown(b, m) }},
		{"no-coverage.html", noCoverage, func(b *bytes.Buffer, m Model) error { return WriteHTML(b, m) }},
		{"no-coverage.md", noCoverage, func(b *bytes.Buffer, m Model) error { return WriteMarkdown(b, m) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, tc.render(&b, tc.model()))
			golden.Assert(t, "testdata/"+tc.name, b.Bytes())
		})
	}
}

func noCoverage() Model {
	m := sampleModel()
	m.Coverage, m.CoverageNote, m.Since = nil, "coverage not available", time.Time{}
	m.Reviews = nil
	return m
}

// TestHTMLIsSelfContained: the policy allows the one inline style sheet by
// its hash and nothing else; the page names no other resource; every chart
// has a title and a description it points to.
func TestHTMLIsSelfContained(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteHTML(&b, sampleModel()))
	page := b.String()

	style := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(page)
	require.NotNil(t, style)
	sum := sha256.Sum256([]byte(style[1]))
	require.Contains(t, page, `style-src &#39;sha256-`+base64.StdEncoding.EncodeToString(sum[:])+`&#39;`)
	require.Contains(t, page, `default-src &#39;none&#39;`)

	for _, bad := range []string{"<script", "<link", "<img", "<iframe", "@import", "url(", "src=", "href=\"http"} {
		require.NotContains(t, page, bad)
	}
	// The only URL is SVG's namespace, which is not loaded.
	for _, u := range regexp.MustCompile(`https?://[^"\s<]+`).FindAllString(page, -1) {
		require.Equal(t, "http://www.w3.org/2000/svg", u)
	}

	svgs := regexp.MustCompile(`<svg [^>]*>`).FindAllString(page, -1)
	require.Len(t, svgs, 3, "coverage, and completion and outcomes of the review with instances")
	for _, svg := range svgs {
		require.Contains(t, svg, `role="img"`)
		ids := regexp.MustCompile(`aria-labelledby="([^"]+)"`).FindStringSubmatch(svg)
		require.NotNil(t, ids, svg)
		for _, id := range strings.Fields(ids[1]) {
			require.Regexp(t, `<(title|desc) id="`+regexp.QuoteMeta(id)+`">[^<]+</`, page)
		}
	}
	// Coverage tables: uncovered first.
	require.Less(t, strings.Index(page, ">Contractors<"), strings.Index(page, ">Alumni<"))
	require.Less(t, strings.Index(page, ">Alumni<"), strings.Index(page, ">Marketing</td><td class=\"n\">2"))
}

func TestReviewsFrom(t *testing.T) {
	rep := &report.StatusReport{Definitions: []report.DefinitionStatus{{
		Name: "n", DisplayName: "N", ID: "d", Status: "InProgress", TotalInstances: 3,
		Instances: []report.InstanceStatus{{ID: "i", Resource: "Marketing", Status: "Completed",
			StartDateTime: "2026-01-05T00:00:00Z", EndDateTime: "2026-01-19T00:00:00Z", Total: 5, Decided: 4,
			Decisions:    map[string]int{"Approve": 2, "Deny": 1, "DontKnow": 1, "NotReviewed": 1},
			ApplyResults: map[string]int{"New": 2, "AppliedSuccessfully": 2, "AppliedWithUnknownFailure": 1}}},
	}}}
	got := ReviewsFrom(rep)
	require.Equal(t, []Review{{Name: "n", DisplayName: "N", ID: "d", Status: "InProgress", TotalInstances: 3,
		Instances: []Instance{{ID: "i", Resource: "Marketing", Status: "Completed", Start: "2026-01-05T00:00:00Z",
			End: "2026-01-19T00:00:00Z", Total: 5, Decided: 4,
			Outcomes: Outcomes{Approved: 2, Denied: 1, DontKnow: 1, NotReviewed: 1, Applied: 3}}}}}, got)
}

// TestChartsBounded: a review with many instances draws the latest ones
// and says so; bars never leave the chart, whatever the counts.
func TestChartsBounded(t *testing.T) {
	r := Review{Name: "many"}
	for i := range 100 {
		r.Instances = append(r.Instances, Instance{Start: time.Date(2026, 1, 1+i, 0, 0, 0, 0, time.UTC).Format(time.RFC3339),
			Resource: strings.Repeat("very long group name ", 5), Total: i, Decided: i + 7, // Decided > Total: bad input
			Outcomes: Outcomes{Approved: i * 3, Applied: i * 5}})
	}
	for _, c := range []*chart{completionChart(1, r), outcomesChart(1, r)} {
		require.Len(t, c.Rows, maxChartRows)
		require.Contains(t, c.Desc, "latest 30 of 100")
		require.Equal(t, "2026-04-10", c.Rows[len(c.Rows)-1].Label[:10])
		for _, row := range c.Rows {
			require.LessOrEqual(t, len([]rune(row.Label)), maxLabel)
			for _, s := range row.Segs {
				require.GreaterOrEqual(t, s.W, 0)
				require.LessOrEqual(t, s.X+s.W, labelWidth+barWidth, "%+v", s)
				require.Less(t, s.Y+s.H, c.Height+1)
			}
		}
	}
	var b bytes.Buffer
	require.NoError(t, WriteMarkdown(&b, Model{Reviews: []Review{r}}))
	require.Contains(t, b.String(), "latest 12 of 100 instances")
}
