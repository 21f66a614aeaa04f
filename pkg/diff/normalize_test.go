package diff

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/graphclient"
)

func TestNormalizeQuery(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"blank", "   ", ""},
		{"plain path kept", "/users", "/users"},
		{"v1.0 prefix", "/v1.0/groups/" + groupID + "/members", "/groups/" + groupID + "/members"},
		{"beta prefix, any case", "/BETA/users", "/users"},
		{"version alone", "/v1.0", "/"},
		{"not a version prefix", "/v1.0x/users", "/v1.0x/users"},
		{"absolute URL", "https://graph.microsoft.com/v1.0/users/" + aliceID, "/users/" + aliceID},
		{"GUIDs lower case", "/users/398164B1-5196-49DD-ADA2-364B49F99B27", "/users/" + aliceID},
		{"trailing slash", "/groups/", "/groups"},
		{"transitiveMembers gets the user cast", "/groups/" + groupID + "/transitiveMembers", "/groups/" + groupID + "/transitiveMembers/microsoft.graph.user"},
		{"transitiveMembers cast kept", "/v1.0/groups/" + groupID + "/transitiveMembers/microsoft.graph.user", "/groups/" + groupID + "/transitiveMembers/microsoft.graph.user"},
		{"members untouched", "/groups/" + groupID + "/members", "/groups/" + groupID + "/members"},
		{"relative kept", "./manager", "./manager"},
		{"count removed, slash before ?", "./members/microsoft.graph.user/?$count=true&$filter=(userType eq 'Guest')", "./members/microsoft.graph.user?$filter=(userType eq 'Guest')"},
		{"count at the end, plus for space", "/groups?$filter=(groupTypes/any(c:c+eq+'Unified'))&$count=true", "/groups?$filter=(groupTypes/any(c:c eq 'Unified'))"},
		{"count only", "/users?$count=true", "/users"},
		{"count any case", "/users?$Count=TRUE", "/users"},
		{"count false kept", "/users?$count=false", "/users?$count=false"},
		{"dangling ampersands", "/users?&$count=true&", "/users"},
		{"keyword case", "/groups?$filter=(groupTypes/Any(c:c EQ 'Unified') AND resourceProvisioningOptions/any(x:x eq 'Team'))", "/groups?$filter=(groupTypes/any(c:c eq 'Unified') and resourceProvisioningOptions/any(x:x eq 'Team'))"},
		{"white space", "/users?$filter=(  userType   eq 'Guest' )", "/users?$filter=(userType eq 'Guest')"},
		{"space around colon and comma", "/x?$filter=isof(principal , 'microsoft.graph.user') and any(c : c eq 'a')", "/x?$filter=isof(principal,'microsoft.graph.user') and any(c:c eq 'a')"},
		{"literal untouched", "/users?$filter=(displayName eq 'A  B EQ c')", "/users?$filter=(displayName eq 'A  B EQ c')"},
		{"escaped quote in literal", "/users?$filter=(surname eq 'O''Brien  X')", "/users?$filter=(surname eq 'O''Brien  X')"},
		{"percent decoding", "/users?$filter=(userType%20eq%20%27Guest%27)", "/users?$filter=(userType eq 'Guest')"},
		{"bad percent falls back", "/users?$filter=a+%zz", "/users?$filter=a %zz"},
		{"options sorted", "/x?$filter=(a eq 'b')&$expand=principal", "/x?$expand=principal&$filter=(a eq 'b')"},
		{"option name case", "/x?$FILTER=(a eq 'b')", "/x?$filter=(a eq 'b')"},
		{"option without value", "/x?flag", "/x?flag"},
		{"unterminated literal", "/x?$filter=(a eq 'b", "/x?$filter=(a eq 'b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NormalizeQuery(tt.in)
			require.Equal(t, tt.want, got)
			require.Equal(t, got, NormalizeQuery(got), "not idempotent")
		})
	}
}

