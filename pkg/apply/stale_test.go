package apply

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
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

// TestWrongTarget: a plan made for another tenant or endpoint is not stale
// (planning again there would not help): the message says where it was
// made and names the flags that point arsync there.
func TestWrongTarget(t *testing.T) {
	tests := []struct {
		name     string
		tenant   string
		endpoint string // "" is the plan's own
		want     string
	}{
		{
			name:   "another tenant",
			tenant: "fabrikam",
			want:   "this plan was made for tenant contoso, but arsync is signed in to tenant fabrikam; nothing was written: apply it signed in to tenant contoso (--tenant-id contoso, or tenantId in arsync.yaml, with an identity of that tenant), or run arsync plan for tenant fabrikam",
		},
		{
			name:     "another endpoint",
			tenant:   "contoso",
			endpoint: "https://graph.microsoft.com/v1.0",
			want:     "this plan was made for endpoint http://127.0.0.1:<port>/v1.0, not https://graph.microsoft.com/v1.0; nothing was written: apply it with the plan's --graph-endpoint (or --cloud), or run arsync plan against https://graph.microsoft.com/v1.0",
		},
		{
			name:     "both",
			tenant:   "fabrikam",
			endpoint: "https://graph.microsoft.com/v1.0",
			want:     "this plan was made for tenant contoso, but arsync is signed in to tenant fabrikam; this plan was made for endpoint http://127.0.0.1:<port>/v1.0, not https://graph.microsoft.com/v1.0; nothing was written: apply it signed in to tenant contoso (--tenant-id contoso, or tenantId in arsync.yaml, with an identity of that tenant) with the plan's --graph-endpoint (or --cloud), or run arsync plan for tenant fabrikam against https://graph.microsoft.com/v1.0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			p := savedPlan(t, e.plan(defs(2), false))
			endpoint := tt.endpoint
			if endpoint == "" {
				endpoint = e.run.URL
			}
			e.srv.ResetRequests()
			err := CheckStale(context.Background(), e.client, p, tt.tenant, endpoint)
			require.Empty(t, e.srv.Requests(), "checked before any request")
			var wt *WrongTargetError
			require.ErrorAs(t, err, &wt)
			require.NotErrorAs(t, err, new(*StalePlanError))
			require.Equal(t, tt.want, regexp.MustCompile(`127\.0\.0\.1:\d+`).ReplaceAllString(err.Error(), "127.0.0.1:<port>"))
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

// forged saves p, edits the saved plan and recomputes its summary and its
// digest, as someone who can write the file and knows the algorithm would,
// and reads it back as apply --plan does.
func forged(t *testing.T, p *diff.Plan, edit func(p *diff.Plan)) *diff.Plan {
	t.Helper()
	f := savedPlan(t, p)
	edit(f)
	f.Summary = diff.Summary{}
	for _, c := range f.Changes {
		switch c.Action {
		case diff.Create:
			f.Summary.Create++
		case diff.Update:
			f.Summary.Update++
		case diff.Adopt:
			f.Summary.Adopt++
		case diff.Replace:
			f.Summary.Replace++
		case diff.Delete:
			f.Summary.Delete++
		case diff.NoOp:
			f.Summary.NoOp++
		}
	}
	return savedPlan(t, f)
}

// TestForgedPlanIsRefused: a saved plan edited to aim a change at a
// definition it may not write, with a valid digest and the definition's
// true fingerprint (both computable by anyone who can read the tenant),
// is refused by CheckStale before any write, and by Apply as it writes
// when CheckStale is skipped.
func TestForgedPlanIsRefused(t *testing.T) {
	tests := []struct {
		name string
		// edit forges the plan; target names the change aimed elsewhere.
		edit   func(t *testing.T, e *env, p *diff.Plan)
		target string
		reason string
	}{
		{
			name: "an adopt turned into a delete",
			edit: func(t *testing.T, e *env, p *diff.Plan) {
				c := changeIn(t, p, "review-007")
				c.Action, c.After = diff.Delete, nil
			},
			target: "review-007",
			reason: `does not carry the marker [arsync:review-007] that a delete needs: it carries no arsync marker`,
		},
		{
			name: "a delete aimed at an unmanaged definition",
			edit: func(t *testing.T, e *env, p *diff.Plan) {
				c, other := changeIn(t, p, "review-002"), changeIn(t, p, "review-007")
				c.ID, c.LiveFingerprint = other.ID, other.LiveFingerprint
				p.Changes = slices.DeleteFunc(p.Changes, func(c diff.Change) bool { return c.Name == "review-007" })
			},
			target: "review-002",
			reason: `does not carry the marker [arsync:review-002] that a delete needs: it carries no arsync marker`,
		},
		{
			name: "a delete of an unmanaged definition added",
			edit: func(t *testing.T, e *env, p *diff.Plan) {
				other := changeIn(t, p, "review-008")
				p.Changes = append(p.Changes, diff.Change{Action: diff.Delete, Name: "review-009", ID: other.ID, DisplayName: "x", LiveFingerprint: other.LiveFingerprint})
				p.Changes = slices.DeleteFunc(p.Changes, func(c diff.Change) bool { return c.Name == "review-008" })
			},
			target: "review-009",
			reason: `does not carry the marker [arsync:review-009] that a delete needs: it carries no arsync marker`,
		},
		{
			name: "an update renamed to another managed definition's name",
			edit: func(t *testing.T, e *env, p *diff.Plan) {
				c := changeIn(t, p, "review-000")
				c.Name = "review-005"
				c.After.DescriptionForAdmins = graph.WithMarker(c.After.DescriptionForAdmins, "review-005")
			},
			target: "review-005",
			reason: `does not carry the marker [arsync:review-005] that an update needs: it carries [arsync:review-000]`,
		},
		{
			name: "an adopt's displayName changed",
			edit: func(t *testing.T, e *env, p *diff.Plan) {
				changeIn(t, p, "review-007").DisplayName = "Review 008"
			},
			target: "review-007",
			reason: `is not named "Review 008" as the plan says, and an adopt takes over only the unmanaged definition of that displayName`,
		},
		{
			name: "a managed replace made to look adopting",
			edit: func(t *testing.T, e *env, p *diff.Plan) {
				c := changeIn(t, p, "review-001")
				c.Before.DescriptionForAdmins = "no marker"
			},
			target: "review-001",
			reason: `carries the marker [arsync:review-001], and a replace takes over only a definition without one`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, p := ownershipFixture(t)
			f := forged(t, p, func(p *diff.Plan) { tt.edit(t, e, p) })
			target := changeIn(t, f, tt.target)
			before := storedByID(e)[target.ID]
			require.NotEmpty(t, before)

			e.srv.ResetRequests()
			err := CheckStale(context.Background(), e.client, f, "contoso", e.run.URL)
			var se *StalePlanError
			require.ErrorAs(t, err, &se)
			var d graph.Definition
			require.NoError(t, json.Unmarshal([]byte(before), &d))
			require.Equal(t, []string{fmt.Sprintf("%s: definition %s (%q) %s", tt.target, target.ID, d.DisplayName, tt.reason)}, se.Reasons)
			require.Zero(t, e.writes())

			// Without CheckStale, Apply refuses the change as it writes.
			rep, err := Apply(context.Background(), e.client, f, e.opts(func(o *Options) {
				o.AllowDelete, o.AllowReplace, o.Force = true, true, true
			}))
			require.ErrorAs(t, err, new(*IncompleteError))
			for _, res := range rep.Results {
				if res.Change.Name == tt.target {
					require.Equal(t, Failed, res.Outcome)
					require.ErrorContains(t, res.Err, tt.reason)
				}
			}
			require.Empty(t, writesTo(e, target.ID))
			require.Equal(t, before, storedByID(e)[target.ID], "the definition is as it was")
		})
	}
}

// changeIn returns a pointer to p's change for name, to edit it.
func changeIn(t *testing.T, p *diff.Plan, name string) *diff.Change {
	t.Helper()
	for i := range p.Changes {
		if p.Changes[i].Name == name {
			return &p.Changes[i]
		}
	}
	t.Fatalf("no change for %s", name)
	return nil
}
