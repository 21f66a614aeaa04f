package spec

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/arsync/arsync/internal/golden"
)

const examplesDir = "../../examples/reviews"

// fakeDirectory resolves every name to a fixed id derived from its kind and
// name, and counts the look-ups.
type fakeDirectory struct {
	calls map[string]int
	fail  map[string]error
}

func (f *fakeDirectory) ResolveID(kind RefKind, name string) (string, error) {
	if f.calls == nil {
		f.calls = make(map[string]int)
	}
	f.calls[string(kind)+":"+name]++
	if err := f.fail[string(kind)+":"+name]; err != nil {
		return "", err
	}
	return fakeID(kind, name), nil
}

func fakeID(kind RefKind, name string) string {
	h := sha256.Sum256([]byte(string(kind) + ":" + name))
	x := fmt.Sprintf("%x", h[:16])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

func toJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	return append(b, '\n')
}

// TestInvalid checks every file of the invalid table: it must fail with
// exactly the diagnostics in its golden file.
func TestInvalid(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 30, "the invalid table needs at least 30 inputs")
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			t.Parallel()
			res, err := Load(file)
			require.NoError(t, err)
			require.True(t, res.Diagnostics.HasErrors(), "expected errors, got:\n%s", res.Diagnostics)
			for _, d := range res.Diagnostics {
				require.Equal(t, file, d.Pos.File)
				require.Positive(t, d.Pos.Line)
				require.Positive(t, d.Pos.Col)
			}
			golden.Assert(t, strings.TrimSuffix(file, ".yaml")+".golden", []byte(res.Diagnostics.Error()+"\n"))
		})
	}
}

// TestExamples loads examples/reviews: no errors, no warnings, the
// documented scenarios, and a stable Graph body for each definition.
func TestExamples(t *testing.T) {
	res, err := Load(examplesDir)
	require.NoError(t, err)
	require.Empty(t, res.Diagnostics, "examples must be clean:\n%s", res.Diagnostics)
	require.GreaterOrEqual(t, len(res.Definitions), 6)

	kinds := map[string]bool{}
	dir := &fakeDirectory{}
	for _, def := range res.Definitions {
		s := def.Spec
		kinds[string(s.Scope.Type)] = true
		if len(s.StageSettings) > 1 {
			kinds["multi-stage"] = true
		}
		if s.Settings.Recurrence.Pattern == nil {
			kinds["one-time"] = true
		}
		if s.InstanceEnumerationScope != nil {
			kinds["all-groups"] = true
		}
		g, err := def.ToGraph(dir)
		require.NoError(t, err, def.Name)
		golden.Assert(t, filepath.Join("testdata", "examples", def.Name+".json"), toJSON(t, g))
	}
	for _, k := range []string{"query", "inactiveUsers", "principalResourceMemberships", "multi-stage", "one-time", "all-groups"} {
		require.True(t, kinds[k], "examples lack a %s review", k)
	}
}

// TestSeedMatchesDocumentedRequest: the seed scenario written as YAML gives
// the request body Graph documents for it (the query forms of
// docs/graph-behaviour.md#scopes-and-queries, in the shape of the
// documented create request, #documented-payloads), compared as JSON structures.
func TestSeedMatchesDocumentedRequest(t *testing.T) {
	defs, diags := mustParseFile(t, filepath.Join(examplesDir, "guests-m365-groups.yaml"))
	require.Empty(t, diags)
	require.Len(t, defs, 1)
	g, err := defs[0].ToGraph(nil) // the seed uses ids only
	require.NoError(t, err)

	var got, want map[string]any
	require.NoError(t, json.Unmarshal(toJSON(t, g), &got))
	fixture, err := os.ReadFile("testdata/seed-request.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(fixture, &want))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("seed body differs from the documented request (-want +got):\n%s", diff)
	}
}

func mustParseFile(t *testing.T, file string) ([]*Definition, Diagnostics) {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	return Parse(file, data)
}

