package spec

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Limits and vocabularies from reference/graph-api.md §3-§11.
const (
	maxDescriptionForReviewers = 256 // reviewer e-mails carry at most 256 characters
	maxStages                  = 3
	maxAppLookBackSeconds      = 30 * 86400 // look-back for application reviews
	markerPrefix               = "[arsync:"
)

var (
	nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

	defaultDecisions    = []string{"Approve", "Deny", "Recommendation", "None"}
	stageMoveDecisions  = []string{"Approve", "Deny", "Recommendation", "NotReviewed"}
	queryTypes          = []string{"MicrosoftGraph", "ARM"}
	recipientQueryTypes = []string{"MicrosoftGraph"}
	queryRoots          = []string{"decisions"}
	patternTypes        = []string{"weekly", "absoluteMonthly"}
	unsupportedPatterns = []string{"daily", "relativeMonthly", "absoluteYearly", "relativeYearly"}
	rangeTypes          = []string{"endDate", "noEnd", "numbered"}
	signInScopes        = []string{"tenant", "application"}
	templateTypes       = []string{"CompletedAdditionalRecipients"}
)

// Polymorphic type names: short name and Graph's @odata.type, both accepted
// under "type:" and "@odata.type:".
var (
	scopeTypes = []typeName{
		{"query", "#microsoft.graph.accessReviewQueryScope"},
		{"inactiveUsers", "#microsoft.graph.accessReviewInactiveUsersQueryScope"},
		{"principalResourceMemberships", "#microsoft.graph.principalResourceMembershipsScope"},
	}
	applyActionTypes = []typeName{
		{"removeAccessApplyAction", "#microsoft.graph.removeAccessApplyAction"},
		{"disableAndDeleteUserApplyAction", "#microsoft.graph.disableAndDeleteUserApplyAction"},
	}
	insightTypes = []typeName{
		{InsightUserLastSignIn, "#microsoft.graph.userLastSignInRecommendationInsightSetting"},
		{InsightGroupPeerOutlier, "#microsoft.graph.groupPeerOutlierRecommendationInsightSettings"},
	}
	recipientScopeTypes = []typeName{
		{"query", "#microsoft.graph.accessReviewNotificationRecipientQueryScope"},
	}
)

type typeName struct{ short, odata string }

// lookupType maps a short or full type name to its short name.
func lookupType(names []typeName, s string) (string, bool) {
	for _, t := range names {
		if s == t.short || s == t.odata {
			return t.short, true
		}
	}
	return "", false
}

func odataType(names []typeName, short string) string {
	for _, t := range names {
		if t.short == short {
			return t.odata
		}
	}
	return ""
}

func typeChoices(names []typeName) []string {
	out := make([]string, 0, 2*len(names))
	for _, t := range names {
		out = append(out, t.short)
	}
	for _, t := range names {
		out = append(out, t.odata)
	}
	return out
}

// readType reads a polymorphic object's kind from "type" or "@odata.type".
// found is false when neither is written.
func (d *decoder) readType(ps *pairs, path string, names []typeName) (short string, at *yaml.Node, found bool) {
	t, o := ps.get("type"), ps.get("@odata.type")
	if t != nil && o != nil {
		d.errf(o.k, "%s has both type and @odata.type; write only one", where(path))
	}
	p := t
	if p == nil {
		p = o
	}
	if p == nil {
		return "", nil, false
	}
	s, ok := d.str(p.v, join(path, p.key))
	if !ok {
		return "", p.v, true
	}
	short, ok = lookupType(names, s)
	if !ok {
		choices := typeChoices(names)
		d.errf(p.v, "%s must be one of %s, got %s%s", join(path, p.key), strings.Join(choices[:len(names)], ", "), quote(s), didYouMean(s, choices))
		return "", p.v, true
	}
	return short, p.v, true
}

// --- document ---------------------------------------------------------------

var (
	documentFields = fields{known: []string{"apiVersion", "kind", "metadata", "spec"}}
	metadataFields = fields{
		known: []string{"name"},
		hints: map[string]string{
			"labels":      "is not supported; metadata has only name",
			"annotations": "is not supported; metadata has only name",
			"namespace":   "is not supported; metadata has only name",
		},
	}
)

// decodeDocument decodes one YAML document's root node. It returns nil for
// an empty document.
func (d *decoder) decodeDocument(doc *yaml.Node) *Definition {
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil
		}
		doc = doc.Content[0]
	}
	root := deref(doc)
	if isNull(root) {
		return nil
	}
	def := &Definition{Source: d.pos(root)}
	ps, ok := d.mapping(root, "", documentFields)
	if !ok {
		return def
	}
	if p := ps.get("apiVersion"); p != nil {
		def.Source = d.pos(p.k)
		if v, ok := d.str(p.v, "apiVersion"); ok && v != APIVersion {
			d.errf(p.v, "apiVersion must be %s, got %s", APIVersion, quote(v))
		} else if !ok && isNull(p.v) {
			d.errf(p.k, "apiVersion must be %s", APIVersion)
		}
	} else if !ps.misspelt("apiVersion") {
		d.errf(root, "apiVersion is missing; every document starts with apiVersion: %s", APIVersion)
	}
	if p := ps.get("kind"); p != nil {
		if v, ok := d.str(p.v, "kind"); ok && v != Kind {
			d.errf(p.v, "kind must be %s, got %s%s", Kind, quote(v), didYouMean(v, []string{Kind}))
		} else if !ok && isNull(p.v) {
			d.errf(p.k, "kind must be %s", Kind)
		}
	} else if !ps.misspelt("kind") {
		d.errf(root, "kind is missing; write kind: %s", Kind)
	}
	if p := ps.get("metadata"); p != nil {
		d.decodeMetadata(def, p)
	} else if !ps.misspelt("metadata") {
		d.errf(root, "metadata is missing; write metadata: {name: NAME}")
	}
	if p := ps.get("spec"); p != nil {
		if isNull(p.v) {
			d.errf(p.k, "spec is empty")
		} else {
			d.decodeSpec(&def.Spec, p.v, p.k)
		}
	} else if !ps.misspelt("spec") {
		d.errf(root, "spec is missing")
	}
	return def
}

