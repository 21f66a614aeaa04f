package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Multi-stage reviews (docs/graph-behaviour.md#stages). An instance of a
// definition with stageSettings runs its stages one after another. Stage k
// is scheduled to end the summed durationInDays of stages 1..k after the
// instance started (the last stage ends with the instance). Each stage has
// its own reviewers, recommendations and decision items: stage 1 reviews
// every principal in scope; when a stage ends, the items whose decision is
// in its decisionsThatWillMoveToNextStage (all of them when that is empty)
// get an item in the next stage, and the others are final. The instance's
// decision items show, per principal, the last decision recorded in any
// stage, as the service documents for stop; the default decision and
// apply work on those.
//
// A stage's item has the id of the instance's item for the same access, so
// an id read from either list can be used with both.
//
// Stages are created as they start, so .../stages lists the stages so far.
// POST .../stages/{id}/stop ends a stage now and starts the next one (the
// last stage's stop completes the instance); stopping the instance ends its
// running stage with it.

// stage is an accessReviewStage; it is persisted inside its instance.
type stage struct {
	ID        string          `json:"id"`
	StageID   string          `json:"stageId"` // the stageSettings entry it runs
	Start     time.Time       `json:"startDateTime"`
	End       time.Time       `json:"endDateTime"`
	Status    string          `json:"status"`
	Reviewers []*object       `json:"reviewers"`
	Fallback  []*object       `json:"fallbackReviewers"`
	Decisions []*decisionItem `json:"decisions"`

	byID map[string]*decisionItem
}

func (st *stage) decision(id string) *decisionItem {
	if st.byID == nil {
		st.byID = make(map[string]*decisionItem, len(st.Decisions))
		for _, d := range st.Decisions {
			st.byID[d.ID] = d
		}
	}
	return st.byID[strings.ToLower(id)]
}

func (st *stage) render() *object {
	return newObject().
		set("id", st.ID).
		set("startDateTime", timestamp(st.Start)).
		set("endDateTime", timestamp(st.End)).
		set("status", st.Status).
		set("reviewers", objectList(st.Reviewers)).
		set("fallbackReviewers", objectList(st.Fallback))
}

func (in *instance) multiStage() bool { return len(in.StagePlan) > 0 }

// current is the running stage, nil when none runs.
func (in *instance) current() *stage {
	if n := len(in.Stages); n > 0 && in.Stages[n-1].Status == statusInProgress {
		return in.Stages[n-1]
	}
	return nil
}

func (in *instance) findStage(id string) *stage {
	for _, st := range in.Stages {
		if strings.EqualFold(st.ID, id) {
			return st
		}
	}
	return nil
}

// nextEnd is when the instance's next scheduled change happens: the end of
// its running stage when another stage follows, else its own end.
func (in *instance) nextEnd() time.Time {
	if st := in.current(); st != nil && len(in.Stages) < len(in.StagePlan) && st.End.Before(in.End) {
		return st.End
	}
	return in.End
}

// stageEnd is when stage k (0-based) is scheduled to end: the durations of
// stages 1..k+1 after the instance's start, never after the instance's end.
func (in *instance) stageEnd(k int) time.Time {
	if k >= len(in.StagePlan)-1 {
		return in.End
	}
	days := 0
	for _, p := range in.StagePlan[:k+1] {
		days += intOf(p.vals["durationInDays"])
	}
	end := in.Start.AddDate(0, 0, days)
	if end.After(in.End) {
		return in.End
	}
	return end
}

func resRefID(r *resourceRef) string {
	if r == nil {
		return ""
	}
	return r.ID
}

// itemKey names what an item reviews: a principal's access to a resource.
func itemKey(d *decisionItem) string { return d.Principal.ID + "|" + resRefID(d.Resource) }

// writable are the items reviewers decide now: the instance's, or for a
// multi-stage review the running stage's.
func (in *instance) writable() []*decisionItem {
	if !in.multiStage() {
		return in.Decisions
	}
	if st := in.current(); st != nil {
		return st.Decisions
	}
	return nil
}

// target is the item a decision on the instance's item d is recorded on:
// d itself, or the running stage's item for the same access (nil when d
// did not move on to that stage).
func (in *instance) target(d *decisionItem) *decisionItem {
	if !in.multiStage() {
		return d
	}
	st := in.current()
	if st == nil {
		return nil
	}
	k := itemKey(d)
	for _, x := range st.Decisions {
		if itemKey(x) == k {
			return x
		}
	}
	return nil
}

// startStages makes stage 1 of a new multi-stage instance from the items
// makeDecisions made (with stage 1's reviewers and recommendations): the
// stage gets its own items, and the instance's mirror them.
func (in *instance) startStages(plan []*object, settings *object) {
	in.StagePlan = plan
	in.RecSettings = newObject()
	if settings != nil {
		for _, k := range []string{"recommendationsEnabled", "recommendationLookBackDuration", "recommendationInsightSettings"} {
			if v, ok := settings.vals[k]; ok {
				in.RecSettings.set(k, deepCopy(v))
			}
		}
	}
	first := plan[0]
	st := in.newStage(first, in.Start, 0)
	for _, d := range in.Decisions {
		c := *d
		st.Decisions = append(st.Decisions, &c)
	}
	in.Stages = []*stage{st}
}

func (in *instance) newStage(plan *object, start time.Time, k int) *stage {
	return &stage{
		ID:        nameGUID("stage:" + in.ID + ":" + plan.str("stageId")),
		StageID:   plan.str("stageId"),
		Start:     start,
		End:       in.stageEnd(k),
		Status:    statusInProgress,
		Reviewers: copyObjects(plan.vals["reviewers"]),
		Fallback:  copyObjects(plan.vals["fallbackReviewers"]),
		Decisions: make([]*decisionItem, 0, len(in.Decisions)),
	}
}

// movesOn reports which items of a stage go on to the next one: those
// whose decision is listed in decisionsThatWillMoveToNextStage, or all
// when the list is empty: the service returns every collection, [] when
// nothing was sent, so an empty list is the one that was not sent.
// "Recommendation" selects no item: no decision has that value, and the
// documentation does not say what it selects.
func movesOn(plan *object) func(*decisionItem) bool {
	list, _ := plan.vals["decisionsThatWillMoveToNextStage"].([]any)
	if len(list) == 0 {
		return func(*decisionItem) bool { return true }
	}
	set := map[string]bool{}
	for _, v := range list {
		if s, ok := v.(string); ok {
			set[s] = true
		}
	}
	return func(d *decisionItem) bool { return set[d.Decision] }
}

// advanceStage ends the running stage at the given time and starts the
// next: the items that move on get an item there, with the new stage's
// reviewers (contacted now) and recommendations. by is the caller of stop
// (nil at the scheduled end).
func (s *Server) advanceStage(r *defRecord, in *instance, at time.Time, by *identRef) []LifecycleEvent {
	cur := in.current()
	k := len(in.Stages) // the next stage's index
	if cur == nil || k >= len(in.StagePlan) {
		return s.complete(r, in, at, by)
	}
	cur.Status = statusCompleted
	if at.Before(cur.End) {
		cur.End = at
	}
	plan := in.StagePlan[k]
	st := in.newStage(plan, at, k)
	rec := recommendationPolicyFor(in.RecSettings, plan)
	moves := movesOn(in.StagePlan[k-1])
	contacted := map[string]bool{}
	for _, c := range in.Contacted {
		contacted[c.ID] = true
	}
	before := len(in.Contacted)
	shared := map[string][]string{}
	for _, d := range cur.Decisions {
		if !moves(d) {
			continue
		}
		nd := &decisionItem{
			ID:             d.ID,
			Principal:      d.Principal,
			Resource:       d.Resource,
			Decision:       decisionNotReviewed,
			Recommendation: recommendNoInfo,
			ApplyResult:    applyNew,
			Reviewers:      []string{},
		}
		// A principal deleted since the review started has nobody to
		// review it; its item moves on all the same.
		if p := s.dir.byID[d.Principal.ID]; p != nil {
			ids := in.contact(s.reviewersOf(st.Reviewers, st.Fallback, p, s.resourceFor(d)), contacted)
			key := strings.Join(ids, ",")
			if prev, ok := shared[key]; ok {
				ids = prev
			} else {
				shared[key] = ids
			}
			nd.Reviewers = ids
			nd.Recommendation = rec.recommend(p, in.Start)
		}
		st.Decisions = append(st.Decisions, nd)
	}
	in.Stages = append(in.Stages, st)
	in.sync()
	detail := fmt.Sprintf("stage %d of %d: %d of %d item(s) moved on from stage %d, %d more reviewer(s) contacted",
		k+1, len(in.StagePlan), len(st.Decisions), len(cur.Decisions), k, len(in.Contacted)-before)
	if by != nil {
		detail += fmt.Sprintf("; stage %d stopped by %s", k, by.DisplayName)
	}
	return []LifecycleEvent{s.event(r, in, at, EventStageStarted, detail)}
}

// stageSource is where an instance's item takes its values from: the
// item's last stage, and the last stage that recorded a decision on it.
type stageSource struct {
	latest, decided *decisionItem
}

// sources maps each reviewed access (itemKey) to its stage items; nil for
// a single-stage instance.
func (in *instance) sources() map[string]*stageSource {
	if !in.multiStage() {
		return nil
	}
	m := make(map[string]*stageSource, len(in.Decisions))
	for _, st := range in.Stages {
		for _, d := range st.Decisions {
			k := itemKey(d)
			src := m[k]
			if src == nil {
				src = &stageSource{}
				m[k] = src
			}
			src.latest = d
			if d.Decision != decisionNotReviewed {
				src.decided = d
			}
		}
	}
	return m
}

// sync makes the instance's items show the last decision recorded across
// its stages, and the recommendation and reviewers of the item's last
// stage (docs/graph-behaviour.md#stages).
func (in *instance) sync() {
	if !in.multiStage() {
		return
	}
	sources := in.sources()
	for _, d := range in.Decisions {
		src := sources[itemKey(d)]
		if src == nil {
			continue
		}
		d.Recommendation, d.Reviewers = src.latest.Recommendation, src.latest.Reviewers
		if from := src.decided; from != nil {
			d.Decision, d.Justification, d.ReviewedBy, d.ReviewedAt = from.Decision, from.Justification, from.ReviewedBy, from.ReviewedAt
		} else {
			d.Decision, d.Justification, d.ReviewedBy, d.ReviewedAt = decisionNotReviewed, "", nil, time.Time{}
		}
	}
}

// pushApplied shows the applied instance items' results on the stage
// items their decisions came from.
func (in *instance) pushApplied() {
	if !in.multiStage() {
		return
	}
	sources := in.sources()
	for _, d := range in.Decisions {
		src := sources[itemKey(d)]
		if src == nil {
			continue
		}
		from := src.latest
		if src.decided != nil {
			from = src.decided
		}
		from.ApplyResult, from.AppliedBy, from.AppliedAt = d.ApplyResult, d.AppliedBy, d.AppliedAt
	}
}

// checkStages checks the stages read from a state file.
func (in *instance) checkStages() error {
	if len(in.Stages) > 0 && len(in.Stages) > len(in.StagePlan) {
		return fmt.Errorf("%d stages for %d stage settings", len(in.Stages), len(in.StagePlan))
	}
	for i, st := range in.Stages {
		if st == nil || st.ID == "" || st.Status == "" {
			return fmt.Errorf("stages[%d] has no id or status", i)
		}
		for j, d := range st.Decisions {
			if d == nil || d.ID == "" || d.Principal.ID == "" {
				return fmt.Errorf("stages[%d].decisions[%d] has no id or principal", i, j)
			}
		}
	}
	return nil
}

// settle works out the status the lifecycle gives the definition (see
// defRecord.status): InProgress while an instance runs; once the schedule
// has no period left, Applied when every instance of the last period was
// applied, else Completed; "" otherwise (the schedule's dates decide).
func (s *Server) settle(r *defRecord, l *defLife) {
	st := ""
	if l.sched != nil && len(l.instances) > 0 {
		last := l.instances[len(l.instances)-1].PeriodStart
		running, applied := false, true
		for _, in := range l.instances {
			if in.Status == statusInProgress {
				running = true
			}
			if in.PeriodStart.Equal(last) && in.Status != statusApplied {
				applied = false
			}
		}
		_, more := s.nextPeriod(r, l)
		switch {
		case running:
			st = statusInProgress
		case more:
		case applied:
			st = statusApplied
		default:
			st = statusCompleted
		}
	}
	if st != r.lifeStatus {
		r.lifeStatus = st
		r.replaced()
	}
}

// status is the definition's status: NotStarted before its start date;
// then what the lifecycle says (settle); else, from the dates, Completed
// after an end date and InProgress before (docs/graph-behaviour.md#status-values).
func (r *defRecord) status(now time.Time) string {
	st := definitionStatus(r.Object, now)
	if r.lifeStatus != "" && st != "NotStarted" {
		return r.lifeStatus
	}
	return st
}

// HTTP handlers for .../instances/{id}/stages/...

func stageNotFound(id string) *graphError {
	return errorf(http.StatusNotFound, codeNotFound, "The access review stage '%s' was not found.", id)
}

var stageCollection = &collection{
	entityType: "microsoft.graph.accessReviewStage",
	props:      []string{"id", "startDateTime", "endDateTime", "status", "reviewers", "fallbackReviewers"},
	orderable:  []string{"status"},
	checkLeaf: func(n filterNode, _ map[string]bool) *graphError {
		if t, ok := n.(fCmp); ok && len(t.path) == 1 && strings.EqualFold(t.path[0], "status") && t.op == "eq" {
			if _, isStr := t.lit.(string); isStr {
				return nil
			}
		}
		return badRequest("Invalid filter clause: access review stages can be filtered only with status eq '...'.")
	},
}

func needStageStatus(st *stage, want, what string) *graphError {
	if st.Status != want {
		return conflict("%s needs the access review stage to be %s; stage %s is %s.", what, want, st.ID, st.Status)
	}
	return nil
}

// routeStages serves .../instances/{id}/stages/...; ctx is the stages'
// @odata.context and rest the segments after "stages". A single-stage
// instance has no stages.
func (s *Server) routeStages(rc *reqCtx, req *request, r *defRecord, in *instance, ctx string, rest []string) *response {
	if resp, ok := routeList(rc, req, rest, ctx, "accessReviewStage", func(ctx string, current bool) *response {
		return s.listStages(rc, req, in, ctx, current)
	}); ok {
		return resp
	}
	st := in.findStage(rest[0])
	if st == nil {
		return rc.fail(stageNotFound(rest[0]))
	}
	if len(rest) == 1 {
		switch req.method {
		case http.MethodGet, http.MethodHead:
			return s.getStage(rc, req, st, ctx)
		case http.MethodPatch:
			return s.updateStage(rc, req, r, in, st, ctx)
		}
		return methodNotAllowed(rc, req, "GET, PATCH")
	}
	switch action := strings.ToLower(rest[1]); action {
	case "stop", "batchrecorddecisions", "acceptrecommendations":
		if len(rest) > 2 {
			return rc.fail(segmentNotFound(rest[2]))
		}
		if req.method != http.MethodPost {
			return methodNotAllowed(rc, req, "POST")
		}
		return s.stageAction(rc, req, r, in, st, action)
	case "decisions":
		return s.routeDecisions(rc, req, r, in, st, rest, ctx+"('"+st.ID+"')/decisions")
	}
	return rc.fail(segmentNotFound(rest[1]))
}

func (s *Server) listStages(rc *reqCtx, req *request, in *instance, ctx string, currentUser bool) *response {
	q, gerr := parseListQuery(req, stageCollection)
	if gerr != nil {
		return rc.fail(gerr)
	}
	objs := make([]*object, 0, len(in.Stages))
	for _, st := range in.Stages {
		if currentUser && !slices.ContainsFunc(st.Decisions, func(d *decisionItem) bool { return d.reviewable(rc.ident.ID) }) {
			continue
		}
		objs = append(objs, st.render())
	}
	items, total, link := s.page(rc, req, q, objs, q.marshalSelected)
	return jsonResponse(http.StatusOK, collectionBody(selectContext(ctx, q.sel), total, q.count, link, items))
}

func (s *Server) getStage(rc *reqCtx, req *request, st *stage, ctx string) *response {
	q, gerr := parseListQuery(req, stageCollection)
	if gerr != nil {
		return rc.fail(gerr)
	}
	if q.filter != nil || q.top >= 0 || q.offset > 0 || len(q.order) > 0 || q.count {
		return rc.fail(badRequest("Only $select applies to a single access review stage."))
	}
	o := st.render()
	if len(q.sel) > 0 {
		o = selectProps(o, q.sel)
	}
	return jsonResponse(http.StatusOK, withLeadingProp("@odata.context", selectContext(ctx, q.sel)+"/$entity", marshal(o)))
}

// updateStage is PATCH .../stages/{id}: only reviewers and
// fallbackReviewers change, only while the stage runs, and fallback
// reviewers can only be added (409 otherwise). The stage's items not yet
// reviewed get the new reviewers; the instance and later stages keep theirs.
func (s *Server) updateStage(rc *reqCtx, req *request, r *defRecord, in *instance, st *stage, ctx string) *response {
	if gerr := requireWrite(rc); gerr != nil {
		return rc.fail(gerr)
	}
	body, gerr := decodeBody(req.body)
	if gerr != nil {
		return rc.fail(gerr)
	}
	for _, k := range body.keys {
		switch k {
		case "id", "reviewers", "fallbackReviewers", "startDateTime", "endDateTime", "status":
		default:
			if !strings.HasPrefix(k, "@odata.") {
				return rc.fail(badRequest("The property '%s' does not exist on type 'microsoft.graph.accessReviewStage'.", k))
			}
		}
	}
	revs, fbs := st.Reviewers, st.Fallback
	n := s.normalizer(rc.version)
	if _, ok := body.vals["reviewers"]; ok {
		list, gerr := n.reviewerList(body, "reviewers", "")
		if gerr != nil {
			return rc.fail(gerr)
		}
		revs = objectsOf(list)
	}
	if _, ok := body.vals["fallbackReviewers"]; ok {
		list, gerr := n.reviewerList(body, "fallbackReviewers", "")
		if gerr != nil {
			return rc.fail(gerr)
		}
		fbs = objectsOf(list)
	}
	if gerr := needStageStatus(st, statusInProgress, "Updating a stage"); gerr != nil {
		return rc.fail(gerr)
	}
	if gerr := onlyAdded(st.Fallback, fbs); gerr != nil {
		return rc.fail(gerr)
	}
	st.Reviewers, st.Fallback = revs, fbs
	s.reassign(in, st.Decisions, revs, fbs)
	in.sync()
	return s.saved(rc, r, http.StatusOK, withLeadingProp("@odata.context", ctx+"/$entity", marshal(st.render())))
}

func (s *Server) stageAction(rc *reqCtx, req *request, r *defRecord, in *instance, st *stage, action string) *response {
	if gerr := requireWrite(rc); gerr != nil {
		return rc.fail(gerr)
	}
	me := caller(rc)
	switch action {
	case "stop":
		if gerr := needStageStatus(st, statusInProgress, "stop"); gerr != nil {
			return rc.fail(gerr)
		}
		s.advanceStage(r, in, rc.now, &me)
	case "acceptrecommendations":
		if !delegated(rc) {
			return rc.fail(errorf(http.StatusForbidden, codeForbidden, "acceptRecommendations needs a signed-in reviewer; application permissions are not supported."))
		}
		if gerr := needStageStatus(st, statusInProgress, "acceptRecommendations"); gerr != nil {
			return rc.fail(gerr)
		}
		acceptRecommendations(st.Decisions, me, rc.now)
		in.sync()
	case "batchrecorddecisions":
		return s.batchRecord(rc, req, r, in, st.Decisions, func() *graphError {
			return needStageStatus(st, statusInProgress, "batchRecordDecisions")
		}, me)
	}
	return s.saved(rc, r, http.StatusNoContent, nil)
}
