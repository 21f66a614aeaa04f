package spec

import (
	"testing"

	"github.com/arsync/arsync/pkg/graph"
	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    float64
		wantErr string
	}{
		{in: "P30D", want: 30 * 86400},
		{in: "PT12H", want: 12 * 3600},
		{in: "P1DT6H30M", want: 86400 + 6*3600 + 30*60},
		{in: "PT0.5S", want: 0.5},
		{in: "PT0S", want: 0},
		{in: "P0D", want: 0},
		{in: "30D", wantErr: `must start with "P", like P30D`},
		{in: "-P1D", wantErr: "must not be negative"},
		{in: "P", wantErr: "has no amount, like P30D"},
		{in: "PT", wantErr: `has nothing after "T"`},
		{in: "P1DT", wantErr: `has nothing after "T"`},
		{in: "P1M", wantErr: "may use only days, hours, minutes and seconds (Graph durations have no years, months or weeks), like P30D"},
		{in: "P1Y", wantErr: "may use only days, hours, minutes and seconds (Graph durations have no years, months or weeks), like P30D"},
		{in: "P4W", wantErr: "may use only days, hours, minutes and seconds (Graph durations have no years, months or weeks), like P30D"},
		{in: "PT1D", wantErr: `has days after "T"; write P1DT12H`},
		{in: "PT1M1H", wantErr: `has unit "H" out of place; the order is P[nD][T[nH][nM][nS]]`},
		{in: "P1D1D", wantErr: `has unit "D" out of place; the order is P[nD][T[nH][nM][nS]]`},
		{in: "P1.5D", wantErr: "may have a fraction only in seconds"},
		{in: "PT.5S", wantErr: `has a bad number ".5"`},
		{in: "PT1..5S", wantErr: `has a bad number "1..5"`},
		{in: "P30", wantErr: "is not an ISO-8601 duration like P30D or PT12H"},
		{in: "PTT1H", wantErr: `has "T" twice`},
		{in: "P1X", wantErr: `has unit "X" out of place; the order is P[nD][T[nH][nM][nS]]`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := graph.ParseDuration(tt.in)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.InDelta(t, tt.want, got, 1e-9)
		})
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"displayName", "descriptionForAdmins", "descriptionForReviewers", "scope", "settings", "stageSettings"}
	tests := []struct{ in, want string }{
		{"displayname", "displayName"}, // letter case
		{"dispalyName", "displayName"}, // swapped letters
		{"descriptionForReviewer", "descriptionForReviewers"},
		{"setting", "settings"},
		{"scop", "scope"},
		{"stage", "stageSettings"}, // the start of exactly one name
		{"reviewers", ""},          // not close to anything
		{"x", ""},
		{"descriptionFor", ""}, // prefix of two names: no guess
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, graph.Suggest(tt.in, known), tt.in)
	}
	require.Equal(t, "removeAccessApplyAction", graph.Suggest("removeAccess", []string{"removeAccessApplyAction", "disableAndDeleteUserApplyAction"}))
}

func TestPeriodDays(t *testing.T) {
	tests := []struct {
		pattern Pattern
		want    int
	}{
		{Pattern{Type: "weekly", Interval: 1}, 7},
		{Pattern{Type: "weekly", Interval: 2}, 14},
		{Pattern{Type: "absoluteMonthly", Interval: 1}, 28},
		{Pattern{Type: "absoluteMonthly", Interval: 2}, 59},  // Feb + Mar
		{Pattern{Type: "absoluteMonthly", Interval: 3}, 89},  // Feb + Mar + Apr
		{Pattern{Type: "absoluteMonthly", Interval: 6}, 181}, // Sep to Feb, or Feb to Jul
		{Pattern{Type: "absoluteMonthly", Interval: 12}, 365},
		{Pattern{Type: "absoluteMonthly", Interval: 13}, 393},
	}
	for _, tt := range tests {
		got, ok := periodDays(&tt.pattern)
		require.True(t, ok)
		require.Equal(t, tt.want, got, "%+v", tt.pattern)
	}
	_, ok := periodDays(&Pattern{Type: "weekly"})
	require.False(t, ok, "interval 0 has no period")
}

