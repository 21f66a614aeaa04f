package spec_test

// Adoption round trips against pkg/emulator (issue 7's acceptance): a
// definition created by hand (no marker) -> Export --all -> the files load
// without errors -> Resolve + diff.Compute plans only adopt, changing no
// field -> the adopt PUT -> the next plan has no changes. This is an
// external test package because pkg/diff imports pkg/spec.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/golden"
	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/emulator/emulatortest"
	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/graphclient"
	"github.com/arsync/arsync/pkg/spec"
)

var testNow = time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)

// tenant is an emulator and a graphclient talking to it.
type tenant struct {
	run    *emulator.Running
	client *graphclient.Client
}

func newTenant(t *testing.T, opts emulator.Options) *tenant {
	t.Helper()
	opts.Clock = func() time.Time { return testNow }
	if opts.Seed == 0 {
		opts.Seed = 11
	}
	run := emulatortest.New(t, opts)
	c, err := graphclient.New(graphclient.Options{
		BaseURL:    run.URL,
		Credential: graphclient.StaticToken(run.Token),
		Sleep:      func(context.Context, time.Duration) error { return nil },
		Now:        func() time.Time { return testNow },
	})
	require.NoError(t, err)
	return &tenant{run: run, client: c}
}

func (tn *tenant) live(t *testing.T) []graph.Definition {
	t.Helper()
	defs, err := tn.client.AllDefinitions(context.Background())
	require.NoError(t, err)
	out := make([]graph.Definition, len(defs))
	for i, d := range defs {
		out[i] = *d
	}
	return out
}

// desired loads the spec files under dir and resolves them against the
// tenant, as `arsync plan` does.
func (tn *tenant) desired(t *testing.T, paths ...string) []diff.Desired {
	t.Helper()
	res, err := spec.Load(paths...)
	require.NoError(t, err)
	require.False(t, res.Diagnostics.HasErrors(), "the spec files do not validate:\n%s", res.Diagnostics)
	resolved, err := spec.Resolve(context.Background(), res.Definitions, tn.client)
	require.NoError(t, err)
	out := make([]diff.Desired, len(resolved))
	for i, r := range resolved {
		out[i] = diff.Desired{
			Name:       r.Def.Name,
			Source:     fmt.Sprintf("%s:%d", r.Def.Source.File, r.Def.Source.Line),
			Definition: r.Body,
			Display:    r.Labels,
		}
	}
	return out
}

func (tn *tenant) plan(t *testing.T, desired []diff.Desired) *diff.Plan {
	t.Helper()
	p, err := diff.Compute(desired, tn.live(t), diff.Options{Now: testNow})
	require.NoError(t, err)
	return p
}

func renderPlan(p *diff.Plan) string {
	var b bytes.Buffer
	_ = diff.RenderText(&b, p, diff.TextOptions{})
	return b.String()
}

// export runs Export over every live definition and writes the files to a
// fresh directory, checking that each one validates.
func (tn *tenant) export(t *testing.T, all bool) (string, []spec.ExportFile) {
	t.Helper()
	dir := t.TempDir()
	files, err := spec.Export(context.Background(), tn.live(t), tn.client, spec.ExportOptions{All: all, Dir: dir})
	require.NoError(t, err)
	for _, f := range files {
		require.False(t, f.Diagnostics.HasErrors(), "%s does not validate:\n%s\n%s", f.Path, f.Diagnostics, f.Content)
		require.Empty(t, f.Warnings, f.Path)
		require.Equal(t, filepath.Join(dir, f.Name+".yaml"), f.Path)
		require.NoError(t, os.WriteFile(f.Path, f.Content, 0o644))
	}
	return dir, files
}

