package apply

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/graph"
)

// synthPlan builds a plan with n changes of each action given, named
// "<action>-<i>". A replace's Before carries the marker unless the action
// is written "replace-adopt".
func synthPlan(counts map[string]int) *diff.Plan {
	p := &diff.Plan{FormatVersion: diff.FormatVersion}
	for _, a := range []string{"create", "update", "adopt", "replace", "replace-adopt", "delete", "noop"} {
		for i := range counts[a] {
			name := fmt.Sprintf("%s-%d", a, i)
			c := diff.Change{Name: name}
			marked := &graph.Definition{ID: "id-" + name, DescriptionForAdmins: graph.WithMarker("d", name)}
			body := &graph.Definition{DescriptionForAdmins: graph.WithMarker("d", name)}
			switch a {
			case "create":
				c.Action, c.After = diff.Create, body
			case "update":
				c.Action, c.ID, c.Before, c.After = diff.Update, marked.ID, marked, body
			case "adopt":
				c.Action, c.ID, c.After = diff.Adopt, "id-"+name, body
				c.Before = &graph.Definition{ID: c.ID, DescriptionForAdmins: "d"}
			case "replace":
				c.Action, c.ID, c.Before, c.After = diff.Replace, marked.ID, marked, body
			case "replace-adopt":
				c.Action, c.ID, c.After = diff.Replace, "id-"+name, body
				c.Before = &graph.Definition{ID: c.ID, DescriptionForAdmins: "d"}
			case "delete":
				c.Action, c.ID, c.Before = diff.Delete, marked.ID, marked
			case "noop":
				c.Action, c.ID = diff.NoOp, "id-"+name
			}
			p.Changes = append(p.Changes, c)
		}
	}
	return p
}

func TestCheckGates(t *testing.T) {
	tests := []struct {
		name    string
		counts  map[string]int
		opts    Options
		managed int
		gates   []Gate // refusing gates, in order
		msg     string // the whole error, when set
	}{
		{name: "empty plan", counts: nil},
		{name: "creates only", counts: map[string]int{"create": 50}},
		{
			name: "delete refused", counts: map[string]int{"delete": 1, "noop": 2}, managed: 3, gates: []Gate{GateDelete},
			msg: "refusing to delete 1 definition (delete-0) without --allow-delete (or allowDelete: true in arsync.yaml): a delete also removes the review history (instances and decisions)",
		},
		{name: "delete allowed", counts: map[string]int{"delete": 2, "noop": 2}, opts: Options{AllowDelete: true}, managed: 4},
		{
			name: "replace refused", counts: map[string]int{"replace": 2}, managed: 2, gates: []Gate{GateReplace},
			msg: "refusing to replace 2 definitions (replace-0, replace-1) without --allow-replace (or allowReplace: true in arsync.yaml): a replace deletes the definition with its review history and creates it again",
		},
		{name: "replace allowed", counts: map[string]int{"replace": 1}, opts: Options{AllowReplace: true}, managed: 1},
		{name: "allow-delete does not allow replace", counts: map[string]int{"replace": 1}, opts: Options{AllowDelete: true}, managed: 1, gates: []Gate{GateReplace}},
		{name: "both refused, both reported", counts: map[string]int{"replace": 1, "delete": 1}, managed: 2, gates: []Gate{GateDelete, GateReplace}},
		{name: "30% of 10 is allowed", counts: map[string]int{"update": 3, "noop": 7}, managed: 10},
		{
			name: "40% of 10 is refused", counts: map[string]int{"update": 4, "noop": 6}, managed: 10, gates: []Gate{GateLimit},
			msg: "refusing to update, replace or delete 4 of 10 managed definitions (40%, more than the 30% limit) without --force (maxChangePercent in arsync.yaml sets the limit)",
		},
		{name: "force", counts: map[string]int{"update": 10}, opts: Options{Force: true}, managed: 10},
		{name: "under 10 managed, no limit", counts: map[string]int{"update": 9}, managed: 9},
		{name: "deletes and replaces count", counts: map[string]int{"delete": 2, "replace": 2, "noop": 8}, opts: Options{AllowDelete: true, AllowReplace: true}, managed: 12, gates: []Gate{GateLimit}},
		{name: "creates and adoptions do not count", counts: map[string]int{"create": 30, "adopt": 20, "update": 3, "noop": 7}, managed: 10},
		{name: "an adopting replace counts, but not as managed", counts: map[string]int{"replace-adopt": 4, "noop": 10}, opts: Options{AllowReplace: true}, managed: 10, gates: []Gate{GateLimit}},
		{name: "limit from config: 0", counts: map[string]int{"update": 1, "noop": 9}, opts: Options{MaxChangePercent: ptr(0)}, managed: 10, gates: []Gate{GateLimit}},
		{name: "limit from config: 100", counts: map[string]int{"update": 10}, opts: Options{MaxChangePercent: ptr(100)}, managed: 10},
		{name: "every gate at once", counts: map[string]int{"update": 5, "replace": 3, "delete": 3}, managed: 11, gates: []Gate{GateDelete, GateReplace, GateLimit}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := synthPlan(tt.counts)
			require.Equal(t, tt.managed, ManagedCount(p))
			err := CheckGates(p, tt.opts)
			var got []Gate
			for _, e := range unjoin(err) {
				var ge *GateError
				require.ErrorAs(t, e, &ge)
				got = append(got, ge.Gate)
			}
			if d := cmp.Diff(tt.gates, got); d != "" {
				t.Fatalf("gates (-want +got):\n%s\nerror: %v", d, err)
			}
			if tt.msg != "" {
				require.EqualError(t, err, tt.msg)
			}
		})
	}
}

