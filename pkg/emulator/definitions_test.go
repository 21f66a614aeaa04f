package emulator

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

func TestCreateRejectsBadDefinitions(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	mod := func(path string, v any) any { return setPath(validDefinition(), path, v) }
	stage := func(id string, deps []any, days int) map[string]any {
		return map[string]any{"stageId": id, "dependsOn": deps, "durationInDays": days, "recommendationsEnabled": false}
	}
	tests := []struct {
		name    string
		body    any
		code    string // error.code; "" is the access-review validator's empty code
		message string // a substring of error.message
	}{
		{"empty body", "", "BadRequest", "Empty Payload"},
		{"not JSON", "{nope", "BadRequest", "Unable to read JSON"},
		{"array body", "[]", "BadRequest", "must be a JSON object"},
		{"trailing data", `{"displayName":"x"} {}`, "BadRequest", "Unable to read JSON"},
		{"duplicate property", `{"displayName":"a","displayName":"b"}`, "BadRequest", "duplicate property"},
		{"missing displayName", mod("displayName", nil), "BadRequest", "displayName property is required"},
		{"blank displayName", mod("displayName", "  "), "BadRequest", "displayName property is required"},
		{"displayName not a string", mod("displayName", 7), "BadRequest", "'displayName' must be a string"},
		{"missing scope", mod("scope", nil), "BadRequest", "scope property is required"},
		{"missing settings", mod("settings", nil), "BadRequest", "settings property is required"},
		{"unknown property", mod("color", "blue"), "BadRequest", "The property 'color' does not exist"},
		{"unknown settings property", mod("settings.colour", true), "BadRequest", "'colour' does not exist on type 'microsoft.graph.accessReviewScheduleSettings'"},
		{"wrong @odata.type on settings", mod("settings.@odata.type", "#microsoft.graph.recurrenceRange"), "BadRequest", "not compatible"},
		{"scope query missing", mod("scope.query", nil), "BadRequest", "'scope.query' is required"},
		{"scope query not a path", mod("scope.query", "groups/x"), "", "must start with '/' or './'"},
		{"unknown scope type", mod("scope.@odata.type", "#microsoft.graph.accessReviewFooScope"), "BadRequest", "cannot be of type"},
		{"inactive scope without type", mod("scope", map[string]any{"queryType": "MicrosoftGraph", "query": "/users", "inactiveDuration": "P30D"}), "BadRequest", "needs \"@odata.type\""},
		{"inactive property on a query scope", mod("scope.inactiveDuration", "P30D"), "BadRequest", "'inactiveDuration' does not exist on type 'microsoft.graph.accessReviewQueryScope'"},
		{"bad queryType", mod("scope.queryType", "SQL"), "BadRequest", "must be MicrosoftGraph or ARM"},
		{"bad queryRoot", mod("scope.queryRoot", "root"), "BadRequest", "must be null or decisions"},
		{"relative scope without enumeration scope", mod("scope.query", "./members"), "", "needs an instanceEnumerationScope"},
		{"manager reviewer without queryRoot", mod("reviewers", []any{map[string]any{"queryType": "MicrosoftGraph", "query": "./manager"}}), "", "needs queryRoot 'decisions'"},
		{"reviewers not an array", mod("reviewers", "alice"), "BadRequest", "'reviewers' must be an array"},
		{"reviewer not an object", mod("reviewers", []any{"alice"}), "BadRequest", "'reviewers[0]' must be an object"},
		{"bad defaultDecision", mod("settings.defaultDecision", "Maybe"), "BadRequest", "not a valid value for settings.defaultDecision"},
		{"defaultDecision wrong case", mod("settings.defaultDecision", "deny"), "BadRequest", "settings.defaultDecision"},
		{"boolean as string", mod("settings.mailNotificationsEnabled", "yes"), "BadRequest", "must be true or false"},
		{"null boolean", mod("settings.mailNotificationsEnabled", "null-marker"), "BadRequest", "cannot be null"},
		{"fractional duration days", mod("settings.instanceDurationInDays", 1.5), "BadRequest", "32-bit integer"},
		{"negative duration days", mod("settings.instanceDurationInDays", -1), "", "must not be negative"},
		{"missing recurrence", mod("settings.recurrence", nil), "", "settings.recurrence is required"},
		{"daily pattern", mod("settings.recurrence.pattern.type", "daily"), "", "'daily' is not supported"},
		{"relativeMonthly pattern", mod("settings.recurrence.pattern.type", "relativeMonthly"), "", "not supported for access reviews"},
		{"pattern without type", mod("settings.recurrence.pattern.type", nil), "", "pattern.type is required"},
		{"zero interval", mod("settings.recurrence.pattern.interval", 0), "", "interval must be at least 1"},
		{"month set", mod("settings.recurrence.pattern.month", 3), "", "month is not supported"},
		{"daysOfWeek set", mod("settings.recurrence.pattern.daysOfWeek", []any{"monday"}), "", "daysOfWeek is not supported"},
		{"index set", mod("settings.recurrence.pattern.index", "second"), "", "index is not supported"},
		{"dayOfMonth out of range", mod("settings.recurrence.pattern.dayOfMonth", 32), "", "between 1 and 31"},
		{"missing range", mod("settings.recurrence.range", nil), "", "range is required"},
		{"bad range type", mod("settings.recurrence.range.type", "forever"), "", "range type 'forever' is not valid"},
		{"missing startDate", mod("settings.recurrence.range.startDate", nil), "", "startDate is required"},
		{"bad startDate", mod("settings.recurrence.range.startDate", "2021-13-01"), "BadRequest", "Edm.Date"},
		{"endDate range without endDate", mod("settings.recurrence.range.type", "endDate"), "", "endDate is required"},
		{"endDate before startDate", setPath(mod("settings.recurrence.range.type", "endDate").(map[string]any), "settings.recurrence.range.endDate", "2021-01-01"), "", "is before startDate"},
		{"numbered without occurrences", mod("settings.recurrence.range.type", "numbered"), "", "numberOfOccurrences must be positive"},
		{"numbered with 0 occurrences and no end", mod("settings.recurrence.range", map[string]any{"type": "numbered", "numberOfOccurrences": 0, "startDate": "2021-05-05", "endDate": "9999-12-31"}), "", "numberOfOccurrences must be positive"},
		{"numbered with negative occurrences", mod("settings.recurrence.range", map[string]any{"type": "numbered", "numberOfOccurrences": -1, "startDate": "2021-05-05", "endDate": "2022-05-05"}), "", "numberOfOccurrences must be positive"},
		{"bad inactive duration", mod("scope", map[string]any{"@odata.type": typeInactiveScope, "queryType": "MicrosoftGraph", "query": "/groups/x/members", "inactiveDuration": "P1M"}), "BadRequest", "not a valid duration"},
		{"bad look-back duration", mod("settings.recommendationLookBackDuration", "30 days"), "BadRequest", "not a valid duration"},
		{"unknown apply action", mod("settings.applyActions", []any{map[string]any{"@odata.type": "#microsoft.graph.disableAndRemoveUserAccessApplyAction"}}), "BadRequest", "not a known apply action"},
		{"apply action without type", mod("settings.applyActions", []any{map[string]any{}}), "BadRequest", "needs an @odata.type"},
		{"insight without type", mod("settings.recommendationInsightSettings", []any{map[string]any{}}), "BadRequest", "needs an @odata.type"},
		{"bad signInScope", mod("settings.recommendationInsightSettings", []any{map[string]any{"@odata.type": typeLastSignIn, "signInScope": "galaxy"}}), "BadRequest", "signInScope"},
		{"PRM without types", mod("scope", map[string]any{"principalScopes": []any{}, "resourceScopes": []any{}}), "BadRequest", "needs \"@odata.type\""},
		{"PRM without principals", mod("scope", map[string]any{"@odata.type": typePRMScope, "principalScopes": []any{}, "resourceScopes": []any{map[string]any{"queryType": "MicrosoftGraph", "query": "/groups"}}}), "", "principalScopes' needs at least one scope"},
		{"PRM as enumeration scope", mod("instanceEnumerationScope", map[string]any{"@odata.type": typePRMScope}), "BadRequest", "cannot be of type"},
		{"four stages", mod("stageSettings", []any{stage("1", nil, 1), stage("2", []any{"1"}, 1), stage("3", []any{"2"}, 1), stage("4", []any{"3"}, 1)}), "", "at most 3 stages"},
		{"first stage depends", mod("stageSettings", []any{stage("1", []any{"0"}, 1)}), "", "first stage cannot depend"},
		{"stages not sequential", mod("stageSettings", []any{stage("1", nil, 1), stage("2", nil, 1)}), "", "must depend on ['1']"},
		{"stage id twice", mod("stageSettings", []any{stage("1", nil, 1), stage("1", []any{"1"}, 1)}), "", "used twice"},
		{"stage without duration", mod("stageSettings", []any{map[string]any{"stageId": "1"}}), "", "durationInDays must be at least 1"},
		{"stages longer than a week", setPath(mod("stageSettings", []any{stage("1", nil, 4), stage("2", []any{"1"}, 4)}).(map[string]any), "settings.recurrence.pattern", map[string]any{"type": "weekly", "interval": 1}), "", "longer than one recurrence (7 days)"},
		{"bad stage decision", mod("stageSettings", []any{setPath(stage("1", nil, 1), "decisionsThatWillMoveToNextStage", []any{"Maybe"})}), "BadRequest", "not a valid decision"},
		{"bad notification template", mod("additionalNotificationRecipients", []any{map[string]any{"notificationTemplateType": "Reminder", "notificationRecipientScope": map[string]any{"queryType": "MicrosoftGraph", "query": "/users/x"}}}), "BadRequest", "not a supported notificationTemplateType"},
		{"notification without scope", mod("additionalNotificationRecipients", []any{map[string]any{"notificationTemplateType": "CompletedAdditionalRecipients"}}), "BadRequest", "notificationRecipientScope is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body
			if m, ok := body.(map[string]any); ok && getPath(m, "settings.mailNotificationsEnabled") == "null-marker" {
				body = strings.Replace(mustJSON(t, m), `"null-marker"`, `null`, 1)
			}
			r := h.do(http.MethodPost, definitionsPath, body)
			require.Equal(t, http.StatusBadRequest, r.status, "body: %s", r.body)
			require.Equal(t, tt.code, r.errCode(t))
			require.Contains(t, r.errMessage(t), tt.message)
			if tt.code == "" {
				require.True(t, strings.HasPrefix(r.errMessage(t), "Invalid Access Reviews input data exception."))
			}
		})
	}
	require.Empty(t, h.srv.Definitions(), "a rejected create must store nothing")
}

