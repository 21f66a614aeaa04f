package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/report"
	"golang.org/x/term"
)

// The -o values of the commands that take one (decisions' are
// report.DecisionFormats).
var (
	planFormats   = []string{"text", "markdown", "json"}
	statusFormats = report.StatusFormats
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

// colorModes are --color's values.
var colorModes = []string{"auto", "always", "never"}

// renderPlanText prints a plan as plan and apply show it, in colour when
// --color and the environment say so (colorFor).
func renderPlanText(s *streams, p *diff.Plan) error {
	return diff.RenderText(s.Out, p, diff.TextOptions{Color: colorOutput(s.ColorMode, s.Out, os.Getenv)})
}

// colorOutput reports whether text output to w should be coloured, as
// colorFor says with the real terminal check. getenv is os.Getenv in
// production.
func colorOutput(mode string, w io.Writer, getenv func(string) string) bool {
	return colorFor(mode, w, getenv, term.IsTerminal)
}

// colorFor decides colour, first rule that applies wins:
//   - --color always or never (mode; "" is auto);
//   - NO_COLOR non-empty: none (https://no-color.org);
//   - FORCE_COLOR or CLICOLOR_FORCE non-empty and not "0" (or "false"):
//     colour even when w is not a terminal, for CI logs that show it;
//   - TERM=dumb: none;
//   - otherwise colour only when w is a terminal.
//
// The terminal check is injected for tests (a real terminal cannot be
// opened in a test; /dev/null is a character device but not a terminal).
func colorFor(mode string, w io.Writer, getenv func(string) string, isTerminal func(fd int) bool) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	if getenv("NO_COLOR") != "" {
		return false
	}
	for _, k := range []string{"FORCE_COLOR", "CLICOLOR_FORCE"} {
		if v := getenv(k); v != "" && v != "0" && v != "false" {
			return true
		}
	}
	if getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(interface{ Fd() uintptr })
	return ok && isTerminal(int(f.Fd()))
}