func (d *decoder) decodeMetadata(def *Definition, p *pair) {
	ps, ok := d.mapping(p.v, "metadata", metadataFields)
	if !ok {
		if isNull(p.v) {
			d.errf(p.k, "metadata.name is required")
		}
		return
	}
	np := ps.get("name")
	if np == nil {
		if !ps.misspelt("name") {
			d.errf(p.k, "metadata.name is required")
		}
		return
	}
	name, ok := d.str(np.v, "metadata.name")
	if !ok {
		if isNull(np.v) {
			d.errf(np.k, "metadata.name is required")
		}
		return
	}
	def.NamePos = d.pos(np.v)
	if !nameRE.MatchString(name) {
		d.errf(np.v, "metadata.name %s must be 1 to 63 lower-case letters, digits and dashes, not starting or ending with a dash", quote(name))
		return
	}
	def.Name = name
}

// --- spec -------------------------------------------------------------------

var specFields = fields{
	known: []string{
		"displayName", "descriptionForAdmins", "descriptionForReviewers",
		"scope", "instanceEnumerationScope", "reviewers", "fallbackReviewers",
		"additionalNotificationRecipients", "settings", "stageSettings",
	},
	hints: map[string]string{
		"id":                   "is read-only (Graph assigns it); remove it",
		"status":               "is read-only (Graph sets it); remove it",
		"createdBy":            "is read-only (Graph sets it); remove it",
		"createdDateTime":      "is read-only (Graph sets it); remove it",
		"lastModifiedDateTime": "is read-only (Graph sets it); remove it",
		"instances":            "is read-only (Graph creates instances); remove it",
		"backupReviewers":      "is deprecated and not in Graph v1.0; use fallbackReviewers",
		"@odata.type":          "is not needed on a definition; remove it",
		"@odata.context":       "is response metadata; remove it",
	},
}

func (d *decoder) decodeSpec(s *DefinitionSpec, n, at *yaml.Node) {
	ps, ok := d.mapping(n, "spec", specFields)
	if !ok {
		return
	}
	if p := ps.get("displayName"); p != nil {
		s.DisplayName, _ = d.str(p.v, "spec.displayName")
		if strings.TrimSpace(s.DisplayName) == "" && p.v.Kind == yaml.ScalarNode {
			d.errf(p.v, "spec.displayName must not be empty")
		}
	} else if !ps.misspelt("displayName") {
		d.errf(at, "spec.displayName is required")
	}
	if p := ps.get("descriptionForAdmins"); p != nil {
		s.DescriptionForAdmins, _ = d.str(p.v, "spec.descriptionForAdmins")
		if strings.Contains(s.DescriptionForAdmins, markerPrefix) {
			d.errf(p.v, "spec.descriptionForAdmins must not contain %q: arsync adds its ownership marker itself", markerPrefix)
		}
	}
	if p := ps.get("descriptionForReviewers"); p != nil {
		s.DescriptionForReviewers, _ = d.str(p.v, "spec.descriptionForReviewers")
		if n := utf8.RuneCountInString(s.DescriptionForReviewers); n > maxDescriptionForReviewers {
			d.errf(p.v, "spec.descriptionForReviewers is %d characters long; Graph allows at most %d", n, maxDescriptionForReviewers)
		}
	}
	if p := ps.get("scope"); p != nil && !isNull(p.v) {
		s.Scope = d.decodeScope(p.v, p.k, "spec.scope", scopeTop)
	} else if !ps.misspelt("scope") {
		d.errf(keyOr(p, at), "spec.scope is required")
	}
	if p := ps.get("instanceEnumerationScope"); p != nil && !isNull(p.v) {
		s.InstanceEnumerationScope = d.decodeScope(p.v, p.k, "spec.instanceEnumerationScope", scopeEnumeration)
	}
	if p := ps.get("reviewers"); p != nil {
		s.Reviewers = d.decodeReviewers(p.v, "spec.reviewers")
	}
	if p := ps.get("fallbackReviewers"); p != nil {
		s.FallbackReviewers = d.decodeReviewers(p.v, "spec.fallbackReviewers")
	}
	if p := ps.get("additionalNotificationRecipients"); p != nil {
		s.AdditionalNotificationRecipients = d.decodeRecipients(p.v, "spec.additionalNotificationRecipients")
	}
	stagesPair := ps.get("stageSettings")
	if stagesPair != nil {
		s.StageSettings = d.decodeStages(stagesPair.v, "spec.stageSettings")
	}
	if p := ps.get("settings"); p != nil && !isNull(p.v) {
		s.Settings = d.decodeSettings(p.v, p.k, "spec.settings", len(s.StageSettings) > 0)
	} else if !ps.misspelt("settings") {
		d.errf(keyOr(p, at), "spec.settings is required")
	}

	// Rules that span several fields.
	if sc := s.Scope; sc != nil && sc.Type != ScopePrincipalResourceMemberships &&
		strings.HasPrefix(sc.Query, "./") && s.InstanceEnumerationScope == nil {
		d.addAt(sc.QueryPos, Error, "spec.scope.query %s is relative to each reviewed group, so spec.instanceEnumerationScope is required (e.g. query: /groups?$filter=(groupTypes/any(c:c eq 'Unified')))", quote(sc.Query))
	}
	if app := isAppReview(s.Scope); s.Settings != nil {
		d.checkAppLookBack(s, app)
	}
	if len(s.StageSettings) > 0 {
		d.checkStageTotals(s, stagesPair.k)
	}
}

func keyOr(p *pair, at *yaml.Node) *yaml.Node {
	if p != nil {
		return p.k
	}
	return at
}

// isAppReview reports whether scope reviews access to an application: a
// principalResourceMemberships scope with a /servicePrincipals resource.
func isAppReview(sc *Scope) bool {
	if sc == nil || sc.Type != ScopePrincipalResourceMemberships {
		return false
	}
	for _, r := range sc.ResourceScopes {
		q := strings.TrimPrefix(strings.TrimPrefix(r.Query, "/v1.0"), "/beta")
		if strings.HasPrefix(q, "/servicePrincipals") {
			return true
		}
	}
	return false
}

