package graph

import (
	"cmp"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Normalize returns d in canonical form: the form in which two definitions
// that mean the same thing are equal. It is applied to both the desired and
// the live side before they are compared, and it never modifies d.
//
// What it does, and why (docs/graph-behaviour.md sections in brackets):
//   - Drops read-only properties (id, status, timestamps, createdBy) and the
//     ownership marker; line ends in descriptions become LF and trailing
//     white space is dropped.
//   - Queries go through NormalizeQuery [#scopes-and-queries].
//   - Scopes get their @odata.type default (accessReviewQueryScope) and
//     queryType default (MicrosoftGraph); fields a scope's type does not have
//     are dropped; queryRoot is dropped for absolute queries, where Graph
//     ignores it and sometimes echoes "decisions" anyway [#reviewers]; a
//     principalResourceMemberships scope's sub-scopes are sorted.
//   - Reviewer lists, apply actions, insight settings, notification
//     recipients and stages are sorted; empty lists become nil (Graph echoes
//     [] for what was not sent).
//   - Settings booleans and instanceDurationInDays absent become false / 0
//     (they are non-nullable with those defaults [#settings]); defaultDecision ""
//     becomes "None" (what Graph echoes when none is set); durations are
//     canonical (NormalizeDuration) and recommendationLookBackDuration absent
//     becomes P30D, its documented default.
//   - applyActions absent or [] becomes [removeAccessApplyAction]: that is the
//     documented default action, so the two mean the same [#apply-actions-and-insights].
//   - Recurrence [#recurrence]: a pattern without a type means one-time (nil); a
//     pattern's unset firstDayOfWeek/index/interval take Graph's fill-ins
//     (sunday, first, 1); dates lose any time part; the range's end is
//     canonical: noEnd, numbered with 0 occurrences and no end date (or
//     9999-12-31, or the string "null"), and endDate 9999-12-31 are all
//     noEnd; numbered with 0 occurrences and a real end date is endDate.
func Normalize(d Definition) Definition {
	n := Definition{
		DisplayName:                      d.DisplayName,
		DescriptionForAdmins:             normText(StripMarker(d.DescriptionForAdmins)),
		DescriptionForReviewers:          normText(d.DescriptionForReviewers),
		Scope:                            normScope(d.Scope, TypeQueryScope),
		InstanceEnumerationScope:         normScope(d.InstanceEnumerationScope, TypeQueryScope),
		Reviewers:                        normReviewers(d.Reviewers),
		FallbackReviewers:                normReviewers(d.FallbackReviewers),
		Settings:                         normSettings(d.Settings),
		StageSettings:                    normStages(d.StageSettings),
		AdditionalNotificationRecipients: normRecipients(d.AdditionalNotificationRecipients),
	}
	return n
}

func normText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.TrimRight(s, " \t\r\n")
}

// Known OData type names, by lower case, so that a different letter case or a
// missing "#" still matches.
var knownTypes = func() map[string]string {
	m := map[string]string{}
	for _, t := range []string{
		TypeQueryScope, TypeInactiveUsersQueryScope,
		TypePrincipalResourceMemberships, TypeNotificationRecipientQuery,
		TypeRemoveAccessApplyAction, TypeDisableAndDeleteUserAction,
		TypeUserLastSignInInsight, TypeGroupPeerOutlierInsight,
	} {
		m[strings.ToLower(t)] = t
	}
	return m
}()

// normType returns the canonical "#microsoft.graph.x" spelling of an OData
// type name, or def when t is empty.
func normType(t, def string) string {
	t = strings.TrimSpace(t)
	if t == "" {
		return def
	}
	l := strings.ToLower(t)
	if !strings.HasPrefix(l, "#") {
		l = "#" + l
	}
	if !strings.HasPrefix(l, "#microsoft.graph.") {
		l = "#microsoft.graph." + l[1:]
	}
	if k, ok := knownTypes[l]; ok {
		return k
	}
	return t
}

func normQueryType(t string) string {
	if t == "" || strings.EqualFold(t, QueryTypeMicrosoftGraph) {
		return QueryTypeMicrosoftGraph
	}
	return t
}

// normQueryRoot keeps queryRoot only where it means something: on relative
// queries ("./manager"). On absolute ones Graph ignores it.
func normQueryRoot(root, normalisedQuery string) string {
	if strings.HasPrefix(normalisedQuery, "/") || normalisedQuery == "" {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(root))
}

