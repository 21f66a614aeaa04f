package emulator

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file is the emulator's own model of how the access-review service
// validates a definition and rewrites it before storing it. It follows
// docs/graph-behaviour.md (#definition-properties to #validation-limits, and
// #documented-payloads) and shares no code with pkg/diff on
// purpose: a "no drift after apply" test must compare two independent
// implementations.

// OData type names.
const (
	typeDefinition       = "#microsoft.graph.accessReviewScheduleDefinition"
	typeQueryScope       = "#microsoft.graph.accessReviewQueryScope"
	typeInactiveScope    = "#microsoft.graph.accessReviewInactiveUsersQueryScope"
	typePRMScope         = "#microsoft.graph.principalResourceMembershipsScope"
	typeReviewerScope    = "#microsoft.graph.accessReviewReviewerScope"
	typeNotifQueryScope  = "#microsoft.graph.accessReviewNotificationRecipientQueryScope"
	typeRemoveAccess     = "#microsoft.graph.removeAccessApplyAction"
	typeDisableAndDelete = "#microsoft.graph.disableAndDeleteUserApplyAction"
	typeLastSignIn       = "#microsoft.graph.userLastSignInRecommendationInsightSetting"
	typePeerOutlier      = "#microsoft.graph.groupPeerOutlierRecommendationInsightSettings"
	typeSettings         = "#microsoft.graph.accessReviewScheduleSettings"
	typeStageSettings    = "#microsoft.graph.accessReviewStageSettings"
	typeRecurrence       = "#microsoft.graph.patternedRecurrence"
	typePattern          = "#microsoft.graph.recurrencePattern"
	typeRange            = "#microsoft.graph.recurrenceRange"
	typeRecipientItem    = "#microsoft.graph.accessReviewNotificationRecipientItem"
	typeUserIdentity     = "#microsoft.graph.userIdentity"
)

// definitionProps are the properties of accessReviewScheduleDefinition, in
// the order Graph returns them.
var definitionProps = []string{
	"id", "displayName", "createdDateTime", "lastModifiedDateTime", "status",
	"descriptionForAdmins", "descriptionForReviewers", "createdBy", "scope",
	"instanceEnumerationScope", "reviewers", "backupReviewers", "fallbackReviewers",
	"settings", "stageSettings", "additionalNotificationRecipients",
}

// normalizer validates and rewrites definitions for one API version.
type normalizer struct {
	version    string // "v1.0" or "beta": the prefix of absolute scope queries
	prefix     bool
	rangeStyle RangeStyle
}

func (s *Server) normalizer(version string) *normalizer {
	return &normalizer{version: version, prefix: !s.opts.PlainScopeQueries, rangeStyle: s.opts.RangeStyle}
}

func shortType(t string) string { return strings.TrimPrefix(t, "#") }

// odataType reads an object's @odata.type, accepting it with or without '#'.
func odataType(o *object, where string) (string, *graphError) {
	v, ok := o.get("@odata.type")
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", badRequest("Property '%s.@odata.type' must be a string.", where)
	}
	if !strings.HasPrefix(s, "#") {
		s = "#" + s
	}
	return s, nil
}

// checkKeys rejects properties the type does not declare (the type is not
// open), and an @odata.type naming another type. Other annotations are
// ignored, as OData readers do.
func checkKeys(o *object, where, typ string, allowed ...string) *graphError {
	for _, k := range o.keys {
		if strings.HasPrefix(k, "@") {
			if k == "@odata.type" && typ != "" {
				t, gerr := odataType(o, where)
				if gerr != nil {
					return gerr
				}
				if t != "" && t != typ {
					return badRequest("A type named '%s' is not compatible with '%s' at '%s'.", shortType(t), shortType(typ), where)
				}
			}
			continue
		}
		if !slices.Contains(allowed, k) {
			t := shortType(typ)
			if t == "" {
				t = where
			}
			return badRequest("The property '%s' does not exist on type '%s'. Make sure to only use property names that are defined by the type.", k, t)
		}
	}
	return nil
}

func join(where, key string) string {
	if where == "" {
		return key
	}
	return where + "." + key
}

// optString reads a nullable string; null and absent are ok=false.
func optString(o *object, key, where string) (string, bool, *graphError) {
	v, present := o.get(key)
	if !present || v == nil {
		return "", false, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", false, badRequest("Property '%s' must be a string.", join(where, key))
	}
	return s, true, nil
}

// optBool reads a non-nullable boolean; absent is ok=false, null an error.
func optBool(o *object, key, where string) (bool, bool, *graphError) {
	v, present := o.get(key)
	if !present {
		return false, false, nil
	}
	b, ok := v.(bool)
	if !ok {
		if v == nil {
			return false, false, badRequest("Property '%s' cannot be null.", join(where, key))
		}
		return false, false, badRequest("Property '%s' must be true or false.", join(where, key))
	}
	return b, true, nil
}

// optInt reads a non-nullable Int32.
func optInt(o *object, key, where string) (int, bool, *graphError) {
	v, present := o.get(key)
	if !present {
		return 0, false, nil
	}
	num, ok := v.(json.Number)
	if !ok {
		if v == nil {
			return 0, false, badRequest("Property '%s' cannot be null.", join(where, key))
		}
		return 0, false, badRequest("Property '%s' must be an integer.", join(where, key))
	}
	f, err := num.Float64()
	if err != nil || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
		return 0, false, badRequest("Property '%s' must be a 32-bit integer, not %s.", join(where, key), num)
	}
	return int(f), true, nil
}