// checkAppLookBack applies the application-review limits: look-back of at
// most 30 days, and signInScope application only for application reviews.
func (d *decoder) checkAppLookBack(s *DefinitionSpec, app bool) {
	check := func(dur string, p Pos, path string) {
		if !app || dur == "" {
			return
		}
		if secs, err := parseDuration(dur); err == nil && secs > maxAppLookBackSeconds {
			d.addAt(p, Error, "%s %s is longer than 30 days, the limit for reviews of application access", path, quote(dur))
		}
	}
	insights := func(list []InsightSetting, path string) {
		for i, in := range list {
			check(in.RecommendationLookBackDuration, in.Pos, index(path, i)+".recommendationLookBackDuration")
			if in.SignInScope == "application" && !app {
				d.addAt(in.Pos, Error, "%s.signInScope application is only for reviews of application access (a principalResourceMemberships scope with a /servicePrincipals resource)", index(path, i))
			}
		}
	}
	st := s.Settings
	check(st.RecommendationLookBackDuration, st.lookBackPos, "spec.settings.recommendationLookBackDuration")
	insights(st.RecommendationInsightSettings, "spec.settings.recommendationInsightSettings")
	for i, stg := range s.StageSettings {
		insights(stg.RecommendationInsightSettings, index("spec.stageSettings", i)+".recommendationInsightSettings")
	}
}

// checkStageTotals applies the multi-stage rules that need settings: the
// summed stage durations fit one recurrence period.
func (d *decoder) checkStageTotals(s *DefinitionSpec, at *yaml.Node) {
	total := 0
	for _, st := range s.StageSettings {
		total += st.DurationInDays
	}
	if s.Settings == nil || s.Settings.Recurrence == nil || s.Settings.Recurrence.Pattern == nil {
		return
	}
	pat := s.Settings.Recurrence.Pattern
	if period, ok := periodDays(pat); ok && total > period {
		d.errf(at, "spec.stageSettings last %d days in total, longer than one %s recurrence (%d days); the stages of one review must end before the next one starts", total, describePattern(pat), period)
	}
}

// periodDays is the shortest time between two starts of a recurring review:
// 7×interval days for weekly; for absoluteMonthly, the fewest days that
// interval consecutive months can have (28 for 1, 59 for 2, 89 for 3, 181
// for 6, 365 for 12), counting February as 28 days. A review, or the sum of
// its stages, must fit in it so that instances never overlap.
func periodDays(p *Pattern) (int, bool) {
	if p.Interval < 1 {
		return 0, false
	}
	switch p.Type {
	case "weekly":
		return 7 * p.Interval, true
	case "absoluteMonthly":
		return shortestMonths(p.Interval), true
	}
	return 0, false
}

var monthDays = [12]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

func shortestMonths(n int) int {
	years, rest := n/12, n%12
	best := 0
	if rest > 0 {
		best = -1
		for start := range 12 {
			sum := 0
			for k := range rest {
				sum += monthDays[(start+k)%12]
			}
			if best < 0 || sum < best {
				best = sum
			}
		}
	}
	return years*365 + best
}

func describePattern(p *Pattern) string {
	unit := map[string]string{"weekly": "week", "absoluteMonthly": "month"}[p.Type]
	if p.Interval == 1 {
		return "1-" + unit
	}
	return strconv.Itoa(p.Interval) + "-" + unit
}

// --- scopes -----------------------------------------------------------------

type scopeContext int

const (
	scopeTop         scopeContext = iota // spec.scope: any kind
	scopeEnumeration                     // instanceEnumerationScope: query only
	scopeNested                          // inside principalResourceMemberships: query or inactiveUsers
)

var scopeFields = fields{
	known: []string{"@odata.type", "type", "query", "queryType", "queryRoot", "inactiveDuration", "principalScopes", "resourceScopes"},
	hints: map[string]string{
		"scopeType":  "is a beta-only property; arsync writes Graph v1.0 scopes (query, inactiveUsers, principalResourceMemberships)",
		"resourceId": "is a beta-only property; arsync writes Graph v1.0 scopes (query, inactiveUsers, principalResourceMemberships)",
	},
}

func (d *decoder) decodeScope(n, at *yaml.Node, path string, ctx scopeContext) *Scope {
	ps, ok := d.mapping(n, path, scopeFields)
	if !ok {
		return nil
	}
	sc := &Scope{Pos: d.pos(n)}
	short, typeNode, found := d.readType(ps, path, scopeTypes)
	switch {
	case found:
		sc.Type = ScopeType(short)
	case ps.get("principalScopes") != nil || ps.get("resourceScopes") != nil:
		d.errf(at, "%s needs type: principalResourceMemberships (or @odata.type: %s)", path, odataType(scopeTypes, string(ScopePrincipalResourceMemberships)))
		sc.Type = ScopePrincipalResourceMemberships
	case ps.get("inactiveDuration") != nil:
		d.errf(at, "%s needs type: inactiveUsers (or @odata.type: %s) to use inactiveDuration", path, odataType(scopeTypes, string(ScopeInactiveUsers)))
		sc.Type = ScopeInactiveUsers
	default:
		sc.Type = ScopeQuery
	}
	if typeNode == nil {
		typeNode = at
	}
	switch {
	case ctx == scopeEnumeration && sc.Type != ScopeQuery && sc.Type != "":
		d.errf(typeNode, "%s must be a query scope, got %s", path, sc.Type)
	case ctx == scopeNested && sc.Type == ScopePrincipalResourceMemberships:
		d.errf(typeNode, "%s cannot be another principalResourceMemberships scope; use query or inactiveUsers", path)
	}

	for _, p := range ps.list {
		switch p.key {
		case "query":
			sc.Query, sc.QueryPos = d.query(p.v, join(path, "query"), &sc.refs)
		case "queryType":
			sc.QueryType, _ = d.enum(p.v, join(path, "queryType"), queryTypes)
		case "queryRoot":
			sc.QueryRoot, _ = d.enum(p.v, join(path, "queryRoot"), queryRoots)
		case "inactiveDuration":
			sc.InactiveDuration, _, _ = d.duration(p.v, join(path, "inactiveDuration"))
		case "principalScopes", "resourceScopes":
			if ctx != scopeTop {
				// Only a top-level scope may nest scopes; not descending
				// here also ends YAML alias cycles (&s [*s]).
				if sc.Type != ScopePrincipalResourceMemberships {
					d.errf(p.k, "%s.%s is only used by a principalResourceMemberships scope in spec.scope", path, p.key)
				}
				continue
			}
			list := d.decodeScopeList(p, join(path, p.key))
			if p.key == "principalScopes" {
				sc.PrincipalScopes = list
			} else {
				sc.ResourceScopes = list
			}
		}
	}

	switch sc.Type {
	case ScopeQuery, ScopeInactiveUsers:
		if ps.get("query") == nil && !ps.misspelt("query") {
			d.errf(at, "%s.query is required", path)
		}
		for _, k := range []string{"principalScopes", "resourceScopes"} {
			if p := ps.get(k); p != nil && ctx == scopeTop {
				d.errf(p.k, "%s.%s is only used by type principalResourceMemberships", path, k)
			}
		}
		if sc.Type == ScopeInactiveUsers && ps.get("inactiveDuration") == nil && !ps.misspelt("inactiveDuration") {
			d.errf(at, "%s.inactiveDuration is required for an inactiveUsers scope (e.g. P30D)", path)
		}
		if p := ps.get("inactiveDuration"); p != nil && sc.Type == ScopeQuery && found {
			d.errf(p.k, "%s.inactiveDuration is only used by type inactiveUsers", path)
		}
	case ScopePrincipalResourceMemberships:
		for _, k := range []string{"query", "queryType", "queryRoot", "inactiveDuration"} {
			if p := ps.get(k); p != nil {
				d.errf(p.k, "%s.%s is not used by a principalResourceMemberships scope; put queries in principalScopes and resourceScopes", path, k)
			}
		}
		for _, k := range []string{"principalScopes", "resourceScopes"} {
			if p := ps.get(k); p == nil && !ps.misspelt(k) {
				d.errf(at, "%s.%s is required for a principalResourceMemberships scope", path, k)
			}
		}
	}
	return sc
}