func normScope(s *Scope, defType string) *Scope {
	if s == nil {
		return nil
	}
	if isEmptyScope(s) {
		return nil
	}
	n := &Scope{ODataType: normType(s.ODataType, defType)}
	switch n.ODataType {
	case TypePrincipalResourceMemberships:
		n.PrincipalScopes = normScopeList(s.PrincipalScopes)
		n.ResourceScopes = normScopeList(s.ResourceScopes)
		return n
	case TypeQueryScope, TypeNotificationRecipientQuery:
	case TypeInactiveUsersQueryScope:
		n.InactiveDuration = s.InactiveDuration
		if n.InactiveDuration == "" {
			n.InactiveDuration = "PT0S" // documented default (docs/graph-behaviour.md#scopes-and-queries)
		}
		n.InactiveDuration = NormalizeDuration(n.InactiveDuration)
	default:
		// A type this version does not know: keep everything it carries.
		n.InactiveDuration = NormalizeDuration(s.InactiveDuration)
		n.PrincipalScopes = normScopeList(s.PrincipalScopes)
		n.ResourceScopes = normScopeList(s.ResourceScopes)
	}
	n.Query = NormalizeQuery(s.Query)
	n.QueryType = normQueryType(s.QueryType)
	n.QueryRoot = normQueryRoot(s.QueryRoot, n.Query)
	return n
}

func isEmptyScope(s *Scope) bool {
	return s.ODataType == "" && s.Query == "" && s.QueryType == "" && s.QueryRoot == "" &&
		s.InactiveDuration == "" && len(s.PrincipalScopes) == 0 && len(s.ResourceScopes) == 0
}

func normScopeList(in []Scope) []Scope {
	if len(in) == 0 {
		return nil
	}
	out := make([]Scope, 0, len(in))
	for i := range in {
		if n := normScope(&in[i], TypeQueryScope); n != nil {
			out = append(out, *n)
		}
	}
	return sortedOrNil(out, func(a, b Scope) int { return strings.Compare(scopeKey(a), scopeKey(b)) })
}

// sortedOrNil sorts s stably with cmp, and returns nil for an empty s:
// Graph echoes [] for a list that was not sent, and the two mean the same.
func sortedOrNil[T any](s []T, cmp func(a, b T) int) []T {
	if len(s) == 0 {
		return nil
	}
	slices.SortStableFunc(s, cmp)
	return s
}

func scopeKey(s Scope) string {
	k := s.ODataType + "\x00" + s.Query + "\x00" + s.QueryType + "\x00" + s.QueryRoot + "\x00" + s.InactiveDuration
	for _, p := range s.PrincipalScopes {
		k += "\x01" + scopeKey(p)
	}
	for _, r := range s.ResourceScopes {
		k += "\x02" + scopeKey(r)
	}
	return k
}

func normReviewers(in []ReviewerScope) []ReviewerScope {
	if len(in) == 0 {
		return nil
	}
	out := make([]ReviewerScope, 0, len(in))
	for _, r := range in {
		if r == (ReviewerScope{}) {
			continue
		}
		q := NormalizeQuery(r.Query)
		out = append(out, ReviewerScope{
			Query:     q,
			QueryType: normQueryType(r.QueryType),
			QueryRoot: normQueryRoot(r.QueryRoot, q),
		})
	}
	return sortedOrNil(out, func(a, b ReviewerScope) int {
		return cmp.Or(strings.Compare(a.Query, b.Query), strings.Compare(a.QueryRoot, b.QueryRoot), strings.Compare(a.QueryType, b.QueryType))
	})
}

func boolPtr(b *bool) *bool {
	v := b != nil && *b
	return &v
}

func normSettings(s *ScheduleSettings) *ScheduleSettings {
	if s == nil {
		s = &ScheduleSettings{}
	}
	days := 0
	if s.InstanceDurationInDays != nil {
		days = *s.InstanceDurationInDays
	}
	look := s.RecommendationLookBackDuration
	if look == "" {
		look = "P30D" // documented default (docs/graph-behaviour.md#settings)
	}
	return &ScheduleSettings{
		MailNotificationsEnabled:             boolPtr(s.MailNotificationsEnabled),
		ReminderNotificationsEnabled:         boolPtr(s.ReminderNotificationsEnabled),
		JustificationRequiredOnApproval:      boolPtr(s.JustificationRequiredOnApproval),
		DefaultDecisionEnabled:               boolPtr(s.DefaultDecisionEnabled),
		DefaultDecision:                      normDecision(s.DefaultDecision, "None"),
		InstanceDurationInDays:               &days,
		AutoApplyDecisionsEnabled:            boolPtr(s.AutoApplyDecisionsEnabled),
		RecommendationsEnabled:               boolPtr(s.RecommendationsEnabled),
		RecommendationLookBackDuration:       NormalizeDuration(look),
		DecisionHistoriesForReviewersEnabled: boolPtr(s.DecisionHistoriesForReviewersEnabled),
		Recurrence:                           NormalizeRecurrence(s.Recurrence),
		ApplyActions:                         normApplyActions(s.ApplyActions),
		RecommendationInsightSettings:        normInsights(s.RecommendationInsightSettings),
	}
}

