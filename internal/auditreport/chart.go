package auditreport

import (
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/arsync/arsync/pkg/coverage"
)

// Charts are horizontal bar charts drawn as inline SVG: one row per
// instance (or coverage kind), a label on the left, the bar, the figure on
// the right. Geometry is computed here, so the template only draws.

// Layout, in SVG user units (CSS pixels at scale 1).
const (
	chartWidth  = 760
	labelWidth  = 230
	barWidth    = 400
	rowHeight   = 24
	barHeight   = 14
	legendSpace = 28
	// maxChartRows bounds a chart; the data table has every row.
	maxChartRows = 30
	maxLabel     = 34
)

type chart struct {
	ID     string // unique in the page, for aria-labelledby
	Title  string
	Desc   string
	Width  int
	Height int
	Legend []legendItem
	Rows   []chartRow
}

type legendItem struct {
	X     int
	Class string
	Name  string
}

type chartRow struct {
	Y      int // the row's top
	TextY  int // the label's baseline
	Label  string
	Full   string // the label untruncated, as a tooltip
	Segs   []seg
	Value  string
	ValueX int
}

type seg struct {
	X, Y, W, H int
	Class      string
	Tip        string
}

// part is one series' share of a row.
type part struct {
	class, name string
	n           int
}

// newChart lays out the legend; rows are added with row.
func newChart(id, title, desc string, series ...part) *chart {
	c := &chart{ID: id, Title: title, Desc: desc, Width: chartWidth, Height: legendSpace}
	x := labelWidth
	for _, s := range series {
		c.Legend = append(c.Legend, legendItem{X: x, Class: s.class, Name: s.name})
		x += 18 + 7*utf8.RuneCountInString(s.name) + 16
	}
	return c
}

// row adds a row of stacked parts out of whole (whole 0 draws an empty
// track). Positions come from running totals, so rounding leaves no gaps.
func (c *chart) row(label, value string, whole int, parts ...part) *chartRow {
	y := c.Height
	r := chartRow{Y: y, TextY: y + barHeight - 2, Label: truncate(label, maxLabel), Full: label, Value: value,
		ValueX: labelWidth + barWidth + 8}
	r.Segs = append(r.Segs, seg{X: labelWidth, Y: y, W: barWidth, H: barHeight, Class: "track"})
	cum := 0
	for _, p := range parts {
		if p.n <= 0 || whole <= 0 {
			continue
		}
		x0 := scale(cum, whole)
		cum += p.n
		x1 := scale(cum, whole)
		r.Segs = append(r.Segs, seg{X: labelWidth + x0, Y: y, W: x1 - x0, H: barHeight, Class: p.class,
			Tip: fmt.Sprintf("%s: %d", p.name, p.n)})
	}
	c.Rows = append(c.Rows, r)
	c.Height += rowHeight
	return &c.Rows[len(c.Rows)-1]
}

// scale maps n of whole onto the bar's width.
func scale(n, whole int) int {
	if n > whole {
		n = whole
	}
	return int(math.Round(float64(n) * barWidth / float64(whole)))
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// chartInstances are the instances a chart draws: the latest maxChartRows.
func chartInstances(r Review) (shown []Instance, note string) {
	shown = r.Instances
	if len(shown) > maxChartRows {
		shown = shown[len(shown)-maxChartRows:]
		note = fmt.Sprintf(" The chart shows the latest %d of %d instances; the table lists all.", maxChartRows, len(r.Instances))
	}
	return shown, note
}

func instanceLabel(in Instance) string {
	if in.Resource == "" {
		return day(in.Start)
	}
	return day(in.Start) + " " + in.Resource
}

// completionChart: decided of total, per instance over time.
func completionChart(idx int, r Review) *chart {
	total, decided, _ := r.Totals()
	shown, note := chartInstances(r)
	desc := fmt.Sprintf("%d instance(s)%s; %d of %d decision items decided (%d%%).%s",
		len(r.Instances), period(r), decided, total, percent(decided, total), note)
	c := newChart(fmt.Sprintf("r%d-completion", idx), "Completion of "+r.Title()+" by instance", desc,
		part{"decided", "Decided", 0}, part{"track", "Not decided", 0})
	for _, in := range shown {
		c.row(instanceLabel(in), fmt.Sprintf("%d/%d (%d%%)", in.Decided, in.Total, percent(in.Decided, in.Total)), in.Total,
			part{"decided", "Decided", in.Decided})
	}
	return c
}

// outcomesChart: approved, denied, don't know, not reviewed per instance,
// with a thin bar under each for the applied items.
func outcomesChart(idx int, r Review) *chart {
	_, _, o := r.Totals()
	shown, note := chartInstances(r)
	desc := fmt.Sprintf("Over %d instance(s): %d approved, %d denied, %d don't know, %d not reviewed; %d applied.%s",
		len(r.Instances), o.Approved, o.Denied, o.DontKnow, o.NotReviewed, o.Applied, note)
	c := newChart(fmt.Sprintf("r%d-outcomes", idx), "Outcomes of "+r.Title()+" by instance", desc,
		part{"approved", "Approved", 0}, part{"denied", "Denied", 0}, part{"dontknow", "Don't know", 0},
		part{"notreviewed", "Not reviewed", 0}, part{"applied", "Applied", 0})
	for _, in := range shown {
		row := c.row(instanceLabel(in), fmt.Sprintf("%d items, %d applied", in.Total, in.Applied), in.Total,
			part{"approved", "Approved", in.Approved}, part{"denied", "Denied", in.Denied},
			part{"dontknow", "Don't know", in.DontKnow}, part{"notreviewed", "Not reviewed", in.NotReviewed})
		if in.Applied > 0 && in.Total > 0 {
			row.Segs = append(row.Segs, seg{X: labelWidth, Y: row.Y + barHeight + 1, W: scale(in.Applied, in.Total), H: 4,
				Class: "applied", Tip: fmt.Sprintf("Applied: %d", in.Applied)})
		}
	}
	return c
}

// coverageChart: uncovered, partly and fully covered targets per kind.
func coverageChart(rep *coverage.Report) *chart {
	desc := ""
	for _, k := range coverageKinds {
		n := countsOf(rep, k.Kind)
		desc += fmt.Sprintf("%s: %d uncovered, %d partly covered, %d covered. ", k.Title, n.Uncovered, n.Partial, n.Covered)
	}
	c := newChart("coverage", "Coverage by kind of target", desc+"The tables below list every target.",
		part{"uncovered", "Uncovered", 0}, part{"partial", "Partly covered", 0}, part{"covered", "Covered", 0})
	for _, k := range coverageKinds {
		n := countsOf(rep, k.Kind)
		c.row(k.Title, fmt.Sprintf("%d of %d uncovered", n.Uncovered, n.total()), n.total(),
			part{"uncovered", "Uncovered", n.Uncovered}, part{"partial", "Partly covered", n.Partial}, part{"covered", "Covered", n.Covered})
	}
	return c
}

// period is " from X to Y" over a review's instances, "" without any.
func period(r Review) string {
	if len(r.Instances) == 0 {
		return ""
	}
	return fmt.Sprintf(" from %s to %s", day(r.Instances[0].Start), day(r.Instances[len(r.Instances)-1].Start))
}
