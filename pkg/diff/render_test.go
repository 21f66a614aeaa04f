package diff

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/golden"
	"github.com/arsync/arsync/pkg/graph"
)

// scenarios are the plans of the golden tests: one per action, and one with
// all six at once.
func scenarios(t *testing.T) map[string]*Plan {
	const id = "11111111-0000-0000-0000-000000000001"
	const id2 = "11111111-0000-0000-0000-000000000002"
	desired, live := allSix()
	renamed := desiredOf("project-2026", baseDef())
	renamed.PreviousNames = []string{"project"}
	return map[string]*Plan{
		"create": compute(t, []Desired{desiredOf("project", baseDef())}, nil),
		"update": compute(t, []Desired{desired[1]}, []graph.Definition{live[0]}),
		"adopt": compute(t, []Desired{desiredOf("project", baseDef())},
			[]graph.Definition{liveOf(baseDef(func(d *graph.Definition) { d.DescriptionForAdmins = "" }), id, "")}),
		"replace": compute(t, []Desired{desired[3]}, []graph.Definition{live[2]}),
		"delete":  compute(t, nil, []graph.Definition{live[3]}),
		"noop":    compute(t, []Desired{desired[4]}, []graph.Definition{live[4], live[5]}),
		"all-six": compute(t, desired, live),
		"rename":  compute(t, []Desired{renamed}, []graph.Definition{liveOf(baseDef(), id, "project")}),
		"changed-outside": compute(t, []Desired{desiredOf("project", baseDef(func(d *graph.Definition) {
			d.DescriptionForReviewers = "Questions? Ask jerry@contoso.com" // the YAML's edit
		}))}, []graph.Definition{
			writtenLiveOf(baseDef(), id, "project", func(l *graph.Definition) { // edits in the portal
				l.DisplayName = "Project group (edited)"
				l.Settings.InstanceDurationInDays = ptr(7)
			}),
			writtenLiveOf(baseDef(func(d *graph.Definition) { d.DisplayName = "Retired review" }), id2, "retired", func(l *graph.Definition) {
				l.Settings.MailNotificationsEnabled = ptr(false)
			}),
		}),
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
			require.True(t, strings.HasPrefix(back.Digest, "sha256:"), back.Digest)
			require.Empty(t, cmp.Diff(p, back, ignoreRead, cmpopts.IgnoreFields(Plan{}, "Digest")))
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

// sealed gives JSON object s the digest of its content, as RenderJSON
// would: a file edited by someone who knows the algorithm.
func sealed(t *testing.T, s string) string {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(s), &m))
	delete(m, "digest")
	b, err := json.Marshal(m)
	require.NoError(t, err)
	d, err := PlanDigest(b)
	require.NoError(t, err)
	m["digest"], _ = json.Marshal(d)
	b, err = json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}

func TestReadPlanErrors(t *testing.T) {
	var good bytes.Buffer
	require.NoError(t, RenderJSON(&good, scenarios(t)["all-six"]))
	edit := func(old, new string) string {
		require.Contains(t, good.String(), old)
		return sealed(t, strings.Replace(good.String(), old, new, 1))
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
		{"update without body", sealed(t, `{"formatVersion": 1, "changes": [{"action": "update", "name": "x", "id": "1"}]}`), "read plan: change 1 (x): update needs the request body (after)"},
		{"no name", sealed(t, `{"formatVersion": 1, "changes": [{"action": "explode"}]}`), `read plan: change 1: unknown action "explode"`},
		{"wrong type", edit(`"formatVersion": 1`, `"formatVersion": "1"`), "not a plan"},
		{"no version, sealed", sealed(t, `{"changes": []}`), "no formatVersion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ReadPlan(strings.NewReader(tt.in))
			require.Nil(t, p)
			require.ErrorContains(t, err, tt.want)
			require.NotErrorAs(t, err, new(*EditedPlanError))
		})
	}
	_, err := ReadPlan(strings.NewReader(sealed(t, `{"formatVersion": 7}`)))
	require.ErrorIs(t, err, ErrUnsupportedFormatVersion)
}

