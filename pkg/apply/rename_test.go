package apply

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/graph"
)

// TestOwnershipOfARename: an update or a replace that renames may write
// the definition carrying the name it renames from, and nothing else; a
// delete never writes under another name.
func TestOwnershipOfARename(t *testing.T) {
	live := func(marker string) *graph.Definition {
		return &graph.Definition{ID: "1", DisplayName: "R", DescriptionForAdmins: "x\n" + marker}
	}
	tests := []struct {
		name   string
		ch     diff.Change
		live   *graph.Definition
		reason string
	}{
		{"update carrying the old name", diff.Change{Action: diff.Update, Name: "new", RenamedFrom: "old"}, live("[arsync:old]"), ""},
		{"update carrying the old name with a digest", diff.Change{Action: diff.Update, Name: "new", RenamedFrom: "old"}, live("[arsync:old v1:00]"), ""},
		{"update already renamed", diff.Change{Action: diff.Update, Name: "new", RenamedFrom: "old"}, live("[arsync:new]"), ""},
		{"replace carrying the old name", diff.Change{Action: diff.Replace, Name: "new", RenamedFrom: "old", Before: live("[arsync:old]")}, live("[arsync:old]"), ""},
		{"update carrying a third name", diff.Change{Action: diff.Update, Name: "new", RenamedFrom: "old"}, live("[arsync:other]"),
			"does not carry the marker [arsync:new] that an update needs: it carries [arsync:other]"},
		{"update of an unmarked definition", diff.Change{Action: diff.Update, Name: "new", RenamedFrom: "old"}, live(""),
			"does not carry the marker [arsync:new] that an update needs: it carries no arsync marker"},
		{"a delete does not rename", diff.Change{Action: diff.Delete, Name: "new", RenamedFrom: "old"}, live("[arsync:old]"),
			"does not carry the marker [arsync:new] that a delete needs: it carries [arsync:old]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.reason, ownershipProblem(&tt.ch, tt.live))
		})
	}
}