// optArray reads a collection; null and absent are ok=false.
func optArray(o *object, key, where string) ([]any, bool, *graphError) {
	v, present := o.get(key)
	if !present || v == nil {
		return nil, false, nil
	}
	a, ok := v.([]any)
	if !ok {
		return nil, false, badRequest("Property '%s' must be an array.", join(where, key))
	}
	return a, true, nil
}

// optObject reads a complex value; null and absent are ok=false.
func optObject(o *object, key, where string) (*object, bool, *graphError) {
	v, present := o.get(key)
	if !present || v == nil {
		return nil, false, nil
	}
	obj, ok := v.(*object)
	if !ok {
		return nil, false, badRequest("Property '%s' must be an object.", join(where, key))
	}
	return obj, true, nil
}

// copyBool sets key on out when o has it (a non-nullable boolean).
func copyBool(out, o *object, key, where string) *graphError {
	b, ok, gerr := optBool(o, key, where)
	if ok {
		out.set(key, b)
	}
	return gerr
}

// copyDuration sets key on out, normalised, when o has it (a nullable
// Edm.Duration).
func copyDuration(out, o *object, key, where string) *graphError {
	s, ok, gerr := optString(o, key, where)
	if gerr != nil || !ok {
		return gerr
	}
	d, gerr := normDuration(s, join(where, key))
	if gerr != nil {
		return gerr
	}
	out.set(key, d)
	return nil
}

// copyInsightSettings sets recommendationInsightSettings on out, checked,
// when o has it.
func copyInsightSettings(out, o *object, where string) *graphError {
	const key = "recommendationInsightSettings"
	a, ok, gerr := optArray(o, key, where)
	if gerr != nil || !ok {
		return gerr
	}
	ins, gerr := insightSettings(a, join(where, key))
	if gerr != nil {
		return gerr
	}
	out.set(key, ins)
	return nil
}

func asObject(v any, where string) (*object, *graphError) {
	o, ok := v.(*object)
	if !ok {
		return nil, badRequest("'%s' must be an object.", where)
	}
	return o, nil
}

func stringList(a []any, where string) ([]string, *graphError) {
	out := make([]string, 0, len(a))
	for i, v := range a {
		s, ok := v.(string)
		if !ok {
			return nil, badRequest("'%s[%d]' must be a string.", where, i)
		}
		out = append(out, s)
	}
	return out, nil
}

// definition validates a create or update body and returns the object as
// the service stores it. Server-owned properties (id, timestamps, status,
// createdBy) are left null for the caller to fill; in a body they are
// ignored. The stored object is one for both API versions: beta-only
// values are kept, and renderDefinition shows each version its own
// properties.
func (n *normalizer) definition(in *object) (*object, *graphError) {
	allowed := []string{"id", "displayName", "createdDateTime", "lastModifiedDateTime", "status",
		"descriptionForAdmins", "descriptionForReviewers", "createdBy", "scope",
		"instanceEnumerationScope", "reviewers", "fallbackReviewers", "settings",
		"stageSettings", "additionalNotificationRecipients", "instances",
		// backupReviewers is beta's old name of fallbackReviewers, yet v1.0's
		// create example 3 sends it (docs/graph-behaviour.md#documented-payloads):
		// read it in both versions; renderDefinition returns it in beta only.
		"backupReviewers"}
	if gerr := checkKeys(in, "", typeDefinition, allowed...); gerr != nil {
		return nil, gerr
	}
	if gerr := ignoredInstances(in); gerr != nil {
		return nil, gerr
	}
	out := newObject()
	for _, k := range definitionProps {
		if k != "backupReviewers" {
			out.set(k, nil)
		}
	}

	name, ok, gerr := optString(in, "displayName", "")
	if gerr != nil {
		return nil, gerr
	}
	if !ok || strings.TrimSpace(name) == "" {
		return nil, badRequest("The displayName property is required.")
	}
	out.set("displayName", name)
	for _, k := range []string{"descriptionForAdmins", "descriptionForReviewers"} {
		s, ok, gerr := optString(in, k, "")
		if gerr != nil {
			return nil, gerr
		}
		if ok {
			out.set(k, s)
		}
	}

	scopeIn, ok, gerr := optObject(in, "scope", "")
	if gerr != nil {
		return nil, gerr
	}
	if !ok {
		return nil, badRequest("The scope property is required.")
	}
	scope, gerr := n.scope(scopeIn, "scope", scopeTop)
	if gerr != nil {
		return nil, gerr
	}
	out.set("scope", scope)

	iesIn, ok, gerr := optObject(in, "instanceEnumerationScope", "")
	if gerr != nil {
		return nil, gerr
	}
	if ok {
		ies, gerr := n.scope(iesIn, "instanceEnumerationScope", scopeEnumeration)
		if gerr != nil {
			return nil, gerr
		}
		out.set("instanceEnumerationScope", ies)
	} else if strings.HasPrefix(scope.str("query"), "./") {
		return nil, inputError("The scope query '%s' is relative; it needs an instanceEnumerationScope that lists the resources it applies to.", scope.str("query"))
	}

	reviewers, gerr := n.reviewerList(in, "reviewers", "")
	if gerr != nil {
		return nil, gerr
	}
	out.set("reviewers", reviewers)
	fallback, gerr := n.reviewerList(in, "fallbackReviewers", "")
	if gerr != nil {
		return nil, gerr
	}
	// Writing either backupReviewers or fallbackReviewers fills the other.
	backup, gerr := n.reviewerList(in, "backupReviewers", "")
	if gerr != nil {
		return nil, gerr
	}
	if len(fallback) == 0 {
		fallback = backup
	}
	out.set("fallbackReviewers", fallback)

	settingsIn, ok, gerr := optObject(in, "settings", "")
	if gerr != nil {
		return nil, gerr
	}
	if !ok {
		return nil, badRequest("The settings property is required.")
	}
	settings, period, gerr := n.settings(settingsIn)
	if gerr != nil {
		return nil, gerr
	}
	out.set("settings", settings)

	stagesIn, _, gerr := optArray(in, "stageSettings", "")
	if gerr != nil {
		return nil, gerr
	}
	stages, gerr := n.stageSettings(stagesIn, period)
	if gerr != nil {
		return nil, gerr
	}
	out.set("stageSettings", stages)

	recipients, gerr := n.recipients(in)
	if gerr != nil {
		return nil, gerr
	}
	out.set("additionalNotificationRecipients", recipients)
	return out, nil
}

