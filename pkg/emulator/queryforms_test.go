package emulator

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestQueryForms(t *testing.T) {
	t.Parallel()
	const id = "02f3bafb-448c-487c-88c2-5fd65ce49a41"
	tests := []struct {
		place queryPlace
		query string
		ok    bool
	}{
		// scope
		{placeScope, "/groups/" + id + "/transitiveMembers", true},
		{placeScope, "/groups/" + id + "/transitiveMembers/microsoft.graph.user", true},
		{placeScope, "/groups/" + id + "/transitiveMembers/?$filter=(userType eq 'Guest')", true},
		{placeScope, "/groups/" + id + "/transitiveMembers/microsoft.graph.user/?$count=true&$filter=(userType eq 'Guest')", true},
		{placeScope, "/v1.0/groups/" + id + "/transitiveMembers/microsoft.graph.user", true},
		{placeScope, "/beta/groups/" + id + "/members", true},
		{placeScope, "/GROUPS/" + id + "/Members", true},
		{placeScope, "./members/microsoft.graph.user/?$filter=(userType eq 'Guest')", true},
		{placeScope, "./members", true},
		{placeScope, "/identityGovernance/entitlementManagement/accessPackageAssignments?$filter=(accessPackageId eq 'a' and assignmentPolicyId eq 'b' and catalogId eq 'c')", true},
		{placeScope, "/identityGovernance/entitlementManagement/accessPackageAssignments?$filter=(accessPackageId+eq+'a'+and+catalogId+eq+'c')", true},
		{placeScope, "/roleManagement/directory/roleAssignmentScheduleInstances?$expand=principal&$filter=(isof(principal,'microsoft.graph.servicePrincipal') and roleDefinitionId eq 'r')", true},
		{placeScope, "/roleManagement/directory/roleEligibilityScheduleInstances?$expand=principal&$filter=(isof(principal,'microsoft.graph.user') and roleDefinitionId eq 'r')", true},
		{placeScope, "/roleManagement/directory/roleAssignmentAndEligbilitySchedules?$filter=roleDefinitionId eq 'r'", true},
		{placeScope, "/roleManagement/directory/roleDefinitions/" + id, true},
		{placeScope, "/servicePrincipals/" + id + "/appRoleAssignedTo", true},
		{placeScope, "/identitityGovernance/entitlementManagement/accessPackageAssignments?$filter=(accessPackageId eq 'a' and catalogId eq 'c')", false},
		{placeScope, "/identityGovernance/entitlementManagement/accessPackageAssignments?$filter=(accessPackageId eq 'a' and assignmentPolicyId eq 'b')", false},
		{placeScope, "/identityGovernance/entitlementManagement/accessPackageAssignments", false},
		{placeScope, "/identityGovernance/entitlementManagement/accessPackageAssignments?$filter=(accessPackageId eq 'a' and mycatalogId eq 'c')", false},
		{placeScope, "/roleManagement/directory/roleAssignmentScheduleInstances?$expand=principal&$filter=(isof(principal,'microsoft.graph.user'))", false},
		{placeScope, "/roleManagement/directory/roleAssignmentScheduleInstances?$expand=owner&$filter=(roleDefinitionId eq 'r')", false},
		{placeScope, "/foo/bar", false},
		{placeScope, "/groups", false},
		{placeScope, "/groups/" + id, false},
		{placeScope, "/groups/" + id + "/owners", false},
		{placeScope, "/groups/" + id + "/members?$select=id", false},
		{placeScope, "/groups/" + id + "/members?$filter=a&$filter=b", false},
		{placeScope, "/groups/" + id + "/transitiveMembers/microsoft.graph.device", false},
		{placeScope, "/groups//transitiveMembers", false},
		{placeScope, "/users", false},
		{placeScope, "/users/" + id, false},
		{placeScope, "./owners", false},
		{placeScope, "./transitiveMembers", false},
		{placeScope, "/roleManagement/directory/roleDefinitions", false},
		// instanceEnumerationScope
		{placeEnumeration, "/groups?$filter=(groupTypes/any(c:c eq 'Unified'))", true},
		{placeEnumeration, "/groups?$filter=(groupTypes/any(c:c+eq+'Unified') and resourceProvisioningOptions/Any(x:x eq 'Team')')", true},
		{placeEnumeration, "/groups?$filter=(groupTypes/any(c:c+eq+'Unified'))&$count=true", true},
		{placeEnumeration, "/groups/" + id, true},
		{placeEnumeration, "/groups", true},
		{placeEnumeration, "/groups/" + id + "/members", false},
		{placeEnumeration, "/servicePrincipals/" + id, false},
		{placeEnumeration, "./members", false},
		// principalResourceMemberships
		{placePrincipal, "/users", true},
		{placePrincipal, "/users?$filter=(userType eq 'Guest')", true},
		{placePrincipal, "/groups", true},
		{placePrincipal, "/users/" + id, false},
		{placePrincipal, "/servicePrincipals", false},
		{placeResource, "/groups", true},
		{placeResource, "/groups/" + id + "/transitiveMembers", true},
		{placeResource, "/groups/" + id + "/transitiveMembers/microsoft.graph.user", true},
		{placeResource, "/teams/" + id + "/channels?$filter=(membershipType eq 'shared')", true},
		{placeResource, "/roleManagement/directory/roleDefinitions/" + id, true},
		{placeResource, "/servicePrincipals/" + id, true},
		{placeResource, "/teams/" + id + "/channels", false},
		{placeResource, "/users", false},
		// reviewers
		{placeReviewer, "/users/" + id, true},
		{placeReviewer, "/v1.0/users/" + id, true},
		{placeReviewer, "/groups/" + id + "/transitiveMembers", true},
		{placeReviewer, "/groups/" + id + "/transitiveMembers/microsoft.graph.user", true},
		{placeReviewer, "/groups/" + id + "/owners", true},
		{placeReviewer, "/groups/" + id + "/owners?$filter=microsoft.graph.user/userType eq 'Member' and microsoft.graph.user/country eq 'USA'", true},
		{placeReviewer, "/servicePrincipals/" + id + "/owners", true},
		{placeReviewer, "./owners", true},
		{placeReviewer, "./manager", true},
		{placeReviewer, "/users", false},
		{placeReviewer, "/groups/" + id + "/members", false},
		{placeReviewer, "./members", false},
		{placeReviewer, "/me", false},
		// notification recipients
		{placeRecipient, "/users/" + id, true},
		{placeRecipient, "/groups/" + id + "/members", true},
		{placeRecipient, "/groups/" + id + "/owners", true},
		{placeRecipient, "./owners", false},
		{placeRecipient, "/groups/" + id + "/transitiveMembers", false},
	}
	for _, tt := range tests {
		gerr := checkQueryForm(tt.query, tt.place)
		if tt.ok {
			require.Nil(t, gerr, "place %d: %s", tt.place, tt.query)
			continue
		}
		require.NotNil(t, gerr, "place %d: %s should be refused", tt.place, tt.query)
		require.Equal(t, http.StatusBadRequest, gerr.status)
		require.True(t, strings.HasPrefix(gerr.message, "Query "+tt.query+" is not supported. Please pass in one of the following queries : "), gerr.message)
	}
}