func (d *decoder) decodeScopeList(p pair, path string) []Scope {
	items, ok := d.list(p.v, path)
	if !ok || len(items) == 0 {
		if ok || isNull(p.v) {
			d.errf(p.k, "%s must list at least one scope", path)
		}
		return nil
	}
	out := make([]Scope, 0, len(items))
	for i, it := range items {
		if isNull(it) {
			d.errf(it, "%s is empty", index(path, i))
			continue
		}
		if sc := d.decodeScope(it, it, index(path, i), scopeNested); sc != nil {
			out = append(out, *sc)
		}
	}
	return out
}

// query reads a Graph query string, checks its form and its ${kind:name}
// references, and records the references in refs.
func (d *decoder) query(n *yaml.Node, path string, refs *[]Reference) (string, Pos) {
	q, ok := d.str(n, path)
	if !ok {
		if isNull(n) {
			d.errf(n, "%s must not be empty", path)
		}
		return "", d.pos(n)
	}
	base, exact := d.valuePos(n)
	if strings.TrimSpace(q) == "" {
		d.errf(n, "%s must not be empty", path)
		return q, base
	}
	if !strings.HasPrefix(q, "/") && !strings.HasPrefix(q, "./") {
		d.errf(n, "%s %s must start with / (absolute, e.g. /groups/ID/transitiveMembers) or ./ (relative, e.g. ./owners)", path, quote(q))
	}
	found, err := parseQueryRefs(q)
	for _, r := range found {
		*refs = append(*refs, Reference{Kind: r.kind, Name: r.name, Pos: offsetPos(base, exact, q, r.start)})
	}
	if se, ok := err.(*refSyntaxError); ok {
		d.addAt(offsetPos(base, exact, q, se.offset), Error, "%s: %s", path, se.msg)
	}
	return q, base
}

// --- reviewers and notification recipients -----------------------------------

var reviewerFields = fields{
	known: []string{"query", "queryType", "queryRoot", "user", "groupMembers", "groupOwners", "owners", "managers"},
	hints: map[string]string{
		"@odata.type": "is not needed on reviewers; remove it",
		"group":       "is ambiguous for a reviewer; write groupMembers or groupOwners",
		"manager":     "is not a field; write managers: true",
		"owner":       "is not a field; write owners: true (or groupOwners: NAME for one group's owners)",
		"scopeType":   "is a beta-only property; use query or the user/groupMembers/groupOwners/owners/managers forms",
		"reviewerId":  "is a beta-only property; use query or the user/groupMembers/groupOwners/owners/managers forms",
	},
}

var reviewerForms = []string{"query", "user", "groupMembers", "groupOwners", "owners", "managers"}

func (d *decoder) decodeReviewers(n *yaml.Node, path string) []Reviewer {
	items, ok := d.list(n, path)
	if !ok {
		return nil
	}
	out := make([]Reviewer, 0, len(items))
	for i, it := range items {
		ip := index(path, i)
		ps, ok := d.mapping(it, ip, reviewerFields)
		if !ok {
			if isNull(it) {
				d.errf(it, "%s is empty; write one of %s", ip, strings.Join(reviewerForms, ", "))
			}
			continue
		}
		if r, ok := d.decodeReviewer(ps, it, ip, false); ok {
			out = append(out, r)
		}
	}
	return out
}

