package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/report"
)

// TestStatusAllFormatsEndToEnd: status through Main against the emulator
// shows the reviewers by name, decided/pending, --all adds a review made
// outside arsync, every format renders, and the names cost a constant
// number of round trips, not one per instance.
func TestStatusAllFormatsEndToEnd(t *testing.T) {
	run, _ := reviewsEmulator(t)
	// A review made in the portal: no marker.
	_, err := clientFor(t, run).CreateDefinition(context.Background(), &graph.Definition{
		DisplayName: "Made in the portal", DescriptionForAdmins: "not arsync's",
		Scope: &graph.Scope{ODataType: "#microsoft.graph.accessReviewQueryScope",
			Query: "/groups/" + tenantSales + "/transitiveMembers", QueryType: "MicrosoftGraph"},
		Reviewers: []graph.ReviewerScope{{Query: "/groups/" + tenantSales + "/owners", QueryType: "MicrosoftGraph"}},
		Settings: &graph.ScheduleSettings{Recurrence: &graph.PatternedRecurrence{
			Range: &graph.RecurrenceRange{Type: "numbered", StartDate: "2026-01-06", EndDate: "2026-01-20"}}},
	})
	require.NoError(t, err)

	code, out, errOut := runCLI(t, run, "status")
	require.Equal(t, exitOK, code, errOut)
	require.NotContains(t, out, "Made in the portal", "managed reviews only by default")

	run.Server.ResetRequests()
	code, out, errOut = runCLI(t, run, "status", "--all", "-o", "json")
	require.Equal(t, exitOK, code, errOut)
	var rep report.StatusReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Len(t, rep.Definitions, 2)
	managed, portal := rep.Definitions[0], rep.Definitions[1]
	require.True(t, managed.Managed)
	require.Equal(t, "2026-04-05T00:00:00Z", managed.NextStartDateTime)
	require.Equal(t, "MOD Administrator", managed.FallbackReviewers[0].Description)
	require.Len(t, managed.Instances, 3)
	mk := managed.Instances[0]
	require.Equal(t, "Marketing", mk.Resource)
	require.Equal(t, []int{2, 1, 1}, []int{mk.Total, mk.Decided, mk.Pending})
	require.Equal(t, "owners of Marketing", mk.Reviewers[0].Description)
	require.False(t, portal.Managed)
	require.Empty(t, portal.Name)
	require.Equal(t, "owners of Sales", portal.Reviewers[0].Description)
	require.Empty(t, portal.NextStartDateTime, "a one-time review that has started has no next start")

	// Names: one getByIds for every resource and reviewer, not one per
	// instance.
	names := 0
	for _, r := range run.Server.Requests() {
		if !r.Batch && (strings.Contains(r.Path, "directoryObjects") || strings.Contains(r.Path, "$batch") ||
			strings.Contains(r.Path, "/users") || strings.Contains(r.Path, "/groups")) {
			names++
		}
	}
	require.Equal(t, 1, names, "%v", run.Server.Requests())

	code, out, errOut = runCLI(t, run, "status", "--all", "-o", "csv")
	require.Equal(t, exitOK, code, errOut)
	rows := csvRows(t, out)
	require.Len(t, rows, 4, "one row per current instance")
	require.Equal(t, "Marketing", rows[0]["resource"])
	require.Equal(t, "1", rows[0]["decided"])
	require.Equal(t, "owners of each reviewed group", rows[0]["reviewers"])
	require.Equal(t, "false", rows[3]["managed"])

	code, out, errOut = runCLI(t, run, "status", "--all", "-o", "markdown")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "## guests-m365-quarterly\n")
	require.Contains(t, out, `## "Made in the portal" (unmanaged)`)
	require.Regexp(t, `\| Marketing \| InProgress \| - \| 2026-01-05 00:00 \| 2026-01-19 00:00 \| 1/2 \| 1 \|`, out)
}
