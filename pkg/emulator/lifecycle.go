package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The review lifecycle: what the access-review service does on its own as
// time passes. A definition's schedule (settings.recurrence, the instance
// duration or the stages' durations) gives periods; when a period starts,
// instances are created (one per enumerated group, or one), each with one
// decision item per principal in scope; when an instance ends it is
// completed, the default decision is taken where enabled, and with
// auto-apply the decisions are applied to the directory. See the package
// documentation ("Review lifecycle") for the rules.
//
// Everything here runs under s.mu. Changes to the directory also hold
// s.dirMu for writing, so that directory reads, which hold only s.dirMu for
// reading, never see a half-made change.

// Instance statuses the emulator uses (docs/graph-behaviour.md#status-values).
const (
	statusInProgress = "InProgress"
	statusCompleted  = "Completed"
	statusApplied    = "Applied"
)

// Decision values and apply results (docs/graph-behaviour.md#instances-and-decisions).
const (
	decisionApprove     = "Approve"
	decisionDeny        = "Deny"
	decisionNotReviewed = "NotReviewed"
	decisionDontKnow    = "DontKnow"

	recommendNoInfo = "NoInfoAvailable"

	applyNew          = "New"
	applyOK           = "AppliedSuccessfully"
	applyNotFound     = "AppliedSuccessfullyButObjectNotFound"
	applyNotSupported = "ApplyNotSupported"
)

const zeroGUID = "00000000-0000-0000-0000-000000000000"

// maxInstancesPerDefinition bounds the history one definition can build up,
// so that advancing a weekly review by centuries cannot exhaust memory.
const maxInstancesPerDefinition = 10000

// deleteAfter is how long a user denied by disableAndDeleteUserApplyAction
// stays disabled before being deleted, as Entra documents for that action.
const deleteAfter = 30 * 24 * time.Hour

// systemIdentity records default decisions and auto-apply.
var systemIdentity = identRef{ID: nameGUID("system:access-reviews"), Kind: kindSP, DisplayName: "AAD Access Reviews"}

// lifeState is the lifecycle's part of the state file.
type lifeState struct {
	// ClockOffset is how far Advance and SetNow have moved the clock ahead
	// of Options.Clock, as a Go duration ("720h0m0s").
	ClockOffset string `json:"clockOffset,omitempty"`
	// Periods records, per definition id, the recurrence periods already
	// started, including those that produced no instance.
	Periods map[string]*periodState `json:"periods,omitempty"`
	// Directory lists the changes applied decisions made to the directory,
	// in order; they are replayed onto the tenant at start.
	Directory []dirChange `json:"directoryChanges,omitempty"`
	// PendingDeletions are users disabled by disableAndDeleteUserApplyAction
	// and due to be deleted.
	PendingDeletions []pendingDeletion `json:"pendingDeletions,omitempty"`
}

type periodState struct {
	Created   time.Time `json:"definitionCreated"` // tells a re-used id from the same definition
	Count     int       `json:"count"`
	LastStart time.Time `json:"lastStart"`
}

type pendingDeletion struct {
	User string    `json:"user"`
	Due  time.Time `json:"due"`
}

// identRef is a principal, reviewer or actor as decisions record it. The
// strings are copied when the decision is made, so a deleted user still
// shows who they were.
type identRef struct {
	ID          string `json:"id"`
	Kind        string `json:"kind,omitempty"` // user, group or servicePrincipal
	DisplayName string `json:"displayName,omitempty"`
	UPN         string `json:"userPrincipalName,omitempty"`
	AppID       string `json:"appId,omitempty"`
}

func refOf(o *dirObject) identRef {
	r := identRef{ID: o.id, Kind: o.kind, DisplayName: o.name}
	switch o.kind {
	case kindUser:
		r.UPN = o.user.UserPrincipalName
	case kindSP:
		r.AppID = o.full.str("appId")
	}
	return r
}

// resourceRef is what a decision reviews access to.
type resourceRef struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Type        string `json:"type"` // Group, ServicePrincipal or DirectoryRole
	AppID       string `json:"appId,omitempty"`
}

