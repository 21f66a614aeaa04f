package diff

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arsync/arsync/pkg/graph"
	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

func readDefinition(t *testing.T, file string) graph.Definition {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "graph", file))
	require.NoError(t, err)
	var list struct {
		Value []json.RawMessage `json:"value"`
	}
	if json.Unmarshal(b, &list) == nil && len(list.Value) > 0 {
		b = list.Value[0] // a list response: its first item
	}
	var d graph.Definition
	require.NoError(t, json.Unmarshal(b, &d))
	return d
}

// TestNoFalseDriftDocumentedPayloads: each documented request
// (docs/graph-behaviour.md#documented-payloads), compared with the form the service documents echoing for it, plans
// no change; the same response without the marker is adopted with nothing
// else to change; and one real change in the response is seen.
func TestNoFalseDriftDocumentedPayloads(t *testing.T) {
	tests := []struct{ request, response string }{
		{"20.1-request.json", "20.1-response-noend.json"},
		{"20.1-request.json", "20.1-response-numbered.json"},
		{"20.2-request.json", "20.2-response.json"},
		{"20.2-request.json", "20.2-response-null-string.json"},
		{"20.3-request.json", "20.3-response.json"},
		{"20.4-request.json", "20.4-response.json"},
	}
	for _, tt := range tests {
		t.Run(tt.response, func(t *testing.T) {
			desired := []Desired{{Name: "doc-example", Definition: readDefinition(t, tt.request)}}
			live := readDefinition(t, tt.response)
			marked := live
			marked.DescriptionForAdmins = graph.WithMarker(live.DescriptionForAdmins, "doc-example")

			p := compute(t, desired, []graph.Definition{marked})
			require.Equal(t, NoOp, p.Changes[0].Action, "fields: %+v", p.Changes[0].Fields)
			require.False(t, p.HasChanges())

			p = compute(t, desired, []graph.Definition{live})
			require.Equal(t, Adopt, p.Changes[0].Action)
			require.Empty(t, p.Changes[0].Fields)

			changed := *clone(&marked)
			changed.Settings.InstanceDurationInDays = ptr(*changed.Settings.InstanceDurationInDays + 1)
			p = compute(t, desired, []graph.Definition{changed})
			require.Equal(t, Update, p.Changes[0].Action)
			require.Equal(t, "settings.instanceDurationInDays", p.Changes[0].Fields[0].Path)
		})
	}
}

// echo is what Graph does to a stored definition, written from the
// documentation (docs/graph-behaviour.md: #recurrence, #reviewers,
// #scopes-and-queries, #notification-recipients, #documented-payloads) independently of
// Normalize, on the JSON of the request body: that keeps this test from
// proving only that Normalize agrees with itself. Where the documentation
// shows more than one form, r picks one.
func echo(t testing.TB, r *rand.Rand, body *graph.Definition, id string) graph.Definition {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))

	m["id"] = id
	m["status"] = "NotStarted"
	m["createdDateTime"] = "2025-01-02T10:00:00.1234567Z"
	m["lastModifiedDateTime"] = "2025-01-02T10:00:00.1234567Z"
	m["createdBy"] = map[string]any{"id": bobID, "displayName": "MOD Administrator", "userPrincipalName": "admin@contoso.com"}
	for _, k := range []string{"fallbackReviewers", "additionalNotificationRecipients", "reviewers"} {
		if _, ok := m[k]; !ok {
			m[k] = []any{} // example 20.2 (docs/graph-behaviour.md#documented-payloads): empty lists come back as []
		}
	}
	if _, ok := m["instanceEnumerationScope"]; !ok {
		m["instanceEnumerationScope"] = nil
	}
	echoScope(r, m["scope"], true)
	echoScope(r, m["instanceEnumerationScope"], true)
	for _, k := range []string{"reviewers", "fallbackReviewers"} {
		for _, rv := range list(m[k]) {
			echoReviewer(r, rv)
		}
	}
	for _, n := range list(m["additionalNotificationRecipients"]) {
		nm := n.(map[string]any)
		if _, ok := nm["notificationTemplateType"]; !ok && r.Intn(2) == 0 {
			nm["notificationTemplateType"] = "CompletedAdditionalRecipients"
		}
		echoScope(r, nm["notificationRecipientScope"], false)
	}
	for _, s := range list(m["stageSettings"]) {
		sm := s.(map[string]any)
		if _, ok := sm["recommendationsEnabled"]; !ok {
			sm["recommendationsEnabled"] = false
		}
		for _, k := range []string{"reviewers", "fallbackReviewers"} {
			for _, rv := range list(sm[k]) {
				echoReviewer(r, rv)
			}
		}
	}
	if list(m["stageSettings"]) == nil && r.Intn(2) == 0 {
		m["stageSettings"] = []any{}
	}

	s, _ := m["settings"].(map[string]any)
	if s == nil {
		s = map[string]any{}
		m["settings"] = s
	}
	// The booleans and instanceDurationInDays are non-nullable (docs/graph-behaviour.md#settings).
	for _, k := range []string{"mailNotificationsEnabled", "reminderNotificationsEnabled", "justificationRequiredOnApproval",
		"defaultDecisionEnabled", "autoApplyDecisionsEnabled", "recommendationsEnabled"} {
		if _, ok := s[k]; !ok {
			s[k] = false
		}
	}
	if _, ok := s["instanceDurationInDays"]; !ok {
		s["instanceDurationInDays"] = 0
	}
	if _, ok := s["defaultDecision"]; !ok {
		s["defaultDecision"] = "None"
	}
	if _, ok := s["applyActions"]; !ok {
		s["applyActions"] = []any{}
	}
	if d, ok := s["recommendationLookBackDuration"].(string); ok && d == "PT720H" {
		s["recommendationLookBackDuration"] = "P30D"
	}
	if rec, ok := s["recurrence"].(map[string]any); ok {
		echoRecurrence(r, rec)
	}

	out, err := json.Marshal(m)
	require.NoError(t, err)
	var d graph.Definition
	require.NoError(t, json.Unmarshal(out, &d))
	return d
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