// TestToGraphDeterministic: loading and mapping the same files twice gives
// byte-identical request bodies.
func TestToGraphDeterministic(t *testing.T) {
	body := func() []byte {
		res, err := Load(examplesDir)
		require.NoError(t, err)
		var all bytes.Buffer
		for _, def := range res.Definitions {
			g, err := def.ToGraph(&fakeDirectory{})
			require.NoError(t, err)
			b, err := json.Marshal(g)
			require.NoError(t, err)
			all.Write(b)
		}
		return all.Bytes()
	}
	first := body()
	for range 5 {
		require.Equal(t, first, body())
	}
}

func TestReferences(t *testing.T) {
	defs, diags := mustParseFile(t, filepath.Join(examplesDir, "finance-two-stage.yaml"))
	require.Empty(t, diags)
	file := filepath.Join(examplesDir, "finance-two-stage.yaml")
	want := []Reference{
		{Kind: RefGroup, Name: "Finance", Pos: Pos{File: file, Line: 19, Col: 20}},
		{Kind: RefGroup, Name: "Finance Auditors", Pos: Pos{File: file, Line: 24, Col: 23}},
		{Kind: RefUser, Name: "admin@contoso.com", Pos: Pos{File: file, Line: 34, Col: 17}},
		{Kind: RefGroup, Name: "Finance", Pos: Pos{File: file, Line: 40, Col: 24}},
		{Kind: RefUser, Name: "admin@contoso.com", Pos: Pos{File: file, Line: 44, Col: 17}},
	}
	if diff := cmp.Diff(want, defs[0].References()); diff != "" {
		t.Errorf("References() mismatch (-want +got):\n%s", diff)
	}
}

func TestReferencePositionsInQuotedQueries(t *testing.T) {
	src := baseSpec(`  scope:
    query: '/groups/${group:A}/members?$filter=(x eq ''y'')'
`)
	defs, diags := Parse("q.yaml", []byte(src))
	require.Empty(t, diags)
	refs := defs[0].References()
	require.Len(t, refs, 2)
	// An escaped quote ('') in the value: offsets no longer map onto
	// columns, so the position is the start of the value's text.
	require.Equal(t, Pos{File: "q.yaml", Line: 8, Col: 13}, refs[0].Pos)

	src = baseSpec(`  scope:
    query: "/groups/${group:A}/members"
`)
	defs, diags = Parse("q.yaml", []byte(src))
	require.Empty(t, diags)
	require.Equal(t, Pos{File: "q.yaml", Line: 8, Col: 21}, defs[0].References()[0].Pos)
}

// baseSpec is a valid document with scope (indented by two spaces) at
// line 7.
func baseSpec(scope string) string {
	return `apiVersion: arsync/v1
kind: AccessReviewDefinition
metadata:
  name: t
spec:
  displayName: T
` + scope + `  reviewers:
    - user: alice@contoso.com
  settings:
    recurrence:
      pattern: {type: weekly, interval: 1}
      range: {type: noEnd, startDate: 2026-01-05}
`
}

