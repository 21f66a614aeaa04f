package apply

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/graph"
)

// savedPlan writes p as a plan file and reads it back, as plan --out and
// apply --plan do.
func savedPlan(t *testing.T, p *diff.Plan) *diff.Plan {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, diff.RenderJSON(&b, p))
	got, err := diff.ReadPlan(&b)
	require.NoError(t, err)
	return got
}

func TestCheckStale(t *testing.T) {
	tests := []struct {
		name string
		// change alters the tenant after the plan was made.
		change   func(t *testing.T, e *env, p *diff.Plan)
		tenant   string
		endpoint func(e *env) string
		reasons  []string // substrings, one per reason; none: fresh
	}{
		{name: "fresh"},
		{name: "endpoint spelt differently", endpoint: func(e *env) string {
			return strings.Replace(e.run.URL, "http://", "HTTP://", 1) + "/"
		}},
		{name: "tenant in another case", tenant: "CONTOSO"},
		{
			name: "a definition to update was changed",
			change: func(t *testing.T, e *env, p *diff.Plan) {
				changed := def(0, withDuration(30)).Definition
				changed.DescriptionForAdmins = p.Changes[0].After.DescriptionForAdmins
				require.NoError(t, e.client.UpdateDefinition(context.Background(), p.Changes[0].ID, &changed))
			},
			reasons: []string{"review-000: definition " /* id */, "changed since the plan was made (last modified 2026-"},
		},
		{
			name: "a definition to delete is gone",
			change: func(t *testing.T, e *env, p *diff.Plan) {
				require.NoError(t, e.client.DeleteDefinition(context.Background(), p.Changes[3].ID))
			},
			reasons: []string{"no longer exists"},
		},
		{
			name: "a definition to create appeared meanwhile",
			change: func(t *testing.T, e *env, p *diff.Plan) {
				e.seed(def(7).Definition, "review-007")
			},
			reasons: []string{"review-007: definition ", "now carries its marker, so creating it would make a duplicate"},
		},
		{
			name:    "another tenant",
			tenant:  "fabrikam",
			reasons: []string{"it was made for tenant contoso, not fabrikam"},
		},
		{
			name:     "another endpoint",
			endpoint: func(*env) string { return "https://graph.microsoft.com/v1.0" },
			reasons:  []string{"it was made for endpoint http://127.0.0.1:"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			desired := defs(4)
			applyAll(t, e, desired)
			desired[0] = def(0, withDuration(14))     // update
			desired[1] = def(1, withDuration(15))     // update
			desired = append(desired[:3], def(7))     // delete review-003, create review-007
			p := savedPlan(t, e.plan(desired, false)) // changes sorted by name: 0, 1, 2 (noop), 3, 7
			require.Equal(t, diff.Summary{Create: 1, Update: 2, Delete: 1, NoOp: 1}, p.Summary)
			if tt.change != nil {
				tt.change(t, e, p)
			}
			tenant, endpoint := "contoso", e.run.URL
			if tt.tenant != "" {
				tenant = tt.tenant
			}
			if tt.endpoint != nil {
				endpoint = tt.endpoint(e)
			}

			e.srv.ResetRequests()
			err := CheckStale(context.Background(), e.client, p, tenant, endpoint)
			require.Zero(t, e.writes(), "CheckStale writes nothing")
			if len(tt.reasons) == 0 {
				require.NoError(t, err)
				return
			}
			var se *StalePlanError
			require.ErrorAs(t, err, &se)
			require.True(t, strings.HasPrefix(err.Error(), "stale plan: "), err.Error())
			require.True(t, strings.HasSuffix(err.Error(), "; nothing was written: run arsync plan again"), err.Error())
			require.Len(t, se.Reasons, 1, "%q", se.Reasons)
			for _, r := range tt.reasons {
				require.Contains(t, se.Reasons[0], r)
			}
		})
	}
}

// TestStalePlanWritesNothing: the whole apply --plan sequence on a stale
// plan, as the command runs it, leaves the tenant as it was.
func TestStalePlanWritesNothing(t *testing.T) {
	e := newEnv(t)
	desired := defs(3)
	applyAll(t, e, desired)
	desired[2] = def(2, withDuration(30))
	p := savedPlan(t, e.plan(desired, false))

	// Someone edits the definition in the portal after the plan was made.
	portal := def(2, withDuration(1)).Definition
	portal.DescriptionForAdmins = p.Changes[2].After.DescriptionForAdmins
	require.NoError(t, e.client.UpdateDefinition(context.Background(), p.Changes[2].ID, &portal))
	before := e.stored()

	e.srv.ResetRequests()
	err := CheckStale(context.Background(), e.client, p, "contoso", e.run.URL)
	require.ErrorAs(t, err, new(*StalePlanError))
	require.Zero(t, e.writes())
	require.Equal(t, before, e.stored())
}

// TestCheckStaleListError: failing to read is not "stale": the error says
// what failed.
func TestCheckStaleListError(t *testing.T) {
	fc := &fakeClient{list: func(int) ([]*graph.Definition, error) {
		return nil, &graph.Error{StatusCode: 403, Method: "GET"}
	}}
	p := synthPlan(map[string]int{"update": 1})
	err := CheckStale(context.Background(), fc, p, "", "")
	require.ErrorContains(t, err, "checking the saved plan against the tenant: listing definitions: GET : 403 Forbidden")
	require.NotErrorAs(t, err, new(*StalePlanError))

	// A plan without changes needs no look at the tenant.
	fc = &fakeClient{}
	require.NoError(t, CheckStale(context.Background(), fc, synthPlan(map[string]int{"noop": 3}), "", ""))
	require.Empty(t, fc.calls)
}