// echoQuery rewrites a query as the service is documented to store it
// (docs/graph-behaviour.md#scopes-and-queries): a version prefix, $count=true, '+' for spaces, a cast after
// transitiveMembers, a slash before '?'.
func echoQuery(r *rand.Rand, q string) string {
	path, query, hasQuery := strings.Cut(q, "?")
	if strings.HasSuffix(path, "/transitiveMembers") {
		path += "/microsoft.graph.user" // terraform-provider-msgraph #110
	}
	if strings.HasPrefix(path, "/") && r.Intn(2) == 0 {
		path = "/v1.0" + path
	}
	if hasQuery {
		if r.Intn(2) == 0 {
			query = strings.ReplaceAll(query, " eq ", "+eq+")
		}
		if strings.HasSuffix(path, "microsoft.graph.user") && r.Intn(2) == 0 {
			path += "/"
		}
		switch r.Intn(3) {
		case 0:
			query = "$count=true&" + query
		case 1:
			query += "&$count=true"
		}
		return path + "?" + query
	}
	if strings.HasPrefix(path, "./members") && r.Intn(2) == 0 {
		return path + "?$count=true"
	}
	return path
}

func echoScope(r *rand.Rand, v any, topLevel bool) {
	s, ok := v.(map[string]any)
	if !ok {
		return
	}
	if _, ok := s["@odata.type"]; !ok {
		if topLevel {
			s["@odata.type"] = "#microsoft.graph.accessReviewQueryScope"
		} else {
			s["@odata.type"] = "#microsoft.graph.accessReviewNotificationRecipientQueryScope"
		}
	}
	if s["@odata.type"] == graph.TypePrincipalResourceMemberships {
		for _, k := range []string{"principalScopes", "resourceScopes"} {
			for _, sub := range list(s[k]) {
				sm := sub.(map[string]any)
				echoScope(r, sm, true)
				if r.Intn(2) == 0 {
					delete(sm, "queryType") // sub-scopes can lose queryType (docs/graph-behaviour.md#scopes-and-queries)
				}
			}
		}
		return
	}
	if q, ok := s["query"].(string); ok {
		s["query"] = echoQuery(r, q)
	}
	if _, ok := s["queryType"]; !ok {
		s["queryType"] = "MicrosoftGraph"
	}
	if _, ok := s["queryRoot"]; !ok {
		s["queryRoot"] = nil
	}
	if s["@odata.type"] == graph.TypeInactiveUsersQueryScope {
		if _, ok := s["inactiveDuration"]; !ok {
			s["inactiveDuration"] = "PT0S"
		}
	}
}

func echoReviewer(r *rand.Rand, v any) {
	rv := v.(map[string]any)
	q, _ := rv["query"].(string)
	rv["query"] = echoQuery(r, q)
	if _, ok := rv["queryType"]; !ok {
		rv["queryType"] = "MicrosoftGraph"
	}
	if _, ok := rv["queryRoot"]; !ok {
		rv["queryRoot"] = nil
		if strings.HasPrefix(q, "/users/") && r.Intn(3) == 0 {
			rv["queryRoot"] = "decisions" // seen on a /users reviewer (docs/graph-behaviour.md#reviewers)
		}
	}
}

