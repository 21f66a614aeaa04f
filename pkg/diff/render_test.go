package diff

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/golden"
	"github.com/arsync/arsync/pkg/graph"
)

// scenarios are the plans of the golden tests: one per action, and one with
// all six at once.
func scenarios(t *testing.T) map[string]*Plan {
	const id = "11111111-0000-0000-0000-000000000001"
	desired, live := allSix()
	return map[string]*Plan{
		"create": compute(t, []Desired{desiredOf("project", baseDef())}, nil),
		"update": compute(t, []Desired{desired[1]}, []graph.Definition{live[0]}),
		"adopt": compute(t, []Desired{desiredOf("project", baseDef())},
			[]graph.Definition{liveOf(baseDef(func(d *graph.Definition) { d.DescriptionForAdmins = "" }), id, "")}),
		"replace": compute(t, []Desired{desired[3]}, []graph.Definition{live[2]}),
		"delete":  compute(t, nil, []graph.Definition{live[3]}),
		"noop":    compute(t, []Desired{desired[4]}, []graph.Definition{live[4], live[5]}),
		"all-six": compute(t, desired, live),
	}
}

func TestRenderGolden(t *testing.T) {
	for name, p := range scenarios(t) {
		t.Run(name, func(t *testing.T) {
			var txt, md, js bytes.Buffer
			require.NoError(t, RenderText(&txt, p, TextOptions{}))
			require.NoError(t, RenderMarkdown(&md, p))
			require.NoError(t, RenderJSON(&js, p))
			golden.Assert(t, "testdata/"+name+".txt.golden", txt.Bytes())
			golden.Assert(t, "testdata/"+name+".md.golden", md.Bytes())
			golden.Assert(t, "testdata/"+name+".json.golden", js.Bytes())
			require.NotContains(t, txt.String(), "\x1b[", "colour without TextOptions.Color")

			// The saved plan reads back as the same plan.
			back, err := ReadPlan(bytes.NewReader(js.Bytes()))
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(p, back, ignoreRead))
		})
	}
}

func TestRenderTextColor(t *testing.T) {
	p := scenarios(t)["all-six"]
	var b bytes.Buffer
	require.NoError(t, RenderText(&b, p, TextOptions{Color: true}))
	golden.Assert(t, "testdata/all-six.color.txt.golden", b.Bytes())
	require.Contains(t, b.String(), ansiRed+"# forces replacement"+ansiReset)
	require.Contains(t, b.String(), ansiGreen+"+"+ansiReset)
}

func TestRenderSummaryLine(t *testing.T) {
	tests := []struct {
		name string
		p    *Plan
		want string
	}{
		{"nothing at all", &Plan{}, "No changes. The tenant matches the configuration (0 definitions up to date)."},
		{"one noop", &Plan{Changes: []Change{{Action: NoOp}}, Summary: Summary{NoOp: 1}}, "No changes. The tenant matches the configuration (1 definition up to date)."},
		{"changes", &Plan{Changes: []Change{{Action: Create}}, Summary: Summary{Create: 1, NoOp: 2}}, "Plan: 1 to create, 0 to update, 0 to adopt, 0 to replace, 0 to delete; 2 unchanged."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, summaryLine(tt.p))
		})
	}
}

// Names come from the tenant: they must not be able to inject markup into a
// pull-request comment.
func TestRenderMarkdownEscapes(t *testing.T) {
	p := &Plan{
		Changes: []Change{{Action: Delete, Name: "x", ID: "1", DisplayName: "<img src=x> | **bold** [link](http://e) `code`",
			Fields: []FieldChange{{Path: "displayName", Before: "a|b<c>", After: nil}}}},
		Unmanaged: []Unmanaged{{ID: "2", DisplayName: "</details><script>alert(1)</script>"}},
		Summary:   Summary{Delete: 1},
	}
	var b bytes.Buffer
	require.NoError(t, RenderMarkdown(&b, p))
	out := b.String()
	for _, bad := range []string{"<img", "<script", "</details><script", "**bold**", "[link]", "`code`", "a|b"} {
		require.NotContains(t, out, bad)
	}
	require.Contains(t, out, "&lt;img src=x&gt; &#124; &#42;&#42;bold&#42;&#42;")
	require.Contains(t, out, `<code>"a&#124;b&lt;c&gt;"</code>`)
}

func TestRenderNilPlan(t *testing.T) {
	require.Error(t, RenderText(&bytes.Buffer{}, nil, TextOptions{}))
	require.Error(t, RenderMarkdown(&bytes.Buffer{}, nil))
	require.Error(t, RenderJSON(&bytes.Buffer{}, nil))
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRenderWriteErrors(t *testing.T) {
	p := scenarios(t)["all-six"]
	require.ErrorContains(t, RenderText(failWriter{}, p, TextOptions{}), "disk full")
	require.ErrorContains(t, RenderMarkdown(failWriter{}, p), "disk full")
	require.ErrorContains(t, RenderJSON(failWriter{}, p), "disk full")
}

func TestReadPlanErrors(t *testing.T) {
	var good bytes.Buffer
	require.NoError(t, RenderJSON(&good, scenarios(t)["all-six"]))
	edit := func(old, new string) string {
		require.Contains(t, good.String(), old)
		return strings.Replace(good.String(), old, new, 1)
	}
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "empty"},
		{"not JSON", "plan: yes", "not valid JSON"},
		{"not an object", "[1,2]", "not a plan"},
		{"no version", `{"changes": []}`, "no formatVersion"},
		{"future version", edit(`"formatVersion": 1`, `"formatVersion": 2`), "formatVersion 2"},
		{"trailing data", good.String() + "{}", "unexpected data"},
		{"unknown action", edit(`"action": "create"`, `"action": "upsert"`), `unknown action "upsert"`},
		{"missing fingerprint", edit(`"liveFingerprint": "sha256:`, `"liveFingerprintX": "sha256:`), "fingerprint"},
		{"edited summary", edit(`"create": 1`, `"create": 0`), "summary does not match"},
		{"update without body", `{"formatVersion": 1, "changes": [{"action": "update", "name": "x", "id": "1"}]}`, "read plan: change 1 (x): update needs the request body (after)"},
		{"no name", `{"formatVersion": 1, "changes": [{"action": "explode"}]}`, `read plan: change 1: unknown action "explode"`},
		{"wrong type", edit(`"formatVersion": 1`, `"formatVersion": "1"`), "not a plan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ReadPlan(strings.NewReader(tt.in))
			require.Nil(t, p)
			require.ErrorContains(t, err, tt.want)
		})
	}
	_, err := ReadPlan(strings.NewReader(`{"formatVersion": 7}`))
	require.ErrorIs(t, err, ErrUnsupportedFormatVersion)
}

func TestReadPlanMinimal(t *testing.T) {
	p, err := ReadPlan(strings.NewReader(`{"formatVersion": 1}`))
	require.NoError(t, err)
	require.False(t, p.HasChanges())
	require.NotNil(t, p.Changes)
	require.NotNil(t, p.Unmanaged)
	require.NotNil(t, p.Warnings)
}
