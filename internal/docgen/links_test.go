package docgen

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// linkedPages are the pages whose links TestDocLinks checks.
var linkedPages = []string{"yaml-format.md", "auth.md", "safety.md", "troubleshooting.md", "graph-behaviour.md", "github-action.md"}

var (
	mdLink    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	mdHeading = regexp.MustCompile("(?m)^#{1,6} +(.+?) *$")
	htmlID    = regexp.MustCompile(`<a id="([^"]+)"></a>`)
	codeFence = regexp.MustCompile("(?ms)^```.*?^```")
	codeSpan  = regexp.MustCompile("`[^`\n]*`")
)

// slug is GitHub's anchor for a heading: lower case, punctuation dropped,
// spaces turned into dashes.
func slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// anchors lists the anchors of a markdown file: its headings and explicit
// <a id> tags.
func anchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := codeFence.ReplaceAllString(string(data), "")
	out := map[string]bool{}
	for _, m := range mdHeading.FindAllStringSubmatch(text, -1) {
		out[slug(m[1])] = true
	}
	for _, m := range htmlID.FindAllStringSubmatch(text, -1) {
		out[m[1]] = true
	}
	return out
}

// TestDocLinks checks that every relative link of the pages points at a
// file that exists and, with a #fragment into a markdown file, at a
// heading that exists.
func TestDocLinks(t *testing.T) {
	const dir = "../../docs"
	for _, page := range linkedPages {
		path := filepath.Join(dir, page)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// Code (fenced or inline) holds no links, but may look like one.
		text := codeSpan.ReplaceAllString(codeFence.ReplaceAllString(string(data), ""), "")
		for _, m := range mdLink.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, frag, _ := strings.Cut(target, "#")
			dest := path
			if file != "" {
				dest = filepath.Join(dir, file)
				if _, err := os.Stat(dest); err != nil {
					t.Errorf("%s: link %q: %v", page, target, err)
					continue
				}
			}
			if frag != "" && strings.HasSuffix(dest, ".md") && !anchors(t, dest)[frag] {
				t.Errorf("%s: link %q: no heading or anchor %q in %s", page, target, frag, filepath.Base(dest))
			}
		}
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"What `--auth auto` does":                        "what---auth-auto-does",
		"Problems in `arsync.yaml`":                      "problems-in-arsyncyaml",
		"Creates with an unknown outcome: no duplicates": "creates-with-an-unknown-outcome-no-duplicates",
		"Ctrl-C":                       "ctrl-c",
		"403 Forbidden":                "403-forbidden",
		"Short forms of `@odata.type`": "short-forms-of-odatatype",
	} {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}
