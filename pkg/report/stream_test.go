package report

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/benchutil"
	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/graphclient"
)

// fakeSource generates decisions on demand and counts what it produced, so
// a test can see whether rows are written while reading goes on.
type fakeSource struct {
	instances, perInstance int
	produced               atomic.Int64
	lookups                atomic.Int64
	failAt                 int64 // fail the listing after this many decisions (0: never)
	forbidden              bool  // directory reads get 403 (no directory permission)
}

func (f *fakeSource) ListDefinitions(context.Context, *graph.ListOptions) iter.Seq2[*graph.Definition, error] {
	return func(yield func(*graph.Definition, error) bool) {
		yield(&graph.Definition{ID: "d1", DisplayName: "Big", DescriptionForAdmins: "[arsync:big]"}, nil)
	}
}

func (f *fakeSource) ListInstances(context.Context, string, *graph.ListOptions) iter.Seq2[*graph.Instance, error] {
	return func(yield func(*graph.Instance, error) bool) {
		for i := range f.instances {
			in := &graph.Instance{ID: fmt.Sprintf("i%d", i), Status: "Applied",
				Scope: &graph.Scope{Query: "/v1.0/groups/00000000-0000-0000-0000-0000000000aa/members"}}
			if !yield(in, nil) {
				return
			}
		}
	}
}

func (f *fakeSource) ListDecisions(_ context.Context, _, inst string, _ *graph.ListOptions) iter.Seq2[*graph.Decision, error] {
	return func(yield func(*graph.Decision, error) bool) {
		for i := range f.perInstance {
			n := f.produced.Add(1)
			if f.failAt > 0 && n > f.failAt {
				yield(nil, errors.New("connection reset"))
				return
			}
			d := &graph.Decision{ID: fmt.Sprintf("%s-%d", inst, i), Decision: "Deny", ApplyResult: "New",
				Principal: &graph.Identity{ODataType: "#microsoft.graph.userIdentity", ID: fmt.Sprintf("u%d", i%500), UserPrincipalName: fmt.Sprintf("u%d@x", i%500)}}
			if !yield(d, nil) {
				return
			}
		}
	}
}

// The fake's reviews have one stage: no stages to list.
func (f *fakeSource) ListStages(context.Context, string, string, *graph.ListOptions) iter.Seq2[*graph.Stage, error] {
	return func(func(*graph.Stage, error) bool) {}
}

func (f *fakeSource) ListStageDecisions(context.Context, string, string, string, *graph.ListOptions) iter.Seq2[*graph.Decision, error] {
	return func(func(*graph.Decision, error) bool) {}
}

func (f *fakeSource) LookupUsers(_ context.Context, keys []string) (map[string][]graphclient.User, error) {
	f.lookups.Add(1)
	if f.forbidden {
		return nil, &graph.Error{StatusCode: 403, Code: "Authorization_RequestDenied"}
	}
	out := map[string][]graphclient.User{}
	for _, k := range keys {
		out[k] = []graphclient.User{{ID: k, UserType: "Member"}}
	}
	return out, nil
}

func (f *fakeSource) GetDirectoryObjects(_ context.Context, ids []string) (map[string]graphclient.DirectoryObject, error) {
	if f.forbidden {
		return nil, &graph.Error{StatusCode: 403, Code: "Authorization_RequestDenied"}
	}
	out := map[string]graphclient.DirectoryObject{}
	for _, id := range ids {
		out[id] = graphclient.DirectoryObject{ID: id, DisplayName: "Partners"}
	}
	return out, nil
}

func (f *fakeSource) LookupRoleDefinitions(context.Context, []string) (map[string][]graphclient.RoleDefinition, error) {
	return nil, nil
}

// watcher checks each batch as it is written.
type watcher struct {
	src      *fakeSource
	batches  int
	rows     int
	maxAhead int64 // the most decisions read but not yet written
}

func (w *watcher) Write(rows []DecisionRow) error {
	w.batches++
	w.rows += len(rows)
	if ahead := w.src.produced.Load() - int64(w.rows); ahead > w.maxAhead {
		w.maxAhead = ahead
	}
	if len(rows) > batchSize {
		return fmt.Errorf("batch of %d rows", len(rows))
	}
	return nil
}

func TestDecisionsStream(t *testing.T) {
	t.Parallel()
	src := &fakeSource{instances: 7, perInstance: 1234}
	w := &watcher{src: src}
	st, err := Decisions(context.Background(), src, DecisionQuery{}, w)
	require.NoError(t, err)
	require.Equal(t, 7*1234, st.Rows)
	require.Equal(t, 7*1234, w.rows)
	require.LessOrEqual(t, w.maxAhead, int64(batchSize), "rows are written as they are read, never more than a page behind")
	require.Equal(t, int64(5), src.lookups.Load(), "500 distinct users, looked up once each, one request per batch")

	// A failure mid-way writes what was read and says what failed.
	src = &fakeSource{instances: 3, perInstance: 500, failAt: 750}
	w = &watcher{src: src}
	st, err = Decisions(context.Background(), src, DecisionQuery{}, w)
	require.ErrorContains(t, err, "connection reset")
	require.ErrorContains(t, err, "instance i1")
	require.Equal(t, 750, st.Rows)
	require.Equal(t, 750, w.rows)
}

