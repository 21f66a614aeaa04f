package diff

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/golden"
)

func computeTargets(t *testing.T, targets ...string) (*Plan, error) {
	t.Helper()
	desired, live := allSix()
	return Compute(desired, live, Options{Now: testNow, TenantID: "contoso.onmicrosoft.com",
		GraphEndpoint: "https://graph.microsoft.com/v1.0", Targets: targets})
}

// TestTargets: only the changes of matching names are planned; the others,
// deletes included, are left out and listed.
func TestTargets(t *testing.T) {
	tests := []struct {
		name    string
		targets []string
		want    []string // the changes kept, as action name
		leftOut []string
	}{
		{"one name", []string{"tuned"}, []string{"update tuned"},
			[]string{"create new-review", "adopt portal-made", "replace rescoped", "delete retired", "noop steady"}},
		{"a glob", []string{"re*"}, []string{"replace rescoped", "delete retired"},
			[]string{"create new-review", "adopt portal-made", "noop steady", "update tuned"}},
		{"repeated, one for a delete", []string{"retired", "new-?eview"}, []string{"create new-review", "delete retired"},
			[]string{"adopt portal-made", "replace rescoped", "noop steady", "update tuned"}},
		{"a noop", []string{"steady"}, []string{"noop steady"},
			[]string{"create new-review", "adopt portal-made", "replace rescoped", "delete retired", "update tuned"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := computeTargets(t, tt.targets...)
			require.NoError(t, err)
			var got, left []string
			for _, c := range p.Changes {
				got = append(got, string(c.Action)+" "+c.Name)
			}
			for _, lo := range p.LeftOut {
				left = append(left, string(lo.Action)+" "+lo.Name)
			}
			require.Equal(t, tt.want, got)
			require.ElementsMatch(t, tt.leftOut, left)
			require.True(t, p.Partial)
			require.Equal(t, tt.targets, p.Targets)
			var sum Summary
			for _, c := range p.Changes {
				sum.add(c.Action)
			}
			require.Equal(t, sum, p.Summary, "the summary counts the targeted changes only")
		})
	}
}

func TestTargetsMatchingNothing(t *testing.T) {
	_, err := computeTargets(t, "tuned", "retierd")
	var te *TargetError
	require.True(t, errors.As(err, &te), "%v", err)
	require.Equal(t, `--target "retierd" matches no definition in the spec files or the tenant; did you mean "retired"?`, err.Error())
	_, err = computeTargets(t, "zzz-*")
	require.EqualError(t, err, `--target "zzz-*" matches no definition in the spec files or the tenant`)
}

func TestCheckTargets(t *testing.T) {
	require.NoError(t, CheckTargets([]string{"a", "guests-*", "r?", "[a-c]*"}))
	require.ErrorContains(t, CheckTargets([]string{"[a-"}), `--target "[a-": not a name or a glob`)
	require.EqualError(t, CheckTargets([]string{" "}), "--target: an empty name")
}

// TestTargetedGolden: a targeted plan in text, markdown and JSON, and its
// JSON read back.
func TestTargetedGolden(t *testing.T) {
	p, err := computeTargets(t, "tuned", "steady")
	require.NoError(t, err)
	var txt, md, js bytes.Buffer
	require.NoError(t, RenderText(&txt, p, TextOptions{}))
	require.NoError(t, RenderMarkdown(&md, p))
	require.NoError(t, RenderJSON(&js, p))
	golden.Assert(t, "testdata/targeted.txt.golden", txt.Bytes())
	golden.Assert(t, "testdata/targeted.md.golden", md.Bytes())
	golden.Assert(t, "testdata/targeted.json.golden", js.Bytes())
	back, err := ReadPlan(bytes.NewReader(js.Bytes()))
	require.NoError(t, err)
	require.Empty(t, cmp.Diff(p, back, ignoreRead, cmpopts.IgnoreFields(Plan{}, "Digest")))

	// Nothing to do in the targets, something outside them.
	p, err = computeTargets(t, "steady")
	require.NoError(t, err)
	require.Equal(t, "No changes. The targeted definitions match the configuration (1 definition up to date). Targeted plan: 5 changes outside the targets left out.", summaryLine(p))
}

// TestChangesDigest: the digest of what a plan writes does not depend on
// when the plan was made, and changes with what is written and the targets.
func TestChangesDigest(t *testing.T) {
	desired, live := allSix()
	a, err := Compute(desired, live, Options{Now: testNow, TenantID: "t"})
	require.NoError(t, err)
	b, err := Compute(desired, live, Options{Now: testNow.AddDate(0, 0, 3), TenantID: "t"})
	require.NoError(t, err)
	require.NotEqual(t, a.CreatedAt, b.CreatedAt)
	require.Equal(t, a.ChangesDigest, b.ChangesDigest)
	require.Regexp(t, `^sha256:[0-9a-f]{64}$`, a.ChangesDigest)
	var ja, jb bytes.Buffer
	require.NoError(t, RenderJSON(&ja, a))
	require.NoError(t, RenderJSON(&jb, b))
	ra, err := ReadPlan(&ja)
	require.NoError(t, err)
	rb, err := ReadPlan(&jb)
	require.NoError(t, err)
	require.NotEqual(t, ra.Digest, rb.Digest, "the saved plan's digest covers its time")
	require.Equal(t, a.ChangesDigest, ra.ChangesDigest)
	require.Equal(t, ra.ChangesDigest, rb.ChangesDigest)

	c, err := Compute(desired, live, Options{Now: testNow, TenantID: "t", Targets: []string{"*"}})
	require.NoError(t, err)
	require.NotEqual(t, a.ChangesDigest, c.ChangesDigest, "the targets are in it")
	d, err := Compute(desired[1:], live, Options{Now: testNow, TenantID: "t"})
	require.NoError(t, err)
	require.NotEqual(t, a.ChangesDigest, d.ChangesDigest, "so is every write")
}

// TestReadPlanTargets: a saved plan whose targeted fields disagree is
// refused.
func TestReadPlanTargets(t *testing.T) {
	p, err := computeTargets(t, "tuned")
	require.NoError(t, err)
	for name, edit := range map[string]func(*Plan){
		"not partial":         func(p *Plan) { p.Partial = false },
		"change outside":      func(p *Plan) { p.Targets = []string{"steady"} },
		"bad left-out action": func(p *Plan) { p.LeftOut[0].Action = "frob" },
		"partial, no targets": func(p *Plan) { p.Targets = nil },
	} {
		t.Run(name, func(t *testing.T) {
			q := *p
			q.LeftOut = append([]LeftOut(nil), p.LeftOut...)
			edit(&q)
			var b bytes.Buffer
			require.NoError(t, RenderJSON(&b, &q))
			_, err := ReadPlan(&b)
			require.Error(t, err)
		})
	}
}
