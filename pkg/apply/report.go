package apply

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/graph"
)

// Write prints the final report: a summary line, then one line per change
// with its outcome and, for a failure, the error (Graph's code and
// request-id are in it), then the notes. A run whose changes were all done
// but may have left a duplicate is not "complete": it needs a follow-up.
func (r *Report) Write(w io.Writer) error {
	var buf bytes.Buffer
	total := 0
	if r != nil {
		total = len(r.Results)
	}
	if total == 0 {
		buf.WriteString("Apply complete: no changes.\n")
		_, err := w.Write(buf.Bytes())
		return err
	}
	dups := r.mayDuplicate()
	title := "Apply complete"
	switch {
	case r.Count(Done) != total:
		title = "Apply incomplete"
	case dups > 0:
		title = "Apply needs a follow-up"
	}
	var parts []string
	for _, o := range []Outcome{Done, Failed, Canceled, NotStarted} {
		if n := r.Count(o); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, o))
		}
	}
	fmt.Fprintf(&buf, "%s: %s (of %d changes)", title, strings.Join(parts, ", "), total)
	if dups > 0 {
		fmt.Fprintf(&buf, ", %d may have left a duplicate", dups)
	}
	buf.WriteString(".\n\n")

	notes := r.footnotes()
	tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	for i, res := range r.Results {
		c := res.Change
		detail := ""
		switch {
		case notes.of[i] > 0:
			detail = fmt.Sprintf("see [%d]", notes.of[i])
		case res.Err != nil:
			detail = res.Err.Error()
		case res.Outcome == NotStarted && notes.stopped > 0:
			detail = fmt.Sprintf("stopped after [%d]", notes.stopped)
		case res.Outcome != Done:
		case c.Action == diff.Create:
			detail = "id " + res.NewID
		case c.Action == diff.Replace:
			detail = fmt.Sprintf("id %s (was %s)", res.NewID, c.ID)
		default:
			detail = "id " + c.ID
		}
		if res.MayDuplicate && res.Err == nil {
			detail += " (a duplicate may appear)"
		}
		fmt.Fprintf(tw, "  %s %s\t%s\t%s\t%s\n", c.Action.Symbol(), c.Action, c.Name, res.Outcome, detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(notes.lines) > 0 {
		buf.WriteString("\n")
		for _, l := range notes.lines {
			buf.WriteString(l + "\n")
		}
	}
	for _, res := range r.Results {
		for _, n := range res.Notes {
			fmt.Fprintf(&buf, "note: %s: %s\n", res.Change.Name, n)
		}
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// footnotes are the failures printed below the table instead of in it:
// failures that Graph answered alike (same method, status, code and
// message), once for all the changes they hit, and a write Graph refused
// with 401 or 403, with what it needs.
type footnotes struct {
	of      map[int]int // result index -> footnote number
	lines   []string
	stopped int // the footnote of the refusal that stopped the run, or 0
}

func (r *Report) footnotes() footnotes {
	fn := footnotes{of: map[int]int{}}
	type group struct {
		idx     []int
		refused *graph.Error
	}
	var keys []string
	groups := map[string]*group{}
	for i, res := range r.Results {
		var ge *graph.Error
		if res.Outcome != Failed || !errors.As(res.Err, &ge) || graph.IsUnknownOutcome(res.Err) {
			continue
		}
		var sc *StaleChangeError
		if errors.As(res.Err, &sc) {
			continue
		}
		// Request ids, dates and URLs differ between the changes;
		// what Graph said does not.
		k := fmt.Sprintf("%s\x00%d\x00%s\x00%s\x00%s\x00%s\x00%v", ge.Method, ge.StatusCode, ge.Code, ge.InnerCode, ge.Message, ge.InnerMessage, ge.Details)
		g := groups[k]
		if g == nil {
			g = &group{refused: refusedWrite(res.Err)}
			groups[k] = g
			keys = append(keys, k)
		}
		g.idx = append(g.idx, i)
	}
	for _, k := range keys {
		g := groups[k]
		if len(g.idx) < 2 && g.refused == nil {
			continue
		}
		n := len(fn.lines) + 1
		names := make([]string, len(g.idx))
		for j, i := range g.idx {
			fn.of[i] = n
			names[j] = r.Results[i].Change.Name
		}
		first := r.Results[g.idx[0]].Err.Error()
		line := fmt.Sprintf("[%d] %s: %s", n, names[0], first)
		if len(g.idx) > 1 {
			line = fmt.Sprintf("[%d] %d changes failed alike (%s); the first: %s", n, len(g.idx), strings.Join(names, ", "), first)
		}
		if g.refused != nil {
			line += "\n    " + refusalHint(g.refused) + "."
			if r.Stopped != nil && fn.stopped == 0 {
				fn.stopped = n
				if ns := r.Count(NotStarted); ns > 0 {
					line += fmt.Sprintf(" No further changes were started (%d not started); grant it and run apply again.", ns)
				}
			}
		}
		fn.lines = append(fn.lines, line)
	}
	return fn
}
