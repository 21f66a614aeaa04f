package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/golden"
	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/emulator/emulatortest"
	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/graphclient"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// Demo tenant ids (examples/tenant.yaml).
const (
	admin = "fc9a2c2b-1ddc-486d-a211-5fe8ca77fa1f"
	sam   = "7e95ba56-3aee-4988-b07a-2715a9b7ba9b"
	tom   = "2c0a5800-d756-4df8-85e0-90de448d2e87"
)

// guestReviewJSON is the seed's quarterly guest review with default Deny
// and auto-apply, as arsync would create it (with its marker).
const guestReviewJSON = `{
  "displayName": "Guest access to Microsoft 365 groups",
  "descriptionForAdmins": "Quarterly review of guest users.\n[arsync:guests-m365-quarterly]",
  "descriptionForReviewers": "Remove guests who no longer need access to your group.",
  "scope": {"@odata.type": "#microsoft.graph.accessReviewQueryScope",
            "query": "./members/microsoft.graph.user/?$filter=(userType eq 'Guest')", "queryType": "MicrosoftGraph"},
  "instanceEnumerationScope": {"@odata.type": "#microsoft.graph.accessReviewQueryScope",
            "query": "/groups?$filter=(groupTypes/any(c:c eq 'Unified'))", "queryType": "MicrosoftGraph"},
  "reviewers": [{"query": "./owners", "queryType": "MicrosoftGraph"}],
  "fallbackReviewers": [{"query": "/users/fc9a2c2b-1ddc-486d-a211-5fe8ca77fa1f", "queryType": "MicrosoftGraph"}],
  "settings": {
    "justificationRequiredOnApproval": true, "defaultDecisionEnabled": true, "defaultDecision": "Deny",
    "instanceDurationInDays": 14, "autoApplyDecisionsEnabled": true, "recommendationsEnabled": true,
    "recurrence": {"pattern": {"type": "absoluteMonthly", "interval": 3}, "range": {"type": "noEnd", "startDate": "2026-01-05"}},
    "applyActions": [{"@odata.type": "#microsoft.graph.removeAccessApplyAction"}]
  }
}`

// unmanagedJSON is a definition arsync does not own: Finance's guests.
const unmanagedJSON = `{
  "displayName": "Finance guests (hand-made)",
  "scope": {"@odata.type": "#microsoft.graph.accessReviewQueryScope",
            "query": "/groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/transitiveMembers/microsoft.graph.user/?$filter=(userType eq 'Guest')", "queryType": "MicrosoftGraph"},
  "reviewers": [{"query": "/users/fc9a2c2b-1ddc-486d-a211-5fe8ca77fa1f", "queryType": "MicrosoftGraph"}],
  "settings": {"instanceDurationInDays": 7, "recommendationsEnabled": true,
    "recurrence": {"range": {"type": "endDate", "startDate": "2026-01-05", "endDate": "2026-01-12"}}}
}`

type fixture struct {
	run       *emulator.Running
	client    *graphclient.Client
	guestsID  string
	financeID string
}

// newFixture runs the seed scenario on an emulator: the guest review
// starts, reviewers decide for some guests, and the instances end with
// default Deny and auto-apply.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	run := emulatortest.New(t, emulator.Options{Seed: 7, Clock: func() time.Time { return ts("2025-12-01T09:00:00Z") }})
	c, err := graphclient.New(graphclient.Options{BaseURL: run.URL, Credential: graphclient.StaticToken(run.Token)})
	require.NoError(t, err)
	f := &fixture{run: run, client: c}
	ctx := context.Background()
	for _, body := range []string{guestReviewJSON, unmanagedJSON} {
		var d graph.Definition
		require.NoError(t, json.Unmarshal([]byte(body), &d))
		created, err := c.CreateDefinition(ctx, &d)
		require.NoError(t, err)
		if f.guestsID == "" {
			f.guestsID = created.ID
		} else {
			f.financeID = created.ID
		}
	}
	srv := run.Server
	_, err = srv.SetNow(ts("2026-01-05T09:00:00Z"))
	require.NoError(t, err)
	_, err = srv.RecordDecision(emulator.DecisionInput{DefinitionID: f.guestsID, Principal: sam, Decision: "Approve", Justification: "=still on the agency contract"})
	require.NoError(t, err)
	_, err = srv.SetNow(ts("2026-01-06T14:30:00Z"))
	require.NoError(t, err)
	_, err = srv.RecordDecision(emulator.DecisionInput{DefinitionID: f.guestsID, Principal: tom, Decision: "Deny", Justification: "Reseller contract ended", Reviewer: "dave@contoso.com"})
	require.NoError(t, err)
	_, err = srv.RecordDecision(emulator.DecisionInput{DefinitionID: f.financeID, Principal: "zoe_tailspin.com#EXT#@contoso.onmicrosoft.com", Decision: "DontKnow"})
	require.NoError(t, err)
	_, err = srv.SetNow(ts("2026-01-20T00:00:00Z"))
	require.NoError(t, err)
	return f
}

// rows collects a report's rows and the batches they came in.
type rows struct {
	all     []DecisionRow
	batches []int
}

