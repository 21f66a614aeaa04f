package report

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/graphclient"
)

// DecisionQuery selects the decisions to report. The zero value is every
// decision item of every definition in the tenant.
type DecisionQuery struct {
	// Review is a managed definition's name (its marker) or any
	// definition's id.
	Review string
	// Instance limits the report to one instance id.
	Instance string
	// Decision keeps only items with this decision (Approve, Deny,
	// NotReviewed, DontKnow); Graph filters them.
	Decision string
	// Since keeps only items reviewed or applied after it (strictly), for
	// incremental collection; zero keeps all.
	Since time.Time
	// Stage, from 1 to MaxStages, reads the items of that stage of each
	// multi-stage instance (the principals that reached it, with that
	// stage's decisions) instead of the instances' items; single-stage
	// reviews and instances that have not reached it are left out. 0
	// reads the instances' items.
	Stage int
	// Reviewer, Principal and Resource keep only the items whose reviewer,
	// principal or resource is this: an id (matched as is) or a name,
	// matched case-insensitively against the display name and, for people,
	// the userPrincipalName; a name with an @ is also looked up as a UPN or
	// mail address.
	Reviewer, Principal, Resource string
	// Pending keeps only the items not reviewed yet (decision NotReviewed);
	// Graph filters them.
	Pending bool
	// Cursor, when set, makes the run incremental (see Cursor): Since is
	// then only used by a first run. Now is the run's start on the session
	// clock and Overlap the cursor's overlap window (DefaultCursorOverlap
	// when 0). A complete run returns the moved cursor in DecisionStats.
	Cursor  *Cursor
	Now     time.Time
	Overlap time.Duration
}

// Selection describes the filters of q that select items, for a cursor:
// the same cursor must be used with the same selection.
func (q DecisionQuery) Selection() string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	add("review", q.Review)
	add("instance", strings.ToLower(q.Instance))
	add("decision", q.Decision)
	if q.Stage > 0 {
		add("stage", fmt.Sprint(q.Stage))
	}
	add("reviewer", strings.ToLower(q.Reviewer))
	add("principal", strings.ToLower(q.Principal))
	add("resource", strings.ToLower(q.Resource))
	if q.Pending {
		add("pending", "true")
	}
	if len(parts) == 0 {
		return "all"
	}
	return strings.Join(parts, " ")
}

// DecisionRow is one decision item with what it concerns, flattened for
// CSV, JSON and tables. Times are RFC 3339 in UTC, "" when not yet.
type DecisionRow struct {
	Review            string `json:"review"` // arsync name; "" for an unmanaged definition
	ReviewID          string `json:"reviewId"`
	ReviewDisplayName string `json:"reviewDisplayName"`
	InstanceID        string `json:"instanceId"`
	InstanceStatus    string `json:"instanceStatus"`
	Resource          string `json:"resource"` // the group, application or role's name
	ResourceID        string `json:"resourceId"`
	ResourceType      string `json:"resourceType"`
	Principal         string `json:"principal"`
	PrincipalUPN      string `json:"principalUserPrincipalName"`
	PrincipalType     string `json:"principalType"` // Guest, Member, ServicePrincipal, Group; "" unknown
	PrincipalID       string `json:"principalId"`
	DecisionID        string `json:"decisionId"`
	Decision          string `json:"decision"`
	Recommendation    string `json:"recommendation"`
	Reviewer          string `json:"reviewer"`
	ReviewerUPN       string `json:"reviewerUserPrincipalName"`
	Justification     string `json:"justification"`
	ReviewedDateTime  string `json:"reviewedDateTime"`
	AppliedDateTime   string `json:"appliedDateTime"`
	ApplyResult       string `json:"applyResult"`
	AppliedBy         string `json:"appliedBy"`
	// Stage is the stage the item belongs to (DecisionQuery.Stage); 0 for
	// an instance's item, which shows the last decision of any stage.
	Stage int `json:"stage,omitempty"`
}

// DecisionStats says what a report read and wrote.
type DecisionStats struct {
	Definitions int // definitions read
	Instances   int // instances read
	Decisions   int // decision items read
	Rows        int // rows written
	// Cursor is the moved cursor after a complete run with
	// DecisionQuery.Cursor; nil otherwise.
	Cursor *Cursor
}