func TestCreateRewritesLikeGraph(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    Options
		version string
		change  func(m map[string]any)
		want    map[string]any // path -> value in the 201 body
	}{
		{
			name:   "absolute scope query gets the version prefix and $count",
			change: func(m map[string]any) {},
			want: map[string]any{
				"scope.query":     "/v1.0/groups/ea1ee477-0a50-41ac-8699-c70d0c1f868a/transitiveMembers/microsoft.graph.user/?$count=true&$filter=(userType eq 'Guest')",
				"scope.queryRoot": nil,
			},
		},
		{
			name:    "beta prefix through the beta endpoint",
			version: "beta",
			change:  func(m map[string]any) { setPath(m, "scope.query", "/groups/x/members") },
			want:    map[string]any{"scope.query": "/beta/groups/x/members", "backupReviewers": []any{}},
		},
		{
			// v1.0's create example 3 sends backupReviewers
			// (docs/graph-behaviour.md#documented-payloads).
			name: "backupReviewers read in v1.0 fill fallbackReviewers",
			change: func(m map[string]any) {
				m["backupReviewers"] = []any{map[string]any{"query": "/users/x", "queryType": "MicrosoftGraph"}}
			},
			want: map[string]any{"fallbackReviewers": []any{map[string]any{"query": "/users/x", "queryType": "MicrosoftGraph", "queryRoot": nil}},
				"backupReviewers": nil},
		},
		{
			name: "numbered range with 0 occurrences and an endDate ends on that date",
			change: func(m map[string]any) {
				setPath(m, "settings.recurrence.range", map[string]any{"type": "numbered", "numberOfOccurrences": 0,
					"startDate": "2021-05-05", "endDate": "2022-05-05"})
			},
			want: map[string]any{"settings.recurrence.range": map[string]any{"type": "numbered", "numberOfOccurrences": 0.0,
				"recurrenceTimeZone": nil, "startDate": "2021-05-05", "endDate": "2022-05-05"}},
		},
		{
			name: "numbered range without numberOfOccurrences and with an endDate",
			change: func(m map[string]any) {
				setPath(m, "settings.recurrence.range", map[string]any{"type": "numbered", "startDate": "2021-05-05", "endDate": "2022-05-05"})
			},
			want: map[string]any{"settings.recurrence.range.numberOfOccurrences": 0.0, "settings.recurrence.range.endDate": "2022-05-05"},
		},
		{
			name:   "already prefixed query is kept",
			change: func(m map[string]any) { setPath(m, "scope.query", "/beta/groups/x/members") },
			want:   map[string]any{"scope.query": "/beta/groups/x/members"},
		},
		{
			name:   "plain scope queries when configured",
			opts:   Options{PlainScopeQueries: true},
			change: func(m map[string]any) { setPath(m, "scope.query", "/groups/x/transitiveMembers") },
			want:   map[string]any{"scope.query": "/groups/x/transitiveMembers"},
		},
		{
			name: "relative scope and enumeration scope",
			change: func(m map[string]any) {
				setPath(m, "scope.query", "./members/microsoft.graph.user/?$filter=(userType eq 'Guest')")
				m["instanceEnumerationScope"] = map[string]any{"queryType": "MicrosoftGraph", "query": "/groups?$filter=(groupTypes/any(c:c+eq+'Unified'))"}
			},
			want: map[string]any{
				"scope.query":                          "./members/microsoft.graph.user/?$count=true&$filter=(userType eq 'Guest')",
				"instanceEnumerationScope.query":       "/groups?$filter=(groupTypes/any(c:c+eq+'Unified'))&$count=true",
				"instanceEnumerationScope.@odata.type": typeQueryScope,
				"instanceEnumerationScope.queryType":   "MicrosoftGraph",
				"instanceEnumerationScope.queryRoot":   nil,
			},
		},
		{
			name:   "query without $filter gets no $count",
			change: func(m map[string]any) { setPath(m, "scope.query", "/groups/x/members") },
			want:   map[string]any{"scope.query": "/v1.0/groups/x/members"},
		},
		{
			name: "scope without @odata.type is a query scope; queryType filled",
			change: func(m map[string]any) {
				m["scope"] = map[string]any{"queryType": "MicrosoftGraph", "query": "/groups/x/members"}
			},
			want: map[string]any{"scope.@odata.type": typeQueryScope, "scope.queryType": "MicrosoftGraph"},
		},
		{
			name: "inactive users scope normalises its duration",
			change: func(m map[string]any) {
				m["scope"] = map[string]any{"@odata.type": typeInactiveScope, "queryType": "MicrosoftGraph", "query": "/groups/x/members", "inactiveDuration": "PT720H"}
			},
			want: map[string]any{"scope.inactiveDuration": "P30D", "scope.@odata.type": typeInactiveScope},
		},
		{
			name: "inactive users scope defaults to PT0S",
			change: func(m map[string]any) {
				m["scope"] = map[string]any{"@odata.type": typeInactiveScope, "queryType": "MicrosoftGraph", "query": "/groups/x/transitiveMembers"}
			},
			want: map[string]any{"scope.inactiveDuration": "PT0S"},
		},
		{
			name: "principal resource memberships scope",
			change: func(m map[string]any) {
				m["scope"] = map[string]any{
					"@odata.type":     typePRMScope,
					"principalScopes": []any{map[string]any{"@odata.type": typeInactiveScope, "queryType": "MicrosoftGraph", "query": "/users?$filter=(userType eq 'Guest')", "inactiveDuration": "P30D"}},
					"resourceScopes":  []any{map[string]any{"@odata.type": typeQueryScope, "query": "/servicePrincipals/1b1a8bd4-1790-4175-96a8-e33def257415", "queryType": "MicrosoftGraph"}},
				}
			},
			want: map[string]any{
				"scope.principalScopes.0.query":     "/v1.0/users?$filter=(userType eq 'Guest')&$count=true",
				"scope.principalScopes.0.queryType": "MicrosoftGraph",
				"scope.resourceScopes.0.query":      "/v1.0/servicePrincipals/1b1a8bd4-1790-4175-96a8-e33def257415",
			},
		},
		{
			name: "reviewer entries gain queryType and queryRoot",
			change: func(m map[string]any) {
				m["reviewers"] = []any{map[string]any{"queryType": "MicrosoftGraph", "query": "./owners"}}
			},
			want: map[string]any{"reviewers.0": map[string]any{"query": "./owners", "queryType": "MicrosoftGraph", "queryRoot": nil}},
		},
		{
			name:   "absent collections are empty arrays",
			change: func(m map[string]any) { delete(m, "reviewers") },
			want: map[string]any{"reviewers": []any{}, "fallbackReviewers": []any{},
				"additionalNotificationRecipients": []any{}, "settings.applyActions": []any{}, "stageSettings": []any{},
				"settings.recommendationInsightSettings": []any{}},
		},
		{
			name:   "settings defaults",
			change: func(m map[string]any) {},
			want: map[string]any{"settings.reminderNotificationsEnabled": false, "settings.defaultDecision": "None",
				"settings.autoApplyDecisionsEnabled": false, "settings.instanceDurationInDays": 3.0},
		},
		{
			name: "recurrence pattern filled",
			change: func(m map[string]any) {
				setPath(m, "settings.recurrence.pattern", map[string]any{"type": "weekly", "interval": 1})
			},
			want: map[string]any{"settings.recurrence.pattern": map[string]any{"type": "weekly", "interval": 1.0, "month": 0.0,
				"dayOfMonth": 0.0, "daysOfWeek": []any{}, "firstDayOfWeek": "sunday", "index": "first"}},
		},
		{
			name: "filled pattern values are accepted back",
			change: func(m map[string]any) {
				setPath(m, "settings.recurrence.pattern", map[string]any{"type": "absoluteMonthly", "interval": 1, "month": 0,
					"dayOfMonth": 5, "daysOfWeek": []any{}, "firstDayOfWeek": "sunday", "index": "first"})
			},
			want: map[string]any{"settings.recurrence.pattern.dayOfMonth": 5.0},
		},
		{
			name:   "noEnd range filled; datetime start cut to a date",
			change: func(m map[string]any) { setPath(m, "settings.recurrence.range.startDate", "2020-09-08T12:02:30.667Z") },
			want: map[string]any{"settings.recurrence.range": map[string]any{"type": "noEnd", "numberOfOccurrences": 0.0,
				"recurrenceTimeZone": nil, "startDate": "2020-09-08", "endDate": nil}},
		},
		{
			name:   "noEnd stored as numbered when configured",
			opts:   Options{RangeStyle: RangeNumbered},
			change: func(m map[string]any) {},
			want: map[string]any{"settings.recurrence.range": map[string]any{"type": "numbered", "numberOfOccurrences": 0.0,
				"recurrenceTimeZone": nil, "startDate": "2021-05-05", "endDate": "9999-12-31"}},
		},
		{
			name: "one-time review",
			change: func(m map[string]any) {
				setPath(m, "settings.recurrence", map[string]any{"range": map[string]any{"type": "endDate", "startDate": "2021-04-28", "endDate": "2021-05-08T00:00:00Z"}})
			},
			want: map[string]any{"settings.recurrence.pattern": nil, "settings.recurrence.range.endDate": "2021-05-08",
				"settings.recurrence.range.type": "endDate"},
		},
		{
			name: "numbered range keeps its count",
			change: func(m map[string]any) {
				setPath(m, "settings.recurrence.range", map[string]any{"type": "numbered", "numberOfOccurrences": 4, "startDate": "2021-06-01"})
			},
			want: map[string]any{"settings.recurrence.range.numberOfOccurrences": 4.0, "settings.recurrence.range.endDate": nil},
		},
		{
			name: "apply actions and insights",
			change: func(m map[string]any) {
				setPath(m, "settings.applyActions", []any{map[string]any{"@odata.type": "microsoft.graph.disableAndDeleteUserApplyAction"}})
				setPath(m, "settings.recommendationInsightSettings", []any{map[string]any{"@odata.type": typeLastSignIn, "recommendationLookBackDuration": "P1DT24H", "signInScope": "tenant"}})
				setPath(m, "settings.recommendationLookBackDuration", "PT36H30M")
			},
			want: map[string]any{
				"settings.applyActions.0.@odata.type":                                     typeDisableAndDelete,
				"settings.recommendationInsightSettings.0.recommendationLookBackDuration": "P2D",
				"settings.recommendationLookBackDuration":                                 "P1DT12H30M",
			},
		},
		{
			name: "stage settings come back as sent, filled",
			change: func(m map[string]any) {
				m["stageSettings"] = []any{
					map[string]any{"stageId": "1", "durationInDays": 2, "recommendationsEnabled": true, "reviewers": []any{map[string]any{"queryType": "MicrosoftGraph", "query": "./manager", "queryRoot": "decisions"}}},
					map[string]any{"stageId": "2", "dependsOn": []any{"1"}, "durationInDays": 3, "decisionsThatWillMoveToNextStage": []any{"NotReviewed", "Approve"}},
				}
				setPath(m, "settings.decisionHistoriesForReviewersEnabled", true)
			},
			want: map[string]any{
				"stageSettings.0": map[string]any{"stageId": "1", "dependsOn": []any{}, "durationInDays": 2.0, "recommendationsEnabled": true,
					"decisionsThatWillMoveToNextStage": []any{}, "recommendationInsightSettings": []any{},
					"reviewers": []any{map[string]any{"query": "./manager", "queryType": "MicrosoftGraph", "queryRoot": "decisions"}}, "fallbackReviewers": []any{}},
				"stageSettings.1.decisionsThatWillMoveToNextStage": []any{"NotReviewed", "Approve"},
				"settings.decisionHistoriesForReviewersEnabled":    true,
			},
		},
		{
			name: "notification recipients",
			change: func(m map[string]any) {
				m["additionalNotificationRecipients"] = []any{map[string]any{"notificationTemplateType": "CompletedAdditionalRecipients",
					"notificationRecipientScope": map[string]any{"queryType": "MicrosoftGraph", "query": "/groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/members"}}}
			},
			want: map[string]any{"additionalNotificationRecipients.0.notificationRecipientScope": map[string]any{
				"@odata.type": typeNotifQueryScope, "query": "/groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/members", "queryType": "MicrosoftGraph", "queryRoot": nil}},
		},
		{
			name: "read-only properties in the body are ignored",
			change: func(m map[string]any) {
				m["status"] = "Completed"
				m["id"] = "mine"
				m["createdBy"] = map[string]any{"id": "x"}
			},
			want: map[string]any{"status": "InProgress", "createdBy.userPrincipalName": "admin@contoso.com"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tt.opts)
			body := validDefinition()
			tt.change(body)
			version := tt.version
			if version == "" {
				version = "v1.0"
			}
			r := h.do(http.MethodPost, "/"+version+"/"+definitionsPath, body)
			require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
			got := r.json(t)
			for path, want := range tt.want {
				if diff := cmp.Diff(want, getPath(got, path)); diff != "" {
					t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
				}
			}
			// What POST echoed is what GET returns.
			g := h.do(http.MethodGet, "/"+version+"/"+definitionsPath+"/"+got["id"].(string), nil)
			require.Equal(t, http.StatusOK, g.status)
			if diff := cmp.Diff(got, g.json(t)); diff != "" {
				t.Errorf("GET differs from the POST echo (-post +get):\n%s", diff)
			}
		})
	}
}

