package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// HTTP handlers for definitions/{id}/instances/...: instances, their
// decisions and contacted reviewers, and the instance actions
// (docs/graph-behaviour.md#instances-and-decisions, #instance-actions, #paging).

// codeConflict answers an action the instance's status does not allow.
const codeConflict = "Conflict"

var instanceCollection = &collection{
	entityType: "microsoft.graph.accessReviewInstance",
	props:      []string{"id", "startDateTime", "endDateTime", "status", "scope", "reviewers", "fallbackReviewers", "errors"},
	orderable:  []string{"status"},
	checkLeaf:  statusOrScopeQueryOnly("access review instances"),
}

// decisionFilterProps can be filtered (eq) and sorted, as Graph documents.
var decisionFilterProps = []string{"decision", "recommendation", "applyResult"}

// decisionCollection is per API version: beta's decisions also have target.
var decisionCollection = map[string]*collection{
	"v1.0": decisionCollectionOf(decisionProps),
	"beta": decisionCollectionOf(append(slices.Clone(decisionProps), "target")),
}

var decisionProps = []string{"id", "accessReviewId", "reviewedDateTime", "decision", "justification", "appliedDateTime",
	"applyResult", "recommendation", "principalLink", "resourceLink", "resource", "reviewedBy", "appliedBy", "principal"}

func decisionCollectionOf(props []string) *collection {
	return &collection{
		entityType: "microsoft.graph.accessReviewInstanceDecisionItem",
		props:      props,
		orderable:  decisionFilterProps,
		checkLeaf:  checkDecisionFilter,
	}
}

func checkDecisionFilter(n filterNode, _ map[string]bool) *graphError {
	if t, ok := n.(fCmp); ok && len(t.path) == 1 && t.op == "eq" {
		if _, isStr := t.lit.(string); isStr {
			for _, p := range decisionFilterProps {
				if strings.EqualFold(t.path[0], p) {
					return nil
				}
			}
		}
	}
	return badRequest("Invalid filter clause: decisions can be filtered only with decision, recommendation or applyResult eq '...'.")
}

var reviewerCollection = &collection{
	entityType: "microsoft.graph.accessReviewReviewer",
	props:      []string{"id", "displayName", "userPrincipalName", "createdDateTime"},
	checkLeaf: func(filterNode, map[string]bool) *graphError {
		return badRequest("Invalid filter clause: contacted reviewers cannot be filtered.")
	},
}

func instanceNotFound(id string) *graphError {
	return errorf(http.StatusNotFound, codeNotFound, "The access review instance '%s' was not found.", id)
}

func conflict(format string, args ...any) *graphError {
	return errorf(http.StatusConflict, codeConflict, format, args...)
}

func isFilterByCurrentUser(seg string) bool {
	return strings.HasPrefix(strings.ToLower(seg), "filterbycurrentuser(")
}

func checkCurrentUserArg(seg string) *graphError {
	if !strings.EqualFold(strings.ReplaceAll(seg, " ", ""), "filterByCurrentUser(on='reviewer')") {
		return badRequest("filterByCurrentUser supports on='reviewer' only.")
	}
	return nil
}

// routeList answers a read of a collection: with no segment after it, the
// collection; with filterByCurrentUser(on='reviewer'), the caller's items
// (their @odata.context is a Collection of elemType). ok is false for any
// other path (an item). Collections here are made by the service, so only
// GET is allowed.
func routeList(rc *reqCtx, req *request, after []string, ctx, elemType string, list func(ctx string, current bool) *response) (resp *response, ok bool) {
	if len(after) > 1 || len(after) == 1 && !isFilterByCurrentUser(after[0]) {
		return nil, false
	}
	if !isRead(req) {
		return methodNotAllowed(rc, req, "GET"), true
	}
	if len(after) == 0 {
		return list(ctx, false), true
	}
	if gerr := checkCurrentUserArg(after[0]); gerr != nil {
		return rc.fail(gerr), true
	}
	return list(rc.base+"/$metadata#Collection("+elemType+")", true), true
}