// normDecision gives the documented spelling of a decision value; "" becomes
// def.
func normDecision(v, def string) string {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "":
		return def
	case "none":
		return "None"
	case "approve":
		return "Approve"
	case "deny":
		return "Deny"
	case "recommendation":
		return "Recommendation"
	case "notreviewed":
		return "NotReviewed"
	case "dontknow":
		return "DontKnow"
	}
	return v
}

func normApplyActions(in []ApplyAction) []ApplyAction {
	seen := map[string]bool{}
	var out []ApplyAction
	for _, a := range in {
		t := normType(a.ODataType, "")
		if t == "" || seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, ApplyAction{ODataType: t})
	}
	if len(out) == 0 {
		return []ApplyAction{{ODataType: TypeRemoveAccessApplyAction}}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ODataType < out[j].ODataType })
	return out
}

func normInsights(in []RecommendationInsightSetting) []RecommendationInsightSetting {
	if len(in) == 0 {
		return nil
	}
	out := make([]RecommendationInsightSetting, 0, len(in))
	for _, s := range in {
		n := RecommendationInsightSetting{ODataType: normType(s.ODataType, "")}
		switch n.ODataType {
		case TypeGroupPeerOutlierInsight:
			// no properties
		case TypeUserLastSignInInsight:
			look := s.RecommendationLookBackDuration
			if look == "" {
				look = "P30D" // documented default (docs/graph-behaviour.md#apply-actions-and-insights)
			}
			n.RecommendationLookBackDuration = NormalizeDuration(look)
			n.SignInScope = strings.ToLower(strings.TrimSpace(s.SignInScope))
		default:
			n.RecommendationLookBackDuration = NormalizeDuration(s.RecommendationLookBackDuration)
			n.SignInScope = strings.ToLower(strings.TrimSpace(s.SignInScope))
		}
		if n == (RecommendationInsightSetting{}) {
			continue
		}
		out = append(out, n)
	}
	return sortedOrNil(out, func(a, b RecommendationInsightSetting) int {
		return cmp.Or(strings.Compare(a.ODataType, b.ODataType), strings.Compare(a.SignInScope, b.SignInScope),
			strings.Compare(a.RecommendationLookBackDuration, b.RecommendationLookBackDuration))
	})
}

func normStages(in []StageSettings) []StageSettings {
	if len(in) == 0 {
		return nil
	}
	out := make([]StageSettings, len(in))
	for i, s := range in {
		n := StageSettings{
			StageID:                          strings.TrimSpace(s.StageID),
			DependsOn:                        sortedStrings(s.DependsOn, strings.TrimSpace),
			DurationInDays:                   s.DurationInDays,
			RecommendationsEnabled:           boolPtr(s.RecommendationsEnabled),
			DecisionsThatWillMoveToNextStage: sortedStrings(s.DecisionsThatWillMoveToNextStage, func(v string) string { return normDecision(v, "") }),
			Reviewers:                        normReviewers(s.Reviewers),
			FallbackReviewers:                normReviewers(s.FallbackReviewers),
			RecommendationInsightSettings:    normInsights(s.RecommendationInsightSettings),
		}
		out[i] = n
	}
	// Stages are identified by stageId; numeric ids sort numerically.
	sort.SliceStable(out, func(i, j int) bool { return lessID(out[i].StageID, out[j].StageID) })
	return out
}

func lessID(a, b string) bool {
	ai, errA := strconv.Atoi(a)
	bi, errB := strconv.Atoi(b)
	if errA == nil && errB == nil {
		return ai < bi
	}
	if (errA == nil) != (errB == nil) {
		return errA == nil
	}
	return a < b
}