// RowWriter receives rows a batch at a time (about one Graph page).
type RowWriter interface {
	Write(rows []DecisionRow) error
}

// batchSize is how many rows are enriched and written at once: one Graph
// page of decisions.
const batchSize = 100

// maxCachedUsers bounds the principal-type cache; it is emptied when full,
// so memory stays flat however many principals a tenant has.
const maxCachedUsers = 20000

// CheckStage checks a stage number for DecisionQuery.Stage.
func CheckStage(n int) error {
	if n < 1 || n > MaxStages {
		return fmt.Errorf("stage %d: a review has stages 1 to %d", n, MaxStages)
	}
	return nil
}

// CanonicalDecision checks a decision value for a filter, in any letter case.
func CanonicalDecision(v string) (string, error) {
	for _, d := range []string{"Approve", "Deny", "NotReviewed", "DontKnow"} {
		if strings.EqualFold(v, d) {
			return d, nil
		}
	}
	return "", fmt.Errorf("%q is not a decision: use Approve, Deny, NotReviewed or DontKnow", v)
}

// Decisions reads every decision item q selects, across definitions and
// their instances, and writes them to w in batches as the pages arrive: at
// most one page of decisions is held at a time.
//
// Graph cannot filter decisions by time, so with q.Since every item is
// still read; only rows reviewed or applied after q.Since are written.
func Decisions(ctx context.Context, src Source, q DecisionQuery, w RowWriter) (DecisionStats, error) {
	if q.Decision != "" {
		d, err := CanonicalDecision(q.Decision)
		if err != nil {
			return DecisionStats{}, err
		}
		q.Decision = d
	}
	if q.Stage != 0 {
		if err := CheckStage(q.Stage); err != nil {
			return DecisionStats{}, err
		}
	}
	if q.Pending {
		if q.Decision != "" && q.Decision != "NotReviewed" {
			return DecisionStats{}, fmt.Errorf("pending items are NotReviewed, not %s", q.Decision)
		}
		q.Decision = "NotReviewed"
	}
	r := &decisionRun{src: src, q: q, w: w, batch: make([]DecisionRow, 0, batchSize),
		e: &enricher{src: src, names: newNames(src), userTypes: map[string]string{}}}
	if q.Cursor != nil {
		if q.Cursor.Started() && q.Cursor.Selection != q.Selection() {
			return DecisionStats{}, fmt.Errorf("%w: it was made for %q, this run selects %q; use another cursor file for another selection",
				ErrCursorSelection, q.Cursor.Selection, q.Selection())
		}
		overlap := q.Overlap
		if overlap <= 0 {
			overlap = DefaultCursorOverlap
		}
		r.cur = newCursorRun(q.Cursor, q.Now, overlap, q.Selection())
	}
	err := r.filters(ctx)
	if err == nil {
		err = r.read(ctx)
	}
	// The rows read before a failure are good: they are written too.
	if ferr := r.flush(ctx); ferr != nil {
		err = errors.Join(err, ferr)
	}
	if err == nil && r.cur != nil {
		r.st.Cursor = r.cur.next()
	}
	return r.st, err
}

// ErrCursorSelection is returned (wrapped) when a cursor is used with other
// filters than those it was made with.
var ErrCursorSelection = errors.New("the cursor was made for another selection")

// filters prepares the reviewer, principal and resource matchers.
func (r *decisionRun) filters(ctx context.Context) error {
	var err error
	if r.reviewer, err = newMatcher(ctx, r.src, r.q.Reviewer, true); err != nil {
		return fmt.Errorf("looking up reviewer %q: %w", r.q.Reviewer, err)
	}
	if r.principal, err = newMatcher(ctx, r.src, r.q.Principal, true); err != nil {
		return fmt.Errorf("looking up principal %q: %w", r.q.Principal, err)
	}
	r.resource, _ = newMatcher(ctx, r.src, r.q.Resource, false)
	return nil
}

// matcher matches an id or a name; nil matches everything.
type matcher struct {
	ids  map[string]bool // lower-case ids
	name string          // lower-case name; "" for an id
}

