package apply

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/arsync/arsync/pkg/diff"
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

	tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	for _, res := range r.Results {
		c := res.Change
		detail := ""
		switch {
		case res.Err != nil:
			detail = res.Err.Error()
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
	for _, res := range r.Results {
		for _, n := range res.Notes {
			fmt.Fprintf(&buf, "note: %s: %s\n", res.Change.Name, n)
		}
	}
	_, err := w.Write(buf.Bytes())
	return err
}