// adopt exports every definition, checks that the plan over the files
// only adopts (without changing a field), applies the adoptions and checks
// that the next plan is empty. It returns the exported files.
func (tn *tenant) adopt(t *testing.T, wantAdopted int) []spec.ExportFile {
	t.Helper()
	ctx := context.Background()
	dir, files := tn.export(t, true)
	require.Len(t, files, wantAdopted)
	for _, f := range files {
		require.False(t, f.Managed, f.Name)
	}

	desired := tn.desired(t, dir)
	p := tn.plan(t, desired)
	require.Equal(t, diff.Summary{Adopt: wantAdopted}, p.Summary, renderPlan(p))
	for _, c := range p.Changes {
		require.Equal(t, diff.Adopt, c.Action, renderPlan(p))
		require.Empty(t, c.Fields, "the exported %s does not mean what the live definition means:\n%s", c.Name, renderPlan(p))
		require.NoError(t, tn.client.UpdateDefinition(ctx, c.ID, c.After), c.Name)
	}
	require.Empty(t, p.Unmanaged)

	again := tn.plan(t, desired)
	require.False(t, again.HasChanges(), "plan after adopting:\n%s", renderPlan(again))
	require.Equal(t, diff.Summary{NoOp: wantAdopted}, again.Summary)

	// Managed now: a default export (managed only) gives the same files,
	// without the "not managed yet" note, and plans clean as well.
	dir2, managed := tn.export(t, false)
	require.Len(t, managed, wantAdopted)
	for i, f := range managed {
		require.True(t, f.Managed, f.Name)
		require.Equal(t, files[i].Name, f.Name)
		require.Equal(t, body(files[i].Content), body(f.Content), f.Name)
	}
	require.False(t, tn.plan(t, tn.desired(t, dir2)).HasChanges())
	return files
}

// body is an exported file without its comment lines (which name the
// definition's id, and whether it is managed).
func body(b []byte) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// The storage forms the emulator can use; the export must not depend on
// them.
var variants = []struct {
	name string
	opts emulator.Options
}{
	{"as-sent", emulator.Options{}},
	{"numbered-ranges", emulator.Options{RangeStyle: emulator.RangeNumbered}},
	{"plain-queries", emulator.Options{PlainScopeQueries: true}},
}

// createByHand posts bodies without arsync's marker, as a person using the
// portal or a script would have.
func (tn *tenant) createByHand(t *testing.T, bodies []graph.Definition) {
	t.Helper()
	for _, b := range bodies {
		_, _, marked := graph.SplitMarker(b.DescriptionForAdmins)
		require.False(t, marked)
		_, err := tn.client.CreateDefinition(context.Background(), &b)
		require.NoError(t, err, b.DisplayName)
	}
}

func TestAdoptExamples(t *testing.T) {
	files, err := filepath.Glob("../../examples/reviews/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		base := strings.TrimSuffix(filepath.Base(file), ".yaml")
		for _, v := range variants {
			t.Run(base+"/"+v.name, func(t *testing.T) {
				tn := newTenant(t, v.opts)
				// The bodies arsync would send, without the marker.
				var bodies []graph.Definition
				for _, d := range tn.desired(t, file) {
					bodies = append(bodies, d.Definition)
				}
				tn.createByHand(t, bodies)
				exported := tn.adopt(t, len(bodies))
				for _, f := range exported {
					golden.Assert(t, filepath.Join("testdata/export/examples", base, f.Name+".yaml.golden"), []byte(body(f.Content)))
				}
			})
		}
	}
}

func TestAdoptGraphPayloads(t *testing.T) {
	files, err := filepath.Glob("testdata/export/graph/*-request.json")
	require.NoError(t, err)
	require.Len(t, files, 4)
	for _, file := range files {
		base := strings.TrimSuffix(filepath.Base(file), "-request.json")
		for _, v := range variants {
			t.Run(base+"/"+v.name, func(t *testing.T) {
				raw, err := os.ReadFile(file)
				require.NoError(t, err)
				var d graph.Definition
				require.NoError(t, json.Unmarshal(raw, &d))
				tn := newTenant(t, v.opts)
				tn.createByHand(t, []graph.Definition{d})
				exported := tn.adopt(t, 1)
				golden.Assert(t, filepath.Join("testdata/export/graph", base+".yaml.golden"), []byte(body(exported[0].Content)))
			})
		}
	}
}