// newMatcher reads a filter value: an id is matched as is; a name is
// matched case-insensitively, and with people a name with an @ is also
// looked up as a UPN or mail address, whose users' ids then match.
func newMatcher(ctx context.Context, src Source, key string, people bool) (*matcher, error) {
	key = strings.TrimSpace(key)
	if key == "" {
		return nil, nil
	}
	m := &matcher{ids: map[string]bool{}}
	if graphclient.IsGUID(key) {
		m.ids[strings.ToLower(key)] = true
		return m, nil
	}
	m.name = strings.ToLower(key)
	if people && strings.Contains(key, "@") {
		found, err := src.LookupUsers(ctx, []string{key})
		// Without User.Read.All (403) the name is still matched.
		if err != nil && !graph.IsForbidden(err) {
			return nil, err
		}
		for _, u := range found[key] {
			m.ids[strings.ToLower(u.ID)] = true
		}
	}
	return m, nil
}

// match reports whether the id, or one of the names, is the one wanted.
func (m *matcher) match(id string, names ...string) bool {
	if m == nil {
		return true
	}
	if id != "" && m.ids[strings.ToLower(id)] {
		return true
	}
	if m.name == "" {
		return false
	}
	for _, n := range names {
		if n != "" && strings.ToLower(n) == m.name {
			return true
		}
	}
	return false
}

// decisionRun is one Decisions call: the rows of the current batch and
// what has been read and written so far.
type decisionRun struct {
	src    Source
	q      DecisionQuery
	w      RowWriter
	e      *enricher
	batch  []DecisionRow
	st     DecisionStats
	broken bool // a write failed: write nothing more

	cur                           *cursorRun // nil without a cursor
	reviewer, principal, resource *matcher
}

func (r *decisionRun) flush(ctx context.Context) error {
	if len(r.batch) == 0 || r.broken {
		return nil
	}
	if err := r.e.principalTypes(ctx, r.batch); err != nil {
		r.broken = true
		return err
	}
	if err := r.w.Write(r.batch); err != nil {
		r.broken = true
		return err
	}
	r.st.Rows += len(r.batch)
	r.batch = r.batch[:0]
	return nil
}

func (r *decisionRun) read(ctx context.Context) error {
	var opts *graph.ListOptions
	if r.q.Decision != "" {
		opts = &graph.ListOptions{Filter: "decision eq " + graph.ODataQuote(r.q.Decision)}
	}
	matched, instanceFound, stageFound := false, false, false
	for def, err := range r.src.ListDefinitions(ctx, nil) {
		if err != nil {
			return fmt.Errorf("listing access review definitions: %w", err)
		}
		name := graph.ManagedName(def)
		if r.q.Review != "" && !strings.EqualFold(def.ID, r.q.Review) && name != r.q.Review {
			continue
		}
		matched = true
		r.st.Definitions++
		if r.q.Stage > 0 && len(def.StageSettings) == 0 {
			continue // one stage only: nothing to read
		}
		for inst, err := range r.src.ListInstances(ctx, def.ID, nil) {
			if err != nil {
				return fmt.Errorf("listing the instances of %q: %w", def.DisplayName, err)
			}
			if r.q.Instance != "" && !strings.EqualFold(inst.ID, r.q.Instance) {
				continue
			}
			instanceFound = true
			r.st.Instances++
			found, err := r.readInstance(ctx, def, name, inst, opts)
			if err != nil {
				return err
			}
			stageFound = stageFound || found
		}
	}
	if r.q.Review != "" && !matched {
		return fmt.Errorf("%q is neither the name of a managed review nor a definition id: %w", r.q.Review, ErrNoSuchReview)
	}
	if r.q.Instance != "" && !instanceFound {
		return fmt.Errorf("no instance %q in the reviews read: %w", r.q.Instance, ErrNoSuchInstance)
	}
	if r.q.Stage > 0 && !stageFound {
		return fmt.Errorf("no instance of the reviews read has reached stage %d: %w", r.q.Stage, ErrNoSuchStage)
	}
	return nil
}

