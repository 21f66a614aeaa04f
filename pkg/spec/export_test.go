package spec

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/golden"
	"github.com/arsync/arsync/pkg/graph"
)

func readLive(t *testing.T, path string) []graph.Definition {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var defs []graph.Definition
	if strings.HasPrefix(strings.TrimSpace(string(raw)), "[") {
		require.NoError(t, json.Unmarshal(raw, &defs))
	} else {
		var d graph.Definition
		require.NoError(t, json.Unmarshal(raw, &d))
		defs = append(defs, d)
	}
	return defs
}

// guidSet is every id in the queries of d, lower case.
func guidSet(d *graph.Definition) []string {
	var out []string
	for _, q := range queriesOf(d) {
		for _, m := range guidsIn(q) {
			out = append(out, strings.ToLower(q[m[0]:m[1]]))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestExportGolden exports hand-made live definitions that exercise the
// naming rules (unique names only, guests by mail, ids that name nothing,
// names that cannot be written, roles by template id) and the documented
// Graph responses. Each file must load without errors, and resolving it
// must give back exactly the ids of the live definition.
func TestExportGolden(t *testing.T) {
	var live []graph.Definition
	live = append(live, readLive(t, "testdata/export/live.json")...)
	for _, f := range []string{"20.1-response-numbered.json", "20.2-response-null-string.json", "20.4-response.json"} {
		live = append(live, readLive(t, filepath.Join("testdata/export/graph", f))...)
	}
	dir := testDirectory()
	files, err := Export(context.Background(), live, dir, ExportOptions{All: true, Dir: "out"})
	require.NoError(t, err)
	calls := dir.callsSorted()

	byID := map[string]*graph.Definition{}
	for i := range live {
		byID[live[i].ID] = &live[i]
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
		require.Equal(t, filepath.Join("out", f.Name+".yaml"), f.Path)
		require.False(t, f.Diagnostics.HasErrors(), "%s:\n%s", f.Path, f.Content)
		golden.Assert(t, filepath.Join("testdata/export/unit", f.Name+".yaml.golden"), f.Content)

		defs, diags := Parse(f.Path, f.Content)
		require.Equal(t, f.Diagnostics, diags)
		require.Len(t, defs, 1)
		require.Equal(t, f.Name, defs[0].Name)
		resolved, err := Resolve(context.Background(), defs, dir)
		require.NoError(t, err, f.Name)
		l := byID[f.ID]
		require.NotNil(t, l)
		require.Equal(t, f.DisplayName, l.DisplayName)
		require.Equal(t, guidSet(l), guidSet(&resolved[0].Body), "%s: the names must lead back to the same ids", f.Name)
	}
	want := []string{
		"contractors-review", "contractors-review-2", "keep-me", "keep-me-2",
		"one-time-review-of-guests-in-the-sales-group", "review", "review-inactive-guests-on-teams", "test-create",
	}
	require.Equal(t, want, names)

	// Two unmarked definitions with one displayName cannot be adopted; the
	// export says so on both. A reviewer that no longer exists is kept as
	// an id, with a warning.
	for _, f := range files {
		switch {
		case strings.HasPrefix(f.Name, "contractors-review"):
			require.Len(t, f.Warnings, 1, f.Name)
			require.Contains(t, f.Warnings[0], "shares its displayName \"Contractors review\"")
		case f.Name == "keep-me":
			require.Equal(t, []string{`"/users/0e0e0e0e-0000-4000-8000-00000000dead" refers to 0e0e0e0e-0000-4000-8000-00000000dead, which is not in the directory (deleted?); it is kept as an id`}, f.Warnings)
		default:
			require.Empty(t, f.Warnings, f.Name)
		}
	}
	managed := files[slices.IndexFunc(files, func(f ExportFile) bool { return f.Name == "keep-me" })]
	require.True(t, managed.Managed)
	require.NotContains(t, string(managed.Content), "[arsync:")

	// The directory was read in batches: one getByIds, one role listing for
	// the ids that are not directory objects, one look-up per kind.
	kinds := map[string]int{}
	for _, c := range calls {
		kinds[c[:strings.IndexByte(c, ':')]]++
	}
	if d := cmp.Diff(map[string]int{"getByIds": 1, "role": 2, "user": 1, "group": 1, "servicePrincipal": 1}, kinds); d != "" {
		t.Errorf("directory calls (-want +got):\n%s\n%s", d, strings.Join(calls, "\n"))
	}
}

func TestExportInvalidLiveDefinition(t *testing.T) {
	files, err := Export(context.Background(), readLive(t, "testdata/export/invalid.json"), testDirectory(), ExportOptions{All: true})
	require.NoError(t, err)
	require.Len(t, files, 1)
	require.True(t, files[0].Diagnostics.HasErrors())
	golden.Assert(t, "testdata/export/unit/invalid.diagnostics.golden", []byte(files[0].Diagnostics.Error()+"\n"))
}

func TestExportManagedOnly(t *testing.T) {
	live := readLive(t, "testdata/export/live.json")
	files, err := Export(context.Background(), live, testDirectory(), ExportOptions{})
	require.NoError(t, err)
	require.Len(t, files, 1)
	require.Equal(t, "keep-me", files[0].Name)
	require.Equal(t, "keep-me.yaml", files[0].Path)

	// Nothing to export: no directory reads.
	dir := testDirectory()
	files, err = Export(context.Background(), live[1:], dir, ExportOptions{})
	require.NoError(t, err)
	require.Empty(t, files)
	require.Empty(t, dir.calls)
}

func TestExportWithoutNamer(t *testing.T) {
	live := readLive(t, "testdata/export/graph/20.1-response-numbered.json")
	files, err := Export(context.Background(), live, nil, ExportOptions{All: true})
	require.NoError(t, err)
	require.Contains(t, string(files[0].Content), "query: /groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/transitiveMembers/microsoft.graph.user\n")
	// Without a directory nothing is known to exist: queries stay queries.
	require.Contains(t, string(files[0].Content), "- query: /users/398164b1-5196-49dd-ada2-364b49f99b27\n")
	require.Empty(t, files[0].Warnings)
}

func TestExportDuplicateMarkers(t *testing.T) {
	mk := func(id, created string) graph.Definition {
		return graph.Definition{ID: id, DisplayName: "D", CreatedDateTime: created, DescriptionForAdmins: "x\n[arsync:dup]"}
	}
	live := []graph.Definition{mk("id-2", "2025-02-01T00:00:00Z"), mk("id-1", "2025-01-01T00:00:00Z"), mk("id-3", "")}
	_, err := Export(context.Background(), live, testDirectory(), ExportOptions{})
	// Oldest first, as plan orders them (graph.OlderFirst): the one it keeps
	// first, and an unknown creation time last.
	require.EqualError(t, err, "3 definitions carry the marker [arsync:dup]: id-1 (created 2025-01-01T00:00:00Z), id-2 (created 2025-02-01T00:00:00Z), id-3 (created at an unknown time); delete all but one (arsync plan --allow-delete plans deleting the younger ones) before exporting")
}

func TestExportDirectoryFailure(t *testing.T) {
	dir := testDirectory()
	dir.fail = map[RefKind]error{RefGroup: &graph.Error{StatusCode: 503, Message: "down"}}
	_, err := Export(context.Background(), readLive(t, "testdata/export/live.json"), dir, ExportOptions{All: true})
	require.ErrorContains(t, err, "checking that names are unique: ")
	var ge *graph.Error
	require.ErrorAs(t, err, &ge)
}

func TestSlug(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Guest access to Microsoft 365 groups", "guest-access-to-microsoft-365-groups"},
		{"  --Finance:  Q1/Q2 -- ", "finance-q1-q2"},
		{"Überprüfung", "berpr-fung"},
		{"審査", "review"},
		{"", "review"},
		{strings.Repeat("abc ", 30), "abc-abc-abc-abc-abc-abc-abc-abc-abc-abc-abc-abc-abc-abc-abc-abc"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := slug(tt.in)
			require.Equal(t, tt.want, got)
			require.LessOrEqual(t, len(got), maxName)
			require.Regexp(t, `^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`, got)
		})
	}
}

func TestUniqueName(t *testing.T) {
	long := strings.Repeat("a", maxName)
	taken := map[string]bool{"x": true, "x-2": true, long: true}
	require.Equal(t, "y", uniqueName("y", taken))
	require.Equal(t, "x-3", uniqueName("x", taken))
	got := uniqueName(long, taken)
	require.Equal(t, strings.Repeat("a", maxName-2)+"-2", got)
	require.Len(t, got, maxName)
}

func TestGuidsIn(t *testing.T) {
	q := "/groups/" + idFinance + "/x?$filter=(id eq '" + strings.ToUpper(idAlice) + "') and a" + idSam + " and " + idSam + "-1"
	var got []string
	for _, m := range guidsIn(q) {
		got = append(got, q[m[0]:m[1]])
	}
	require.Equal(t, []string{idFinance, strings.ToUpper(idAlice)}, got)
}

func TestUsableName(t *testing.T) {
	for name, want := range map[string]bool{
		"Marketing": true, "alice@contoso.com": true, "Team #1": true,
		"": false, " padded": false, "Odd {name}": false, "a$b": false, idAlice: false, "two\nlines": false,
	} {
		require.Equal(t, want, usableName(name), name)
	}
}

func TestDescribeIDs(t *testing.T) {
	live := readLive(t, "testdata/export/live.json")
	dir := testDirectory()
	got, err := DescribeIDs(context.Background(), dir, live[:1])
	require.NoError(t, err)
	want := map[string]string{
		idMarketing: "Marketing",
		idTwinA:     "pat@contoso.com",
		idTwinB:     "pat.admin@contoso.com",
		idSam:       "sam_fabrikam.com#EXT#@contoso.onmicrosoft.com",
		idContrA:    "Contractors",
		idOdd:       "Odd {name}",
		idAlice:     "alice@contoso.com",
		idFinance:   "Finance",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	require.Equal(t, []string{"getByIds:" + strings.Join([]string{idMarketing, idTwinA, idTwinB, idSam, "0e0e0e0e-0000-4000-8000-00000000dead", idContrA, idOdd, idAlice, idFinance}, "|")}, dir.calls)

	got, err = DescribeIDs(context.Background(), nil, live)
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestWriteFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "reviews")
	files := []ExportFile{
		{Name: "a", Path: filepath.Join(dir, "a.yaml"), Content: []byte("a: 1\n")},
		{Name: "b", Path: filepath.Join(dir, "b.yaml"), Content: []byte("b: 1\n")},
	}
	require.NoError(t, WriteFiles(files, false))
	for _, f := range files {
		got, err := os.ReadFile(f.Path)
		require.NoError(t, err)
		require.Equal(t, f.Content, got)
		info, err := os.Stat(f.Path)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o644), info.Mode().Perm())
	}

	// Existing files: nothing is written, every one is named.
	require.NoError(t, os.Remove(files[0].Path))
	files[0].Content, files[1].Content = []byte("a: 2\n"), []byte("b: 2\n")
	err := WriteFiles(files, false)
	var exists *ExistsError
	require.ErrorAs(t, err, &exists)
	require.Equal(t, []string{files[1].Path}, exists.Paths)
	require.EqualError(t, err, files[1].Path+" already exists; nothing was written (overwrite with --force)")
	_, statErr := os.Stat(files[0].Path)
	require.ErrorIs(t, statErr, os.ErrNotExist)
	require.EqualError(t, &ExistsError{Paths: []string{"x", "y"}}, "2 files already exist: x, y; nothing was written (overwrite with --force)")

	require.NoError(t, WriteFiles(files, true))
	got, err := os.ReadFile(files[1].Path)
	require.NoError(t, err)
	require.Equal(t, "b: 2\n", string(got))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 2, "no temporary files are left behind")

	// A directory in the way is an error even with overwrite.
	require.NoError(t, os.Mkdir(filepath.Join(dir, "c.yaml"), 0o755))
	err = WriteFiles([]ExportFile{{Path: filepath.Join(dir, "c.yaml")}}, true)
	require.EqualError(t, err, filepath.Join(dir, "c.yaml")+" is a directory; nothing was written")

	// A file where the directory should be (export --out FILE).
	file := filepath.Join(dir, "a.yaml")
	err = WriteFiles([]ExportFile{{Path: filepath.Join(file, "d.yaml")}}, true)
	require.EqualError(t, err, "cannot write "+filepath.Join(file, "d.yaml")+": not a directory; nothing was written")
}