// TestAdoptEverythingAtOnce adopts all the examples and payloads from one
// tenant, as `arsync export --all` on a real tenant would.
func TestAdoptEverythingAtOnce(t *testing.T) {
	tn := newTenant(t, emulator.Options{})
	var bodies []graph.Definition
	for _, d := range tn.desired(t, "../../examples/reviews") {
		bodies = append(bodies, d.Definition)
	}
	payloads, err := filepath.Glob("testdata/export/graph/*-request.json")
	require.NoError(t, err)
	for _, file := range payloads {
		raw, err := os.ReadFile(file)
		require.NoError(t, err)
		var d graph.Definition
		require.NoError(t, json.Unmarshal(raw, &d))
		bodies = append(bodies, d)
	}
	tn.createByHand(t, bodies)
	files := tn.adopt(t, len(bodies))
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	require.True(t, slices.IsSorted(names))
}

// TestExportManagedKeepsNames applies the examples the way arsync does
// (POST with the marker), then exports the managed definitions: each file
// keeps its metadata.name, and planning the exported files changes nothing.
func TestExportManagedKeepsNames(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, emulator.Options{RangeStyle: emulator.RangeNumbered})
	desired := tn.desired(t, "../../examples/reviews")
	p := tn.plan(t, desired)
	var want []string
	for _, c := range p.Changes {
		require.Equal(t, diff.Create, c.Action)
		_, err := tn.client.CreateDefinition(ctx, c.After)
		require.NoError(t, err)
		want = append(want, c.Name)
	}
	// An unmanaged definition is left out of a default export.
	raw, err := os.ReadFile("testdata/export/graph/20.1-request.json")
	require.NoError(t, err)
	var hand graph.Definition
	require.NoError(t, json.Unmarshal(raw, &hand))
	tn.createByHand(t, []graph.Definition{hand})

	dir, files := tn.export(t, false)
	var got []string
	for _, f := range files {
		got = append(got, f.Name)
		require.True(t, f.Managed)
		require.NotContains(t, string(f.Content), "[arsync:")
	}
	slices.Sort(want)
	require.Equal(t, want, got)
	again := tn.plan(t, tn.desired(t, dir))
	require.False(t, again.HasChanges(), renderPlan(again))
	require.Len(t, again.Unmanaged, 1)
}

// TestResolveErrorsOnDemoTenant resolves misspelt and ambiguous names
// against the emulator's demo tenant (examples/tenant.yaml has two groups
// named "Contractors").
func TestResolveErrorsOnDemoTenant(t *testing.T) {
	tn := newTenant(t, emulator.Options{})
	res, err := spec.Load("testdata/resolve/demo-tenant.yaml")
	require.NoError(t, err)
	require.Empty(t, res.Diagnostics)
	_, err = spec.Resolve(context.Background(), res.Definitions, tn.client)
	var diags spec.Diagnostics
	require.ErrorAs(t, err, &diags)
	golden.Assert(t, "testdata/resolve/demo-tenant.golden", []byte(err.Error()+"\n"))
}

// bigTenant is a directory of users user0000@big.example... and groups
// "Team 000"..., for look-up volume tests.
func bigTenant(users, groups int) *emulator.Tenant {
	tt := &emulator.Tenant{TenantID: "0f0f0f0f-0000-4000-8000-000000000000", DisplayName: "Big", Domain: "big.example", Admin: "user0000@big.example"}
	for i := range users {
		upn := fmt.Sprintf("user%04d@big.example", i)
		tt.Users = append(tt.Users, emulator.User{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), UserPrincipalName: upn, Mail: upn, DisplayName: fmt.Sprintf("User %d", i)})
	}
	for i := range groups {
		tt.Groups = append(tt.Groups, emulator.Group{ID: fmt.Sprintf("00000000-0000-4000-9000-%012d", i), DisplayName: fmt.Sprintf("Team %03d", i), MailNickname: fmt.Sprintf("team%03d", i)})
	}
	return tt
}

