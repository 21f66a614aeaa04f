package report

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
	"time"
	"unicode"
	"unicode/utf8"
)

// Output formats of "arsync decisions".
var DecisionFormats = []string{"table", "csv", "json", "jsonl"}

// DecisionWriter writes decision rows as they arrive. Close ends the
// output (the JSON array's closing bracket) and must be called once.
type DecisionWriter interface {
	RowWriter
	Close() error
}

// NewDecisionWriter returns a writer for format: table (aligned columns
// for a terminal), csv (a header row, then one row per item), json (one
// array, written element by element) or jsonl (one object per line).
func NewDecisionWriter(w io.Writer, format string) (DecisionWriter, error) {
	bw := bufio.NewWriter(w)
	switch format {
	case "table":
		return &tableWriter{w: bw}, nil
	case "csv":
		return &csvWriter{w: csv.NewWriter(bw), bw: bw}, nil
	case "json":
		return &jsonWriter{w: bw, array: true}, nil
	case "jsonl":
		return &jsonWriter{w: bw}, nil
	}
	return nil, fmt.Errorf("unknown output format %q: use %s", format, strings.Join(DecisionFormats, ", "))
}

// csvHeader names the CSV columns, in DecisionRow's order (its JSON names).
var csvHeader = []string{"review", "reviewId", "reviewDisplayName", "instanceId", "instanceStatus",
	"resource", "resourceId", "resourceType", "principal", "principalUserPrincipalName", "principalType",
	"principalId", "decisionId", "decision", "recommendation", "reviewer", "reviewerUserPrincipalName",
	"justification", "reviewedDateTime", "appliedDateTime", "applyResult", "appliedBy", "stage"}

func (r *DecisionRow) fields() []string {
	return []string{r.Review, r.ReviewID, r.ReviewDisplayName, r.InstanceID, r.InstanceStatus,
		r.Resource, r.ResourceID, r.ResourceType, r.Principal, r.PrincipalUPN, r.PrincipalType,
		r.PrincipalID, r.DecisionID, r.Decision, r.Recommendation, r.Reviewer, r.ReviewerUPN,
		r.Justification, r.ReviewedDateTime, r.AppliedDateTime, r.ApplyResult, r.AppliedBy, stageField(r.Stage)}
}