// routeInstances serves definitions/{defID}/instances/...; rest are the
// segments after "instances".
func (s *Server) routeInstances(rc *reqCtx, req *request, defID string, rest []string) *response {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.store.byID[strings.ToLower(defID)]
	if r == nil || !r.visible(rc.now) {
		return rc.fail(definitionNotFound(defID))
	}
	l := s.lifeOf(r)
	base := rc.base + "/$metadata#identityGovernance/accessReviews/definitions('" + r.ID + "')/instances"
	// POST is listed in the generated OpenAPI, but the service has no such
	// operation: instances are created by the schedule.
	if resp, ok := routeList(rc, req, rest, base, "accessReviewInstance", func(ctx string, current bool) *response {
		return s.listInstances(rc, req, l, ctx, current)
	}); ok {
		return resp
	}
	in := l.find(rest[0])
	if in == nil {
		return rc.fail(instanceNotFound(rest[0]))
	}
	if len(rest) == 1 {
		switch req.method {
		case http.MethodGet, http.MethodHead:
			return s.getInstance(rc, req, in, base)
		case http.MethodPut:
			return s.updateInstance(rc, req, r, in, base)
		}
		return methodNotAllowed(rc, req, "GET, PUT")
	}
	action := rest[1]
	switch strings.ToLower(action) {
	case "stop", "applydecisions", "batchrecorddecisions", "resetdecisions", "sendreminder", "acceptrecommendations":
		if len(rest) > 2 {
			return rc.fail(segmentNotFound(rest[2]))
		}
		if req.method != http.MethodPost {
			return methodNotAllowed(rc, req, "POST")
		}
		return s.instanceAction(rc, req, r, in, strings.ToLower(action))
	case "stages":
		return s.routeStages(rc, req, r, in, base+"('"+in.ID+"')/stages", rest[2:])
	case "contactedreviewers":
		if len(rest) > 2 {
			return rc.fail(segmentNotFound(rest[2]))
		}
		if !isRead(req) {
			return methodNotAllowed(rc, req, "GET")
		}
		return s.listContacted(rc, req, in, base+"('"+in.ID+"')/contactedReviewers")
	case "decisions":
		return s.routeDecisions(rc, req, r, in, nil, rest, base+"('"+in.ID+"')/decisions")
	}
	return rc.fail(segmentNotFound(action))
}

// routeDecisions answers .../decisions[/{id} | /filterByCurrentUser(...)]
// of an instance (st nil) or of one of its stages; rest[1] is "decisions"
// and ctx the collection's @odata.context.
func (s *Server) routeDecisions(rc *reqCtx, req *request, r *defRecord, in *instance, st *stage, rest []string, ctx string) *response {
	items, find := in.Decisions, in.decision
	if st != nil {
		items, find = st.Decisions, st.decision
	}
	if resp, ok := routeList(rc, req, rest[2:], ctx, "accessReviewInstanceDecisionItem", func(ctx string, current bool) *response {
		return s.listDecisions(rc, req, items, in.ID, ctx, current)
	}); ok {
		return resp
	}
	if len(rest) > 3 {
		return rc.fail(segmentNotFound(rest[3]))
	}
	d := find(rest[2])
	if d == nil {
		return rc.fail(errorf(http.StatusNotFound, codeNotFound, "The access review decision item '%s' was not found.", rest[2]))
	}
	switch req.method {
	case http.MethodGet, http.MethodHead:
		return s.getDecision(rc, req, in.ID, d, ctx)
	case http.MethodPatch:
		return s.patchDecision(rc, req, r, in, st, d)
	}
	return methodNotAllowed(rc, req, "GET, PATCH")
}

// Representations.

func timeOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return timestamp(t)
}

func objectList(objs []*object) []any {
	out := make([]any, 0, len(objs))
	for _, o := range objs {
		out = append(out, o)
	}
	return out
}

func (in *instance) render(version string) *object {
	o := newObject().
		set("id", in.ID).
		set("startDateTime", timestamp(in.Start)).
		set("endDateTime", timestamp(in.End)).
		set("status", in.Status).
		set("scope", in.Scope).
		set("reviewers", objectList(in.Reviewers)).
		set("fallbackReviewers", objectList(in.Fallback))
	if version == "beta" {
		errs := []any{}
		if in.Unsupported != "" {
			errs = append(errs, newObject().set("code", "UnsupportedScope").set("message", in.Unsupported))
		}
		o.set("errors", errs)
	}
	return o
}

// userIdentity renders reviewedBy/appliedBy; nil is the all-zero identity
// Graph shows for "nobody yet".
func userIdentityObject(r *identRef) *object {
	if r == nil {
		return newObject().set("id", zeroGUID).set("displayName", "").set("userPrincipalName", "")
	}
	return newObject().set("id", r.ID).set("displayName", r.DisplayName).set("userPrincipalName", r.UPN)
}

const graphLinkBase = "https://graph.microsoft.com/v1.0/"

