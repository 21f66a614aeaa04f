package diff

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/graph"
)

func renamedDesired(name string, d graph.Definition, previous ...string) Desired {
	r := desiredOf(name, d)
	r.PreviousNames = previous
	return r
}

// changeSummary is what the rename tests check of a change.
type changeSummary struct {
	Action      Action
	Name, ID    string
	RenamedFrom string
	Marker      string // the name in the body's marker
}

func summarize(p *Plan) []changeSummary {
	var out []changeSummary
	for _, c := range p.Changes {
		s := changeSummary{Action: c.Action, Name: c.Name, ID: c.ID, RenamedFrom: c.RenamedFrom}
		if c.After != nil {
			s.Marker = graph.ManagedName(c.After)
		}
		out = append(out, s)
	}
	return out
}

func TestComputeRename(t *testing.T) {
	const id1, id2 = "11111111-0000-0000-0000-000000000001", "11111111-0000-0000-0000-000000000002"
	tests := []struct {
		name    string
		desired []Desired
		live    []graph.Definition
		want    []changeSummary
	}{
		{
			name:    "the old name's definition is updated, keeping its id",
			desired: []Desired{renamedDesired("new", baseDef(), "old")},
			live:    []graph.Definition{liveOf(baseDef(), id1, "old")},
			want:    []changeSummary{{Action: Update, Name: "new", ID: id1, RenamedFrom: "old", Marker: "new"}},
		},
		{
			name:    "a rename with a field change",
			desired: []Desired{renamedDesired("new", baseDef(func(d *graph.Definition) { d.DisplayName = "Renamed" }), "old")},
			live:    []graph.Definition{liveOf(baseDef(), id1, "old")},
			want:    []changeSummary{{Action: Update, Name: "new", ID: id1, RenamedFrom: "old", Marker: "new"}},
		},
		{
			name:    "the first previous name carried wins; an older one is deleted",
			desired: []Desired{renamedDesired("c", baseDef(), "b", "a")},
			live:    []graph.Definition{liveOf(baseDef(), id1, "a"), liveOf(baseDef(), id2, "b")},
			want: []changeSummary{
				{Action: Delete, Name: "a", ID: id1},
				{Action: Update, Name: "c", ID: id2, RenamedFrom: "b", Marker: "c"},
			},
		},
		{
			name:    "already renamed: nothing to do",
			desired: []Desired{renamedDesired("new", baseDef(), "old")},
			live:    []graph.Definition{liveOf(baseDef(), id1, "new")},
			want:    []changeSummary{{Action: NoOp, Name: "new", ID: id1}},
		},
		{
			name:    "both names live: the new name's definition wins, the old is deleted",
			desired: []Desired{renamedDesired("new", baseDef(), "old")},
			live:    []graph.Definition{liveOf(baseDef(), id1, "old"), liveOf(baseDef(), id2, "new")},
			want: []changeSummary{
				{Action: NoOp, Name: "new", ID: id2},
				{Action: Delete, Name: "old", ID: id1},
			},
		},
		{
			name:    "a rename that changes the scope is a replace",
			desired: []Desired{renamedDesired("new", baseDef(func(d *graph.Definition) { d.Scope.Query = "/groups/" + groupID + "/members" }), "old")},
			live:    []graph.Definition{liveOf(baseDef(), id1, "old")},
			want:    []changeSummary{{Action: Replace, Name: "new", ID: id1, RenamedFrom: "old", Marker: "new"}},
		},
		{
			name:    "no live definition carries either name: a create",
			desired: []Desired{renamedDesired("new", baseDef(), "old")},
			want:    []changeSummary{{Action: Create, Name: "new", Marker: "new"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := compute(t, tt.desired, tt.live)
			if d := cmp.Diff(tt.want, summarize(p)); d != "" {
				t.Errorf("changes (-want +got):\n%s", d)
			}
		})
	}
}

func TestComputeRenameDetails(t *testing.T) {
	const id = "11111111-0000-0000-0000-000000000001"
	p := compute(t, []Desired{renamedDesired("new", baseDef(), "old")}, []graph.Definition{liveOf(baseDef(), id, "old")})
	c := p.Changes[0]
	require.Empty(t, c.Fields, "only the marker changes")
	require.Equal(t, "Members of the project group\n[arsync:new "+graph.WrittenDigest(baseDef())+"]", c.After.DescriptionForAdmins)
	require.Equal(t, id, c.After.ID)
	require.NotEmpty(t, c.LiveFingerprint)
	require.Equal(t, Summary{Update: 1}, p.Summary)

	p = compute(t, []Desired{renamedDesired("new", baseDef(), "old")}, []graph.Definition{liveOf(baseDef(), id, "old"), liveOf(baseDef(), "2", "new")})
	require.Equal(t, "old is a previous name of new, which has a definition of its own", p.Changes[1].Reason)
}

func TestComputeRenameErrors(t *testing.T) {
	tests := []struct {
		name    string
		desired []Desired
		want    string
	}{
		{"a current name", []Desired{renamedDesired("a", baseDef(), "b"), desiredOf("b", baseDef())},
			`reviews/a.yaml:3: a: previous name "b" is the metadata.name of a definition`},
		{"its own name", []Desired{renamedDesired("a", baseDef(), "a")},
			`reviews/a.yaml:3: a: previous name "a" is the metadata.name of a definition`},
		{"two definitions' previous name", []Desired{renamedDesired("a", baseDef(), "old"), renamedDesired("b", baseDef(), "old")},
			`reviews/b.yaml:3: b: previous name "old" is also a previous name of a`},
		{"not a name", []Desired{renamedDesired("a", baseDef(), "Old Name")},
			`reviews/a.yaml:3: a: previous name "Old Name" must be 1 to 63 characters of a-z, 0-9 and '-'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compute(tt.desired, nil, Options{})
			require.EqualError(t, err, tt.want)
		})
	}
}

func TestComputeChangedOutside(t *testing.T) {
	const id = "11111111-0000-0000-0000-000000000001"
	yamlEdit := func(d *graph.Definition) { d.DescriptionForReviewers = "Questions? Ask jerry." }
	portalEdit := func(l *graph.Definition) { l.Settings.InstanceDurationInDays = ptr(9) }
	tests := []struct {
		name       string
		desired    graph.Definition
		live       graph.Definition
		wantAction Action
		wantFields []string
	}{
		{"nothing changed", baseDef(), writtenLiveOf(baseDef(), id, "project"), NoOp, nil},
		{"a YAML edit is not flagged", baseDef(yamlEdit), writtenLiveOf(baseDef(), id, "project"), Update, nil},
		{"a portal edit is flagged", baseDef(), writtenLiveOf(baseDef(), id, "project", portalEdit), Update, []string{"settings"}},
		{"both: only the portal's field", baseDef(yamlEdit), writtenLiveOf(baseDef(), id, "project", portalEdit), Update, []string{"settings"}},
		{"a portal edit the YAML made too needs nothing", baseDef(func(d *graph.Definition) { d.Settings.InstanceDurationInDays = ptr(9) }),
			writtenLiveOf(baseDef(), id, "project", portalEdit), NoOp, nil},
		{"a marker without digest is never flagged", baseDef(), liveOf(baseDef(), id, "project", portalEdit), Update, nil},
		{"a portal edit that forces a replace", baseDef(func(d *graph.Definition) { d.Scope.Query = "/groups/" + groupID + "/members" }),
			writtenLiveOf(baseDef(), id, "project", func(l *graph.Definition) { l.DisplayName = "Edited" }), Replace, []string{"displayName"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := compute(t, []Desired{desiredOf("project", tt.desired)}, []graph.Definition{tt.live})
			c := p.Changes[0]
			require.Equal(t, tt.wantAction, c.Action)
			require.Equal(t, tt.wantFields, c.ChangedOutsideFields)
			require.Equal(t, len(tt.wantFields) > 0, c.ChangedOutside)
		})
	}
}
