package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/emulator/emulatortest"
	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/spec"
)

// applyCLI runs arsync against a test emulator with the given arsync.yaml
// and standard input, the way CI runs it: the endpoint from a flag, a static
// token from ARSYNC_ACCESS_TOKEN.
func applyCLI(t *testing.T, run *emulator.Running, config string, stdin io.Reader, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	t.Setenv("ARSYNC_ACCESS_TOKEN", run.Token)
	cfg := filepath.Join(t.TempDir(), "arsync.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(config+"\n"), 0o644))
	full := append([]string{"--config", cfg, "--graph-endpoint", run.URL}, args...)
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var out, errOut bytes.Buffer
	code = Main(context.Background(), full, stdin, &out, &errOut)
	return code, out.String(), errOut.String()
}

// writeRequests lists the emulator's write requests as "METHOD path". Reads
// sent as POST ($batch look-ups, directoryObjects/getByIds) are not writes.
func writeRequests(run *emulator.Running) []string {
	var out []string
	for _, r := range run.Server.Requests() {
		if r.Method != http.MethodGet && !strings.HasSuffix(r.Path, "/$batch") && !strings.HasSuffix(r.Path, "/getByIds") {
			out = append(out, r.Method+" "+strings.TrimPrefix(r.Path, "/v1.0/identityGovernance/accessReviews/definitions"))
		}
	}
	return out
}

// Group ids of the emulator's demo tenant.
const (
	marketingID = "ea1ee477-0a50-41ac-8699-c70d0c1f868a"
	salesID     = "119cc181-22f0-4e18-8537-264e7524ee0b"
)

// writeReview writes reviews/<name>.yaml: a review of one group's members
// by one user, with ids only (no directory look-ups).
func writeReview(t *testing.T, dir, name, group string, days int) {
	t.Helper()
	y := fmt.Sprintf(`apiVersion: arsync/v1
kind: AccessReviewDefinition
metadata:
  name: %[1]s
spec:
  displayName: Review %[1]s
  descriptionForAdmins: Members of one group.
  descriptionForReviewers: Remove people who no longer need access.
  scope:
    query: /groups/%[2]s/transitiveMembers/microsoft.graph.user
  reviewers:
    - query: /users/398164b1-5196-49dd-ada2-364b49f99b27
  settings:
    mailNotificationsEnabled: true
    instanceDurationInDays: %[3]d
    recurrence:
      pattern: {type: absoluteMonthly, interval: 3}
      range: {type: noEnd, startDate: 2026-04-01}
`, name, group, days)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".yaml"), []byte(y), 0o644))
}

func reviewsDir(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		writeReview(t, dir, n, marketingID, 7)
	}
	return dir
}

// TestApplyExamples: apply --auto-approve examples/reviews, then plan
// --detailed-exitcode exits 0.
func TestApplyExamples(t *testing.T) {
	run := emulatortest.New(t, emulator.Options{Seed: 1})
	code, out, errOut := applyCLI(t, run, "{}", nil, "apply", "--auto-approve", "../../examples/reviews")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	require.Contains(t, out, "Apply complete:")

	code, out, errOut = applyCLI(t, run, "{}", nil, "plan", "--detailed-exitcode", "../../examples/reviews")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
}