func TestToGraphResolution(t *testing.T) {
	defs, diags := mustParseFile(t, filepath.Join(examplesDir, "finance-two-stage.yaml"))
	require.Empty(t, diags)
	def := defs[0]

	t.Run("each distinct name is looked up once", func(t *testing.T) {
		dir := &fakeDirectory{}
		g, err := def.ToGraph(dir)
		require.NoError(t, err)
		require.Equal(t, map[string]int{"group:Finance": 1, "group:Finance Auditors": 1, "user:admin@contoso.com": 1}, dir.calls)
		require.Equal(t, "/groups/"+fakeID(RefGroup, "Finance")+"/transitiveMembers/microsoft.graph.user", g.Scope.Query)
		require.Equal(t, "/groups/"+fakeID(RefGroup, "Finance Auditors")+"/members", g.AdditionalNotificationRecipients[0].NotificationRecipientScope.Query)
		require.Equal(t, "/groups/"+fakeID(RefGroup, "Finance")+"/owners", g.StageSettings[1].Reviewers[0].Query)
		require.Equal(t, "./manager", g.StageSettings[0].Reviewers[0].Query)
		require.Equal(t, "decisions", g.StageSettings[0].Reviewers[0].QueryRoot)
	})

	t.Run("a nil resolver reports every name with its position", func(t *testing.T) {
		_, err := def.ToGraph(nil)
		require.Error(t, err)
		require.ErrorIs(t, err, ErrUnresolved)
		var re *RefError
		require.ErrorAs(t, err, &re)
		require.Equal(t, 19, re.Ref.Pos.Line)
		want := strings.Join([]string{
			`../../examples/reviews/finance-two-stage.yaml:19:20: group "Finance" is a name, not an id, and no directory was given to look it up`,
			`../../examples/reviews/finance-two-stage.yaml:24:23: group "Finance Auditors" is a name, not an id, and no directory was given to look it up`,
			`../../examples/reviews/finance-two-stage.yaml:34:17: user "admin@contoso.com" is a name, not an id, and no directory was given to look it up`,
		}, "\n")
		require.Equal(t, want, err.Error())
	})

	t.Run("resolver errors are wrapped", func(t *testing.T) {
		notFound := errors.New("not found in the directory")
		_, err := def.ToGraph(&fakeDirectory{fail: map[string]error{"group:Finance Auditors": notFound}})
		require.ErrorIs(t, err, notFound)
		require.EqualError(t, err, `../../examples/reviews/finance-two-stage.yaml:24:23: group "Finance Auditors" not found in the directory`)
	})

	t.Run("ids are used without a resolver", func(t *testing.T) {
		src := baseSpec(`  scope:
    query: /groups/${group:02F3BAFB-448C-487C-88C2-5FD65CE49A41}/members
`)
		defs, diags := Parse("ids.yaml", []byte(strings.Replace(src, "user: alice@contoso.com", "user: 398164b1-5196-49dd-ada2-364b49f99b27", 1)))
		require.Empty(t, diags)
		g, err := defs[0].ToGraph(nil)
		require.NoError(t, err)
		require.Equal(t, "/groups/02F3BAFB-448C-487C-88C2-5FD65CE49A41/members", g.Scope.Query)
		require.Equal(t, "/users/398164b1-5196-49dd-ada2-364b49f99b27", g.Reviewers[0].Query)
	})
}

func TestTypeNamesShortAndFull(t *testing.T) {
	forms := []struct{ name, scope, actions, insights string }{
		{
			name:     "short type",
			scope:    "    type: inactiveUsers\n",
			actions:  "[removeAccessApplyAction, disableAndDeleteUserApplyAction]",
			insights: "[{type: userLastSignIn, recommendationLookBackDuration: P30D}, groupPeerOutlier]",
		},
		{
			name:     "full @odata.type",
			scope:    "    \"@odata.type\": \"#microsoft.graph.accessReviewInactiveUsersQueryScope\"\n",
			actions:  "[{\"@odata.type\": \"#microsoft.graph.removeAccessApplyAction\"}, {\"@odata.type\": \"#microsoft.graph.disableAndDeleteUserApplyAction\"}]",
			insights: "[{\"@odata.type\": \"#microsoft.graph.userLastSignInRecommendationInsightSetting\", recommendationLookBackDuration: P30D}, {\"@odata.type\": \"#microsoft.graph.groupPeerOutlierRecommendationInsightSettings\"}]",
		},
		{
			name:     "full name under type",
			scope:    "    type: \"#microsoft.graph.accessReviewInactiveUsersQueryScope\"\n",
			actions:  "[{type: removeAccessApplyAction}, \"#microsoft.graph.disableAndDeleteUserApplyAction\"]",
			insights: "[{type: \"#microsoft.graph.userLastSignInRecommendationInsightSetting\", recommendationLookBackDuration: P30D}, {type: groupPeerOutlier}]",
		},
	}
	var bodies []string
	for _, f := range forms {
		src := baseSpec("  scope:\n"+f.scope+"    query: /groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/members\n    inactiveDuration: P30D\n") +
			"    applyActions: " + f.actions + "\n    recommendationInsightSettings: " + f.insights + "\n"
		defs, diags := Parse(f.name+".yaml", []byte(src))
		require.Empty(t, diags, f.name)
		g, err := defs[0].ToGraph(&fakeDirectory{})
		require.NoError(t, err)
		bodies = append(bodies, string(toJSON(t, g)))
	}
	for i := 1; i < len(bodies); i++ {
		if diff := cmp.Diff(bodies[0], bodies[i]); diff != "" {
			t.Errorf("%s differs from %s (-want +got):\n%s", forms[i].name, forms[0].name, diff)
		}
	}
	require.Contains(t, bodies[0], `"@odata.type": "#microsoft.graph.accessReviewInactiveUsersQueryScope"`)
	require.Contains(t, bodies[0], `"@odata.type": "#microsoft.graph.groupPeerOutlierRecommendationInsightSettings"`)
}

