package coverage

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/graph"
)

const (
	sales   = "11111111-1111-1111-1111-111111111111" // Microsoft 365 group
	team    = "22222222-2222-2222-2222-222222222222" // a team
	secGrp  = "33333333-3333-3333-3333-333333333333" // security group
	gaRole  = "62e90394-69f5-4237-9190-012177145e10"
	praRole = "e8611ab8-c189-46e8-94e1-60213ab1f814"
	app     = "44444444-4444-4444-4444-444444444444"
)

var testDir = Inputs{
	Groups: []Group{
		{ID: sales, DisplayName: "Sales", MailNickname: "sales", GroupTypes: []string{"Unified"}, MailEnabled: true, Guests: 2},
		{ID: team, DisplayName: "Project X", MailNickname: "projx", GroupTypes: []string{"Unified"}, ResourceProvisioningOptions: []string{"Team"}, MailEnabled: true, Guests: 1},
		{ID: secGrp, DisplayName: "Contractors", MailNickname: "contractors", SecurityEnabled: true, Guests: 3},
	},
	Roles: []Role{
		{ID: gaRole, DisplayName: "Global Administrator", Active: 2, Eligible: 1},
		{ID: praRole, DisplayName: "Privileged Role Administrator", Eligible: 1},
	},
	Applications: []Application{{ID: app, AppID: "a", DisplayName: "Payroll", Assignments: 4}},
}

var now = time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC)

func qs(q string) *graph.Scope {
	return &graph.Scope{ODataType: "#microsoft.graph.accessReviewQueryScope", Query: q, QueryType: "MicrosoftGraph"}
}

func inactive(q string) *graph.Scope {
	s := qs(q)
	s.ODataType = "#microsoft.graph.accessReviewInactiveUsersQueryScope"
	s.InactiveDuration = "P30D"
	return s
}

func prm(principals []graph.Scope, resources ...string) *graph.Scope {
	s := &graph.Scope{ODataType: "#microsoft.graph.principalResourceMembershipsScope", PrincipalScopes: principals}
	for _, r := range resources {
		s.ResourceScopes = append(s.ResourceScopes, *qs(r))
	}
	return s
}

func def(scope, enum *graph.Scope) graph.Definition {
	return graph.Definition{ID: "d1", DisplayName: "review", Scope: scope, InstanceEnumerationScope: enum}
}

// covered returns "id" -> "full"/"partial" for every covered target.
func covered(r Report) map[string]string {
	out := map[string]string{}
	for _, t := range r.Targets {
		if t.Covered {
			out[t.ID] = map[bool]string{true: "partial", false: "full"}[t.Partial]
		}
	}
	return out
}

