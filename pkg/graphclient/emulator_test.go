package graphclient

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arsync/arsync/internal/clock"
	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/emulator/emulatortest"
	"github.com/arsync/arsync/pkg/graph"
	"github.com/stretchr/testify/require"
)

// End-to-end tests against pkg/emulator, the Graph look-alike.

func emulatorClient(t *testing.T, run *emulator.Running, clock *fakeClock, mods ...func(*Options)) *Client {
	t.Helper()
	opts := Options{BaseURL: run.URL, Credential: StaticToken(run.Token), Sleep: clock.Sleep, Now: clock.Now, Rand: func() float64 { return 0.5 }}
	for _, m := range mods {
		m(&opts)
	}
	c, err := New(opts)
	require.NoError(t, err)
	return c
}

func sampleDefinition(name string) *graph.Definition {
	yes, days := true, 3
	return &graph.Definition{
		DisplayName:             "Review " + name,
		DescriptionForAdmins:    "Quarterly review\n[arsync:" + name + "]",
		DescriptionForReviewers: "Please review",
		Scope: &graph.Scope{ODataType: graph.TypeQueryScope, QueryType: graph.QueryTypeMicrosoftGraph,
			Query: "/groups/11111111-1111-4111-8111-000000000001/transitiveMembers/microsoft.graph.user/?$count=true&$filter=(userType eq 'Guest')"},
		Reviewers: []graph.ReviewerScope{{Query: "/users/00000000-0000-4000-8000-000000000001", QueryType: graph.QueryTypeMicrosoftGraph}},
		Settings: &graph.ScheduleSettings{
			MailNotificationsEnabled: &yes, InstanceDurationInDays: &days,
			Recurrence: &graph.PatternedRecurrence{
				Pattern: &graph.RecurrencePattern{Type: "absoluteMonthly", Interval: 3},
				Range:   &graph.RecurrenceRange{Type: "noEnd", StartDate: "2026-04-01"},
			},
		},
	}
}

func TestEmulatorDefinitionLifecycle(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	run := emulatortest.New(t, emulator.Options{Seed: 3, PageSize: 7, Clock: clock.Now})
	c := emulatorClient(t, run, clock)
	ctx := t.Context()

	var ids []string
	for i := range 30 {
		d, err := c.CreateDefinition(ctx, sampleDefinition(fmt.Sprintf("r%02d", i)))
		require.NoError(t, err)
		require.NotEmpty(t, d.ID)
		require.Equal(t, fmt.Sprintf("Review r%02d", i), d.DisplayName)
		ids = append(ids, d.ID)
	}
	all, err := c.AllDefinitions(ctx)
	require.NoError(t, err)
	require.Len(t, all, 30)
	seen := map[string]bool{}
	for _, d := range all {
		require.False(t, seen[d.ID])
		seen[d.ID] = true
	}
	for _, id := range ids {
		require.True(t, seen[id], "created %s is listed", id)
	}

	got, err := c.GetDefinition(ctx, ids[0])
	require.NoError(t, err)
	got.DisplayName = "Renamed"
	require.NoError(t, c.UpdateDefinition(ctx, got.ID, got))
	again, err := c.GetDefinition(ctx, ids[0])
	require.NoError(t, err)
	require.Equal(t, "Renamed", again.DisplayName)

	require.NoError(t, c.DeleteDefinition(ctx, ids[1]))
	_, err = c.GetDefinition(ctx, ids[1])
	require.True(t, graph.IsNotFound(err), "got %v", err)
	err = c.DeleteDefinition(ctx, ids[1])
	require.True(t, graph.IsNotFound(err), "a first-attempt 404 on delete is not found: %v", err)
	var gerr *graph.Error
	require.ErrorAs(t, err, &gerr)
	require.NotEmpty(t, gerr.RequestID)
}