// instSettings are the definition settings an instance keeps from its
// start: a change to the definition affects only future instances.
type instSettings struct {
	JustificationRequired  bool   `json:"justificationRequiredOnApproval,omitempty"`
	DefaultDecisionEnabled bool   `json:"defaultDecisionEnabled,omitempty"`
	DefaultDecision        string `json:"defaultDecision,omitempty"`
	AutoApply              bool   `json:"autoApplyDecisionsEnabled,omitempty"`
	RemoveAccess           bool   `json:"removeAccess,omitempty"`
	DisableAndDelete       bool   `json:"disableAndDeleteUser,omitempty"`
}

// instance is an accessReviewInstance with its decisions; it is also the
// form persisted in the state file (defRecord.Instances).
type instance struct {
	ID          string          `json:"id"`
	PeriodStart time.Time       `json:"periodStart"`
	Start       time.Time       `json:"startDateTime"`
	End         time.Time       `json:"endDateTime"`
	Status      string          `json:"status"`
	Scope       *object         `json:"scope"`
	Reviewers   []*object       `json:"reviewers"`
	Fallback    []*object       `json:"fallbackReviewers"`
	Resource    *resourceRef    `json:"resource,omitempty"`
	Settings    instSettings    `json:"settings"`
	Contacted   []identRef      `json:"contactedReviewers"`
	Decisions   []*decisionItem `json:"decisions"`
	// Unsupported says why the emulator could not evaluate the scope (the
	// instance then has no decisions); beta shows it in "errors".
	Unsupported string `json:"unsupported,omitempty"`
	Reminders   int    `json:"remindersSent,omitempty"`
	// Multi-stage reviews (stages.go): the stage settings kept from the
	// start, the recommendation settings the later stages need, and the
	// stages started so far. The instance's Decisions then mirror the
	// stages' items.
	StagePlan   []*object `json:"stageSettings,omitempty"`
	RecSettings *object   `json:"recommendationSettings,omitempty"`
	Stages      []*stage  `json:"stages,omitempty"`

	byID map[string]*decisionItem
}

func (in *instance) decision(id string) *decisionItem {
	if in.byID == nil {
		in.byID = make(map[string]*decisionItem, len(in.Decisions))
		for _, d := range in.Decisions {
			in.byID[d.ID] = d
		}
	}
	return in.byID[strings.ToLower(id)]
}

// decisionItem is an accessReviewInstanceDecisionItem.
type decisionItem struct {
	ID             string       `json:"id"`
	Principal      identRef     `json:"principal"`
	Resource       *resourceRef `json:"resource,omitempty"`
	Decision       string       `json:"decision"`
	Justification  string       `json:"justification,omitempty"`
	Recommendation string       `json:"recommendation"`
	ApplyResult    string       `json:"applyResult"`
	ReviewedBy     *identRef    `json:"reviewedBy,omitempty"`
	ReviewedAt     time.Time    `json:"reviewedDateTime,omitzero"`
	AppliedBy      *identRef    `json:"appliedBy,omitempty"`
	AppliedAt      time.Time    `json:"appliedDateTime,omitzero"`
	// Reviewers are the ids of the users who may decide this item.
	Reviewers []string `json:"reviewers"`
}

func (d *decisionItem) reviewable(user string) bool {
	for _, r := range d.Reviewers {
		if r == user {
			return true
		}
	}
	return false
}

// defLife is a definition's lifecycle in memory.
type defLife struct {
	instances []*instance
	// The schedule, read from obj; re-read when the definition changes.
	obj      *object
	sched    *schedule
	due      time.Time // next event (period start or instance end); zero: none
	dueValid bool
}

func (l *defLife) invalidate() { l.dueValid = false }

func (l *defLife) find(id string) *instance {
	for _, in := range l.instances {
		if strings.EqualFold(in.ID, id) {
			return in
		}
	}
	return nil
}

// LifecycleEvent is something the review lifecycle did; Advance and SetNow
// return them in order.
type LifecycleEvent struct {
	Time         time.Time
	Kind         string // one of the Event* constants
	DefinitionID string
	Review       string // the definition's displayName
	InstanceID   string
	Resource     string // the reviewed group, application or role, if any
	Principal    string // for AccessRemoved, UserDisabled and UserDeleted
	Detail       string
}

