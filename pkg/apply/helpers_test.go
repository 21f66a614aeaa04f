package apply

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/emulator/emulatortest"
	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/graphclient"
)

// testStart is where every fake clock starts.
var testStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// fakeClock is virtual time shared by the emulator (its clock drives
// Retry-After windows, the token bucket and read-after-create lag), the
// Graph client (its retry waits) and apply (look-up waits). Sleeping moves
// the clock forward instead of waiting, so tests never sleep for real and
// the Retry-After violation counter still sees every early retry.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	slept  time.Duration
	sleeps int
}

func newFakeClock() *fakeClock { return &fakeClock{now: testStart} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	c.mu.Lock()
	c.slept += d
	c.sleeps++
	c.mu.Unlock()
	return nil
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.now = c.now.Add(d)
	}
}

// env is an emulator and a Graph client on one fake clock. The emulator
// keeps its state in a file, so that a test can seed it without faults and
// then restart it with faults (see withFaults).
type env struct {
	t      testing.TB
	clock  *fakeClock
	state  string
	srv    *emulator.Server
	run    *emulator.Running
	client *graphclient.Client
	// requestIDs numbers client-request-ids, so outputs are repeatable.
	// Changes run concurrently, so it is atomic.
	requestIDs atomic.Int64
	// pageSize is the emulator's page size from the next (re)start.
	pageSize int
	// transport, when set, carries the client's requests (withTransport).
	transport http.RoundTripper
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{t: t, clock: newFakeClock(), state: filepath.Join(t.TempDir(), "emulator.json")}
	e.start(nil)
	return e
}

// newMemEnv is an env whose emulator keeps its state in memory only, with
// faults from the start: for benchmarks, where rewriting a state file
// after every write would dominate.
func newMemEnv(t testing.TB, f *emulator.Faults) *env {
	t.Helper()
	e := &env{t: t, clock: newFakeClock()}
	e.start(f)
	return e
}

// withFaults restarts the emulator, with the same state and clock, so that
// its requests meet faults from now on.
func (e *env) withFaults(f *emulator.Faults) *env {
	e.t.Helper()
	require.NoError(e.t, e.run.Close())
	e.start(f)
	return e
}

func (e *env) start(f *emulator.Faults) {
	e.t.Helper()
	e.run = emulatortest.New(e.t, emulator.Options{Clock: e.clock.Now, Seed: 11, Faults: f, Sleep: e.clock.Sleep, StateFile: e.state, PageSize: e.pageSize})
	e.srv = e.run.Server
	e.client = e.newClient()
}

// withTransport gives the env a client whose requests go through rt (for
// example a tamper in front of the emulator).
func (e *env) withTransport(rt http.RoundTripper) *env {
	e.transport = rt
	e.client = e.newClient()
	return e
}

func (e *env) newClient() *graphclient.Client {
	e.t.Helper()
	var hc *http.Client
	if e.transport != nil {
		hc = &http.Client{Transport: e.transport}
	}
	c, err := graphclient.New(graphclient.Options{
		HTTPClient: hc,
		BaseURL:    e.run.URL,
		Credential: graphclient.StaticToken(e.run.Token),
		Sleep:      e.clock.Sleep,
		Now:        e.clock.Now,
		Rand:       func() float64 { return 0.5 },
		NewRequestID: func() string {
			return fmt.Sprintf("00000000-0000-4000-8000-%012d", e.requestIDs.Add(1))
		},
	})
	require.NoError(e.t, err)
	return c
}

// opts are apply options on the env's clock.
func (e *env) opts(mods ...func(*Options)) Options {
	o := Options{Now: e.clock.Now, Sleep: e.clock.Sleep}
	for _, m := range mods {
		m(&o)
	}
	return o
}

// live lists the definitions through the client (and so through any
// faults), after waiting out any read-after-create lag.
func (e *env) live() []graph.Definition {
	e.t.Helper()
	var out []graph.Definition
	for d, err := range e.client.ListDefinitions(context.Background(), nil) {
		require.NoError(e.t, err)
		out = append(out, *d)
	}
	return out
}

// stored reads the emulator's store directly, including definitions hidden
// by lag.
func (e *env) stored() []graph.Definition {
	e.t.Helper()
	var out []graph.Definition
	for _, raw := range e.srv.Definitions() {
		var d graph.Definition
		require.NoError(e.t, json.Unmarshal(raw, &d))
		out = append(out, d)
	}
	return out
}