func TestComputeScopes(t *testing.T) {
	m365 := qs("/groups?$filter=(groupTypes/any(c:c+eq+'Unified'))&$count=true")
	teams := qs("/groups?$filter=(groupTypes/any(c:c eq 'Unified') and resourceProvisioningOptions/Any(x:x eq 'Team')')")
	tests := []struct {
		name     string
		def      graph.Definition
		want     map[string]string
		warnings int
	}{
		{"one group, transitive members", def(qs("/v1.0/groups/"+sales+"/transitiveMembers/microsoft.graph.user"), nil), map[string]string{sales: "full"}, 0},
		{"one group, guests only", def(qs("/groups/"+secGrp+"/members/microsoft.graph.user/?$filter=(userType eq 'Guest')"), nil), map[string]string{secGrp: "full"}, 0},
		{"one group, members only: no guest reviewed", def(qs("/groups/"+secGrp+"/members?$filter=(userType eq 'Member')"), nil), map[string]string{}, 0},
		{"one group, upper-case id", def(qs("/groups/11111111-1111-1111-1111-111111111111/members"), nil), map[string]string{sales: "full"}, 0},
		{"one group, inactive users", def(inactive("/groups/"+sales+"/transitiveMembers"), nil), map[string]string{sales: "partial"}, 0},
		{"all Microsoft 365 groups", def(qs("./members/microsoft.graph.user/?$count=true&$filter=(userType eq 'Guest')"), m365), map[string]string{sales: "full", team: "full"}, 0},
		{"all Teams, stray quote", def(qs("./members/microsoft.graph.user/?$filter=(userType eq 'Guest')"), teams), map[string]string{team: "full"}, 0},
		{"all Teams, inactive guests", def(inactive("./members/microsoft.graph.user/?$filter=(userType eq 'Guest')"), teams), map[string]string{team: "partial"}, 0},
		{"displayName filter", def(qs("./members"), qs("/groups?$filter=startswith(displayName,'Con') or mailNickname eq 'sales'")), map[string]string{secGrp: "full", sales: "full"}, 0},
		{"security groups", def(qs("./members"), qs("/groups?$filter=securityEnabled eq true and mailEnabled eq false")), map[string]string{secGrp: "full"}, 0},
		{"not", def(qs("./members"), qs("/groups?$filter=not(groupTypes/any(c:c eq 'Unified'))")), map[string]string{secGrp: "full"}, 0},
		{"in", def(qs("./members"), qs("/groups?$filter=displayName in ('Sales','Nobody')")), map[string]string{sales: "full"}, 0},
		{"all groups", def(qs("./members"), qs("/groups")), map[string]string{sales: "full", team: "full", secGrp: "full"}, 0},
		{"one enumerated group", def(qs("./members"), qs("/groups/"+secGrp)), map[string]string{secGrp: "full"}, 0},
		{"unknown property: warning, not covering", def(qs("./members"), qs("/groups?$filter=visibility eq 'Public'")), map[string]string{}, 1},
		{"unparsable filter: warning", def(qs("./members"), qs("/groups?$filter=createdDateTime ge 2020-01-01")), map[string]string{}, 1},
		{"member filter on members only", def(qs("./members/microsoft.graph.user/?$filter=(userType eq 'Member')"), m365), map[string]string{}, 0},
		{"enumeration without scope filter, no enumeration", def(qs("./members"), nil), map[string]string{}, 0},
		{"PRM: inactive guests, all groups", def(prm([]graph.Scope{*inactive("/users?$filter=(userType eq 'Guest')")}, "/groups"), nil),
			map[string]string{sales: "partial", team: "partial", secGrp: "partial"}, 0},
		{"PRM: all users of a team and its channels", def(prm([]graph.Scope{*qs("/users")}, "/groups/"+team+"/transitiveMembers/microsoft.graph.user", "/teams/"+team+"/channels?$filter=(membershipType eq 'shared')"), nil),
			map[string]string{team: "full"}, 0},
		{"PRM: guests of a role", def(prm([]graph.Scope{*qs("/users?$filter=(userType eq 'Guest')")}, "/roleManagement/directory/roleDefinitions/"+gaRole), nil),
			map[string]string{gaRole: "partial"}, 0},
		{"PRM: everyone of a role and an application", def(prm([]graph.Scope{*qs("/users")}, "/roleManagement/directory/roleDefinitions/"+gaRole, "/servicePrincipals/"+app), nil),
			map[string]string{gaRole: "full", app: "full"}, 0},
		{"PRM: members only", def(prm([]graph.Scope{*qs("/users?$filter=(userType eq 'Member')")}, "/groups"), nil), map[string]string{}, 0},
		{"role definition: active and eligible", def(qs("/roleManagement/directory/roleDefinitions/"+gaRole), nil), map[string]string{gaRole: "full"}, 0},
		{"role, eligible only", def(qs("/roleManagement/directory/roleEligibilityScheduleInstances?$expand=principal&$filter=(roleDefinitionId eq '"+praRole+"')"), nil), map[string]string{praRole: "full"}, 0},
		{"role, eligible only, role also active", def(qs("/roleManagement/directory/roleEligibilityScheduleInstances?$expand=principal&$filter=(roleDefinitionId eq '"+gaRole+"')"), nil), map[string]string{gaRole: "partial"}, 0},
		{"role, active users", def(qs("/roleManagement/directory/roleAssignmentScheduleInstances?$expand=principal&$filter=(assignmentType eq 'Assigned' and isof(principal,'microsoft.graph.user') and roleDefinitionId eq '"+gaRole+"')"), nil), map[string]string{gaRole: "partial"}, 0},
		{"application", def(qs("/servicePrincipals/"+app+"/appRoleAssignedTo"), nil), map[string]string{app: "full"}, 0},
		{"access package: nothing", def(qs("/identityGovernance/entitlementManagement/accessPackageAssignments?$filter=(accessPackageId eq 'x' and catalogId eq 'y')"), nil), map[string]string{}, 0},
		{"no scope", def(nil, nil), map[string]string{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Compute([]graph.Definition{tt.def}, testDir, now)
			if diff := cmp.Diff(tt.want, covered(r)); diff != "" {
				t.Errorf("covered (-want +got):\n%s", diff)
			}
			require.Len(t, r.Warnings, tt.warnings, "%v", r.Warnings)
		})
	}
}

func intp(i int) *int { return &i }

