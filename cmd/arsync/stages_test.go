package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/emuctl"
	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/emulator/emulatortest"
	"github.com/arsync/arsync/pkg/report"
)

// TestMultiStageStatusAndDecisions applies the two-stage Finance example,
// has the managers decide in stage 1 and reads stage 2 through "status"
// and "decisions --stage".
func TestMultiStageStatusAndDecisions(t *testing.T) {
	run := emulatortest.New(t, emulator.Options{Seed: 6, Clock: func() time.Time { return time.Date(2026, 2, 20, 9, 0, 0, 0, time.UTC) }})
	example, err := filepath.Abs(filepath.Join("..", "..", "examples", "reviews", "finance-two-stage.yaml"))
	require.NoError(t, err)
	code, _, errOut := runCLI(t, run, "apply", "--auto-approve", example)
	require.Equal(t, exitOK, code, errOut)
	id, _, err := emuctl.FindReview(run.Server, "finance-two-stage")
	require.NoError(t, err)

	// Stage 1: the managers (the admin for Zoe, who has none). Dana
	// approves Frank, Frank denies Grace, the admin denies Zoe; Heidi is
	// left. Approved and unreviewed members go on to the group's owner.
	_, err = run.Server.SetNow(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	for _, d := range []emulator.DecisionInput{
		{Principal: "frank@contoso.com", Decision: "Approve", Justification: "runs the team", Reviewer: "dana@contoso.com"},
		{Principal: "grace@contoso.com", Decision: "Deny", Reviewer: "frank@contoso.com"},
		{Principal: "zoe_tailspin.com#EXT#@contoso.onmicrosoft.com", Decision: "Deny", Reviewer: "admin@contoso.com"},
	} {
		d.DefinitionID = id
		_, err := run.Server.RecordDecision(d)
		require.NoError(t, err)
	}
	_, err = run.Server.SetNow(time.Date(2026, 3, 12, 9, 0, 0, 0, time.UTC))
	require.NoError(t, err)

	code, out, errOut := runCLI(t, run, "status")
	require.Equal(t, exitOK, code, errOut)
	require.Regexp(t, `RESOURCE\s+STATUS\s+STAGE\s+START`, out)
	require.Regexp(t, `Finance\s+InProgress\s+2/2\s+2026-03-02 00:00\s+2026-03-26 00:00\s+3/4\s+1\s+\d\s+1\s+2\s+0\s+0`, out)
	require.Contains(t, out, "Stages of Finance:")
	require.Regexp(t, `1/2\s+Completed\s+2026-03-02 00:00\s+2026-03-12 00:00\s+4\s+1\s+2\s+0\s+1`, out)
	require.Regexp(t, `2/2\s+InProgress\s+2026-03-12 00:00\s+2026-03-26 00:00\s+2\s+0\s+0\s+0\s+2`, out)

	code, out, errOut = runCLI(t, run, "decisions", "--stage", "2", "-o", "csv")
	require.Equal(t, exitOK, code, errOut)
	got := map[string]string{}
	for _, r := range csvRows(t, out) {
		got[r["principalUserPrincipalName"]] = r["stage"] + " " + r["decision"]
	}
	require.Equal(t, map[string]string{"frank@contoso.com": "2 NotReviewed", "heidi@contoso.com": "2 NotReviewed"}, got)
	require.Contains(t, errOut, "2 decision(s) written")

	code, out, errOut = runCLI(t, run, "decisions", "--review", "finance-two-stage", "--stage", "1", "--decision", "deny", "-o", "jsonl")
	require.Equal(t, exitOK, code, errOut)
	var denied []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var row report.DecisionRow
		require.NoError(t, json.Unmarshal([]byte(line), &row))
		require.Equal(t, 1, row.Stage)
		denied = append(denied, row.PrincipalUPN)
	}
	require.ElementsMatch(t, []string{"grace@contoso.com", "zoe_tailspin.com#EXT#@contoso.onmicrosoft.com"}, denied)

	code, _, errOut = runCLI(t, run, "decisions", "--stage", "3")
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, "Error: --stage: no instance of the reviews read has reached stage 3")
}