// TestReadPlanEdited: a saved plan edited in any way but spacing and
// member order is refused as edited, before anything else is read from it.
func TestReadPlanEdited(t *testing.T) {
	var good bytes.Buffer
	require.NoError(t, RenderJSON(&good, scenarios(t)["all-six"]))
	edit := func(old, new string) string {
		require.Contains(t, good.String(), old)
		return strings.Replace(good.String(), old, new, 1)
	}
	_, digest, _ := strings.Cut(edit("", ""), `"digest": "`)
	digest, _, _ = strings.Cut(digest, `"`)
	require.True(t, strings.HasPrefix(digest, "sha256:"), digest)
	const (
		mismatch = "its content does not match its digest sha256:"
		none     = "it has no digest"
		badForm  = "its digest is not sha256: followed by 64 lower-case hex digits"
	)
	tests := []struct {
		name, in, reason string
	}{
		{"action changed", edit(`"action": "adopt"`, `"action": "delete"`), mismatch},
		{"id changed", edit(`"id": "22222222-0000-0000-0000-000000000002"`, `"id": "22222222-0000-0000-0000-000000000009"`), mismatch},
		{"name changed", edit(`"name": "portal-made"`, `"name": "other"`), mismatch},
		{"displayName changed", edit(`"displayName": "Made in the portal"`, `"displayName": "Another review"`), mismatch},
		{"fields edited", edit(`"instanceDurationInDays": 3`, `"instanceDurationInDays": 30`), mismatch},
		{"digest removed", edit(`"digest": "`+digest+`",`, ""), none},
		{"digest wrong", edit(digest, "sha256:"+strings.Repeat("0", 64)), mismatch},
		{"digest not a digest", edit(digest, "sha1:abc"), badForm},
		{"digest upper-case", edit(digest, strings.ToUpper(digest)), badForm},
		{"digest not a string", edit(`"`+digest+`"`, "7"), badForm},
		{"two digests", edit(`"digest": "`+digest+`",`, `"digest": "`+digest+`", "digest": "`+digest+`",`), "it has more than one digest"},
		{"a change added", edit(`"changes": [`, `"changes": [{"action": "delete", "name": "x", "id": "9", "displayName": "x", "liveFingerprint": "sha256:0"},`), mismatch},
		{"a member added", edit(`"tenantId"`, `"note": "ok", "tenantId"`), mismatch},
		{"a member spelt in another case", edit(`"action": "adopt"`, `"action": "adopt", "Action": "delete"`), mismatch},
		{"formatVersion changed", edit(`"formatVersion": 1`, `"formatVersion": 2`), mismatch},
		{"formatVersion removed", edit(`"formatVersion": 1,`, ""), mismatch},
		{"an old plan without a digest", `{"formatVersion": 1}`, none},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ReadPlan(strings.NewReader(tt.in))
			require.Nil(t, p)
			var ee *EditedPlanError
			require.ErrorAs(t, err, &ee)
			require.True(t, strings.HasPrefix(err.Error(), "the saved plan was edited after arsync plan wrote it: "+tt.reason), err.Error())
			require.True(t, strings.HasSuffix(err.Error(), "; run arsync plan again"), err.Error())
			require.NotContains(t, err.Error(), "stale")
		})
	}

	// Spacing and member order are not edits.
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(good.Bytes(), &m))
	compact, err := json.Marshal(m) // members sorted, no spacing
	require.NoError(t, err)
	p, err := ReadPlan(bytes.NewReader(compact))
	require.NoError(t, err)
	require.Equal(t, digest, p.Digest)
}

func TestPlanDigest(t *testing.T) {
	a, err := PlanDigest([]byte(`{"b": [1, {"y": 2, "x": "&<"}], "a": null, "digest": "sha256:whatever"}`))
	require.NoError(t, err)
	b, err := PlanDigest([]byte(`{"a":null,"b":[1,{"x":"&<","y":2}]}`))
	require.NoError(t, err)
	require.Equal(t, a, b, "the digest member, spacing and member order do not count")
	sum := sha256.Sum256([]byte(`{"a":null,"b":[1,{"x":"&<","y":2}]}`))
	require.Equal(t, "sha256:"+hex.EncodeToString(sum[:]), a, "as docs/safety.md describes it")

	for _, bad := range []string{"", "[]", "{", `"x"`, `{"a":}`, `{"a":1}{}`} {
		_, err := PlanDigest([]byte(bad))
		require.Error(t, err, bad)
	}
}

// TestRenderJSONDigest: RenderJSON writes the digest of what it writes,
// whatever the plan's Digest says, and leaves the plan as it was.
func TestRenderJSONDigest(t *testing.T) {
	p := scenarios(t)["all-six"]
	p.Digest = "sha256:stale"
	var b bytes.Buffer
	require.NoError(t, RenderJSON(&b, p))
	require.Equal(t, "sha256:stale", p.Digest)
	d, err := PlanDigest(b.Bytes())
	require.NoError(t, err)
	back, err := ReadPlan(&b)
	require.NoError(t, err)
	require.Equal(t, d, back.Digest)
	require.NotEqual(t, "sha256:stale", back.Digest)
}

func TestReadPlanMinimal(t *testing.T) {
	p, err := ReadPlan(strings.NewReader(sealed(t, `{"formatVersion": 1}`)))
	require.NoError(t, err)
	require.False(t, p.HasChanges())
	require.NotNil(t, p.Changes)
	require.NotNil(t, p.Unmanaged)
	require.NotNil(t, p.Warnings)
}