// manyNames writes defs spec files that together name users users and
// groups groups, each distinct name in one definition and user0000 in all
// of them (a repeated name is looked up once).
func manyNames(t testing.TB, dir string, defs, users, groups int) {
	t.Helper()
	for d := range defs {
		var b strings.Builder
		fmt.Fprintf(&b, "apiVersion: arsync/v1\nkind: AccessReviewDefinition\nmetadata: {name: many-%d}\nspec:\n", d)
		fmt.Fprintf(&b, "  displayName: Many %d\n  scope: {query: /groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/members}\n  reviewers:\n    - user: user0000@big.example\n", d)
		for u := d; u < users; u += defs {
			fmt.Fprintf(&b, "    - user: user%04d@big.example\n", u)
		}
		for g := d; g < groups; g += defs {
			fmt.Fprintf(&b, "    - groupOwners: Team %03d\n", g)
		}
		b.WriteString("  settings:\n    recurrence: {range: {type: endDate, startDate: 2026-01-01, endDate: 2026-01-10}}\n")
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("many-%d.yaml", d)), []byte(b.String()), 0o644))
	}
}

func roundTrips(s *emulator.Server) int {
	n := 0
	for _, r := range s.Requests() {
		if !r.Batch {
			n++
		}
	}
	return n
}

// TestResolve500NamesRoundTrips: resolving 500 distinct names costs at most
// 40 Graph round trips (issue 7).
func TestResolve500NamesRoundTrips(t *testing.T) {
	const users, groups = 450, 50
	tn := newTenant(t, emulator.Options{Tenant: bigTenant(600, 80)})
	dir := t.TempDir()
	manyNames(t, dir, 10, users, groups)
	res, err := spec.Load(dir)
	require.NoError(t, err)
	require.False(t, res.Diagnostics.HasErrors(), "%s", res.Diagnostics)

	tn.run.Server.ResetRequests()
	resolved, err := spec.Resolve(context.Background(), res.Definitions, tn.client)
	require.NoError(t, err)
	trips := roundTrips(tn.run.Server)
	t.Logf("%d distinct names resolved in %d round trips", users+groups, trips)
	require.LessOrEqual(t, trips, 40)
	require.Zero(t, tn.run.Server.RetryAfterViolations())

	// And every name became the right id.
	seen := 0
	for _, r := range resolved {
		for _, rv := range r.Body.Reviewers {
			var i int
			switch {
			case strings.HasPrefix(rv.Query, "/users/"):
				_, err := fmt.Sscanf(rv.Query, "/users/00000000-0000-4000-8000-%012d", &i)
				require.NoError(t, err, rv.Query)
				require.Equal(t, fmt.Sprintf("user%04d@big.example", i), r.Labels[strings.TrimPrefix(rv.Query, "/users/")])
			default:
				_, err := fmt.Sscanf(rv.Query, "/groups/00000000-0000-4000-9000-%012d/owners", &i)
				require.NoError(t, err, rv.Query)
				require.Less(t, i, groups)
			}
			seen++
		}
	}
	require.Equal(t, users+groups+len(resolved), seen) // user0000 once more in every definition
}

// BenchmarkResolve500Names measures resolving 500 distinct names against
// the emulator over loopback HTTP, and reports the round trips it takes.
func BenchmarkResolve500Names(b *testing.B) {
	tn := newTenantB(b, emulator.Options{Tenant: bigTenant(600, 80)})
	dir := b.TempDir()
	manyNames(b, dir, 10, 450, 50)
	res, err := spec.Load(dir)
	require.NoError(b, err)
	b.ReportAllocs()
	b.ResetTimer()
	trips := 0
	for b.Loop() {
		tn.run.Server.ResetRequests()
		if _, err := spec.Resolve(context.Background(), res.Definitions, tn.client); err != nil {
			b.Fatal(err)
		}
		trips = roundTrips(tn.run.Server)
	}
	b.ReportMetric(float64(trips), "round-trips/op")
}