// render shows a decision item through an API version: beta adds target,
// the reviewed user or application in beta's own shape (the tutorial's
// v1.0 example shows it too, but v1.0's schema has no such property).
func (d *decisionItem) render(instanceID, version string) *object {
	p := d.Principal
	var principal *object
	link := graphLinkBase
	switch p.Kind {
	case kindSP:
		principal = newObject().set("@odata.type", "#microsoft.graph.servicePrincipalIdentity").
			set("id", p.ID).set("displayName", p.DisplayName).set("appId", p.AppID)
		link += "servicePrincipals/" + p.ID
	case kindGroup:
		principal = newObject().set("@odata.type", "#microsoft.graph.identity").
			set("id", p.ID).set("displayName", p.DisplayName)
		link += "groups/" + p.ID
	default:
		principal = newObject().set("@odata.type", typeUserIdentity).
			set("id", p.ID).set("displayName", p.DisplayName).set("userPrincipalName", p.UPN)
		link += "users/" + p.ID
	}
	var resource, resourceLink any
	if res := d.Resource; res != nil {
		ro := newObject()
		switch res.Type {
		case "ServicePrincipal":
			ro.set("@odata.type", "#microsoft.graph.accessReviewInstanceDecisionItemServicePrincipalResource")
			resourceLink = graphLinkBase + "servicePrincipals/" + res.ID
		case "DirectoryRole":
			resourceLink = graphLinkBase + "roleManagement/directory/roleDefinitions/" + res.ID
		default:
			resourceLink = graphLinkBase + "groups/" + res.ID
		}
		ro.set("id", res.ID).set("displayName", res.DisplayName).set("type", res.Type)
		if res.AppID != "" {
			ro.set("appId", res.AppID)
		}
		resource = ro
	}
	o := newObject().
		set("id", d.ID).
		set("accessReviewId", instanceID).
		set("reviewedDateTime", timeOrNull(d.ReviewedAt)).
		set("decision", d.Decision).
		set("justification", d.Justification).
		set("appliedDateTime", timeOrNull(d.AppliedAt)).
		set("applyResult", d.ApplyResult).
		set("recommendation", d.Recommendation).
		set("principalLink", link).
		set("resourceLink", resourceLink).
		set("resource", resource).
		set("reviewedBy", userIdentityObject(d.ReviewedBy)).
		set("appliedBy", userIdentityObject(d.AppliedBy))
	if version == "beta" {
		var target any
		switch p.Kind {
		case kindSP:
			target = newObject().set("@odata.type", "#microsoft.graph.accessReviewInstanceDecisionItemServicePrincipalTarget").
				set("servicePrincipalId", p.ID).set("servicePrincipalDisplayName", p.DisplayName).set("appId", p.AppID)
		case kindGroup:
		default:
			target = newObject().set("@odata.type", "#microsoft.graph.accessReviewInstanceDecisionItemUserTarget").
				set("userId", p.ID).set("userDisplayName", p.DisplayName).set("userPrincipalName", p.UPN)
		}
		o.set("target", target)
	}
	return o.set("principal", principal)
}

// Reads.

func (s *Server) listInstances(rc *reqCtx, req *request, l *defLife, ctx string, currentUser bool) *response {
	q, gerr := parseListQuery(req, instanceCollection)
	if gerr != nil {
		return rc.fail(gerr)
	}
	objs := make([]*object, 0, len(l.instances))
	for _, in := range l.instances {
		if currentUser && !slices.ContainsFunc(in.Decisions, func(d *decisionItem) bool { return d.reviewable(rc.ident.ID) }) {
			continue
		}
		objs = append(objs, in.render(rc.version))
	}
	items, total, link := s.page(rc, req, q, objs, q.marshalSelected)
	return jsonResponse(http.StatusOK, collectionBody(selectContext(ctx, q.sel), total, q.count, link, items))
}

func (s *Server) getInstance(rc *reqCtx, req *request, in *instance, ctx string) *response {
	q, gerr := parseListQuery(req, instanceCollection)
	if gerr != nil {
		return rc.fail(gerr)
	}
	if q.filter != nil || q.top >= 0 || q.offset > 0 || len(q.order) > 0 || q.count {
		return rc.fail(badRequest("Only $select applies to a single access review instance."))
	}
	o := in.render(rc.version)
	if len(q.sel) > 0 {
		o = selectProps(o, q.sel)
	}
	return jsonResponse(http.StatusOK, withLeadingProp("@odata.context", selectContext(ctx, q.sel)+"/$entity", marshal(o)))
}

