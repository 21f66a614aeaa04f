// Package ghcomment builds arsync's pull-request comment (the plan of one
// tenant, or why no plan could be made) and posts it through GitHub's REST
// API, editing the same comment on every push instead of adding new ones.
//
// The comment is found again by a hidden HTML marker on its first line,
// one per tenant, so a workflow with a matrix over tenants keeps one
// comment per tenant on each pull request.
package ghcomment

import (
	"bytes"
	"fmt"
	"html"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/arsync/arsync/pkg/diff"
)

// MaxBodyLen is the longest comment body GitHub accepts, in characters.
const MaxBodyLen = 65536

// markerPrefix starts every arsync plan comment.
const markerPrefix = "<!-- arsync-plan:"

// Marker returns the hidden first line that identifies the plan comment for
// key (a tenant id, or a directory when one tenant has several). Characters
// that could end an HTML comment or confuse a search are replaced.
func Marker(key string) string {
	return markerPrefix + " " + markerKey(key) + " -->"
}

func markerKey(key string) string {
	key = strings.TrimSpace(key)
	if key == "" {
		return "default"
	}
	var b strings.Builder
	for _, r := range key {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("._/@:", r):
			b.WriteRune(r)
		case r == '-':
			// "--" would end the HTML comment early.
			if !strings.HasSuffix(b.String(), "-") {
				b.WriteRune(r)
			} else {
				b.WriteRune('_')
			}
		default:
			b.WriteRune('_')
		}
	}
	return b.String()
}

// Meta is what the comment says about where the plan comes from.
type Meta struct {
	// Key identifies the tenant's comment (see Marker) and is shown in the
	// heading.
	Key string
	// Commit is the pull request's head commit.
	Commit string
	// RunURL links the workflow run, whose log holds the whole plan.
	RunURL string
}

// PlanBody renders the comment for p: the marker, a hidden line with the
// plan's changes digest (DigestLine), the markdown plan
// (diff.RenderMarkdown) under a heading naming the tenant, and a footer.
// A plan too long for one comment keeps its summary and as many changes as
// fit, and says how many were left out.
func PlanBody(p *diff.Plan, m Meta) (string, error) {
	var md bytes.Buffer
	if err := diff.RenderMarkdown(&md, p); err != nil {
		return "", fmt.Errorf("rendering the plan: %w", err)
	}
	plan := md.String()
	// RenderMarkdown's heading does not name the tenant; one comment per
	// tenant needs it.
	if rest, ok := strings.CutPrefix(plan, "### arsync plan\n"); ok {
		plan = "### arsync plan for " + code(m.Key) + "\n" + rest
	}
	head := Marker(m.Key) + "\n"
	// The digest of what the plan writes, for the check on merge.
	digest := p.ChangesDigest
	if digest == "" {
		var err error
		if digest, err = p.DigestChanges(); err != nil {
			return "", fmt.Errorf("rendering the plan: %w", err)
		}
	}
	head += DigestLine(digest) + "\n"
	foot := "\n" + footer(m)
	budget := MaxBodyLen - utf8.RuneCountInString(head) - utf8.RuneCountInString(foot)
	return head + fitSections(plan, budget, m.RunURL) + foot, nil
}

// FailureBody renders the comment for a plan that could not be made
// (invalid specs, a sign-in or Graph error): the last part of log, which
// holds arsync's messages (file:line:col for spec problems).
func FailureBody(log string, m Meta) string {
	head := Marker(m.Key) + "\n" +
		"### arsync plan for " + code(m.Key) + " failed\n\n" +
		"arsync could not make a plan, so this check fails. Fix the problems below and push again.\n\n"
	foot := "\n" + footer(m)
	log = strings.TrimRight(stripANSI(log), "\n")
	if log == "" {
		log = "(arsync printed nothing; see the workflow run's log)"
	}
	// The log goes in a code fence longer than any run of backticks in it.
	fence := strings.Repeat("`", max(3, longestRun(log, '`')+1))
	budget := MaxBodyLen - utf8.RuneCountInString(head) - utf8.RuneCountInString(foot) - 2*len(fence) - len("text\n\n\n") - 200
	if utf8.RuneCountInString(log) > budget {
		// Keep the end: the last messages are the ones that stopped arsync.
		r := []rune(log)
		log = "[... " + fmt.Sprint(len(r)-budget) + " characters left out ...]\n" + string(r[len(r)-budget:])
	}
	return head + fence + "text\n" + log + "\n" + fence + "\n" + foot
}

func footer(m Meta) string {
	parts := []string{"arsync"}
	if m.Commit != "" {
		c := m.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		parts = append(parts, "commit "+code(c))
	}
	if m.RunURL != "" {
		parts = append(parts, `<a href="`+html.EscapeString(m.RunURL)+`">workflow run</a>`)
	}
	return "<sub>" + strings.Join(parts, " · ") + "</sub>\n"
}

func code(s string) string {
	if s == "" {
		s = "default"
	}
	return "<code>" + html.EscapeString(s) + "</code>"
}

// fitSections returns md if it fits in budget characters, else md cut
// before a "<details>" section so that the markdown stays well formed,
// with a note of how many sections were left out.
func fitSections(md string, budget int, runURL string) string {
	if utf8.RuneCountInString(md) <= budget {
		return md
	}
	const open = "<details>"
	total := strings.Count(md, open)
	where := "the workflow run's log"
	if runURL != "" {
		where = `the <a href="` + html.EscapeString(runURL) + `">workflow run</a>'s log`
	}
	note := func(left int) string {
		return fmt.Sprintf("\n> [!NOTE]\n> %d of %d sections are not shown: the plan is longer than a GitHub comment can be. The whole plan is in %s.\n", left, total, where)
	}
	// Cut points: the start of every section, last first.
	cut := len(md)
	for shown := total; shown >= 0; shown-- {
		i := nthIndex(md, open, shown)
		if i < 0 {
			continue
		}
		cut = i
		out := md[:cut] + note(total-shown)
		if utf8.RuneCountInString(out) <= budget {
			return out
		}
	}
	// Even the summary is too long (thousands of warnings): cut it at a
	// line end.
	n := note(total)
	keep := max(0, budget-utf8.RuneCountInString(n)-1)
	r := []rune(md[:cut])
	if len(r) > keep {
		r = r[:keep]
	}
	s := string(r)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[:i+1]
	}
	return s + n
}

// nthIndex is the byte offset of the n-th (0-based) occurrence of sub in s,
// len(s) for n equal to the number of occurrences, or -1.
func nthIndex(s, sub string, n int) int {
	off := 0
	for k := 0; k < n; k++ {
		i := strings.Index(s[off:], sub)
		if i < 0 {
			return -1
		}
		off += i + len(sub)
	}
	if i := strings.Index(s[off:], sub); i >= 0 {
		return off + i
	}
	if n == strings.Count(s, sub) {
		return len(s)
	}
	return -1
}

func longestRun(s string, c byte) int {
	best, cur := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			cur++
			best = max(best, cur)
		} else {
			cur = 0
		}
	}
	return best
}

var ansiRE = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

func stripANSI(s string) string { return ansiRE.ReplaceAllString(s, "") }