// Without directory read permission the report still comes out, with the
// resource's id (and no name).
func TestDecisionsWithoutDirectoryPermission(t *testing.T) {
	t.Parallel()
	src := &fakeSource{instances: 1, perInstance: 3, forbidden: true}
	var rows []DecisionRow
	st, err := Decisions(context.Background(), src, DecisionQuery{}, rowsFunc(func(rs []DecisionRow) error {
		rows = append(rows, rs...)
		return nil
	}))
	require.NoError(t, err)
	require.Equal(t, 3, st.Rows)
	require.Len(t, rows, 3)
	require.Equal(t, "00000000-0000-0000-0000-0000000000aa", rows[0].ResourceID)
	require.Empty(t, rows[0].Resource, "no name without the permission")
}

// rowsFunc adapts a function to a RowWriter.
type rowsFunc func([]DecisionRow) error

func (f rowsFunc) Write(rows []DecisionRow) error { return f(rows) }

// BenchmarkDecisions100k streams decision items out of the emulator (a
// weekly review of a group of 1,000 guests, 10 or 100 weeks of history:
// 10,000 or 100,000 items) through the Graph client to CSV. Besides time
// and allocations it reports memory: emulator-MB is the heap before the
// report runs (the emulator holding the items); live-peak-MB is the most
// live heap above that while streaming (what the report keeps), and
// heap-peak-MB the most heap above it including garbage not yet collected.
// Flat memory means live-peak-MB does not grow with the number of items.
//
//	go test ./pkg/report -run '^$' -bench Decisions100k -benchmem -benchtime 1x
func BenchmarkDecisions100k(b *testing.B) {
	for _, weeks := range []int{10, 100} {
		b.Run(fmt.Sprintf("decisions=%d", weeks*1000), func(b *testing.B) { benchDecisions(b, 1000, weeks) })
	}
}

func benchDecisions(b *testing.B, guests, weeks int) {
	tenant := benchutil.PartnerGuests(guests)
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	// Not emulatortest: a b.Cleanup would keep this emulator reachable
	// while -count runs the next one, and the heap figures would add up.
	srv, err := emulator.New(emulator.Options{Tenant: tenant, Seed: 1, Clock: func() time.Time { return start.AddDate(0, 0, -1) }})
	require.NoError(b, err)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	run := emulator.Attach(srv, ts.URL, ts.Close)
	c, err := graphclient.New(graphclient.Options{BaseURL: run.URL, Credential: graphclient.StaticToken(run.Token)})
	require.NoError(b, err)
	ctx := context.Background()
	yes, days := true, 5
	_, err = c.CreateDefinition(ctx, &graph.Definition{
		DisplayName:          "Partner guests, weekly",
		DescriptionForAdmins: "[arsync:partner-guests]",
		Scope:                &graph.Scope{ODataType: graph.TypeQueryScope, Query: "./members/microsoft.graph.user/?$filter=(userType eq 'Guest')"},
		InstanceEnumerationScope: &graph.Scope{ODataType: graph.TypeQueryScope,
			Query: "/groups?$filter=(groupTypes/any(c:c eq 'Unified'))"},
		Reviewers: []graph.ReviewerScope{{Query: "./owners"}},
		Settings: &graph.ScheduleSettings{InstanceDurationInDays: &days, RecommendationsEnabled: &yes,
			Recurrence: &graph.PatternedRecurrence{
				Pattern: &graph.RecurrencePattern{Type: "weekly", Interval: 1},
				Range:   &graph.RecurrenceRange{Type: "noEnd", StartDate: start.Format("2006-01-02")}}},
	})
	require.NoError(b, err)
	_, err = run.Server.SetNow(start.AddDate(0, 0, 7*weeks-1))
	require.NoError(b, err)

	runtime.GC()
	baseline := liveHeap()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	baseAlloc := ms.HeapAlloc

	var livePeak, allocPeak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // sample the heap while the report runs
		defer wg.Done()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > allocPeak.Load() {
				allocPeak.Store(m.HeapAlloc)
			}
			if l := liveHeap(); l > livePeak.Load() {
				livePeak.Store(l)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()

	b.ResetTimer()
	for b.Loop() {
		w, err := NewDecisionWriter(io.Discard, "csv")
		require.NoError(b, err)
		st, err := Decisions(ctx, c, DecisionQuery{}, w)
		require.NoError(b, err)
		require.NoError(b, w.Close())
		if st.Rows != guests*weeks {
			b.Fatalf("wrote %d rows, want %d", st.Rows, guests*weeks)
		}
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	const mb = 1 << 20
	above := func(v, base uint64) float64 { return float64(v-min(v, base)) / mb }
	b.ReportMetric(float64(baseAlloc)/mb, "emulator-MB")
	b.ReportMetric(above(livePeak.Load(), baseline), "live-peak-MB")
	b.ReportMetric(above(allocPeak.Load(), baseAlloc), "heap-peak-MB")
}

// liveHeap is the heap found live by the last garbage collection.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
