package spec

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/arsync/arsync/pkg/graph"
	"gopkg.in/yaml.v3"
)

// Limits and vocabularies of Graph's access-review API (docs/graph-behaviour.md#validation-limits).
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
		known: []string{"name", "previousNames"},
		hints: map[string]string{
			"labels":      "is not supported; metadata has only name and previousNames",
			"annotations": "is not supported; metadata has only name and previousNames",
			"namespace":   "is not supported; metadata has only name and previousNames",
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
	if pp := ps.get("previousNames"); pp != nil {
		d.decodePreviousNames(def, pp)
	}
}

// decodePreviousNames reads metadata.previousNames: valid names, none
// twice and none the definition's own. Whether another definition uses
// one is Load's check, across files.
func (d *decoder) decodePreviousNames(def *Definition, p *pair) {
	items, ok := d.list(p.v, "metadata.previousNames")
	if !ok {
		return
	}
	seen := map[string]bool{}
	for _, it := range items {
		old, ok := d.str(it, "metadata.previousNames[]")
		if !ok {
			continue
		}
		switch {
		case !nameRE.MatchString(old):
			d.errf(it, "metadata.previousNames: %s must be 1 to 63 lower-case letters, digits and dashes, not starting or ending with a dash", quote(old))
		case old == def.Name:
			d.errf(it, "metadata.previousNames: %s is this definition's metadata.name", quote(old))
		case seen[old]:
			d.errf(it, "metadata.previousNames: %s is listed twice", quote(old))
		default:
			seen[old] = true
			def.PreviousNames = append(def.PreviousNames, old)
			def.previousNamePos = append(def.previousNamePos, d.pos(it))
		}
	}
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
	errsBefore := d.nerr
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
		if p := ps.get("reviewers"); p != nil && len(s.Reviewers) > 0 && stagesHaveReviewers(s.StageSettings) {
			d.warnf(p.k, "spec.reviewers is ignored: the stages in spec.stageSettings name their own reviewers")
		}
	}
	// Only for a spec without errors: an entry with an error is not in
	// its list, so the list would be judged without it.
	if d.nerr == errsBefore {
		d.checkFallbacks(s)
	}
}

func stagesHaveReviewers(stages []Stage) bool {
	for _, st := range stages {
		if len(st.Reviewers) > 0 {
			return true
		}
	}
	return false
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
		if secs, err := graph.ParseDuration(dur); err == nil && secs > maxAppLookBackSeconds {
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