func TestReviewerSugar(t *testing.T) {
	tests := []struct {
		entry                      string
		wantQuery, wantRoot, wantT string
	}{
		{"{user: alice@contoso.com}", "/users/" + fakeID(RefUser, "alice@contoso.com"), "", "MicrosoftGraph"},
		{"{groupMembers: Marketing}", "/groups/" + fakeID(RefGroup, "Marketing") + "/transitiveMembers", "", "MicrosoftGraph"},
		{"{groupOwners: Marketing}", "/groups/" + fakeID(RefGroup, "Marketing") + "/owners", "", "MicrosoftGraph"},
		{"{owners: true}", "./owners", "", "MicrosoftGraph"},
		{"{managers: true}", "./manager", "decisions", "MicrosoftGraph"},
		{"{query: ./manager, queryRoot: decisions}", "./manager", "decisions", "MicrosoftGraph"},
		{"{query: '/servicePrincipals/${servicePrincipal:Payroll App}/owners', queryType: ARM}", "/servicePrincipals/" + fakeID(RefServicePrincipal, "Payroll App") + "/owners", "", "ARM"},
	}
	for _, tt := range tests {
		t.Run(tt.entry, func(t *testing.T) {
			// With a fallback reviewer: owners and managers can be nobody.
			src := strings.Replace(baseSpec("  scope:\n    query: /groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/members\n"), "    - user: alice@contoso.com\n", "    - "+tt.entry+"\n  fallbackReviewers: [{user: bob@contoso.com}]\n", 1)
			defs, diags := Parse("r.yaml", []byte(src))
			require.Empty(t, diags)
			g, err := defs[0].ToGraph(&fakeDirectory{})
			require.NoError(t, err)
			require.Len(t, g.Reviewers, 1)
			require.Equal(t, tt.wantQuery, g.Reviewers[0].Query)
			require.Equal(t, tt.wantRoot, g.Reviewers[0].QueryRoot)
			require.Equal(t, tt.wantT, g.Reviewers[0].QueryType)
		})
	}
}

func TestReviewerOrderKept(t *testing.T) {
	src := strings.Replace(baseSpec("  scope:\n    query: /groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/members\n"), "    - user: alice@contoso.com\n",
		"    - user: zed@contoso.com\n    - user: alice@contoso.com\n    - owners: true\n", 1)
	defs, diags := Parse("o.yaml", []byte(src))
	require.Empty(t, diags)
	g, err := defs[0].ToGraph(&fakeDirectory{})
	require.NoError(t, err)
	var got []string
	for _, r := range g.Reviewers {
		got = append(got, r.Query)
	}
	require.Equal(t, []string{"/users/" + fakeID(RefUser, "zed@contoso.com"), "/users/" + fakeID(RefUser, "alice@contoso.com"), "./owners"}, got)
}