// TestApplyLifecycle walks the acceptance story: apply, no changes; edit one
// file, one update; delete a file, one delete refused without
// --allow-delete; change a scope, one replace refused without
// --allow-replace.
func TestApplyLifecycle(t *testing.T) {
	run := emulatortest.New(t, emulator.Options{Seed: 1})
	dir := reviewsDir(t, "alpha", "bravo", "charlie")

	code, out, errOut := applyCLI(t, run, "{}", nil, "apply", "--auto-approve", dir)
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "+ create alpha")
	require.Contains(t, out, "Apply complete: 3 done (of 3 changes).")
	require.Contains(t, errOut, "[3/3] + create charlie ... done (")
	require.Len(t, writeRequests(run), 3)

	code, out, errOut = applyCLI(t, run, "{}", nil, "plan", "--detailed-exitcode", dir)
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)

	// Nothing to do: nothing written.
	run.Server.ResetRequests()
	code, out, _ = applyCLI(t, run, "{}", nil, "apply", "--auto-approve", dir)
	require.Equal(t, exitOK, code)
	require.Contains(t, out, "No changes.")
	require.Empty(t, writeRequests(run))

	// Edit one file: exactly one update.
	writeReview(t, dir, "bravo", marketingID, 14)
	run.Server.ResetRequests()
	code, out, errOut = applyCLI(t, run, "{}", nil, "apply", "--auto-approve", dir)
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "~ update bravo")
	w := writeRequests(run)
	require.Len(t, w, 1)
	require.True(t, strings.HasPrefix(w[0], "PUT /"), w[0])

	// Delete a file: refused without --allow-delete, before any write.
	require.NoError(t, os.Remove(filepath.Join(dir, "charlie.yaml")))
	run.Server.ResetRequests()
	code, out, errOut = applyCLI(t, run, "{}", nil, "apply", "--auto-approve", dir)
	require.Equal(t, exitError, code)
	require.Contains(t, out, "- delete charlie")
	require.Contains(t, errOut, "Error: refusing to delete 1 definition (charlie) without --allow-delete")
	require.Empty(t, writeRequests(run))
	code, _, errOut = applyCLI(t, run, "{}", nil, "apply", "--auto-approve", "--allow-delete", dir)
	require.Equal(t, exitOK, code, errOut)
	require.Len(t, writeRequests(run), 1)

	// Change a scope: refused without --allow-replace, before any write.
	writeReview(t, dir, "alpha", salesID, 7)
	run.Server.ResetRequests()
	code, out, errOut = applyCLI(t, run, "{}", nil, "apply", "--auto-approve", dir)
	require.Equal(t, exitError, code)
	require.Contains(t, out, "-/+ replace alpha")
	require.Contains(t, errOut, "Error: refusing to replace 1 definition (alpha) without --allow-replace")
	require.Empty(t, writeRequests(run))
	code, out, errOut = applyCLI(t, run, "{}", nil, "apply", "--auto-approve", "--allow-replace", dir)
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, errOut, "warning: replacing alpha deletes definition")
	require.Contains(t, out, "-/+ replace  alpha  done")
	require.Len(t, writeRequests(run), 2, "a DELETE and a POST")

	code, _, _ = applyCLI(t, run, "{}", nil, "plan", "--detailed-exitcode", dir)
	require.Equal(t, exitOK, code)
}

// TestApplyConfigGates: allowDelete, allowReplace and maxChangePercent come
// from arsync.yaml too.
func TestApplyConfigGates(t *testing.T) {
	run := emulatortest.New(t, emulator.Options{Seed: 1})
	names := make([]string, 10)
	for i := range names {
		names[i] = fmt.Sprintf("review-%02d", i)
	}
	dir := reviewsDir(t, names...)
	code, _, errOut := applyCLI(t, run, "{}", nil, "apply", "--auto-approve", dir)
	require.Equal(t, exitOK, code, errOut)

	// 4 of 10 changed: above the default 30%.
	for i := range 3 {
		writeReview(t, dir, names[i], marketingID, 20)
	}
	writeReview(t, dir, names[3], salesID, 7)
	run.Server.ResetRequests()
	code, _, errOut = applyCLI(t, run, "allowReplace: true", nil, "apply", "--auto-approve", dir)
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, "refusing to update, replace or delete 4 of 10 managed definitions (40%, more than the 30% limit) without --force")
	require.NotContains(t, errOut, "--allow-replace")
	require.Empty(t, writeRequests(run))

	code, out, errOut := applyCLI(t, run, "allowReplace: true\nmaxChangePercent: 40", nil, "apply", "--auto-approve", dir)
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "Apply complete: 4 done (of 4 changes).")

	require.NoError(t, os.Remove(filepath.Join(dir, names[9]+".yaml")))
	code, _, errOut = applyCLI(t, run, "allowDelete: true", nil, "apply", "--auto-approve", dir)
	require.Equal(t, exitOK, code, errOut)
}

// ttyReader is standard input that says it is a terminal.
type ttyReader struct{ *strings.Reader }

func (ttyReader) IsTerminal() bool { return true }

