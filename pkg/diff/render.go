package diff

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/arsync/arsync/pkg/graph"
)

// TextOptions control RenderText.
type TextOptions struct {
	// Color adds ANSI colours. The caller decides: on only for a terminal
	// and never when NO_COLOR is set.
	Color bool
}

const (
	ansiReset   = "\x1b[0m"
	ansiBold    = "\x1b[1m"
	ansiRed     = "\x1b[31m"
	ansiGreen   = "\x1b[32m"
	ansiYellow  = "\x1b[33m"
	ansiMagenta = "\x1b[35m"
	ansiCyan    = "\x1b[36m"
	ansiDim     = "\x1b[2m"
)

func actionColor(a Action) string {
	switch a {
	case Create:
		return ansiGreen
	case Update:
		return ansiYellow
	case Adopt:
		return ansiCyan
	case Replace:
		return ansiMagenta
	case Delete:
		return ansiRed
	}
	return ""
}

type painter bool

func (p painter) paint(color, s string) string {
	if !p || color == "" {
		return s
	}
	return color + s + ansiReset
}

// summaryLine is the one-line summary both human formats end with.
func summaryLine(p *Plan) string {
	s := p.Summary
	if !p.HasChanges() {
		if p.Partial {
			return fmt.Sprintf("No changes. The targeted definitions match the configuration (%d %s up to date).", s.NoOp, plural(s.NoOp, "definition", "definitions")) + partialSummary(p)
		}
		return fmt.Sprintf("No changes. The tenant matches the configuration (%d %s up to date).", s.NoOp, plural(s.NoOp, "definition", "definitions"))
	}
	line := fmt.Sprintf("Plan: %d to create, %d to update, %d to adopt, %d to replace, %d to delete; %d unchanged.",
		s.Create, s.Update, s.Adopt, s.Replace, s.Delete, s.NoOp)
	if p.Partial {
		line += partialSummary(p)
	}
	return line
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// fieldSymbol is the mark of one field line.
func fieldSymbol(f FieldChange) string {
	switch {
	case f.Before == nil && f.After != nil:
		return "+"
	case f.Before != nil && f.After == nil:
		return "-"
	}
	return "~"
}

// formatValue writes a field value compactly, as JSON.
func formatValue(v any) string {
	b, err := graph.MarshalNoEscape(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// fieldLabels returns "guid = name" notes for the GUIDs in f that c labels.
func fieldLabels(c Change, f FieldChange) []string {
	if len(c.Labels) == 0 {
		return nil
	}
	text := strings.ToLower(formatValue(f.Before) + " " + formatValue(f.After))
	var notes []string
	for _, id := range slices.Sorted(maps.Keys(c.Labels)) {
		if strings.Contains(text, id) {
			notes = append(notes, id+" = "+c.Labels[id])
		}
	}
	return notes
}

// RenderText writes p for a terminal or a CI log, in the manner of
// terraform: one block per change with its fields, unmanaged definitions,
// warnings and a summary line. Noops are counted, not shown.
func RenderText(w io.Writer, p *Plan, o TextOptions) error {
	if p == nil {
		return fmt.Errorf("render plan: no plan")
	}
	bw := bufio.NewWriter(w)
	pt := painter(o.Color)
	writeTextOutside(bw, pt, p)
	writeTextCoverage(bw, pt, p)
	if p.HasChanges() {
		fmt.Fprintln(bw, "arsync will perform the following actions:")
		for _, c := range p.Changes {
			if c.Action == NoOp {
				continue
			}
			fmt.Fprintln(bw)
			writeTextChange(bw, pt, c)
		}
	}
	if len(p.Unmanaged) > 0 {
		fmt.Fprintln(bw)
		fmt.Fprintf(bw, "Unmanaged definitions (no arsync marker; never changed): %d\n", len(p.Unmanaged))
		for _, u := range p.Unmanaged {
			fmt.Fprintf(bw, "    %s  id=%s\n", quote(u.DisplayName), u.ID)
		}
	}
	if len(p.Warnings) > 0 {
		fmt.Fprintln(bw)
		for _, wn := range p.Warnings {
			fmt.Fprintf(bw, "%s %s\n", pt.paint(ansiBold+ansiYellow, "Warning:"), wn)
		}
	}
	writeTextLeftOut(bw, pt, p)
	fmt.Fprintln(bw)
	fmt.Fprintln(bw, pt.paint(ansiBold, summaryLine(p)))
	return bw.Flush()
}

func quote(s string) string { return formatValue(s) }

func writeTextChange(w io.Writer, pt painter, c Change) {
	head := fmt.Sprintf("%s %s %s", pt.paint(actionColor(c.Action), c.Action.Symbol()), pt.paint(ansiBold, string(c.Action)), c.Name)
	fmt.Fprintf(w, "  %s  %s", head, quote(c.DisplayName))
	if c.ID != "" {
		fmt.Fprintf(w, "  id=%s", c.ID)
	}
	if c.Source != "" {
		fmt.Fprintf(w, "  (%s)", c.Source)
	}
	if c.RenamedFrom != "" {
		fmt.Fprintf(w, "  (renamed from %s)", c.RenamedFrom)
	}
	fmt.Fprintln(w)
	if c.Reason != "" {
		fmt.Fprintf(w, "      %s\n", pt.paint(ansiDim, "# "+c.Reason))
	}
	if c.ChangedOutside {
		fmt.Fprintf(w, "      %s\n", pt.paint(ansiBold+ansiYellow, "# "+outsideNote(c)))
	}
	width := 0
	for _, f := range c.Fields {
		width = max(width, len(f.Path))
	}
	for _, f := range c.Fields {
		sym := fieldSymbol(f)
		color := map[string]string{"+": ansiGreen, "-": ansiRed, "~": ansiYellow}[sym]
		var val string
		switch sym {
		case "+":
			val = formatValue(f.After)
		case "-":
			val = formatValue(f.Before) + " -> null"
		default:
			val = formatValue(f.Before) + " -> " + formatValue(f.After)
		}
		line := fmt.Sprintf("      %s %-*s = %s", pt.paint(color, sym), width, f.Path, val)
		if f.ForcesReplacement {
			line += " " + pt.paint(ansiRed, "# forces replacement")
		}
		if notes := fieldLabels(c, f); len(notes) > 0 {
			line += " " + pt.paint(ansiDim, "# "+strings.Join(notes, ", "))
		}
		fmt.Fprintln(w, line)
	}
	if c.UnchangedFields > 0 {
		fmt.Fprintf(w, "      %s\n", pt.paint(ansiDim, fmt.Sprintf("(%d unchanged %s hidden)", c.UnchangedFields, plural(c.UnchangedFields, "field", "fields"))))
	}
}

// mdEscape makes s safe as text in a GitHub comment: no HTML, no markdown
// emphasis, links or table breaks from names that come from the tenant.
var mdEscaper = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;",
	"|", "&#124;", "`", "&#96;", "*", "&#42;", "_", "&#95;", "[", "&#91;", "]", "&#93;",
	"~", "&#126;", "\\", "&#92;", "#", "&#35;", "@", "&#64;", "\n", " ", "\r", " ",
)

func mdEscape(s string) string { return mdEscaper.Replace(s) }

var codeEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "|", "&#124;", "\n", " ", "\r", " ")

// mdCode renders v as inline code in a table cell.
func mdCode(s string) string {
	return "<code>" + codeEscaper.Replace(s) + "</code>"
}

// RenderMarkdown writes p as a pull-request comment: the summary, a table of
// counts, warnings (replaces and deletes lose review history), one collapsed
// section per change, and the unmanaged definitions.
func RenderMarkdown(w io.Writer, p *Plan) error {
	if p == nil {
		return fmt.Errorf("render plan: no plan")
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "### arsync plan")
	fmt.Fprintln(bw)
	fmt.Fprintf(bw, "**%s**\n\n", mdEscape(summaryLine(p)))
	s := p.Summary
	fmt.Fprintln(bw, "| Action | Count |")
	fmt.Fprintln(bw, "|:--|--:|")
	for _, row := range []struct {
		a Action
		n int
	}{{Create, s.Create}, {Update, s.Update}, {Adopt, s.Adopt}, {Replace, s.Replace}, {Delete, s.Delete}, {NoOp, s.NoOp}} {
		label := "unchanged"
		if row.a != NoOp {
			label = "<code>" + html.EscapeString(row.a.Symbol()) + "</code> " + string(row.a)
		}
		fmt.Fprintf(bw, "| %s | %d |\n", label, row.n)
	}
	writeMarkdownOutside(bw, p)
	writeMarkdownCoverage(bw, p)
	if len(p.Warnings) > 0 {
		fmt.Fprintln(bw)
		fmt.Fprintln(bw, "> [!WARNING]")
		for _, wn := range p.Warnings {
			fmt.Fprintf(bw, "> - %s\n", mdEscape(wn))
		}
	}
	writeMarkdownLeftOut(bw, p)
	for _, c := range p.Changes {
		if c.Action == NoOp {
			continue
		}
		fmt.Fprintln(bw)
		writeMarkdownChange(bw, c)
	}
	if len(p.Unmanaged) > 0 {
		fmt.Fprintln(bw)
		fmt.Fprintf(bw, "<details><summary>%d unmanaged %s (no arsync marker; never changed)</summary>\n\n",
			len(p.Unmanaged), plural(len(p.Unmanaged), "definition", "definitions"))
		for _, u := range p.Unmanaged {
			fmt.Fprintf(bw, "- %s (<code>%s</code>)\n", mdEscape(u.DisplayName), html.EscapeString(u.ID))
		}
		fmt.Fprintln(bw)
		fmt.Fprintln(bw, "</details>")
	}
	return bw.Flush()
}

func writeMarkdownChange(w io.Writer, c Change) {
	renamed := ""
	if c.RenamedFrom != "" {
		renamed = " (renamed from " + mdEscape(c.RenamedFrom) + ")"
	}
	fmt.Fprintf(w, "<details><summary><code>%s %s</code> <b>%s</b>: %s%s</summary>\n\n",
		html.EscapeString(c.Action.Symbol()), c.Action, mdEscape(c.Name), mdEscape(c.DisplayName), renamed)
	var meta []string
	if c.ID != "" {
		meta = append(meta, "id <code>"+html.EscapeString(c.ID)+"</code>")
	}
	if c.Source != "" {
		meta = append(meta, "source <code>"+html.EscapeString(c.Source)+"</code>")
	}
	if len(meta) > 0 {
		fmt.Fprintln(w, strings.Join(meta, " · "))
		fmt.Fprintln(w)
	}
	if c.Reason != "" {
		fmt.Fprintf(w, "_%s_\n\n", mdEscape(c.Reason))
	}
	if c.ChangedOutside {
		fmt.Fprintf(w, "**%s**\n\n", mdEscape(outsideNote(c)))
	}
	if len(c.Fields) > 0 {
		fmt.Fprintln(w, "| | Field | Before | After |")
		fmt.Fprintln(w, "|:-:|:--|:--|:--|")
		for _, f := range c.Fields {
			before, after := "", ""
			if f.Before != nil {
				before = mdCode(formatValue(f.Before))
			}
			if f.After != nil {
				after = mdCode(formatValue(f.After))
			}
			path := mdCode(f.Path)
			if f.ForcesReplacement {
				path += " **forces replacement**"
			}
			if notes := fieldLabels(c, f); len(notes) > 0 {
				after += " (" + mdEscape(strings.Join(notes, ", ")) + ")"
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", fieldSymbol(f), path, before, after)
		}
		fmt.Fprintln(w)
	}
	if c.UnchangedFields > 0 {
		fmt.Fprintf(w, "%d unchanged %s hidden.\n\n", c.UnchangedFields, plural(c.UnchangedFields, "field", "fields"))
	}
	fmt.Fprintln(w, "</details>")
}

// Changed outside arsync (Change.ChangedOutside): a section before the
// changes in both human formats, and a note in each change so flagged.

// outsideChanges returns the changes of p flagged as changed outside arsync.
func outsideChanges(p *Plan) []Change {
	var out []Change
	for _, c := range p.Changes {
		if c.ChangedOutside && c.Action != NoOp {
			out = append(out, c)
		}
	}
	return out
}

// outsideNote is the note on a change flagged as changed outside arsync.
func outsideNote(c Change) string {
	what := "this plan undoes that"
	if c.Action == Delete {
		what = "this plan deletes it anyway"
	}
	return fmt.Sprintf("changed outside arsync since arsync last wrote it (%s); %s", strings.Join(c.ChangedOutsideFields, ", "), what)
}

const outsideHead = "Changed outside arsync (edited in the tenant since arsync last wrote them)"

func writeTextOutside(w io.Writer, pt painter, p *Plan) {
	cs := outsideChanges(p)
	if len(cs) == 0 {
		return
	}
	fmt.Fprintf(w, "%s: %d\n", pt.paint(ansiBold+ansiYellow, outsideHead), len(cs))
	for _, c := range cs {
		fmt.Fprintf(w, "    %s  %s  id=%s: %s\n", c.Name, quote(c.DisplayName), c.ID, strings.Join(c.ChangedOutsideFields, ", "))
	}
	fmt.Fprintln(w)
}

func writeMarkdownOutside(w io.Writer, p *Plan) {
	cs := outsideChanges(p)
	if len(cs) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "> [!CAUTION]")
	fmt.Fprintf(w, "> **%s: %d**\n", mdEscape(outsideHead), len(cs))
	for _, c := range cs {
		fields := make([]string, len(c.ChangedOutsideFields))
		for i, f := range c.ChangedOutsideFields {
			fields[i] = "<code>" + html.EscapeString(f) + "</code>"
		}
		fmt.Fprintf(w, "> - <code>%s %s</code> <b>%s</b>: %s: %s\n", html.EscapeString(c.Action.Symbol()), c.Action,
			mdEscape(c.Name), mdEscape(c.DisplayName), strings.Join(fields, ", "))
	}
}
