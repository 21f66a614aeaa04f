package docgen

import (
	"bytes"
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the generated regions of docs/yaml-format.md")

const docPath = "../../docs/yaml-format.md"

// TestYAMLFormatDocIsCurrent fails when the field reference in
// docs/yaml-format.md differs from what pkg/spec's schema says. Fix it with
// go test ./internal/docgen -update.
func TestYAMLFormatDocIsCurrent(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	require.NoError(t, err)
	got, err := Render(doc)
	require.NoError(t, err)
	if *update {
		if !bytes.Equal(doc, got) {
			require.NoError(t, os.WriteFile(docPath, got, 0o644))
		}
		return
	}
	require.Equal(t, string(got), string(doc),
		"docs/yaml-format.md is stale: run go test ./internal/docgen -update")
}

// TestEveryFieldIsDocumented is a second guard: every property name of both
// schemas appears in the page as code (alone or as the last part of a path
// such as metadata.name).
func TestEveryFieldIsDocumented(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	require.NoError(t, err)
	names, err := PropertyNames()
	require.NoError(t, err)
	require.NotEmpty(t, names)
	for _, n := range names {
		ok := strings.Contains(string(doc), "`"+n+"`") || strings.Contains(string(doc), "."+n+"`")
		require.True(t, ok, "field %q is not in %s", n, docPath)
	}
}

// TestAnchorsResolve checks that every link to a field table on the page
// has its anchor.
func TestAnchorsResolve(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	require.NoError(t, err)
	text := string(doc)
	for _, m := range regexp.MustCompile(`\]\(#(fields-of-[a-z]+)\)`).FindAllStringSubmatch(text, -1) {
		require.True(t, strings.Contains(text, `<a id="`+m[1]+`"></a>`), "link to #%s has no anchor", m[1])
	}
}

func TestSplice(t *testing.T) {
	doc := []byte("<!-- BEGIN GENERATED x-other: -->\na\n<!-- BEGIN GENERATED x: how -->\nold\n<!-- END GENERATED x -->\nb\n")
	got, err := splice(doc, "x", "new\n")
	require.NoError(t, err)
	require.Equal(t, "<!-- BEGIN GENERATED x-other: -->\na\n<!-- BEGIN GENERATED x: how -->\nnew\n<!-- END GENERATED x -->\nb\n", string(got))

	_, err = splice([]byte("no markers\n"), "x", "")
	require.ErrorContains(t, err, "no ")
	_, err = splice([]byte("<!-- BEGIN GENERATED x -->\nunterminated\n"), "x", "")
	require.ErrorContains(t, err, "END")
}

func TestSplitGraph(t *testing.T) {
	for _, tt := range []struct{ in, text, graph string }{
		{"Who reviews. Graph: accessReviewScheduleDefinition.reviewers.", "Who reviews.", "accessReviewScheduleDefinition.reviewers"},
		{"A scope. Graph type: accessReviewScope (a or b). May be written as a name.", "A scope. May be written as a name.", "accessReviewScope (a or b)"},
		{"No mapping.", "No mapping.", ""},
	} {
		marker := "Graph:"
		if strings.Contains(tt.in, "Graph type:") {
			marker = "Graph type:"
		}
		text, graph := splitGraph(tt.in, marker)
		require.Equal(t, tt.text, text, tt.in)
		require.Equal(t, tt.graph, graph, tt.in)
	}
}