func TestNormDuration(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"P30D", "P30D"}, {"PT720H", "P30D"}, {"PT0S", "PT0S"}, {"P0D", "PT0S"}, {"PT90M", "PT1H30M"},
		{"P1DT2H3M4S", "P1DT2H3M4S"}, {"PT1.5S", "PT1.5S"}, {"PT0.0000001S", "PT0.0000001S"}, {"P1DT24H", "P2D"},
		{"PT86400S", "P1D"},
	}
	for _, tt := range tests {
		got, gerr := normDuration(tt.in, "x")
		require.Nil(t, gerr, tt.in)
		require.Equal(t, tt.want, got, tt.in)
	}
	for _, bad := range []string{"", "P", "PT", "30D", "P1M", "P1Y", "P2W", "PT1.5H", "P1D2D", "PTS", "P1.5D", "PT1H1H", "P-1D", "P1DT", "PT1..5S", "P99999999D"} {
		_, gerr := normDuration(bad, "x")
		require.NotNil(t, gerr, "%q should be rejected", bad)
	}
}

func TestRewriteQuery(t *testing.T) {
	t.Parallel()
	n := &normalizer{version: "v1.0", prefix: true}
	tests := []struct {
		in     string
		prefix bool
		want   string
	}{
		{"/groups/x/members", true, "/v1.0/groups/x/members"},
		{"/groups/x/members", false, "/groups/x/members"},
		{"/v1.0/groups/x", true, "/v1.0/groups/x"},
		{"/BETA/groups/x", true, "/BETA/groups/x"},
		{"/betamax/x", true, "/v1.0/betamax/x"},
		{"./members", true, "./members"},
		{"./members/microsoft.graph.user/?$filter=(userType eq 'Guest')", true, "./members/microsoft.graph.user/?$count=true&$filter=(userType eq 'Guest')"},
		{"/groups?$filter=(groupTypes/any(c:c eq 'Unified'))", false, "/groups?$filter=(groupTypes/any(c:c eq 'Unified'))&$count=true"},
		{"/groups?$filter=x&$count=true", false, "/groups?$filter=x&$count=true"},
		{"/groups?$count=false&$filter=x", false, "/groups?$count=false&$filter=x"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, n.rewriteQuery(tt.in, tt.prefix), tt.in)
	}
}

func TestDefinitionLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	id := h.create(validDefinition())
	path := definitionsPath + "/" + id

	require.Equal(t, http.StatusOK, h.do(http.MethodGet, path, nil).status)
	require.Equal(t, http.StatusOK, h.do(http.MethodGet, strings.ToUpper(path[:1])+path[1:], nil).status, "segments are matched without case")
	r := h.do(http.MethodGet, "identityGovernance/accessReviews/definitions('"+id+"')", nil)
	require.Equal(t, http.StatusOK, r.status, "OData key syntax")

	r = h.do(http.MethodPatch, path, map[string]any{"displayName": "x"})
	require.Equal(t, http.StatusMethodNotAllowed, r.status)
	require.Equal(t, "GET, PUT, DELETE", r.header.Get("Allow"))

	r = h.do(http.MethodDelete, path, nil)
	require.Equal(t, http.StatusNoContent, r.status)
	require.Empty(t, r.body)
	r = h.do(http.MethodGet, path, nil)
	require.Equal(t, http.StatusNotFound, r.status)
	require.Equal(t, "ResourceNotFound", r.errCode(t))
	require.Equal(t, http.StatusNotFound, h.do(http.MethodDelete, path, nil).status)
	require.Equal(t, http.StatusNotFound, h.do(http.MethodPut, path, validDefinition()).status)
}