// listDecisions pages the decision items of an instance (or of one of its
// stages) without rendering the ones outside the page, so large instances
// stay cheap to read. instID is the instance's id (accessReviewId).
func (s *Server) listDecisions(rc *reqCtx, req *request, decisions []*decisionItem, instID, ctx string, currentUser bool) *response {
	q, gerr := parseListQuery(req, decisionCollection[rc.version])
	if gerr != nil {
		return rc.fail(gerr)
	}
	var idx []int // the matching decisions, in order; nil: all of them
	if q.filter != nil || currentUser || len(q.order) > 0 {
		idx = make([]int, 0, len(decisions))
		probe := newObject()
		for i, d := range decisions {
			if currentUser && !d.reviewable(rc.ident.ID) {
				continue
			}
			if q.filter != nil {
				probe.set("decision", d.Decision).set("recommendation", d.Recommendation).set("applyResult", d.ApplyResult)
				if !evalFilter(q.filter, probe, nil) {
					continue
				}
			}
			idx = append(idx, i)
		}
		if len(q.order) > 0 {
			field := func(d *decisionItem, p string) string {
				switch p {
				case "decision":
					return d.Decision
				case "recommendation":
					return d.Recommendation
				}
				return d.ApplyResult
			}
			slices.SortStableFunc(idx, func(a, b int) int {
				for _, k := range q.order {
					c := strings.Compare(field(decisions[a], k.prop), field(decisions[b], k.prop))
					if k.desc {
						c = -c
					}
					if c != 0 {
						return c
					}
				}
				return 0
			})
		}
	}
	total := len(decisions)
	if idx != nil {
		total = len(idx)
	}
	size := s.pageSize
	if q.top >= 0 && q.top < size {
		size = q.top
	}
	start := min(q.offset, total)
	end := min(start+size, total)
	items := make([][]byte, 0, end-start)
	for i := start; i < end; i++ {
		j := i
		if idx != nil {
			j = idx[i]
		}
		items = append(items, q.marshalSelected(decisions[j].render(instID, rc.version)))
	}
	link := ""
	if end < total && size > 0 {
		link = nextLink(rc, req, q, end)
	}
	return jsonResponse(http.StatusOK, collectionBody(selectContext(ctx, q.sel), total, q.count, link, items))
}

func (s *Server) getDecision(rc *reqCtx, req *request, instID string, d *decisionItem, ctx string) *response {
	q, gerr := parseListQuery(req, decisionCollection[rc.version])
	if gerr != nil {
		return rc.fail(gerr)
	}
	if q.filter != nil || q.top >= 0 || q.offset > 0 || len(q.order) > 0 || q.count {
		return rc.fail(badRequest("Only $select applies to a single decision item."))
	}
	o := d.render(instID, rc.version)
	if len(q.sel) > 0 {
		o = selectProps(o, q.sel)
	}
	return jsonResponse(http.StatusOK, withLeadingProp("@odata.context", selectContext(ctx, q.sel)+"/$entity", marshal(o)))
}

func (s *Server) listContacted(rc *reqCtx, req *request, in *instance, ctx string) *response {
	q, gerr := parseListQuery(req, reviewerCollection)
	if gerr != nil {
		return rc.fail(gerr)
	}
	objs := make([]*object, 0, len(in.Contacted))
	for _, c := range in.Contacted {
		objs = append(objs, newObject().set("id", c.ID).set("displayName", c.DisplayName).
			set("userPrincipalName", c.UPN).set("createdDateTime", timestamp(in.Start)))
	}
	items, total, link := s.page(rc, req, q, objs, q.marshalSelected)
	return jsonResponse(http.StatusOK, collectionBody(selectContext(ctx, q.sel), total, q.count, link, items))
}

// Writes.

// caller is the requester as decisions record it.
func caller(rc *reqCtx) identRef {
	kind := kindUser
	if rc.ident.UPN == "" {
		kind = kindSP
	}
	return identRef{ID: rc.ident.ID, Kind: kind, DisplayName: rc.ident.DisplayName, UPN: rc.ident.UPN}
}

// delegated: acting as a signed-in user (not an application).
func delegated(rc *reqCtx) bool { return rc.ident.UPN != "" }

func needStatus(in *instance, want, what string) *graphError {
	if in.Status != want {
		return conflict("%s needs the access review instance to be %s; instance %s is %s.", what, want, in.ID, in.Status)
	}
	return nil
}

