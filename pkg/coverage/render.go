package coverage

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Formats are the output formats Render knows.
var Formats = []string{"text", "json", "csv", "markdown"}

// Render writes r in format (one of Formats).
func Render(w io.Writer, r Report, format string) error {
	switch format {
	case "json":
		return renderJSON(w, r)
	case "csv":
		return renderCSV(w, r)
	case "markdown":
		return renderMarkdown(w, r)
	case "text", "":
		return renderText(w, r)
	}
	return fmt.Errorf("unknown format %q: use one of %s", format, strings.Join(Formats, ", "))
}

// status is a target's coverage in a word.
func status(t Target) string {
	switch {
	case !t.Covered:
		return "uncovered"
	case t.Partial:
		return "partial"
	}
	return "covered"
}

// count is a target's guests (groups) or assignments.
func count(t Target) int {
	if t.Kind == KindGroup {
		return t.Guests
	}
	return t.Assignments
}

// by names the definitions that cover t, "(partial)" after those that
// cover it only partly.
func by(t Target) string {
	if len(t.CoveredBy) == 0 {
		return "-"
	}
	names := make([]string, len(t.CoveredBy))
	for i, c := range t.CoveredBy {
		n := c.DisplayName
		if c.ManagedName != "" {
			n = c.ManagedName
		}
		if c.Partial {
			n += " (partial)"
		}
		names[i] = n
	}
	return strings.Join(names, ", ")
}

// Summary lines, one per kind.
var kindTitles = []struct {
	kind  Kind
	title string
}{
	{KindGroup, "Groups with guests"},
	{KindRole, "Roles with assignments"},
	{KindApplication, "Applications with assignments"},
}

func summaryLine(r Report, k Kind, title string) string {
	c := r.Summary[k]
	s := fmt.Sprintf("%s: %d covered", title, c.Covered)
	if c.Partial > 0 {
		s += fmt.Sprintf(" (%d partly)", c.Partial)
	}
	return s + fmt.Sprintf(", %d uncovered", c.Uncovered)
}

func renderText(w io.Writer, r Report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tKIND\tNAME\tGUESTS/ASSIGNMENTS\tCOVERED BY")
	for _, t := range r.Targets {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", status(t), t.Kind, oneLine(t.DisplayName), count(t), oneLine(by(t)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, k := range kindTitles {
		fmt.Fprintln(w, summaryLine(r, k.kind, k.title))
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "Warning: %s\n", oneLine(warn))
	}
	return nil
}

func renderCSV(w io.Writer, r Report) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"kind", "id", "displayName", "guests", "assignments", "covered", "partial", "coveredBy"})
	for _, t := range r.Targets {
		ids := make([]string, len(t.CoveredBy))
		for i, c := range t.CoveredBy {
			ids[i] = c.ID
		}
		_ = cw.Write([]string{string(t.Kind), t.ID, csvSafe(t.DisplayName), strconv.Itoa(t.Guests), strconv.Itoa(t.Assignments),
			strconv.FormatBool(t.Covered), strconv.FormatBool(t.Partial), strings.Join(ids, " ")})
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading a name as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func renderMarkdown(w io.Writer, r Report) error {
	fmt.Fprintln(w, "## Coverage")
	fmt.Fprintln(w)
	for _, k := range kindTitles {
		fmt.Fprintf(w, "- %s\n", summaryLine(r, k.kind, k.title))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| Status | Kind | Name | Guests/assignments | Covered by |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, t := range r.Targets {
		fmt.Fprintf(w, "| %s | %s | %s | %d | %s |\n", status(t), t.Kind, mdCell(t.DisplayName), count(t), mdCell(by(t)))
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintln(w)
		for _, warn := range r.Warnings {
			fmt.Fprintf(w, "> [!WARNING]\n> %s\n", mdCell(warn))
		}
	}
	return nil
}

// oneLine keeps a name from breaking the table.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' || r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

func mdCell(s string) string {
	s = oneLine(s)
	r := strings.NewReplacer("|", "\\|", "<", "&lt;", ">", "&gt;", "`", "\\`", "*", "\\*", "_", "\\_", "[", "\\[", "]", "\\]")
	return r.Replace(s)
}

// renderJSON writes r as json.Encoder with a two-space indent would, one
// target at a time: a large tenant's report (tens of MB) is never held in
// memory whole.
func renderJSON(w io.Writer, r Report) error {
	bw := bufio.NewWriter(w)
	enc := func(v any, prefix string) error {
		var buf bytes.Buffer
		e := json.NewEncoder(&buf)
		e.SetIndent(prefix, "  ")
		e.SetEscapeHTML(false)
		if err := e.Encode(v); err != nil {
			return err
		}
		_, err := bw.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
		return err
	}
	fmt.Fprintf(bw, "{\n  \"formatVersion\": %d,\n  \"targets\": [", r.FormatVersion)
	for i, t := range r.Targets {
		if i > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n    ")
		if err := enc(t, "    "); err != nil {
			return err
		}
	}
	if len(r.Targets) > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteString("],\n  \"summary\": ")
	if err := enc(r.Summary, "  "); err != nil {
		return err
	}
	if len(r.Warnings) > 0 {
		bw.WriteString(",\n  \"warnings\": ")
		if err := enc(r.Warnings, "  "); err != nil {
			return err
		}
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}