func TestParseQueryRefs(t *testing.T) {
	refs, err := parseQueryRefs("/groups/${group:Project Falcon}/members?$filter=(id eq '${user: alice@contoso.com }')&$count=true")
	require.NoError(t, err)
	want := []queryRef{
		{kind: RefGroup, name: "Project Falcon", start: 8, end: 31},
		{kind: RefUser, name: "alice@contoso.com", start: 56, end: 83},
	}
	if diff := cmp.Diff(want, refs, cmp.AllowUnexported(queryRef{})); diff != "" {
		t.Errorf("parseQueryRefs mismatch (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"${group}", "${team:x}", "${group:}", "${group:a", "${group:a ${user:b}"} {
		_, err := parseQueryRefs(bad)
		require.Error(t, err, bad)
	}
	refs, err = parseQueryRefs("/users?$filter=x&$count=true")
	require.NoError(t, err)
	require.Empty(t, refs)
}

func TestIsGUID(t *testing.T) {
	require.True(t, IsGUID("fc9a2c2b-1ddc-486d-a211-5fe8ca77fa1f"))
	require.True(t, IsGUID("FC9A2C2B-1DDC-486D-A211-5FE8CA77FA1F"))
	require.False(t, IsGUID("fc9a2c2b1ddc486da2115fe8ca77fa1f"))
	require.False(t, IsGUID("alice@contoso.com"))
	require.False(t, IsGUID("gc9a2c2b-1ddc-486d-a211-5fe8ca77fa1f"))
}

// The type tables must use exactly graphclient's @odata.type names.
func TestTypeNamesMatchGraphclient(t *testing.T) {
	require.Equal(t, graph.TypeQueryScope, odataType(scopeTypes, string(ScopeQuery)))
	require.Equal(t, graph.TypeInactiveUsersQueryScope, odataType(scopeTypes, string(ScopeInactiveUsers)))
	require.Equal(t, graph.TypePrincipalResourceMemberships, odataType(scopeTypes, string(ScopePrincipalResourceMemberships)))
	require.Equal(t, graph.TypeRemoveAccessApplyAction, odataType(applyActionTypes, "removeAccessApplyAction"))
	require.Equal(t, graph.TypeDisableAndDeleteUserAction, odataType(applyActionTypes, "disableAndDeleteUserApplyAction"))
	require.Equal(t, graph.TypeUserLastSignInInsight, odataType(insightTypes, InsightUserLastSignIn))
	require.Equal(t, graph.TypeGroupPeerOutlierInsight, odataType(insightTypes, InsightGroupPeerOutlier))
	require.Equal(t, graph.TypeNotificationRecipientQuery, odataType(recipientScopeTypes, "query"))
}

func TestRecipientForms(t *testing.T) {
	for _, entry := range []string{
		"{user: alice@contoso.com}",
		"{notificationRecipientScope: {user: alice@contoso.com}}",
		"{notificationTemplateType: CompletedAdditionalRecipients, notificationRecipientScope: {\"@odata.type\": \"#microsoft.graph.accessReviewNotificationRecipientQueryScope\", query: '/users/${user:alice@contoso.com}', queryType: MicrosoftGraph}}",
	} {
		src := baseSpec("  scope:\n    query: /groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/members\n  additionalNotificationRecipients:\n    - " + entry + "\n")
		defs, diags := Parse("n.yaml", []byte(src))
		require.Empty(t, diags, entry)
		g, err := defs[0].ToGraph(&fakeDirectory{})
		require.NoError(t, err)
		want := []graph.NotificationRecipientItem{{
			NotificationTemplateType: "CompletedAdditionalRecipients",
			NotificationRecipientScope: &graph.Scope{
				ODataType: graph.TypeNotificationRecipientQuery,
				Query:     "/users/" + fakeID(RefUser, "alice@contoso.com"),
				QueryType: "MicrosoftGraph",
			},
		}}
		if diff := cmp.Diff(want, g.AdditionalNotificationRecipients); diff != "" {
			t.Errorf("%s (-want +got):\n%s", entry, diff)
		}
	}
}
