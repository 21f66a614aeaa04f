package auditreport

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"time"

	"github.com/arsync/arsync/pkg/coverage"
)

// css is the page's only style sheet, inline; the Content-Security-Policy
// allows it by its hash and forbids everything else (scripts, images,
// fonts, connections), so the page loads nothing, from disk or from an
// e-mail attachment alike.
const css = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1f2328; background: #fff; margin: 0; }
main { max-width: 1000px; margin: 0 auto; padding: 24px 32px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 16px; margin: 20px 0 6px; }
.meta { color: #57606a; margin: 0 0 16px; }
.meta dt { display: inline; font-weight: 600; }
.meta dd { display: inline; margin: 0 16px 0 4px; }
.tiles { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; padding: 0; list-style: none; }
.tiles li { border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 14px; min-width: 150px; }
.tiles strong { display: block; font-size: 22px; }
.tiles .bad strong { color: #b42318; }
table { border-collapse: collapse; margin: 8px 0 16px; width: 100%; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.d { white-space: nowrap; }
tr.uncovered td:first-child { color: #b42318; font-weight: 600; }
tr.partial td:first-child { color: #9a6700; font-weight: 600; }
details { margin: 4px 0 16px; }
summary { cursor: pointer; color: #0969da; }
figure { margin: 8px 0; }
svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: #1f2328; }
.track { fill: #eaeef2; }
.decided, .covered { fill: #1a7f37; }
.approved { fill: #2da44e; }
.denied, .uncovered { fill: #cf222e; }
.dontknow, .partial { fill: #d4a72c; }
.notreviewed { fill: #8c959f; }
.applied { fill: #0969da; }
.note { color: #57606a; }
footer { margin-top: 40px; color: #57606a; font-size: 12px; }
`

// csp is the page's policy: nothing but the style sheet above.
var csp = "default-src 'none'; style-src '" + cssHash() + "'; img-src 'none'; font-src 'none'; connect-src 'none'; script-src 'none'; base-uri 'none'; form-action 'none'"

func cssHash() string {
	sum := sha256.Sum256([]byte(css))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"day": day, "pct": percent, "state": coverageState, "by": coveredByText, "amount": amountOf,
	"lower": func(s string) string { return lowerASCII(s) },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="arsync {{.M.Version}}">
<title>Access reviews of {{.M.Tenant}} — arsync report</title>
<style>` + css + `</style>
</head>
<body>
<main>
<h1>Access reviews of {{.M.Tenant}}</h1>
<dl class="meta">
<dt>Tenant</dt><dd>{{.M.Tenant}}</dd>
<dt>Generated</dt><dd><time datetime="{{.Generated}}">{{.GeneratedText}}</time></dd>
<dt>Period</dt><dd>{{.Period}}</dd>
<dt>By</dt><dd>arsync {{.M.Version}}</dd>
</dl>
<ul class="tiles">
<li><strong>{{len .M.Reviews}}</strong>review(s)</li>
<li><strong>{{.Instances}}</strong>instance(s) in the period</li>
<li><strong>{{.Decided}}/{{.Total}}</strong>items decided ({{pct .Decided .Total}}%)</li>
{{- if .M.Coverage}}
<li{{if .Uncovered}} class="bad"{{end}}><strong>{{.Uncovered}}</strong>uncovered target(s)</li>
{{- end}}
</ul>
<p><a href="#coverage-section">Coverage</a>{{range .Reviews}} · <a href="#{{.Anchor}}">{{.R.Title}}</a>{{end}}</p>

<section id="coverage-section" aria-labelledby="coverage-heading">
<h2 id="coverage-heading">Coverage: is everything reviewed?</h2>
{{- if .M.Coverage}}
<p>Groups with guests, directory roles and applications with assignments, and the access reviews whose series has not ended that reach them. Uncovered targets come first.</p>
{{template "chart" .CoverageChart}}
{{- range .CoverageTables}}
<table>
<caption>{{.Title}}: {{.Counts.Uncovered}} uncovered, {{.Counts.Partial}} partly covered, {{.Counts.Covered}} covered</caption>
<thead><tr><th scope="col">State</th><th scope="col">Name</th><th scope="col">{{.Amount}}</th><th scope="col">Covered by</th></tr></thead>
<tbody>
{{- range .Targets}}
<tr class="{{lower (state .)}}"><td>{{state .}}</td><td>{{.DisplayName}}</td><td class="n">{{amount .}}</td><td>{{by .}}</td></tr>
{{- else}}
<tr><td colspan="4">None.</td></tr>
{{- end}}
</tbody>
</table>
{{- end}}
{{- else}}
<p class="note">Coverage is not in this report: {{.M.CoverageNote}}</p>
{{- end}}
</section>

{{- range .Reviews}}
<section id="{{.Anchor}}" aria-labelledby="{{.Anchor}}-heading">
<h2 id="{{.Anchor}}-heading">{{.R.Title}}{{if not .R.Name}} <small>(not managed by arsync)</small>{{end}}</h2>
<p class="note">{{if .R.Name}}{{.R.DisplayName}} · {{end}}status {{.R.Status}} · {{len .R.Instances}} instance(s) in the period of {{.R.TotalInstances}} · id {{.R.ID}}</p>
{{- if .R.Instances}}
<h3>Completion</h3>
{{template "chart" .Completion}}
<h3>Outcomes</h3>
{{template "chart" .Outcomes}}
<table>
<caption>Instances of {{.R.Title}}</caption>
<thead><tr><th scope="col">Start</th><th scope="col">End</th><th scope="col">Resource</th><th scope="col">Status</th><th scope="col">Decided</th><th scope="col">Approved</th><th scope="col">Denied</th><th scope="col">Don't know</th><th scope="col">Not reviewed</th><th scope="col">Applied</th></tr></thead>
<tbody>
{{- range .R.Instances}}
<tr><td class="d">{{day .Start}}</td><td class="d">{{day .End}}</td><td>{{.Resource}}</td><td>{{.Status}}</td><td class="n">{{.Decided}}/{{.Total}}</td><td class="n">{{.Approved}}</td><td class="n">{{.Denied}}</td><td class="n">{{.DontKnow}}</td><td class="n">{{.NotReviewed}}</td><td class="n">{{.Applied}}</td></tr>
{{- end}}
</tbody>
</table>
{{- else}}
<p class="note">No instance in the period.</p>
{{- end}}
</section>
{{- end}}
{{- if not .Reviews}}
<p class="note">No access review in the tenant.</p>
{{- end}}
<footer>Generated by arsync {{.M.Version}} on {{.GeneratedText}} for tenant {{.M.Tenant}}. Decision counts are per instance: an item counts once, with its latest decision. "Applied" items are decided items whose result was applied to the directory.</footer>
</main>
</body>
</html>
{{define "chart"}}
<figure>
<svg role="img" aria-labelledby="{{.ID}}-title {{.ID}}-desc" width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}" xmlns="http://www.w3.org/2000/svg">
<title id="{{.ID}}-title">{{.Title}}</title>
<desc id="{{.ID}}-desc">{{.Desc}}</desc>
{{- range .Legend}}
<rect x="{{.X}}" y="4" width="12" height="12" class="{{.Class}}"/><text x="{{.X}}" dx="16" y="14">{{.Name}}</text>
{{- end}}
{{- range .Rows}}
<g><title>{{.Full}}: {{.Value}}</title><text x="0" y="{{.TextY}}">{{.Label}}</text>
{{- range .Segs}}<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" class="{{.Class}}"/>{{end}}<text x="{{.ValueX}}" y="{{.TextY}}">{{.Value}}</text></g>
{{- end}}
</svg>
</figure>
{{end}}`))

// page is what the template reads.
type page struct {
	M              Model
	CSP            string
	Generated      string
	GeneratedText  string
	Period         string
	Instances      int
	Total, Decided int
	Uncovered      int
	CoverageChart  *chart
	CoverageTables []coverageTable
	Reviews        []reviewView
}

type coverageTable struct {
	Title, Amount string
	Counts        counts
	Targets       []coverage.Target
}

type reviewView struct {
	R          Review
	Anchor     string
	Completion *chart
	Outcomes   *chart
}

func newPage(m Model) page {
	p := page{M: m, CSP: csp, Generated: m.GeneratedAt.UTC().Format(time.RFC3339),
		GeneratedText: m.GeneratedAt.UTC().Format("2006-01-02 15:04 UTC"), Period: periodText(m)}
	for i, r := range m.Reviews {
		total, decided, _ := r.Totals()
		p.Total += total
		p.Decided += decided
		p.Instances += len(r.Instances)
		p.Reviews = append(p.Reviews, reviewView{R: r, Anchor: fmt.Sprintf("review-%d", i+1),
			Completion: completionChart(i+1, r), Outcomes: outcomesChart(i+1, r)})
	}
	if m.Coverage != nil {
		p.CoverageChart = coverageChart(m.Coverage)
		for _, k := range coverageKinds {
			n := countsOf(m.Coverage, k.Kind)
			p.Uncovered += n.Uncovered
			p.CoverageTables = append(p.CoverageTables, coverageTable{Title: k.Title, Amount: k.Amount, Counts: n,
				Targets: sortedTargets(m.Coverage, k.Kind)})
		}
	}
	return p
}

func periodText(m Model) string {
	if m.Since.IsZero() {
		return "every instance"
	}
	return "instances that ended on or after " + m.Since.UTC().Format("2006-01-02 15:04 UTC") + ", or are running"
}

// WriteHTML writes the report as one self-contained HTML page.
func WriteHTML(w io.Writer, m Model) error {
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, newPage(m)); err != nil {
		return fmt.Errorf("rendering the report: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