// ignoredInstances accepts the navigation property instances in a body,
// null or an array of objects, and nothing else. The service makes the
// instances itself (docs/graph-behaviour.md#endpoints-and-versions), so a
// body cannot say anything about them that could be kept: they are
// ignored, as a client that sends back an expanded definition expects.
func ignoredInstances(in *object) *graphError {
	a, ok, gerr := optArray(in, "instances", "")
	if gerr != nil || !ok {
		return gerr
	}
	for i, v := range a {
		if _, gerr := asObject(v, fmt.Sprintf("instances[%d]", i)); gerr != nil {
			return gerr
		}
	}
	return nil
}

type scopeKind int

const (
	scopeTop         scopeKind = iota // definition.scope
	scopeEnumeration                  // instanceEnumerationScope
	scopePrincipal                    // principalResourceMembershipsScope.principalScopes
	scopeResource                     // principalResourceMembershipsScope.resourceScopes
)

// place is where the scope's query sits, for checkQueryForm.
func (k scopeKind) place() queryPlace {
	return [...]queryPlace{scopeTop: placeScope, scopeEnumeration: placeEnumeration,
		scopePrincipal: placePrincipal, scopeResource: placeResource}[k]
}

func (n *normalizer) scope(o *object, where string, kind scopeKind) (*object, *graphError) {
	t, gerr := odataType(o, where)
	if gerr != nil {
		return nil, gerr
	}
	if t == "" {
		switch {
		case o.has("principalScopes") || o.has("resourceScopes"):
			return nil, badRequest("'%s' needs \"@odata.type\": \"%s\".", where, typePRMScope)
		case o.has("inactiveDuration"):
			return nil, badRequest("'%s' needs \"@odata.type\": \"%s\".", where, typeInactiveScope)
		}
		t = typeQueryScope
	}
	switch {
	case t == typePRMScope && kind == scopeTop:
		return n.prmScope(o, where)
	case t == typeQueryScope, t == typeInactiveScope && kind != scopeEnumeration:
	default:
		return nil, badRequest("'%s' cannot be of type '%s'.", where, shortType(t))
	}
	allowed := []string{"query", "queryType", "queryRoot"}
	if t == typeInactiveScope {
		allowed = append(allowed, "inactiveDuration")
	}
	if gerr := checkKeys(o, where, t, allowed...); gerr != nil {
		return nil, gerr
	}
	out := newObject().set("@odata.type", t).set("query", nil)
	q, gerr := queryFields(o, where, out, kind.place())
	if gerr != nil {
		return nil, gerr
	}
	if kind == scopeEnumeration {
		// The service answers with the instanceEnumerationScope query
		// without the version prefix a client may send (the tutorial's
		// create sends /v1.0/groups?$filter=..., the response shows
		// /groups?$filter=...; docs/graph-behaviour.md#scopes-and-queries).
		if rest := q[len(versionPrefix(q)):]; strings.HasPrefix(rest, "/") {
			q = rest
		}
	}
	out.set("query", n.rewriteQuery(q, kind != scopeEnumeration))
	if t == typeInactiveScope {
		out.set("inactiveDuration", "PT0S") // the default
		if gerr := copyDuration(out, o, "inactiveDuration", where); gerr != nil {
			return nil, gerr
		}
	}
	return out, nil
}

// queryFields checks query, queryType and queryRoot and sets the latter two
// on out; it returns the query. A Microsoft Graph query must have one of
// place's forms; queryType is required (docs/graph-behaviour.md#scopes-and-queries).
func queryFields(o *object, where string, out *object, place queryPlace) (string, *graphError) {
	q, ok, gerr := optString(o, "query", where)
	if gerr != nil {
		return "", gerr
	}
	if !ok || strings.TrimSpace(q) == "" {
		return "", badRequest("'%s.query' is required.", where)
	}
	if !strings.HasPrefix(q, "/") && !strings.HasPrefix(q, "./") {
		return "", inputError("The query '%s' at '%s' must start with '/' or './'.", q, where)
	}
	qt, ok, gerr := optString(o, "queryType", where)
	if gerr != nil {
		return "", gerr
	}
	if !ok {
		return "", badRequest("'%s.queryType' is required: MicrosoftGraph for a Microsoft Graph query.", where)
	}
	if qt != "MicrosoftGraph" && qt != "ARM" {
		return "", badRequest("'%s.queryType' must be MicrosoftGraph or ARM, not '%s'.", where, qt)
	}
	// ARM queries name Azure resources, whose forms are not documented.
	if qt == "MicrosoftGraph" {
		if gerr := checkQueryForm(q, place); gerr != nil {
			return "", gerr
		}
	}
	out.set("queryType", qt)
	qr, ok, gerr := optString(o, "queryRoot", where)
	if gerr != nil {
		return "", gerr
	}
	if ok && qr != "decisions" {
		return "", badRequest("'%s.queryRoot' must be null or decisions, not '%s'.", where, qr)
	}
	out.set("queryRoot", nullable(qr))
	return q, nil
}