// decodeReviewer reads one reviewer entry from its pairs, or (recipient
// true) the scope of a notification recipient, which has no relative forms.
// Keys other than the forms, queryType and queryRoot are the caller's.
func (d *decoder) decodeReviewer(ps *pairs, n *yaml.Node, path string, recipient bool) (Reviewer, bool) {
	forms := reviewerForms
	if recipient {
		forms = recipientForms
	}
	r := Reviewer{Pos: d.pos(n)}
	var set []pair
	for _, p := range ps.list {
		if contains(forms, p.key) {
			set = append(set, p)
		}
	}
	if len(set) == 0 {
		if ps.unknown == 0 {
			d.errf(n, "%s needs one of %s", path, strings.Join(forms, ", "))
		}
		return r, false
	}
	if len(set) > 1 {
		d.errf(set[1].k, "%s has both %s and %s; write exactly one of %s", path, set[0].key, set[1].key, strings.Join(forms, ", "))
		return r, false
	}
	form := set[0]
	r.ValuePos = d.pos(form.v)
	if form.key != "query" {
		for _, k := range []string{"queryType", "queryRoot"} {
			if p := ps.get(k); p != nil {
				d.errf(p.k, "%s.%s is only used with query, not with %s", path, k, form.key)
			}
		}
	}
	fp := join(path, form.key)
	switch form.key {
	case "query":
		r.Query, r.ValuePos = d.query(form.v, fp, &r.refs)
		if p := ps.get("queryType"); p != nil {
			types := queryTypes
			if recipient {
				types = recipientQueryTypes
			}
			r.QueryType, _ = d.enum(p.v, join(path, "queryType"), types)
		}
		if p := ps.get("queryRoot"); p != nil {
			r.QueryRoot, _ = d.enum(p.v, join(path, "queryRoot"), queryRoots)
		}
		if q, _, _ := strings.Cut(r.Query, "?"); strings.TrimSuffix(q, "/") == "./manager" && r.QueryRoot != "decisions" {
			d.errf(form.v, "%s ./manager needs queryRoot: decisions (or write managers: true)", fp)
		}
	case "user", "groupMembers", "groupOwners":
		v, ok := d.str(form.v, fp)
		v = strings.TrimSpace(v)
		if !ok || v == "" {
			d.errf(form.v, "%s must name a %s", fp, map[string]string{"user": "user (UPN, mail or id)", "groupMembers": "group (display name or id)", "groupOwners": "group (display name or id)"}[form.key])
			return r, false
		}
		kind := RefGroup
		switch form.key {
		case "user":
			r.User, kind = v, RefUser
		case "groupMembers":
			r.GroupMembers = v
		case "groupOwners":
			r.GroupOwners = v
		}
		r.refs = append(r.refs, Reference{Kind: kind, Name: v, Pos: r.ValuePos})
	case "owners", "managers":
		b := d.boolean(form.v, fp)
		if b == nil || !*b {
			if b != nil {
				d.errf(form.v, "%s must be true; leave the entry out otherwise", fp)
			}
			return r, false
		}
		if form.key == "owners" {
			r.Owners = true
		} else {
			r.Managers = true
		}
	}
	return r, true
}

var (
	recipientFields = fields{
		known: []string{"notificationTemplateType", "notificationRecipientScope", "query", "queryType", "queryRoot", "user", "groupMembers", "groupOwners"},
		hints: map[string]string{
			"owners":   "is only valid for reviewers; name the group with groupOwners: NAME",
			"managers": "is only valid for reviewers",
		},
	}
	recipientScopeFields = fields{
		known: []string{"@odata.type", "type", "query", "queryType", "queryRoot", "user", "groupMembers", "groupOwners"},
		hints: map[string]string{
			"owners":   "is only valid for reviewers; name the group with groupOwners: NAME",
			"managers": "is only valid for reviewers",
		},
	}
	recipientForms = []string{"query", "user", "groupMembers", "groupOwners"}
)

func (d *decoder) decodeRecipients(n *yaml.Node, path string) []NotificationRecipient {
	items, ok := d.list(n, path)
	if !ok {
		return nil
	}
	out := make([]NotificationRecipient, 0, len(items))
	for i, it := range items {
		ip := index(path, i)
		ps, ok := d.mapping(it, ip, recipientFields)
		if !ok {
			if isNull(it) {
				d.errf(it, "%s is empty", ip)
			}
			continue
		}
		rc := NotificationRecipient{Pos: d.pos(it)}
		if p := ps.get("notificationTemplateType"); p != nil {
			rc.NotificationTemplateType, _ = d.enum(p.v, join(ip, "notificationTemplateType"), templateTypes)
		}
		var shorthand *pair
		for _, k := range recipientForms {
			if p := ps.get(k); p != nil {
				shorthand = p
				break
			}
		}
		sp := ps.get("notificationRecipientScope")
		switch {
		case sp != nil && shorthand != nil:
			d.errf(shorthand.k, "%s has both notificationRecipientScope and %s; write the recipient in one place", ip, shorthand.key)
			continue
		case sp != nil:
			scopePath := join(ip, "notificationRecipientScope")
			sps, ok := d.mapping(sp.v, scopePath, recipientScopeFields)
			if !ok {
				if isNull(sp.v) {
					d.errf(sp.k, "%s is empty", scopePath)
				}
				continue
			}
			d.readType(sps, scopePath, recipientScopeTypes)
			r, ok := d.decodeReviewer(sps, sp.v, scopePath, true)
			if !ok {
				continue
			}
			rc.Recipient = r
		default:
			r, ok := d.decodeReviewer(ps, it, ip, true)
			if !ok {
				continue
			}
			rc.Recipient = r
		}
		out = append(out, rc)
	}
	return out
}

// --- settings ---------------------------------------------------------------

var settingsFields = fields{
	known: []string{
		"mailNotificationsEnabled", "reminderNotificationsEnabled", "justificationRequiredOnApproval",
		"defaultDecisionEnabled", "defaultDecision", "instanceDurationInDays", "autoApplyDecisionsEnabled",
		"recommendationsEnabled", "recommendationLookBackDuration", "decisionHistoriesForReviewersEnabled",
		"recurrence", "applyActions", "recommendationInsightSettings",
	},
	hints: map[string]string{
		"isAgenticExperienceEnabled": "is a beta-only setting, not in Graph v1.0",
		"@odata.type":                "is not needed on settings; remove it",
	},
}

