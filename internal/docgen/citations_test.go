package docgen

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The code and docs must explain themselves from inside the repository:
// a comment may cite a heading of docs/graph-behaviour.md by its anchor, or
// another tracked document, never private notes that a reader cannot open. The patterns
// are written so that this file does not match them itself.

// repoRoot is the module root, seen from this package.
const repoRoot = "../.."

// behaviourDoc is the page of Graph facts that comments cite by anchor.
const behaviourDoc = "docs/graph-behaviour.md"

// forbiddenCitations are the marks of a citation that leads out of the
// repository: the names of the private research notes, paths into the
// shared folder they live in, and the section sign of their numbering.
var forbiddenCitations = []struct {
	re  *regexp.Regexp
	why string
}{
	{regexp.MustCompile(`(?i)\b(graph-api|reliability|peers)\.md\b`), "names a research note that is not in the repository"},
	{regexp.MustCompile(`\bDESIGN\.md\b`), "names a design file that is not in the repository"},
	{regexp.MustCompile(`\breference/(style|graph-api|reliability|peers)\b`), "points into a folder that is not in the repository"},
	{regexp.MustCompile(`(^|[^\w./-])(/work/)?shared[/]`), "points into a shared folder that is not in the repository"},
	{regexp.MustCompile("\u00a7"), "uses a section sign; cite a heading anchor instead"},
}

// behaviourCite matches a citation of the behaviour page's anchors, also
// in the American spelling, which names no file here.
var behaviourCite = regexp.MustCompile(`graph-behaviou?r\.md#([A-Za-z0-9_-]*)`)

// pageLink matches an in-page link, "](#anchor)".
var pageLink = regexp.MustCompile(`\]\(#([^)\s]*)\)`)

// requiredAnchors are the sections that contributors are told to cite.
var requiredAnchors = []string{
	"endpoints-and-versions", "definition-properties", "put-not-patch", "settings",
	"recurrence", "apply-actions-and-insights", "reviewers", "scopes-and-queries",
	"stages", "notification-recipients", "durations", "validation-limits",
	"status-values", "instances-and-decisions", "instance-actions", "paging",
	"permissions", "errors", "throttling-and-retries", "batching",
	"read-after-create", "national-clouds", "documented-payloads",
}

// citationProblems returns what is wrong with one line of a file: a
// forbidden citation, or an anchor of the behaviour page that anchors does
// not have.
func citationProblems(line string, anchors map[string]bool) []string {
	var out []string
	for _, f := range forbiddenCitations {
		if m := f.re.FindString(line); m != "" {
			out = append(out, strconv.Quote(strings.TrimSpace(m))+" "+f.why)
		}
	}
	for _, m := range behaviourCite.FindAllStringSubmatch(line, -1) {
		switch {
		case !strings.Contains(m[0], "behaviour"):
			out = append(out, strconv.Quote(m[0])+": the page is "+behaviourDoc)
		case !anchors[m[1]]:
			out = append(out, strconv.Quote(m[0])+": no such heading in "+behaviourDoc)
		}
	}
	return out
}

func TestCitationProblems(t *testing.T) {
	anchors := map[string]bool{"put-not-patch": true, "paging": true}
	tests := []struct {
		line string
		want int
	}{
		{"// Graph cannot update these (docs/graph-behaviour.md#put-not-patch).", 0},
		{"// see docs/graph-behaviour.md#paging and docs/safety.md#deletes", 0},
		{"// (https://docs.github.com/actions/reference/variables-reference)", 0},
		{"// internal/shared/x and https://example.com/shared/y are fine", 0},
		{"// graph-behaviour" + ".md#nope", 1},
		{"// graph-behavior" + ".md#paging", 1},
		{"// graph-behaviour" + ".md#", 1},
		{"// what " + "graph-api" + ".md says", 1},
		{"// (reference/" + "graph-api" + ".md)", 2},
		{"// " + "Reliability" + ".md, peers" + ".md", 1},
		{"// " + "DESIGN" + ".md", 1},
		{"// see " + "shared" + "/notes", 1},
		{"cat /work/" + "shared" + "/x", 1},
		{"// " + "reference/" + "style", 1},
		{"// rule \u00a74", 1},
	}
	for _, tt := range tests {
		if got := citationProblems(tt.line, anchors); len(got) != tt.want {
			t.Errorf("citationProblems(%q) = %q, want %d problem(s)", tt.line, got, tt.want)
		}
	}
}

// trackedFiles lists the repository's files relative to root: git's index
// when git is there, else every file under root but .git.
func trackedFiles(t *testing.T, root string) []string {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err == nil {
		var files []string
		for _, f := range strings.Split(string(out), "\x00") {
			if f != "" {
				files = append(files, f)
			}
		}
		if len(files) > 0 {
			return files
		}
	}
	var files []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("listing the repository: %v", err)
	}
	return files
}

// TestRepositoryCitations checks every tracked text file (fuzz corpora,
// which are random bytes, aside): no citation leads out of the repository,
// and every cited anchor of the behaviour page is one of its headings.
func TestRepositoryCitations(t *testing.T) {
	anchors := anchors(t, filepath.Join(repoRoot, behaviourDoc))
	for _, a := range requiredAnchors {
		if !anchors[a] {
			t.Errorf("%s: no heading for the anchor #%s", behaviourDoc, a)
		}
	}

	files := trackedFiles(t, repoRoot)
	checked := 0
	for _, rel := range files {
		if strings.Contains("/"+rel, "/testdata/fuzz/") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(repoRoot, rel))
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted in the work tree, not yet in the index
		}
		if err != nil {
			t.Fatal(err)
		}
		if bytes.IndexByte(data, 0) >= 0 {
			continue // binary
		}
		checked++
		for i, line := range strings.Split(string(data), "\n") {
			if ps := citationProblems(line, anchors); len(ps) > 0 {
				t.Errorf("%s:%d: %s", rel, i+1, strings.Join(ps, "; "))
			}
			if rel == behaviourDoc {
				for _, m := range pageLink.FindAllStringSubmatch(line, -1) {
					if !anchors[m[1]] {
						t.Errorf("%s:%d: link to #%s: no such heading", rel, i+1, m[1])
					}
				}
			}
		}
	}
	if checked == 0 || !slices.Contains(files, behaviourDoc) {
		t.Fatalf("checked %d files of %d, %s among them: the repository was not found", checked, len(files), behaviourDoc)
	}
}