// Lifecycle event kinds.
const (
	EventInstanceStarted   = "InstanceStarted"
	EventStageStarted      = "StageStarted" // a multi-stage review's next stage
	EventInstanceCompleted = "InstanceCompleted"
	EventDecisionsApplied  = "DecisionsApplied"
	EventAccessRemoved     = "AccessRemoved"
	EventUserDisabled      = "UserDisabled"
	EventUserDeleted       = "UserDeleted"
	// EventPeriodSkipped: a period began but made no instance (no group
	// with anyone to review, or an enumeration the emulator cannot read).
	EventPeriodSkipped = "PeriodSkipped"
)

func (e LifecycleEvent) String() string {
	var b strings.Builder
	b.WriteString(e.Time.UTC().Format(time.RFC3339))
	b.WriteString("  ")
	b.WriteString(e.Kind)
	if e.Review != "" {
		b.WriteString("  " + strconv.Quote(e.Review))
	}
	if e.Resource != "" {
		b.WriteString(" / " + e.Resource)
	}
	if e.Principal != "" {
		b.WriteString("  " + e.Principal)
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	return b.String()
}

// initLifecycle runs once in New: it puts the virtual clock in front of
// Options.Clock and replays the recorded directory changes onto the tenant;
// loadState has checked the state file's part and decoded the instances.
func (s *Server) initLifecycle() error {
	st := s.store
	if st.life == nil {
		st.life = &lifeState{}
	}
	ls := st.life
	if ls.Periods == nil {
		ls.Periods = map[string]*periodState{}
	}
	if ls.ClockOffset != "" {
		d, err := time.ParseDuration(ls.ClockOffset)
		if err != nil || d < 0 {
			return fmt.Errorf("emulator state %s: lifecycle.clockOffset %q is not a non-negative duration", s.opts.StateFile, ls.ClockOffset)
		}
		s.clockOff.Store(int64(d))
	}
	base := s.clock
	s.clock = func() time.Time { return base().Add(time.Duration(s.clockOff.Load())) }

	for _, c := range ls.Directory {
		s.dir.applyChange(c)
	}
	for _, r := range st.defs {
		if r.life == nil { // loadState decodes a stored definition's instances
			r.life = &defLife{}
		}
	}
	return nil
}

// lifeOf returns r's lifecycle, refreshing the schedule when the
// definition changed (a PUT replaces r.Object). Callers hold s.mu.
func (s *Server) lifeOf(r *defRecord) *defLife {
	if r.life == nil {
		r.life = &defLife{}
	}
	l := r.life
	if l.obj != r.Object {
		l.obj = r.Object
		l.sched = readSchedule(r.Object)
		l.invalidate()
		s.settle(r, l)
	}
	return l
}

// periods returns r's period bookkeeping, resetting it when the id now
// belongs to another definition.
func (s *Server) periods(r *defRecord) *periodState {
	ls := s.store.life
	ps := ls.Periods[r.ID]
	if ps == nil || !ps.Created.Equal(r.CreatedAt.UTC()) {
		ps = &periodState{Created: r.CreatedAt.UTC()}
		ls.Periods[r.ID] = ps
	}
	return ps
}

// dueOf returns when r's next event happens (zero: none).
func (s *Server) dueOf(r *defRecord) time.Time {
	l := s.lifeOf(r)
	if l.dueValid {
		return l.due
	}
	var due time.Time
	if p, ok := s.nextPeriod(r, l); ok {
		due = p.start
	}
	for _, in := range l.instances {
		if in.Status == statusInProgress && (due.IsZero() || in.nextEnd().Before(due)) {
			due = in.nextEnd()
		}
	}
	l.due, l.dueValid = due, true
	return due
}

// period is one recurrence period of a schedule.
type period struct {
	index      int
	scheduled  time.Time // the period's start by the schedule
	start, end time.Time // the instance window
}

func (s *Server) nextPeriod(r *defRecord, l *defLife) (period, bool) {
	if l.sched == nil || len(l.instances) >= maxInstancesPerDefinition {
		return period{}, false
	}
	ps := s.periods(r)
	return l.sched.next(ps.LastStart, r.CreatedAt)
}

// runLifecycle carries out, in time order, every event due at or before
// now, then saves the state if anything changed. Callers hold s.mu.
func (s *Server) runLifecycle(now time.Time) ([]LifecycleEvent, error) {
	var events []LifecycleEvent
	changed := map[*defRecord]bool{}
	deleted := false // a pending user deletion was carried out
	s.pruneLifecycle()
	for {
		// The earliest due event; ties go to deletions and instance ends
		// before starts, so a new period sees the previous one applied.
		var (
			bestT   time.Time
			bestDef *defRecord
			bestDel = -1
		)
		for i, p := range s.store.life.PendingDeletions {
			if !p.Due.After(now) && (bestDel < 0 || p.Due.Before(bestT)) {
				bestT, bestDel = p.Due, i
			}
		}
		if bestDel >= 0 {
			p := s.store.life.PendingDeletions[bestDel]
			s.store.life.PendingDeletions = append(s.store.life.PendingDeletions[:bestDel:bestDel], s.store.life.PendingDeletions[bestDel+1:]...)
			if ev, ok := s.changeDirectory(dirChange{Time: p.Due, Op: opDeleteUser, Object: p.User}); ok {
				events = append(events, ev)
			}
			deleted = true
			continue
		}
		for _, r := range s.store.defs {
			due := s.dueOf(r)
			if due.IsZero() || due.After(now) {
				continue
			}
			if bestDef == nil || due.Before(bestT) {
				bestT, bestDef = due, r
			}
		}
		if bestDef == nil {
			break
		}
		r := bestDef
		l := s.lifeOf(r)
		var ending *instance
		for _, in := range l.instances {
			if in.Status == statusInProgress && !in.nextEnd().After(bestT) {
				ending = in
				break
			}
		}
		if ending != nil && s.reviewersDecide {
			s.simulateReviewers(ending, ending.nextEnd())
		}
		switch {
		case ending != nil && ending.nextEnd().Before(ending.End):
			// A stage of a multi-stage review ends; the next one starts.
			events = append(events, s.advanceStage(r, ending, ending.nextEnd(), nil)...)
		case ending != nil:
			events = append(events, s.complete(r, ending, ending.End, nil)...)
		default:
			if p, ok := s.nextPeriod(r, l); ok {
				events = append(events, s.startPeriod(r, l, p)...)
			}
		}
		l.invalidate()
		s.settle(r, l)
		changed[r] = true
	}
	if s.reviewersDecide {
		// Reviewers of the instances still running decide what is due.
		for _, r := range s.store.defs {
			l := s.lifeOf(r)
			for _, in := range l.instances {
				if s.simulateReviewers(in, now) {
					l.invalidate()
					changed[r] = true
				}
			}
		}
	}
	if len(changed) == 0 && !deleted {
		return nil, nil
	}
	return events, s.saveLifecycle(changed)
}

// pruneLifecycle forgets the period bookkeeping of deleted definitions.
func (s *Server) pruneLifecycle() {
	ls := s.store.life
	if len(ls.Periods) <= len(s.store.defs) {
		return
	}
	for id := range ls.Periods {
		if s.store.byID[id] == nil {
			delete(ls.Periods, id)
		}
	}
}

// saveLifecycle re-encodes the instances of the changed definitions into
// their records and saves them with the lifecycle's part of the state, when
// there is a state file.
func (s *Server) saveLifecycle(changed map[*defRecord]bool) error {
	if s.opts.StateFile == "" {
		return nil
	}
	s.store.life.ClockOffset = time.Duration(s.clockOff.Load()).String()
	recs := make([]recordOut, 0, len(changed)+1)
	for r := range changed {
		if s.store.byID[r.ID] != r {
			continue
		}
		raw, err := encodeInstances(r.life.instances)
		if err != nil {
			return err
		}
		r.Instances, r.instDirty = raw, false
		recs = append(recs, recordOut{Op: recInstances, ID: r.ID, Instances: raw})
	}
	recs = append(recs, recordOut{Op: recLifecycle, Lifecycle: s.store.life})
	if gerr := s.persist(recs...); gerr != nil {
		return gerr
	}
	return nil
}

// saveDecisions saves decision items of one instance that a reviewer
// changed: a change costs those items, not the instance's others.
func (s *Server) saveDecisions(r *defRecord, in *instance, items []*decisionItem) error {
	if s.opts.StateFile == "" || len(items) == 0 {
		return nil
	}
	r.instDirty = true
	if gerr := s.persist(recordOut{Op: recDecisions, ID: r.ID, Instance: in.ID, Decisions: items}); gerr != nil {
		return gerr
	}
	return nil
}

// catchUp runs the lifecycle up to now before a request is answered, so
// every answer reflects the current time.
//
// Reads far outnumber writes, so after a run it remembers when the next
// event is due: until then, and until a write (see quietUntilChange), a
// request costs no lifecycle work however many definitions there are.
func (s *Server) catchUp(now time.Time) *graphError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lifeQuiet && now.Before(s.lifeNextDue) {
		return nil
	}
	if _, err := s.runLifecycle(now); err != nil {
		s.lifeQuiet = false
		var gerr *graphError
		if errors.As(err, &gerr) {
			return gerr
		}
		return errorf(http.StatusInternalServerError, codeGeneral, "The emulator could not save its state: %v", err)
	}
	s.lifeNextDue, s.lifeQuiet = s.nextDue(), true
	return nil
}

