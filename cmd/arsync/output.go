package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/arsync/arsync/pkg/diff"
	"golang.org/x/term"
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
	return diff.RenderText(s.Out, p, diff.TextOptions{Color: colorOutput(s.Out, os.Getenv)})
}

// colorOutput reports whether text output to w should be coloured: only when w
// is a terminal, NO_COLOR is unset or empty (https://no-color.org) and TERM
// is not "dumb". getenv is os.Getenv in production.
func colorOutput(w io.Writer, getenv func(string) string) bool {
	return colorFor(w, getenv, term.IsTerminal)
}

// colorFor is colorOutput with the terminal check injected, for tests (a real
// terminal cannot be opened in a test; /dev/null is a character device but
// not a terminal).
func colorFor(w io.Writer, getenv func(string) string, isTerminal func(fd int) bool) bool {
	if getenv("NO_COLOR") != "" || getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(interface{ Fd() uintptr })
	return ok && isTerminal(int(f.Fd()))
}
