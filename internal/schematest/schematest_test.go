package schematest

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/spec"
)

const root = "../.."

// TestExamplesPassAjv: every document of every example validates against
// the published schema with ajv and js-yaml, one document at a time.
func TestExamplesPassAjv(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(root, "examples/reviews/*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var in []File
	wantDocs := map[string]int{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		in = append(in, File{Name: f, Schema: SpecSchema, Text: data})
		defs, diags := spec.Parse(f, data)
		require.Empty(t, diags)
		wantDocs[f] = len(defs)
	}
	for _, r := range Validate(t, in) {
		require.Empty(t, r.ParseError, r.Name)
		require.Len(t, r.Docs, wantDocs[r.Name], "%s: every document is checked", r.Name)
		for i, d := range r.Docs {
			require.True(t, d.Valid, "%s, document %d: %v", r.Name, i+1, d.Errors)
		}
	}
}

// TestExportOutputPassesAjv: what arsync export writes (its golden files in
// pkg/spec, compared byte for byte there) validates too.
func TestExportOutputPassesAjv(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(root, "pkg/spec/testdata/export/*/*.yaml.golden"))
	require.NoError(t, err)
	more, err := filepath.Glob(filepath.Join(root, "pkg/spec/testdata/export/examples/*/*.yaml.golden"))
	require.NoError(t, err)
	files = append(files, more...)
	require.GreaterOrEqual(t, len(files), 10)
	var in []File
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		in = append(in, File{Name: f, Schema: SpecSchema, Text: data})
	}
	for _, r := range Validate(t, in) {
		require.Empty(t, r.ParseError, r.Name)
		require.Len(t, r.Docs, 1, r.Name)
		require.True(t, r.Docs[0].Valid, "%s: %v", r.Name, r.Docs[0].Errors)
	}
}

var dateRE = regexp.MustCompile(`\b(startDate|endDate): (\d{4}-\d{2}-\d{2})\b`)

// quoteDates writes dates quoted, so that a case fails for its own mistake
// and not for js-yaml's timestamps.
func quoteDates(b []byte) []byte { return dateRE.ReplaceAll(b, []byte(`$1: "$2"`)) }

// TestSchemaRejectsInvalidCases: the schema, as ajv applies it, rejects the
// mistakes documented in docs/yaml-format.md and tested in pkg/spec's table
// of invalid files, each at the place arsync validate reports.
func TestSchemaRejectsInvalidCases(t *testing.T) {
	example, err := os.ReadFile(filepath.Join(root, "examples/reviews/guests-m365-groups.yaml"))
	require.NoError(t, err)
	var in []File
	var paths []string
	for _, tc := range []struct {
		file string // in pkg/spec/testdata/invalid, or "" for text
		text string
		path string // where ajv must report an error
	}{
		{file: "04-unknown-top-level-field.yaml", path: ""},
		{file: "05-missing-api-version.yaml", path: ""},
		{file: "06-wrong-api-version.yaml", path: "/apiVersion"},
		{file: "07-misspelt-kind.yaml", path: "/kind"},
		{file: "08-bad-name.yaml", path: "/metadata/name"},
		{file: "10-missing-display-name.yaml", path: "/spec"},
		{file: "11-misspelt-setting.yaml", path: "/spec/settings"},
		{file: "12-description-too-long.yaml", path: "/spec/descriptionForReviewers"},
		{file: "13-marker-in-description.yaml", path: "/spec/descriptionForAdmins"},
		{file: "15-misspelt-scope-type.yaml", path: "/spec/scope/type"},
		{file: "20-query-not-a-path.yaml", path: "/spec/scope/query"},
		{file: "23-reviewer-two-forms.yaml", path: "/spec/reviewers/0"},
		{file: "26-default-decision-case.yaml", path: "/spec/settings/defaultDecision"},
		{file: "27-boolean-yes.yaml", path: "/spec/settings/mailNotificationsEnabled"},
		{file: "34-start-date-format.yaml", path: "/spec/settings/recurrence/range/startDate"},
		{file: "41-stage-bad-decision.yaml", path: "/spec/stageSettings/0/decisionsThatWillMoveToNextStage/0"},
		{file: "42-duration-months.yaml", path: "/spec/scope/inactiveDuration"},
		{file: "45-read-only-id.yaml", path: "/spec"},
		{file: "52-wrong-types.yaml", path: "/spec/displayName"},
		// Why dates are quoted: js-yaml reads an unquoted date as a
		// timestamp, which is not the string the schema wants.
		{text: strings.Replace(string(example), `startDate: "2026-01-05"`, "startDate: 2026-01-05", 1), path: "/spec/settings/recurrence/range/startDate"},
	} {
		name := tc.file
		text := []byte(tc.text)
		if tc.file != "" {
			text, err = os.ReadFile(filepath.Join(root, "pkg/spec/testdata/invalid", tc.file))
			require.NoError(t, err)
			text = quoteDates(text)
		} else {
			name = "unquoted-date.yaml"
			require.NotEqual(t, string(example), tc.text, "the example's startDate changed; update this case")
		}
		if _, diags := spec.Parse(name, text); tc.file != "" {
			require.True(t, diags.HasErrors(), "%s: arsync must reject it too", name)
		}
		in = append(in, File{Name: name, Schema: SpecSchema, Text: text})
		paths = append(paths, tc.path)
	}
	// One run of node for all cases.
	for i, r := range Validate(t, in) {
		require.Empty(t, r.ParseError, r.Name)
		require.Len(t, r.Docs, 1, r.Name)
		require.False(t, r.Docs[0].Valid, "%s: ajv must reject it", r.Name)
		var at []string
		for _, e := range r.Docs[0].Errors {
			at = append(at, e.String())
		}
		if !slices.ContainsFunc(r.Docs[0].Errors, func(e Error) bool { return e.InstancePath == paths[i] }) {
			t.Errorf("%s: ajv reports no error at %q; it said:\n%s", r.Name, paths[i], strings.Join(at, "\n"))
		}
	}
}