func sortedStrings(in []string, f func(string) string) []string {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s = f(s); s != "" {
			out = append(out, s)
		}
	}
	return sortedOrNil(out, strings.Compare)
}

func normRecipients(in []NotificationRecipientItem) []NotificationRecipientItem {
	if len(in) == 0 {
		return nil
	}
	out := make([]NotificationRecipientItem, 0, len(in))
	for _, r := range in {
		t := r.NotificationTemplateType
		if t == "" || strings.EqualFold(t, NotificationTemplateCompletedRecp) {
			// The only supported value (docs/graph-behaviour.md#notification-recipients).
			t = NotificationTemplateCompletedRecp
		}
		out = append(out, NotificationRecipientItem{
			NotificationTemplateType:   t,
			NotificationRecipientScope: normScope(r.NotificationRecipientScope, TypeNotificationRecipientQuery),
		})
	}
	return sortedOrNil(out, func(a, b NotificationRecipientItem) int {
		return cmp.Or(strings.Compare(a.NotificationTemplateType, b.NotificationTemplateType),
			strings.Compare(recipientScopeKey(a), recipientScopeKey(b)))
	})
}

func recipientScopeKey(r NotificationRecipientItem) string {
	if r.NotificationRecipientScope == nil {
		return ""
	}
	return scopeKey(*r.NotificationRecipientScope)
}

// farFuture is the end date Graph writes for a series without an end
// (docs/graph-behaviour.md#recurrence).
const farFuture = "9999-12-31"

// NormalizeRecurrence returns a recurrence in the canonical form Normalize
// gives it (docs/graph-behaviour.md#recurrence): nil for a one-time review
// that says nothing more; a pattern's type in its documented spelling,
// with Graph's fill-ins for what is unset; dates without a time part; and
// the range's plainest type (noEnd, endDate or numbered), however Graph
// stored it. It never modifies r.
func NormalizeRecurrence(r *PatternedRecurrence) *PatternedRecurrence {
	if r == nil {
		return nil
	}
	n := &PatternedRecurrence{
		Pattern: normPattern(r.Pattern),
		Range:   normRange(r.Range),
	}
	if n.Pattern == nil && n.Range == nil {
		return nil
	}
	return n
}

var patternTypes = map[string]string{
	"daily": "daily", "weekly": "weekly", "absolutemonthly": "absoluteMonthly",
	"relativemonthly": "relativeMonthly", "absoluteyearly": "absoluteYearly", "relativeyearly": "relativeYearly",
}

var weekdays = map[string]int{
	"sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6,
}

func normPattern(p *RecurrencePattern) *RecurrencePattern {
	if p == nil || strings.TrimSpace(p.Type) == "" {
		// No type: a one-time review, whatever defaults were filled in.
		return nil
	}
	n := &RecurrencePattern{
		Type:           strings.TrimSpace(p.Type),
		Interval:       p.Interval,
		Month:          p.Month,
		DayOfMonth:     p.DayOfMonth,
		FirstDayOfWeek: strings.ToLower(strings.TrimSpace(p.FirstDayOfWeek)),
		Index:          strings.ToLower(strings.TrimSpace(p.Index)),
	}
	if t, ok := patternTypes[strings.ToLower(n.Type)]; ok {
		n.Type = t
	}
	if n.Interval == 0 {
		n.Interval = 1
	}
	if n.FirstDayOfWeek == "" {
		n.FirstDayOfWeek = "sunday"
	}
	if n.Index == "" {
		n.Index = "first"
	}
	if len(p.DaysOfWeek) > 0 {
		days := make([]string, 0, len(p.DaysOfWeek))
		for _, d := range p.DaysOfWeek {
			if d = strings.ToLower(strings.TrimSpace(d)); d != "" {
				days = append(days, d)
			}
		}
		sort.SliceStable(days, func(i, j int) bool {
			a, okA := weekdays[days[i]]
			b, okB := weekdays[days[j]]
			if okA && okB {
				return a < b
			}
			if okA != okB {
				return okA
			}
			return days[i] < days[j]
		})
		if len(days) > 0 {
			n.DaysOfWeek = days
		}
	}
	return n
}

