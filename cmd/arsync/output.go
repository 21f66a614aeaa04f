package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/arsync/arsync/pkg/diff"
)

// The -o values of the commands that take one (decisions' are
// report.DecisionFormats).
var (
	planFormats   = []string{"text", "markdown", "json"}
	statusFormats = []string{"text", "json"}
)

// checkFormat is the one answer to an -o value a command does not know.
func checkFormat(format string, formats []string) error {
	if slices.Contains(formats, format) {
		return nil
	}
	return fmt.Errorf("unknown output format %q: use %s", format, orList(formats))
}

// orList joins items as "a, b or c".
func orList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// renderPlanText prints a plan as plan and apply show it: in colour on a
// terminal unless NO_COLOR is set.
func renderPlanText(s *streams, p *diff.Plan) error {
	return diff.RenderText(s.Out, p, diff.TextOptions{Color: diff.ColorFor(s.Out, os.Getenv)})
}
