package emulator

import (
	"bytes"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

const definitionsPath = "identityGovernance/accessReviews/definitions"

// definitionCollection: Graph documents $filter on definitions only for
// status (eq) and contains() on a query scope's query; displayName cannot be
// filtered. $select may name the version's own properties only (beta's
// backupReviewers is not a v1.0 property).
var definitionCollection = map[string]*collection{
	"v1.0": definitionCollectionOf(slices.DeleteFunc(slices.Clone(definitionProps), func(p string) bool { return p == "backupReviewers" })),
	"beta": definitionCollectionOf(definitionProps),
}

func definitionCollectionOf(props []string) *collection {
	return &collection{
		entityType: "microsoft.graph.accessReviewScheduleDefinition",
		props:      props,
		orderable:  []string{"displayName", "createdDateTime", "status"},
		checkLeaf:  statusOrScopeQueryOnly("access review definitions"),
	}
}

// statusOrScopeQueryOnly restricts $filter to what Graph documents for
// access review definitions and instances: status eq '...' and
// contains(scope/microsoft.graph.accessReviewQueryScope/query, '...').
func statusOrScopeQueryOnly(what string) func(filterNode, map[string]bool) *graphError {
	return func(n filterNode, _ map[string]bool) *graphError {
		switch t := n.(type) {
		case fCmp:
			if len(t.path) == 1 && strings.EqualFold(t.path[0], "status") && t.op == "eq" {
				if _, ok := t.lit.(string); ok {
					return nil
				}
			}
		case fFunc:
			if t.name == "contains" && len(t.path) == 3 && strings.EqualFold(t.path[0], "scope") &&
				strings.EqualFold(t.path[1], "microsoft.graph.accessReviewQueryScope") && strings.EqualFold(t.path[2], "query") {
				return nil
			}
		}
		return badRequest("Invalid filter clause: %s can be filtered only with status eq '...' and contains(scope/microsoft.graph.accessReviewQueryScope/query, '...').", what)
	}
}

// timestamp formats a time as Graph does: UTC, up to 7 fractional digits.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.9999999Z") }

// definitionStatus derives a definition's status from its schedule: before
// the start date NotStarted, after an end date Completed, else InProgress.
func definitionStatus(o *object, now time.Time) string {
	settings, _ := o.vals["settings"].(*object)
	var rng *object
	if settings != nil {
		if rec, _ := settings.vals["recurrence"].(*object); rec != nil {
			rng, _ = rec.vals["range"].(*object)
		}
	}
	if rng == nil {
		return "InProgress"
	}
	today := dayString(now)
	if start := rng.str("startDate"); start != "" && today < start {
		return "NotStarted"
	}
	if end := rng.str("endDate"); end != "" && end != noEndDate && today > end {
		return "Completed"
	}
	return "InProgress"
}

// dayString formats now's UTC date as YYYY-MM-DD, remembering the last day
// because every list request asks for it once per definition.
func dayString(now time.Time) string {
	day := now.UTC().Unix() / 86400
	if c := lastDay.Load(); c != nil && c.day == day {
		return c.text
	}
	c := &dayCache{day: day, text: now.UTC().Format("2006-01-02")}
	lastDay.Store(c)
	return c.text
}

type dayCache struct {
	day  int64
	text string
}

var lastDay atomic.Pointer[dayCache]

// refresh brings r's status up to date. Callers hold s.mu.
func (r *defRecord) refresh(now time.Time) {
	day := now.UTC().Unix() / 86400
	if r.fresh && r.cacheDay == day {
		return
	}
	st := r.status(now)
	if !r.fresh || r.cacheStatus != st {
		r.Object.set("status", st)
		r.cacheStatus = st
		r.views = [2]*defView{}
	}
	r.fresh = true
	r.cacheDay = day
}

// replaced forgets what was rendered from r.Object, after it changed.
func (r *defRecord) replaced() {
	r.fresh = false
	r.views = [2]*defView{}
}

// view returns r as an API version shows it, rendered once per status.
// Callers hold s.mu and have called refresh.
func (r *defRecord) view(version string) *defView {
	i := 0
	if version == "beta" {
		i = 1
	}
	if r.views[i] == nil {
		o := renderDefinition(r.Object, version)
		r.views[i] = &defView{obj: o, body: marshal(o)}
	}
	return r.views[i]
}

// body is view's JSON, status refreshed first. Callers hold s.mu.
func (r *defRecord) body(now time.Time, version string) []byte {
	r.refresh(now)
	return r.view(version).body
}

// settingsProps are accessReviewScheduleSettings' properties in the order
// the service returns them (the tutorials' create responses); settings
// stored before a property was filled in get its default on the way out.
var settingsProps = []string{
	"mailNotificationsEnabled", "reminderNotificationsEnabled", "justificationRequiredOnApproval",
	"defaultDecisionEnabled", "defaultDecision", "instanceDurationInDays", "autoApplyDecisionsEnabled",
	"recommendationsEnabled", "recommendationLookBackDuration", "decisionHistoriesForReviewersEnabled",
	"recurrence", "applyActions", "recommendationInsightSettings",
}

// stageProps are accessReviewStageSettings' properties in the order the
// emulator returns them; recommendationLookBackDuration is beta's only.
var stageProps = []string{
	"stageId", "dependsOn", "durationInDays", "recommendationsEnabled", "recommendationLookBackDuration",
	"decisionsThatWillMoveToNextStage", "reviewers", "fallbackReviewers", "recommendationInsightSettings",
}

// renderDefinition shows a stored definition through one API version:
// that version's properties only, as its schema declares them, in the
// service's order, collections present ([] when empty). The service keeps
// one definition for both versions, so what one version created the other
// reads with its own shape (docs/graph-behaviour.md#endpoints-and-versions):
// beta adds backupReviewers (the old name of fallbackReviewers, same value),
// settings.isAgenticExperienceEnabled when it was set, and the stages'
// recommendationLookBackDuration; v1.0 has none of them.
func renderDefinition(o *object, version string) *object {
	beta := version == "beta"
	out := newObject()
	for _, k := range definitionProps {
		v := o.vals[k]
		switch k {
		case "backupReviewers":
			if !beta {
				continue
			}
			v = orEmpty(o.vals["fallbackReviewers"])
		case "reviewers", "fallbackReviewers", "additionalNotificationRecipients":
			v = orEmpty(v)
		case "settings":
			v = renderSettings(v, beta)
		case "stageSettings":
			v = renderStages(v, beta)
		}
		out.set(k, v)
	}
	return out
}

func orEmpty(v any) any {
	if v == nil {
		return []any{}
	}
	return v
}

func renderSettings(v any, beta bool) any {
	in, ok := v.(*object)
	if !ok {
		return v
	}
	out := newObject()
	for _, k := range settingsProps {
		x, has := in.vals[k]
		switch {
		case has:
		case k == "decisionHistoriesForReviewersEnabled":
			x = false
		case k == "applyActions" || k == "recommendationInsightSettings":
			x = []any{}
		}
		if k == "applyActions" || k == "recommendationInsightSettings" {
			x = orEmpty(x)
		}
		out.set(k, x)
	}
	if x, has := in.vals["isAgenticExperienceEnabled"]; has && beta {
		out.set("isAgenticExperienceEnabled", x)
	}
	return out
}

func renderStages(v any, beta bool) any {
	stages, _ := v.([]any)
	out := make([]any, 0, len(stages))
	for _, st := range stages {
		in, ok := st.(*object)
		if !ok {
			out = append(out, st)
			continue
		}
		so := newObject()
		for _, k := range stageProps {
			x := in.vals[k]
			switch k {
			case "recommendationLookBackDuration":
				if !beta {
					continue
				}
			case "dependsOn", "decisionsThatWillMoveToNextStage", "reviewers", "fallbackReviewers", "recommendationInsightSettings":
				x = orEmpty(x)
			}
			so.set(k, x)
		}
		out = append(out, so)
	}
	return out
}

func (r *defRecord) visible(now time.Time) bool { return !now.Before(r.VisibleAt) }

func (s *Server) definitionContext(rc *reqCtx) string {
	return rc.base + "/$metadata#" + definitionsPath
}

// routeDefinitions serves identityGovernance/accessReviews/definitions/...;
// rest are the segments after "definitions".
func (s *Server) routeDefinitions(rc *reqCtx, req *request, rest []string) *response {
	switch {
	case len(rest) == 0:
		switch req.method {
		case http.MethodGet, http.MethodHead:
			return s.listDefinitions(rc, req, false)
		case http.MethodPost:
			return s.createDefinition(rc, req)
		}
		return methodNotAllowed(rc, req, "GET, POST")
	case len(rest) == 1 && rest[0] == "$count":
		if req.method != http.MethodGet && req.method != http.MethodHead {
			return methodNotAllowed(rc, req, "GET")
		}
		return s.countDefinitions(rc, req)
	case len(rest) == 1 && strings.HasPrefix(strings.ToLower(rest[0]), "filterbycurrentuser("):
		if req.method != http.MethodGet && req.method != http.MethodHead {
			return methodNotAllowed(rc, req, "GET")
		}
		if !strings.EqualFold(strings.ReplaceAll(rest[0], " ", ""), "filterByCurrentUser(on='reviewer')") {
			return rc.fail(badRequest("filterByCurrentUser supports on='reviewer' only."))
		}
		return s.listDefinitions(rc, req, true)
	case len(rest) == 1:
		switch req.method {
		case http.MethodGet, http.MethodHead:
			return s.getDefinition(rc, req, rest[0])
		case http.MethodPut:
			return s.updateDefinition(rc, req, rest[0])
		case http.MethodDelete:
			return s.deleteDefinition(rc, req, rest[0])
		}
		// PATCH in particular: the service updates definitions with PUT only.
		return methodNotAllowed(rc, req, "GET, PUT, DELETE")
	case rest[1] == "instances":
		return s.routeInstances(rc, req, rest[0], rest[2:])
	}
	return rc.fail(segmentNotFound(rest[1]))
}

func methodNotAllowed(rc *reqCtx, req *request, allow string) *response {
	e := errorf(http.StatusMethodNotAllowed, codeDirBadRequest, "The requested resource does not support http method '%s'.", req.method)
	e.header = http.Header{"Allow": {allow}}
	return rc.fail(e)
}

func segmentNotFound(seg string) *graphError {
	return badRequest("Resource not found for the segment '%s'.", seg)
}

func definitionNotFound(id string) *graphError {
	return errorf(http.StatusNotFound, codeNotFound, "The access review schedule definition '%s' was not found.", id)
}

// requireWrite answers 403 for tokens without AccessReview.ReadWrite.All.
func requireWrite(rc *reqCtx) *graphError {
	if rc.ident.ReadOnly {
		return errorf(http.StatusForbidden, codeForbidden, "You cannot perform the requested operation, required scopes are missing in the token.")
	}
	return nil
}

// visibleDefs returns the definitions reads can see, statuses refreshed.
// Callers hold s.mu.
func (s *Server) visibleDefs(now time.Time) []*defRecord {
	out := make([]*defRecord, 0, len(s.store.defs))
	for _, r := range s.store.defs {
		if r.visible(now) {
			r.refresh(now)
			out = append(out, r)
		}
	}
	return out
}

func (s *Server) listDefinitions(rc *reqCtx, req *request, currentUser bool) *response {
	q, gerr := parseListQuery(req, definitionCollection[rc.version])
	if gerr != nil {
		return rc.fail(gerr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	recs := s.visibleDefs(rc.now)
	objs := make([]*object, 0, len(recs))
	for _, r := range recs {
		if currentUser && !reviewsFor(r.Object, rc.ident.ID) {
			continue
		}
		objs = append(objs, r.Object)
	}
	items, total, link := s.page(rc, req, q, objs, func(o *object) []byte {
		v := s.store.byID[o.str("id")].view(rc.version)
		switch {
		case len(q.sel) > 0:
			return q.marshalSelected(v.obj)
		case currentUser:
			return withLeadingProp("@odata.type", typeDefinition, v.body)
		default:
			return v.body
		}
	})
	ctx := selectContext(s.definitionContext(rc), q.sel)
	if currentUser {
		ctx = rc.base + "/$metadata#Collection(accessReviewScheduleDefinition)"
	}
	return jsonResponse(http.StatusOK, collectionBody(ctx, total, q.count, link, items))
}

// reviewsFor reports whether user is named as an individual reviewer of the
// definition (or of one of its stages).
func reviewsFor(o *object, user string) bool {
	match := func(list any) bool {
		a, _ := list.([]any)
		for _, v := range a {
			if r, ok := v.(*object); ok && userQueryID(r.str("query")) == user {
				return true
			}
		}
		return false
	}
	if match(o.vals["reviewers"]) || match(o.vals["fallbackReviewers"]) {
		return true
	}
	stages, _ := o.vals["stageSettings"].([]any)
	for _, st := range stages {
		if so, ok := st.(*object); ok && (match(so.vals["reviewers"]) || match(so.vals["fallbackReviewers"])) {
			return true
		}
	}
	return false
}

func (s *Server) countDefinitions(rc *reqCtx, req *request) *response {
	q, gerr := parseListQuery(req, definitionCollection[rc.version])
	if gerr != nil {
		return rc.fail(gerr)
	}
	s.mu.Lock()
	recs := s.visibleDefs(rc.now)
	objs := make([]*object, 0, len(recs))
	for _, r := range recs {
		objs = append(objs, r.Object)
	}
	q.top, q.offset = -1, 0
	_, total, _ := q.apply(objs, len(objs)+1)
	s.mu.Unlock()
	h := http.Header{}
	h.Set("Content-Type", "text/plain;charset=utf-8")
	return &response{status: http.StatusOK, header: h, body: []byte(strconv.Itoa(total))}
}

// selectProps copies the selected properties of o, in o's order.
func selectProps(o *object, sel []string) *object {
	out := newObject()
	for _, k := range o.keys {
		for _, s := range sel {
			if s == k {
				out.set(k, o.vals[k])
			}
		}
	}
	return out
}

// withLeadingProp inserts "key":value at the start of a rendered object.
func withLeadingProp(key, value string, obj []byte) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	writeString(&b, key)
	b.WriteByte(':')
	writeString(&b, value)
	if len(obj) > 2 {
		b.WriteByte(',')
	}
	b.Write(obj[1:])
	return b.Bytes()
}

func (s *Server) getDefinition(rc *reqCtx, req *request, id string) *response {
	q, gerr := parseListQuery(req, definitionCollection[rc.version])
	if gerr != nil {
		return rc.fail(gerr)
	}
	if q.filter != nil || q.top >= 0 || q.offset > 0 || len(q.order) > 0 {
		return rc.fail(badRequest("Only $select applies to a single access review definition."))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.store.byID[strings.ToLower(id)]
	if r == nil || !r.visible(rc.now) {
		return rc.fail(definitionNotFound(id))
	}
	body := r.body(rc.now, rc.version)
	ctx := s.definitionContext(rc)
	if len(q.sel) > 0 {
		body = marshal(selectProps(r.view(rc.version).obj, q.sel))
		ctx = selectContext(ctx, q.sel)
	}
	return jsonResponse(http.StatusOK, withLeadingProp("@odata.context", ctx+"/$entity", body))
}

func (s *Server) createDefinition(rc *reqCtx, req *request) *response {
	if gerr := requireWrite(rc); gerr != nil {
		return rc.fail(gerr)
	}
	in, gerr := decodeBody(req.body)
	if gerr != nil {
		return rc.fail(gerr)
	}
	obj, gerr := s.normalizer(rc.version).definition(in)
	if gerr != nil {
		return rc.fail(gerr)
	}
	ts := timestamp(rc.now)
	obj.set("createdDateTime", ts).set("lastModifiedDateTime", ts)
	creator := newObject().set("id", rc.ident.ID).set("displayName", rc.ident.DisplayName).set("userPrincipalName", nullable(rc.ident.UPN))
	obj.set("createdBy", creator)

	s.mu.Lock()
	defer s.mu.Unlock()
	id := newGUID(s.ids)
	for s.store.byID[id] != nil { // a seeded generator may repeat ids of a loaded state
		id = newGUID(s.ids)
	}
	obj.set("id", id)
	rec := &defRecord{ID: id, Version: rc.version, CreatedAt: rc.now, Object: obj}
	if lag := s.faults.lag(); lag > 0 {
		rec.VisibleAt = rc.now.Add(lag)
	}
	s.store.add(rec)
	if gerr := s.persist(defRecordOut(rec)); gerr != nil {
		s.store.remove(id)
		return rc.fail(gerr)
	}
	body := withLeadingProp("@odata.context", s.definitionContext(rc)+"/$entity", rec.body(rc.now, rc.version))
	resp := jsonResponse(http.StatusCreated, body)
	resp.header.Set("Location", rc.base+"/"+definitionsPath+"/"+id)
	return resp
}

// persist saves a change, described by recs, when a state file is
// configured (journal.go). Callers hold s.mu and have made the change.
func (s *Server) persist(recs ...recordOut) *graphError {
	if s.closed {
		return errorf(http.StatusServiceUnavailable, codeUnavailable, "The emulator has been closed; it no longer saves changes.")
	}
	if s.opts.StateFile == "" {
		return nil
	}
	if err := s.writeChanges(recs...); err != nil {
		return errorf(http.StatusInternalServerError, codeGeneral, "The emulator could not save its state: %v", err)
	}
	return nil
}

// immutableProps cannot change after create (docs/graph-behaviour.md#put-not-patch);
// stageSettings may change its reviewers in beta only.
var immutableProps = []string{"scope", "instanceEnumerationScope", "stageSettings", "additionalNotificationRecipients"}

func (s *Server) updateDefinition(rc *reqCtx, req *request, id string) *response {
	if gerr := requireWrite(rc); gerr != nil {
		return rc.fail(gerr)
	}
	in, gerr := decodeBody(req.body)
	if gerr != nil {
		return rc.fail(gerr)
	}
	if bodyID, ok, gerr := optString(in, "id", ""); gerr != nil {
		return rc.fail(gerr)
	} else if ok && !strings.EqualFold(bodyID, id) {
		return rc.fail(badRequest("The id '%s' in the request body does not match the id '%s' in the URL.", bodyID, id))
	}
	obj, gerr := s.normalizer(rc.version).definition(in)
	if gerr != nil {
		return rc.fail(gerr)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.store.byID[strings.ToLower(id)]
	if r == nil || !r.visible(rc.now) {
		return rc.fail(definitionNotFound(id))
	}
	old := r.Object
	if rc.version != "beta" {
		keepBetaOnly(old, obj)
	}
	for _, k := range immutableProps {
		a, b := old.vals[k], obj.vals[k]
		switch k {
		case "stageSettings":
			// Compared as beta shows them, so that a definition stored
			// before a property was filled in compares as it reads.
			a, b = renderStages(a, true), renderStages(b, true)
			if rc.version == "beta" {
				a, b = withoutStageReviewers(a), withoutStageReviewers(b)
			}
		case "additionalNotificationRecipients":
			a, b = orEmpty(a), orEmpty(b)
		}
		if !sameValue(a, b) {
			return rc.fail(badRequest("The property '%s' cannot be updated; delete the access review definition and create a new one to change it.", k))
		}
	}
	if !sameValue(old.vals["reviewers"], obj.vals["reviewers"]) &&
		(!allUserReviewers(old.vals["reviewers"]) || !allUserReviewers(obj.vals["reviewers"])) {
		return rc.fail(badRequest("The reviewers can be updated only when the current and the new reviewers are all individual users (/users/{id})."))
	}

	// Keep what the service owns and the immutable values as stored.
	for _, k := range []string{"id", "createdDateTime", "createdBy", "scope", "instanceEnumerationScope", "additionalNotificationRecipients"} {
		obj.set(k, old.vals[k])
	}
	if rc.version != "beta" {
		if st, ok := old.vals["stageSettings"]; ok {
			obj.set("stageSettings", st)
		}
	}
	obj.set("lastModifiedDateTime", timestamp(rc.now))
	prevObj := r.Object
	r.Object = obj
	r.replaced()
	if gerr := s.persist(defRecordOut(r)); gerr != nil {
		r.Object = prevObj
		r.replaced()
		return rc.fail(gerr)
	}
	return &response{status: http.StatusNoContent, header: http.Header{}}
}

func (s *Server) deleteDefinition(rc *reqCtx, req *request, id string) *response {
	if gerr := requireWrite(rc); gerr != nil {
		return rc.fail(gerr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.store.byID[strings.ToLower(id)]
	if r == nil || !r.visible(rc.now) {
		return rc.fail(definitionNotFound(id))
	}
	s.store.remove(r.ID)
	if gerr := s.persist(recordOut{Op: recDelete, ID: r.ID}); gerr != nil {
		s.store.add(r)
		return rc.fail(gerr)
	}
	return &response{status: http.StatusNoContent, header: http.Header{}}
}

// keepBetaOnly copies into obj, the new body of a v1.0 PUT, the stored
// values v1.0 cannot show or send: settings.isAgenticExperienceEnabled and
// the stages' recommendationLookBackDuration. A v1.0 client sends back what
// it read, and that must not reset what a beta client set.
func keepBetaOnly(old, obj *object) {
	oldSet, _ := old.vals["settings"].(*object)
	newSet, _ := obj.vals["settings"].(*object)
	if oldSet != nil && newSet != nil {
		if v, ok := oldSet.vals["isAgenticExperienceEnabled"]; ok {
			newSet.set("isAgenticExperienceEnabled", v)
		}
	}
	oldStages, _ := old.vals["stageSettings"].([]any)
	newStages, _ := obj.vals["stageSettings"].([]any)
	for i := range min(len(oldStages), len(newStages)) {
		o, ok1 := oldStages[i].(*object)
		n, ok2 := newStages[i].(*object)
		if ok1 && ok2 && o.str("stageId") == n.str("stageId") {
			n.set("recommendationLookBackDuration", o.vals["recommendationLookBackDuration"])
		}
	}
}

// sameValue compares two stored values by meaning: a /v1.0 and a /beta
// prefix on a query are the same query.
func sameValue(a, b any) bool {
	return bytes.Equal(marshal(stripVersions(a)), marshal(stripVersions(b)))
}

func stripVersions(v any) any {
	switch t := v.(type) {
	case *object:
		c := newObject()
		for _, k := range t.keys {
			x := t.vals[k]
			if s, ok := x.(string); ok && k == "query" {
				x = s[len(versionPrefix(s)):]
			}
			c.set(k, stripVersions(x))
		}
		return c
	case []any:
		c := make([]any, len(t))
		for i, x := range t {
			c[i] = stripVersions(x)
		}
		return c
	}
	return v
}

func withoutStageReviewers(v any) any {
	a, ok := v.([]any)
	if !ok {
		return v
	}
	out := make([]any, 0, len(a))
	for _, x := range a {
		if o, ok := x.(*object); ok {
			c := o.shallow()
			c.delete("reviewers")
			c.delete("fallbackReviewers")
			x = c
		}
		out = append(out, x)
	}
	return out
}

var userQueryRE = regexp.MustCompile(`^/users/([^/?]+)$`)

// userQueryID returns the user id of a "/users/{id}" query, else "".
func userQueryID(q string) string {
	m := userQueryRE.FindStringSubmatch(q[len(versionPrefix(q)):])
	if m == nil {
		return ""
	}
	return strings.ToLower(m[1])
}

// allUserReviewers: a non-empty list of individual users. An empty list is
// a self-review, which is not an individual-user reviewer.
func allUserReviewers(v any) bool {
	a, _ := v.([]any)
	if len(a) == 0 {
		return false
	}
	for _, x := range a {
		o, ok := x.(*object)
		if !ok || userQueryID(o.str("query")) == "" {
			return false
		}
	}
	return true
}