func (r *rows) Write(b []DecisionRow) error {
	r.all = append(r.all, b...)
	r.batches = append(r.batches, len(b))
	return nil
}

func render(t *testing.T, format string, fn func(w RowWriter) error) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewDecisionWriter(&buf, format)
	require.NoError(t, err)
	require.NoError(t, fn(w))
	require.NoError(t, w.Close())
	return buf.String()
}

func TestDecisionsReport(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	for _, format := range DecisionFormats {
		out := render(t, format, func(w RowWriter) error {
			st, err := Decisions(ctx, f.client, DecisionQuery{}, w)
			require.Equal(t, DecisionStats{Definitions: 2, Instances: 4, Decisions: 6, Rows: 6}, st)
			return err
		})
		golden.Assert(t, "testdata/decisions."+format, []byte(out))
	}

	// Each outcome with its applyResult: approved guests stay, denied and
	// unreviewed ones (default Deny) were removed.
	var all rows
	_, err := Decisions(ctx, f.client, DecisionQuery{Review: "guests-m365-quarterly"}, &all)
	require.NoError(t, err)
	got := map[string]string{}
	for _, r := range all.all {
		got[r.Resource+"/"+r.Principal] = r.PrincipalType + " " + r.Decision + " " + r.ApplyResult + " by " + firstNonEmpty(r.ReviewerUPN, r.Reviewer)
	}
	require.Equal(t, map[string]string{
		"Marketing/Sam Taylor (Fabrikam)":      "Guest Approve AppliedSuccessfully by alice@contoso.com",
		"Marketing/Priya Nair (Fabrikam)":      "Guest Deny AppliedSuccessfully by AAD Access Reviews",
		"Sales/Tom Baker (Northwind)":          "Guest Deny AppliedSuccessfully by dave@contoso.com",
		"Project Falcon/Lina Park (Northwind)": "Guest Deny AppliedSuccessfully by AAD Access Reviews",
		"Project Falcon/Omar Haddad (Adatum)":  "Guest Deny AppliedSuccessfully by AAD Access Reviews",
	}, got)
}

func TestDecisionsQuery(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	count := func(q DecisionQuery) int {
		t.Helper()
		var r rows
		_, err := Decisions(ctx, f.client, q, &r)
		require.NoError(t, err)
		return len(r.all)
	}
	require.Equal(t, 5, count(DecisionQuery{Review: "guests-m365-quarterly"}))
	require.Equal(t, 5, count(DecisionQuery{Review: strings.ToUpper(f.guestsID)}), "ids in any case")
	require.Equal(t, 1, count(DecisionQuery{Review: f.financeID}), "an unmanaged definition by id")
	require.Equal(t, 4, count(DecisionQuery{Decision: "deny"}))
	require.Equal(t, 1, count(DecisionQuery{Decision: "DontKnow"}))

	var marketing rows
	_, err := Decisions(ctx, f.client, DecisionQuery{Review: "guests-m365-quarterly", Decision: "Approve"}, &marketing)
	require.NoError(t, err)
	require.Len(t, marketing.all, 1)
	require.Equal(t, 2, count(DecisionQuery{Instance: marketing.all[0].InstanceID}))

	// --since: reviewed or applied strictly after. Sam was reviewed on 5
	// January, Tom on 6 January, everything was applied on 19 January.
	require.Equal(t, 6, count(DecisionQuery{Since: ts("2026-01-05T00:00:00Z")}))
	require.Equal(t, 5, count(DecisionQuery{Since: ts("2026-01-18T00:00:00Z")}), "applied items (Zoe's instance applies nothing)")
	require.Equal(t, 0, count(DecisionQuery{Since: ts("2026-01-19T00:00:00Z")}), "strictly after")
	_, err = f.run.Server.SetNow(ts("2026-04-06T00:00:00Z")) // the next quarter: Sam is reviewed again
	require.NoError(t, err)
	require.Equal(t, 1, count(DecisionQuery{Review: "guests-m365-quarterly", Decision: "NotReviewed"}))
	require.Equal(t, 0, count(DecisionQuery{Since: ts("2026-01-19T00:00:00Z")}), "nothing new was decided")

	_, err = Decisions(ctx, f.client, DecisionQuery{Review: "nope"}, &rows{})
	require.ErrorIs(t, err, ErrNoSuchReview)
	_, err = Decisions(ctx, f.client, DecisionQuery{Instance: "nope"}, &rows{})
	require.ErrorIs(t, err, ErrNoSuchInstance)
	_, err = Decisions(ctx, f.client, DecisionQuery{Decision: "Maybe"}, &rows{})
	require.ErrorContains(t, err, "use Approve")
}