// 1,000 requests with a fifth of them failing 429/503/504 (Retry-After in
// every form, or none): all succeed, none comes back early, and no create
// is repeated.
func TestEmulatorSoakWithFaults(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	var rules []emulator.FaultRule
	for _, m := range []string{"GET", "PUT"} {
		for _, k := range []emulator.FaultKind{emulator.Fault429, emulator.Fault503, emulator.Fault504} {
			// Three rules checked in turn: 1-(1-p)^3 = 0.2.
			rules = append(rules, emulator.FaultRule{Kind: k, Method: m, Probability: 0.0717})
		}
	}
	// Creates are retried only on 429 (the others leave the outcome open).
	rules = append(rules, emulator.FaultRule{Kind: emulator.Fault429, Method: "POST", Probability: 0.2})
	run := emulatortest.New(t, emulator.Options{Seed: 11, Clock: clock.Now, Sleep: clock.Sleep, Faults: &emulator.Faults{
		Seed: 11, Rules: rules, RetryAfterForm: emulator.RetryAfterMixed, RetryAfter: 3500 * time.Millisecond,
	}})
	c := emulatorClient(t, run, clock, func(o *Options) { o.MaxRetries = 25 })
	ctx := t.Context()

	var ids []string
	for i := range 50 {
		d, err := c.CreateDefinition(ctx, sampleDefinition(fmt.Sprintf("s%02d", i)))
		require.NoError(t, err)
		ids = append(ids, d.ID)
	}
	for i := range 950 {
		id := ids[i%len(ids)]
		if i%5 == 0 {
			require.NoError(t, c.UpdateDefinition(ctx, id, sampleDefinition(fmt.Sprintf("s%02d", i%len(ids)))), "put %d", i)
			continue
		}
		_, err := c.GetDefinition(ctx, id)
		require.NoError(t, err, "get %d", i)
	}
	require.Zero(t, run.Server.RetryAfterViolations())
	all, err := c.AllDefinitions(ctx)
	require.NoError(t, err)
	require.Len(t, all, 50, "no duplicate creates")
	faults := map[string]int{}
	for _, r := range run.Server.Requests() {
		if r.Fault != "" {
			faults[r.Fault]++
		}
	}
	total := faults["429"] + faults["503"] + faults["504"]
	require.Greater(t, total, 150, "faults were injected: %v", faults)
	t.Logf("%d requests, faults %v, waits %d", len(run.Server.Requests()), faults, len(clock.Sleeps()))
}

func TestEmulatorCreateFaultsAreUnknownOutcomes(t *testing.T) {
	t.Parallel()
	for _, kind := range []emulator.FaultKind{emulator.FaultCommitThenFail, emulator.FaultCommitThenDrop, emulator.Fault500, emulator.Fault504, emulator.FaultDrop} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			run := emulatortest.New(t, emulator.Options{Seed: 5, Clock: clock.Now, Faults: &emulator.Faults{
				Rules: []emulator.FaultRule{{Kind: kind, Method: "POST", Nth: 1}},
			}})
			c := emulatorClient(t, run, clock)
			_, err := c.CreateDefinition(t.Context(), sampleDefinition("x"))
			require.True(t, graph.IsUnknownOutcome(err), "got %v", err)
			posts := 0
			for _, r := range run.Server.Requests() {
				if r.Method == "POST" {
					posts++
				}
			}
			require.Equal(t, 1, posts, "the create was not replayed")
			all, err := c.AllDefinitions(t.Context())
			require.NoError(t, err)
			want := 0
			if kind == emulator.FaultCommitThenFail || kind == emulator.FaultCommitThenDrop {
				want = 1
			}
			require.Len(t, all, want)
		})
	}
}

