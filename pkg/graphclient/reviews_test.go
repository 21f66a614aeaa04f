package graphclient

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/emulator/emulatortest"
	"github.com/arsync/arsync/pkg/graph"
)

// TestReviewActionsAgainstEmulator records decisions and drives an instance
// through its actions on the emulator's demo tenant.
func TestReviewActionsAgainstEmulator(t *testing.T) {
	t.Parallel()
	clock := newFakeClock() // 2026-03-01
	run := emulatortest.New(t, emulator.Options{Seed: 4, Clock: clock.Now})
	ctx := t.Context()
	admin := emulatorClient(t, run, clock)
	alice := emulatorClient(t, run, clock, func(o *Options) { o.Credential = StaticToken(run.Server.Token("alice@contoso.com")) })

	// Guests of Marketing, reviewed by Alice, starting 1 April; no auto-apply.
	def := sampleDefinition("marketing-guests")
	def.Scope.Query = "/groups/ea1ee477-0a50-41ac-8699-c70d0c1f868a/transitiveMembers/microsoft.graph.user/?$filter=(userType eq 'Guest')"
	def.Reviewers = []graph.ReviewerScope{{Query: "/users/398164b1-5196-49dd-ada2-364b49f99b27", QueryType: graph.QueryTypeMicrosoftGraph}}
	created, err := admin.CreateDefinition(ctx, def)
	require.NoError(t, err)
	_, err = run.Server.SetNow(time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC))
	require.NoError(t, err)

	insts, err := collect(admin.ListInstances(ctx, created.ID, nil))
	require.NoError(t, err)
	require.Len(t, insts, 1)
	inst := insts[0].ID
	decs, err := collect(admin.ListDecisions(ctx, created.ID, inst, nil))
	require.NoError(t, err)
	require.Len(t, decs, 2)

	d, err := admin.GetDecision(ctx, created.ID, inst, decs[0].ID)
	require.NoError(t, err)
	require.Equal(t, "NotReviewed", d.Decision)
	_, err = admin.GetDecision(ctx, created.ID, inst, "nope")
	require.True(t, graph.IsNotFound(err))

	// Only a reviewer records; Alice is one, the administrator is not.
	err = admin.RecordDecision(ctx, created.ID, inst, decs[0].ID, "Deny", "left")
	require.True(t, graph.IsForbidden(err), "%v", err)
	require.NoError(t, alice.RecordDecision(ctx, created.ID, inst, decs[0].ID, "Deny", "left the agency"))
	d, err = admin.GetDecision(ctx, created.ID, inst, decs[0].ID)
	require.NoError(t, err)
	require.Equal(t, "Deny", d.Decision)
	require.Equal(t, "alice@contoso.com", d.ReviewedBy.UserPrincipalName)

	require.NoError(t, alice.BatchRecordDecisions(ctx, created.ID, inst, BatchDecision{Decision: "Approve", PrincipalID: decs[1].Principal.ID}))
	require.NoError(t, alice.InstanceAction(ctx, created.ID, inst, ActionSendReminder))

	// applyDecisions needs a Completed instance; stop completes it.
	err = admin.InstanceAction(ctx, created.ID, inst, ActionApplyDecisions)
	require.True(t, graph.IsConflict(err), "%v", err)
	require.NoError(t, admin.InstanceAction(ctx, created.ID, inst, ActionStop))
	require.NoError(t, admin.InstanceAction(ctx, created.ID, inst, ActionApplyDecisions))
	got, err := admin.GetInstance(ctx, created.ID, inst)
	require.NoError(t, err)
	require.Equal(t, "Applied", got.Status)
	d, err = admin.GetDecision(ctx, created.ID, inst, decs[0].ID)
	require.NoError(t, err)
	require.Equal(t, "AppliedSuccessfully", d.ApplyResult)

	// Bad input fails before anything is sent.
	before := len(run.Server.Requests())
	require.ErrorContains(t, admin.InstanceAction(ctx, created.ID, inst, "explode"), "unknown access review instance action")
	require.ErrorContains(t, admin.BatchRecordDecisions(ctx, created.ID, inst, BatchDecision{}), "decision is required")
	require.Error(t, admin.RecordDecision(ctx, created.ID, "", "x", "Deny", ""))
	require.Len(t, run.Server.Requests(), before)

}

// TestInstanceActionIsNotRetried: an action whose outcome is unknown (the
// stop went through, then the answer was a 504) is not sent again, since a
// second stop would fail or, for other actions, act twice.
func TestInstanceActionIsNotRetried(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	faults, err := emulator.ParseFaults("commit-then-fail:POST:#2") // the 1st POST is the create
	require.NoError(t, err)
	run := emulatortest.New(t, emulator.Options{Seed: 4, Clock: clock.Now, Faults: faults})
	c := emulatorClient(t, run, clock)
	ctx := t.Context()
	def := sampleDefinition("stop-once")
	def.Scope.Query = "/groups/ea1ee477-0a50-41ac-8699-c70d0c1f868a/members"
	created, err := c.CreateDefinition(ctx, def)
	require.NoError(t, err)
	_, err = run.Server.SetNow(time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	insts, err := collect(c.ListInstances(ctx, created.ID, nil))
	require.NoError(t, err)
	require.Len(t, insts, 1)

	err = c.InstanceAction(ctx, created.ID, insts[0].ID, ActionStop)
	require.Error(t, err)
	stops := 0
	for _, r := range run.Server.Requests() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/stop") {
			stops++
		}
	}
	require.Equal(t, 1, stops, "sent once")
	got, err := c.GetInstance(ctx, created.ID, insts[0].ID)
	require.NoError(t, err)
	require.Equal(t, "Completed", got.Status, "the stop happened")
}