func TestWarnings(t *testing.T) {
	src := strings.Replace(baseSpec("  scope:\n    query: /groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/members\n"), "  settings:\n", `  settings:
    autoApplyDecisionsEnabled: true
    defaultDecisionEnabled: true
    defaultDecision: Deny
`, 1)
	defs, diags := Parse("w.yaml", []byte(src))
	require.False(t, diags.HasErrors())
	require.Len(t, defs, 1, "warnings do not drop a definition")
	require.Equal(t, "w.yaml:14:22: warning: spec.settings.autoApplyDecisionsEnabled with defaultDecision Deny removes the access of everyone whose reviewer does not answer", diags.Error())

	src = strings.Replace(src, "    defaultDecisionEnabled: true\n", "", 1)
	_, diags = Parse("w.yaml", []byte(src))
	require.Equal(t, "w.yaml:13:22: warning: spec.settings.defaultDecision Deny has no effect unless defaultDecisionEnabled is true", diags.Error())
}

func TestStageWarnings(t *testing.T) {
	src := strings.Replace(baseSpec("  scope:\n    query: /groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/members\n"), "  settings:\n", `  stageSettings:
    - {stageId: "1", durationInDays: 3, recommendationsEnabled: true, reviewers: [{owners: true}]}
  settings:
    instanceDurationInDays: 3
`, 1)
	defs, diags := Parse("s.yaml", []byte(src))
	require.Len(t, defs, 1)
	require.Equal(t, strings.Join([]string{
		"s.yaml:9:3: warning: spec.reviewers is ignored: the stages in spec.stageSettings name their own reviewers",
		"s.yaml:12:83: warning: spec.stageSettings[0].reviewers are the owners of each reviewed group: a group without owners gets no reviewer and its review is never done; add spec.stageSettings[0].fallbackReviewers, who review when the reviewers are nobody",
		"s.yaml:14:29: warning: spec.settings.instanceDurationInDays is ignored when stageSettings is set (the stages' durationInDays add up to the review's length)",
	}, "\n"), diags.Error())
}

func TestEmptyDocumentsAreSkipped(t *testing.T) {
	for _, src := range []string{"", "# just a comment\n", "---\n---\n", "~\n"} {
		defs, diags := Parse("e.yaml", []byte(src))
		require.Empty(t, defs, "%q", src)
		require.Empty(t, diags, "%q", src)
	}
	defs, diags := Parse("e.yaml", []byte("---\n# nothing\n---\n"+baseSpec("  scope:\n    query: /groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/members\n")+"---\n"))
	require.Empty(t, diags)
	require.Len(t, defs, 1)
	require.Equal(t, Pos{File: "e.yaml", Line: 4, Col: 1}, defs[0].Source)
}

