package graphclient

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/emulator/emulatortest"
	"github.com/arsync/arsync/pkg/graph"
)

// TestStagesAgainstEmulator runs a two-stage review of Marketing's guests
// on the emulator: Alice first, then the administrator for the guests she
// approved.
func TestStagesAgainstEmulator(t *testing.T) {
	t.Parallel()
	clock := newFakeClock() // 2026-03-01
	run := emulatortest.New(t, emulator.Options{Seed: 5, Clock: clock.Now})
	ctx := t.Context()
	admin := emulatorClient(t, run, clock)
	alice := emulatorClient(t, run, clock, func(o *Options) { o.Credential = StaticToken(run.Server.Token("alice@contoso.com")) })

	no, yes := false, true
	aliceScope := graph.ReviewerScope{Query: "/users/398164b1-5196-49dd-ada2-364b49f99b27", QueryType: graph.QueryTypeMicrosoftGraph}
	adminScope := graph.ReviewerScope{Query: "/users/fc9a2c2b-1ddc-486d-a211-5fe8ca77fa1f", QueryType: graph.QueryTypeMicrosoftGraph}
	def := sampleDefinition("marketing-guests-staged")
	def.Scope.Query = "/groups/ea1ee477-0a50-41ac-8699-c70d0c1f868a/transitiveMembers/microsoft.graph.user/?$filter=(userType eq 'Guest')"
	def.Reviewers = []graph.ReviewerScope{aliceScope}
	def.Settings.InstanceDurationInDays = nil
	def.StageSettings = []graph.StageSettings{
		{StageID: "1", DurationInDays: 2, RecommendationsEnabled: &no, DecisionsThatWillMoveToNextStage: []string{"Approve"}, Reviewers: []graph.ReviewerScope{aliceScope}},
		{StageID: "2", DependsOn: []string{"1"}, DurationInDays: 5, RecommendationsEnabled: &yes, Reviewers: []graph.ReviewerScope{adminScope}},
	}
	created, err := admin.CreateDefinition(ctx, def)
	require.NoError(t, err)
	_, err = run.Server.SetNow(time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	insts, err := collect(admin.ListInstances(ctx, created.ID, nil))
	require.NoError(t, err)
	require.Len(t, insts, 1)
	inst := insts[0].ID
	require.Equal(t, "2026-04-08T00:00:00Z", insts[0].EndDateTime, "2 + 5 days")

	stages, err := collect(admin.ListStages(ctx, created.ID, inst, nil))
	require.NoError(t, err)
	require.Len(t, stages, 1)
	first := stages[0]
	require.Equal(t, &graph.Stage{ID: first.ID, StartDateTime: "2026-04-01T00:00:00Z", EndDateTime: "2026-04-03T00:00:00Z",
		Status: "InProgress", Reviewers: []graph.ReviewerScope{aliceScope}, FallbackReviewers: []graph.ReviewerScope{}}, first)
	got, err := admin.GetStage(ctx, created.ID, inst, first.ID)
	require.NoError(t, err)
	require.Equal(t, first, got)
	_, err = admin.GetStage(ctx, created.ID, inst, "nope")
	require.True(t, graph.IsNotFound(err), "%v", err)

	// Alice approves one guest and denies the other; only the approved one
	// goes on to stage 2 when she stops her stage early.
	items, err := collect(admin.ListStageDecisions(ctx, created.ID, inst, first.ID, nil))
	require.NoError(t, err)
	require.Len(t, items, 2)
	require.Equal(t, inst, items[0].AccessReviewID)
	require.NoError(t, alice.RecordDecision(ctx, created.ID, inst, items[0].ID, "Approve", "still on the account"))
	require.NoError(t, alice.BatchRecordDecisions(ctx, created.ID, inst, BatchDecision{Decision: "Deny", PrincipalID: items[1].Principal.ID}))
	require.Error(t, alice.RecordDecision(ctx, created.ID, inst, "nope", "Deny", ""))
	require.NoError(t, admin.StopStage(ctx, created.ID, inst, first.ID))
	err = admin.StopStage(ctx, created.ID, inst, first.ID)
	require.True(t, graph.IsConflict(err), "a completed stage cannot stop again: %v", err)

	stages, err = collect(admin.ListStages(ctx, created.ID, inst, &graph.ListOptions{Filter: "status eq 'InProgress'"}))
	require.NoError(t, err)
	require.Len(t, stages, 1)
	second := stages[0]
	require.Equal(t, []graph.ReviewerScope{adminScope}, second.Reviewers)
	require.Equal(t, "2026-04-08T00:00:00Z", second.EndDateTime)
	moved, err := collect(admin.ListStageDecisions(ctx, created.ID, inst, second.ID, &graph.ListOptions{Filter: "decision eq 'NotReviewed'"}))
	require.NoError(t, err)
	require.Len(t, moved, 1)
	require.Equal(t, items[0].Principal.ID, moved[0].Principal.ID)

	// The instance's items show the last decision of each guest; the last
	// stage's stop completes the instance.
	decs, err := collect(admin.ListDecisions(ctx, created.ID, inst, nil))
	require.NoError(t, err)
	byPrincipal := map[string]string{}
	for _, d := range decs {
		byPrincipal[d.Principal.ID] = d.Decision
	}
	require.Equal(t, map[string]string{items[0].Principal.ID: "Approve", items[1].Principal.ID: "Deny"}, byPrincipal)
	require.NoError(t, admin.StopStage(ctx, created.ID, inst, second.ID))
	in, err := admin.GetInstance(ctx, created.ID, inst)
	require.NoError(t, err)
	require.Equal(t, "Completed", in.Status)

	// Bad ids fail before anything is sent.
	before := len(run.Server.Requests())
	require.Error(t, admin.StopStage(ctx, created.ID, inst, ""))
	_, err = admin.GetStage(ctx, "", inst, second.ID)
	require.Error(t, err)
	_, err = collect(admin.ListStageDecisions(ctx, created.ID, "", second.ID, nil))
	require.Error(t, err)
	_, err = collect(admin.ListStages(ctx, created.ID, "", nil))
	require.Error(t, err)
	require.Len(t, run.Server.Requests(), before)

	// A single-stage review's instance has no stages.
	single := sampleDefinition("marketing-guests")
	single.Scope.Query = def.Scope.Query
	single.Reviewers = []graph.ReviewerScope{aliceScope}
	single.Settings.Recurrence.Range.StartDate = "2026-04-01"
	made, err := admin.CreateDefinition(ctx, single)
	require.NoError(t, err)
	insts, err = collect(admin.ListInstances(ctx, made.ID, nil))
	require.NoError(t, err)
	require.Len(t, insts, 1)
	stages, err = collect(admin.ListStages(ctx, made.ID, insts[0].ID, nil))
	require.NoError(t, err)
	require.Empty(t, stages)
}