// stageField is a row's stage in CSV: empty for an instance's item.
func stageField(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

type csvWriter struct {
	w      *csv.Writer
	bw     *bufio.Writer
	header bool
}

func (c *csvWriter) Write(rows []DecisionRow) error {
	if !c.header {
		c.header = true
		if err := c.w.Write(csvHeader); err != nil {
			return err
		}
	}
	for i := range rows {
		if err := c.w.Write(csvSafe(rows[i].fields())); err != nil {
			return err
		}
	}
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	return c.bw.Flush()
}

func (c *csvWriter) Close() error {
	if !c.header { // no rows: still a valid CSV file with its header
		return c.Write(nil)
	}
	return nil
}

// csvSafe defuses spreadsheet formulas: a justification typed by a
// reviewer must not run as a formula when an auditor opens the file.
func csvSafe(fields []string) []string {
	for i, f := range fields {
		if f != "" && strings.ContainsRune("=+-@\t\r", rune(f[0])) {
			fields[i] = "'" + f
		}
	}
	return fields
}

type jsonWriter struct {
	w     *bufio.Writer
	array bool
	n     int
	buf   bytes.Buffer
	enc   *json.Encoder
}

func (j *jsonWriter) Write(rows []DecisionRow) error {
	if j.enc == nil {
		j.enc = json.NewEncoder(&j.buf)
		j.enc.SetEscapeHTML(false) // queries and justifications keep their & < >
	}
	for i := range rows {
		j.buf.Reset()
		if err := j.enc.Encode(&rows[i]); err != nil {
			return err
		}
		b := bytes.TrimSuffix(j.buf.Bytes(), []byte("\n"))
		if j.array {
			sep := ",\n"
			if j.n == 0 {
				sep = "[\n"
			}
			j.w.WriteString(sep)
		}
		j.w.Write(b)
		if !j.array {
			j.w.WriteByte('\n')
		}
		j.n++
	}
	return j.w.Flush()
}

func (j *jsonWriter) Close() error {
	if j.array {
		if j.n == 0 {
			j.w.WriteString("[]\n")
		} else {
			j.w.WriteString("\n]\n")
		}
	}
	return j.w.Flush()
}

// tableWriter aligns columns without holding the rows: widths come from
// the header and the first batch, and later rows are padded to them (a
// longer value pushes its line, not the whole table).
type tableWriter struct {
	w      *bufio.Writer
	widths []int
}

var tableHeader = []string{"REVIEW", "RESOURCE", "PRINCIPAL", "TYPE", "DECISION", "RECOMMENDED", "REVIEWER", "REVIEWED", "APPLIED", "RESULT", "JUSTIFICATION"}

const maxCell = 40

func (r *DecisionRow) cells() []string {
	review := firstNonEmpty(r.Review, r.ReviewDisplayName)
	// Names read best in a terminal; csv and json carry the UPN and ids.
	principal := firstNonEmpty(r.Principal, r.PrincipalUPN, r.PrincipalID)
	return []string{review, dash(firstNonEmpty(r.Resource, r.ResourceID)), principal, dash(r.PrincipalType),
		r.Decision, dash(r.Recommendation), dash(firstNonEmpty(r.ReviewerUPN, r.Reviewer)),
		shortTime(r.ReviewedDateTime), shortTime(r.AppliedDateTime), dash(r.ApplyResult), dash(r.Justification)}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// shortTime shows a timestamp to the minute, in UTC.
func shortTime(ts string) string {
	if ts == "" {
		return "-"
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return ts
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// clip shortens a cell to maxCell characters and keeps it on one line;
// control characters (a terminal escape in a justification) become spaces.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= maxCell {
		return s
	}
	r := []rune(s)
	return string(r[:maxCell-1]) + "…"
}

func (t *tableWriter) Write(rows []DecisionRow) error {
	if t.widths == nil {
		t.widths = make([]int, len(tableHeader))
		for i, h := range tableHeader {
			t.widths[i] = len(h)
		}
		for i := range rows {
			for c, v := range rows[i].cells() {
				t.widths[c] = max(t.widths[c], utf8.RuneCountInString(clip(v)))
			}
		}
		t.line(tableHeader)
	}
	for i := range rows {
		t.line(rows[i].cells())
	}
	return t.w.Flush()
}

func (t *tableWriter) line(cells []string) {
	for c, v := range cells {
		v = clip(v)
		t.w.WriteString(v)
		if c < len(cells)-1 {
			t.w.WriteString(strings.Repeat(" ", max(t.widths[c]-utf8.RuneCountInString(v), 0)+2))
		}
	}
	t.w.WriteByte('\n')
}

func (t *tableWriter) Close() error { return t.w.Flush() }

// RenderStatusJSON writes the report as indented JSON.
func RenderStatusJSON(w io.Writer, rep *StatusReport) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// StatusFormats are the output formats of "arsync status".
var StatusFormats = []string{"text", "json", "csv", "markdown"}

// RenderStatus writes the report in one of StatusFormats.
func RenderStatus(w io.Writer, rep *StatusReport, format string) error {
	switch format {
	case "text":
		return RenderStatusText(w, rep)
	case "json":
		return RenderStatusJSON(w, rep)
	case "csv":
		return RenderStatusCSV(w, rep)
	case "markdown":
		return RenderStatusMarkdown(w, rep)
	}
	return fmt.Errorf("unknown output format %q: use %s", format, strings.Join(StatusFormats, ", "))
}

// title is a definition's heading: its name, or for an unmanaged one its
// display name.
func title(d DefinitionStatus) string {
	if d.Managed {
		return d.Name
	}
	return fmt.Sprintf("%q (unmanaged)", d.DisplayName)
}

// describeReviewers joins reviewer descriptions; "self-review" when none.
func describeReviewers(rs []Reviewer) string {
	if len(rs) == 0 {
		return "self-review"
	}
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = firstNonEmpty(r.Description, r.Query)
	}
	return strings.Join(out, ", ")
}

// decided is "decided/total".
func decided(in InstanceStatus) string { return fmt.Sprintf("%d/%d", in.Decided, in.Total) }

// stageOf is an instance's stage ("2/3"), "-" when not multi-stage.
func stageOf(d DefinitionStatus, in InstanceStatus) string {
	if d.StageCount == 0 || in.Stage == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d", in.Stage, d.StageCount)
}

// RenderStatusText writes the report for a terminal: a few lines per
// definition, then a table of its current instances.
func RenderStatusText(w io.Writer, rep *StatusReport) error {
	bw := bufio.NewWriter(w)
	if len(rep.Definitions) == 0 && len(rep.Missing) == 0 {
		bw.WriteString("No managed access review definitions in the tenant.\n")
	}
	for i, d := range rep.Definitions {
		if i > 0 {
			bw.WriteByte('\n')
		}
		if d.Managed {
			fmt.Fprintf(bw, "%s  %q  %s  (%s; %s)\n", d.Name, d.DisplayName, dash(d.Status), plural(d.TotalInstances, "instance"), d.ID)
		} else {
			fmt.Fprintf(bw, "%s  %s  (%s; %s)\n", title(d), dash(d.Status), plural(d.TotalInstances, "instance"), d.ID)
		}
		fmt.Fprintf(bw, "  Reviewers: %s\n", clipLine(describeReviewers(d.Reviewers)))
		if len(d.FallbackReviewers) > 0 {
			fmt.Fprintf(bw, "  Fallback reviewers: %s\n", clipLine(describeReviewers(d.FallbackReviewers)))
		}
		if d.NextStartDateTime != "" {
			fmt.Fprintf(bw, "  Next start: %s\n", shortTime(d.NextStartDateTime))
		}
		if len(d.Instances) == 0 {
			bw.WriteString("  no instances yet\n")
			continue
		}
		// Multi-stage reviews get a STAGE column ("2/3": stage 2 of 3
		// runs, or ran last) and, per instance, a table of its stages.
		staged := d.StageCount > 0
		tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
		stageCol := ""
		if staged {
			stageCol = "STAGE\t"
		}
		fmt.Fprintln(tw, "  RESOURCE\tSTATUS\t"+stageCol+"START\tEND\tDECIDED\tPENDING\tOVERDUE\tAPPROVE\tDENY\tDONTKNOW\tAPPLIED\tREVIEWERS")
		for _, in := range d.Instances {
			applied := in.Total - in.ApplyResults["New"]
			if staged {
				stageCol = stageOf(d, in) + "\t"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", clip(resourceName(in)), in.Status, stageCol,
				shortTime(in.StartDateTime), shortTime(in.EndDateTime), decided(in), in.Pending, in.Overdue,
				in.Decisions["Approve"], in.Decisions["Deny"], in.Decisions["DontKnow"], applied, clip(instanceReviewers(d, in)))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, in := range d.Instances {
			if len(in.Stages) == 0 {
				continue
			}
			fmt.Fprintf(bw, "  Stages of %s:\n", clip(resourceName(in)))
			tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "    STAGE\tSTATUS\tSTART\tEND\tITEMS\tAPPROVE\tDENY\tDONTKNOW\tNOTREVIEWED")
			for _, st := range in.Stages {
				fmt.Fprintf(tw, "    %d/%d\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n", st.Stage, d.StageCount, st.Status,
					shortTime(st.StartDateTime), shortTime(st.EndDateTime), st.Total,
					st.Decisions["Approve"], st.Decisions["Deny"], st.Decisions["DontKnow"], st.Decisions["NotReviewed"])
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
	}
	if len(rep.Missing) > 0 {
		if len(rep.Definitions) > 0 {
			bw.WriteByte('\n')
		}
		fmt.Fprintf(bw, "Not in the tenant (not applied yet): %s\n", strings.Join(rep.Missing, ", "))
	}
	return bw.Flush()
}

// instanceReviewers describes an instance's reviewers; "-" when it names
// none of its own (the definition's apply).
func instanceReviewers(d DefinitionStatus, in InstanceStatus) string {
	if len(in.Reviewers) == 0 {
		return "-"
	}
	return describeReviewers(in.Reviewers)
}

// clipLine keeps a line on one line, without control characters.
func clipLine(s string) string {
	return strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)), " ")
}