func echoRecurrence(r *rand.Rand, rec map[string]any) {
	if p, ok := rec["pattern"].(map[string]any); ok {
		for k, v := range map[string]any{"month": 0, "dayOfMonth": 0, "daysOfWeek": []any{}, "firstDayOfWeek": "sunday", "index": "first"} {
			if _, ok := p[k]; !ok {
				p[k] = v
			}
		}
	} else {
		rec["pattern"] = nil // one-time
	}
	rg, ok := rec["range"].(map[string]any)
	if !ok {
		return
	}
	if sd, ok := rg["startDate"].(string); ok && len(sd) > 10 {
		rg["startDate"] = sd[:10]
	}
	rg["recurrenceTimeZone"] = nil
	if _, ok := rg["numberOfOccurrences"]; !ok {
		rg["numberOfOccurrences"] = 0
	}
	switch rg["type"] {
	case "noEnd":
		switch r.Intn(3) {
		case 0:
			rg["endDate"] = nil
		case 1:
			rg["type"], rg["endDate"] = "numbered", "9999-12-31"
		case 2:
			rg["endDate"] = "null"
		}
	case "endDate":
		if r.Intn(2) == 0 {
			rg["type"] = "numbered" // a one-time review read back (docs/graph-behaviour.md#recurrence)
		}
	}
}

