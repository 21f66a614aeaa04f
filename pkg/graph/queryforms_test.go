package graph

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckQueryForm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		place QueryPlace
		query string
		why   string // a substring of the problem; "" when accepted
	}{
		{QueryInScope, "/groups/${group:Marketing}/transitiveMembers/microsoft.graph.user", ""},
		{QueryInScope, "/v1.0/groups/${group:Marketing}/transitiveMembers/microsoft.graph.user/?$count=true&$filter=(userType eq 'Guest')", ""},
		{QueryInScope, "/groups/${group:Marketing}/members", ""},
		{QueryInScope, "./members/microsoft.graph.user/?$filter=(userType eq 'Guest')", ""},
		{QueryInScope, "/roleManagement/directory/roleDefinitions/${role:Global Administrator}", ""},
		{QueryInScope, "/roleManagement/directory/roleAssignmentScheduleInstances?$expand=principal&$filter=(isof(principal,'microsoft.graph.user') and roleDefinitionId eq '${role:Global Administrator}')", ""},
		{QueryInScope, "/identityGovernance/entitlementManagement/accessPackageAssignments?$filter=(accessPackageId+eq+'a'+and+catalogId+eq+'c')", ""},
		{QueryInScope, "/servicePrincipals/${servicePrincipal:Payroll App}/appRoleAssignedTo", ""},
		{QueryInScope, "/users", "is not a scope query"},
		{QueryInScope, "/groups/${group:Marketing}/owners", "is not a scope query"},
		{QueryInScope, "/groups/${group:Marketing}/members?$select=id", "cannot carry $select"},
		{QueryInScope, "/groups/${group:Marketing}/members?$filter=a&$filter=b", "has $filter twice"},
		{QueryInScope, "/roleManagement/directory/roleDefinitions/x?$filter=(a eq 'b')", "cannot carry $filter"},
		{QueryInScope, "/roleManagement/directory/roleAssignmentScheduleInstances?$expand=owner&$filter=(roleDefinitionId eq 'r')", "cannot carry $expand"},
		{QueryInScope, "/identityGovernance/entitlementManagement/accessPackageAssignments?$filter=(accessPackageId eq 'a' and mycatalogId eq 'c')", "comparing catalogId"},
		{QueryInScope, "/identityGovernance/entitlementManagement/accessPackageAssignments", "comparing accessPackageId and catalogId"},
		{QueryInScope, "/roleManagment/directory/roleDefinitions/x", `did you mean "roleManagement"`},
		{QueryInEnumeration, "/groups?$filter=(groupTypes/any(c:c+eq+'Unified') and resourceProvisioningOptions/Any(x:x eq 'Team')')", ""},
		{QueryInEnumeration, "/groups/${group:Sales}", ""},
		{QueryInEnumeration, "/groups/${group:Sales}/members", "is not an instanceEnumerationScope query"},
		{QueryInPrincipals, "/users?$filter=(userType eq 'Guest')", ""},
		{QueryInResources, "/teams/${group:Sales}/channels?$filter=(membershipType eq 'shared')", ""},
		{QueryInResources, "/servicePrincipals/${servicePrincipal:Payroll App}", ""},
		{QueryInReviewers, "/groups/${group:Finance}/owners?$filter=microsoft.graph.user/userType eq 'Member'", ""},
		{QueryInReviewers, "./manager", ""},
		{QueryInReviewers, "/groups/${group:Finance}/members", "is not a reviewer query"},
		{QueryInRecipients, "/groups/${group:Finance}/members", ""},
		{QueryInRecipients, "/groups/${group:Finance}/transitiveMembers", "is not a notification recipient query"},
	}
	for _, tt := range tests {
		got := CheckQueryForm(withIDs(tt.query), tt.place)
		if tt.why == "" {
			require.Empty(t, got, tt.query)
			continue
		}
		require.True(t, strings.Contains(got, tt.why), "%s: %q should contain %q", tt.query, got, tt.why)
	}
}

// withIDs writes an id for each ${kind:name} reference, as pkg/spec does
// before it checks a query.
func withIDs(q string) string {
	return regexp.MustCompile(`\$\{[^}]*\}`).ReplaceAllString(q, "id")
}