func (n *normalizer) prmScope(o *object, where string) (*object, *graphError) {
	if gerr := checkKeys(o, where, typePRMScope, "principalScopes", "resourceScopes"); gerr != nil {
		return nil, gerr
	}
	out := newObject().set("@odata.type", typePRMScope)
	for _, k := range []string{"principalScopes", "resourceScopes"} {
		a, ok, gerr := optArray(o, k, where)
		if gerr != nil {
			return nil, gerr
		}
		if !ok || len(a) == 0 {
			return nil, inputError("'%s.%s' needs at least one scope.", where, k)
		}
		subs := make([]any, 0, len(a))
		for i, v := range a {
			w := fmt.Sprintf("%s.%s[%d]", where, k, i)
			so, gerr := asObject(v, w)
			if gerr != nil {
				return nil, gerr
			}
			kind := scopePrincipal
			if k == "resourceScopes" {
				kind = scopeResource
			}
			sub, gerr := n.scope(so, w, kind)
			if gerr != nil {
				return nil, gerr
			}
			subs = append(subs, sub)
		}
		out.set(k, subs)
	}
	return out, nil
}

// rewriteQuery stores a query the way the service does: absolute scope
// queries gain the version prefix, and a query with $filter but no $count
// gains $count=true (first when the path ends in "/", else last).
func (n *normalizer) rewriteQuery(q string, prefix bool) string {
	if prefix && n.prefix && strings.HasPrefix(q, "/") && versionPrefix(q) == "" {
		q = "/" + n.version + q
	}
	path, query, hasQuery := strings.Cut(q, "?")
	if !hasQuery {
		return q
	}
	lower := strings.ToLower(query)
	if strings.Contains(lower, "$filter=") && !strings.Contains(lower, "$count=") {
		if strings.HasSuffix(path, "/") {
			query = "$count=true&" + query
		} else {
			query += "&$count=true"
		}
	}
	return path + "?" + query
}

// versionPrefix returns "/v1.0" or "/beta" when q starts with one.
func versionPrefix(q string) string {
	for _, p := range []string{"/v1.0", "/beta"} {
		if len(q) >= len(p) && strings.EqualFold(q[:len(p)], p) && (len(q) == len(p) || q[len(p)] == '/' || q[len(p)] == '?') {
			return q[:len(p)]
		}
	}
	return ""
}

func (n *normalizer) reviewerList(in *object, key, where string) ([]any, *graphError) {
	a, _, gerr := optArray(in, key, where)
	if gerr != nil {
		return nil, gerr
	}
	out := make([]any, 0, len(a))
	for i, v := range a {
		w := fmt.Sprintf("%s[%d]", join(where, key), i)
		o, gerr := asObject(v, w)
		if gerr != nil {
			return nil, gerr
		}
		r, gerr := reviewer(o, w)
		if gerr != nil {
			return nil, gerr
		}
		out = append(out, r)
	}
	return out, nil
}

func reviewer(o *object, where string) (*object, *graphError) {
	if gerr := checkKeys(o, where, typeReviewerScope, "query", "queryType", "queryRoot"); gerr != nil {
		return nil, gerr
	}
	out := newObject().set("query", nil)
	q, gerr := queryFields(o, where, out, placeReviewer)
	if gerr != nil {
		return nil, gerr
	}
	out.set("query", q)
	if strings.HasPrefix(strings.ToLower(q), "./manager") && out.vals["queryRoot"] == nil {
		return nil, inputError("The reviewer query './manager' at '%s' needs queryRoot 'decisions'.", where)
	}
	return out, nil
}

var defaultDecisions = []string{"Approve", "Deny", "Recommendation", "None"}