func TestEmulatorLookups(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	run := emulatortest.New(t, emulator.Options{Seed: 2, Clock: clock.Now})
	c := emulatorClient(t, run, clock)
	ctx := t.Context()

	users, err := c.LookupUsers(ctx, []string{"alice@contoso.com", "BOB@contoso.com", "nobody@contoso.com"})
	require.NoError(t, err)
	require.Len(t, users["alice@contoso.com"], 1)
	require.Equal(t, "Alice Wong", users["alice@contoso.com"][0].DisplayName)
	require.Len(t, users["BOB@contoso.com"], 1)
	require.Empty(t, users["nobody@contoso.com"])
	byID, err := c.LookupUsers(ctx, []string{users["alice@contoso.com"][0].ID})
	require.NoError(t, err)
	require.Equal(t, "alice@contoso.com", byID[users["alice@contoso.com"][0].ID][0].UserPrincipalName)

	groups, err := c.LookupGroups(ctx, []string{"Marketing", "contractors", "No Such Group"})
	require.NoError(t, err)
	require.Len(t, groups["Marketing"], 1)
	require.Len(t, groups["contractors"], 2, "two groups share the name")
	require.Empty(t, groups["No Such Group"])

	sps, err := c.LookupServicePrincipals(ctx, []string{"Payroll App", "f61a366e-53e5-42b9-bb85-4825c728a87a"})
	require.NoError(t, err)
	require.Len(t, sps["Payroll App"], 1)
	require.Equal(t, sps["Payroll App"][0].ID, sps["f61a366e-53e5-42b9-bb85-4825c728a87a"][0].ID, "by appId")

	roles, err := c.LookupRoleDefinitions(ctx, []string{"Global Administrator", "identity governance administrator"})
	require.NoError(t, err)
	require.Len(t, roles["Global Administrator"], 1)
	require.Len(t, roles["identity governance administrator"], 1)

	objs, err := c.GetDirectoryObjects(ctx, []string{users["alice@contoso.com"][0].ID, groups["Marketing"][0].ID, sps["Payroll App"][0].ID})
	require.NoError(t, err)
	require.Equal(t, "user", objs[users["alice@contoso.com"][0].ID].Kind())
	require.Equal(t, "group", objs[groups["Marketing"][0].ID].Kind())
	require.Equal(t, "servicePrincipal", objs[sps["Payroll App"][0].ID].Kind())
}

func TestEmulatorDebugLogHasNoToken(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	run := emulatortest.New(t, emulator.Options{Seed: 9, Clock: clock.Now, Sleep: clock.Sleep, Faults: &emulator.Faults{
		Seed: 9, Rate: 0.3, Kinds: []emulator.FaultKind{emulator.Fault429, emulator.Fault503}, RetryAfterForm: emulator.RetryAfterMixed,
	}})
	var log bytes.Buffer
	c := emulatorClient(t, run, clock, func(o *Options) { o.Debug = &log; o.MaxRetries = 20 })
	for i := range 20 {
		_, err := c.CreateDefinition(t.Context(), sampleDefinition(fmt.Sprintf("d%02d", i)))
		if err != nil {
			require.True(t, graph.IsUnknownOutcome(err), "got %v", err) // 503 on a create
			require.NotContains(t, err.Error(), run.Token)
		}
	}
	_, err := c.AllDefinitions(t.Context())
	require.NoError(t, err)
	_, err = c.GetDefinition(t.Context(), "no-such-id")
	require.True(t, graph.IsNotFound(err))
	require.NotContains(t, err.Error(), run.Token)
	require.NotContains(t, log.String(), run.Token)
	require.True(t, strings.Contains(log.String(), "-> 429") || strings.Contains(log.String(), "-> 503"), "faults were logged")
	require.Contains(t, log.String(), "request-id ")
}

// BenchmarkEmulatorList10000 lists 10,000 definitions from the emulator
// (pages of 100) with 20 ms of latency injected into every request. It
// reports the requests per listing, which must be exactly 100, and the
// wall time relative to requests × latency.
func BenchmarkEmulatorList10000(b *testing.B) {
	const n, latency = 10000, 20 * time.Millisecond
	var slow atomic.Bool
	run := emulatortest.New(b, emulator.Options{Seed: 1, Faults: &emulator.Faults{Latency: latency},
		Sleep: func(ctx context.Context, d time.Duration) error {
			if !slow.Load() {
				return nil // no latency while seeding
			}
			return clock.Sleep(ctx, d)
		}})
	c, err := New(Options{BaseURL: run.URL, Credential: StaticToken(run.Token), MaxConcurrency: 8})
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				if _, err := c.CreateDefinition(b.Context(), sampleDefinition(fmt.Sprintf("b%05d", i))); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	slow.Store(true)
	run.Server.ResetRequests()
	start := time.Now()
	for b.Loop() {
		count := 0
		for _, err := range c.ListDefinitions(b.Context(), nil) {
			if err != nil {
				b.Fatal(err)
			}
			count++
		}
		if count != n {
			b.Fatalf("listed %d definitions, want %d", count, n)
		}
	}
	elapsed := time.Since(start)
	reqs := float64(len(run.Server.Requests())) / float64(b.N)
	if reqs != n/100 {
		b.Fatalf("%v requests per listing, want exactly %d", reqs, n/100)
	}
	b.ReportMetric(reqs, "requests/op")
	b.ReportMetric(float64(elapsed)/float64(b.N)/(reqs*float64(latency)), "wall/(requests×latency)")
}
