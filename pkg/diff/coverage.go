package diff

import (
	"fmt"
	"io"
)

// CoverageCheck is what arsync.yaml's coverage section requires and what
// the plan, once applied, would leave uncovered
// (docs/safety.md#the-plan-json). A plan made without a coverage section
// has none.
type CoverageCheck struct {
	// Required counts the targets the configuration requires.
	Required int `json:"required"`
	// Uncovered are the required targets no definition would cover after
	// the plan is applied.
	Uncovered []CoverageTarget `json:"uncovered"`
	// Missing are required roles or applications the directory does not
	// show with assignments (nothing to cover: reported, not failed).
	Missing []string `json:"missing,omitempty"`
}

// CoverageTarget is one group, role or application.
type CoverageTarget struct {
	Kind        string `json:"kind"`
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

// Fails reports whether the plan leaves a required target uncovered.
func (c *CoverageCheck) Fails() bool { return c != nil && len(c.Uncovered) > 0 }

func coverageHead(c *CoverageCheck) string {
	return fmt.Sprintf("Coverage: %d of %d required target(s) would stay uncovered after this plan", len(c.Uncovered), c.Required)
}

func writeTextCoverage(w io.Writer, pt painter, p *Plan) {
	c := p.Coverage
	if c == nil {
		return
	}
	if !c.Fails() {
		fmt.Fprintf(w, "Coverage: all %d required target(s) would be covered after this plan.\n", c.Required)
	} else {
		fmt.Fprintf(w, "%s:\n", pt.paint(ansiBold+ansiRed, coverageHead(c)))
		for _, t := range c.Uncovered {
			fmt.Fprintf(w, "  - %s %s (%s)\n", t.Kind, oneLineText(t.DisplayName), t.ID)
		}
	}
	for _, m := range c.Missing {
		fmt.Fprintf(w, "  Required but not found with assignments: %s\n", oneLineText(m))
	}
	fmt.Fprintln(w)
}

func writeMarkdownCoverage(w io.Writer, p *Plan) {
	c := p.Coverage
	if c == nil {
		return
	}
	fmt.Fprintln(w)
	if !c.Fails() {
		fmt.Fprintf(w, "Coverage: all %d required target(s) would be covered after this plan.\n", c.Required)
	} else {
		fmt.Fprintln(w, "> [!CAUTION]")
		fmt.Fprintf(w, "> **%s**\n", mdEscape(coverageHead(c)))
		for _, t := range c.Uncovered {
			fmt.Fprintf(w, "> - %s %s (`%s`)\n", t.Kind, mdEscape(t.DisplayName), mdEscape(t.ID))
		}
	}
	for _, m := range c.Missing {
		fmt.Fprintf(w, "\nRequired but not found with assignments: %s\n", mdEscape(m))
	}
}

// oneLineText keeps a name on one line.
func oneLineText(s string) string {
	out := []rune(s)
	for i, r := range out {
		if r < 0x20 || r == 0x7f {
			out[i] = ' '
		}
	}
	return string(out)
}