// settings normalises accessReviewScheduleSettings and returns the length of
// one recurrence in days (0 for a one-time review).
func (n *normalizer) settings(o *object) (*object, int, *graphError) {
	const where = "settings"
	allowed := []string{"mailNotificationsEnabled", "reminderNotificationsEnabled",
		"justificationRequiredOnApproval", "defaultDecisionEnabled", "defaultDecision",
		"instanceDurationInDays", "autoApplyDecisionsEnabled", "recommendationsEnabled",
		"recurrence", "applyActions", "decisionHistoriesForReviewersEnabled",
		"recommendationInsightSettings", "recommendationLookBackDuration"}
	if n.version == "beta" {
		allowed = append(allowed, "isAgenticExperienceEnabled")
	}
	if gerr := checkKeys(o, where, typeSettings, allowed...); gerr != nil {
		return nil, 0, gerr
	}
	out := newObject()
	for _, k := range []string{"mailNotificationsEnabled", "reminderNotificationsEnabled",
		"justificationRequiredOnApproval", "defaultDecisionEnabled"} {
		b, _, gerr := optBool(o, k, where)
		if gerr != nil {
			return nil, 0, gerr
		}
		out.set(k, b)
	}
	dd, ok, gerr := optString(o, "defaultDecision", where)
	if gerr != nil {
		return nil, 0, gerr
	}
	if !ok {
		dd = "None"
	}
	if !slices.Contains(defaultDecisions, dd) {
		return nil, 0, badRequest("'%s' is not a valid value for settings.defaultDecision; use Approve, Deny or Recommendation.", dd)
	}
	out.set("defaultDecision", dd)
	days, _, gerr := optInt(o, "instanceDurationInDays", where)
	if gerr != nil {
		return nil, 0, gerr
	}
	if days < 0 {
		return nil, 0, inputError("settings.instanceDurationInDays must not be negative (got %d).", days)
	}
	out.set("instanceDurationInDays", days)
	for _, k := range []string{"autoApplyDecisionsEnabled", "recommendationsEnabled"} {
		b, _, gerr := optBool(o, k, where)
		if gerr != nil {
			return nil, 0, gerr
		}
		out.set(k, b)
	}
	// The order and the filled values are the service's: a look-back
	// duration that was not sent is null, decision histories are off, and
	// recommendationInsightSettings (last) is [] (docs/graph-behaviour.md#settings).
	out.set("recommendationLookBackDuration", nil)
	if gerr := copyDuration(out, o, "recommendationLookBackDuration", where); gerr != nil {
		return nil, 0, gerr
	}
	out.set("decisionHistoriesForReviewersEnabled", false)
	if gerr := copyBool(out, o, "decisionHistoriesForReviewersEnabled", where); gerr != nil {
		return nil, 0, gerr
	}

	recIn, ok, gerr := optObject(o, "recurrence", where)
	if gerr != nil {
		return nil, 0, gerr
	}
	if !ok {
		return nil, 0, inputError("settings.recurrence is required; give at least range.startDate.")
	}
	rec, period, gerr := n.recurrence(recIn)
	if gerr != nil {
		return nil, 0, gerr
	}
	out.set("recurrence", rec)

	actions, _, gerr := optArray(o, "applyActions", where)
	if gerr != nil {
		return nil, 0, gerr
	}
	outActions := make([]any, 0, len(actions))
	for i, v := range actions {
		w := fmt.Sprintf("settings.applyActions[%d]", i)
		a, gerr := asObject(v, w)
		if gerr != nil {
			return nil, 0, gerr
		}
		t, gerr := odataType(a, w)
		if gerr != nil {
			return nil, 0, gerr
		}
		if t != typeRemoveAccess && t != typeDisableAndDelete {
			if t == "" {
				return nil, 0, badRequest("'%s' needs an @odata.type: %s or %s.", w, typeRemoveAccess, typeDisableAndDelete)
			}
			return nil, 0, badRequest("'%s' is not a known apply action type at '%s'.", shortType(t), w)
		}
		if gerr := checkKeys(a, w, t); gerr != nil {
			return nil, 0, gerr
		}
		outActions = append(outActions, newObject().set("@odata.type", t))
	}
	out.set("applyActions", outActions)
	out.set("recommendationInsightSettings", []any{})
	if gerr := copyInsightSettings(out, o, where); gerr != nil {
		return nil, 0, gerr
	}
	if gerr := copyBool(out, o, "isAgenticExperienceEnabled", where); gerr != nil {
		return nil, 0, gerr
	}
	return out, period, nil
}

func insightSettings(a []any, where string) ([]any, *graphError) {
	out := make([]any, 0, len(a))
	for i, v := range a {
		w := fmt.Sprintf("%s[%d]", where, i)
		o, gerr := asObject(v, w)
		if gerr != nil {
			return nil, gerr
		}
		t, gerr := odataType(o, w)
		if gerr != nil {
			return nil, gerr
		}
		item := newObject().set("@odata.type", t)
		switch t {
		case typeLastSignIn:
			if gerr := checkKeys(o, w, t, "recommendationLookBackDuration", "signInScope"); gerr != nil {
				return nil, gerr
			}
			if gerr := copyDuration(item, o, "recommendationLookBackDuration", w); gerr != nil {
				return nil, gerr
			}
			if s, ok, gerr := optString(o, "signInScope", w); gerr != nil {
				return nil, gerr
			} else if ok {
				if s != "tenant" && s != "application" && s != "unknownFutureValue" {
					return nil, badRequest("'%s' is not a valid value for %s.signInScope; use tenant or application.", s, w)
				}
				item.set("signInScope", s)
			}
		case typePeerOutlier:
			if gerr := checkKeys(o, w, t); gerr != nil {
				return nil, gerr
			}
		case "":
			return nil, badRequest("'%s' needs an @odata.type: %s or %s.", w, typeLastSignIn, typePeerOutlier)
		default:
			return nil, badRequest("'%s' is not a known recommendation insight type at '%s'.", shortType(t), w)
		}
		out = append(out, item)
	}
	return out, nil
}

// recurrence normalises a patternedRecurrence. Access reviews accept only
// weekly and absoluteMonthly patterns and only type, interval and
// dayOfMonth; the other pattern fields may be sent only with the values the
// service fills in itself (so a GET result can be sent back).
func (n *normalizer) recurrence(o *object) (*object, int, *graphError) {
	const where = "settings.recurrence"
	if gerr := checkKeys(o, where, typeRecurrence, "pattern", "range"); gerr != nil {
		return nil, 0, gerr
	}
	out := newObject()
	period := 0
	pIn, ok, gerr := optObject(o, "pattern", where)
	if gerr != nil {
		return nil, 0, gerr
	}
	if !ok {
		out.set("pattern", nil) // a one-time review
	} else {
		p, days, gerr := pattern(pIn)
		if gerr != nil {
			return nil, 0, gerr
		}
		out.set("pattern", p)
		period = days
	}
	rIn, ok, gerr := optObject(o, "range", where)
	if gerr != nil {
		return nil, 0, gerr
	}
	if !ok {
		return nil, 0, inputError("settings.recurrence.range is required.")
	}
	r, gerr := n.recurrenceRange(rIn)
	if gerr != nil {
		return nil, 0, gerr
	}
	out.set("range", r)
	return out, period, nil
}