// nextDue is the earliest time at which the lifecycle has something to do
// (far future when nothing is scheduled). Callers hold s.mu.
func (s *Server) nextDue() time.Time {
	next := time.Unix(1<<62, 0)
	for _, p := range s.store.life.PendingDeletions {
		if p.Due.Before(next) {
			next = p.Due
		}
	}
	for _, r := range s.store.defs {
		if due := s.dueOf(r); !due.IsZero() && due.Before(next) {
			next = due
		}
	}
	return next
}

// changed forgets the remembered next due time after anything that may
// move it: a write request, a recorded decision, a clock change. Callers
// hold s.mu.
func (s *Server) changed() { s.lifeQuiet = false }

// startPeriod creates the instances of period p.
func (s *Server) startPeriod(r *defRecord, l *defLife, p period) []LifecycleEvent {
	ps := s.periods(r)
	ps.Count++
	ps.LastStart = p.scheduled
	o := r.Object
	settings, _ := o.vals["settings"].(*object)
	set := snapshotSettings(settings)
	scope, _ := o.vals["scope"].(*object)
	reviewers, fallback := reviewerScopes(o)
	display := o.str("displayName")

	var events []LifecycleEvent
	add := func(res *resolvedResource, pairs []scopePair, scopeObj *object, unsupported string) {
		in := &instance{
			ID:          nameGUID(fmt.Sprintf("instance:%s:%s:%s", r.ID, p.scheduled.Format(time.RFC3339), resID(res))),
			PeriodStart: p.scheduled,
			Start:       p.start,
			End:         p.end,
			Status:      statusInProgress,
			Scope:       scopeObj,
			Reviewers:   copyObjects(o.vals["reviewers"]),
			Fallback:    copyObjects(o.vals["fallbackReviewers"]),
			Settings:    set,
			Unsupported: unsupported,
		}
		if res != nil {
			ref := res.ref
			in.Resource = &ref
		}
		s.makeDecisions(in, pairs, reviewers, fallback, settings, o)
		detail := fmt.Sprintf("%d decision item(s), %d reviewer(s) contacted", len(in.Decisions), len(in.Contacted))
		if plan, _ := o.vals["stageSettings"].([]any); len(plan) > 0 {
			in.startStages(copyObjects(plan), settings)
			detail = fmt.Sprintf("stage 1 of %d: %s", len(in.StagePlan), detail)
		}
		l.instances = append(l.instances, in)
		ev := LifecycleEvent{Time: p.start, Kind: EventInstanceStarted, DefinitionID: r.ID, Review: display,
			InstanceID: in.ID, Detail: detail}
		if in.Resource != nil {
			ev.Resource = in.Resource.DisplayName
		}
		if unsupported != "" {
			ev.Detail += "; " + unsupported
		}
		events = append(events, ev)
	}

	if enum, _ := o.vals["instanceEnumerationScope"].(*object); enum != nil {
		groups, err := s.enumerateGroups(enum)
		if err != nil {
			return []LifecycleEvent{{Time: p.start, Kind: EventPeriodSkipped, DefinitionID: r.ID, Review: display,
				Detail: "instanceEnumerationScope: " + err.Error()}}
		}
		for _, g := range groups {
			res := groupResource(g)
			pairs, err := s.scopePairs(scope, res, p.start)
			if err != nil || len(pairs) == 0 {
				// Graph creates instances only for the groups that have
				// someone to review.
				continue
			}
			add(res, pairs, instanceScope(scope, g.id, r.Version), "")
		}
		if len(events) == 0 {
			events = append(events, LifecycleEvent{Time: p.start, Kind: EventPeriodSkipped, DefinitionID: r.ID, Review: display,
				Detail: fmt.Sprintf("none of the %d enumerated group(s) has anyone in scope", len(groups))})
		}
		return events
	}
	pairs, err := s.scopePairs(scope, nil, p.start)
	unsupported := ""
	if err != nil {
		unsupported = err.Error()
	}
	var res *resolvedResource
	if len(pairs) > 0 && pairs[0].res != nil && samePairResource(pairs) {
		res = pairs[0].res
	} else if err == nil {
		res = s.singleResource(scope)
	}
	add(res, pairs, deepCopy(scope).(*object), unsupported)
	return events
}