func TestNormalizeQueryKeepsRealDifferences(t *testing.T) {
	pairs := [][2]string{
		{"/users?$filter=(userType eq 'Guest')", "/users?$filter=(userType eq 'guest')"},
		{"/groups/" + groupID + "/members", "/groups/" + groupID + "/transitiveMembers"},
		{"./owners", "./manager"},
		{"/users?$filter=(a eq 'b')", "/users?$filter=(a ne 'b')"},
		{"/users?$filter=(a eq 'b')", "/users"},
		{"/users?$filter=(a eq 'x y')", "/users?$filter=(a eq 'x  y')"},
	}
	for _, p := range pairs {
		require.NotEqual(t, NormalizeQuery(p[0]), NormalizeQuery(p[1]), "%q vs %q", p[0], p[1])
	}
}

func TestNormalizeDuration(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"P30D", "P30D"},
		{"p30d", "P30D"},
		{"PT720H", "P30D"},
		{"P4W2D", "P30D"},
		{"P0D", "PT0S"},
		{"PT0S", "PT0S"},
		{"PT36H", "P1DT12H"},
		{"PT90M", "PT1H30M"},
		{"PT1.5S", "PT1.5S"},
		{"PT0,500S", "PT0.5S"},
		{"P1DT0H0M0S", "P1D"},
		{"P1M", "P1M"},
		{"P1Y2M3D", "P1Y2M3D"},
		{" P7D ", "P7D"},
		// Not durations: returned as they are, so they still compare as themselves.
		{"P", "P"},
		{"30 days", "30 days"},
		{"P1DT", "P1DT"},
		{"PT1H2H", "PT1H2H"},
		{"P1.5D", "P1.5D"},
		{"P99999999999D", "P99999999999D"},
		{"PT1H1D", "PT1H1D"},
		{"-P1D", "-P1D"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			require.Equal(t, tt.want, NormalizeDuration(tt.in))
		})
	}
}