func pattern(o *object) (*object, int, *graphError) {
	const where = "settings.recurrence.pattern"
	if gerr := checkKeys(o, where, typePattern, "type", "interval", "month", "dayOfMonth",
		"daysOfWeek", "firstDayOfWeek", "index"); gerr != nil {
		return nil, 0, gerr
	}
	typ, ok, gerr := optString(o, "type", where)
	if gerr != nil {
		return nil, 0, gerr
	}
	switch {
	case !ok:
		return nil, 0, inputError("settings.recurrence.pattern.type is required; leave the pattern out for a one-time review.")
	case typ != "weekly" && typ != "absoluteMonthly":
		return nil, 0, inputError("Recurrence pattern type '%s' is not supported for access reviews; use weekly or absoluteMonthly.", typ)
	}
	interval, _, gerr := optInt(o, "interval", where)
	if gerr != nil {
		return nil, 0, gerr
	}
	if interval < 1 {
		return nil, 0, inputError("settings.recurrence.pattern.interval must be at least 1 (got %d).", interval)
	}
	month, _, gerr := optInt(o, "month", where)
	if gerr != nil {
		return nil, 0, gerr
	}
	if month != 0 {
		return nil, 0, inputError("settings.recurrence.pattern.month is not supported for access reviews (got %d).", month)
	}
	day, _, gerr := optInt(o, "dayOfMonth", where)
	if gerr != nil {
		return nil, 0, gerr
	}
	if day < 0 || day > 31 {
		return nil, 0, inputError("settings.recurrence.pattern.dayOfMonth must be between 1 and 31 (got %d).", day)
	}
	if a, _, gerr := optArray(o, "daysOfWeek", where); gerr != nil {
		return nil, 0, gerr
	} else if len(a) > 0 {
		return nil, 0, inputError("settings.recurrence.pattern.daysOfWeek is not supported for access reviews.")
	}
	for key, want := range map[string]string{"firstDayOfWeek": "sunday", "index": "first"} {
		if s, ok, gerr := optString(o, key, where); gerr != nil {
			return nil, 0, gerr
		} else if ok && s != want {
			return nil, 0, inputError("settings.recurrence.pattern.%s is not supported for access reviews (got '%s').", key, s)
		}
	}
	out := newObject().
		set("type", typ).
		set("interval", interval).
		set("month", 0).
		set("dayOfMonth", day).
		set("daysOfWeek", []any{}).
		set("firstDayOfWeek", "sunday").
		set("index", "first")
	// The longest a recurrence can be, for the stage-duration rule.
	period := 7 * interval
	if typ == "absoluteMonthly" {
		period = 31 * interval
	}
	return out, period, nil
}

// noEndDate is the end date the service stores for a series without end.
const noEndDate = "9999-12-31"

func (n *normalizer) recurrenceRange(o *object) (*object, *graphError) {
	const where = "settings.recurrence.range"
	if gerr := checkKeys(o, where, typeRange, "type", "startDate", "endDate",
		"numberOfOccurrences", "recurrenceTimeZone"); gerr != nil {
		return nil, gerr
	}
	typ, ok, gerr := optString(o, "type", where)
	if gerr != nil {
		return nil, gerr
	}
	if !ok {
		return nil, inputError("settings.recurrence.range.type is required: endDate, noEnd or numbered.")
	}
	if typ != "endDate" && typ != "noEnd" && typ != "numbered" {
		return nil, inputError("Recurrence range type '%s' is not valid; use endDate, noEnd or numbered.", typ)
	}
	startIn, ok, gerr := optString(o, "startDate", where)
	if gerr != nil {
		return nil, gerr
	}
	if !ok {
		return nil, inputError("settings.recurrence.range.startDate is required.")
	}
	start, gerr := cutDate(startIn, "settings.recurrence.range.startDate")
	if gerr != nil {
		return nil, gerr
	}
	var end any
	if s, ok, gerr := optString(o, "endDate", where); gerr != nil {
		return nil, gerr
	} else if ok && typ != "noEnd" {
		e, gerr := cutDate(s, "settings.recurrence.range.endDate")
		if gerr != nil {
			return nil, gerr
		}
		if e < start {
			return nil, inputError("settings.recurrence.range.endDate %s is before startDate %s.", e, start)
		}
		end = e
	}
	count, _, gerr := optInt(o, "numberOfOccurrences", where)
	if gerr != nil {
		return nil, gerr
	}
	tz, _, gerr := optString(o, "recurrenceTimeZone", where)
	if gerr != nil {
		return nil, gerr
	}
	switch typ {
	case "endDate":
		if end == nil {
			return nil, inputError("settings.recurrence.range.endDate is required when the range type is endDate.")
		}
		count = 0
	case "numbered":
		// Documented requests write a one-time or ending review as numbered
		// with 0 (or no) occurrences and a real endDate; the end date then
		// bounds the series (docs/graph-behaviour.md#recurrence). Without
		// one, or with the 9999-12-31 of a series without end, a count is
		// needed.
		if count < 0 || count == 0 && (end == nil || end == noEndDate) {
			return nil, inputError("settings.recurrence.range.numberOfOccurrences must be positive when the range type is numbered without an endDate (got %d).", count)
		}
	case "noEnd":
		count = 0
	}
	if n.rangeStyle == RangeNumbered && typ != "numbered" {
		if typ == "noEnd" {
			end = noEndDate
		}
		typ = "numbered"
	}
	return newObject().
		set("type", typ).
		set("numberOfOccurrences", count).
		set("recurrenceTimeZone", nullable(tz)).
		set("startDate", start).
		set("endDate", end), nil
}

