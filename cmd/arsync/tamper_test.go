package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/emulator/emulatortest"
	"github.com/arsync/arsync/pkg/graph"
)

// unmanagedFixture makes an emulator with one definition that never
// carried arsync's marker, "Review legacy", and a spec directory whose
// "legacy" review has that displayName: planning it is an adopt. It
// returns the definition's id.
func unmanagedFixture(t *testing.T) (*emulator.Running, string, string) {
	t.Helper()
	run := emulatortest.New(t, emulator.Options{Seed: 1})
	dir := reviewsDir(t, "legacy")
	// The body arsync would create, without the marker: made in the portal.
	code, _, errOut := applyCLI(t, run, "{}", nil, "plan", "--out", filepath.Join(dir, "..", "create.json"), dir)
	require.Equal(t, exitOK, code, errOut)
	var created diff.Plan
	data, err := os.ReadFile(filepath.Join(dir, "..", "create.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &created))
	body := created.Changes[0].After
	body.DescriptionForAdmins = graph.StripMarker(body.DescriptionForAdmins)
	d, err := clientFor(t, run).CreateDefinition(context.Background(), body)
	require.NoError(t, err)
	return run, dir, d.ID
}

// storedDefinitions is the emulator's store, for before/after comparisons.
func storedDefinitions(run *emulator.Running) []string {
	var out []string
	for _, raw := range run.Server.Definitions() {
		out = append(out, string(raw))
	}
	return out
}

// TestTamperedPlanCannotDeleteUnmanaged is the adversarial round's
// reproduction: a saved adopt, edited into a delete, must not delete a
// definition that never carried the marker: neither as edited (the
// digest catches it) nor with the digest recomputed by someone who knows
// the algorithm (apply re-checks ownership against the tenant).
func TestTamperedPlanCannotDeleteUnmanaged(t *testing.T) {
	toDelete := func(p *diff.Plan) {
		p.Changes[0].Action = diff.Delete
		p.Changes[0].After = nil
		p.Summary = diff.Summary{Delete: 1}
	}
	tests := []struct {
		name   string
		reseal bool
		errHas []string
	}{
		{name: "edited", errHas: []string{"the saved plan was edited after arsync plan wrote it: ", "; run arsync plan again"}},
		{name: "edited, digest recomputed", reseal: true, errHas: []string{
			"Error: stale plan: legacy: definition ", ` ("Review legacy") does not carry the marker [arsync:legacy] that a delete needs: it carries no arsync marker`,
			"nothing was written: run arsync plan again",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run, dir, id := unmanagedFixture(t)
			saved := filepath.Join(t.TempDir(), "plan.json")
			code, out, errOut := applyCLI(t, run, "{}", nil, "plan", "--out", saved, dir)
			require.Equal(t, exitOK, code, errOut)
			require.Contains(t, out, "<= adopt legacy")

			data, err := os.ReadFile(saved)
			require.NoError(t, err)
			if tt.reseal {
				var p diff.Plan
				require.NoError(t, json.Unmarshal(data, &p))
				toDelete(&p)
				var b bytes.Buffer
				require.NoError(t, diff.RenderJSON(&b, &p))
				data = b.Bytes()
			} else {
				s := string(data)
				for _, r := range [][2]string{{`"action": "adopt"`, `"action": "delete"`}, {`"delete": 0`, `"delete": 1`}, {`"adopt": 1`, `"adopt": 0`}} {
					require.Contains(t, s, r[0])
					s = strings.Replace(s, r[0], r[1], 1)
				}
				data = []byte(s)
			}
			require.NoError(t, os.WriteFile(saved, data, 0o644))

			before := storedDefinitions(run)
			run.Server.ResetRequests()
			code, out, errOut = applyCLI(t, run, "{}", nil, "apply", "--allow-delete", "--plan", saved)
			require.Equal(t, exitError, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
			require.NotContains(t, out, "Apply complete")
			for _, s := range tt.errHas {
				require.Contains(t, errOut, s)
			}
			if tt.reseal {
				require.Contains(t, errOut, "definition "+id+" (")
			}
			require.Empty(t, writeRequests(run))
			require.Equal(t, before, storedDefinitions(run), "the unmanaged definition is untouched")
		})
	}
}

// TestEditedPlansRefused: a saved plan edited in any way is refused as
// edited, before arsync signs in, and the tenant is left as it was.
func TestEditedPlansRefused(t *testing.T) {
	run, dir, legacy := unmanagedFixture(t)
	managed := reviewsDir(t, "alpha")
	code, _, errOut := applyCLI(t, run, "{}", nil, "apply", "--auto-approve", managed)
	require.Equal(t, exitOK, code, errOut)
	writeReview(t, dir, "alpha", marketingID, 14)
	saved := filepath.Join(t.TempDir(), "plan.json")
	code, out, errOut := applyCLI(t, run, "{}", nil, "plan", "--out", saved, dir)
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "Plan: 0 to create, 1 to update, 1 to adopt, 0 to replace, 0 to delete; 0 unchanged.")
	data, err := os.ReadFile(saved)
	require.NoError(t, err)
	good := string(data)
	digest := regexp.MustCompile(`"digest": "(sha256:[0-9a-f]{64})"`).FindStringSubmatch(good)
	require.Len(t, digest, 2)

	const (
		mismatch = "its content does not match its digest " // + the digest
		none     = "it has no digest"
	)
	tests := []struct {
		name, old, new, reason string
	}{
		{"action changed", `"action": "adopt"`, `"action": "delete"`, mismatch},
		{"id changed", `"id": "` + legacy + `"`, `"id": "00000000-0000-0000-0000-000000000001"`, mismatch},
		{"name changed", `"name": "alpha"`, `"name": "bravo"`, mismatch},
		{"displayName changed", `"displayName": "Review legacy"`, `"displayName": "Review other"`, mismatch},
		{"fields edited", `"instanceDurationInDays": 14`, `"instanceDurationInDays": 1`, mismatch},
		{"digest removed", `"digest": "` + digest[1] + `",`, ``, none},
		{"digest wrong", digest[1], "sha256:" + strings.Repeat("0", 64), mismatch},
		{"a change added", `"changes": [`, `"changes": [{"action": "delete", "name": "legacy", "id": "` + legacy + `", "displayName": "Review legacy", "liveFingerprint": "sha256:0"},`, mismatch},
		{"formatVersion changed", `"formatVersion": 1`, `"formatVersion": 2`, mismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Contains(t, good, tt.old)
			edited := filepath.Join(t.TempDir(), "plan.json")
			require.NoError(t, os.WriteFile(edited, []byte(strings.Replace(good, tt.old, tt.new, 1)), 0o644))
			before := storedDefinitions(run)
			run.Server.ResetRequests()
			code, out, errOut := applyCLI(t, run, "{}", nil, "apply", "--allow-delete", "--allow-replace", "--force", "--plan", edited)
			require.Equal(t, exitError, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
			reason := tt.reason
			if reason == mismatch {
				reason += digest[1]
				if tt.name == "digest wrong" {
					reason = mismatch + "sha256:" + strings.Repeat("0", 64)
				}
			}
			require.Equal(t, "Error: "+edited+": the saved plan was edited after arsync plan wrote it: "+reason+"; run arsync plan again\n", errOut)
			require.Empty(t, out)
			require.Empty(t, run.Server.Requests(), "refused before signing in")
			require.Equal(t, before, storedDefinitions(run))
		})
	}

	// The plan as written applies.
	code, out, errOut = applyCLI(t, run, "{}", nil, "apply", "--plan", saved)
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "Apply complete: 2 done (of 2 changes).")
}