func (d *decoder) decodeSettings(n, at *yaml.Node, path string, hasStages bool) *Settings {
	ps, ok := d.mapping(n, path, settingsFields)
	if !ok {
		return nil
	}
	st := &Settings{Pos: d.pos(n)}
	var durationNode, decisionNode *yaml.Node
	for _, p := range ps.list {
		fp := join(path, p.key)
		switch p.key {
		case "mailNotificationsEnabled":
			st.MailNotificationsEnabled = d.boolean(p.v, fp)
		case "reminderNotificationsEnabled":
			st.ReminderNotificationsEnabled = d.boolean(p.v, fp)
		case "justificationRequiredOnApproval":
			st.JustificationRequiredOnApproval = d.boolean(p.v, fp)
		case "defaultDecisionEnabled":
			st.DefaultDecisionEnabled = d.boolean(p.v, fp)
		case "defaultDecision":
			st.DefaultDecision, _ = d.enum(p.v, fp, defaultDecisions)
			decisionNode = p.v
		case "instanceDurationInDays":
			if v, ok := d.integer(p.v, fp); ok {
				if v < 1 {
					d.errf(p.v, "%s must be at least 1, got %d", fp, v)
				} else {
					st.InstanceDurationInDays = &v
					durationNode = p.v
				}
			}
		case "autoApplyDecisionsEnabled":
			st.AutoApplyDecisionsEnabled = d.boolean(p.v, fp)
		case "recommendationsEnabled":
			st.RecommendationsEnabled = d.boolean(p.v, fp)
		case "recommendationLookBackDuration":
			st.RecommendationLookBackDuration, _, _ = d.duration(p.v, fp)
			st.lookBackPos = d.pos(p.v)
		case "decisionHistoriesForReviewersEnabled":
			st.DecisionHistoriesForReviewersEnabled = d.boolean(p.v, fp)
		case "recurrence":
			if isNull(p.v) {
				continue
			}
			st.Recurrence = d.decodeRecurrence(p.v, p.k, fp)
		case "applyActions":
			st.ApplyActions = d.decodeApplyActions(p.v, fp)
		case "recommendationInsightSettings":
			st.RecommendationInsightSettings = d.decodeInsights(p.v, fp)
		}
	}
	if st.Recurrence == nil {
		switch p := ps.get("recurrence"); {
		case p == nil && !ps.misspelt("recurrence"):
			d.errf(at, "%s.recurrence is required: it sets the start date (range.startDate) and, with a pattern, how often the review repeats", path)
		case p != nil && isNull(p.v):
			d.errf(p.k, "%s.recurrence is required: it sets the start date (range.startDate)", path)
		}
	}

	on := func(b *bool) bool { return b != nil && *b }
	if on(st.AutoApplyDecisionsEnabled) && on(st.DefaultDecisionEnabled) && st.DefaultDecision == "Deny" {
		d.warnf(decisionNode, "%s.autoApplyDecisionsEnabled with defaultDecision Deny removes the access of everyone whose reviewer does not answer", path)
	}
	if decisionNode != nil && st.DefaultDecision != "" && st.DefaultDecision != "None" && !on(st.DefaultDecisionEnabled) {
		d.warnf(decisionNode, "%s.defaultDecision %s has no effect unless defaultDecisionEnabled is true", path, st.DefaultDecision)
	}
	if durationNode != nil {
		if hasStages {
			d.warnf(durationNode, "%s.instanceDurationInDays is ignored when stageSettings is set (the stages' durationInDays add up to the review's length)", path)
		} else if st.Recurrence != nil && st.Recurrence.Pattern != nil {
			if period, ok := periodDays(st.Recurrence.Pattern); ok && *st.InstanceDurationInDays > period {
				d.errf(durationNode, "%s.instanceDurationInDays %d is longer than one %s recurrence (%d days); a review must end before the next one starts", path, *st.InstanceDurationInDays, describePattern(st.Recurrence.Pattern), period)
			}
		}
	}
	return st
}

// --- recurrence -------------------------------------------------------------

var (
	recurrenceFields = fields{known: []string{"pattern", "range"}}
	patternFields    = fields{
		known: []string{"type", "interval", "dayOfMonth"},
		hints: map[string]string{
			"month":          "is not supported for access reviews; a pattern has only type, interval and dayOfMonth",
			"daysOfWeek":     "is not supported for access reviews; a pattern has only type, interval and dayOfMonth",
			"firstDayOfWeek": "is not supported for access reviews; a pattern has only type, interval and dayOfMonth",
			"index":          "is not supported for access reviews; a pattern has only type, interval and dayOfMonth",
		},
	}
	rangeFields = fields{known: []string{"type", "startDate", "endDate", "numberOfOccurrences", "recurrenceTimeZone"}}
)

func (d *decoder) decodeRecurrence(n, at *yaml.Node, path string) *Recurrence {
	ps, ok := d.mapping(n, path, recurrenceFields)
	if !ok {
		return nil
	}
	rec := &Recurrence{Pos: d.pos(n)}
	if p := ps.get("pattern"); p != nil && !isNull(p.v) {
		rec.Pattern = d.decodePattern(p.v, p.k, join(path, "pattern"))
	}
	if p := ps.get("range"); p != nil && !isNull(p.v) {
		rec.Range = d.decodeRange(p.v, p.k, join(path, "range"), rec.Pattern == nil && (ps.get("pattern") == nil || isNull(ps.get("pattern").v)))
	} else if !ps.misspelt("range") {
		d.errf(keyOr(p, at), "%s.range is required (at least type and startDate)", path)
	}
	return rec
}

func (d *decoder) decodePattern(n, at *yaml.Node, path string) *Pattern {
	ps, ok := d.mapping(n, path, patternFields)
	if !ok {
		return nil
	}
	pat := &Pattern{Pos: d.pos(n)}
	var dayNode *yaml.Node
	if p := ps.get("type"); p != nil {
		fp := join(path, "type")
		if s, ok := d.str(p.v, fp); ok {
			switch {
			case contains(patternTypes, s):
				pat.Type = s
			case contains(unsupportedPatterns, s):
				d.errf(p.v, "%s %s is not supported for access reviews; use weekly or absoluteMonthly (quarterly is absoluteMonthly with interval 3)", fp, quote(s))
			default:
				hint := didYouMean(s, patternTypes)
				switch strings.ToLower(s) {
				case "monthly":
					hint = `; did you mean "absoluteMonthly"?`
				case "quarterly":
					hint = "; quarterly is absoluteMonthly with interval 3"
				case "yearly", "annually", "annual":
					hint = "; yearly is absoluteMonthly with interval 12"
				}
				d.errf(p.v, "%s must be weekly or absoluteMonthly, got %s%s", fp, quote(s), hint)
			}
		}
	} else if !ps.misspelt("type") {
		d.errf(at, "%s.type is required (weekly or absoluteMonthly); leave the pattern out for a one-time review", path)
	}
	if p := ps.get("interval"); p != nil {
		if v, ok := d.integer(p.v, join(path, "interval")); ok {
			if v < 1 {
				d.errf(p.v, "%s.interval must be at least 1, got %d", path, v)
			} else {
				pat.Interval = v
			}
		}
	} else if !ps.misspelt("interval") {
		d.errf(at, "%s.interval is required (1 = every week or month, 3 = quarterly with absoluteMonthly)", path)
	}
	if p := ps.get("dayOfMonth"); p != nil {
		if v, ok := d.integer(p.v, join(path, "dayOfMonth")); ok {
			dayNode = p.v
			if v < 1 || v > 31 {
				d.errf(p.v, "%s.dayOfMonth must be between 1 and 31, got %d", path, v)
			} else {
				pat.DayOfMonth = v
			}
		}
	}
	if dayNode != nil && pat.Type == "weekly" {
		d.errf(dayNode, "%s.dayOfMonth is only used with type absoluteMonthly", path)
	}
	return pat
}

