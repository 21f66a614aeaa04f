package apply

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/graph"
)

// ownershipFixture is a tenant with three managed reviews and two made in
// the portal, and a plan made in the same run with every action that
// writes an existing definition: update review-000, replace review-001,
// delete review-002, adopt "Review 007", and replace (adopting) "Review
// 008", whose scope differs.
func ownershipFixture(t *testing.T) (*env, *diff.Plan) {
	t.Helper()
	e := newEnv(t)
	applyAll(t, e, defs(3))
	e.seed(def(7).Definition, "")
	e.seed(def(8, withScopeGroup(groupIDs[0])).Definition, "")
	desired := []diff.Desired{
		def(0, withDuration(20)),
		def(1, withScopeGroup(groupIDs[2])),
		def(7),
		def(8),
	}
	p := e.plan(desired, false)
	require.Equal(t, diff.Summary{Update: 1, Replace: 2, Delete: 1, Adopt: 1}, p.Summary)
	return e, p
}

// changeOf returns p's change for name.
func changeOf(t *testing.T, p *diff.Plan, name string) diff.Change {
	t.Helper()
	for _, c := range p.Changes {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no change for %s", name)
	return diff.Change{}
}

// retouch edits a live definition as someone in the portal would.
func retouch(t *testing.T, e *env, id string, edit func(d *graph.Definition)) {
	t.Helper()
	ctx := context.Background()
	d, err := e.client.GetDefinition(ctx, id)
	require.NoError(t, err)
	body := d.UpdateBody()
	edit(&body)
	require.NoError(t, e.client.UpdateDefinition(ctx, id, &body))
}

func withDescription(desc string) func(d *graph.Definition) {
	return func(d *graph.Definition) { d.DescriptionForAdmins = desc }
}

// storedByID is the emulator's store by id, as stored.
func storedByID(e *env) map[string]string {
	out := map[string]string{}
	for _, raw := range e.srv.Definitions() {
		var d struct{ ID string }
		if json.Unmarshal(raw, &d) == nil {
			out[d.ID] = string(raw)
		}
	}
	return out
}

// writesTo lists the write requests the emulator answered for id.
func writesTo(e *env, id string) []string {
	var out []string
	for _, r := range e.srv.Requests() {
		if r.Method != http.MethodGet && strings.HasSuffix(r.Path, "/"+id) {
			out = append(out, r.Method)
		}
	}
	return out
}

// onFirstPUT runs a function once, as the first PUT is sent: the tenant
// changes while the run is under way.
type onFirstPUT struct {
	Client
	once sync.Once
	f    func()
}

func (c *onFirstPUT) UpdateDefinition(ctx context.Context, id string, d *graph.Definition) error {
	c.once.Do(c.f)
	return c.Client.UpdateDefinition(ctx, id, d)
}

// TestApplyRechecksOwnershipAsItWrites: for a plan made in the same run
// (no CheckStale), a definition that gained, lost or changed its marker,
// or an adopted one renamed, between the plan and the write is refused as
// stale, naming the definition, and nothing is written to it; the other
// changes are carried out.
func TestApplyRechecksOwnershipAsItWrites(t *testing.T) {
	const stale = "stale plan: definition "
	tests := []struct {
		name string
		// tamper changes the tenant after the plan; during, while the run
		// is under way (as phase 2's first PUT is sent).
		tamper, during func(t *testing.T, e *env, p *diff.Plan)
		// refused is the change refused; reason what its error says.
		refused, reason string
		notes           []string
	}{
		{name: "nothing moved"},
		{
			name: "update: its marker was removed",
			tamper: func(t *testing.T, e *env, p *diff.Plan) {
				retouch(t, e, changeOf(t, p, "review-000").ID, withDescription("Handed back to the portal"))
			},
			refused: "review-000", reason: `("Review 000") does not carry the marker [arsync:review-000] that an update needs: it carries no arsync marker; nothing was written for review-000: run arsync plan again`,
		},
		{
			name: "update: its marker was changed",
			tamper: func(t *testing.T, e *env, p *diff.Plan) {
				retouch(t, e, changeOf(t, p, "review-000").ID, withDescription(graph.WithMarker("x", "someone-else")))
			},
			refused: "review-000", reason: `("Review 000") does not carry the marker [arsync:review-000] that an update needs: it carries [arsync:someone-else]`,
		},
		{
			name: "replace: its marker was removed",
			tamper: func(t *testing.T, e *env, p *diff.Plan) {
				retouch(t, e, changeOf(t, p, "review-001").ID, withDescription("Handed back"))
			},
			refused: "review-001", reason: `("Review 001") does not carry the marker [arsync:review-001] that a replace needs: it carries no arsync marker`,
		},
		{
			name: "delete: its marker was removed",
			tamper: func(t *testing.T, e *env, p *diff.Plan) {
				retouch(t, e, changeOf(t, p, "review-002").ID, withDescription("Handed back"))
			},
			refused: "review-002", reason: `("Review 002") does not carry the marker [arsync:review-002] that a delete needs: it carries no arsync marker; nothing was written for review-002: run arsync plan again`,
		},
		{
			name: "delete: its marker was removed while the run was under way",
			during: func(t *testing.T, e *env, p *diff.Plan) {
				retouch(t, e, changeOf(t, p, "review-002").ID, withDescription("Handed back"))
			},
			refused: "review-002", reason: `("Review 002") does not carry the marker [arsync:review-002] that a delete needs: it carries no arsync marker`,
		},
		{
			name: "adopt: the unmarked definition gained a marker",
			tamper: func(t *testing.T, e *env, p *diff.Plan) {
				retouch(t, e, changeOf(t, p, "review-007").ID, withDescription(graph.WithMarker("x", "portal-team")))
			},
			refused: "review-007", reason: `("Review 007") carries the marker [arsync:portal-team], and an adopt takes over only a definition without one`,
		},
		{
			name: "adopt: the unmarked definition was renamed",
			tamper: func(t *testing.T, e *env, p *diff.Plan) {
				retouch(t, e, changeOf(t, p, "review-007").ID, func(d *graph.Definition) { d.DisplayName = "Review 007 (old)" })
			},
			refused: "review-007", reason: `("Review 007 (old)") is not named "Review 007" as the plan says, and an adopt takes over only the unmanaged definition of that displayName`,
		},
		{
			name: "adopting replace: the unmarked definition gained a marker",
			tamper: func(t *testing.T, e *env, p *diff.Plan) {
				retouch(t, e, changeOf(t, p, "review-008").ID, withDescription(graph.WithMarker("x", "portal-team")))
			},
			refused: "review-008", reason: `("Review 008") carries the marker [arsync:portal-team], and a replace takes over only a definition without one`,
		},
		{
			name: "update: the definition is gone",
			tamper: func(t *testing.T, e *env, p *diff.Plan) {
				require.NoError(t, e.client.DeleteDefinition(context.Background(), changeOf(t, p, "review-000").ID))
			},
			refused: "review-000", reason: `("Review 000") no longer exists; nothing was written for review-000: run arsync plan again`,
		},
		{
			name: "delete: the definition is gone",
			tamper: func(t *testing.T, e *env, p *diff.Plan) {
				require.NoError(t, e.client.DeleteDefinition(context.Background(), changeOf(t, p, "review-002").ID))
			},
			notes: []string{"was already gone"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, p := ownershipFixture(t)
			if tt.tamper != nil {
				tt.tamper(t, e, p)
			}
			var c Client = e.client
			if tt.during != nil {
				c = &onFirstPUT{Client: e.client, f: func() { tt.during(t, e, p) }}
			}
			var refusedID, before string
			if tt.refused != "" {
				refusedID = changeOf(t, p, tt.refused).ID
				if tt.during == nil {
					before = storedByID(e)[refusedID]
				}
			}
			e.srv.ResetRequests()

			var progress bytes.Buffer
			rep, err := Apply(context.Background(), c, p, e.opts(func(o *Options) {
				o.AllowDelete, o.AllowReplace = true, true
				o.Progress = &progress
			}))
			var notes []string
			for _, res := range rep.Results {
				notes = append(notes, res.Notes...)
				if res.Change.Name != tt.refused {
					require.Equal(t, Done, res.Outcome, "%s: %v", res.Change.Name, res.Err)
					continue
				}
				require.Equal(t, Failed, res.Outcome)
				var se *StaleChangeError
				require.ErrorAs(t, res.Err, &se)
				require.Equal(t, refusedID, se.ID)
				require.Equal(t, stale+refusedID+" "+tt.reason, res.Err.Error()[:len(stale+refusedID+" "+tt.reason)])
				require.Contains(t, progress.String(), " "+tt.refused+" ... failed (")
			}
			for i, n := range tt.notes {
				require.Contains(t, notes[i], n)
			}
			if tt.refused == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorAs(t, err, new(*IncompleteError))
			require.Equal(t, len(rep.Results)-1, rep.Count(Done))
			var portal []string
			if tt.during != nil {
				portal = []string{http.MethodPut} // the edit made during the run
			}
			require.Equal(t, portal, writesTo(e, refusedID), "nothing was written to %s", refusedID)
			if before != "" {
				require.Equal(t, before, storedByID(e)[refusedID], "the definition is as it was")
			}
			require.NotContains(t, progress.String(), "warning: replacing "+tt.refused)
		})
	}
}

// TestApplyDeletesYoungerDuplicate: a younger duplicate carries the
// change's own marker, so the ownership check lets its delete through.
func TestApplyDeletesYoungerDuplicate(t *testing.T) {
	e := newEnv(t)
	desired := defs(1)
	applyAll(t, e, desired)
	e.clock.Advance(1)
	younger := e.seed(def(0).Definition, "review-000")
	p := e.plan(desired, true)
	require.Equal(t, diff.Summary{Delete: 1, NoOp: 1}, p.Summary)
	rep, err := Apply(context.Background(), e.client, p, e.opts(func(o *Options) { o.AllowDelete = true }))
	require.NoError(t, err)
	require.Equal(t, younger, rep.Results[0].Change.ID)
	e.requireConverged(desired)
}
