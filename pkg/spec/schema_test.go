package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/arsync/arsync/internal/golden"
	"github.com/arsync/arsync/pkg/graph"
)

const schemaDir = "../../schema"

var reflectTypeOfPattern = reflect.TypeFor[Pattern]()

// TestSchemaFilesUpToDate fails when the committed schema files are not
// what the generator writes from the current Go types. Fix with
// `go generate ./pkg/spec` (or go test ./pkg/spec -run TestSchema -update).
func TestSchemaFilesUpToDate(t *testing.T) {
	for _, tc := range []struct {
		file string
		gen  func() ([]byte, error)
	}{
		{SpecSchemaFile, SpecSchema},
		{ConfigSchemaFile, ConfigSchema},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := tc.gen()
			require.NoError(t, err)
			golden.Assert(t, filepath.Join(schemaDir, tc.file), got)
		})
	}
}

// TestSchemaGeneratorChecksDocs: a Go field without documentation, or
// documentation of a field that does not exist, stops the generator.
func TestSchemaGeneratorChecksDocs(t *testing.T) {
	saved := typeDocs[reflectTypeOfPattern]
	t.Cleanup(func() { typeDocs[reflectTypeOfPattern] = saved })

	doc := saved
	doc.fields = map[string]fieldDoc{}
	for k, v := range saved.fields {
		if k != "Interval" {
			doc.fields[k] = v
		}
	}
	doc.fields["Month"] = fieldDoc{key: "month"}
	typeDocs[reflectTypeOfPattern] = doc
	_, err := SpecSchema()
	require.ErrorContains(t, err, "field Pattern.Interval is not documented")
	require.ErrorContains(t, err, "documents Pattern.Month, which is not an exported field")
}

// TestSchemaKeysMatchDecoder: each object of the schema has exactly the
// keys the strict decoder accepts, so the editor and `arsync validate`
// agree on what a typo is.
func TestSchemaKeysMatchDecoder(t *testing.T) {
	spec := loadSchemaJSON(t, SpecSchemaFile)
	defs := spec["definitions"].(map[string]any)
	objectOf := func(s map[string]any) map[string]any {
		// applyAction and insight settings: anyOf [bare name, object].
		if alts, ok := s["anyOf"].([]any); ok && s["properties"] == nil {
			for _, a := range alts {
				if m := a.(map[string]any); m["type"] == "object" {
					return m
				}
			}
		}
		return s
	}
	for _, tc := range []struct {
		name   string
		schema map[string]any
		known  []string
	}{
		{"document", spec, documentFields.known},
		{"metadata", spec["properties"].(map[string]any)["metadata"].(map[string]any), metadataFields.known},
		{"spec", defs["spec"].(map[string]any), specFields.known},
		{"scope", defs["scope"].(map[string]any), scopeFields.known},
		{"reviewer", defs["reviewer"].(map[string]any), reviewerFields.known},
		{"notificationRecipient", defs["notificationRecipient"].(map[string]any), recipientFields.known},
		{"notificationRecipientScope", defs["notificationRecipientScope"].(map[string]any), recipientScopeFields.known},
		{"settings", defs["settings"].(map[string]any), settingsFields.known},
		{"recurrence", defs["recurrence"].(map[string]any), recurrenceFields.known},
		{"pattern", defs["pattern"].(map[string]any), patternFields.known},
		{"range", defs["range"].(map[string]any), rangeFields.known},
		{"applyAction", objectOf(defs["applyAction"].(map[string]any)), typedFields.known},
		{"recommendationInsightSetting", objectOf(defs["recommendationInsightSetting"].(map[string]any)), insightFields.known},
		{"stage", defs["stage"].(map[string]any), stageFields.known},
		{"config", loadSchemaJSON(t, ConfigSchemaFile), configFields.known},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, false, tc.schema["additionalProperties"], "unknown keys must be rejected")
			var got []string
			for k := range tc.schema["properties"].(map[string]any) {
				got = append(got, k)
			}
			want := slices.Clone(tc.known)
			slices.Sort(got)
			slices.Sort(want)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("schema keys differ from the decoder's (-decoder +schema):\n%s", d)
			}
		})
	}
}

