package auditreport

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// maxMermaidBars bounds a Mermaid bar chart: labels beyond that are
// unreadable in a job summary; the table has every instance.
const maxMermaidBars = 12

// WriteMarkdown writes the report as GitHub-flavoured markdown for a job
// summary: the same figures as the HTML page, as tables and Mermaid
// charts (pie, xychart-beta), which GitHub renders.
func WriteMarkdown(w io.Writer, m Model) error {
	p := newPage(m)
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Access reviews of %s\n\n", mdText(m.Tenant))
	fmt.Fprintf(&b, "Generated %s by arsync %s; period: %s.\n\n", p.GeneratedText, mdText(m.Version), p.Period)
	fmt.Fprintf(&b, "| Reviews | Instances in the period | Items decided |")
	if m.Coverage != nil {
		b.WriteString(" Uncovered targets |")
	}
	b.WriteString("\n| ---: | ---: | ---: |")
	if m.Coverage != nil {
		b.WriteString(" ---: |")
	}
	fmt.Fprintf(&b, "\n| %d | %d | %d/%d (%d%%) |", len(m.Reviews), p.Instances, p.Decided, p.Total, percent(p.Decided, p.Total))
	if m.Coverage != nil {
		fmt.Fprintf(&b, " %d |", p.Uncovered)
	}
	b.WriteString("\n\n## Coverage\n\n")
	if m.Coverage == nil {
		fmt.Fprintf(&b, "Coverage is not in this report: %s\n", mdText(m.CoverageNote))
	} else {
		b.WriteString("| Kind | Uncovered | Partly covered | Covered |\n| --- | ---: | ---: | ---: |\n")
		for _, t := range p.CoverageTables {
			fmt.Fprintf(&b, "| %s | %d | %d | %d |\n", t.Title, t.Counts.Uncovered, t.Counts.Partial, t.Counts.Covered)
		}
		for _, t := range p.CoverageTables {
			fmt.Fprintf(&b, "\n### %s\n\n", t.Title)
			if len(t.Targets) == 0 {
				b.WriteString("None.\n")
				continue
			}
			fmt.Fprintf(&b, "| State | Name | %s | Covered by |\n| --- | --- | ---: | --- |\n", t.Amount)
			for _, tg := range t.Targets {
				state := coverageState(tg)
				if state == "Uncovered" {
					state = "**Uncovered**"
				}
				fmt.Fprintf(&b, "| %s | %s | %d | %s |\n", state, mdText(tg.DisplayName), amountOf(tg), mdText(coveredByText(tg)))
			}
		}
	}
	for _, rv := range p.Reviews {
		r := rv.R
		fmt.Fprintf(&b, "\n## %s\n\n", mdText(r.Title()))
		if r.Name != "" {
			fmt.Fprintf(&b, "%s · ", mdText(r.DisplayName))
		} else {
			b.WriteString("Not managed by arsync · ")
		}
		fmt.Fprintf(&b, "status %s · %d instance(s) in the period of %d\n\n", mdText(r.Status), len(r.Instances), r.TotalInstances)
		if len(r.Instances) == 0 {
			b.WriteString("No instance in the period.\n")
			continue
		}
		total, decided, o := r.Totals()
		writeCompletionChart(&b, r)
		if total > 0 {
			fmt.Fprintf(&b, "```mermaid\npie showData title %s\n", mermaidText(fmt.Sprintf("Outcomes of %d items (%d decided, %d applied)", total, decided, o.Applied)))
			for _, s := range []struct {
				name string
				n    int
			}{{"Approved", o.Approved}, {"Denied", o.Denied}, {"Don't know", o.DontKnow}, {"Not reviewed", o.NotReviewed}} {
				if s.n > 0 {
					fmt.Fprintf(&b, "    \"%s\" : %d\n", s.name, s.n)
				}
			}
			b.WriteString("```\n\n")
		}
		b.WriteString("| Start | End | Resource | Status | Decided | Approved | Denied | Don't know | Not reviewed | Applied |\n")
		b.WriteString("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		for _, in := range r.Instances {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %d/%d | %d | %d | %d | %d | %d |\n", day(in.Start), day(in.End), mdText(in.Resource),
				mdText(in.Status), in.Decided, in.Total, in.Approved, in.Denied, in.DontKnow, in.NotReviewed, in.Applied)
		}
	}
	if len(m.Reviews) == 0 {
		b.WriteString("\nNo access review in the tenant.\n")
	}
	_, err := w.Write(b.Bytes())
	return err
}

// writeCompletionChart draws the latest instances' completion in percent.
func writeCompletionChart(b *bytes.Buffer, r Review) {
	shown := r.Instances
	if len(shown) > maxMermaidBars {
		shown = shown[len(shown)-maxMermaidBars:]
	}
	var labels, values []string
	for _, in := range shown {
		labels = append(labels, `"`+mermaidText(truncate(instanceLabel(in), 24))+`"`)
		values = append(values, fmt.Sprint(percent(in.Decided, in.Total)))
	}
	title := "Completion (% decided) by instance"
	if len(shown) < len(r.Instances) {
		title = fmt.Sprintf("Completion (%% decided) of the latest %d of %d instances", len(shown), len(r.Instances))
	}
	fmt.Fprintf(b, "```mermaid\nxychart-beta\n    title \"%s\"\n    x-axis [%s]\n    y-axis \"%% decided\" 0 --> 100\n    bar [%s]\n```\n\n",
		mermaidText(title), strings.Join(labels, ", "), strings.Join(values, ", "))
}

// mdText makes a value safe in a markdown table cell or heading: no
// pipes, no line breaks, no markup.
func mdText(s string) string {
	if s == "" {
		return "-"
	}
	r := strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;", "*", `\*`, "_", `\_`, "`", "'", "[", `\[`, "]", `\]`)
	return r.Replace(s)
}

// mermaidText makes a value safe inside a quoted Mermaid label: no quotes,
// brackets, line breaks or entity-starting characters.
func mermaidText(s string) string {
	r := strings.NewReplacer(`"`, "'", "\n", " ", "\r", " ", "[", "(", "]", ")", "#", "", ";", ",", "`", "'", ":", " ", "<", "", ">", "")
	return r.Replace(s)
}
