package report

import (
	"bytes"
	"context"
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

// stagedReviewJSON reviews Engineering's members in three stages: Alice,
// then each member's manager for those she approved or left, then the
// administrator; default Deny and auto-apply.
const stagedReviewJSON = `{
  "displayName": "Engineering access, three stages",
  "descriptionForAdmins": "[arsync:engineering-staged]",
  "scope": {"@odata.type": "#microsoft.graph.accessReviewQueryScope", "query": "/groups/77203c2a-1ce7-44ad-b64f-966cf6b9e337/members", "queryType": "MicrosoftGraph"},
  "reviewers": [{"query": "/users/fc9a2c2b-1ddc-486d-a211-5fe8ca77fa1f", "queryType": "MicrosoftGraph"}],
  "stageSettings": [
    {"stageId": "1", "durationInDays": 3, "recommendationsEnabled": false, "decisionsThatWillMoveToNextStage": ["NotReviewed", "Approve"],
     "reviewers": [{"query": "/users/398164b1-5196-49dd-ada2-364b49f99b27", "queryType": "MicrosoftGraph"}]},
    {"stageId": "2", "dependsOn": ["1"], "durationInDays": 4, "recommendationsEnabled": true,
     "reviewers": [{"query": "./manager", "queryType": "MicrosoftGraph", "queryRoot": "decisions"}]},
    {"stageId": "3", "dependsOn": ["2"], "durationInDays": 3, "recommendationsEnabled": true,
     "reviewers": [{"query": "/users/fc9a2c2b-1ddc-486d-a211-5fe8ca77fa1f", "queryType": "MicrosoftGraph"}]}
  ],
  "settings": {"defaultDecisionEnabled": true, "defaultDecision": "Deny", "autoApplyDecisionsEnabled": true, "recommendationsEnabled": true,
    "recurrence": {"range": {"type": "endDate", "startDate": "2026-03-02", "endDate": "2026-03-12"}}}
}`

// newStagedFixture runs the staged review into its second stage: Alice
// approved Ivan, denied Judy and did not know about Laura; Ken was left for
// his manager, and Dana (Ivan's manager) denied Ivan.
func newStagedFixture(t *testing.T) (*emulator.Running, *graphclient.Client, string) {
	t.Helper()
	run := emulatortest.New(t, emulator.Options{Seed: 9, Clock: func() time.Time { return ts("2026-02-20T09:00:00Z") }})
	c, err := graphclient.New(graphclient.Options{BaseURL: run.URL, Credential: graphclient.StaticToken(run.Token)})
	require.NoError(t, err)
	var d graph.Definition
	require.NoError(t, json.Unmarshal([]byte(stagedReviewJSON), &d))
	created, err := c.CreateDefinition(context.Background(), &d)
	require.NoError(t, err)
	srv := run.Server
	_, err = srv.SetNow(ts("2026-03-02T09:00:00Z"))
	require.NoError(t, err)
	for _, dec := range []emulator.DecisionInput{
		{Principal: "ivan@contoso.com", Decision: "Approve"},
		{Principal: "judy@contoso.com", Decision: "Deny", Justification: "left the team"},
		{Principal: "laura@contoso.com", Decision: "DontKnow"},
	} {
		dec.DefinitionID, dec.Reviewer = created.ID, "alice@contoso.com"
		_, err = srv.RecordDecision(dec)
		require.NoError(t, err)
	}
	_, err = srv.SetNow(ts("2026-03-05T12:00:00Z"))
	require.NoError(t, err)
	_, err = srv.RecordDecision(emulator.DecisionInput{DefinitionID: created.ID, Principal: "ivan@contoso.com", Decision: "Deny", Reviewer: "dana@contoso.com"})
	require.NoError(t, err)
	return run, c, created.ID
}

func TestStatusShowsStages(t *testing.T) {
	t.Parallel()
	run, c, id := newStagedFixture(t)
	ctx := context.Background()
	rep, err := Status(ctx, c, []string{"engineering-staged"}, ts("2026-03-05T12:00:00Z"))
	require.NoError(t, err)
	require.Len(t, rep.Definitions, 1)
	d := rep.Definitions[0]
	require.Equal(t, 3, d.StageCount)
	in := d.Instances[0]
	require.Equal(t, 2, in.Stage)
	require.Len(t, in.Stages, 2)
	require.Equal(t, map[string]int{"Approve": 1, "Deny": 1, "DontKnow": 1, "NotReviewed": 1}, in.Stages[0].Decisions)
	require.Equal(t, map[string]int{"Deny": 1, "NotReviewed": 1}, in.Stages[1].Decisions, "Ivan and Ken reached stage 2")
	require.Equal(t, map[string]int{"Deny": 2, "DontKnow": 1, "NotReviewed": 1}, in.Decisions, "the instance shows each member's last decision")
	var text, js bytes.Buffer
	require.NoError(t, RenderStatusText(&text, rep))
	require.NoError(t, RenderStatusJSON(&js, rep))
	golden.Assert(t, "testdata/status-stages.txt", []byte(strings.ReplaceAll(text.String(), id, "<id>")))
	golden.Assert(t, "testdata/status-stages.json", []byte(strings.ReplaceAll(js.String(), id, "<id>")))

	// After the end: every stage completed, the review applied.
	_, err = run.Server.SetNow(ts("2026-03-13T00:00:00Z"))
	require.NoError(t, err)
	rep, err = Status(ctx, c, nil, ts("2026-03-13T00:00:00Z"))
	require.NoError(t, err)
	d = rep.Definitions[0]
	require.Equal(t, "Applied", d.Status)
	require.Equal(t, 3, d.Instances[0].Stage)
	for _, st := range d.Instances[0].Stages {
		require.Equal(t, "Completed", st.Status)
	}
	text.Reset()
	require.NoError(t, RenderStatusText(&text, rep))
	golden.Assert(t, "testdata/status-stages-applied.txt", []byte(strings.ReplaceAll(text.String(), id, "<id>")))
}

func TestDecisionsOfOneStage(t *testing.T) {
	t.Parallel()
	_, c, id := newStagedFixture(t)
	ctx := context.Background()
	out := render(t, "csv", func(w RowWriter) error {
		st, err := Decisions(ctx, c, DecisionQuery{Stage: 2}, w)
		require.Equal(t, DecisionStats{Definitions: 1, Instances: 1, Decisions: 2, Rows: 2}, st)
		return err
	})
	golden.Assert(t, "testdata/decisions-stage2.csv", []byte(strings.ReplaceAll(out, id, "<id>")))

	var stage1, all rows
	_, err := Decisions(ctx, c, DecisionQuery{Review: "engineering-staged", Stage: 1, Decision: "NotReviewed"}, &stage1)
	require.NoError(t, err)
	require.Len(t, stage1.all, 1, "Ken was not reviewed in stage 1")
	require.Equal(t, 1, stage1.all[0].Stage)
	_, err = Decisions(ctx, c, DecisionQuery{Review: id}, &all)
	require.NoError(t, err)
	require.Len(t, all.all, 4)
	require.Zero(t, all.all[0].Stage, "an instance's item belongs to no one stage")

	_, err = Decisions(ctx, c, DecisionQuery{Stage: 3}, &rows{})
	require.ErrorIs(t, err, ErrNoSuchStage)
	_, err = Decisions(ctx, c, DecisionQuery{Stage: 4}, &rows{})
	require.ErrorContains(t, err, "stages 1 to 3")

	// Single-stage reviews have no stages to read.
	f := newFixture(t)
	_, err = Decisions(ctx, f.client, DecisionQuery{Stage: 1}, &rows{})
	require.ErrorIs(t, err, ErrNoSuchStage)
}
