package emulator

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Ids from examples/tenant.yaml.
const (
	idAdmin         = "fc9a2c2b-1ddc-486d-a211-5fe8ca77fa1f"
	idAlice         = "398164b1-5196-49dd-ada2-364b49f99b27"
	idBob           = "d2681937-14ec-4f48-8b40-fb1b488df21a"
	idDana          = "13b99136-b960-4084-86e6-e89726574b5e"
	idMarketing     = "ea1ee477-0a50-41ac-8699-c70d0c1f868a"
	idProjectFalcon = "06c20263-d52a-49f6-a67c-56284ec6f70c"
	idFinance       = "02f3bafb-448c-487c-88c2-5fd65ce49a41"
	idAllStaff      = "9dfbac1b-7b76-49a1-aab4-db8f4cb466a4"
	idPayroll       = "1b1a8bd4-1790-4175-96a8-e33def257415"
	appIDPayroll    = "f61a366e-53e5-42b9-bb85-4825c728a87a"
	idGlobalAdmin   = "62e90394-69f5-4237-9190-012177145e10"
	guestSam        = "sam_fabrikam.com#EXT#@contoso.onmicrosoft.com"
)

func TestDirectoryReads(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	names := func(r result) []string {
		var out []string
		for _, v := range r.values(t) {
			out = append(out, v.(map[string]any)["displayName"].(string))
		}
		return out
	}
	eventual := []string{"ConsistencyLevel", "eventual"}
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		hdr    []string
		status int
		code   string
		check  func(t *testing.T, r result)
	}{
		{name: "user by id", path: "users/" + idAlice, status: 200, check: func(t *testing.T, r result) {
			m := r.json(t)
			require.Equal(t, "Alice Wong", m["displayName"])
			require.Equal(t, idAlice, m["id"])
			require.NotContains(t, m, "userType", "userType is not in Graph's default user properties")
			require.True(t, strings.HasSuffix(m["@odata.context"].(string), "$metadata#users/$entity"))
		}},
		{name: "user by UPN", path: "users/ALICE@contoso.com", status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, idAlice, r.json(t)["id"])
		}},
		{name: "guest by UPN with #EXT#", path: "users/" + url.PathEscape(guestSam) + "?$select=userType,mail,signInActivity", status: 200, check: func(t *testing.T, r result) {
			m := r.json(t)
			require.Equal(t, "Guest", m["userType"])
			require.Equal(t, "sam@fabrikam.com", m["mail"])
			require.Equal(t, "2026-06-20T12:00:00Z", getPath(m, "signInActivity.lastSignInDateTime"))
		}},
		{name: "unknown user", path: "users/nobody@contoso.com", status: 404, code: "Request_ResourceNotFound"},
		{name: "users filter upn", path: "users?$filter=userPrincipalName eq 'bob@contoso.com'", status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, []string{"Bob Kelly"}, names(r))
		}},
		{name: "users filter mail", path: "users?$filter=mail eq 'SAM@fabrikam.com'", status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, []string{"Sam Taylor (Fabrikam)"}, names(r))
		}},
		{name: "users filter guests", path: "users?$filter=userType eq 'Guest'&$select=displayName,userType", status: 200, check: func(t *testing.T, r result) {
			require.Len(t, r.values(t), 6)
		}},
		{name: "users filter in", path: "users?$filter=userPrincipalName in ('alice@contoso.com','bob@contoso.com','zed@contoso.com')", status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, []string{"Alice Wong", "Bob Kelly"}, names(r))
		}},
		{name: "users filter or with mail", path: "users?$filter=mail eq 'tom@northwind.com' or userPrincipalName eq 'dana@contoso.com'", status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, []string{"Dana Whitfield", "Tom Baker (Northwind)"}, names(r))
		}},
		{name: "users filter last sign-in", path: "users?$filter=signInActivity/lastSignInDateTime le 2025-12-31T00:00:00Z&$select=displayName", status: 200, check: func(t *testing.T, r result) {
			require.ElementsMatch(t, []string{"Ken Adams", "Mike Brown", "Omar Haddad (Adatum)"}, names(r))
		}},
		{name: "users filter startswith", path: "users?$filter=startswith(displayName,'a')", status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, []string{"Alice Wong"}, names(r))
		}},
		{name: "users $select", path: "users?$select=id,userPrincipalName&$top=1", status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, []string{"id", "userPrincipalName"}, keysOf(r.values(t)[0].(map[string]any)))
		}},
		{name: "users $skip", path: "users?$skip=1", status: 400, code: "Request_BadRequest"},
		{name: "users $top too big", path: "users?$top=1000", status: 400, code: "Request_BadRequest"},
		{name: "users unknown property", path: "users?$filter=favouriteColour eq 'red'", status: 400, code: "Request_BadRequest"},
		{name: "users bad filter", path: "users?$filter=userType eq", status: 400, code: "Request_BadRequest"},
		{name: "users count without eventual is ignored", path: "users?$count=true", status: 200, check: func(t *testing.T, r result) {
			require.NotContains(t, r.json(t), "@odata.count", "Graph silently ignores $count=true without ConsistencyLevel")
		}},
		{name: "users count", path: "users?$count=true&$top=1", hdr: eventual, status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, 21.0, r.json(t)["@odata.count"])
		}},
		{name: "users $count segment", path: "users/$count?$filter=userType eq 'Guest'", hdr: eventual, status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, "6", string(r.body))
		}},
		{name: "users are read-only", method: http.MethodPost, path: "users", body: map[string]any{}, status: 405},
		{name: "manager", path: "users/" + idAlice + "/manager", status: 200, check: func(t *testing.T, r result) {
			m := r.json(t)
			require.Equal(t, idDana, m["id"])
			require.Equal(t, "#microsoft.graph.user", m["@odata.type"])
		}},
		{name: "no manager", path: "users/" + idDana + "/manager", status: 404, code: "Request_ResourceNotFound"},
		{name: "direct reports", path: "users/" + idBob + "/directReports", status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, []string{"Dave Patel", "Erin Lopez", "Mike Brown"}, names(r))
		}},
		{name: "memberOf", path: "users/" + url.PathEscape(guestSam) + "/memberOf", status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, []string{"Marketing", "Contractors"}, names(r))
		}},
		{name: "group by id", path: "groups/" + idMarketing, status: 200, check: func(t *testing.T, r result) {
			m := r.json(t)
			require.Equal(t, []any{"Unified"}, m["groupTypes"])
			require.Equal(t, false, m["securityEnabled"])
		}},
		{name: "groups by displayName", path: "groups?$filter=displayName eq 'Contractors'", status: 200, check: func(t *testing.T, r result) {
			require.Len(t, r.values(t), 2, "two groups share this name")
		}},
		{name: "groups displayName in", path: "groups?$filter=displayName in ('Sales','Finance')&$select=id,displayName", status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, []string{"Sales", "Finance"}, names(r))
		}},
		{name: "unified groups", path: "groups?$filter=groupTypes/any(c:c eq 'Unified')", status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, []string{"Marketing", "Sales", "Project Falcon", "Engineering"}, names(r))
		}},
		{name: "teams", path: "groups?$filter=groupTypes/any(c:c+eq+'Unified') and resourceProvisioningOptions/Any(x:x eq 'Team')", status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, []string{"Project Falcon", "Engineering"}, names(r))
		}},
		{name: "security groups", path: "groups?$filter=securityEnabled eq true and not groupTypes/any(c:c eq 'Unified')&$orderby=displayName&$count=true", hdr: eventual, status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, []string{"All Staff", "Contractors", "Contractors", "Finance", "Finance Auditors", "Vendor Access"}, names(r))
		}},
		{name: "members", path: "groups/" + idMarketing + "/members", status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, []string{"Alice Wong", "Carol Diaz", "Sam Taylor (Fabrikam)", "Priya Nair (Fabrikam)"}, names(r))
			require.Equal(t, "#microsoft.graph.user", r.values(t)[0].(map[string]any)["@odata.type"])
		}},
		{name: "guest members", path: "groups/" + idMarketing + "/members/microsoft.graph.user?$filter=userType eq 'Guest'&$select=displayName", status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, []string{"Sam Taylor (Fabrikam)", "Priya Nair (Fabrikam)"}, names(r))
		}},
		{name: "members include groups", path: "groups/" + idFinance + "/members", status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, []string{"Frank Miller", "Grace Liu", "Finance Auditors"}, names(r))
			require.Equal(t, "#microsoft.graph.group", r.values(t)[2].(map[string]any)["@odata.type"])
		}},
		{name: "transitive members", path: "groups/" + idFinance + "/transitiveMembers/microsoft.graph.user", status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, []string{"Frank Miller", "Grace Liu", "Heidi Novak", "Zoe Martin (Tailspin)"}, names(r))
		}},
		{name: "deep transitive members", path: "groups/" + idAllStaff + "/transitiveMembers/$count", hdr: eventual, status: 200, check: func(t *testing.T, r result) {
			// 6 direct (4 groups, admin, dana) + Marketing 4 + Sales 5 +
			// Engineering 4 + Finance 3 (incl. Finance Auditors) + its 2.
			require.Equal(t, "24", string(r.body))
		}},
		{name: "owners", path: "groups/" + idMarketing + "/owners", status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, []string{"Alice Wong"}, names(r))
		}},
		{name: "owners with cast", path: "groups/" + idMarketing + "/owners/microsoft.graph.user?$select=id", status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, idAlice, r.values(t)[0].(map[string]any)["id"])
		}},
		{name: "group without owners", path: "groups/" + idProjectFalcon + "/owners", status: 200, check: func(t *testing.T, r result) {
			require.Empty(t, r.values(t))
		}},
		{name: "unknown group", path: "groups/" + idAlice, status: 404, code: "Request_ResourceNotFound"},
		{name: "unknown group navigation", path: "groups/" + idMarketing + "/friends", status: 400, code: "BadRequest"},
		{name: "service principal by name", path: "servicePrincipals?$filter=displayName eq 'Payroll App'", status: 200, check: func(t *testing.T, r result) {
			v := r.values(t)
			require.Len(t, v, 1)
			require.Equal(t, appIDPayroll, v[0].(map[string]any)["appId"])
		}},
		{name: "service principals by appId in", path: "servicePrincipals?$filter=appId in ('" + appIDPayroll + "')&$select=id", status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, idPayroll, r.values(t)[0].(map[string]any)["id"])
		}},
		{name: "service principal by appId key", path: "servicePrincipals(appId='" + appIDPayroll + "')", status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, "Payroll App", r.json(t)["displayName"])
		}},
		{name: "app role assignments", path: "servicePrincipals/" + idPayroll + "/appRoleAssignedTo", status: 200, check: func(t *testing.T, r result) {
			v := r.values(t)
			require.Len(t, v, 4)
			require.Equal(t, "Heidi Novak", v[0].(map[string]any)["principalDisplayName"])
			require.Equal(t, "User", v[0].(map[string]any)["principalType"])
		}},
		{name: "service principal owners", path: "servicePrincipals/" + idPayroll + "/owners", status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, []string{"Frank Miller"}, names(r))
		}},
		{name: "role definitions by name", path: "roleManagement/directory/roleDefinitions?$filter=displayName eq 'Global Administrator'", status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, idGlobalAdmin, r.values(t)[0].(map[string]any)["id"])
		}},
		{name: "role definitions in", path: "roleManagement/directory/roleDefinitions?$filter=displayName in ('Global Reader','User Administrator')&$select=displayName", status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, []string{"User Administrator", "Global Reader"}, names(r))
		}},
		{name: "role definition by id", path: "roleManagement/directory/roleDefinitions/" + idGlobalAdmin, status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, "Global Administrator", r.json(t)["displayName"])
		}},
		{name: "role assignments", path: "roleManagement/directory/roleAssignments?$filter=roleDefinitionId eq '" + idGlobalAdmin + "'", status: 200, check: func(t *testing.T, r result) {
			var ps []string
			for _, v := range r.values(t) {
				ps = append(ps, v.(map[string]any)["principalId"].(string))
			}
			require.Equal(t, []string{idAdmin, idDana}, ps)
		}},
		{name: "directory object", path: "directoryObjects/" + idFinance, status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, "#microsoft.graph.group", r.json(t)["@odata.type"])
		}},
		{name: "getByIds", method: http.MethodPost, path: "directoryObjects/getByIds",
			body: map[string]any{"ids": []any{idAlice, idFinance, "00000000-0000-0000-0000-000000000000", idPayroll}}, status: 200, check: func(t *testing.T, r result) {
				require.Equal(t, []string{"Alice Wong", "Finance", "Payroll App"}, names(r))
			}},
		{name: "getByIds with types", method: http.MethodPost, path: "directoryObjects/getByIds",
			body: map[string]any{"ids": []any{idAlice, idFinance}, "types": []any{"group"}}, status: 200, check: func(t *testing.T, r result) {
				require.Equal(t, []string{"Finance"}, names(r))
			}},
		{name: "getByIds without ids", method: http.MethodPost, path: "directoryObjects/getByIds", body: map[string]any{"types": []any{"user"}}, status: 400, code: "Request_BadRequest"},
		{name: "getByIds bad type", method: http.MethodPost, path: "directoryObjects/getByIds", body: map[string]any{"ids": []any{idAlice}, "types": []any{"device"}}, status: 400, code: "Request_BadRequest"},
		{name: "getByIds GET", path: "directoryObjects/getByIds", status: 405},
		{name: "organization", path: "organization", status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, "5c1b9a52-7f0e-4a7b-9d39-0b6f2e3c4d11", r.values(t)[0].(map[string]any)["id"])
		}},
		{name: "me", path: "me?$select=userPrincipalName", status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, "admin@contoso.com", r.json(t)["userPrincipalName"])
		}},
		{name: "unknown top segment", path: "devices", status: 400, code: "BadRequest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.method
			if m == "" {
				m = http.MethodGet
			}
			r := h.do(m, tt.path, tt.body, tt.hdr...)
			require.Equal(t, tt.status, r.status, "body: %s", r.body)
			if tt.code != "" {
				require.Equal(t, tt.code, r.errCode(t))
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

// TestDirectoryPaging walks users with a small page through $skiptoken
// nextLinks.
func TestDirectoryPaging(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{PageSize: 5})
	link := h.ts.URL + "/v1.0/users?$select=id"
	var ids []string
	for link != "" {
		r := h.do(http.MethodGet, link, nil)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		for _, v := range r.values(t) {
			ids = append(ids, v.(map[string]any)["id"].(string))
		}
		link, _ = r.json(t)["@odata.nextLink"].(string)
		if link != "" {
			require.Contains(t, link, "$skiptoken=")
			require.NotContains(t, link, "$skip=")
		}
	}
	require.Len(t, ids, 21)
	slices.Sort(ids)
	require.Len(t, slices.Compact(ids), 21)
	require.Equal(t, http.StatusBadRequest, h.do(http.MethodGet, "users?$skiptoken=garbage", nil).status)
}