func resID(res *resolvedResource) string {
	if res == nil {
		return ""
	}
	return res.ref.ID
}

func samePairResource(pairs []scopePair) bool {
	for _, p := range pairs[1:] {
		if p.res != pairs[0].res {
			return false
		}
	}
	return true
}

func copyObjects(v any) []*object {
	a, _ := v.([]any)
	out := make([]*object, 0, len(a))
	for _, x := range a {
		if o, ok := x.(*object); ok {
			out = append(out, deepCopy(o).(*object))
		}
	}
	return out
}

// instanceScope is the scope of one enumerated group's instance: the
// definition's relative query anchored at the group
// ("./members/..." becomes "/v1.0/groups/{id}/members/...").
func instanceScope(scope *object, groupID, version string) *object {
	out := deepCopy(scope).(*object)
	if q := out.str("query"); strings.HasPrefix(q, "./") {
		out.set("query", "/"+version+"/groups/"+groupID+q[1:])
	}
	return out
}

func snapshotSettings(settings *object) instSettings {
	set := instSettings{RemoveAccess: true}
	if settings == nil {
		return set
	}
	set.JustificationRequired = boolOf(settings.vals["justificationRequiredOnApproval"])
	set.DefaultDecisionEnabled = boolOf(settings.vals["defaultDecisionEnabled"])
	set.DefaultDecision = settings.str("defaultDecision")
	set.AutoApply = boolOf(settings.vals["autoApplyDecisionsEnabled"])
	if actions, _ := settings.vals["applyActions"].([]any); len(actions) > 0 {
		set.RemoveAccess = false
		for _, a := range actions {
			if ao, ok := a.(*object); ok {
				switch ao.str("@odata.type") {
				case typeRemoveAccess:
					set.RemoveAccess = true
				case typeDisableAndDelete:
					set.DisableAndDelete = true
				}
			}
		}
	}
	return set
}

