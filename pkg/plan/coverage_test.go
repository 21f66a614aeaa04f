package plan

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/graph"
)

// TestAfterPlan: the tenant coverage is judged on is the live tenant with
// the plan's changes made: creates added, updates and adopts as desired
// (keeping the live id and status), deletes gone, replaces swapped; a
// change the plan leaves out (a targeted plan's leftOut) changes nothing.
func TestAfterPlan(t *testing.T) {
	def := func(id, name string) *graph.Definition {
		return &graph.Definition{ID: id, DisplayName: name, Status: "InProgress"}
	}
	live := []graph.Definition{*def("u", "updated"), *def("d", "deleted"), *def("r", "replaced"), *def("k", "kept")}
	p := &diff.Plan{Changes: []diff.Change{
		{Action: diff.Create, After: &graph.Definition{DisplayName: "created"}},
		{Action: diff.Update, Before: def("u", "updated"), After: &graph.Definition{DisplayName: "updated, new"}},
		{Action: diff.Delete, Before: def("d", "deleted")},
		{Action: diff.Replace, Before: def("r", "replaced"), After: &graph.Definition{DisplayName: "replacement"}},
		{Action: diff.NoOp, Before: def("k", "kept"), After: def("k", "kept")},
	}}
	got := afterPlan(live, p)
	var names []string
	for _, d := range got {
		names = append(names, d.ID+":"+d.DisplayName+":"+d.Status)
	}
	require.Equal(t, []string{"u:updated, new:InProgress", "k:kept:InProgress", ":created:", ":replacement:"}, names)
}
