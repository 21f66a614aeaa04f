package spec

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckQueryForm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		place queryPlace
		query string
		why   string // a substring of the problem; "" when accepted
	}{
		{queryInScope, "/groups/${group:Marketing}/transitiveMembers/microsoft.graph.user", ""},
		{queryInScope, "/v1.0/groups/${group:Marketing}/transitiveMembers/microsoft.graph.user/?$count=true&$filter=(userType eq 'Guest')", ""},
		{queryInScope, "/groups/${group:Marketing}/members", ""},
		{queryInScope, "./members/microsoft.graph.user/?$filter=(userType eq 'Guest')", ""},
		{queryInScope, "/roleManagement/directory/roleDefinitions/${role:Global Administrator}", ""},
		{queryInScope, "/roleManagement/directory/roleAssignmentScheduleInstances?$expand=principal&$filter=(isof(principal,'microsoft.graph.user') and roleDefinitionId eq '${role:Global Administrator}')", ""},
		{queryInScope, "/identityGovernance/entitlementManagement/accessPackageAssignments?$filter=(accessPackageId+eq+'a'+and+catalogId+eq+'c')", ""},
		{queryInScope, "/servicePrincipals/${servicePrincipal:Payroll App}/appRoleAssignedTo", ""},
		{queryInScope, "/users", "is not a scope query"},
		{queryInScope, "/groups/${group:Marketing}/owners", "is not a scope query"},
		{queryInScope, "/groups/${group:Marketing}/members?$select=id", "cannot carry $select"},
		{queryInScope, "/groups/${group:Marketing}/members?$filter=a&$filter=b", "has $filter twice"},
		{queryInScope, "/roleManagement/directory/roleDefinitions/x?$filter=(a eq 'b')", "cannot carry $filter"},
		{queryInScope, "/roleManagement/directory/roleAssignmentScheduleInstances?$expand=owner&$filter=(roleDefinitionId eq 'r')", "cannot carry $expand"},
		{queryInScope, "/identityGovernance/entitlementManagement/accessPackageAssignments?$filter=(accessPackageId eq 'a' and mycatalogId eq 'c')", "comparing catalogId"},
		{queryInScope, "/identityGovernance/entitlementManagement/accessPackageAssignments", "comparing accessPackageId and catalogId"},
		{queryInScope, "/roleManagment/directory/roleDefinitions/x", `did you mean "roleManagement"`},
		{queryInEnumeration, "/groups?$filter=(groupTypes/any(c:c+eq+'Unified') and resourceProvisioningOptions/Any(x:x eq 'Team')')", ""},
		{queryInEnumeration, "/groups/${group:Sales}", ""},
		{queryInEnumeration, "/groups/${group:Sales}/members", "is not an instanceEnumerationScope query"},
		{queryInPrincipals, "/users?$filter=(userType eq 'Guest')", ""},
		{queryInResources, "/teams/${group:Sales}/channels?$filter=(membershipType eq 'shared')", ""},
		{queryInResources, "/servicePrincipals/${servicePrincipal:Payroll App}", ""},
		{queryInReviewers, "/groups/${group:Finance}/owners?$filter=microsoft.graph.user/userType eq 'Member'", ""},
		{queryInReviewers, "./manager", ""},
		{queryInReviewers, "/groups/${group:Finance}/members", "is not a reviewer query"},
		{queryInRecipients, "/groups/${group:Finance}/members", ""},
		{queryInRecipients, "/groups/${group:Finance}/transitiveMembers", "is not a notification recipient query"},
	}
	for _, tt := range tests {
		got := checkQueryForm(tt.query, tt.place)
		if tt.why == "" {
			require.Empty(t, got, tt.query)
			continue
		}
		require.True(t, strings.Contains(got, tt.why), "%s: %q should contain %q", tt.query, got, tt.why)
	}
}

// TestQueryFormSkipsARM: an ARM query is not a Microsoft Graph path, and a
// raw query without queryType is sent as MicrosoftGraph, so it is checked.
func TestQueryFormSkipsARM(t *testing.T) {
	t.Parallel()
	src := strings.Replace(baseSpec("  scope:\n    query: /groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/members\n"),
		"    - user: alice@contoso.com\n", "    - query: /subscriptions/s/owners\n      queryType: ARM\n    - query: /users/${user:bob@contoso.com}\n", 1)
	defs, diags := Parse("a.yaml", []byte(src))
	require.Empty(t, diags)
	g, err := defs[0].ToGraph(mapResolver{{RefUser, "bob@contoso.com"}: idAlice})
	require.NoError(t, err)
	require.Equal(t, "MicrosoftGraph", g.Reviewers[1].QueryType)
}