// reviewerScopes returns the reviewers and fallback reviewers that decide
// the first stage: stage settings, when present, override the definition's.
func reviewerScopes(o *object) (reviewers, fallback []*object) {
	reviewers = copyObjects(o.vals["reviewers"])
	fallback = copyObjects(o.vals["fallbackReviewers"])
	if stages, _ := o.vals["stageSettings"].([]any); len(stages) > 0 {
		if st, ok := stages[0].(*object); ok {
			if v, ok := st.vals["reviewers"]; ok {
				reviewers = copyObjects(v)
			}
			if v, ok := st.vals["fallbackReviewers"]; ok {
				fallback = copyObjects(v)
			}
		}
	}
	return reviewers, fallback
}

// makeDecisions fills in's decision items and contacted reviewers.
func (s *Server) makeDecisions(in *instance, pairs []scopePair, reviewers, fallback []*object, settings, def *object) {
	rec := recommendationPolicy(settings, def)
	contacted := map[string]bool{}
	in.Decisions = make([]*decisionItem, 0, len(pairs))
	in.Contacted = []identRef{}
	shared := map[string][]string{} // equal reviewer lists share one slice
	for _, p := range pairs {
		ids := in.contact(s.reviewersOf(reviewers, fallback, p.principal, p.res), contacted)
		key := strings.Join(ids, ",")
		if prev, ok := shared[key]; ok {
			ids = prev
		} else {
			shared[key] = ids
		}
		d := &decisionItem{
			ID:             nameGUID("decision:" + in.ID + ":" + p.principal.id + ":" + resID(p.res)),
			Principal:      refOf(p.principal),
			Decision:       decisionNotReviewed,
			Recommendation: rec.recommend(p.principal, in.Start),
			ApplyResult:    applyNew,
			Reviewers:      ids,
		}
		if p.res != nil {
			if in.Resource != nil && in.Resource.ID == p.res.ref.ID {
				d.Resource = in.Resource
			} else {
				ref := p.res.ref
				d.Resource = &ref
			}
		}
		in.Decisions = append(in.Decisions, d)
	}
}