func TestUpdateDefinition(t *testing.T) {
	t.Parallel()
	userReviewers := func(ids ...string) []any {
		var out []any
		for _, id := range ids {
			out = append(out, map[string]any{"query": "/users/" + id, "queryType": "MicrosoftGraph"})
		}
		return out
	}
	relative := func(m map[string]any) map[string]any {
		setPath(m, "scope.query", "./members/microsoft.graph.user/?$filter=(userType eq 'Guest')")
		m["instanceEnumerationScope"] = map[string]any{"queryType": "MicrosoftGraph", "query": "/groups?$filter=(groupTypes/any(c:c eq 'Unified'))"}
		return m
	}
	tests := []struct {
		name    string
		version string
		opts    Options
		create  func() map[string]any
		put     func(created, echoed map[string]any) any // the PUT body
		status  int
		message string
		check   func(t *testing.T, got map[string]any)
	}{
		{
			name:   "sending back the stored object is no change",
			put:    func(_, echoed map[string]any) any { return echoed },
			status: http.StatusNoContent,
		},
		{
			name:   "sending back the original body is no change",
			create: func() map[string]any { return relative(validDefinition()) },
			put:    func(created, _ map[string]any) any { return created },
			status: http.StatusNoContent,
		},
		{
			name: "mutable fields change",
			put: func(created, _ map[string]any) any {
				created["displayName"] = "Renamed"
				setPath(created, "settings.instanceDurationInDays", 7)
				setPath(created, "settings.recurrence.range", map[string]any{"type": "endDate", "startDate": "2021-05-05", "endDate": "2022-05-05"})
				created["fallbackReviewers"] = []any{map[string]any{"queryType": "MicrosoftGraph", "query": "./manager", "queryRoot": "decisions"}}
				return created
			},
			status: http.StatusNoContent,
			check: func(t *testing.T, got map[string]any) {
				require.Equal(t, "Renamed", got["displayName"])
				require.Equal(t, 7.0, getPath(got, "settings.instanceDurationInDays"))
				require.Equal(t, "2022-05-05", getPath(got, "settings.recurrence.range.endDate"))
				require.Equal(t, "2021-05-05T10:30:00Z", got["lastModifiedDateTime"])
				require.Equal(t, "2021-05-05T09:30:00Z", got["createdDateTime"])
				require.Equal(t, "admin@contoso.com", getPath(got, "createdBy.userPrincipalName"))
			},
		},
		{
			name:    "scope change",
			put:     func(created, _ map[string]any) any { return setPath(created, "scope.query", "/groups/other/members") },
			status:  http.StatusBadRequest,
			message: "'scope' cannot be updated",
		},
		{
			name:    "scope type change",
			put:     func(created, _ map[string]any) any { return setPath(created, "scope.@odata.type", typeInactiveScope) },
			status:  http.StatusBadRequest,
			message: "'scope' cannot be updated",
		},
		{
			name: "enumeration scope added",
			put: func(created, _ map[string]any) any {
				created["instanceEnumerationScope"] = map[string]any{"queryType": "MicrosoftGraph", "query": "/groups"}
				return created
			},
			status:  http.StatusBadRequest,
			message: "'instanceEnumerationScope' cannot be updated",
		},
		{
			name: "notification recipients added",
			put: func(created, _ map[string]any) any {
				created["additionalNotificationRecipients"] = []any{map[string]any{"notificationTemplateType": "CompletedAdditionalRecipients",
					"notificationRecipientScope": map[string]any{"queryType": "MicrosoftGraph", "query": "/users/x"}}}
				return created
			},
			status:  http.StatusBadRequest,
			message: "'additionalNotificationRecipients' cannot be updated",
		},
		{
			name: "stages added in v1.0",
			put: func(created, _ map[string]any) any {
				created["stageSettings"] = []any{map[string]any{"stageId": "1", "durationInDays": 1}}
				return created
			},
			status:  http.StatusBadRequest,
			message: "'stageSettings' cannot be updated",
		},
		{
			name:    "stage reviewers change in beta",
			version: "beta",
			create: func() map[string]any {
				m := validDefinition()
				m["stageSettings"] = []any{map[string]any{"stageId": "1", "durationInDays": 1, "reviewers": userReviewers("a")}}
				return m
			},
			put: func(created, _ map[string]any) any {
				created["stageSettings"] = []any{map[string]any{"stageId": "1", "durationInDays": 1, "reviewers": []any{map[string]any{"queryType": "MicrosoftGraph", "query": "./owners"}}}}
				return created
			},
			status: http.StatusNoContent,
			check: func(t *testing.T, got map[string]any) {
				require.Equal(t, "./owners", getPath(got, "stageSettings.0.reviewers.0.query"))
			},
		},
		{
			name:    "stage duration change in beta",
			version: "beta",
			create: func() map[string]any {
				m := validDefinition()
				m["stageSettings"] = []any{map[string]any{"stageId": "1", "durationInDays": 1}}
				return m
			},
			put: func(created, _ map[string]any) any {
				created["stageSettings"] = []any{map[string]any{"stageId": "1", "durationInDays": 2}}
				return created
			},
			status:  http.StatusBadRequest,
			message: "'stageSettings' cannot be updated",
		},
		{
			name:   "individual reviewers change",
			put:    func(created, _ map[string]any) any { created["reviewers"] = userReviewers("b", "c"); return created },
			status: http.StatusNoContent,
			check: func(t *testing.T, got map[string]any) {
				require.Equal(t, "/users/c", getPath(got, "reviewers.1.query"))
			},
		},
		{
			name: "reviewers from users to owners",
			put: func(created, _ map[string]any) any {
				created["reviewers"] = []any{map[string]any{"queryType": "MicrosoftGraph", "query": "./owners"}}
				return created
			},
			status:  http.StatusBadRequest,
			message: "reviewers can be updated only",
		},
		{
			name: "reviewers from group owners to users",
			create: func() map[string]any {
				m := validDefinition()
				m["reviewers"] = []any{map[string]any{"queryType": "MicrosoftGraph", "query": "/groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/owners"}}
				return m
			},
			put:     func(created, _ map[string]any) any { created["reviewers"] = userReviewers("a"); return created },
			status:  http.StatusBadRequest,
			message: "reviewers can be updated only",
		},
		{
			name:    "reviewers from users to a self-review",
			put:     func(created, _ map[string]any) any { created["reviewers"] = []any{}; return created },
			status:  http.StatusBadRequest,
			message: "reviewers can be updated only",
		},
		{
			name: "id in body differs",
			put: func(created, _ map[string]any) any {
				created["id"] = "00000000-0000-0000-0000-000000000000"
				return created
			},
			status:  http.StatusBadRequest,
			message: "does not match the id",
		},
		{
			name: "invalid update body",
			put: func(created, _ map[string]any) any {
				return setPath(created, "settings.recurrence.pattern.type", "daily")
			},
			status:  http.StatusBadRequest,
			message: "not supported for access reviews",
		},
		{
			name:    "partial body is not an update",
			put:     func(_, _ map[string]any) any { return map[string]any{"displayName": "only this"} },
			status:  http.StatusBadRequest,
			message: "scope property is required",
		},
		{
			name:    "numbered range read back cannot be sent unchanged",
			opts:    Options{RangeStyle: RangeNumbered},
			put:     func(_, echoed map[string]any) any { return echoed },
			status:  http.StatusBadRequest,
			message: "numberOfOccurrences must be positive",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tt.opts)
			version := tt.version
			if version == "" {
				version = "v1.0"
			}
			base := "/" + version + "/" + definitionsPath
			mk := validDefinition
			if tt.create != nil {
				mk = tt.create
			}
			r := h.do(http.MethodPost, base, mk())
			require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
			echoed := r.json(t)
			id := echoed["id"].(string)
			h.clock.Advance(time.Hour)

			put := h.do(http.MethodPut, base+"/"+id, tt.put(mk(), echoed))
			require.Equal(t, tt.status, put.status, "body: %s", put.body)
			after := h.do(http.MethodGet, base+"/"+id, nil).json(t)
			if tt.status != http.StatusNoContent {
				require.Contains(t, put.errMessage(t), tt.message)
				require.Equal(t, echoed, after, "a rejected PUT must change nothing")
				return
			}
			require.Empty(t, put.body)
			if tt.check != nil {
				tt.check(t, after)
			}
		})
	}
}