// statusCSVHeader names the columns of "status -o csv": one row per
// current instance, or per definition without instances, or per name not
// in the tenant (definitionStatus NotInTenant).
var statusCSVHeader = []string{"review", "reviewId", "reviewDisplayName", "managed", "definitionStatus", "reviewers",
	"fallbackReviewers", "nextStartDateTime", "instanceId", "resource", "resourceId", "resourceType", "status", "stage",
	"startDateTime", "endDateTime", "total", "decided", "pending", "overdue", "approve", "deny", "dontKnow", "applied", "instanceReviewers"}

// RenderStatusCSV writes one row per current instance (see statusCSVHeader).
func RenderStatusCSV(w io.Writer, rep *StatusReport) error {
	cw := csv.NewWriter(w)
	write := func(rec []string) { _ = cw.Write(csvSafe(rec)) }
	write(append([]string{}, statusCSVHeader...))
	for _, d := range rep.Definitions {
		def := []string{d.Name, d.ID, d.DisplayName, strconv.FormatBool(d.Managed), d.Status,
			describeReviewers(d.Reviewers), joinReviewers(d.FallbackReviewers), d.NextStartDateTime}
		if len(d.Instances) == 0 {
			write(append(def, make([]string, len(statusCSVHeader)-len(def))...))
			continue
		}
		for _, in := range d.Instances {
			stage := ""
			if d.StageCount > 0 && in.Stage > 0 {
				stage = fmt.Sprintf("%d/%d", in.Stage, d.StageCount)
			}
			n := strconv.Itoa
			write(append(append([]string{}, def...), in.ID, in.Resource, in.ResourceID, in.ResourceType, in.Status, stage,
				in.StartDateTime, in.EndDateTime, n(in.Total), n(in.Decided), n(in.Pending), n(in.Overdue),
				n(in.Decisions["Approve"]), n(in.Decisions["Deny"]), n(in.Decisions["DontKnow"]),
				n(in.Total-in.ApplyResults["New"]), joinReviewers(in.Reviewers)))
		}
	}
	for _, m := range rep.Missing {
		rec := make([]string, len(statusCSVHeader))
		rec[0], rec[3], rec[4] = m, "true", "NotInTenant"
		write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// joinReviewers is describeReviewers with "" for none.
func joinReviewers(rs []Reviewer) string {
	if len(rs) == 0 {
		return ""
	}
	return describeReviewers(rs)
}

// RenderStatusMarkdown writes the report as GitHub-flavoured markdown: a
// heading per definition and a table of its current instances.
func RenderStatusMarkdown(w io.Writer, rep *StatusReport) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("# Access reviews\n")
	if len(rep.Definitions) == 0 && len(rep.Missing) == 0 {
		bw.WriteString("\nNo managed access review definitions in the tenant.\n")
	}
	for _, d := range rep.Definitions {
		fmt.Fprintf(bw, "\n## %s\n\n", mdCell(title(d)))
		if d.Managed {
			fmt.Fprintf(bw, "- Display name: %s\n", mdCell(d.DisplayName))
		}
		fmt.Fprintf(bw, "- Status: %s (%s)\n", mdCell(dash(d.Status)), plural(d.TotalInstances, "instance"))
		fmt.Fprintf(bw, "- Reviewers: %s\n", mdCell(describeReviewers(d.Reviewers)))
		if len(d.FallbackReviewers) > 0 {
			fmt.Fprintf(bw, "- Fallback reviewers: %s\n", mdCell(describeReviewers(d.FallbackReviewers)))
		}
		if d.NextStartDateTime != "" {
			fmt.Fprintf(bw, "- Next start: %s\n", shortTime(d.NextStartDateTime))
		}
		if len(d.Instances) == 0 {
			bw.WriteString("\nNo instances yet.\n")
			continue
		}
		bw.WriteString("\n| Resource | Status | Stage | Start | End | Decided | Pending | Overdue | Approve | Deny | Don't know | Applied | Reviewers |\n")
		bw.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, in := range d.Instances {
			fmt.Fprintf(bw, "| %s | %s | %s | %s | %s | %s | %d | %d | %d | %d | %d | %d | %s |\n",
				mdCell(resourceName(in)), mdCell(in.Status), stageOf(d, in), shortTime(in.StartDateTime), shortTime(in.EndDateTime),
				decided(in), in.Pending, in.Overdue, in.Decisions["Approve"], in.Decisions["Deny"], in.Decisions["DontKnow"],
				in.Total-in.ApplyResults["New"], mdCell(instanceReviewers(d, in)))
		}
	}
	if len(rep.Missing) > 0 {
		fmt.Fprintf(bw, "\nNot in the tenant (not applied yet): %s\n", mdCell(strings.Join(rep.Missing, ", ")))
	}
	return bw.Flush()
}

// mdCell keeps a value on one line and inert in a markdown table: pipes,
// backslashes and HTML are escaped.
func mdCell(s string) string {
	s = clipLine(s)
	r := strings.NewReplacer(`\`, `\\`, "|", `\|`, "<", "&lt;", ">", "&gt;", "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`)
	return r.Replace(s)
}

// resourceName is what the status table calls an instance.
func resourceName(in InstanceStatus) string {
	return firstNonEmpty(in.Resource, in.ResourceID, "(all in scope)")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