// TestSchemaDescriptionsNameGraph: every property of the spec schema says
// what Graph property it maps to (or that it is arsync's own).
func TestSchemaDescriptionsNameGraph(t *testing.T) {
	spec := loadSchemaJSON(t, SpecSchemaFile)
	var walk func(path string, s map[string]any)
	n := 0
	walk = func(path string, s map[string]any) {
		if ps, ok := s["properties"].(map[string]any); ok {
			for k, v := range ps {
				p := v.(map[string]any)
				d, _ := p["description"].(string)
				isType := k == "type" || k == "@odata.type"
				if !isType && !strings.Contains(d, "Graph") && !strings.Contains(d, "arsync only") && k != "metadata" {
					t.Errorf("%s.%s: description %q names no Graph property", path, k, d)
				}
				n++
				walk(path+"."+k, p)
			}
		}
		for _, key := range []string{"anyOf", "allOf"} {
			for _, a := range asList(s[key]) {
				walk(path, a.(map[string]any))
			}
		}
	}
	walk("document", spec)
	for name, d := range spec["definitions"].(map[string]any) {
		walk(name, d.(map[string]any))
	}
	require.Greater(t, n, 60, "the walk must have visited the properties")
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// TestSchemaAcceptsExamples: every document of every example validates
// against the published schema, as an editor would check it, and every
// example starts with the yaml-language-server line pointing at it.
func TestSchemaAcceptsExamples(t *testing.T) {
	sch := compileSchema(t, SpecSchemaFile)
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			first, _, _ := strings.Cut(string(data), "\n")
			require.Equal(t, "# yaml-language-server: $schema=../../schema/"+SpecSchemaFile, first,
				"the first line of every example names the schema")
			require.Empty(t, editorCheck(t, sch, f, data))
		})
	}
}

// TestSchemaAcceptsValidSpecs: documents the decoder accepts that use every
// form the schema must allow (bare and typed polymorphic items, both type
// keys, recipients inline and under notificationRecipientScope, stage ids
// as numbers).
func TestSchemaAcceptsValidSpecs(t *testing.T) {
	sch := compileSchema(t, SpecSchemaFile)
	doc := `apiVersion: arsync/v1
kind: AccessReviewDefinition
metadata: {name: every-form}
spec:
  displayName: Every form
  scope:
    "@odata.type": principalResourceMemberships
    principalScopes:
      - {type: inactiveUsers, query: /users, inactiveDuration: PT720H}
    resourceScopes:
      - {"@odata.type": "#microsoft.graph.accessReviewQueryScope", query: "/servicePrincipals/${servicePrincipal:Payroll}"}
  reviewers:
    - {query: ./manager, queryRoot: decisions, queryType: MicrosoftGraph}
  fallbackReviewers:
    - user: alice@contoso.com
  additionalNotificationRecipients:
    - {notificationTemplateType: CompletedAdditionalRecipients, notificationRecipientScope: {type: query, query: /users/x}}
    - groupOwners: Finance
  stageSettings:
    - {stageId: 1, durationInDays: 3, recommendationsEnabled: false, decisionsThatWillMoveToNextStage: [Approve, NotReviewed]}
    - {stageId: "2", dependsOn: [1], durationInDays: 3, recommendationsEnabled: true, reviewers: [{groupMembers: Auditors}]}
  settings:
    recommendationLookBackDuration: P1DT12H
    applyActions: [removeAccessApplyAction, {type: disableAndDeleteUserApplyAction}]
    recommendationInsightSettings:
      - {"@odata.type": "#microsoft.graph.userLastSignInRecommendationInsightSetting", recommendationLookBackDuration: P7D, signInScope: application}
      - groupPeerOutlier
    recurrence:
      pattern: {type: weekly, interval: 1}
      range: {type: numbered, startDate: 2025-01-06, numberOfOccurrences: 10, recurrenceTimeZone: UTC}
`
	_, diags := Parse("every-form.yaml", []byte(doc))
	require.False(t, diags.HasErrors(), "the decoder must accept it:\n%s", diags)
	require.Empty(t, editorCheck(t, sch, "every-form.yaml", []byte(doc)))
}

// TestSchemaRejectsTypos is the editor-style check a user gets: a
// misspelt field is marked by the schema at the same line as the
// file:line:col error of `arsync validate`.
func TestSchemaRejectsTypos(t *testing.T) {
	sch := compileSchema(t, SpecSchemaFile)
	src, err := os.ReadFile(filepath.Join(examplesDir, "finance-two-stage.yaml"))
	require.NoError(t, err)
	for _, tc := range []struct{ field, typo string }{
		{"apiVersion:", "apiVerison:"},
		{"  name: finance-two-stage", "  nmae: finance-two-stage"},
		{"  displayName:", "  dispalyName:"},
		{"    query: /groups/${group:Finance}", "    querry: /groups/${group:Finance}"},
		{"      durationInDays: 10", "      durationInDay: 10"},
		{"      recommendationsEnabled: true", "      recomendationsEnabled: true"},
		{"    mailNotificationsEnabled:", "    mailNotificationEnabled:"},
		{"      range:", "      rnage:"},
		{` startDate: "2026`, ` startdate: "2026`},
		{"        groupMembers: Finance Auditors", "        groupMember: Finance Auditors"},
	} {
		t.Run(tc.typo, func(t *testing.T) {
			require.Equal(t, 1, bytes.Count(src, []byte(tc.field)), "the field must occur once in the example")
			data := bytes.Replace(src, []byte(tc.field), []byte(tc.typo), 1)
			line := 1 + bytes.Count(data[:bytes.Index(data, []byte(tc.typo))], []byte("\n"))
			key := strings.TrimSuffix(strings.Fields(tc.typo)[0], ":")
			file := "reviews/finance.yaml"

			problems := editorCheck(t, sch, file, data)
			want := fmt.Sprintf("%s:%d:", file, line)
			require.True(t, slices.ContainsFunc(problems, func(p string) bool {
				return strings.HasPrefix(p, want) && strings.Contains(p, "'"+key+"'")
			}), "the schema must mark %q at line %d; it said:\n%s", key, line, strings.Join(problems, "\n"))

			_, diags := Parse(file, data)
			require.True(t, slices.ContainsFunc(diags, func(d Diagnostic) bool {
				return d.Pos.Line == line && strings.Contains(d.Message, strconv.Quote(key))
			}), "validate must report %q at line %d; it said:\n%s", key, line, diags)
		})
	}
}