// contact returns the ids of revs and adds those not yet in contacted (the
// ids already in in.Contacted) to in.Contacted, in order.
func (in *instance) contact(revs []*dirObject, contacted map[string]bool) []string {
	ids := make([]string, 0, len(revs))
	for _, rv := range revs {
		ids = append(ids, rv.id)
		if !contacted[rv.id] {
			contacted[rv.id] = true
			in.Contacted = append(in.Contacted, refOf(rv))
		}
	}
	return ids
}

// complete ends an instance at the given time: the default decision is
// taken where enabled, then, with auto-apply, the decisions are applied.
// by is the caller of stop (nil at the scheduled end).
func (s *Server) complete(r *defRecord, in *instance, at time.Time, by *identRef) []LifecycleEvent {
	in.Status = statusCompleted
	if at.Before(in.End) {
		in.End = at
	}
	if st := in.current(); st != nil {
		st.Status = statusCompleted
		if at.Before(st.End) {
			st.End = at
		}
	}
	defaults := 0
	if in.Settings.DefaultDecisionEnabled {
		sources := in.sources()
		for _, d := range in.Decisions {
			if d.Decision != decisionNotReviewed {
				continue
			}
			v := in.Settings.DefaultDecision
			if v == "Recommendation" {
				v = d.Recommendation
			}
			if v != decisionApprove && v != decisionDeny {
				continue
			}
			// A multi-stage review takes it in the item's last stage.
			t := d
			if sources != nil {
				if src := sources[itemKey(d)]; src != nil {
					t = src.latest
				}
			}
			sys := systemIdentity
			t.Decision, t.ReviewedBy, t.ReviewedAt = v, &sys, at
			defaults++
		}
		in.sync()
	}
	detail := "stopped"
	if by == nil {
		detail = "ended"
	} else {
		detail += " by " + by.DisplayName
	}
	if defaults > 0 {
		detail += fmt.Sprintf("; default decision %s taken on %d unreviewed item(s)", in.Settings.DefaultDecision, defaults)
	}
	events := []LifecycleEvent{s.event(r, in, at, EventInstanceCompleted, detail)}
	if in.Settings.AutoApply {
		events = append(events, s.applyDecisions(r, in, at, systemIdentity)...)
	}
	return events
}

func (s *Server) event(r *defRecord, in *instance, at time.Time, kind, detail string) LifecycleEvent {
	ev := LifecycleEvent{Time: at, Kind: kind, DefinitionID: r.ID, Review: r.Object.str("displayName"), InstanceID: in.ID, Detail: detail}
	if in.Resource != nil {
		ev.Resource = in.Resource.DisplayName
	}
	return ev
}

// applyDecisions carries out a completed instance's decisions: denied
// principals lose the reviewed access (removeAccessApplyAction) and, with
// disableAndDeleteUserApplyAction, denied users are disabled and deleted
// after 30 days. Approved items are recorded as applied; items still
// NotReviewed or DontKnow keep applyResult New: nothing was done to them.
func (s *Server) applyDecisions(r *defRecord, in *instance, at time.Time, by identRef) []LifecycleEvent {
	in.Status = statusApplied
	var events []LifecycleEvent
	counts := map[string]int{}
	for _, d := range in.Decisions {
		if d.ApplyResult != applyNew {
			continue
		}
		switch d.Decision {
		case decisionApprove:
			d.ApplyResult = applyOK
		case decisionDeny:
			d.ApplyResult = s.revoke(r, in, d, at, &events)
		default:
			continue
		}
		actor := by
		d.AppliedBy, d.AppliedAt = &actor, at
		counts[d.ApplyResult]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
	}
	detail := "nothing to apply"
	if len(parts) > 0 {
		detail = strings.Join(parts, ", ")
	}
	in.pushApplied()
	return append([]LifecycleEvent{s.event(r, in, at, EventDecisionsApplied, detail)}, events...)
}