// readInstance reads the decisions of one instance (or of its stage
// q.Stage) into the batch, writing each full batch. found is false when the
// instance has not reached that stage.
func (r *decisionRun) readInstance(ctx context.Context, def *graph.Definition, name string, inst *graph.Instance, opts *graph.ListOptions) (found bool, err error) {
	res, err := r.e.instanceResource(ctx, inst)
	if err != nil {
		return true, err
	}
	// An instance of another resource has none of its items: not read.
	if res.id != "" && !r.resource.match(res.id, res.name) {
		return true, nil
	}
	items := r.src.ListDecisions(ctx, def.ID, inst.ID, opts)
	what := "instance " + inst.ID
	// Items appear when their instance (their stage) starts: that is the
	// time of an item nobody has reviewed yet, for the cursor.
	appeared := parseTime(inst.StartDateTime)
	if r.q.Stage > 0 {
		stages, err := readStages(ctx, r.src, def, inst.ID)
		if err != nil {
			return false, err
		}
		if len(stages) < r.q.Stage {
			return false, nil
		}
		st := stages[r.q.Stage-1]
		items = r.src.ListStageDecisions(ctx, def.ID, inst.ID, st.ID, opts)
		what = fmt.Sprintf("stage %d of instance %s", r.q.Stage, inst.ID)
		appeared = parseTime(st.StartDateTime)
	}
	for d, err := range items {
		if err != nil {
			return true, fmt.Errorf("listing the decisions of %s of %q: %w", what, def.DisplayName, err)
		}
		r.st.Decisions++
		if r.cur != nil {
			r.cur.observe(parseTime(d.ReviewedDateTime), parseTime(d.AppliedDateTime))
		}
		if !r.keepPerson(d) {
			continue
		}
		row := decisionRow(def, name, inst, res, d)
		row.Stage = r.q.Stage
		if row.Resource == "" && row.ResourceID != "" && row.ResourceType != "" {
			if row.Resource, err = r.e.names.resolve(ctx, row.ResourceType, row.ResourceID); err != nil {
				return true, fmt.Errorf("looking up resource %s: %w", row.ResourceID, err)
			}
		}
		if !r.resource.match(row.ResourceID, row.Resource) {
			continue
		}
		if r.cur != nil && !r.cur.keep(inst.ID+"/"+d.ID, rowVersion(&row), rowTime(&row, appeared)) {
			continue
		}
		// With a started cursor the cursor decides; Since only starts one.
		if !r.q.Since.IsZero() && !r.cur.started() && !after(row.ReviewedDateTime, r.q.Since) && !after(row.AppliedDateTime, r.q.Since) {
			continue
		}
		r.batch = append(r.batch, row)
		if len(r.batch) == batchSize {
			if err := r.flush(ctx); err != nil {
				return true, err
			}
		}
	}
	return true, nil
}

// keepPerson applies the reviewer and principal filters to an item.
func (r *decisionRun) keepPerson(d *graph.Decision) bool {
	if r.reviewer != nil {
		rb := d.ReviewedBy
		if rb == nil || isZeroID(rb.ID) || !r.reviewer.match(rb.ID, rb.DisplayName, rb.UserPrincipalName) {
			return false
		}
	}
	if r.principal != nil {
		p := d.Principal
		if p == nil || !r.principal.match(p.ID, p.DisplayName, p.UserPrincipalName) {
			return false
		}
	}
	return true
}

// rowVersion is what changes when an item is reviewed again or applied.
func rowVersion(row *DecisionRow) string {
	return row.ReviewedDateTime + "|" + row.AppliedDateTime + "|" + row.Decision + "|" + row.ApplyResult
}

// rowTime is an item's time for the cursor: the latest of when it was
// reviewed, applied, and appeared.
func rowTime(row *DecisionRow, appeared time.Time) time.Time {
	t := appeared
	for _, ts := range []string{row.ReviewedDateTime, row.AppliedDateTime} {
		if v := parseTime(ts); v.After(t) {
			t = v
		}
	}
	return t
}

func parseTime(ts string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, ts)
	return t
}

// after reports whether an RFC 3339 time is after t; "" never is.
func after(ts string, t time.Time) bool {
	if ts == "" {
		return false
	}
	v, err := time.Parse(time.RFC3339Nano, ts)
	return err == nil && v.After(t)
}

// instanceRes is the resource an instance's scope names.
type instanceRes struct {
	kind, id, name string
}