// genDefinition generates a valid desired definition as a user (through
// spec) would write it, covering every writable property.
func genDefinition(r *rand.Rand, i int) graph.Definition {
	guid := func() string {
		return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", r.Uint32(), r.Intn(1<<16), r.Intn(1<<16), r.Intn(1<<16), r.Int63n(1<<48))
	}
	pick := func(xs ...string) string { return xs[r.Intn(len(xs))] }
	optBool := func() *bool {
		switch r.Intn(3) {
		case 0:
			return nil
		case 1:
			return ptr(true)
		}
		return ptr(false)
	}
	users := func(n int) []graph.ReviewerScope {
		var rs []graph.ReviewerScope
		for j := 0; j < n; j++ {
			rs = append(rs, graph.ReviewerScope{Query: "/users/" + guid(), QueryType: "MicrosoftGraph"})
		}
		return rs
	}
	d := graph.Definition{
		DisplayName:             fmt.Sprintf("Review %d of %s", i, pick("guests", "owners", "admins", "app users")),
		DescriptionForAdmins:    pick("", "Quarterly review", "Line one\nLine two"),
		DescriptionForReviewers: pick("", "Please review", "Remove people who left"),
		Settings:                &graph.ScheduleSettings{},
	}
	g := guid()
	switch r.Intn(6) {
	case 0:
		d.Scope = &graph.Scope{ODataType: pick("", graph.TypeQueryScope), Query: "/groups/" + g + "/transitiveMembers", QueryType: "MicrosoftGraph"}
	case 1:
		d.Scope = &graph.Scope{ODataType: graph.TypeQueryScope, Query: "/groups/" + g + "/members/microsoft.graph.user?$filter=(userType eq 'Guest')", QueryType: "MicrosoftGraph"}
	case 2:
		d.Scope = &graph.Scope{ODataType: graph.TypeInactiveUsersQueryScope, Query: "./members/microsoft.graph.user?$filter=(userType eq 'Guest')",
			QueryType: "MicrosoftGraph", InactiveDuration: pick("", "P30D", "P90D")}
		d.InstanceEnumerationScope = &graph.Scope{Query: "/groups?$filter=(groupTypes/any(c:c eq 'Unified'))", QueryType: "MicrosoftGraph"}
	case 3:
		d.Scope = &graph.Scope{ODataType: graph.TypeQueryScope, Query: "./members/microsoft.graph.user?$filter=(userType eq 'Guest')", QueryType: "MicrosoftGraph"}
		d.InstanceEnumerationScope = &graph.Scope{ODataType: graph.TypeQueryScope, QueryType: "MicrosoftGraph",
			Query: "/groups?$filter=(groupTypes/any(c:c eq 'Unified') and resourceProvisioningOptions/Any(x:x eq 'Team'))"}
	case 4:
		d.Scope = &graph.Scope{ODataType: graph.TypePrincipalResourceMemberships,
			PrincipalScopes: []graph.Scope{
				{ODataType: graph.TypeInactiveUsersQueryScope, Query: "/users?$filter=(userType eq 'Guest')", QueryType: "MicrosoftGraph", InactiveDuration: "P30D"},
				{ODataType: graph.TypeQueryScope, Query: "/groups", QueryType: "MicrosoftGraph"},
			},
			ResourceScopes: []graph.Scope{{ODataType: graph.TypeQueryScope, Query: "/servicePrincipals/" + g, QueryType: "MicrosoftGraph"}}}
	case 5:
		d.Scope = &graph.Scope{ODataType: graph.TypeQueryScope, QueryType: "MicrosoftGraph",
			Query: "/identityGovernance/entitlementManagement/accessPackageAssignments?$filter=(accessPackageId eq '" + guid() + "' and assignmentPolicyId eq '" + guid() + "' and catalogId eq '" + guid() + "')"}
	}
	switch r.Intn(6) {
	case 0: // self-review
	case 1:
		d.Reviewers = users(1 + r.Intn(3))
	case 2:
		d.Reviewers = []graph.ReviewerScope{{Query: "./owners", QueryType: "MicrosoftGraph"}}
	case 3:
		d.Reviewers = []graph.ReviewerScope{{Query: "./manager", QueryType: "MicrosoftGraph", QueryRoot: "decisions"}}
	case 4:
		d.Reviewers = []graph.ReviewerScope{{Query: "/groups/" + guid() + "/owners", QueryType: "MicrosoftGraph"}}
	case 5:
		d.Reviewers = []graph.ReviewerScope{{Query: "/groups/" + guid() + "/transitiveMembers", QueryType: "MicrosoftGraph"}}
	}
	if r.Intn(2) == 0 {
		d.FallbackReviewers = users(1 + r.Intn(2))
	}
	s := d.Settings
	s.MailNotificationsEnabled = optBool()
	s.ReminderNotificationsEnabled = optBool()
	s.JustificationRequiredOnApproval = optBool()
	s.DefaultDecisionEnabled = optBool()
	s.AutoApplyDecisionsEnabled = optBool()
	s.RecommendationsEnabled = optBool()
	s.DefaultDecision = pick("", "None", "Approve", "Deny", "Recommendation")
	if r.Intn(3) > 0 {
		s.InstanceDurationInDays = ptr(1 + r.Intn(27))
	}
	s.RecommendationLookBackDuration = pick("", "", "P30D", "P14D", "PT720H")
	switch r.Intn(3) {
	case 0:
	case 1:
		s.ApplyActions = []graph.ApplyAction{{ODataType: graph.TypeRemoveAccessApplyAction}}
	case 2:
		s.ApplyActions = []graph.ApplyAction{{ODataType: graph.TypeDisableAndDeleteUserAction}}
	}
	if r.Intn(3) == 0 {
		s.RecommendationInsightSettings = []graph.RecommendationInsightSetting{
			{ODataType: graph.TypeUserLastSignInInsight, RecommendationLookBackDuration: pick("", "P30D", "P7D"), SignInScope: pick("", "tenant", "application")},
		}
		if r.Intn(2) == 0 {
			s.RecommendationInsightSettings = append(s.RecommendationInsightSettings, graph.RecommendationInsightSetting{ODataType: graph.TypeGroupPeerOutlierInsight})
		}
	}
	start := fmt.Sprintf("2025-%02d-%02d", 1+r.Intn(12), 1+r.Intn(28))
	if r.Intn(3) == 0 {
		start += "T12:02:30.667Z"
	}
	rng := &graph.RecurrenceRange{StartDate: start}
	switch r.Intn(3) {
	case 0:
		rng.Type = "noEnd"
	case 1:
		rng.Type, rng.EndDate = "endDate", fmt.Sprintf("2026-%02d-%02d", 1+r.Intn(12), 1+r.Intn(28))
	case 2:
		rng.Type, rng.NumberOfOccurrences = "numbered", 1+r.Intn(10)
	}
	s.Recurrence = &graph.PatternedRecurrence{Range: rng}
	switch r.Intn(4) {
	case 0: // one-time
		if rng.Type == "numbered" {
			rng.Type, rng.NumberOfOccurrences, rng.EndDate = "endDate", 0, "2026-02-01"
		}
	case 1:
		s.Recurrence.Pattern = &graph.RecurrencePattern{Type: "weekly", Interval: 1 + r.Intn(2)}
	default:
		s.Recurrence.Pattern = &graph.RecurrencePattern{Type: "absoluteMonthly", Interval: pickInt(r, 1, 3, 6, 12)}
		if r.Intn(2) == 0 {
			s.Recurrence.Pattern.DayOfMonth = 1 + r.Intn(28)
		}
	}
	if r.Intn(5) == 0 {
		n := 1 + r.Intn(3)
		for j := 1; j <= n; j++ {
			st := graph.StageSettings{StageID: fmt.Sprint(j), DurationInDays: 1 + r.Intn(2), RecommendationsEnabled: optBool(), Reviewers: users(1)}
			if j > 1 {
				st.DependsOn = []string{fmt.Sprint(j - 1)}
			}
			if j < n && r.Intn(2) == 0 {
				st.DecisionsThatWillMoveToNextStage = []string{"NotReviewed", "Approve"}
			}
			d.StageSettings = append(d.StageSettings, st)
		}
		s.DecisionHistoriesForReviewersEnabled = optBool()
	}
	if r.Intn(5) == 0 {
		d.AdditionalNotificationRecipients = []graph.NotificationRecipientItem{{
			NotificationTemplateType:   "CompletedAdditionalRecipients", // spec fills it in
			NotificationRecipientScope: &graph.Scope{Query: "/groups/" + guid() + "/members", QueryType: "MicrosoftGraph"},
		}}
	}
	return d
}

