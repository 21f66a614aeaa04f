package report

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestStatusHistory: with History every instance is kept, oldest first,
// with its own counts; Since leaves out the instances that ended before it.
func TestStatusHistory(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	// The quarterly review's second round starts on 2026-04-05.
	_, err := f.run.Server.SetNow(ts("2026-04-06T00:00:00Z"))
	require.NoError(t, err)
	now := f.run.Server.Now()

	current, err := StatusOf(ctx, f.client, StatusQuery{Names: []string{"guests-m365-quarterly"}}, now)
	require.NoError(t, err)
	require.Len(t, current.Definitions, 1)
	perResource := len(current.Definitions[0].Instances)

	rep, err := StatusOf(ctx, f.client, StatusQuery{Names: []string{"guests-m365-quarterly"}, History: true}, now)
	require.NoError(t, err)
	ds := rep.Definitions[0]
	require.Len(t, ds.Instances, ds.TotalInstances)
	require.Greater(t, ds.TotalInstances, perResource, "two rounds")
	var starts []string
	decided := 0
	for _, in := range ds.Instances {
		starts = append(starts, in.StartDateTime[:10])
		decided += in.Decided
	}
	require.IsNonDecreasing(t, starts)
	require.Equal(t, "2026-01-05", starts[0])
	require.Equal(t, "2026-04-05", starts[len(starts)-1])
	require.Positive(t, decided, "the first round's decisions are kept")
	require.NotEmpty(t, ds.Instances[0].Resource, "instances are named")

	rep, err = StatusOf(ctx, f.client, StatusQuery{Names: []string{"guests-m365-quarterly"}, History: true, Since: ts("2026-02-01T00:00:00Z")}, now)
	require.NoError(t, err)
	ds = rep.Definitions[0]
	require.NotEmpty(t, ds.Instances)
	require.Less(t, len(ds.Instances), ds.TotalInstances, "the January round ended before --since")
	for _, in := range ds.Instances {
		require.Equal(t, "2026-04-05", in.StartDateTime[:10])
	}
}