func TestCheckGatesBadLimit(t *testing.T) {
	err := CheckGates(synthPlan(nil), Options{MaxChangePercent: ptr(101)})
	require.EqualError(t, err, "the change limit must be between 0 and 100 percent, got 101")
	require.ErrorIs(t, CheckGates(nil, Options{}), ErrInvalidPlan)
}

func TestGateErrorListsAtMostTenNames(t *testing.T) {
	err := CheckGates(synthPlan(map[string]int{"delete": 12}), Options{Force: true})
	require.ErrorContains(t, err, "12 definitions (delete-0, delete-1, delete-2, delete-3, delete-4, delete-5, delete-6, delete-7, delete-8, delete-9 and 2 more)")
}

func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// TestApplyChecksGatesItself: Apply refuses before its first call, even
// when the caller did not call CheckGates.
func TestApplyChecksGatesItself(t *testing.T) {
	fc := &fakeClient{}
	_, err := Apply(t.Context(), fc, synthPlan(map[string]int{"create": 1, "delete": 1}), Options{})
	require.ErrorAs(t, err, new(*GateError))
	require.Empty(t, fc.calls)
}

// TestCheckGatesTargeted: the limit counts a targeted plan's changes only,
// as a share of every managed definition, the left-out ones included.
func TestCheckGatesTargeted(t *testing.T) {
	p := synthPlan(map[string]int{"update": 1})
	for i := range 19 {
		p.LeftOut = append(p.LeftOut, diff.LeftOut{Action: diff.Update, Name: fmt.Sprintf("other-%d", i), Managed: true})
	}
	p.LeftOut = append(p.LeftOut, diff.LeftOut{Action: diff.Adopt, Name: "unmarked"})
	require.Equal(t, 20, ManagedCount(p))
	require.NoError(t, CheckGates(p, Options{}), "1 of 20 is under the limit")

	p = synthPlan(map[string]int{"update": 7})
	for i := range 13 {
		p.LeftOut = append(p.LeftOut, diff.LeftOut{Action: diff.Delete, Name: fmt.Sprintf("other-%d", i), Managed: true})
	}
	require.EqualError(t, CheckGates(p, Options{}), "refusing to update, replace or delete 7 of 20 managed definitions (35%, more than the 30% limit) without --force (maxChangePercent in arsync.yaml sets the limit)")
}