// cutDate accepts YYYY-MM-DD or an RFC 3339 date-time and keeps the date.
func cutDate(s, where string) (string, *graphError) {
	if _, err := time.Parse("2006-01-02", s); err == nil {
		return s, nil
	}
	if _, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return s[:10], nil
	}
	if _, err := time.Parse("2006-01-02T15:04:05", s); err == nil {
		return s[:10], nil
	}
	return "", badRequest("Cannot convert the literal '%s' to the expected type 'Edm.Date' at '%s'; use YYYY-MM-DD.", s, where)
}

var stageDecisions = []string{"Approve", "Deny", "Recommendation", "NotReviewed"}

// stageSettings checks the multi-stage rules: at most three stages, each
// depending on the one before, together no longer than one recurrence.
func (n *normalizer) stageSettings(a []any, period int) ([]any, *graphError) {
	if len(a) > 3 {
		return nil, inputError("A review can have at most 3 stages (got %d).", len(a))
	}
	allowed := []string{"stageId", "dependsOn", "durationInDays", "recommendationsEnabled",
		"decisionsThatWillMoveToNextStage", "reviewers", "fallbackReviewers", "recommendationInsightSettings"}
	if n.version == "beta" {
		allowed = append(allowed, "recommendationLookBackDuration")
	}
	out := make([]any, 0, len(a))
	total := 0
	prev := ""
	seen := map[string]bool{}
	for i, v := range a {
		w := fmt.Sprintf("stageSettings[%d]", i)
		o, gerr := asObject(v, w)
		if gerr != nil {
			return nil, gerr
		}
		if gerr := checkKeys(o, w, typeStageSettings, allowed...); gerr != nil {
			return nil, gerr
		}
		id, ok, gerr := optString(o, "stageId", w)
		if gerr != nil {
			return nil, gerr
		}
		if !ok || id == "" {
			return nil, inputError("%s.stageId is required.", w)
		}
		if seen[id] {
			return nil, inputError("Stage id '%s' is used twice.", id)
		}
		seen[id] = true
		depA, _, gerr := optArray(o, "dependsOn", w)
		if gerr != nil {
			return nil, gerr
		}
		deps, gerr := stringList(depA, w+".dependsOn")
		if gerr != nil {
			return nil, gerr
		}
		switch {
		case i == 0 && len(deps) > 0:
			return nil, inputError("The first stage cannot depend on another stage.")
		case i > 0 && (len(deps) != 1 || deps[0] != prev):
			return nil, inputError("Stages run one after another: stage '%s' must depend on ['%s'] (got %v).", id, prev, deps)
		}
		days, ok, gerr := optInt(o, "durationInDays", w)
		if gerr != nil {
			return nil, gerr
		}
		if !ok || days < 1 {
			return nil, inputError("%s.durationInDays must be at least 1.", w)
		}
		total += days
		rec, _, gerr := optBool(o, "recommendationsEnabled", w)
		if gerr != nil {
			return nil, gerr
		}
		// Every collection is present ([] when not sent) and the beta-only
		// look-back duration is null when not sent; renderDefinition drops
		// it for v1.0.
		item := newObject().
			set("stageId", id).
			set("dependsOn", strs(deps)).
			set("durationInDays", days).
			set("recommendationsEnabled", rec).
			set("recommendationLookBackDuration", nil).
			set("decisionsThatWillMoveToNextStage", []any{})
		if gerr := copyDuration(item, o, "recommendationLookBackDuration", w); gerr != nil {
			return nil, gerr
		}
		if da, ok, gerr := optArray(o, "decisionsThatWillMoveToNextStage", w); gerr != nil {
			return nil, gerr
		} else if ok {
			ds, gerr := stringList(da, w+".decisionsThatWillMoveToNextStage")
			if gerr != nil {
				return nil, gerr
			}
			for _, d := range ds {
				if !slices.Contains(stageDecisions, d) {
					return nil, badRequest("'%s' is not a valid decision in %s.decisionsThatWillMoveToNextStage; use Approve, Deny, Recommendation or NotReviewed.", d, w)
				}
			}
			item.set("decisionsThatWillMoveToNextStage", strs(ds))
		}
		for _, k := range []string{"reviewers", "fallbackReviewers"} {
			list, gerr := n.reviewerList(o, k, w)
			if gerr != nil {
				return nil, gerr
			}
			item.set(k, list)
		}
		item.set("recommendationInsightSettings", []any{})
		if gerr := copyInsightSettings(item, o, w); gerr != nil {
			return nil, gerr
		}
		out = append(out, item)
		prev = id
	}
	if period > 0 && total > period {
		return nil, inputError("The stages last %d days together, longer than one recurrence (%d days).", total, period)
	}
	return out, nil
}

