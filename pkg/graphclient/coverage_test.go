package graphclient

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/coverage"
	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/emulator/emulatortest"
)

// TestCoverageDirectory reads the demo tenant's groups with guests and
// applications with assignments: the guest counts come from $count inside
// $batch (which the emulator answers only with ConsistencyLevel: eventual),
// in one list page per 999 groups plus one batch per 20 groups.
func TestCoverageDirectory(t *testing.T) {
	run := emulatortest.New(t, emulator.Options{Seed: 1})
	c := emulatorClient(t, run, newFakeClock())

	groups, err := c.GroupsWithGuests(t.Context())
	require.NoError(t, err)
	got := map[string]int{}
	for _, g := range groups {
		got[g.MailNickname] = g.Guests
	}
	require.Equal(t, 2, got["marketing"])
	require.Equal(t, 2, got["projectfalcon"])
	require.NotContains(t, got, "allstaff", "a group without guest members is left out")
	for _, g := range groups {
		if g.MailNickname == "projectfalcon" {
			require.Equal(t, coverage.Group{ID: g.ID, DisplayName: "Project Falcon", MailNickname: "projectfalcon",
				GroupTypes: []string{"Unified"}, ResourceProvisioningOptions: []string{"Team"}, MailEnabled: true, Guests: 2}, g)
		}
	}
	var batches, lists int
	for _, r := range run.Server.Requests() {
		switch {
		case r.Batch:
		case strings.HasSuffix(r.Path, "$batch"):
			batches++
		default:
			lists++
		}
	}
	require.Equal(t, 1, lists)
	require.Equal(t, 1, batches, "9 groups: one batch of counts")

	apps, err := c.ApplicationsWithAssignments(t.Context())
	require.NoError(t, err)
	require.NotEmpty(t, apps)
	for _, a := range apps {
		require.Positive(t, a.Assignments, a.DisplayName)
		require.NotEmpty(t, a.AppID)
	}

	roles, err := c.RolesWithAssignments(t.Context())
	require.NoError(t, err)
	require.NotEmpty(t, roles)
	for _, r := range roles {
		require.Positive(t, r.Active+r.Eligible, r.ID)
		require.NotEqual(t, r.ID, r.DisplayName, "named from roleDefinitions")
	}
}

func TestCountBody(t *testing.T) {
	tests := []struct {
		body string
		want int
		ok   bool
	}{
		{`5`, 5, true},
		{`"12"`, 12, true},
		{`"MTI="`, 12, true}, // base64 of "12"
		{`{"a":1}`, 0, false},
		{`"abc"`, 0, false},
	}
	for _, tt := range tests {
		n, err := countBody(json.RawMessage(tt.body))
		require.Equal(t, tt.ok, err == nil, tt.body)
		require.Equal(t, tt.want, n, tt.body)
	}
}

// TestRolesWithoutEligibilityPermission: Directory.Read.All does not read
// PIM's eligibility schedules (Graph answers 403); roles are then read on
// their active assignments, with a warning instead of a failed report.
func TestRolesWithoutEligibilityPermission(t *testing.T) {
	now := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	run := emulatortest.New(t, emulator.Options{Seed: 1, Clock: func() time.Time { return now }})
	tok, err := run.Server.IssueToken(emulator.TokenOptions{Permissions: []string{emulator.PermissionRead, "Directory.Read.All"}})
	require.NoError(t, err)
	c := emulatorClient(t, run, newFakeClock(), func(o *Options) { o.Credential = StaticToken(tok) })

	roles, err := c.RolesWithAssignments(t.Context())
	var pe *coverage.PartialError
	require.ErrorAs(t, err, &pe)
	require.Contains(t, pe.Warning, "RoleEligibilitySchedule.Read.Directory")
	require.NotEmpty(t, roles, "the active assignments are read")
	for _, r := range roles {
		require.Zero(t, r.Eligible)
	}

	in, err := coverage.Read(t.Context(), c)
	require.NoError(t, err)
	require.Equal(t, []string{pe.Warning}, coverage.Compute(nil, in, now).Warnings)

	// With the permission, the eligible assignments count.
	full, err := emulatorClient(t, run, newFakeClock()).RolesWithAssignments(t.Context())
	require.NoError(t, err)
	eligible := 0
	for _, r := range full {
		eligible += r.Eligible
	}
	require.Positive(t, eligible)
}