// TestSchemaInvalidTable runs the schema over the decoder's table of
// invalid files: the schema must reject every problem it can see in one
// document (types, names, enums, required fields, formats), and accepts the
// rest, which only `arsync validate` knows (rules across fields and files,
// references, YAML syntax).
func TestSchemaInvalidTable(t *testing.T) {
	sch := compileSchema(t, SpecSchemaFile)
	// Files the schema accepts although the decoder rejects them.
	validateOnly := map[string]string{
		"01-syntax-indentation.yaml":                 "YAML syntax",
		"02-syntax-tab.yaml":                         "YAML syntax",
		"03-syntax-unknown-alias.yaml":               "YAML syntax",
		"09-duplicate-name.yaml":                     "names unique across documents",
		"19-relative-scope-without-enumeration.yaml": "scope.query relative needs instanceEnumerationScope",
		"21-reference-unknown-kind.yaml":             "${kind:name} syntax inside queries",
		"22-reference-unterminated.yaml":             "${kind:name} syntax inside queries",
		"24-manager-without-query-root.yaml":         "./manager needs queryRoot",
		"32-range-end-before-start.yaml":             "date order",
		"36-one-time-no-end.yaml":                    "noEnd needs a pattern",
		"37-duration-longer-than-week.yaml":          "duration against the recurrence",
		"39-stages-not-sequential.yaml":              "stage order",
		"40-stages-exceed-recurrence.yaml":           "stage durations against the recurrence",
		"44-app-review-lookback.yaml":                "look-back limit of application reviews",
		"46-duplicate-key.yaml":                      "duplicate keys (YAML, not JSON)",
		"49-enumeration-scope-inactive.yaml":         "instanceEnumerationScope kind",
		"53-scope-query-typo.yaml":                   "query forms by place",
		"54-scope-query-unknown.yaml":                "query forms by place",
		"55-access-package-without-catalog.yaml":     "query forms by place",
		"56-query-forms-by-place.yaml":               "query forms by place",
		"58-previous-names-in-use.yaml":              "names across definitions",
	}
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	seen := 0
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			res, err := Load(f)
			require.NoError(t, err)
			require.True(t, res.Diagnostics.HasErrors(), "the decoder must reject every file of the table")
			if why, ok := validateOnly[name]; ok {
				seen++
				var problems []string
				if docs, err := yamlDocuments(data); err == nil {
					problems = checkDocs(sch, f, docs)
				}
				require.Empty(t, problems, "the schema was expected to accept this file (%s); if it now rejects it, remove it from validateOnly", why)
				return
			}
			require.NotEmpty(t, editorCheck(t, sch, f, data), "the schema must reject this file")
		})
	}
	require.Equal(t, len(validateOnly), seen, "every validateOnly entry must name a file of the table")
}

// TestConfigSchema checks arsync.yaml files against the config schema.
func TestConfigSchema(t *testing.T) {
	sch := compileSchema(t, ConfigSchemaFile)
	for _, tc := range []struct {
		name, yaml string
		ok         bool
	}{
		{"full", "tenantId: contoso.onmicrosoft.com\ncloud: usgov\ngraphEndpoint: https://graph.microsoft.us/v1.0\npaths: [reviews, more/reviews.yaml]\nallowDelete: true\nallowReplace: false\nmaxChangePercent: 50\n", true},
		{"guid tenant", "tenantId: 8f1e2a3b-0000-4000-8000-000000000001\n", true},
		{"emulator endpoint", "graphEndpoint: http://127.0.0.1:8080/v1.0\n", true},
		{"typo", "tenantID: contoso.onmicrosoft.com\n", false},
		{"bad cloud", "cloud: germany\n", false},
		{"percent too high", "maxChangePercent: 101\n", false},
		{"paths not a list", "paths: reviews\n", false},
		{"secret", "clientSecret: hunter2\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig("arsync.yaml", []byte(tc.yaml))
			require.Equal(t, tc.ok, err == nil, "the decoder and the test disagree: %v", err)
			problems := editorCheck(t, sch, "arsync.yaml", []byte(tc.yaml))
			if tc.ok {
				require.Empty(t, problems)
			} else {
				require.NotEmpty(t, problems)
			}
		})
	}
}