// TestApplyConfirmation: on a terminal apply asks and needs "yes";
// elsewhere it needs --auto-approve. Without approval nothing is written.
func TestApplyConfirmation(t *testing.T) {
	tests := []struct {
		name   string
		stdin  io.Reader
		code   int
		errHas string
		writes int
	}{
		{"not a terminal, no --auto-approve", strings.NewReader("yes\n"), exitError,
			"Error: refusing to apply without confirmation: standard input is not a terminal; review the plan and run again with --auto-approve (nothing was written)", 0},
		{"terminal, yes", ttyReader{strings.NewReader("yes\n")}, exitOK, "Only 'yes' will be accepted: ", 1},
		{"terminal, no", ttyReader{strings.NewReader("no\n")}, exitError, "Error: apply cancelled: nothing was written", 0},
		{"terminal, y is not yes", ttyReader{strings.NewReader("y\n")}, exitError, "Error: apply cancelled: nothing was written", 0},
		{"terminal, end of input", ttyReader{strings.NewReader("")}, exitError, "Error: apply cancelled: nothing was written", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := emulatortest.New(t, emulator.Options{Seed: 1})
			dir := reviewsDir(t, "alpha")
			code, out, errOut := applyCLI(t, run, "{}", tt.stdin, "apply", dir)
			require.Equal(t, tt.code, code, errOut)
			require.Contains(t, out, "+ create alpha", "the plan is shown first")
			require.Contains(t, errOut, tt.errHas)
			require.Len(t, writeRequests(run), tt.writes)
		})
	}
}

// TestApplySavedPlan: apply --plan applies exactly the saved plan, asks
// nothing, and refuses it as stale, writing nothing, once the tenant moved.
func TestApplySavedPlan(t *testing.T) {
	run := emulatortest.New(t, emulator.Options{Seed: 1})
	dir := reviewsDir(t, "alpha", "bravo")
	saved := filepath.Join(t.TempDir(), "plan.json")
	code, _, errOut := applyCLI(t, run, "{}", nil, "plan", "--out", saved, dir)
	require.Equal(t, exitOK, code, errOut)

	// The files change after the plan was saved: the saved plan still wins.
	writeReview(t, dir, "charlie", marketingID, 7)
	code, out, errOut := applyCLI(t, run, "{}", nil, "apply", "--plan", saved)
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "Apply complete: 2 done (of 2 changes).")
	require.NotContains(t, out, "charlie")

	// The same plan again: its creates would now be duplicates.
	run.Server.ResetRequests()
	code, _, errOut = applyCLI(t, run, "{}", nil, "apply", "--plan", saved)
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, "Error: stale plan: alpha: definition ")
	require.Contains(t, errOut, "now carries its marker, so creating it would make a duplicate")
	require.Empty(t, writeRequests(run))

	// An update planned, then the definition edited in the portal.
	writeReview(t, dir, "bravo", marketingID, 21)
	code, _, errOut = applyCLI(t, run, "{}", nil, "plan", "--out", saved, dir)
	require.Equal(t, exitOK, code, errOut)
	c := clientFor(t, run)
	var bravo string
	for d, err := range c.ListDefinitions(context.Background(), nil) {
		require.NoError(t, err)
		if n, _, _ := graph.SplitMarker(d.DescriptionForAdmins); n == "bravo" {
			d.DisplayName = "Renamed in the portal"
			require.NoError(t, c.UpdateDefinition(context.Background(), d.ID, d))
			bravo = d.ID
		}
	}
	require.NotEmpty(t, bravo)
	run.Server.ResetRequests()
	code, _, errOut = applyCLI(t, run, "{}", nil, "apply", "--plan", saved)
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, "Error: stale plan: bravo: definition "+bravo+" changed since the plan was made")
	require.Empty(t, writeRequests(run))

	// Another tenant: the token's tid decides, not --tenant-id (which the
	// token of another tenant would not carry anyway).
	code, _, errOut = applyCLI(t, run, "{}", nil, "--tenant-id", "fabrikam.onmicrosoft.com", "apply", "--plan", saved)
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, "Error: stale plan: bravo:", "the token's tenant is the plan's")
	p, err := readPlanFile(saved)
	require.NoError(t, err)
	require.Equal(t, "5c1b9a52-7f0e-4a7b-9d39-0b6f2e3c4d11", p.TenantID, "the token's tid is recorded")
	p.TenantID = "fabrikam-tenant-id"
	var other bytes.Buffer
	require.NoError(t, diff.RenderJSON(&other, p))
	require.NoError(t, os.WriteFile(saved, other.Bytes(), 0o644))
	run.Server.ResetRequests()
	code, _, errOut = applyCLI(t, run, "{}", nil, "apply", "--plan", saved)
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, "Error: this plan was made for tenant fabrikam-tenant-id, but arsync is signed in to tenant 5c1b9a52-7f0e-4a7b-9d39-0b6f2e3c4d11; nothing was written: apply it signed in to tenant fabrikam-tenant-id (--tenant-id fabrikam-tenant-id,")
	require.Empty(t, run.Server.Requests(), "refused before any request")

	// Bad invocations.
	code, _, errOut = applyCLI(t, run, "{}", nil, "apply", "--plan", saved, dir)
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, "give either --plan or spec paths, not both")
	var future bytes.Buffer
	require.NoError(t, diff.RenderJSON(&future, &diff.Plan{FormatVersion: 9}))
	require.NoError(t, os.WriteFile(saved, future.Bytes(), 0o644))
	code, _, errOut = applyCLI(t, run, "{}", nil, "apply", "--plan", saved)
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, "unsupported plan format version")
	require.NoError(t, os.WriteFile(saved, []byte(`{"formatVersion": 9}`), 0o644))
	code, _, errOut = applyCLI(t, run, "{}", nil, "apply", "--plan", saved)
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, "the saved plan was edited after arsync plan wrote it: it has no digest; run arsync plan again")
	code, _, errOut = applyCLI(t, run, "{}", nil, "apply", "--plan", filepath.Join(t.TempDir(), "missing.json"))
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, "reading the saved plan")
}