// TestNormalizeEquivalences lists what must compare equal (the rewrites of
// DESIGN.md §3 and graph-api.md §4, §7, §8, §20) and what must not.
func TestNormalizeEquivalences(t *testing.T) {
	type mod = func(*graphclient.Definition)
	settings := func(f func(*graphclient.ScheduleSettings)) mod {
		return func(d *graphclient.Definition) { f(d.Settings) }
	}
	rng := func(f func(*graphclient.RecurrenceRange)) mod {
		return settings(func(s *graphclient.ScheduleSettings) { f(s.Recurrence.Range) })
	}
	pattern := func(f func(*graphclient.RecurrencePattern)) mod {
		return settings(func(s *graphclient.ScheduleSettings) { f(s.Recurrence.Pattern) })
	}
	inactive := func(d *graphclient.Definition) {
		d.Scope = &graphclient.Scope{ODataType: graphclient.TypeInactiveUsersQueryScope, Query: "/users", InactiveDuration: "P30D"}
	}
	prm := func(principalType string, swap bool) mod {
		return func(d *graphclient.Definition) {
			ps := []graphclient.Scope{
				{ODataType: graphclient.TypeQueryScope, Query: "/users", QueryType: principalType},
				{ODataType: graphclient.TypeQueryScope, Query: "/groups", QueryType: principalType},
			}
			if swap {
				ps[0], ps[1] = ps[1], ps[0]
			}
			d.Scope = &graphclient.Scope{
				ODataType:       graphclient.TypePrincipalResourceMemberships,
				PrincipalScopes: ps,
				ResourceScopes:  []graphclient.Scope{{ODataType: graphclient.TypeQueryScope, Query: "/servicePrincipals/" + bobID, QueryType: principalType}},
			}
		}
	}
	stages := func(reverse bool, emptyLists bool) mod {
		return func(d *graphclient.Definition) {
			s1 := graphclient.StageSettings{StageID: "1", DurationInDays: 2, RecommendationsEnabled: ptr(true),
				Reviewers: []graphclient.ReviewerScope{{Query: "./manager", QueryRoot: "decisions"}}}
			s2 := graphclient.StageSettings{StageID: "2", DependsOn: []string{"1"}, DurationInDays: 3,
				DecisionsThatWillMoveToNextStage: []string{"NotReviewed", "Approve"},
				Reviewers:                        []graphclient.ReviewerScope{{Query: "/users/" + aliceID}}}
			if emptyLists {
				s1.DependsOn = []string{}
				s1.DecisionsThatWillMoveToNextStage = []string{}
				s1.FallbackReviewers = []graphclient.ReviewerScope{}
				s2.DecisionsThatWillMoveToNextStage = []string{"approve", "notReviewed"}
				s2.RecommendationsEnabled = ptr(false)
			}
			d.StageSettings = []graphclient.StageSettings{s1, s2}
			if reverse {
				d.StageSettings = []graphclient.StageSettings{s2, s1}
			}
		}
	}

	tests := []struct {
		name  string
		a, b  []mod
		equal bool
	}{
		{"identical", nil, nil, true},
		{"marker is invisible", nil, []mod{func(d *graphclient.Definition) { d.DescriptionForAdmins += "\n[arsync:x]" }}, true},
		{"CRLF and trailing space in descriptions", nil, []mod{func(d *graphclient.Definition) {
			d.DescriptionForAdmins += " \r\n"
			d.DescriptionForReviewers += "\n"
		}}, true},
		{"read-only fields", nil, []mod{func(d *graphclient.Definition) {
			d.ID, d.Status, d.CreatedDateTime, d.LastModifiedDateTime = "x", "InProgress", "2021-05-04T18:27:02.6719849Z", "2021-05-04T18:27:02Z"
			d.CreatedBy = &graphclient.UserIdentity{ID: bobID}
		}}, true},
		{"scope type and queryType defaults", nil, []mod{func(d *graphclient.Definition) {
			d.Scope.ODataType, d.Scope.QueryType = "", ""
		}}, true},
		{"scope type spelling", nil, []mod{func(d *graphclient.Definition) { d.Scope.ODataType = "microsoft.graph.AccessReviewQueryScope" }}, true},
		{"echoed query form", nil, []mod{func(d *graphclient.Definition) {
			d.Scope.Query = "/v1.0/groups/" + groupID + "/transitiveMembers/microsoft.graph.user/"
		}}, true},
		{"queryRoot on an absolute reviewer", nil, []mod{func(d *graphclient.Definition) { d.Reviewers[0].QueryRoot = "decisions" }}, true},
		{"reviewer order", []mod{func(d *graphclient.Definition) {
			d.Reviewers = []graphclient.ReviewerScope{{Query: "/users/" + aliceID}, {Query: "/users/" + bobID}}
		}}, []mod{func(d *graphclient.Definition) {
			d.Reviewers = []graphclient.ReviewerScope{{Query: "/users/" + bobID, QueryType: "MicrosoftGraph"}, {Query: "/v1.0/users/" + aliceID}}
		}}, true},
		{"empty vs absent lists", []mod{func(d *graphclient.Definition) {
			d.FallbackReviewers, d.AdditionalNotificationRecipients, d.StageSettings = nil, nil, nil
		}}, []mod{func(d *graphclient.Definition) {
			d.FallbackReviewers = []graphclient.ReviewerScope{}
			d.AdditionalNotificationRecipients = []graphclient.NotificationRecipientItem{}
			d.StageSettings = []graphclient.StageSettings{}
			d.Settings.RecommendationInsightSettings = []graphclient.RecommendationInsightSetting{}
		}}, true},
		{"settings booleans absent are false", []mod{settings(func(s *graphclient.ScheduleSettings) {
			s.AutoApplyDecisionsEnabled, s.DecisionHistoriesForReviewersEnabled = nil, nil
		})}, []mod{settings(func(s *graphclient.ScheduleSettings) {
			s.AutoApplyDecisionsEnabled, s.DecisionHistoriesForReviewersEnabled = ptr(false), ptr(false)
		})}, true},
		{"settings absent", []mod{func(d *graphclient.Definition) { d.Settings = nil }}, []mod{func(d *graphclient.Definition) {
			d.Settings = &graphclient.ScheduleSettings{MailNotificationsEnabled: ptr(false), InstanceDurationInDays: ptr(0), DefaultDecision: "None",
				ApplyActions: []graphclient.ApplyAction{}, RecommendationLookBackDuration: "P30D"}
		}}, true},
		{"defaultDecision None", []mod{settings(func(s *graphclient.ScheduleSettings) { s.DefaultDecision = "" })}, []mod{settings(func(s *graphclient.ScheduleSettings) { s.DefaultDecision = "none" })}, true},
		{"defaultDecision case", []mod{settings(func(s *graphclient.ScheduleSettings) { s.DefaultDecision = "Deny" })}, []mod{settings(func(s *graphclient.ScheduleSettings) { s.DefaultDecision = "deny" })}, true},
		{"instanceDurationInDays absent is 0", []mod{settings(func(s *graphclient.ScheduleSettings) { s.InstanceDurationInDays = nil })}, []mod{settings(func(s *graphclient.ScheduleSettings) { s.InstanceDurationInDays = ptr(0) })}, true},
		{"look-back default and forms", []mod{settings(func(s *graphclient.ScheduleSettings) { s.RecommendationLookBackDuration = "" })}, []mod{settings(func(s *graphclient.ScheduleSettings) { s.RecommendationLookBackDuration = "PT720H" })}, true},
		{"applyActions absent is removeAccess", []mod{settings(func(s *graphclient.ScheduleSettings) { s.ApplyActions = []graphclient.ApplyAction{} })}, []mod{settings(func(s *graphclient.ScheduleSettings) {
			s.ApplyActions = []graphclient.ApplyAction{{ODataType: "microsoft.graph.removeAccessApplyAction"}}
		})}, true},
		{"applyActions order", []mod{settings(func(s *graphclient.ScheduleSettings) {
			s.ApplyActions = []graphclient.ApplyAction{{ODataType: graphclient.TypeRemoveAccessApplyAction}, {ODataType: graphclient.TypeDisableAndDeleteUserAction}}
		})}, []mod{settings(func(s *graphclient.ScheduleSettings) {
			s.ApplyActions = []graphclient.ApplyAction{{ODataType: graphclient.TypeDisableAndDeleteUserAction}, {ODataType: graphclient.TypeRemoveAccessApplyAction}}
		})}, true},
		{"pattern defaults filled", nil, []mod{pattern(func(p *graphclient.RecurrencePattern) {
			p.Month, p.DayOfMonth, p.DaysOfWeek, p.FirstDayOfWeek, p.Index = 0, 0, []string{}, "sunday", "first"
		})}, true},
		{"pattern type case", nil, []mod{pattern(func(p *graphclient.RecurrencePattern) { p.Type = "AbsoluteMonthly" })}, true},
		{"interval absent is 1", []mod{pattern(func(p *graphclient.RecurrencePattern) { p.Interval = 1 })}, []mod{pattern(func(p *graphclient.RecurrencePattern) { p.Interval = 0 })}, true},
		{"daysOfWeek order and case", []mod{pattern(func(p *graphclient.RecurrencePattern) { p.DaysOfWeek = []string{"monday", "friday"} })}, []mod{pattern(func(p *graphclient.RecurrencePattern) { p.DaysOfWeek = []string{"Friday", "MONDAY"} })}, true},
		{"one-time: no pattern vs typeless pattern", []mod{settings(func(s *graphclient.ScheduleSettings) { s.Recurrence.Pattern = nil })}, []mod{settings(func(s *graphclient.ScheduleSettings) {
			s.Recurrence.Pattern = &graphclient.RecurrencePattern{FirstDayOfWeek: "sunday", Index: "first"}
		})}, true},
		{"noEnd vs numbered 0 and 9999-12-31", nil, []mod{rng(func(r *graphclient.RecurrenceRange) {
			r.Type, r.NumberOfOccurrences, r.EndDate = "numbered", 0, "9999-12-31"
		})}, true},
		{"noEnd vs numbered 0 without end", nil, []mod{rng(func(r *graphclient.RecurrenceRange) { r.Type = "numbered" })}, true},
		{"noEnd vs endDate null string", nil, []mod{rng(func(r *graphclient.RecurrenceRange) { r.EndDate = "null" })}, true},
		{"noEnd vs endDate far future", nil, []mod{rng(func(r *graphclient.RecurrenceRange) { r.Type, r.EndDate = "endDate", "9999-12-31" })}, true},
		{"endDate vs numbered 0 with end", []mod{rng(func(r *graphclient.RecurrenceRange) { r.Type, r.EndDate = "endDate", "2025-05-08" })}, []mod{rng(func(r *graphclient.RecurrenceRange) {
			r.Type, r.NumberOfOccurrences, r.EndDate = "numbered", 0, "2025-05-08"
		})}, true},
		{"start datetime vs date", nil, []mod{rng(func(r *graphclient.RecurrenceRange) { r.StartDate = "2025-01-08T12:02:30.667Z" })}, true},
		{"range type case and null time zone", nil, []mod{rng(func(r *graphclient.RecurrenceRange) { r.Type, r.RecurrenceTimeZone = "NoEnd", " " })}, true},
		{"inactiveDuration forms", []mod{inactive}, []mod{inactive, func(d *graphclient.Definition) { d.Scope.InactiveDuration = "PT720H" }}, true},
		{"inactiveDuration default", []mod{inactive, func(d *graphclient.Definition) { d.Scope.InactiveDuration = "" }}, []mod{inactive, func(d *graphclient.Definition) { d.Scope.InactiveDuration = "PT0S" }}, true},
		{"PRM sub-scope order and lost queryType", []mod{prm("MicrosoftGraph", false)}, []mod{prm("", true)}, true},
		{"stage order and empty lists", []mod{stages(false, false)}, []mod{stages(true, true)}, true},
		{"recipient template default", []mod{func(d *graphclient.Definition) {
			d.AdditionalNotificationRecipients = []graphclient.NotificationRecipientItem{{NotificationRecipientScope: &graphclient.Scope{Query: "/groups/" + groupID + "/members"}}}
		}}, []mod{func(d *graphclient.Definition) {
			d.AdditionalNotificationRecipients = []graphclient.NotificationRecipientItem{{NotificationTemplateType: "CompletedAdditionalRecipients",
				NotificationRecipientScope: &graphclient.Scope{ODataType: graphclient.TypeNotificationRecipientQuery, Query: "/v1.0/groups/" + groupID + "/members", QueryType: "MicrosoftGraph"}}}
		}}, true},
		{"insight setting defaults", []mod{settings(func(s *graphclient.ScheduleSettings) {
			s.RecommendationInsightSettings = []graphclient.RecommendationInsightSetting{{ODataType: graphclient.TypeUserLastSignInInsight, SignInScope: "tenant"}, {ODataType: graphclient.TypeGroupPeerOutlierInsight}}
		})}, []mod{settings(func(s *graphclient.ScheduleSettings) {
			s.RecommendationInsightSettings = []graphclient.RecommendationInsightSetting{{ODataType: graphclient.TypeGroupPeerOutlierInsight}, {ODataType: graphclient.TypeUserLastSignInInsight, SignInScope: "Tenant", RecommendationLookBackDuration: "P30D"}}
		})}, true},

		// Real differences.
		{"displayName", nil, []mod{func(d *graphclient.Definition) { d.DisplayName += "!" }}, false},
		{"description", nil, []mod{func(d *graphclient.Definition) { d.DescriptionForAdmins += " now" }}, false},
		{"instanceDurationInDays", nil, []mod{settings(func(s *graphclient.ScheduleSettings) { s.InstanceDurationInDays = ptr(7) })}, false},
		{"a boolean", nil, []mod{settings(func(s *graphclient.ScheduleSettings) { s.MailNotificationsEnabled = nil })}, false},
		{"defaultDecision", []mod{settings(func(s *graphclient.ScheduleSettings) { s.DefaultDecision = "Deny" })}, []mod{settings(func(s *graphclient.ScheduleSettings) { s.DefaultDecision = "Approve" })}, false},
		{"applyActions", nil, []mod{settings(func(s *graphclient.ScheduleSettings) {
			s.ApplyActions = []graphclient.ApplyAction{{ODataType: graphclient.TypeDisableAndDeleteUserAction}}
		})}, false},
		{"end date", []mod{rng(func(r *graphclient.RecurrenceRange) { r.Type, r.EndDate = "endDate", "2025-05-08" })}, []mod{rng(func(r *graphclient.RecurrenceRange) { r.Type, r.EndDate = "endDate", "2025-05-09" })}, false},
		{"numbered vs noEnd", nil, []mod{rng(func(r *graphclient.RecurrenceRange) { r.Type, r.NumberOfOccurrences = "numbered", 4 })}, false},
		{"start date", nil, []mod{rng(func(r *graphclient.RecurrenceRange) { r.StartDate = "2025-01-09" })}, false},
		{"interval", nil, []mod{pattern(func(p *graphclient.RecurrencePattern) { p.Interval = 6 })}, false},
		{"pattern type", nil, []mod{pattern(func(p *graphclient.RecurrencePattern) { p.Type = "weekly" })}, false},
		{"one-time vs recurring", nil, []mod{settings(func(s *graphclient.ScheduleSettings) { s.Recurrence.Pattern = nil })}, false},
		{"scope query", nil, []mod{func(d *graphclient.Definition) { d.Scope.Query = "/groups/" + groupID + "/members" }}, false},
		{"scope type", nil, []mod{func(d *graphclient.Definition) { d.Scope.ODataType = graphclient.TypeInactiveUsersQueryScope }}, false},
		{"queryRoot on a relative reviewer", []mod{func(d *graphclient.Definition) {
			d.Reviewers = []graphclient.ReviewerScope{{Query: "./manager", QueryRoot: "decisions"}}
		}}, []mod{func(d *graphclient.Definition) { d.Reviewers = []graphclient.ReviewerScope{{Query: "./manager"}} }}, false},
		{"inactiveDuration", []mod{inactive}, []mod{inactive, func(d *graphclient.Definition) { d.Scope.InactiveDuration = "P60D" }}, false},
		{"reviewers", nil, []mod{func(d *graphclient.Definition) {
			d.Reviewers = append(d.Reviewers, graphclient.ReviewerScope{Query: "/users/" + bobID})
		}}, false},
		{"self-review vs a reviewer", nil, []mod{func(d *graphclient.Definition) { d.Reviewers = nil }}, false},
		{"stage duration", []mod{stages(false, false)}, []mod{stages(false, false), func(d *graphclient.Definition) { d.StageSettings[1].DurationInDays = 4 }}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := baseDef(tt.a...), baseDef(tt.b...)
			na, nb := Normalize(a), Normalize(b)
			if tt.equal {
				require.Empty(t, cmp.Diff(na, nb), "should compare equal")
			} else {
				require.NotEmpty(t, cmp.Diff(na, nb), "should differ")
			}
			require.Empty(t, cmp.Diff(na, Normalize(na)), "Normalize is not idempotent")
			require.Empty(t, cmp.Diff(nb, Normalize(nb)), "Normalize is not idempotent")
		})
	}
}

func TestNormalizeDoesNotModifyItsInput(t *testing.T) {
	d := baseDef(func(d *graphclient.Definition) {
		d.Reviewers = []graphclient.ReviewerScope{{Query: "/users/" + bobID}, {Query: "/users/" + aliceID}}
		d.DescriptionForAdmins += "\n[arsync:x]"
	})
	before := *clone(&d)
	Normalize(d)
	require.Empty(t, cmp.Diff(before, d))
}