// canonicalDecision checks a decision value; Graph's values are
// case-sensitive names, accepted here in any letter case.
func canonicalDecision(v string) (string, bool) {
	for _, d := range []string{decisionApprove, decisionDeny, decisionNotReviewed, decisionDontKnow} {
		if strings.EqualFold(v, d) {
			return d, true
		}
	}
	return "", false
}

// decisionBody reads {decision, justification} plus the extra keys allowed.
func decisionBody(req *request, extra ...string) (*object, string, string, *graphError) {
	in, gerr := decodeBody(req.body)
	if gerr != nil {
		return nil, "", "", gerr
	}
	for _, k := range in.keys {
		if k != "decision" && k != "justification" && !slices.Contains(extra, k) && !strings.HasPrefix(k, "@odata.") {
			return nil, "", "", badRequest("The property '%s' does not exist on type 'microsoft.graph.accessReviewInstanceDecisionItem'.", k)
		}
	}
	v, ok, gerr := optString(in, "decision", "")
	if gerr != nil {
		return nil, "", "", gerr
	}
	if !ok {
		return nil, "", "", badRequest("The decision property is required: Approve, Deny, NotReviewed or DontKnow.")
	}
	dec, ok := canonicalDecision(v)
	if !ok {
		return nil, "", "", badRequest("'%s' is not a valid decision; use Approve, Deny, NotReviewed or DontKnow.", v)
	}
	just, _, gerr := optString(in, "justification", "")
	if gerr != nil {
		return nil, "", "", gerr
	}
	return in, dec, just, nil
}

func justificationRule(in *instance, dec, just string) *graphError {
	if in.Settings.JustificationRequired && dec == decisionApprove && strings.TrimSpace(just) == "" {
		return badRequest("A justification is required to approve: the review has justificationRequiredOnApproval set.")
	}
	return nil
}

// record sets a decision as its reviewer made it.
func record(d *decisionItem, dec, just string, by identRef, at time.Time) {
	if dec == decisionNotReviewed {
		d.Decision, d.Justification, d.ReviewedBy, d.ReviewedAt = dec, "", nil, time.Time{}
		return
	}
	d.Decision, d.Justification, d.ReviewedBy, d.ReviewedAt = dec, just, &by, at
}

func (s *Server) saved(rc *reqCtx, r *defRecord, status int, body []byte) *response {
	r.life.invalidate()
	s.settle(r, r.life) // a stop or applyDecisions may end the series
	if err := s.saveLifecycle(map[*defRecord]bool{r: true}); err != nil {
		return rc.fail(errorf(http.StatusInternalServerError, codeGeneral, "The emulator could not save its state: %v", err))
	}
	if body != nil {
		return jsonResponse(status, body)
	}
	return &response{status: status, header: http.Header{}}
}

// savedDecisions is saved for changes to decision items only.
func (s *Server) savedDecisions(rc *reqCtx, r *defRecord, in *instance, items []*decisionItem) *response {
	r.life.invalidate()
	if err := s.saveDecisions(r, in, items); err != nil {
		return rc.fail(errorf(http.StatusInternalServerError, codeGeneral, "The emulator could not save its state: %v", err))
	}
	return &response{status: http.StatusNoContent, header: http.Header{}}
}

// patchDecision records a reviewer's decision on item d of the instance
// (st nil) or of one of its stages. On a multi-stage instance's item it is
// recorded on the running stage's item for the same access.
func (s *Server) patchDecision(rc *reqCtx, req *request, r *defRecord, in *instance, st *stage, d *decisionItem) *response {
	if gerr := requireWrite(rc); gerr != nil {
		return rc.fail(gerr)
	}
	if !delegated(rc) {
		return rc.fail(errorf(http.StatusForbidden, codeForbidden, "Updating a decision needs a signed-in reviewer; application permissions are not supported."))
	}
	_, dec, just, gerr := decisionBody(req)
	if gerr != nil {
		return rc.fail(gerr)
	}
	t := d
	if st != nil {
		gerr = needStageStatus(st, statusInProgress, "Recording a decision")
	} else if gerr = needStatus(in, statusInProgress, "Recording a decision"); gerr == nil {
		if t = in.target(d); t == nil {
			gerr = conflict("Decision item %s is final: it did not move on to the running stage of instance %s.", d.ID, in.ID)
		}
	}
	if gerr != nil {
		return rc.fail(gerr)
	}
	if !t.reviewable(rc.ident.ID) {
		return rc.fail(errorf(http.StatusForbidden, codeForbidden, "%s is not a reviewer of decision item %s.", firstNonEmpty(rc.ident.UPN, rc.ident.ID), d.ID))
	}
	if gerr := justificationRule(in, dec, just); gerr != nil {
		return rc.fail(gerr)
	}
	record(t, dec, just, caller(rc), rc.now)
	if in.multiStage() {
		// A stage's item changes the instance's items too (sync): save
		// the instance whole.
		in.sync()
		return s.saved(rc, r, http.StatusNoContent, nil)
	}
	return s.savedDecisions(rc, r, in, []*decisionItem{t})
}