func (d *decoder) decodeRange(n, at *yaml.Node, path string, oneTime bool) *Range {
	ps, ok := d.mapping(n, path, rangeFields)
	if !ok {
		return nil
	}
	rg := &Range{Pos: d.pos(n)}
	var typeNode *yaml.Node
	if p := ps.get("type"); p != nil {
		rg.Type, _ = d.enum(p.v, join(path, "type"), rangeTypes)
		typeNode = p.v
	} else if !ps.misspelt("type") {
		d.errf(at, "%s.type is required (endDate, noEnd or numbered)", path)
	}
	var start, end *yaml.Node
	if p := ps.get("startDate"); p != nil {
		if s, ok := d.date(p.v, join(path, "startDate")); ok {
			rg.StartDate, start = s, p.v
		}
	} else if !ps.misspelt("startDate") {
		d.errf(at, "%s.startDate is required (YYYY-MM-DD): the day the review starts", path)
	}
	if p := ps.get("endDate"); p != nil {
		if s, ok := d.date(p.v, join(path, "endDate")); ok {
			rg.EndDate, end = s, p.v
		}
		if rg.Type != "" && rg.Type != "endDate" {
			d.errf(p.k, "%s.endDate is only used with type endDate (type is %s)", path, rg.Type)
		}
	} else if rg.Type == "endDate" && !ps.misspelt("endDate") {
		d.errf(at, "%s.endDate is required when type is endDate", path)
	}
	if start != nil && end != nil && rg.EndDate < rg.StartDate {
		d.errf(end, "%s.endDate %s is before startDate %s", path, rg.EndDate, rg.StartDate)
	}
	if p := ps.get("numberOfOccurrences"); p != nil {
		if v, ok := d.integer(p.v, join(path, "numberOfOccurrences")); ok {
			switch {
			case rg.Type != "" && rg.Type != "numbered":
				d.errf(p.k, "%s.numberOfOccurrences is only used with type numbered (type is %s)", path, rg.Type)
			case v < 1:
				d.errf(p.v, "%s.numberOfOccurrences must be positive, got %d", path, v)
			default:
				rg.NumberOfOccurrences = v
			}
		}
	} else if rg.Type == "numbered" && !ps.misspelt("numberOfOccurrences") {
		d.errf(at, "%s.numberOfOccurrences is required when type is numbered", path)
	}
	if p := ps.get("recurrenceTimeZone"); p != nil {
		rg.RecurrenceTimeZone, _ = d.str(p.v, join(path, "recurrenceTimeZone"))
	}
	if oneTime && typeNode != nil {
		switch {
		case rg.Type == "noEnd":
			d.errf(typeNode, "%s.type noEnd needs a recurrence pattern; a one-time review (no pattern) uses type endDate with the review's endDate", path)
		case rg.Type == "numbered" && rg.NumberOfOccurrences > 1:
			d.errf(typeNode, "%s has %d occurrences but no recurrence pattern; add a pattern or use type endDate for a one-time review", path, rg.NumberOfOccurrences)
		}
	}
	return rg
}

// date reads a YYYY-MM-DD date. YAML's unquoted 2024-03-21 is a timestamp
// scalar; its text is what counts.
func (d *decoder) date(n *yaml.Node, path string) (string, bool) {
	s, ok := d.str(n, path)
	if !ok {
		if isNull(n) {
			d.errf(n, "%s must be a date (YYYY-MM-DD)", path)
		}
		return "", false
	}
	if _, err := parseDate(s); err != nil {
		d.errf(n, "%s must be a date (YYYY-MM-DD), got %s", path, quote(s))
		return "", false
	}
	return s, true
}

// --- apply actions and insight settings -------------------------------------

var (
	typedFields   = fields{known: []string{"type", "@odata.type"}}
	insightFields = fields{known: []string{"type", "@odata.type", "recommendationLookBackDuration", "signInScope"}}
)

func (d *decoder) decodeApplyActions(n *yaml.Node, path string) []ApplyAction {
	items, ok := d.list(n, path)
	if !ok {
		return nil
	}
	out := make([]ApplyAction, 0, len(items))
	for i, it := range items {
		ip := index(path, i)
		short, ok := d.typedItem(it, ip, applyActionTypes, typedFields)
		if !ok {
			continue
		}
		if dup := findAction(out, short); dup != nil {
			d.errf(it, "%s lists %s twice (first at line %d)", path, short, dup.Pos.Line)
			continue
		}
		out = append(out, ApplyAction{Type: short, Pos: d.pos(it)})
	}
	return out
}

func findAction(list []ApplyAction, t string) *ApplyAction {
	for i := range list {
		if list[i].Type == t {
			return &list[i]
		}
	}
	return nil
}

// typedItem reads a polymorphic list item written as a bare type name
// (removeAccessApplyAction) or as a mapping with type or @odata.type.
func (d *decoder) typedItem(n *yaml.Node, path string, names []typeName, f fields) (string, bool) {
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		short, ok := lookupType(names, n.Value)
		if !ok {
			choices := typeChoices(names)
			d.errf(n, "%s must be one of %s, got %s%s", path, strings.Join(choices[:len(names)], ", "), quote(n.Value), didYouMean(n.Value, choices))
		}
		return short, ok
	}
	ps, ok := d.mapping(n, path, f)
	if !ok {
		if isNull(n) {
			d.errf(n, "%s is empty", path)
		}
		return "", false
	}
	short, _, found := d.readType(ps, path, names)
	if !found {
		d.errf(n, "%s needs a type (%s)", path, strings.Join(typeChoices(names)[:len(names)], " or "))
		return "", false
	}
	return short, short != ""
}

