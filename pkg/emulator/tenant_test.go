package emulator

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The built-in tenant is a copy of examples/tenant.yaml (go:embed cannot
// reach outside the package); this keeps the two identical.
func TestEmbeddedTenantMatchesExample(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "tenant.yaml"))
	require.NoError(t, err)
	require.True(t, bytes.Equal(example, demoTenantYAML),
		"pkg/emulator/tenant.yaml differs from examples/tenant.yaml: copy it (cp examples/tenant.yaml pkg/emulator/tenant.yaml)")
	_, err = LoadTenant(filepath.Join("..", "..", "examples", "tenant.yaml"))
	require.NoError(t, err)
}

// TestDemoTenantContent pins what other packages' tests rely on.
func TestDemoTenantContent(t *testing.T) {
	t.Parallel()
	tn, err := DemoTenant()
	require.NoError(t, err)
	d, err := newDirectory(tn)
	require.NoError(t, err)

	guests := 0
	for _, u := range d.users {
		if u.full.str("userType") == "Guest" {
			guests++
			require.Contains(t, u.user.UserPrincipalName, "#EXT#")
			require.NotEmpty(t, u.user.Mail)
		}
	}
	require.GreaterOrEqual(t, len(d.users), 20)
	require.Equal(t, 6, guests)
	require.Equal(t, "MOD Administrator", d.userByKey("admin@contoso.com").name)
	require.NotNil(t, d.userByKey("alice@contoso.com"))
	require.NotNil(t, d.userByKey("bob@contoso.com"))
	managers, lastSignIns := 0, 0
	for _, u := range d.users {
		if u.manager != nil {
			managers++
		}
		if u.user.LastSignInDateTime != "" {
			lastSignIns++
		}
	}
	require.Greater(t, managers, 10)
	require.Greater(t, lastSignIns, 15)
	require.Less(t, lastSignIns, len(d.users), "someone has never signed in")

	require.GreaterOrEqual(t, len(d.groups), 8)
	byName := map[string][]*dirObject{}
	for _, g := range d.groups {
		byName[g.name] = append(byName[g.name], g)
	}
	unified := func(g *dirObject) bool { return len(g.group.GroupTypes) == 1 && g.group.GroupTypes[0] == "Unified" }
	hasGuest := func(g *dirObject) bool {
		for _, m := range g.members {
			if m.kind == kindUser && m.full.str("userType") == "Guest" {
				return true
			}
		}
		return false
	}
	mk := byName["Marketing"][0]
	require.True(t, unified(mk) && hasGuest(mk) && len(mk.owners) > 0)
	require.True(t, unified(byName["Sales"][0]))
	pf := byName["Project Falcon"][0]
	require.True(t, unified(pf) && hasGuest(pf))
	require.Empty(t, pf.owners)
	require.False(t, unified(byName["Finance"][0]))
	require.True(t, byName["Finance"][0].full.vals["securityEnabled"].(bool))
	require.Len(t, byName["Contractors"], 2)
	require.Greater(t, len(d.transitiveMembers(byName["All Staff"][0])), len(byName["All Staff"][0].members), "nested membership")

	va := byName["Vendor Access"][0]
	require.True(t, !unified(va) && hasGuest(va), "a security group with guests, for coverage")

	require.Len(t, d.sps, 3)
	require.Len(t, d.spByName["payroll app"], 1)
	require.NotEmpty(t, d.appAssig[d.spByName["payroll app"][0].id])
	require.NotEmpty(t, d.appAssig[d.spByName["partner portal"][0].id])
	found := false
	for _, r := range d.roles {
		found = found || r.str("displayName") == "Global Administrator"
	}
	require.True(t, found)
	require.NotEmpty(t, d.assigns)
	require.Len(t, d.eligible, 2, "eligible assignments (Privileged Identity Management)")
}

func TestTenantErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		err  string
	}{
		{"empty", "", "tenant file is empty"},
		{"unknown field", "users: [{userPrincipalName: a@x.com, colour: red}]", "field colour not found"},
		{"missing UPN", "users: [{displayName: A}]", "users[0]: userPrincipalName is required"},
		{"bad id", "users: [{id: 12, userPrincipalName: a@x.com}]", "is not a GUID"},
		{"duplicate UPN", "users: [{userPrincipalName: a@x.com}, {userPrincipalName: A@x.com}]", "used twice"},
		{"duplicate id", `users: [{id: 11111111-2222-3333-4444-555555555555, userPrincipalName: a@x.com}, {id: 11111111-2222-3333-4444-555555555555, userPrincipalName: b@x.com}]`, "used twice"},
		{"bad userType", "users: [{userPrincipalName: a@x.com, userType: Admin}]", "must be Member or Guest"},
		{"bad time", "users: [{userPrincipalName: a@x.com, lastSignInDateTime: yesterday}]", "not an RFC 3339 time"},
		{"unknown manager", "users: [{userPrincipalName: a@x.com, manager: b@x.com}]", "manager: \"b@x.com\" matches no user"},
		{"manager is a group", "users: [{userPrincipalName: a@x.com, manager: g}]\ngroups: [{displayName: G, mailNickname: g}]", "is not a user"},
		{"unknown member", "groups: [{displayName: G, members: [zed@x.com]}]", "member: \"zed@x.com\" matches no user"},
		{"self member", "groups: [{displayName: G, mailNickname: g, members: [g]}]", "member of itself"},
		{"group owner", "groups: [{displayName: G, mailNickname: g}, {displayName: H, owners: [g]}]", "owners are users or service principals"},
		{"same nickname", "groups: [{displayName: Contractors}, {displayName: Contractors}]", "set mailNickname"},
		{"ambiguous reference", "users: [{userPrincipalName: a@x.com}]\ngroups: [{displayName: G, members: [pay]}]\nservicePrincipals: [{displayName: Pay}, {displayName: pay}]", "is ambiguous"},
		{"bad group type", "groups: [{displayName: G, groupTypes: [Team]}]", "must be Unified or DynamicMembership"},
		{"bad app role", "users: [{userPrincipalName: a@x.com}]\nservicePrincipals: [{displayName: S, appRoleAssignedTo: [{principal: a@x.com, appRoleId: 11111111-2222-3333-4444-555555555555}]}]", "not one of the application's roles"},
		{"unknown role", "users: [{userPrincipalName: a@x.com}]\nroleAssignments: [{role: Wizard, principal: a@x.com}]", "matches 0 role definitions"},
		{"unknown admin", "admin: root@x.com", "admin \"root@x.com\" is not a user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTenant(strings.NewReader(tt.yaml))
			require.ErrorContains(t, err, tt.err)
		})
	}
	_, err := ParseTenant(strings.NewReader("users: [{userPrincipalName: a@x.com, userType: X, manager: nobody}]"))
	require.ErrorContains(t, err, "must be Member or Guest", "every problem is reported")
	require.ErrorContains(t, err, "manager: \"nobody\"")

	_, err = LoadTenant(filepath.Join(t.TempDir(), "missing.yaml"))
	require.ErrorContains(t, err, "reading tenant")

	// Objects without ids get stable ones derived from their names.
	tn, err := ParseTenant(strings.NewReader("users: [{userPrincipalName: a@x.com}]\ngroups: [{displayName: G, members: [a@x.com]}]"))
	require.NoError(t, err)
	d1, _ := newDirectory(tn)
	d2, _ := newDirectory(tn)
	require.Equal(t, d1.users[0].id, d2.users[0].id)
	require.Regexp(t, guidRE, d1.users[0].id)
}
