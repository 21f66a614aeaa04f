package apply

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/graph"
)

// chaosSeeds is how many seeds TestChaos runs: a few by default (CI), all
// 100 of the acceptance run with ARSYNC_CHAOS_SEEDS=100.
func chaosSeeds(t *testing.T) int {
	if s := os.Getenv("ARSYNC_CHAOS_SEEDS"); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(t, err, "ARSYNC_CHAOS_SEEDS")
		return n
	}
	if testing.Short() {
		return 2
	}
	return 8
}

// chaosFaults is 20% of requests failing with every kind that can happen
// to a write (429 and 503 with Retry-After in every form, 504, dropped
// connections before and after the write is carried out, 504 after it is
// carried out), plus read-after-create lag.
func chaosFaults(seed int64) *emulator.Faults {
	return &emulator.Faults{
		Seed: seed,
		Rate: 0.2,
		Kinds: []emulator.FaultKind{
			emulator.Fault429, emulator.Fault503, emulator.Fault504, emulator.FaultDrop,
			emulator.FaultCommitThenFail, emulator.FaultCommitThenDrop,
		},
		RetryAfter:         2 * time.Second,
		RetryAfterForm:     emulator.RetryAfterMixed,
		ReadAfterCreateLag: 20 * time.Second,
	}
}

// TestChaos: for each seed, 50 desired definitions (creates, updates,
// replaces and deletes mixed) are applied against the emulator with 20%
// faults. The apply must finish with every change done (a create sent again
// after its look-up window is done but flagged, since it might have left a
// duplicate, and only such a flag may make Apply return an error); then the next plan
// is empty (a second apply has nothing to do), every desired definition
// exists exactly once, deleted ones are gone, unmanaged definitions are
// untouched, and no request came back before its Retry-After.
func TestChaos(t *testing.T) {
	n := chaosSeeds(t)
	for seed := int64(1); seed <= int64(n); seed++ {
		t.Run(fmt.Sprintf("seed-%d", seed), func(t *testing.T) {
			t.Parallel()
			chaosRun(t, seed)
		})
	}
}

func chaosRun(t *testing.T, seed int64) {
	rng := rand.New(rand.NewPCG(uint64(seed), 99))
	e := newEnv(t)
	e.pageSize = 7 // lists page under faults too

	// The tenant before: 30 managed definitions and 5 made in the portal.
	const managed, unmanaged = 30, 5
	for i := range managed {
		e.seed(def(i).Definition, def(i).Name)
	}
	portal := map[string]json.RawMessage{}
	for i := range unmanaged {
		d := def(100 + i).Definition
		d.DisplayName = fmt.Sprintf("Portal review %d", i)
		portal[e.seed(d, "")] = nil
	}
	for _, raw := range e.srv.Definitions() {
		var head struct{ ID string }
		require.NoError(t, json.Unmarshal(raw, &head))
		if _, ok := portal[head.ID]; ok {
			portal[head.ID] = raw
		}
	}

	// What the files say now: of the 30, 5 are deleted, 10 updated,
	// 2 replaced and the rest unchanged; 25 are new. 50 in all.
	order := rng.Perm(managed)
	var desired []diff.Desired
	gone := map[string]bool{}
	for k, i := range order {
		switch {
		case k < 5:
			gone[def(i).Name] = true
		case k < 15:
			desired = append(desired, def(i, withDuration(10+rng.IntN(20))))
		case k < 17:
			desired = append(desired, def(i, withScopeGroup(groupIDs[(i+1)%len(groupIDs)])))
		default:
			desired = append(desired, def(i))
		}
	}
	for i := managed; len(desired) < 50; i++ {
		desired = append(desired, def(i))
	}

	e.withFaults(chaosFaults(seed))
	p := e.plan(desired, false)
	require.Equal(t, diff.Summary{Create: 25, Update: 10, Replace: 2, Delete: 5, NoOp: 13}, p.Summary)

	concurrency := 1 // repeatable: the same requests meet the same faults
	if seed%2 == 0 {
		concurrency = 4
	}
	var progress bytes.Buffer
	rep, err := Apply(context.Background(), e.client, p, e.opts(func(o *Options) {
		o.AllowDelete, o.AllowReplace, o.Force = true, true, true
		o.Concurrency = concurrency
		o.Progress = &progress
	}))
	sentAgain := 0
	for _, r := range rep.Results {
		if r.MayDuplicate {
			sentAgain++
			require.Contains(t, strings.Join(r.Notes, "\n"), "sent again; a duplicate may appear", r.Change.Name)
		}
	}
	if sentAgain == 0 {
		require.NoError(t, err, "progress:\n%s", progress.String())
	} else {
		var inc *IncompleteError
		require.ErrorAs(t, err, &inc, "progress:\n%s", progress.String())
		require.Equal(t, IncompleteError{Total: 42, Done: 42, MayDuplicate: sentAgain}, *inc, "progress:\n%s", progress.String())
	}
	require.Equal(t, 42, rep.Count(Done))
	require.Zero(t, e.srv.RetryAfterViolations(), "requests sent before their Retry-After")
	faults := map[string]int{}
	for _, r := range e.srv.Requests() {
		if r.Fault != "" {
			faults[r.Method+" "+r.Fault]++
		}
	}
	adopted := 0
	for _, r := range rep.Results {
		for _, n := range r.Notes {
			if strings.Contains(n, "was adopted") {
				adopted++
			}
		}
	}
	t.Logf("seed %d: %d requests, faults %v, %d unknown-outcome creates adopted by marker, %d sent again", seed, len(e.srv.Requests()), faults, adopted, sentAgain)
	require.NotEmpty(t, faults, "the faults are on")

	e.clock.Advance(time.Minute) // past the read-after-create lag
	e.requireConverged(desired)
	rep, err = Apply(context.Background(), e.client, e.plan(desired, false), e.opts())
	require.NoError(t, err)
	require.Empty(t, rep.Results, "the second apply has nothing to do")

	for _, raw := range e.srv.Definitions() {
		var d struct {
			ID                   string
			DescriptionForAdmins string
		}
		require.NoError(t, json.Unmarshal(raw, &d))
		if name, _, ok := graph.SplitMarker(d.DescriptionForAdmins); ok {
			require.False(t, gone[name], "%s was deleted", name)
			continue
		}
		before, ok := portal[d.ID]
		require.True(t, ok, "unmanaged definition %s appeared", d.ID)
		require.JSONEq(t, string(before), string(raw), "unmanaged definition %s untouched", d.ID)
		delete(portal, d.ID)
	}
	require.Empty(t, portal, "unmanaged definitions lost")
	require.Zero(t, e.srv.RetryAfterViolations(), "requests sent before their Retry-After")
}
