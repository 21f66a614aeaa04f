package diff

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/graph"
)

// TestNormalizeEquivalences lists what must compare equal (comparison
// by meaning, docs/safety.md#the-actions, and Graph's rewriting,
// docs/graph-behaviour.md#recurrence, #reviewers, #scopes-and-queries and
// #documented-payloads) and what must not.
func TestNormalizeEquivalences(t *testing.T) {
	type mod = func(*graph.Definition)
	settings := func(f func(*graph.ScheduleSettings)) mod {
		return func(d *graph.Definition) { f(d.Settings) }
	}
	rng := func(f func(*graph.RecurrenceRange)) mod {
		return settings(func(s *graph.ScheduleSettings) { f(s.Recurrence.Range) })
	}
	pattern := func(f func(*graph.RecurrencePattern)) mod {
		return settings(func(s *graph.ScheduleSettings) { f(s.Recurrence.Pattern) })
	}
	inactive := func(d *graph.Definition) {
		d.Scope = &graph.Scope{ODataType: graph.TypeInactiveUsersQueryScope, Query: "/users", InactiveDuration: "P30D"}
	}
	prm := func(principalType string, swap bool) mod {
		return func(d *graph.Definition) {
			ps := []graph.Scope{
				{ODataType: graph.TypeQueryScope, Query: "/users", QueryType: principalType},
				{ODataType: graph.TypeQueryScope, Query: "/groups", QueryType: principalType},
			}
			if swap {
				ps[0], ps[1] = ps[1], ps[0]
			}
			d.Scope = &graph.Scope{
				ODataType:       graph.TypePrincipalResourceMemberships,
				PrincipalScopes: ps,
				ResourceScopes:  []graph.Scope{{ODataType: graph.TypeQueryScope, Query: "/servicePrincipals/" + bobID, QueryType: principalType}},
			}
		}
	}
	stages := func(reverse bool, emptyLists bool) mod {
		return func(d *graph.Definition) {
			s1 := graph.StageSettings{StageID: "1", DurationInDays: 2, RecommendationsEnabled: ptr(true),
				Reviewers: []graph.ReviewerScope{{Query: "./manager", QueryRoot: "decisions"}}}
			s2 := graph.StageSettings{StageID: "2", DependsOn: []string{"1"}, DurationInDays: 3,
				DecisionsThatWillMoveToNextStage: []string{"NotReviewed", "Approve"},
				Reviewers:                        []graph.ReviewerScope{{Query: "/users/" + aliceID}}}
			if emptyLists {
				s1.DependsOn = []string{}
				s1.DecisionsThatWillMoveToNextStage = []string{}
				s1.FallbackReviewers = []graph.ReviewerScope{}
				s2.DecisionsThatWillMoveToNextStage = []string{"approve", "notReviewed"}
				s2.RecommendationsEnabled = ptr(false)
			}
			d.StageSettings = []graph.StageSettings{s1, s2}
			if reverse {
				d.StageSettings = []graph.StageSettings{s2, s1}
			}
		}
	}

	tests := []struct {
		name  string
		a, b  []mod
		equal bool
	}{
		{"identical", nil, nil, true},
		{"marker is invisible", nil, []mod{func(d *graph.Definition) { d.DescriptionForAdmins += "\n[arsync:x]" }}, true},
		{"CRLF and trailing space in descriptions", nil, []mod{func(d *graph.Definition) {
			d.DescriptionForAdmins += " \r\n"
			d.DescriptionForReviewers += "\n"
		}}, true},
		{"read-only fields", nil, []mod{func(d *graph.Definition) {
			d.ID, d.Status, d.CreatedDateTime, d.LastModifiedDateTime = "x", "InProgress", "2021-05-04T18:27:02.6719849Z", "2021-05-04T18:27:02Z"
			d.CreatedBy = &graph.UserIdentity{ID: bobID}
		}}, true},
		{"scope type and queryType defaults", nil, []mod{func(d *graph.Definition) {
			d.Scope.ODataType, d.Scope.QueryType = "", ""
		}}, true},
		{"scope type spelling", nil, []mod{func(d *graph.Definition) { d.Scope.ODataType = "microsoft.graph.AccessReviewQueryScope" }}, true},
		{"echoed query form", nil, []mod{func(d *graph.Definition) {
			d.Scope.Query = "/v1.0/groups/" + groupID + "/transitiveMembers/microsoft.graph.user/"
		}}, true},
		{"queryRoot on an absolute reviewer", nil, []mod{func(d *graph.Definition) { d.Reviewers[0].QueryRoot = "decisions" }}, true},
		{"reviewer order", []mod{func(d *graph.Definition) {
			d.Reviewers = []graph.ReviewerScope{{Query: "/users/" + aliceID}, {Query: "/users/" + bobID}}
		}}, []mod{func(d *graph.Definition) {
			d.Reviewers = []graph.ReviewerScope{{Query: "/users/" + bobID, QueryType: "MicrosoftGraph"}, {Query: "/v1.0/users/" + aliceID}}
		}}, true},
		{"empty vs absent lists", []mod{func(d *graph.Definition) {
			d.FallbackReviewers, d.AdditionalNotificationRecipients, d.StageSettings = nil, nil, nil
		}}, []mod{func(d *graph.Definition) {
			d.FallbackReviewers = []graph.ReviewerScope{}
			d.AdditionalNotificationRecipients = []graph.NotificationRecipientItem{}
			d.StageSettings = []graph.StageSettings{}
			d.Settings.RecommendationInsightSettings = []graph.RecommendationInsightSetting{}
		}}, true},
		{"settings booleans absent are false", []mod{settings(func(s *graph.ScheduleSettings) {
			s.AutoApplyDecisionsEnabled, s.DecisionHistoriesForReviewersEnabled = nil, nil
		})}, []mod{settings(func(s *graph.ScheduleSettings) {
			s.AutoApplyDecisionsEnabled, s.DecisionHistoriesForReviewersEnabled = ptr(false), ptr(false)
		})}, true},
		{"settings absent", []mod{func(d *graph.Definition) { d.Settings = nil }}, []mod{func(d *graph.Definition) {
			d.Settings = &graph.ScheduleSettings{MailNotificationsEnabled: ptr(false), InstanceDurationInDays: ptr(0), DefaultDecision: "None",
				ApplyActions: []graph.ApplyAction{}, RecommendationLookBackDuration: "P30D"}
		}}, true},
		{"defaultDecision None", []mod{settings(func(s *graph.ScheduleSettings) { s.DefaultDecision = "" })}, []mod{settings(func(s *graph.ScheduleSettings) { s.DefaultDecision = "none" })}, true},
		{"defaultDecision case", []mod{settings(func(s *graph.ScheduleSettings) { s.DefaultDecision = "Deny" })}, []mod{settings(func(s *graph.ScheduleSettings) { s.DefaultDecision = "deny" })}, true},
		{"instanceDurationInDays absent is 0", []mod{settings(func(s *graph.ScheduleSettings) { s.InstanceDurationInDays = nil })}, []mod{settings(func(s *graph.ScheduleSettings) { s.InstanceDurationInDays = ptr(0) })}, true},
		{"look-back default and forms", []mod{settings(func(s *graph.ScheduleSettings) { s.RecommendationLookBackDuration = "" })}, []mod{settings(func(s *graph.ScheduleSettings) { s.RecommendationLookBackDuration = "PT720H" })}, true},
		{"applyActions absent is removeAccess", []mod{settings(func(s *graph.ScheduleSettings) { s.ApplyActions = []graph.ApplyAction{} })}, []mod{settings(func(s *graph.ScheduleSettings) {
			s.ApplyActions = []graph.ApplyAction{{ODataType: "microsoft.graph.removeAccessApplyAction"}}
		})}, true},
		{"applyActions order", []mod{settings(func(s *graph.ScheduleSettings) {
			s.ApplyActions = []graph.ApplyAction{{ODataType: graph.TypeRemoveAccessApplyAction}, {ODataType: graph.TypeDisableAndDeleteUserAction}}
		})}, []mod{settings(func(s *graph.ScheduleSettings) {
			s.ApplyActions = []graph.ApplyAction{{ODataType: graph.TypeDisableAndDeleteUserAction}, {ODataType: graph.TypeRemoveAccessApplyAction}}
		})}, true},
		{"pattern defaults filled", nil, []mod{pattern(func(p *graph.RecurrencePattern) {
			p.Month, p.DayOfMonth, p.DaysOfWeek, p.FirstDayOfWeek, p.Index = 0, 0, []string{}, "sunday", "first"
		})}, true},
		{"pattern type case", nil, []mod{pattern(func(p *graph.RecurrencePattern) { p.Type = "AbsoluteMonthly" })}, true},
		{"interval absent is 1", []mod{pattern(func(p *graph.RecurrencePattern) { p.Interval = 1 })}, []mod{pattern(func(p *graph.RecurrencePattern) { p.Interval = 0 })}, true},
		{"daysOfWeek order and case", []mod{pattern(func(p *graph.RecurrencePattern) { p.DaysOfWeek = []string{"monday", "friday"} })}, []mod{pattern(func(p *graph.RecurrencePattern) { p.DaysOfWeek = []string{"Friday", "MONDAY"} })}, true},
		{"one-time: no pattern vs typeless pattern", []mod{settings(func(s *graph.ScheduleSettings) { s.Recurrence.Pattern = nil })}, []mod{settings(func(s *graph.ScheduleSettings) {
			s.Recurrence.Pattern = &graph.RecurrencePattern{FirstDayOfWeek: "sunday", Index: "first"}
		})}, true},
		{"noEnd vs numbered 0 and 9999-12-31", nil, []mod{rng(func(r *graph.RecurrenceRange) {
			r.Type, r.NumberOfOccurrences, r.EndDate = "numbered", 0, "9999-12-31"
		})}, true},
		{"noEnd vs numbered 0 without end", nil, []mod{rng(func(r *graph.RecurrenceRange) { r.Type = "numbered" })}, true},
		{"noEnd vs endDate null string", nil, []mod{rng(func(r *graph.RecurrenceRange) { r.EndDate = "null" })}, true},
		{"noEnd vs endDate far future", nil, []mod{rng(func(r *graph.RecurrenceRange) { r.Type, r.EndDate = "endDate", "9999-12-31" })}, true},
		{"endDate vs numbered 0 with end", []mod{rng(func(r *graph.RecurrenceRange) { r.Type, r.EndDate = "endDate", "2025-05-08" })}, []mod{rng(func(r *graph.RecurrenceRange) {
			r.Type, r.NumberOfOccurrences, r.EndDate = "numbered", 0, "2025-05-08"
		})}, true},
		{"start datetime vs date", nil, []mod{rng(func(r *graph.RecurrenceRange) { r.StartDate = "2025-01-08T12:02:30.667Z" })}, true},
		{"range type case and null time zone", nil, []mod{rng(func(r *graph.RecurrenceRange) { r.Type, r.RecurrenceTimeZone = "NoEnd", " " })}, true},
		{"inactiveDuration forms", []mod{inactive}, []mod{inactive, func(d *graph.Definition) { d.Scope.InactiveDuration = "PT720H" }}, true},
		{"inactiveDuration default", []mod{inactive, func(d *graph.Definition) { d.Scope.InactiveDuration = "" }}, []mod{inactive, func(d *graph.Definition) { d.Scope.InactiveDuration = "PT0S" }}, true},
		{"PRM sub-scope order and lost queryType", []mod{prm("MicrosoftGraph", false)}, []mod{prm("", true)}, true},
		{"stage order and empty lists", []mod{stages(false, false)}, []mod{stages(true, true)}, true},
		{"recipient template default", []mod{func(d *graph.Definition) {
			d.AdditionalNotificationRecipients = []graph.NotificationRecipientItem{{NotificationRecipientScope: &graph.Scope{Query: "/groups/" + groupID + "/members"}}}
		}}, []mod{func(d *graph.Definition) {
			d.AdditionalNotificationRecipients = []graph.NotificationRecipientItem{{NotificationTemplateType: "CompletedAdditionalRecipients",
				NotificationRecipientScope: &graph.Scope{ODataType: graph.TypeNotificationRecipientQuery, Query: "/v1.0/groups/" + groupID + "/members", QueryType: "MicrosoftGraph"}}}
		}}, true},
		{"insight setting defaults", []mod{settings(func(s *graph.ScheduleSettings) {
			s.RecommendationInsightSettings = []graph.RecommendationInsightSetting{{ODataType: graph.TypeUserLastSignInInsight, SignInScope: "tenant"}, {ODataType: graph.TypeGroupPeerOutlierInsight}}
		})}, []mod{settings(func(s *graph.ScheduleSettings) {
			s.RecommendationInsightSettings = []graph.RecommendationInsightSetting{{ODataType: graph.TypeGroupPeerOutlierInsight}, {ODataType: graph.TypeUserLastSignInInsight, SignInScope: "Tenant", RecommendationLookBackDuration: "P30D"}}
		})}, true},

		// Real differences.
		{"displayName", nil, []mod{func(d *graph.Definition) { d.DisplayName += "!" }}, false},
		{"description", nil, []mod{func(d *graph.Definition) { d.DescriptionForAdmins += " now" }}, false},
		{"instanceDurationInDays", nil, []mod{settings(func(s *graph.ScheduleSettings) { s.InstanceDurationInDays = ptr(7) })}, false},
		{"a boolean", nil, []mod{settings(func(s *graph.ScheduleSettings) { s.MailNotificationsEnabled = nil })}, false},
		{"defaultDecision", []mod{settings(func(s *graph.ScheduleSettings) { s.DefaultDecision = "Deny" })}, []mod{settings(func(s *graph.ScheduleSettings) { s.DefaultDecision = "Approve" })}, false},
		{"applyActions", nil, []mod{settings(func(s *graph.ScheduleSettings) {
			s.ApplyActions = []graph.ApplyAction{{ODataType: graph.TypeDisableAndDeleteUserAction}}
		})}, false},
		{"end date", []mod{rng(func(r *graph.RecurrenceRange) { r.Type, r.EndDate = "endDate", "2025-05-08" })}, []mod{rng(func(r *graph.RecurrenceRange) { r.Type, r.EndDate = "endDate", "2025-05-09" })}, false},
		{"numbered vs noEnd", nil, []mod{rng(func(r *graph.RecurrenceRange) { r.Type, r.NumberOfOccurrences = "numbered", 4 })}, false},
		{"start date", nil, []mod{rng(func(r *graph.RecurrenceRange) { r.StartDate = "2025-01-09" })}, false},
		{"interval", nil, []mod{pattern(func(p *graph.RecurrencePattern) { p.Interval = 6 })}, false},
		{"pattern type", nil, []mod{pattern(func(p *graph.RecurrencePattern) { p.Type = "weekly" })}, false},
		{"one-time vs recurring", nil, []mod{settings(func(s *graph.ScheduleSettings) { s.Recurrence.Pattern = nil })}, false},
		{"scope query", nil, []mod{func(d *graph.Definition) { d.Scope.Query = "/groups/" + groupID + "/members" }}, false},
		{"scope type", nil, []mod{func(d *graph.Definition) { d.Scope.ODataType = graph.TypeInactiveUsersQueryScope }}, false},
		{"queryRoot on a relative reviewer", []mod{func(d *graph.Definition) {
			d.Reviewers = []graph.ReviewerScope{{Query: "./manager", QueryRoot: "decisions"}}
		}}, []mod{func(d *graph.Definition) { d.Reviewers = []graph.ReviewerScope{{Query: "./manager"}} }}, false},
		{"inactiveDuration", []mod{inactive}, []mod{inactive, func(d *graph.Definition) { d.Scope.InactiveDuration = "P60D" }}, false},
		{"reviewers", nil, []mod{func(d *graph.Definition) {
			d.Reviewers = append(d.Reviewers, graph.ReviewerScope{Query: "/users/" + bobID})
		}}, false},
		{"self-review vs a reviewer", nil, []mod{func(d *graph.Definition) { d.Reviewers = nil }}, false},
		{"stage duration", []mod{stages(false, false)}, []mod{stages(false, false), func(d *graph.Definition) { d.StageSettings[1].DurationInDays = 4 }}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := baseDef(tt.a...), baseDef(tt.b...)
			na, nb := graph.Normalize(a), graph.Normalize(b)
			if tt.equal {
				require.Empty(t, cmp.Diff(na, nb, ignoreRead), "should compare equal")
			} else {
				require.NotEmpty(t, cmp.Diff(na, nb, ignoreRead), "should differ")
			}
			require.Empty(t, cmp.Diff(na, graph.Normalize(na), ignoreRead), "Normalize is not idempotent")
			require.Empty(t, cmp.Diff(nb, graph.Normalize(nb), ignoreRead), "Normalize is not idempotent")
		})
	}
}

func TestNormalizeDoesNotModifyItsInput(t *testing.T) {
	d := baseDef(func(d *graph.Definition) {
		d.Reviewers = []graph.ReviewerScope{{Query: "/users/" + bobID}, {Query: "/users/" + aliceID}}
		d.DescriptionForAdmins += "\n[arsync:x]"
	})
	before := *clone(&d)
	graph.Normalize(d)
	require.Empty(t, cmp.Diff(before, d, ignoreRead))
}