// FuzzExport exports arbitrary live definitions (JSON, as Graph would send
// them). Beyond not panicking: every file is YAML that Parse reads, and
// when it validates, the strings a person sees (metadata.name,
// displayName, descriptions) come back exactly as exported.
//
// Run: go test ./pkg/spec -run=^$ -fuzz=FuzzExport -fuzztime=1m
func FuzzExport(f *testing.F) {
	for _, pattern := range []string{"testdata/export/*.json", "testdata/export/graph/*.json"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte(`{"displayName":"a: b # c\n\"d\"","descriptionForAdmins":"x\r\n[arsync:n]","scope":{"query":"/groups/${group:x}"}}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		var defs []graph.Definition
		if err := json.Unmarshal(data, &defs); err != nil {
			var d graph.Definition
			if json.Unmarshal(data, &d) != nil {
				return
			}
			defs = []graph.Definition{d}
		}
		files, err := Export(context.Background(), defs, testDirectory(), ExportOptions{All: true, Dir: "out"})
		if err != nil {
			if strings.Contains(err.Error(), "definitions carry the marker") {
				return
			}
			t.Fatalf("Export: %v", err)
		}
		names := map[string]bool{}
		for _, f := range files {
			if names[f.Name] {
				t.Fatalf("two files named %q", f.Name)
			}
			names[f.Name] = true
			got, diags := Parse(f.Path, f.Content)
			for _, d := range diags {
				if strings.Contains(d.Message, "YAML syntax error") {
					t.Fatalf("%s is not YAML: %s\n%s", f.Path, d, f.Content)
				}
			}
			if diags.HasErrors() {
				continue
			}
			if len(got) != 1 {
				t.Fatalf("%s holds %d definitions", f.Path, len(got))
			}
			d := got[0]
			if d.Name != f.Name || d.Spec.DisplayName != f.DisplayName {
				t.Fatalf("name %q/%q, displayName %q/%q", d.Name, f.Name, d.Spec.DisplayName, f.DisplayName)
			}
		}
	})
}

// TestExportQuotesWhatYAML11Retypes: values that a YAML 1.1 parser (PyYAML,
// js-yaml's timestamps) would read as something other than a string are
// written quoted, so that the files validate against the JSON Schema in
// other people's tools: dates, YAML 1.1 booleans, octal and sexagesimal
// numbers, nulls. arsync reads them back unchanged.
func TestExportQuotesWhatYAML11Retypes(t *testing.T) {
	live := readLive(t, "testdata/export/live.json")
	require.NotEmpty(t, live)
	for _, v := range []string{
		"2026-01-05", "2026-1-5", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5",
		"yes", "No", "ON", "off", "y", "n", "true", "False",
		"010", "0o17", "0x1F", "0b101", "1_000", "+12", "190:20:30", "1:20", "1_000.5", "1.5e3", ".inf", "-.Inf", ".NaN",
		"~", "null", "Null", "=",
	} {
		t.Run(v, func(t *testing.T) {
			d := live[0]
			d.DisplayName = v
			files, err := Export(context.Background(), []graph.Definition{d}, testDirectory(), ExportOptions{All: true})
			require.NoError(t, err)
			require.Len(t, files, 1)
			var line string
			for _, l := range strings.Split(string(files[0].Content), "\n") {
				if strings.HasPrefix(l, "  displayName: ") {
					line = l
				}
			}
			require.Contains(t, []byte{'"', '\''}, strings.TrimPrefix(line, "  displayName: ")[0], "must be quoted: %s", line)
			defs, diags := Parse("x.yaml", files[0].Content)
			require.False(t, diags.HasErrors(), diags)
			require.Equal(t, v, defs[0].Spec.DisplayName)
		})
	}
	files, err := Export(context.Background(), live, testDirectory(), ExportOptions{All: true})
	require.NoError(t, err)
	for _, f := range files {
		for _, l := range strings.Split(string(f.Content), "\n") {
			for _, key := range []string{"startDate: ", "endDate: "} {
				if i := strings.Index(l, key); i >= 0 {
					require.Equal(t, byte('"'), l[i+len(key)], "dates are quoted: %s", l)
				}
			}
		}
	}
}