func TestStatusReport(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	now := ts("2026-01-20T00:00:00Z")
	rep, err := Status(ctx, f.client, nil, now)
	require.NoError(t, err)
	require.Len(t, rep.Definitions, 1, "only managed definitions")
	var text, js bytes.Buffer
	require.NoError(t, RenderStatusText(&text, rep))
	require.NoError(t, RenderStatusJSON(&js, rep))
	golden.Assert(t, "testdata/status-applied.txt", []byte(strings.ReplaceAll(text.String(), f.guestsID, "<id>")))

	// Next quarter: Marketing's new instance is the current one.
	_, err = f.run.Server.SetNow(ts("2026-04-05T12:00:00Z"))
	require.NoError(t, err)
	rep, err = Status(ctx, f.client, []string{"guests-m365-quarterly", "not-applied-yet"}, now)
	require.NoError(t, err)
	require.Equal(t, []string{"not-applied-yet"}, rep.Missing)
	d := rep.Definitions[0]
	require.Equal(t, 4, d.TotalInstances)
	require.Len(t, d.Instances, 3, "one current instance per group")
	require.Equal(t, "Marketing", d.Instances[0].Resource)
	require.Equal(t, "InProgress", d.Instances[0].Status)
	require.Equal(t, map[string]int{"NotReviewed": 1}, d.Instances[0].Decisions)
	require.Equal(t, "Applied", d.Instances[1].Status)
	js.Reset()
	require.NoError(t, RenderStatusJSON(&js, rep))
	golden.Assert(t, "testdata/status-next-quarter.json", []byte(strings.ReplaceAll(js.String(), f.guestsID, "<id>")))
	text.Reset()
	require.NoError(t, RenderStatusText(&text, rep))
	golden.Assert(t, "testdata/status-next-quarter.txt", []byte(strings.ReplaceAll(text.String(), f.guestsID, "<id>")))

	empty, err := Status(ctx, f.client, []string{"nothing-here"}, now)
	require.NoError(t, err)
	text.Reset()
	require.NoError(t, RenderStatusText(&text, empty))
	require.Equal(t, "Not in the tenant (not applied yet): nothing-here\n", text.String())
}

func TestParseSince(t *testing.T) {
	t.Parallel()
	now := ts("2026-03-10T12:00:00Z")
	for in, want := range map[string]string{
		"2026-03-01T08:00:00Z":      "2026-03-01T08:00:00Z",
		"2026-03-01T10:00:00+02:00": "2026-03-01T08:00:00Z",
		"2026-03-01":                "2026-03-01T00:00:00Z",
		"24h":                       "2026-03-09T12:00:00Z",
		"90m":                       "2026-03-10T10:30:00Z",
		"7d":                        "2026-03-03T12:00:00Z",
		"2w":                        "2026-02-24T12:00:00Z",
		" 0s ":                      "2026-03-10T12:00:00Z",
	} {
		got, err := ParseSince(in, now)
		require.NoError(t, err, in)
		require.Equal(t, want, got.Format(time.RFC3339), in)
	}
	for _, bad := range []string{"", "yesterday", "-24h", "7x", "d", "-1d", "2026-13-01", "99999999d"} {
		_, err := ParseSince(bad, now)
		require.Error(t, err, bad)
		require.Contains(t, err.Error(), "--since")
	}
}

func TestWriters(t *testing.T) {
	t.Parallel()
	row := DecisionRow{Review: "r", Principal: "Eve", PrincipalUPN: "eve@x", Decision: "Deny",
		Justification: "@SUM(A1)\nsecond line, \"quoted\"", ReviewedDateTime: "2026-01-05T09:00:00Z"}
	csvOut := render(t, "csv", func(w RowWriter) error { return w.Write([]DecisionRow{row}) })
	recs, err := csv.NewReader(strings.NewReader(csvOut)).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 2)
	require.Equal(t, csvHeader, recs[0])
	require.Equal(t, "'@SUM(A1)\nsecond line, \"quoted\"", recs[1][17], "formulas are defused, text kept")

	// Empty outputs are still valid documents.
	require.Equal(t, strings.Join(csvHeader, ",")+"\n", render(t, "csv", func(RowWriter) error { return nil }))
	require.Equal(t, "[]\n", render(t, "json", func(RowWriter) error { return nil }))
	require.Equal(t, "", render(t, "jsonl", func(RowWriter) error { return nil }))

	// JSON: one array across batches.
	js := render(t, "json", func(w RowWriter) error {
		require.NoError(t, w.Write([]DecisionRow{row, row}))
		return w.Write([]DecisionRow{row})
	})
	var arr []DecisionRow
	require.NoError(t, json.Unmarshal([]byte(js), &arr))
	require.Len(t, arr, 3)
	require.Equal(t, row, arr[2])

	// Table: one line per row, long cells clipped to one line.
	table := render(t, "table", func(w RowWriter) error { return w.Write([]DecisionRow{row}) })
	lines := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
	require.Len(t, lines, 2)
	require.Contains(t, lines[1], "@SUM(A1) second line")

	_, err = NewDecisionWriter(&bytes.Buffer{}, "xml")
	require.ErrorContains(t, err, "table, csv, json, jsonl")
}

func TestCanonicalDecision(t *testing.T) {
	d, err := CanonicalDecision("dontknow")
	require.NoError(t, err)
	require.Equal(t, "DontKnow", d)
	_, err = CanonicalDecision("Maybe")
	require.EqualError(t, err, `"Maybe" is not a decision: use Approve, Deny, NotReviewed or DontKnow`)
}