func TestAllProblemsInOneRun(t *testing.T) {
	// Two broken files and one broken document among good ones: every
	// problem is reported, and the good definitions still load.
	dir := t.TempDir()
	good := baseSpec("  scope:\n    query: /groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/members\n")
	write(t, filepath.Join(dir, "a.yaml"), strings.Replace(good, "name: t", "name: a", 1)+"---\n"+strings.Replace(good, "weekly", "daily", 1))
	write(t, filepath.Join(dir, "b.yml"), strings.Replace(strings.Replace(good, "name: t", "name: b", 1), "displayName: T", "displayNam: T", 1))
	write(t, filepath.Join(dir, "sub", "c.yaml"), strings.Replace(good, "name: t", "name: a", 1))
	res, err := Load(dir)
	require.NoError(t, err)
	var got []string
	for _, d := range res.Diagnostics {
		rel, _ := filepath.Rel(dir, d.Pos.File)
		got = append(got, fmt.Sprintf("%s:%d:%d: %s", rel, d.Pos.Line, d.Pos.Col, d.Message))
	}
	want := []string{
		`a.yaml:28:23: spec.settings.recurrence.pattern.type "daily" is not supported for access reviews; use weekly or absoluteMonthly (quarterly is absoluteMonthly with interval 3)`,
		`b.yml:6:3: unknown field "displayNam" in spec; did you mean "displayName"?`,
		`sub/c.yaml:4:9: metadata.name "a" is already used at ` + filepath.Join(dir, "a.yaml") + `:4:9; names must be unique across all files`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	require.Len(t, res.Definitions, 1)
	require.Equal(t, "a", res.Definitions[0].Name)
	require.Len(t, res.Files, 3)
}

func write(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

func TestLoadFiles(t *testing.T) {
	dir := t.TempDir()
	good := baseSpec("  scope:\n    query: /groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/members\n")
	write(t, filepath.Join(dir, "b.yaml"), strings.Replace(good, "name: t", "name: b", 1))
	write(t, filepath.Join(dir, "a", "a.YML"), strings.Replace(good, "name: t", "name: a", 1))
	write(t, filepath.Join(dir, "arsync.yaml"), "paths: [.]\n")                  // the config: skipped
	write(t, filepath.Join(dir, ".github", "workflows", "ci.yml"), "on: push\n") // hidden: skipped
	write(t, filepath.Join(dir, ".hidden.yaml"), "x: 1\n")
	write(t, filepath.Join(dir, "notes.txt"), "not yaml")

	res, err := Load(dir, filepath.Join(dir, "b.yaml")) // b.yaml twice: read once
	require.NoError(t, err)
	require.Empty(t, res.Diagnostics)
	require.Equal(t, []string{filepath.Join(dir, "a", "a.YML"), filepath.Join(dir, "b.yaml")}, res.Files)
	require.Len(t, res.Definitions, 2)

	_, err = Load(filepath.Join(dir, "missing"))
	require.ErrorIs(t, err, os.ErrNotExist)

	if os.Getuid() != 0 { // root reads anything
		locked := filepath.Join(dir, "locked.yaml")
		write(t, locked, good)
		require.NoError(t, os.Chmod(locked, 0))
		_, err = Load(locked)
		require.ErrorIs(t, err, os.ErrPermission)
	}
}

func TestDiagnostics(t *testing.T) {
	ds := Diagnostics{
		{Pos: Pos{"b.yaml", 1, 1}, Severity: Error, Message: "b"},
		{Pos: Pos{"a.yaml", 9, 2}, Severity: Warning, Message: "w"},
		{Pos: Pos{"a.yaml", 9, 1}, Severity: Error, Message: "x"},
		{Pos: Pos{"a.yaml", 9, 1}, Severity: Error, Message: "x"},
		{Pos: Pos{"a.yaml", 2, 5}, Severity: Error, Message: "first"},
	}
	ds = ds.sortAndDedup()
	require.Equal(t, "a.yaml:2:5: first\na.yaml:9:1: x\na.yaml:9:2: warning: w\nb.yaml:1:1: b", ds.Error())
	require.True(t, ds.HasErrors())
	require.Equal(t, 1, ds.Count(Warning))
	require.False(t, Diagnostics{{Severity: Warning}}.HasErrors())
	var err error = ds
	require.Contains(t, err.Error(), "a.yaml:2:5")
}

// Hostile YAML: alias cycles, alias fan-out and huge mappings must finish
// quickly with a clear error, never hang or exhaust memory.
func TestHostileInputs(t *testing.T) {
	head := "apiVersion: arsync/v1\nkind: AccessReviewDefinition\nmetadata: {name: x}\nspec:\n"

	t.Run("alias cycle in scopes", func(t *testing.T) {
		_, diags := Parse("h.yaml", []byte(head+"  scope: &s {type: principalResourceMemberships, principalScopes: [*s], resourceScopes: [*s]}\n"))
		require.Contains(t, diags.Error(), "h.yaml:5:20: spec.scope.principalScopes[0] cannot be another principalResourceMemberships scope; use query or inactiveUsers")
	})

	t.Run("alias fan-out", func(t *testing.T) {
		var b strings.Builder
		b.WriteString(head + "  reviewers:\n    - &r {")
		for i := range 3000 {
			fmt.Fprintf(&b, "k%d: 1, ", i)
		}
		b.WriteString("user: a}\n")
		for range 3000 {
			b.WriteString("    - *r\n")
		}
		_, diags := Parse("h.yaml", []byte(b.String()))
		require.True(t, diags.HasErrors())
		require.LessOrEqual(t, len(diags), maxDiagnostics+1, "diagnostics are capped")
	})

	t.Run("work budget", func(t *testing.T) {
		d := newDecoder("h.yaml", 0)
		d.budget = 3
		n := &yaml.Node{Kind: yaml.SequenceNode, Line: 2, Column: 3, Content: []*yaml.Node{{Kind: yaml.ScalarNode}, {Kind: yaml.ScalarNode}}}
		_, ok := d.list(n, "x")
		require.True(t, ok)
		_, ok = d.list(n, "x")
		require.False(t, ok, "the budget is spent")
		_, ok = d.list(n, "x")
		require.False(t, ok)
		require.Equal(t, "h.yaml:2:3: the document expands too much through YAML aliases; write the values out", d.diags.Error())
	})

	t.Run("many problems", func(t *testing.T) {
		var b strings.Builder
		b.WriteString(head + "  settings:\n")
		for i := range 5000 {
			fmt.Fprintf(&b, "    unknown%d: 1\n", i)
		}
		_, diags := Parse("h.yaml", []byte(b.String()))
		require.Len(t, diags, maxDiagnostics+1)
		require.Equal(t, "too many problems in this file; stopping after 1000", diags[len(diags)-1].Message)
	})

	t.Run("errors past the cap still invalidate a document", func(t *testing.T) {
		var b strings.Builder
		for i := range maxDiagnostics + 5 {
			fmt.Fprintf(&b, "---\napiVersion: arsync/v1\nkind: AccessReviewDefinition\nmetadata: {name: d%d}\nspec: {}\n", i)
		}
		b.WriteString("---\n" + strings.Replace(baseSpec("  scope:\n    query: /groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/members\n"), "weekly", "daily", 1))
		defs, _ := Parse("h.yaml", []byte(b.String()))
		require.Empty(t, defs)
	})
}

// TestDatesQuotedOrNot: the examples quote dates (for YAML 1.1 tools);
// arsync reads a date the same whether quoted or not.
func TestDatesQuotedOrNot(t *testing.T) {
	doc := func(start, end string) string {
		return "apiVersion: arsync/v1\nkind: AccessReviewDefinition\nmetadata: {name: dates}\nspec:\n  displayName: Dates\n" +
			"  scope: {query: /roleManagement/directory/roleDefinitions/62e90394-69f5-4237-9190-012177145e10}\n  settings:\n    recurrence:\n" +
			"      range: {type: endDate, startDate: " + start + ", endDate: " + end + "}\n"
	}
	var got []*Definition
	for _, d := range []string{
		doc("2026-04-01", "2026-04-15"),
		doc(`"2026-04-01"`, `'2026-04-15'`),
		doc("!!str 2026-04-01", "!!timestamp 2026-04-15"),
	} {
		defs, diags := Parse("dates.yaml", []byte(d))
		require.Empty(t, diags, d)
		require.Len(t, defs, 1)
		got = append(got, defs[0])
	}
	for _, d := range got {
		require.Equal(t, "2026-04-01", d.Spec.Settings.Recurrence.Range.StartDate)
		require.Equal(t, "2026-04-15", d.Spec.Settings.Recurrence.Range.EndDate)
	}
}