func decisionRow(def *graph.Definition, name string, inst *graph.Instance, res instanceRes, d *graph.Decision) DecisionRow {
	row := DecisionRow{
		Review:            name,
		ReviewID:          def.ID,
		ReviewDisplayName: def.DisplayName,
		InstanceID:        inst.ID,
		InstanceStatus:    inst.Status,
		ResourceID:        res.id,
		ResourceType:      res.kind,
		Resource:          res.name,
		DecisionID:        d.ID,
		Decision:          d.Decision,
		Recommendation:    d.Recommendation,
		Justification:     d.Justification,
		ReviewedDateTime:  utc(d.ReviewedDateTime),
		AppliedDateTime:   utc(d.AppliedDateTime),
		ApplyResult:       d.ApplyResult,
	}
	if r := d.Resource; r != nil && r.ID != "" {
		row.ResourceID, row.Resource = r.ID, r.DisplayName
		if r.Type != "" {
			row.ResourceType = r.Type
		}
	}
	if p := d.Principal; p != nil {
		row.PrincipalID, row.Principal, row.PrincipalUPN = p.ID, p.DisplayName, p.UserPrincipalName
		switch strings.TrimPrefix(p.ODataType, "#microsoft.graph.") {
		case "servicePrincipalIdentity":
			row.PrincipalType = "ServicePrincipal"
		case "userIdentity", "":
			if p.UserPrincipalName == "" && p.AppID != "" {
				row.PrincipalType = "ServicePrincipal"
			}
		default:
			row.PrincipalType = "Group"
		}
	}
	if r := d.ReviewedBy; r != nil && !isZeroID(r.ID) {
		row.Reviewer, row.ReviewerUPN = r.DisplayName, r.UserPrincipalName
	}
	if r := d.AppliedBy; r != nil && !isZeroID(r.ID) {
		row.AppliedBy = firstNonEmpty(r.UserPrincipalName, r.DisplayName)
	}
	return row
}

// utc normalises a Graph timestamp to RFC 3339 in UTC (Graph sends up to 7
// fractional digits); unparseable values are kept as sent.
func utc(ts string) string {
	if ts == "" {
		return ""
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return ts
	}
	return t.UTC().Format(time.RFC3339)
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// enricher fills in what decision items do not carry: the name of the
// reviewed resource and whether a user principal is a guest.
type enricher struct {
	src       Source
	names     *names
	userTypes map[string]string // user id -> userType ("" when not found)
}

func (e *enricher) instanceResource(ctx context.Context, inst *graph.Instance) (instanceRes, error) {
	kind, id, ok := scopeResource(inst.Scope)
	if !ok {
		return instanceRes{}, nil
	}
	name, err := e.names.resolve(ctx, kind, id)
	if err != nil {
		return instanceRes{}, fmt.Errorf("looking up the resource of instance %s: %w", inst.ID, err)
	}
	return instanceRes{kind: kind, id: id, name: name}, nil
}

// principalTypes sets PrincipalType on the user rows of a batch, looking up
// the users not seen yet (one batched request per page). A user who no
// longer exists (an applied disable-and-delete) is taken for a guest when
// the userPrincipalName is a B2B one (#EXT#).
func (e *enricher) principalTypes(ctx context.Context, rows []DecisionRow) error {
	if len(e.userTypes) > maxCachedUsers {
		clear(e.userTypes)
	}
	var missing []string
	for _, r := range rows {
		if r.PrincipalType != "" || r.PrincipalID == "" {
			continue
		}
		if _, ok := e.userTypes[r.PrincipalID]; !ok && !slices.Contains(missing, r.PrincipalID) {
			missing = append(missing, r.PrincipalID)
		}
	}
	if len(missing) > 0 {
		found, err := e.src.LookupUsers(ctx, missing)
		if err != nil && !graph.IsForbidden(err) {
			return fmt.Errorf("looking up the reviewed users: %w", err)
		}
		// Without User.Read.All (403) the type is left to the UPN below.
		for _, id := range missing {
			t := ""
			if us := found[id]; len(us) == 1 {
				t = us[0].UserType
			}
			e.userTypes[id] = t
		}
	}
	for i := range rows {
		r := &rows[i]
		if r.PrincipalType != "" || r.PrincipalID == "" {
			continue
		}
		switch t := e.userTypes[r.PrincipalID]; {
		case t != "":
			r.PrincipalType = t
		case strings.Contains(strings.ToUpper(r.PrincipalUPN), "#EXT#"):
			r.PrincipalType = "Guest"
		case r.PrincipalUPN != "":
			r.PrincipalType = "Member"
		}
	}
	return nil
}