func pickInt(r *rand.Rand, xs ...int) int { return xs[r.Intn(len(xs))] }

// mutate makes one change to d that means something, and names it.
func mutate(r *rand.Rand, d *graph.Definition) string {
	switch r.Intn(8) {
	case 0:
		d.DisplayName += " (renamed)"
		return "displayName"
	case 1:
		d.DescriptionForReviewers += " Thanks."
		return "descriptionForReviewers"
	case 2:
		d.Settings.MailNotificationsEnabled = ptr(!(d.Settings.MailNotificationsEnabled != nil && *d.Settings.MailNotificationsEnabled))
		return "settings.mailNotificationsEnabled"
	case 3:
		n := 0
		if d.Settings.InstanceDurationInDays != nil {
			n = *d.Settings.InstanceDurationInDays
		}
		d.Settings.InstanceDurationInDays = ptr(n + 1)
		return "settings.instanceDurationInDays"
	case 4:
		d.Settings.Recurrence.Range.StartDate = "2024-12-31"
		return "settings.recurrence.range.startDate"
	case 5:
		d.Scope = &graph.Scope{Query: "/groups/00000000-0000-0000-0000-00000000000a/members", QueryType: "MicrosoftGraph"}
		return "scope"
	case 6:
		d.FallbackReviewers = append(d.FallbackReviewers, graph.ReviewerScope{Query: "/users/00000000-0000-0000-0000-00000000000b", QueryType: "MicrosoftGraph"})
		return "fallbackReviewers"
	}
	if d.Settings.DefaultDecision == "Approve" {
		d.Settings.DefaultDecision = "Deny"
	} else {
		d.Settings.DefaultDecision = "Approve"
	}
	return "settings.defaultDecision"
}

// TestNoFalseDriftProperty: 600 generated definitions, each created (the
// exact POST body of the plan), echoed as the service documents storing it,
// and planned again, give noop; one real change to each is always seen.
func TestNoFalseDriftProperty(t *testing.T) {
	r := rand.New(rand.NewSource(20250601))
	const cases = 600
	for i := 0; i < cases; i++ {
		d := genDefinition(r, i)
		name := fmt.Sprintf("generated-%d", i)
		first := compute(t, []Desired{{Name: name, Definition: d}}, nil)
		require.Equal(t, Create, first.Changes[0].Action)
		live := echo(t, r, first.Changes[0].After, fmt.Sprintf("00000000-0000-0000-0000-%012d", i))

		p := compute(t, []Desired{{Name: name, Definition: d}}, []graph.Definition{live})
		if p.Changes[0].Action != NoOp {
			b, _ := json.MarshalIndent(live, "", "  ")
			t.Fatalf("case %d: false drift %s: %s\nfields: %+v\nlive: %s", i, p.Changes[0].Action, cmp.Diff(graph.Normalize(live), graph.Normalize(d), ignoreRead), p.Changes[0].Fields, b)
		}
		require.Empty(t, cmp.Diff(graph.Normalize(d), graph.Normalize(graph.Normalize(d)), ignoreRead), "case %d: Normalize is not idempotent", i)

		changed := *clone(&d)
		what := mutate(r, &changed)
		p = compute(t, []Desired{{Name: name, Definition: changed}}, []graph.Definition{live})
		require.NotEqual(t, NoOp, p.Changes[0].Action, "case %d: change to %s not seen", i, what)
		require.True(t, strings.HasPrefix(p.Changes[0].Fields[0].Path, what), "case %d: %s reported as %s", i, what, p.Changes[0].Fields[0].Path)
	}
}