func newTenantB(b *testing.B, opts emulator.Options) *tenant {
	b.Helper()
	opts.Clock = func() time.Time { return testNow }
	opts.Seed = 11
	run := emulatortest.New(b, opts)
	c, err := graphclient.New(graphclient.Options{BaseURL: run.URL, Credential: graphclient.StaticToken(run.Token)})
	require.NoError(b, err)
	return &tenant{run: run, client: c}
}

// TestExportDocumentedResponses exports the definitions exactly as the
// Graph documentation shows them returned (docs/graph-behaviour.md#documented-payloads and #recurrence:
// numbered ranges ending 9999-12-31, an endDate of "null", queryRoot on a
// user reviewer, /v1.0 prefixes, stageSettings []), with names from the
// demo tenant, and plans the files against those same live objects: only
// adoptions, with no field changed.
func TestExportDocumentedResponses(t *testing.T) {
	tn := newTenant(t, emulator.Options{})
	var live []graph.Definition
	for _, f := range []string{"20.1-response-numbered.json", "20.2-response-null-string.json", "20.4-response.json"} {
		raw, err := os.ReadFile(filepath.Join("testdata/export/graph", f))
		require.NoError(t, err)
		var d graph.Definition
		require.NoError(t, json.Unmarshal(raw, &d))
		live = append(live, d)
	}
	for _, f := range tn.exportAndPlan(t, live) {
		require.NotRegexp(t, `[0-9a-f]{8}-[0-9a-f]{4}-`, body(f.Content)) // every id became a name in the demo tenant
	}
}

// TestExportStoredForms exports definitions whose queries and recurrences
// are in forms the diff's canonical form reads but that export once copied
// as they were: an absolute /beta URL (which does not validate), '+' and
// %27 in options, upper-case ids, trailing slashes that hid the reviewer
// forms, a pattern type in another letter case, a numbered range with no
// occurrences and datetime dates, durations in hours. The files validate,
// are written in canonical form, and plan only adoptions, with no field
// changed.
func TestExportStoredForms(t *testing.T) {
	tn := newTenant(t, emulator.Options{})
	raw, err := os.ReadFile("testdata/export/stored-forms.json")
	require.NoError(t, err)
	var live []graph.Definition
	require.NoError(t, json.Unmarshal(raw, &live))
	for _, f := range tn.exportAndPlan(t, live) {
		golden.Assert(t, filepath.Join("testdata/export/stored-forms", f.Name+".yaml.golden"), []byte(body(f.Content)))
	}
}

// exportAndPlan exports live (all of it, named from the tenant's
// directory), checks that every file validates without warnings, and plans
// the files against live: only adoptions, with no field changed.
func (tn *tenant) exportAndPlan(t *testing.T, live []graph.Definition) []spec.ExportFile {
	t.Helper()
	dir := t.TempDir()
	files, err := spec.Export(context.Background(), live, tn.client, spec.ExportOptions{All: true, Dir: dir})
	require.NoError(t, err)
	require.Len(t, files, len(live))
	for _, f := range files {
		require.False(t, f.Diagnostics.HasErrors(), "%s does not validate:\n%s\n%s", f.Path, f.Diagnostics, f.Content)
		require.Empty(t, f.Warnings)
		require.NoError(t, os.WriteFile(f.Path, f.Content, 0o644))
	}
	p, err := diff.Compute(tn.desired(t, dir), live, diff.Options{Now: testNow})
	require.NoError(t, err)
	require.Equal(t, diff.Summary{Adopt: len(live)}, p.Summary, renderPlan(p))
	for _, c := range p.Changes {
		require.Empty(t, c.Fields, renderPlan(p))
	}
	return files
}