func TestDefinitionStatusFollowsTheClock(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	body := validDefinition()
	setPath(body, "settings.recurrence.range", map[string]any{"type": "endDate", "startDate": "2021-05-10", "endDate": "2021-06-10"})
	id := h.create(body)
	status := func() string { return h.do(http.MethodGet, definitionsPath+"/"+id, nil).json(t)["status"].(string) }
	require.Equal(t, "NotStarted", status())
	h.clock.Advance(5 * 24 * time.Hour)
	require.Equal(t, "InProgress", status())
	h.clock.Advance(40 * 24 * time.Hour)
	require.Equal(t, "Completed", status())
	vals := h.do(http.MethodGet, definitionsPath+"?$filter=status eq 'Completed'", nil).values(t)
	require.Len(t, vals, 1)
}

func TestInstancesPaths(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	id := h.create(validDefinition())
	r := h.do(http.MethodGet, definitionsPath+"/"+id+"/instances", nil)
	require.Equal(t, http.StatusOK, r.status)
	// The review starts on the day it is created: its first instance is
	// already running (lifecycle_test.go covers the lifecycle).
	require.Len(t, r.values(t), 1)
	require.Contains(t, r.json(t)["@odata.context"], "definitions('"+id+"')/instances")
	require.Equal(t, http.StatusMethodNotAllowed, h.do(http.MethodPost, definitionsPath+"/"+id+"/instances", map[string]any{}).status)
	require.Equal(t, http.StatusNotFound, h.do(http.MethodGet, definitionsPath+"/"+id+"/instances/abc", nil).status)
	require.Equal(t, http.StatusNotFound, h.do(http.MethodGet, definitionsPath+"/nope/instances", nil).status)
	require.Equal(t, http.StatusBadRequest, h.do(http.MethodGet, definitionsPath+"/"+id+"/colour", nil).status)
}

func TestFilterByCurrentUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	h.create(validDefinition()) // reviewer: alice
	other := validDefinition()
	other["reviewers"] = []any{map[string]any{"queryType": "MicrosoftGraph", "query": "/users/d2681937-14ec-4f48-8b40-fb1b488df21a"}} // bob
	h.create(other)
	h.token = h.srv.Token("alice@contoso.com")
	r := h.do(http.MethodGet, definitionsPath+"/filterByCurrentUser(on='reviewer')", nil)
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	vals := r.values(t)
	require.Len(t, vals, 1)
	require.Equal(t, typeDefinition, getPath(vals[0], "@odata.type"))
	require.Contains(t, r.json(t)["@odata.context"], "Collection(accessReviewScheduleDefinition)")
	require.Equal(t, http.StatusBadRequest, h.do(http.MethodGet, definitionsPath+"/filterByCurrentUser(on='owner')", nil).status)
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