func (s *Server) instanceAction(rc *reqCtx, req *request, r *defRecord, in *instance, action string) *response {
	if gerr := requireWrite(rc); gerr != nil {
		return rc.fail(gerr)
	}
	me := caller(rc)
	switch action {
	case "stop":
		if gerr := needStatus(in, statusInProgress, "stop"); gerr != nil {
			return rc.fail(gerr)
		}
		s.complete(r, in, rc.now, &me)
	case "applydecisions":
		if gerr := needStatus(in, statusCompleted, "applyDecisions"); gerr != nil {
			return rc.fail(gerr)
		}
		s.applyDecisions(r, in, rc.now, me)
	case "sendreminder":
		if gerr := needStatus(in, statusInProgress, "sendReminder"); gerr != nil {
			return rc.fail(gerr)
		}
		in.Reminders++
	case "resetdecisions":
		if gerr := needStatus(in, statusInProgress, "resetDecisions"); gerr != nil {
			return rc.fail(gerr)
		}
		for _, d := range in.writable() {
			record(d, decisionNotReviewed, "", me, rc.now)
		}
		in.sync()
	case "acceptrecommendations":
		if !delegated(rc) {
			return rc.fail(errorf(http.StatusForbidden, codeForbidden, "acceptRecommendations needs a signed-in reviewer; application permissions are not supported."))
		}
		if gerr := needStatus(in, statusInProgress, "acceptRecommendations"); gerr != nil {
			return rc.fail(gerr)
		}
		acceptRecommendations(in.writable(), me, rc.now)
		in.sync()
	case "batchrecorddecisions":
		return s.batchRecord(rc, req, r, in, in.writable(), func() *graphError {
			return needStatus(in, statusInProgress, "batchRecordDecisions")
		}, me)
	}
	return s.saved(rc, r, http.StatusNoContent, nil)
}

// acceptRecommendations takes the recommendation on the items me reviews
// and has not decided, where there is one.
func acceptRecommendations(items []*decisionItem, me identRef, at time.Time) {
	for _, d := range items {
		if d.Decision == decisionNotReviewed && d.reviewable(me.ID) &&
			(d.Recommendation == decisionApprove || d.Recommendation == decisionDeny) {
			record(d, d.Recommendation, "", me, at)
		}
	}
}

// batchRecord records one decision on every matching item of items (those
// reviewers decide now): all of them, or those of principalId and/or
// resourceId. A signed-in user records only on the items they review; an
// application on all. allowed checks the instance's or stage's status.
func (s *Server) batchRecord(rc *reqCtx, req *request, r *defRecord, in *instance, items []*decisionItem, allowed func() *graphError, me identRef) *response {
	body, dec, just, gerr := decisionBody(req, "principalId", "resourceId")
	if gerr != nil {
		return rc.fail(gerr)
	}
	principal, _, gerr := optString(body, "principalId", "")
	if gerr != nil {
		return rc.fail(gerr)
	}
	resource, _, gerr := optString(body, "resourceId", "")
	if gerr != nil {
		return rc.fail(gerr)
	}
	if gerr := allowed(); gerr != nil {
		return rc.fail(gerr)
	}
	if gerr := justificationRule(in, dec, just); gerr != nil {
		return rc.fail(gerr)
	}
	var matched []*decisionItem
	for _, d := range items {
		if principal != "" && !strings.EqualFold(d.Principal.ID, principal) {
			continue
		}
		if resource != "" && (d.Resource == nil || !strings.EqualFold(d.Resource.ID, resource)) {
			continue
		}
		if delegated(rc) && !d.reviewable(me.ID) {
			continue
		}
		matched = append(matched, d)
	}
	if len(matched) == 0 && delegated(rc) {
		return rc.fail(errorf(http.StatusForbidden, codeForbidden, "%s reviews no matching decision item of instance %s.", firstNonEmpty(me.UPN, me.ID), in.ID))
	}
	for _, d := range matched {
		record(d, dec, just, me, rc.now)
	}
	if in.multiStage() {
		in.sync()
		return s.saved(rc, r, http.StatusNoContent, nil)
	}
	return s.savedDecisions(rc, r, in, matched)
}