func (d *decoder) decodeInsights(n *yaml.Node, path string) []InsightSetting {
	items, ok := d.list(n, path)
	if !ok {
		return nil
	}
	out := make([]InsightSetting, 0, len(items))
	for i, it := range items {
		ip := index(path, i)
		short, ok := d.typedItem(it, ip, insightTypes, insightFields)
		if !ok {
			continue
		}
		in := InsightSetting{Type: short, Pos: d.pos(it)}
		if it.Kind == yaml.MappingNode {
			ps, _ := d.mapping(it, ip, fields{known: insightFields.known})
			for _, p := range ps.list {
				switch p.key {
				case "recommendationLookBackDuration", "signInScope":
					if short != InsightUserLastSignIn {
						d.errf(p.k, "%s.%s is only used by type %s", ip, p.key, InsightUserLastSignIn)
						continue
					}
				}
				switch p.key {
				case "recommendationLookBackDuration":
					in.RecommendationLookBackDuration, _, _ = d.duration(p.v, join(ip, p.key))
				case "signInScope":
					in.SignInScope, _ = d.enum(p.v, join(ip, p.key), signInScopes)
				}
			}
		}
		dup := false
		for _, prev := range out {
			if prev.Type == short {
				d.errf(it, "%s lists %s twice (first at line %d)", path, short, prev.Pos.Line)
				dup = true
			}
		}
		if !dup {
			out = append(out, in)
		}
	}
	return out
}

// --- stages -----------------------------------------------------------------

var stageFields = fields{
	known: []string{
		"stageId", "dependsOn", "durationInDays", "recommendationsEnabled",
		"decisionsThatWillMoveToNextStage", "reviewers", "fallbackReviewers", "recommendationInsightSettings",
	},
	hints: map[string]string{
		"recommendationLookBackDuration": "is not a v1.0 stage property (beta only); use recommendationInsightSettings",
	},
}

func (d *decoder) decodeStages(n *yaml.Node, path string) []Stage {
	items, ok := d.list(n, path)
	if !ok {
		return nil
	}
	if len(items) > maxStages {
		d.errf(items[maxStages], "%s has %d stages; access reviews allow at most %d", path, len(items), maxStages)
	}
	out := make([]Stage, 0, len(items))
	for i, it := range items {
		ip := index(path, i)
		ps, ok := d.mapping(it, ip, stageFields)
		if !ok {
			if isNull(it) {
				d.errf(it, "%s is empty", ip)
			}
			continue
		}
		st := Stage{Pos: d.pos(it)}
		want := strconv.Itoa(i + 1)
		if p := ps.get("stageId"); p != nil {
			if s, ok := d.str(p.v, join(ip, "stageId")); ok {
				st.StageID = s
				if s != want {
					d.errf(p.v, "%s.stageId must be %q: stages are sequential and numbered from 1 in the order listed", ip, want)
				}
			}
		} else if !ps.misspelt("stageId") {
			d.errf(it, "%s.stageId is required (%q)", ip, want)
		}
		if p := ps.get("dependsOn"); p != nil {
			if deps, ok := d.list(p.v, join(ip, "dependsOn")); ok {
				for j, dn := range deps {
					if s, ok := d.str(dn, index(join(ip, "dependsOn"), j)); ok {
						st.DependsOn = append(st.DependsOn, s)
					}
				}
			}
			switch {
			case i == 0 && len(st.DependsOn) > 0:
				d.errf(p.k, "%s.dependsOn must be left out for the first stage", ip)
			case i > 0 && (len(st.DependsOn) != 1 || st.DependsOn[0] != strconv.Itoa(i)):
				d.errf(p.k, "%s.dependsOn must be [\"%d\"]: each stage depends on the one before it", ip, i)
			}
		} else if i > 0 && !ps.misspelt("dependsOn") {
			d.errf(it, "%s.dependsOn is required: write dependsOn: [\"%d\"]", ip, i)
		}
		if p := ps.get("durationInDays"); p != nil {
			if v, ok := d.integer(p.v, join(ip, "durationInDays")); ok {
				if v < 1 {
					d.errf(p.v, "%s.durationInDays must be at least 1, got %d", ip, v)
				} else {
					st.DurationInDays = v
				}
			}
		} else if !ps.misspelt("durationInDays") {
			d.errf(it, "%s.durationInDays is required", ip)
		}
		if p := ps.get("recommendationsEnabled"); p != nil {
			st.RecommendationsEnabled = d.boolean(p.v, join(ip, "recommendationsEnabled"))
		} else if !ps.misspelt("recommendationsEnabled") {
			d.errf(it, "%s.recommendationsEnabled is required (true or false)", ip)
		}
		if p := ps.get("decisionsThatWillMoveToNextStage"); p != nil {
			fp := join(ip, "decisionsThatWillMoveToNextStage")
			if ds, ok := d.list(p.v, fp); ok {
				for j, dn := range ds {
					if s, ok := d.enum(dn, index(fp, j), stageMoveDecisions); ok {
						if contains(st.DecisionsThatWillMoveToNextStage, s) {
							d.errf(dn, "%s lists %s twice", fp, s)
							continue
						}
						st.DecisionsThatWillMoveToNextStage = append(st.DecisionsThatWillMoveToNextStage, s)
					}
				}
			}
		}
		if p := ps.get("reviewers"); p != nil {
			st.Reviewers = d.decodeReviewers(p.v, join(ip, "reviewers"))
		}
		if p := ps.get("fallbackReviewers"); p != nil {
			st.FallbackReviewers = d.decodeReviewers(p.v, join(ip, "fallbackReviewers"))
		}
		if p := ps.get("recommendationInsightSettings"); p != nil {
			st.RecommendationInsightSettings = d.decodeInsights(p.v, join(ip, "recommendationInsightSettings"))
		}
		out = append(out, st)
	}
	return out
}