// --- helpers ------------------------------------------------------------------

func loadSchemaJSON(t *testing.T, file string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(schemaDir, file))
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// compileSchema compiles a published schema file with a real JSON Schema
// validator, as an editor would load it from its $schema line.
func compileSchema(t *testing.T, file string) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join(schemaDir, file))
	require.NoError(t, err)
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	require.NoError(t, c.AddResource(SchemaBaseURL+file, doc))
	sch, err := c.Compile(SchemaBaseURL + file)
	require.NoError(t, err)
	return sch
}

// editorCheck validates each YAML document of data against sch and returns
// the problems as "file:line:col: message", located on the YAML nodes the
// way an editor underlines them.
func editorCheck(t *testing.T, sch *jsonschema.Schema, file string, data []byte) []string {
	t.Helper()
	docs, err := yamlDocuments(data)
	require.NoError(t, err)
	return checkDocs(sch, file, docs)
}

func checkDocs(sch *jsonschema.Schema, file string, docs []*yaml.Node) []string {
	var out []string
	for _, doc := range docs {
		v, err := yamlToJSON(doc)
		if err != nil {
			out = append(out, fmt.Sprintf("%s:%d:%d: %v", file, doc.Line, doc.Column, err))
			continue
		}
		err = sch.Validate(v)
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			for _, leaf := range leaves(ve) {
				n := locate(doc, leaf)
				_, msg, _ := strings.Cut(leaf.Error(), ": ")
				out = append(out, fmt.Sprintf("%s:%d:%d: %s", file, n.Line, n.Column, msg))
			}
		} else if err != nil {
			out = append(out, fmt.Sprintf("%s: %v", file, err))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func leaves(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return []*jsonschema.ValidationError{e}
	}
	var out []*jsonschema.ValidationError
	for _, c := range e.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}

// locate finds the YAML node of an error's instance location; for an
// unknown property, the node of its key.
func locate(n *yaml.Node, e *jsonschema.ValidationError) *yaml.Node {
	for _, tok := range e.InstanceLocation {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == tok {
					n = n.Content[i+1]
					break
				}
			}
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(tok); err == nil && i < len(n.Content) {
				n = n.Content[i]
			}
		}
	}
	if ap, ok := e.ErrorKind.(*kind.AdditionalProperties); ok && n.Kind == yaml.MappingNode && len(ap.Properties) > 0 {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == ap.Properties[0] {
				return n.Content[i]
			}
		}
	}
	return n
}

func yamlDocuments(data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(doc.Content) > 0 {
			docs = append(docs, doc.Content[0])
		}
	}
}

// yamlToJSON turns a YAML node into the JSON value an editor's YAML
// language server validates: YAML 1.2 core types, so an unquoted date is a
// string.
func yamlToJSON(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.AliasNode:
		return yamlToJSON(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := yamlToJSON(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, c := range n.Content {
			v, err := yamlToJSON(c)
			if err != nil {
				return nil, err
			}
			l[i] = v
		}
		return l, nil
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return nil, nil
		case "!!bool":
			return strings.EqualFold(n.Value, "true"), nil
		case "!!int":
			if v, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
				return v, nil
			}
		case "!!float":
			if v, err := strconv.ParseFloat(n.Value, 64); err == nil {
				return v, nil
			}
		}
		return n.Value, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

// TestDurationPatternMatchesParser: the schema's pattern (for editors)
// accepts exactly the durations the loader does (graph.ParseDuration), but
// for length, which a pattern does not check.
func TestDurationPatternMatchesParser(t *testing.T) {
	re := regexp.MustCompile(durationPattern)
	for _, s := range []string{
		"P30D", "PT12H", "P1DT6H30M", "PT0.5S", "PT0S", "P0D", "P1DT1S", "PT1H1S", "PT1M1.25S",
		"", "P", "PT", "P1DT", "30D", "-P1D", "p30d", "P1M", "P1Y", "P4W", "PT1D", "PT1M1H", "P1D1D",
		"P1.5D", "PT1.5H", "PT.5S", "PT5.S", "PT1..5S", "PT0,5S", "P30", "PTT1H", "P1X", "P1DT1H1H",
	} {
		_, err := graph.ParseDuration(s)
		require.Equal(t, err == nil, re.MatchString(s), "%q: ParseDuration says %v", s, err)
	}
}