// updateInstance is PUT .../instances/{id}: only reviewers and
// fallbackReviewers change, scope must be sent unchanged, the instance must
// be InProgress, and fallback reviewers can only be added (409 otherwise).
// Items not yet reviewed get the new reviewers.
func (s *Server) updateInstance(rc *reqCtx, req *request, r *defRecord, in *instance, ctx string) *response {
	if gerr := requireWrite(rc); gerr != nil {
		return rc.fail(gerr)
	}
	body, gerr := decodeBody(req.body)
	if gerr != nil {
		return rc.fail(gerr)
	}
	for _, k := range body.keys {
		switch k {
		case "id", "scope", "reviewers", "fallbackReviewers", "startDateTime", "endDateTime", "status":
		default:
			if !strings.HasPrefix(k, "@odata.") {
				return rc.fail(badRequest("The property '%s' does not exist on type 'microsoft.graph.accessReviewInstance'.", k))
			}
		}
	}
	scope, ok := body.vals["scope"].(*object)
	if !ok {
		return rc.fail(badRequest("The scope property is required when updating an instance, with its current value."))
	}
	if !sameValue(withoutNull(scope), withoutNull(in.Scope)) {
		return rc.fail(badRequest("The scope of an access review instance cannot be changed."))
	}
	n := s.normalizer(rc.version)
	revs, gerr := n.reviewerList(body, "reviewers", "")
	if gerr != nil {
		return rc.fail(gerr)
	}
	fbs, gerr := n.reviewerList(body, "fallbackReviewers", "")
	if gerr != nil {
		return rc.fail(gerr)
	}
	if gerr := needStatus(in, statusInProgress, "Updating an instance"); gerr != nil {
		return rc.fail(gerr)
	}
	newFb := objectsOf(fbs)
	if gerr := onlyAdded(in.Fallback, newFb); gerr != nil {
		return rc.fail(gerr)
	}
	in.Reviewers, in.Fallback = objectsOf(revs), newFb
	// A multi-stage instance's reviewers decide in its running stage.
	s.reassign(in, in.writable(), in.Reviewers, in.Fallback)
	in.sync()
	return s.saved(rc, r, http.StatusOK, withLeadingProp("@odata.context", ctx+"/$entity", marshal(in.render(rc.version))))
}

func objectsOf(list []any) []*object {
	out := make([]*object, 0, len(list))
	for _, v := range list {
		out = append(out, v.(*object))
	}
	return out
}

// onlyAdded answers 409 when an update would remove a fallback reviewer.
func onlyAdded(old, updated []*object) *graphError {
	for _, o := range old {
		if !slices.ContainsFunc(updated, func(n *object) bool { return sameValue(n, o) }) {
			return conflict("Fallback reviewers can only be added to an instance or stage; %s would be removed.", o.str("query"))
		}
	}
	return nil
}

// reassign gives the items not yet reviewed the reviewers revs (or fbs)
// name, contacting the new ones.
func (s *Server) reassign(in *instance, items []*decisionItem, revs, fbs []*object) {
	contacted := map[string]bool{}
	for _, c := range in.Contacted {
		contacted[c.ID] = true
	}
	for _, d := range items {
		if d.Decision != decisionNotReviewed {
			continue
		}
		p := s.dir.byID[d.Principal.ID]
		if p == nil {
			continue
		}
		d.Reviewers = in.contact(s.reviewersOf(revs, fbs, p, s.resourceFor(d)), contacted)
	}
}

// resourceFor finds the directory object a decision's resource names.
func (s *Server) resourceFor(d *decisionItem) *resolvedResource {
	if d.Resource == nil {
		return nil
	}
	res := &resolvedResource{ref: *d.Resource}
	if o := s.dir.byID[d.Resource.ID]; o != nil {
		res.obj = o
	}
	return res
}

// withoutNull drops null-valued properties (queryRoot: null) so a scope
// sent without them compares equal to the stored one.
func withoutNull(o *object) *object {
	out := newObject()
	for _, k := range o.keys {
		if v := o.vals[k]; v != nil {
			out.set(k, v)
		}
	}
	return out
}