func (n *normalizer) recipients(in *object) ([]any, *graphError) {
	a, _, gerr := optArray(in, "additionalNotificationRecipients", "")
	if gerr != nil {
		return nil, gerr
	}
	out := make([]any, 0, len(a))
	for i, v := range a {
		w := fmt.Sprintf("additionalNotificationRecipients[%d]", i)
		o, gerr := asObject(v, w)
		if gerr != nil {
			return nil, gerr
		}
		if gerr := checkKeys(o, w, typeRecipientItem, "notificationTemplateType", "notificationRecipientScope"); gerr != nil {
			return nil, gerr
		}
		tmpl, ok, gerr := optString(o, "notificationTemplateType", w)
		if gerr != nil {
			return nil, gerr
		}
		if !ok {
			return nil, badRequest("%s.notificationTemplateType is required.", w)
		}
		if tmpl != "CompletedAdditionalRecipients" {
			return nil, badRequest("'%s' is not a supported notificationTemplateType; use CompletedAdditionalRecipients.", tmpl)
		}
		sIn, ok, gerr := optObject(o, "notificationRecipientScope", w)
		if gerr != nil {
			return nil, gerr
		}
		if !ok {
			return nil, badRequest("%s.notificationRecipientScope is required.", w)
		}
		sw := w + ".notificationRecipientScope"
		t, gerr := odataType(sIn, sw)
		if gerr != nil {
			return nil, gerr
		}
		if t != "" && t != typeNotifQueryScope {
			return nil, badRequest("'%s' cannot be of type '%s'.", sw, shortType(t))
		}
		if gerr := checkKeys(sIn, sw, typeNotifQueryScope, "query", "queryType", "queryRoot"); gerr != nil {
			return nil, gerr
		}
		scope := newObject().set("@odata.type", typeNotifQueryScope).set("query", nil)
		q, gerr := queryFields(sIn, sw, scope, placeRecipient)
		if gerr != nil {
			return nil, gerr
		}
		if scope.str("queryType") != "MicrosoftGraph" {
			return nil, badRequest("%s.queryType must be MicrosoftGraph.", sw)
		}
		scope.set("query", q)
		out = append(out, newObject().
			set("notificationTemplateType", tmpl).
			set("notificationRecipientScope", scope))
	}
	return out, nil
}

// edmDuration reads an Edm.Duration the way the service does (.NET
// TimeSpan): P[nD][T[nH][nM][n[.n]S]], each unit once (in any order), a
// fraction only in seconds, at most TimeSpan.MaxValue. It returns the
// length in ticks of 100 ns, TimeSpan's unit. It is the emulator's one duration parser:
// normDuration checks and rewrites what requests send with it, and
// durationOf reads stored values with it.
//
// Weeks: Edm.Duration has days, hours, minutes and seconds only, not the
// years, months and weeks of ISO 8601 (docs/graph-behaviour.md#durations),
// so P2W is rejected like P1M, not read as P14D, in requests and in
// stored values alike.
func edmDuration(s string) (ticks int64, ok bool) {
	rest, ok := strings.CutPrefix(s, "P")
	if !ok || rest == "" {
		return 0, false
	}
	var total float64 // seconds
	inTime := false
	seen := ""
	for rest != "" {
		if rest[0] == 'T' {
			if inTime {
				return 0, false
			}
			inTime = true
			rest = rest[1:]
			if rest == "" {
				return 0, false
			}
			continue
		}
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		if i == 0 || i == len(rest) {
			return 0, false
		}
		num := rest[:i]
		unit := rest[i]
		rest = rest[i+1:]
		v, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return 0, false
		}
		key := string(unit)
		if inTime {
			key = "T" + key
		}
		if strings.Contains(seen, key+",") {
			return 0, false
		}
		seen += key + ","
		switch {
		case !inTime && unit == 'D':
			total += v * 86400
		case inTime && unit == 'H':
			total += v * 3600
		case inTime && unit == 'M':
			total += v * 60
		case inTime && unit == 'S':
			total += v
		default:
			return 0, false
		}
		if unit != 'S' && strings.Contains(num, ".") {
			return 0, false
		}
	}
	if total > 10675199*86400 { // TimeSpan.MaxValue
		return 0, false
	}
	return int64(math.Round(total * 1e7)), true
}

// normDuration checks an Edm.Duration (edmDuration) and writes it the way
// the service serialises it: the largest units first, zero parts left
// out, "PT0S" for zero. So PT720H comes back as P30D.
func normDuration(s, where string) (string, *graphError) {
	ticks, ok := edmDuration(s)
	if !ok {
		return "", badRequest("'%s' is not a valid duration at '%s'; use ISO 8601 days and time, e.g. P30D or PT12H.", s, where)
	}
	days := ticks / (86400 * 1e7)
	ticks -= days * 86400 * 1e7
	hours := ticks / (3600 * 1e7)
	ticks -= hours * 3600 * 1e7
	mins := ticks / (60 * 1e7)
	ticks -= mins * 60 * 1e7
	var b strings.Builder
	b.WriteByte('P')
	if days > 0 {
		fmt.Fprintf(&b, "%dD", days)
	}
	if hours > 0 || mins > 0 || ticks > 0 || days == 0 {
		b.WriteByte('T')
		if hours > 0 {
			fmt.Fprintf(&b, "%dH", hours)
		}
		if mins > 0 {
			fmt.Fprintf(&b, "%dM", mins)
		}
		if ticks > 0 || (days == 0 && hours == 0 && mins == 0) {
			secs := ticks / 1e7
			frac := ticks % 1e7
			if frac == 0 {
				fmt.Fprintf(&b, "%dS", secs)
			} else {
				f := strings.TrimRight(fmt.Sprintf("%07d", frac), "0")
				fmt.Fprintf(&b, "%d.%sS", secs, f)
			}
		}
	}
	return b.String(), nil
}
