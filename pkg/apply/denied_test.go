package apply

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/graphclient"
)

// readOnly switches e's client to a token that may read access reviews
// but not write them: the emulator answers every write 403, as Graph does.
func readOnly(t *testing.T, e *env) {
	t.Helper()
	tok, err := e.run.Server.IssueToken(emulator.TokenOptions{Permissions: []string{emulator.PermissionRead, "Directory.Read.All"}})
	require.NoError(t, err)
	c, err := graphclient.New(graphclient.Options{BaseURL: e.run.URL, Credential: graphclient.StaticToken(tok), Sleep: e.clock.Sleep, Now: e.clock.Now})
	require.NoError(t, err)
	e.client = c
}

// TestApplyStopsAtTheFirstRefusedWrite: a sign-in that may not write gets
// one 403, not one per change. Apply sends at most one write, starts
// nothing after it, and reports the refusal once, naming the permission;
// the other changes are "not started".
func TestApplyStopsAtTheFirstRefusedWrite(t *testing.T) {
	tests := []struct {
		name   string
		change func(desired []diff.Desired) []diff.Desired
	}{
		{"creates, updates and deletes", func(d []diff.Desired) []diff.Desired {
			d[0] = def(0, withDuration(21))
			return append(d[:2], def(7), def(8))
		}},
		{"updates and deletes only, in parallel", func(d []diff.Desired) []diff.Desired {
			for i := range 4 {
				d[i] = def(i, withDuration(21))
			}
			return d[:4]
		}},
		{"deletes only", func(d []diff.Desired) []diff.Desired { return d[:0] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			desired := defs(6)
			applyAll(t, e, desired)
			desired = tt.change(desired)
			p := e.plan(desired, false)
			readOnly(t, e)
			e.srv.ResetRequests()

			var progress bytes.Buffer
			rep, err := Apply(t.Context(), e.client, p, e.opts(func(o *Options) {
				o.AllowDelete, o.Force = true, true
				o.Progress = &progress
			}))
			require.Equal(t, 1, e.writes(), "one write was sent")
			var inc *IncompleteError
			require.ErrorAs(t, err, &inc)
			require.Equal(t, 1, inc.Failed)
			require.Equal(t, len(rep.Results)-1, inc.NotStarted)
			require.False(t, errors.Is(err, context.Canceled))
			require.Contains(t, err.Error(), "Graph refused a write (403 Forbidden)")

			var report bytes.Buffer
			require.NoError(t, rep.Write(&report))
			all := progress.String() + report.String() + err.Error()
			t.Log("\n" + all)
			require.Equal(t, 1, strings.Count(all, "AccessReview.ReadWrite.All"), "the permission is named once")
			require.Equal(t, 1, strings.Count(all, "required scopes are missing in the token"), "Graph's long message is printed once")
			require.Equal(t, len(rep.Results)-1, strings.Count(report.String(), "not started  stopped after [1]"))

			// With the permission, the next run does it all.
			n := len(rep.Results)
			e.client = e.newClient()
			rep, err = Apply(t.Context(), e.client, e.plan(desired, false), e.opts(func(o *Options) { o.AllowDelete, o.Force = true, true }))
			require.NoError(t, err)
			require.Equal(t, n, rep.Count(Done))
			e.requireConverged(desired)
		})
	}
}

// TestReportGroupsIdenticalFailures: failures that Graph answered alike
// are one footnote listing the changes; different ones are not merged.
func TestReportGroupsIdenticalFailures(t *testing.T) {
	gerr := func(id, code, msg, rid string) error {
		return fmt.Errorf("updating definition %s: %w", id, &graph.Error{
			StatusCode: http.StatusBadRequest, Method: http.MethodPut, URL: "https://graph/v1.0/d/" + id,
			Code: code, Message: msg, RequestID: rid,
		})
	}
	upd := func(name string) diff.Change { return diff.Change{Action: diff.Update, Name: name, ID: "id-" + name} }
	rep := &Report{Results: []Result{
		{Change: upd("a"), Outcome: Failed, Err: gerr("id-a", "BadRequest", "The request is invalid.", "r1")},
		{Change: upd("b"), Outcome: Failed, Err: gerr("id-b", "BadRequest", "The request is invalid.", "r2")},
		{Change: upd("c"), Outcome: Failed, Err: gerr("id-c", "BadRequest", "Recurrence pattern is not valid.", "r3")},
		{Change: upd("d"), Outcome: Failed, Err: gerr("id-d", "OtherCode", "The request is invalid.", "r4")},
		{Change: upd("e"), Outcome: Done},
	}}
	var out bytes.Buffer
	require.NoError(t, rep.Write(&out))
	want := `Apply incomplete: 1 done, 4 failed (of 5 changes).

  ~ update  a  failed  see [1]
  ~ update  b  failed  see [1]
  ~ update  c  failed  updating definition id-c: PUT https://graph/v1.0/d/id-c: 400 Bad Request (code BadRequest): Recurrence pattern is not valid [request-id r3]
  ~ update  d  failed  updating definition id-d: PUT https://graph/v1.0/d/id-d: 400 Bad Request (code OtherCode): The request is invalid [request-id r4]
  ~ update  e  done    id id-e

[1] 2 changes failed alike (a, b); the first: updating definition id-a: PUT https://graph/v1.0/d/id-a: 400 Bad Request (code BadRequest): The request is invalid [request-id r1]
`
	require.Equal(t, want, out.String())
}