func TestComputeEnded(t *testing.T) {
	sched := func(status string, pattern *graph.RecurrencePattern, rg graph.RecurrenceRange, days int) graph.Definition {
		d := def(qs("/groups/"+sales+"/members"), nil)
		d.Status = status
		d.Settings = &graph.ScheduleSettings{InstanceDurationInDays: intp(days),
			Recurrence: &graph.PatternedRecurrence{Pattern: pattern, Range: &rg}}
		return d
	}
	weekly := &graph.RecurrencePattern{Type: "weekly", Interval: 1}
	quarterly := &graph.RecurrencePattern{Type: "absoluteMonthly", Interval: 3}
	tests := []struct {
		name  string
		def   graph.Definition
		alive bool
	}{
		{"in progress, no end", sched("InProgress", quarterly, graph.RecurrenceRange{Type: "noEnd", StartDate: "2023-01-01"}, 14), true},
		{"9999 end", sched("InProgress", quarterly, graph.RecurrenceRange{Type: "numbered", StartDate: "2023-01-01", EndDate: "9999-12-31"}, 14), true},
		{"completed", sched("Completed", quarterly, graph.RecurrenceRange{Type: "noEnd", StartDate: "2023-01-01"}, 14), false},
		{"applied", sched("Applied", nil, graph.RecurrenceRange{Type: "numbered", StartDate: "2024-06-01", EndDate: "2024-06-30"}, 14), false},
		{"end date passed", sched("InProgress", weekly, graph.RecurrenceRange{Type: "endDate", StartDate: "2024-01-01", EndDate: "2024-06-14"}, 3), false},
		{"ends today", sched("InProgress", weekly, graph.RecurrenceRange{Type: "endDate", StartDate: "2024-01-01", EndDate: "2024-06-15"}, 3), true},
		{"one-time over", sched("InProgress", nil, graph.RecurrenceRange{Type: "numbered", StartDate: "2024-05-01", EndDate: "2024-05-15"}, 14), false},
		{"one-time running", sched("InProgress", nil, graph.RecurrenceRange{Type: "numbered", StartDate: "2024-06-10", EndDate: "2024-06-24"}, 14), true},
		{"one-time, duration only, over", sched("InProgress", &graph.RecurrencePattern{}, graph.RecurrenceRange{Type: "numbered", StartDate: "2024-05-01"}, 14), false},
		{"one-time not started", sched("NotStarted", nil, graph.RecurrenceRange{Type: "numbered", StartDate: "2024-07-01", EndDate: "2024-07-14"}, 14), true},
		{"numbered, occurrences left", sched("InProgress", quarterly, graph.RecurrenceRange{Type: "numbered", StartDate: "2024-01-01", NumberOfOccurrences: 4}, 14), true},
		{"numbered, all run", sched("InProgress", weekly, graph.RecurrenceRange{Type: "numbered", StartDate: "2024-01-01", NumberOfOccurrences: 4}, 7), false},
		{"bad start date", sched("InProgress", nil, graph.RecurrenceRange{Type: "numbered", StartDate: "soon"}, 7), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Compute([]graph.Definition{tt.def}, testDir, now)
			require.Equal(t, tt.alive, len(covered(r)) == 1)
		})
	}
}

func TestComputeReport(t *testing.T) {
	managed := def(qs("/groups/"+sales+"/members"), nil)
	managed.ID, managed.DisplayName, managed.DescriptionForAdmins = "d2", "Sales guests", graph.WithMarker("x", "sales-guests")
	portal := def(inactive("/groups/"+sales+"/transitiveMembers"), nil)
	portal.ID, portal.DisplayName = "d1", "Portal review"
	r := Compute([]graph.Definition{managed, portal}, testDir, now)
	require.Equal(t, FormatVersion, r.FormatVersion)
	var order []string
	for _, tg := range r.Targets {
		order = append(order, tg.DisplayName)
	}
	// Uncovered first, by kind then name; covered last.
	require.Equal(t, []string{"Contractors", "Project X", "Global Administrator", "Privileged Role Administrator", "Payroll", "Sales"}, order)
	want := Target{Kind: KindGroup, ID: sales, DisplayName: "Sales", Guests: 2, Covered: true, CoveredBy: []CoveredBy{
		{ID: "d1", DisplayName: "Portal review", Partial: true},
		{ID: "d2", DisplayName: "Sales guests", ManagedName: "sales-guests"},
	}}
	if diff := cmp.Diff(want, r.Targets[5]); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	require.Equal(t, map[Kind]Counts{KindGroup: {Covered: 1, Uncovered: 2}, KindRole: {Uncovered: 2}, KindApplication: {Uncovered: 1}}, r.Summary)
	require.Len(t, r.Uncovered(), 5)
	require.NotNil(t, r.Targets[0].CoveredBy, "an uncovered target has coveredBy: []")
}

// TestRenderJSONStreams: the JSON written a target at a time is byte for
// byte what encoding/json writes for the whole report.
func TestRenderJSONStreams(t *testing.T) {
	full := Report{FormatVersion: FormatVersion, Summary: map[Kind]Counts{KindGroup: {Covered: 1, Uncovered: 1}, KindRole: {}},
		Targets: []Target{
			{Kind: KindGroup, ID: "g1", DisplayName: "A <b> & \"c\"", Guests: 2, CoveredBy: []CoveredBy{}},
			{Kind: KindGroup, ID: "g2", DisplayName: "B", Guests: 1, Covered: true, Partial: true,
				CoveredBy: []CoveredBy{{ID: "d", DisplayName: "D", ManagedName: "d-name", Partial: true}}},
		},
		Warnings: []string{"a filter"}}
	for name, r := range map[string]Report{
		"targets and warnings": full,
		"no targets":           {FormatVersion: FormatVersion, Targets: []Target{}, Summary: map[Kind]Counts{KindGroup: {}}},
		"no warnings":          {FormatVersion: FormatVersion, Targets: full.Targets, Summary: full.Summary},
	} {
		t.Run(name, func(t *testing.T) {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			require.NoError(t, enc.Encode(r))
			var got bytes.Buffer
			require.NoError(t, Render(&got, r, "json"))
			require.Equal(t, want.String(), got.String())
		})
	}
}