// DecisionInput records a reviewer's decision without HTTP, as a reviewer
// would in the My Access portal; see Server.RecordDecision.
type DecisionInput struct {
	DefinitionID string // required
	// InstanceID limits the decision to one instance; by default every
	// InProgress instance of the definition is searched.
	InstanceID string
	// Principal is the reviewed user's or service principal's id or
	// userPrincipalName; required.
	Principal string
	// Resource limits the decision to one resource (a group's id or
	// displayName, or an application's or role's).
	Resource      string
	Decision      string // Approve, Deny, NotReviewed or DontKnow
	Justification string
	// Reviewer is the deciding user's id or userPrincipalName; it must be a
	// reviewer of the item. By default the item's first reviewer decides.
	Reviewer string
}

// RecordDecision records in.Decision on every matching decision item of
// the definition's InProgress instances, with the same rules as a PATCH by
// the reviewer (justification, status), and returns how many were recorded.
func (s *Server) RecordDecision(in DecisionInput) (int, error) {
	dec, ok := canonicalDecision(in.Decision)
	if !ok {
		return 0, fmt.Errorf("decision %q: use Approve, Deny, NotReviewed or DontKnow", in.Decision)
	}
	if strings.TrimSpace(in.Principal) == "" {
		return 0, fmt.Errorf("recording a decision: the principal is required")
	}
	now := s.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.changed()
	if _, err := s.runLifecycle(now); err != nil {
		return 0, err
	}
	r := s.store.byID[strings.ToLower(in.DefinitionID)]
	if r == nil {
		return 0, fmt.Errorf("access review definition %q: %w", in.DefinitionID, ErrNotFound)
	}
	l := s.lifeOf(r)
	var reviewer *dirObject
	if in.Reviewer != "" {
		s.dirMu.RLock()
		reviewer = s.dir.userByKey(in.Reviewer)
		s.dirMu.RUnlock()
		if reviewer == nil {
			return 0, fmt.Errorf("reviewer %q: no such user: %w", in.Reviewer, ErrNotFound)
		}
	}
	matchPrincipal := func(p identRef) bool {
		return strings.EqualFold(p.ID, in.Principal) || p.UPN != "" && strings.EqualFold(p.UPN, in.Principal)
	}
	matchResource := func(res *resourceRef) bool {
		return in.Resource == "" || res != nil && (strings.EqualFold(res.ID, in.Resource) || strings.EqualFold(res.DisplayName, in.Resource))
	}
	n, running, seen := 0, 0, 0
	var errs []string
	for _, inst := range l.instances {
		if in.InstanceID != "" && !strings.EqualFold(inst.ID, in.InstanceID) {
			continue
		}
		if inst.Status != statusInProgress {
			if in.InstanceID != "" {
				return 0, fmt.Errorf("instance %s is %s: decisions can be recorded only while it is InProgress", inst.ID, inst.Status)
			}
			continue
		}
		running++
		recorded := n
		for _, d := range inst.writable() {
			if !matchPrincipal(d.Principal) || !matchResource(d.Resource) {
				continue
			}
			seen++
			var by *dirObject
			switch {
			case reviewer != nil:
				if !d.reviewable(reviewer.id) {
					errs = append(errs, fmt.Sprintf("%s is not a reviewer of %s in instance %s", reviewer.user.UserPrincipalName, d.Principal.DisplayName, inst.ID))
					continue
				}
				by = reviewer
			case len(d.Reviewers) > 0:
				by = s.dir.byID[d.Reviewers[0]]
			}
			if by == nil {
				errs = append(errs, fmt.Sprintf("decision item %s has no reviewer who could decide", d.ID))
				continue
			}
			if gerr := justificationRule(inst, dec, in.Justification); gerr != nil {
				return n, fmt.Errorf("%s", gerr.message)
			}
			record(d, dec, in.Justification, refOf(by), now)
			n++
		}
		if n > recorded {
			inst.sync()
		}
	}
	if n > 0 {
		l.invalidate()
		if err := s.saveLifecycle(map[*defRecord]bool{r: true}); err != nil {
			return n, err
		}
	}
	switch {
	case len(errs) > 0:
		return n, fmt.Errorf("%s", strings.Join(errs, "; "))
	case running == 0:
		return 0, fmt.Errorf("access review %q has no instance in progress: %w", r.Object.str("displayName"), ErrNotFound)
	case seen == 0:
		return 0, fmt.Errorf("no decision item for %q in the running instances of %q: %w", in.Principal, r.Object.str("displayName"), ErrNotFound)
	}
	return n, nil
}