// TestApplySavedPlanGatesBeforeSignIn: a saved plan that needs
// --allow-delete is refused before anything is sent.
func TestApplySavedPlanGatesBeforeSignIn(t *testing.T) {
	run := emulatortest.New(t, emulator.Options{Seed: 1})
	dir := reviewsDir(t, "alpha", "bravo")
	code, _, errOut := applyCLI(t, run, "{}", nil, "apply", "--auto-approve", dir)
	require.Equal(t, exitOK, code, errOut)
	require.NoError(t, os.Remove(filepath.Join(dir, "bravo.yaml")))
	saved := filepath.Join(t.TempDir(), "plan.json")
	code, _, errOut = applyCLI(t, run, "{}", nil, "plan", "--out", saved, dir)
	require.Equal(t, exitOK, code, errOut)

	run.Server.ResetRequests()
	code, _, errOut = applyCLI(t, run, "{}", nil, "apply", "--plan", saved)
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, "refusing to delete 1 definition (bravo) without --allow-delete")
	require.Empty(t, run.Server.Requests(), "no request at all")

	code, out, errOut := applyCLI(t, run, "{}", nil, "apply", "--plan", saved, "--allow-delete")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "- delete  bravo  done")
}

// TestApplyFailureExitCode: a create whose answer is lost after it was
// carried out is found by its marker, not sent twice; later one update
// fails, the other is done, the report says which, and the exit code is 1.
func TestApplyFailureExitCode(t *testing.T) {
	run := emulatortest.New(t, emulator.Options{Seed: 1, Faults: &emulator.Faults{Rules: []emulator.FaultRule{
		{Kind: emulator.FaultCommitThenFail, Method: http.MethodPost, Nth: 1},
		// The first PUT and its two retries (each rule counts the PUTs the
		// rules before it let through).
		{Kind: emulator.Fault500, Method: http.MethodPut, Nth: 1},
		{Kind: emulator.Fault500, Method: http.MethodPut, Nth: 1},
		{Kind: emulator.Fault500, Method: http.MethodPut, Nth: 1},
	}}})
	dir := reviewsDir(t, "alpha", "bravo", "charlie")

	code, out, errOut := applyCLI(t, run, "{}", nil, "apply", "--auto-approve", dir)
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "note: alpha: the create's outcome was unknown (504 Gateway Timeout); definition ")
	require.Contains(t, errOut, "note: the create's outcome was unknown")
	count := map[string]int{}
	for _, raw := range run.Server.Definitions() {
		var d graph.Definition
		require.NoError(t, json.Unmarshal(raw, &d))
		count[graph.ManagedName(&d)]++
	}
	require.Equal(t, map[string]int{"alpha": 1, "bravo": 1, "charlie": 1}, count, "no duplicates")

	writeReview(t, dir, "alpha", marketingID, 8)
	writeReview(t, dir, "bravo", marketingID, 9)
	code, out, errOut = applyCLI(t, run, "{}", nil, "apply", "--auto-approve", dir)
	require.Equal(t, exitError, code, errOut)
	require.Contains(t, out, "Apply incomplete: 1 done, 1 failed (of 2 changes).")
	// Updates run concurrently: either may be the one that failed.
	require.Regexp(t, `~ update  (alpha|bravo)  failed  updating definition \S+: PUT \S+: 500 Internal Server Error`, out)
	require.Regexp(t, `~ update  (alpha|bravo)  done    id `, out)
	require.Contains(t, errOut, "Error: apply incomplete: 1 of 2 changes done, 1 failed")

	// The next run finishes the job.
	code, out, errOut = applyCLI(t, run, "{}", nil, "apply", "--auto-approve", dir)
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "Apply complete: 1 done (of 1 changes).")
}