// TestUnsupportedQueriesAreRefused: the service answers a query of another
// form with 400 naming it (docs/graph-behaviour.md#scopes-and-queries), and
// stores nothing.
func TestUnsupportedQueriesAreRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	query := func(q string) map[string]any { return map[string]any{"query": q, "queryType": "MicrosoftGraph"} }
	tests := []struct {
		name    string
		path    string
		value   any
		message string
	}{
		{"typo in a scope", "scope", query("/identitityGovernance/entitlementManagement/accessPackageAssignments?$filter=(accessPackageId eq 'a' and catalogId eq 'c')"),
			"Query /identitityGovernance/entitlementManagement/accessPackageAssignments?$filter=(accessPackageId eq 'a' and catalogId eq 'c') is not supported. Please pass in one of the following queries : /groups/{groupId}/transitiveMembers, "},
		{"unknown scope", "scope", query("/foo/bar"), "Query /foo/bar is not supported."},
		{"access package without catalogId", "scope", query("/identityGovernance/entitlementManagement/accessPackageAssignments?$filter=(accessPackageId eq 'a' and assignmentPolicyId eq 'b')"),
			"accessPackageAssignments?$filter=(accessPackageId eq '{accessPackageId}' and catalogId eq '{catalogId}'), "},
		{"enumeration scope", "instanceEnumerationScope", query("/users"), "Query /users is not supported. Please pass in one of the following queries : /groups or /groups/{groupId}"},
		{"reviewer", "reviewers", []any{query("/groups/x/members")}, "Query /groups/x/members is not supported."},
		{"fallback reviewer", "fallbackReviewers", []any{query("/foo")}, "Query /foo is not supported."},
		{"principal scope", "scope", map[string]any{"@odata.type": typePRMScope,
			"principalScopes": []any{query("/foo")}, "resourceScopes": []any{query("/groups")}}, "Query /foo is not supported."},
		{"resource scope", "scope", map[string]any{"@odata.type": typePRMScope,
			"principalScopes": []any{query("/users")}, "resourceScopes": []any{query("/foo")}}, "Query /foo is not supported."},
		{"recipient", "additionalNotificationRecipients", []any{map[string]any{"notificationTemplateType": "CompletedAdditionalRecipients",
			"notificationRecipientScope": query("/foo")}}, "Query /foo is not supported."},
		{"missing queryType on a scope", "scope", map[string]any{"query": "/groups/x/members"}, "'scope.queryType' is required"},
		{"missing queryType on a reviewer", "reviewers", []any{map[string]any{"query": "/users/x"}}, "'reviewers[0].queryType' is required"},
		{"missing queryType on an enumeration scope", "instanceEnumerationScope", map[string]any{"query": "/groups"}, "'instanceEnumerationScope.queryType' is required"},
		{"missing queryType on a recipient", "additionalNotificationRecipients", []any{map[string]any{"notificationTemplateType": "CompletedAdditionalRecipients",
			"notificationRecipientScope": map[string]any{"query": "/users/x"}}}, "notificationRecipientScope.queryType' is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := setPath(validDefinition(), tt.path, tt.value)
			r := h.do(http.MethodPost, definitionsPath, body)
			require.Equal(t, http.StatusBadRequest, r.status, "body: %s", r.body)
			require.Contains(t, r.errMessage(t), tt.message)
		})
	}
	require.Empty(t, h.srv.Definitions(), "a refused create stores nothing")
}

// TestARMQueriesAreNotChecked: an ARM query names an Azure resource, whose
// forms are undocumented; only Microsoft Graph queries are matched.
func TestARMQueriesAreNotChecked(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	body := setPath(validDefinition(), "reviewers", []any{map[string]any{"query": "/subscriptions/x/owners", "queryType": "ARM"}})
	r := h.do(http.MethodPost, definitionsPath, body)
	require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
}

// TestUpdateChecksQueries: a PUT is validated like a create.
func TestUpdateChecksQueries(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	id := h.create(validDefinition())
	body := validDefinition()
	body["id"] = id
	body["reviewers"] = []any{map[string]any{"query": "/users/x/manager", "queryType": "MicrosoftGraph"}}
	r := h.do(http.MethodPut, definitionsPath+"/"+id, body)
	require.Equal(t, http.StatusBadRequest, r.status, "body: %s", r.body)
	require.Contains(t, r.errMessage(t), "Query /users/x/manager is not supported.")
}