// revoke removes a denied principal's access and returns the applyResult.
func (s *Server) revoke(r *defRecord, in *instance, d *decisionItem, at time.Time, events *[]LifecycleEvent) string {
	set := in.Settings
	result := ""
	if set.RemoveAccess {
		change, ok := removalFor(d)
		if !ok {
			result = applyNotSupported
		} else {
			change.Time = at
			ev, done := s.changeDirectory(change)
			if done {
				ev.DefinitionID, ev.Review, ev.InstanceID = r.ID, r.Object.str("displayName"), in.ID
				*events = append(*events, ev)
				result = applyOK
			} else {
				result = applyNotFound
			}
		}
	}
	if set.DisableAndDelete {
		if d.Principal.Kind != kindUser {
			if result == "" {
				result = applyNotSupported
			}
			return result
		}
		ev, done := s.changeDirectory(dirChange{Time: at, Op: opDisableUser, Object: d.Principal.ID})
		switch {
		case done:
			ev.DefinitionID, ev.Review, ev.InstanceID = r.ID, r.Object.str("displayName"), in.ID
			*events = append(*events, ev)
			s.store.life.PendingDeletions = append(s.store.life.PendingDeletions, pendingDeletion{User: d.Principal.ID, Due: at.Add(deleteAfter)})
			if result == "" || result == applyNotFound {
				result = applyOK
			}
		case result == "":
			result = applyNotFound
		}
	}
	return result
}

// removalFor is the directory change that takes away the access a
// decision reviews.
func removalFor(d *decisionItem) (dirChange, bool) {
	if d.Resource == nil {
		return dirChange{}, false
	}
	switch d.Resource.Type {
	case "Group":
		return dirChange{Op: opRemoveMember, Object: d.Resource.ID, Member: d.Principal.ID}, true
	case "ServicePrincipal":
		return dirChange{Op: opRemoveAppRoleAssignment, Object: d.Resource.ID, Member: d.Principal.ID}, true
	case "DirectoryRole":
		return dirChange{Op: opRemoveRoleAssignment, Object: d.Resource.ID, Member: d.Principal.ID}, true
	}
	return dirChange{}, false
}

// changeDirectory applies and records one directory change; ok is false
// when there was nothing to change (already removed, deleted, ...).
func (s *Server) changeDirectory(c dirChange) (LifecycleEvent, bool) {
	s.dirMu.Lock()
	ev := s.dir.describe(c)
	done := s.dir.applyChange(c)
	s.dirMu.Unlock()
	if !done {
		return LifecycleEvent{}, false
	}
	s.store.life.Directory = append(s.store.life.Directory, c)
	ev.Time = c.Time
	return ev, true
}

// Settings helpers: stored values are bool, int or (after a reload)
// json.Number.

func boolOf(v any) bool {
	b, _ := v.(bool)
	return b
}

func intOf(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case int64:
		return int(n)
	case float64:
		return int(n)
	case json.Number:
		i, err := n.Int64()
		if err != nil {
			return 0
		}
		return int(i)
	}
	return 0
}

// durationOf reads a stored duration (P30D, PT12H, P1DT2H30M, PT0.5S)
// with the parser requests are checked with (edmDuration), so that what
// one accepts the other reads; ok is false for anything else. A length
// beyond time.Duration's 292 years is read as the longest time.Duration.
func durationOf(s string) (time.Duration, bool) {
	ticks, ok := edmDuration(s)
	if !ok {
		return 0, false
	}
	if ticks > math.MaxInt64/100 {
		return math.MaxInt64, true
	}
	return time.Duration(ticks) * 100, true
}