// dupTenant is a tenant where a create's answer is lost and the look-up
// for its marker then finds two definitions carrying it: the oldest is
// adopted and the younger one is a duplicate.
type dupTenant struct {
	fakeAPI
	mu    sync.Mutex
	lists int
}

func (d *dupTenant) ListDefinitions(context.Context, *graph.ListOptions) iter.Seq2[*graph.Definition, error] {
	d.mu.Lock()
	d.lists++
	first := d.lists == 1
	d.mu.Unlock()
	return func(yield func(*graph.Definition, error) bool) {
		if first {
			return // the plan's read: nothing yet
		}
		for _, def := range []*graph.Definition{
			{ID: "older", DescriptionForAdmins: graph.WithMarker("x", "guests-m365-quarterly"), CreatedDateTime: "2030-05-06T07:00:00Z"},
			{ID: "younger", DescriptionForAdmins: graph.WithMarker("x", "guests-m365-quarterly"), CreatedDateTime: "2030-05-06T07:01:00Z"},
		} {
			if !yield(def, nil) {
				return
			}
		}
	}
}

func (d *dupTenant) CreateDefinition(context.Context, *graph.Definition) (*graph.Definition, error) {
	return nil, &graph.UnknownOutcomeError{Method: http.MethodPost, URL: "https://graph/definitions",
		Err: &graph.Error{StatusCode: http.StatusGatewayTimeout, Method: http.MethodPost}}
}

// TestApplyExitCodeWhenADuplicateMayAppear: every change done, but one may
// have left a duplicate: the report does not say "complete", and the exit
// code is 1.
func TestApplyExitCodeWhenADuplicateMayAppear(t *testing.T) {
	var out, errOut bytes.Buffer
	f := &Factory{
		IO:      &streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
		Globals: &globalOptions{},
		Config:  func() (*spec.Config, error) { return &spec.Config{}, nil },
		Connect: func(context.Context, *spec.Config) (*session, error) {
			return &session{Client: &dupTenant{}, TenantID: "fake-tenant", Endpoint: "fake", Now: time.Now}, nil
		},
	}
	cmd := NewCmdApply(f, nil)
	cmd.SetArgs([]string{"--auto-approve", seedSpec})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.Execute()
	var ec *exitCodeError
	require.ErrorAs(t, err, &ec)
	require.Equal(t, exitError, ec.code)
	require.Equal(t, "apply needs a follow-up: 1 of 1 changes done, 1 may have left a duplicate definition: the next plan reports it and apply --allow-delete removes it", ec.msg)
	require.Contains(t, out.String(), "Apply needs a follow-up: 1 done (of 1 changes), 1 may have left a duplicate.\n")
	require.Contains(t, out.String(), "note: guests-m365-quarterly: 1 younger definition(s) also carry [arsync:guests-m365-quarterly]: younger; the next plan reports them and apply --allow-delete removes them")
}
