package emuctl

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/graphclient"
)

func TestParseStep(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{
		"30d": 30 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "12h": 12 * time.Hour, "90m": 90 * time.Minute, "0s": 0,
	} {
		got, err := ParseStep(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "soon", "d", "-1d", "-2h", "1y", "9999999d"} {
		_, err := ParseStep(bad)
		require.Error(t, err, bad)
	}
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	got, err := ParseTime("2026-01-06")
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 1, 6, 0, 0, 0, 0, time.UTC), got)
	got, err = ParseTime("2026-01-06T09:30:00+01:00")
	require.NoError(t, err)
	require.True(t, got.Equal(time.Date(2026, 1, 6, 8, 30, 0, 0, time.UTC)))
	_, err = ParseTime("next monday")
	require.ErrorContains(t, err, "RFC 3339")
}

func TestOpenAndFindReview(t *testing.T) {
	t.Parallel()
	_, err := Open("", "", "")
	require.Error(t, err)
	state := filepath.Join(t.TempDir(), "emu.json")
	srv, err := Open(state, "", filepath.Join(t.TempDir(), "absent.yaml"))
	require.NoError(t, err)
	_, err = srv.Advance(time.Hour) // creates the state file
	require.NoError(t, err)
	_, err = Open(state, "", "")
	require.ErrorIs(t, err, emulator.ErrStateLocked, "one arsync at a time")
	require.NoError(t, srv.Close())

	// Two definitions: one managed, two sharing a displayName.
	run, err := emulator.Start(emulator.Options{StateFile: state})
	require.NoError(t, err)
	c, err := graphclient.New(graphclient.Options{BaseURL: run.URL, Credential: graphclient.StaticToken(run.Token)})
	require.NoError(t, err)
	mk := func(name, desc string) string { return createReview(t, c, name, desc) }
	managed := mk("Marketing members", "x\n[arsync:marketing-members]")
	twin := mk("Twin", "")
	mk("Twin", "")
	require.NoError(t, run.Close())

	srv, err = Open(state, "", "")
	require.NoError(t, err)
	defer srv.Close()
	for key, want := range map[string]string{"marketing-members": managed, managed: managed, "Marketing members": managed, twin: twin} {
		id, _, err := FindReview(srv, key)
		require.NoError(t, err, key)
		require.Equal(t, want, id, key)
	}
	_, _, err = FindReview(srv, "Twin")
	require.ErrorContains(t, err, "2 definitions are called")
	_, _, err = FindReview(srv, "nope")
	require.ErrorIs(t, err, emulator.ErrNotFound)
}

// TestFindReviewOldestWins: of two definitions carrying one marker, the
// name finds the one plan keeps (the oldest by createdDateTime), whatever
// order they were created in.
func TestFindReviewOldestWins(t *testing.T) {
	t.Parallel()
	var now atomic.Int64 // the emulator's clock, in Unix seconds
	now.Store(time.Date(2026, 1, 6, 10, 0, 0, 0, time.UTC).Unix())
	run, err := emulator.Start(emulator.Options{Clock: func() time.Time { return time.Unix(now.Load(), 0).UTC() }})
	require.NoError(t, err)
	t.Cleanup(func() { _ = run.Close() })
	c, err := graphclient.New(graphclient.Options{BaseURL: run.URL, Credential: graphclient.StaticToken(run.Token)})
	require.NoError(t, err)
	mk := func(desc string) string { return createReview(t, c, "Dup", desc) }
	mk("[arsync:dup]")
	now.Add(-3600)
	older := mk("x\n[arsync:dup]")

	id, name, err := FindReview(run.Server, "dup")
	require.NoError(t, err)
	require.Equal(t, older, id)
	require.Equal(t, "Dup", name)
}

// createReview creates a definition by hand in the emulator and returns
// its id.
func createReview(t *testing.T, c *graphclient.Client, displayName, desc string) string {
	t.Helper()
	yes := true
	d, err := c.CreateDefinition(context.Background(), &graph.Definition{
		DisplayName: displayName, DescriptionForAdmins: desc,
		Scope:     &graph.Scope{ODataType: graph.TypeQueryScope, Query: "/groups/ea1ee477-0a50-41ac-8699-c70d0c1f868a/members", QueryType: "MicrosoftGraph"},
		Reviewers: []graph.ReviewerScope{{Query: "/users/398164b1-5196-49dd-ada2-364b49f99b27", QueryType: "MicrosoftGraph"}},
		Settings: &graph.ScheduleSettings{MailNotificationsEnabled: &yes, Recurrence: &graph.PatternedRecurrence{
			Range: &graph.RecurrenceRange{Type: "noEnd", StartDate: "2030-01-01"}}},
	})
	require.NoError(t, err)
	return d.ID
}