// plan computes the plan for desired against the live definitions.
func (e *env) plan(desired []diff.Desired, deleteDuplicates bool) *diff.Plan {
	e.t.Helper()
	p, err := diff.Compute(desired, e.live(), diff.Options{
		Now: e.clock.Now(), TenantID: "contoso", GraphEndpoint: e.run.URL, DeleteDuplicates: deleteDuplicates,
	})
	require.NoError(e.t, err)
	return p
}

// seed creates a definition, marked for name unless name is "". Seed
// before withFaults.
func (e *env) seed(d graph.Definition, name string) string {
	e.t.Helper()
	body := d.UpdateBody()
	body.ID = ""
	if name != "" {
		body.DescriptionForAdmins = graph.WithMarker(body.DescriptionForAdmins, name)
	}
	created, err := e.client.CreateDefinition(context.Background(), &body)
	require.NoError(e.t, err)
	return created.ID
}

// writes counts the write requests the emulator answered.
func (e *env) writes() int {
	n := 0
	for _, r := range e.srv.Requests() {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			n++
		}
	}
	return n
}

// requireConverged checks the central promise after an apply: the next
// plan has no changes, and every desired definition exists exactly once.
func (e *env) requireConverged(desired []diff.Desired) {
	e.t.Helper()
	p := e.plan(desired, false)
	if p.HasChanges() {
		var b bytes.Buffer
		_ = diff.RenderText(&b, p, diff.TextOptions{})
		e.t.Fatalf("not converged:\n%s", b.String())
	}
	count := map[string]int{}
	for _, d := range e.stored() {
		if n, _, ok := graph.SplitMarker(d.DescriptionForAdmins); ok {
			count[n]++
		}
	}
	for _, d := range desired {
		require.Equal(e.t, 1, count[d.Name], "%s exists once", d.Name)
	}
}

// Group ids of the emulator's demo tenant.
var groupIDs = []string{
	"ea1ee477-0a50-41ac-8699-c70d0c1f868a", // Marketing
	"119cc181-22f0-4e18-8537-264e7524ee0b", // Sales
	"06c20263-d52a-49f6-a67c-56284ec6f70c", // Project Falcon
}

const aliceID = "398164b1-5196-49dd-ada2-364b49f99b27"

// def is a desired definition numbered i: a quarterly review of one
// group's members by an individual user, so both updates and replaces can
// be made from it.
func def(i int, mods ...func(*graph.Definition)) diff.Desired {
	d := graph.Definition{
		DisplayName:             fmt.Sprintf("Review %03d", i),
		DescriptionForAdmins:    fmt.Sprintf("Generated review %d", i),
		DescriptionForReviewers: "Remove people who no longer need access.",
		Scope: &graph.Scope{
			ODataType: graph.TypeQueryScope,
			Query:     "/groups/" + groupIDs[i%len(groupIDs)] + "/transitiveMembers",
			QueryType: graph.QueryTypeMicrosoftGraph,
		},
		Reviewers: []graph.ReviewerScope{{Query: "/users/" + aliceID, QueryType: graph.QueryTypeMicrosoftGraph}},
		Settings: &graph.ScheduleSettings{
			MailNotificationsEnabled:     ptr(true),
			ReminderNotificationsEnabled: ptr(true),
			DefaultDecisionEnabled:       ptr(false),
			InstanceDurationInDays:       ptr(7),
			Recurrence: &graph.PatternedRecurrence{
				Pattern: &graph.RecurrencePattern{Type: "absoluteMonthly", Interval: 3},
				Range:   &graph.RecurrenceRange{Type: "noEnd", StartDate: "2026-04-01"},
			},
		},
	}
	for _, m := range mods {
		m(&d)
	}
	return diff.Desired{Name: fmt.Sprintf("review-%03d", i), Source: fmt.Sprintf("reviews/review-%03d.yaml:1", i), Definition: d}
}

func defs(n int) []diff.Desired {
	out := make([]diff.Desired, n)
	for i := range out {
		out[i] = def(i)
	}
	return out
}

// withDuration changes the instance duration: an update.
func withDuration(days int) func(*graph.Definition) {
	return func(d *graph.Definition) {
		s := *d.Settings
		s.InstanceDurationInDays = ptr(days)
		d.Settings = &s
	}
}

// withScopeGroup changes the scope: a replace.
func withScopeGroup(id string) func(*graph.Definition) {
	return func(d *graph.Definition) {
		sc := *d.Scope
		sc.Query = "/groups/" + id + "/transitiveMembers"
		d.Scope = &sc
	}
}

// lines splits output into lines, without the trailing empty one.
func lines(s string) []string {
	return strings.Split(strings.TrimRight(s, "\n"), "\n")
}