func normRange(r *RecurrenceRange) *RecurrenceRange {
	if r == nil {
		return nil
	}
	start := normDate(r.StartDate)
	end := normDate(r.EndDate)
	if end == farFuture {
		end = ""
	}
	n := &RecurrenceRange{
		StartDate:          start,
		RecurrenceTimeZone: strings.TrimSpace(r.RecurrenceTimeZone),
	}
	switch strings.ToLower(strings.TrimSpace(r.Type)) {
	case "noend":
		n.Type = "noEnd"
	case "enddate":
		n.Type, n.EndDate = "endDate", end
		if end == "" {
			n.Type = "noEnd"
		}
	case "numbered", "":
		// Numbered with 0 occurrences, or no type: what is there decides.
		switch {
		case r.NumberOfOccurrences > 0:
			n.Type, n.NumberOfOccurrences = "numbered", r.NumberOfOccurrences
		case end != "":
			n.Type, n.EndDate = "endDate", end
		default:
			n.Type = "noEnd"
		}
	default:
		n.Type, n.NumberOfOccurrences, n.EndDate = strings.TrimSpace(r.Type), r.NumberOfOccurrences, end
	}
	if *n == (RecurrenceRange{Type: "noEnd"}) && r.Type == "" {
		return nil
	}
	return n
}

var dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}`)

// normDate reduces a date or datetime to its YYYY-MM-DD part, as Graph does
// with startDate (docs/graph-behaviour.md#recurrence); "null" (which Graph has been seen to return) is empty.
func normDate(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "null") {
		return ""
	}
	if m := dateRE.FindString(s); m != "" && (len(s) == 10 || s[10] == 'T' || s[10] == 't' || s[10] == ' ') {
		return m
	}
	return s
}

// guidRE matches a GUID anywhere in a string.
var guidRE = regexp.MustCompile(`[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}`)

// GUIDs returns the GUIDs that appear anywhere in s, in order.
func GUIDs(s string) []string { return guidRE.FindAllString(s, -1) }

// NormalizeQuery returns a Graph query string (a scope's, a reviewer's, a
// recipient's) in canonical form, undoing what Graph does when it stores one
// (docs/graph-behaviour.md#scopes-and-queries, which links
// terraform-provider-msgraph#110):
//   - a scheme and host, and a "/v1.0" or "/beta" version prefix, are removed;
//   - a trailing "/" on the path is removed ("microsoft.graph.user/?$filter"
//     and "microsoft.graph.user?$filter" are the same);
//   - ".../transitiveMembers" gets the "/microsoft.graph.user" cast Graph adds;
//   - GUIDs are lower case;
//   - the query options are percent- and '+'-decoded, "$count=true" is
//     removed, option names are lower case and options are sorted by name;
//   - in option values, outside quoted literals: runs of white space become
//     one space, spaces inside parentheses and around ',' and ':' are removed,
//     and OData keywords (eq, and, any, ...) are lower case.
//
// The result is for comparison and display; it is not URL-encoded. To
// write a query where Graph will read it again, use WritableQuery.
func NormalizeQuery(q string) string { return canonicalQuery(q, false) }

// WritableQuery returns q in the canonical form of NormalizeQuery, written
// so that it can be sent to Graph again (as arsync export writes queries
// into spec files): the same text, except that the characters that a
// query read as a URL would take differently stay percent-encoded ('%',
// '&', '+' and '#' in the options, '%', '?' and '#' in the path). So
// NormalizeQuery(WritableQuery(q)) is NormalizeQuery(q), and for the
// queries Graph documents the two are the same text.
func WritableQuery(q string) string { return canonicalQuery(q, true) }

// canonicalQuery is NormalizeQuery, or with writable WritableQuery.
func canonicalQuery(q string, writable bool) string {
	q = strings.TrimSpace(q)
	if q == "" {
		return ""
	}
	path, rawQuery, _ := strings.Cut(q, "?")
	path = normPath(path)
	params := normParams(rawQuery, writable)
	if writable {
		path = escapeEnds(pathEscaper.Replace(path))
	}
	out := path
	if len(params) > 0 {
		out += "?" + strings.Join(params, "&")
	}
	return lowerGUIDs(out)
}

// lowerGUIDs lower-cases the GUIDs in s; GUIDs are case-insensitive.
func lowerGUIDs(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return r >= 'A' && r <= 'F' }) < 0 {
		return s // nothing to lower: the common case, without a regexp
	}
	return guidRE.ReplaceAllStringFunc(s, strings.ToLower)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

func normPath(p string) string {
	p = strings.TrimSpace(p)
	if hasPrefixFold(p, "https://") || hasPrefixFold(p, "http://") {
		rest := p[strings.Index(p, "//")+2:]
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			p = rest[i:]
		} else {
			p = "/"
		}
	}
	if strings.IndexByte(p, '%') >= 0 {
		if u, err := url.PathUnescape(p); err == nil {
			p = u
		}
	}
	for _, v := range []string{"/v1.0", "/beta"} {
		if hasPrefixFold(p, v) && (len(p) == len(v) || p[len(v)] == '/') {
			p = p[len(v):]
			if p == "" {
				p = "/"
			}
			break
		}
	}
	for len(p) > 1 && strings.HasSuffix(p, "/") && p != "./" {
		p = p[:len(p)-1]
	}
	if hasSuffixFold(p, "/transitiveMembers") {
		p += "/microsoft.graph.user"
	}
	return p
}

// The escapers percent-encode what a decoded path, option name or option
// value cannot hold as plain text without changing the query.
var (
	pathEscaper  = strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23")
	valueEscaper = strings.NewReplacer("%", "%25", "&", "%26", "+", "%2B", "#", "%23")
	keyEscaper   = strings.NewReplacer("%", "%25", "&", "%26", "+", "%2B", "#", "%23", "=", "%3D")
)

// escapeEnds percent-encodes white space at the ends of a decoded path,
// which would otherwise be trimmed away.
func escapeEnds(p string) string {
	mid := strings.TrimSpace(p)
	if mid == p {
		return p
	}
	i := strings.Index(p, mid)
	if mid == "" {
		i = len(p)
	}
	return url.PathEscape(p[:i]) + mid + url.PathEscape(p[i+len(mid):])
}

// normParams returns the canonical query options, "key=value" or "key";
// with writable, escaped to be sent again.
func normParams(raw string, writable bool) []string {
	if strings.TrimSpace(raw) == "" {
		return nil
	}
	type param struct{ key, value string }
	var ps []param
	for _, part := range strings.Split(raw, "&") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		k, v, hasValue := strings.Cut(part, "=")
		k = strings.ToLower(strings.TrimSpace(unescapeQuery(k)))
		v = normExpr(unescapeQuery(v))
		if k == "$count" && strings.EqualFold(v, "true") {
			continue
		}
		if !hasValue {
			ps = append(ps, param{key: k, value: "\x00"})
			continue
		}
		ps = append(ps, param{key: k, value: v})
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].key < ps[j].key })
	out := make([]string, len(ps))
	for i, p := range ps {
		key, value := p.key, p.value
		if writable {
			key = keyEscaper.Replace(key)
			if value != "\x00" {
				value = valueEscaper.Replace(value)
			}
		}
		if value == "\x00" {
			out[i] = key
		} else {
			out[i] = key + "=" + value
		}
	}
	return out
}

func unescapeQuery(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s
	}
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return strings.ReplaceAll(s, "+", " ")
}

// OData keywords and functions whose letter case does not matter.
var odataKeywords = map[string]bool{
	"eq": true, "ne": true, "gt": true, "ge": true, "lt": true, "le": true,
	"and": true, "or": true, "not": true, "in": true, "has": true,
	"any": true, "all": true, "isof": true, "contains": true, "startswith": true, "endswith": true,
	"true": true, "false": true, "null": true,
}

func isWordByte(c byte) bool {
	return c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// normExpr canonicalises an OData expression outside its quoted literals.
func normExpr(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	pendingSpace := false
	i := 0
	// space writes the white space pending before the token starting with
	// next, as one space, unless no space belongs between the two.
	space := func(next byte) {
		if pendingSpace && b.Len() > 0 {
			if str := b.String(); !noSpaceAfter(str[len(str)-1]) && !noSpaceBefore(next) {
				b.WriteByte(' ')
			}
		}
		pendingSpace = false
	}
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\'':
			// A quoted literal, with '' as an escaped quote, copied as is.
			j := i + 1
			for j < len(s) {
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			if j >= len(s) {
				j = len(s) - 1
			}
			space(c)
			b.WriteString(s[i : j+1])
			i = j + 1
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			pendingSpace = true
			i++
		case isWordByte(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			w := s[i:j]
			if odataKeywords[strings.ToLower(w)] {
				w = strings.ToLower(w)
			}
			space(c)
			b.WriteString(w)
			i = j
		default:
			space(c)
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

func noSpaceAfter(c byte) bool  { return c == '(' || c == ',' || c == ':' || c == '/' }
func noSpaceBefore(c byte) bool { return c == ')' || c == ',' || c == ':' || c == '/' }
