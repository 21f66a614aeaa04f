package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
)

// SyntheticSpec sizes a generated tenant for benchmarks (see
// SyntheticTenant). Zero fields take the defaults noted.
type SyntheticSpec struct {
	// Groups is the number of groups: 40% Microsoft 365 groups, 20% Teams
	// (Microsoft 365 groups with a Team), 40% security groups.
	Groups int
	// Users is the number of users, GuestShare of them guests (default
	// 0.2). The first user is the tenant's admin, a member.
	Users      int
	GuestShare float64
	// MembersPerGroup is each group's number of direct members, drawn from
	// the users (default 8, at most Users): with the default guest share
	// about four groups in five have a guest.
	MembersPerGroup int
	// Seed chooses the members, assignments and definitions; one seed
	// always gives the same tenant.
	Seed int64
}

// Synthetic tenants use contoso.com; ids are derived from names, as for a
// tenant file without ids.
const syntheticDomain = "contoso.com"

// SyntheticTenant builds a tenant of spec.Groups groups and spec.Users
// users, for benchmarks at tenant scale (10,000 groups, 50,000 users build
// in about a second). Besides groups and users it has the demo tenant's
// built-in role definitions with active and eligible assignments (one per
// 500 users, at least 3 of each), and one application per 100 groups (at
// least 2) with users and groups assigned. Names are numbered: "Group
// 00042" (mailNickname group-00042), user00042@contoso.com, guests
// guest00042_fabrikam.com#EXT#@contoso.onmicrosoft.com, "App 007". The
// result is ready for Options.Tenant; SyntheticDefinitions makes access
// review definitions for it.
func SyntheticTenant(spec SyntheticSpec) (*Tenant, error) {
	if spec.Groups < 1 || spec.Users < 1 {
		return nil, errors.New("a synthetic tenant needs at least one group and one user")
	}
	if spec.GuestShare == 0 {
		spec.GuestShare = 0.2
	}
	if spec.GuestShare < 0 || spec.GuestShare > 1 {
		return nil, fmt.Errorf("GuestShare %v is not between 0 and 1", spec.GuestShare)
	}
	per := spec.MembersPerGroup
	if per == 0 {
		per = 8
	}
	per = min(per, spec.Users)
	rng := rand.New(rand.NewPCG(uint64(spec.Seed), 17))
	demo, err := DemoTenant()
	if err != nil {
		return nil, err
	}
	t := &Tenant{
		TenantID: nameGUID("tenant:synthetic"), DisplayName: "Contoso (synthetic)", Domain: syntheticDomain,
		Admin:           "user00000@" + syntheticDomain,
		Users:           make([]User, spec.Users),
		Groups:          make([]Group, spec.Groups),
		RoleDefinitions: demo.RoleDefinitions,
	}
	guests := int(float64(spec.Users-1) * spec.GuestShare)
	upns := make([]string, spec.Users)
	for i := range t.Users {
		u := User{UserPrincipalName: fmt.Sprintf("user%05d@%s", i, syntheticDomain), DisplayName: fmt.Sprintf("User %05d", i),
			CreatedDateTime: "2024-01-01T00:00:00Z", LastSignInDateTime: "2026-06-01T00:00:00Z"}
		// Guests are spread evenly among the users after the admin.
		if i > 0 && (i*guests)/(spec.Users-1) != ((i-1)*guests)/(spec.Users-1) {
			u.UserPrincipalName = fmt.Sprintf("guest%05d_fabrikam.com#EXT#@contoso.onmicrosoft.com", i)
			u.DisplayName = fmt.Sprintf("Guest %05d (Fabrikam)", i)
			u.Mail = fmt.Sprintf("guest%05d@fabrikam.com", i)
			u.UserType = "Guest"
		}
		u.ID = nameGUID("user:" + u.UserPrincipalName)
		upns[i] = u.UserPrincipalName
		t.Users[i] = u
	}
	pick := make([]int, 0, per)
	for i := range t.Groups {
		g := Group{DisplayName: fmt.Sprintf("Group %05d", i), MailNickname: fmt.Sprintf("group-%05d", i),
			CreatedDateTime: "2024-01-01T00:00:00Z", Members: make([]string, 0, per)}
		switch i % 5 {
		case 0, 1:
			g.GroupTypes = []string{"Unified"}
		case 2:
			g.GroupTypes = []string{"Unified"}
			g.ResourceProvisioningOptions = []string{"Team"}
		default:
			yes := true
			g.SecurityEnabled = &yes
		}
		g.ID = nameGUID("group:" + g.MailNickname)
		pick = pick[:0]
		for len(pick) < per {
			if k := rng.IntN(spec.Users); !containsInt(pick, k) {
				pick = append(pick, k)
			}
		}
		for _, k := range pick {
			g.Members = append(g.Members, upns[k])
		}
		t.Groups[i] = g
	}
	roles := max(3, spec.Users/500)
	for i := range 2 * roles {
		a := RoleAssignment{Role: demo.RoleDefinitions[i%len(demo.RoleDefinitions)].DisplayName, Principal: upns[rng.IntN(spec.Users)],
			Eligible: i%2 == 1}
		if !containsAssignment(t.RoleAssignments, a) {
			t.RoleAssignments = append(t.RoleAssignments, a)
		}
	}
	for i := range max(2, spec.Groups/100) {
		sp := ServicePrincipal{DisplayName: fmt.Sprintf("App %03d", i)}
		sp.ID = nameGUID("sp:" + sp.DisplayName)
		seen := map[string]bool{}
		for j := range 5 {
			p := upns[rng.IntN(spec.Users)]
			if j == 0 {
				p = t.Groups[rng.IntN(spec.Groups)].MailNickname
			}
			if !seen[p] {
				seen[p] = true
				sp.AppRoleAssignedTo = append(sp.AppRoleAssignedTo, AppRoleAssignment{Principal: p, CreatedDateTime: "2024-01-01T00:00:00Z"})
			}
		}
		t.ServicePrincipals = append(t.ServicePrincipals, sp)
	}
	return t, nil
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func containsAssignment(s []RoleAssignment, a RoleAssignment) bool {
	for _, x := range s {
		if x.Role == a.Role && x.Principal == a.Principal {
			return true
		}
	}
	return false
}

// SyntheticDefinitions returns n access review definitions for a tenant
// from SyntheticTenant, as JSON bodies to POST to
// identityGovernance/accessReviews/definitions, cycling through the scope
// kinds coverage tells apart: one group's guests, guests of every
// Microsoft 365 group and of every Team (instanceEnumerationScope), a
// principalResourceMemberships scope over groups (all groups the first
// time, one group's transitive members after), inactive guests of one
// group (partial coverage), a role's assignees, an application's assigned
// users, and a one-time review that ended in 2025 (which covers nothing).
// The same tenant, n and seed give the same bodies.
func SyntheticDefinitions(t *Tenant, n int, seed int64) ([][]byte, error) {
	if len(t.Groups) == 0 || len(t.Users) == 0 || len(t.RoleDefinitions) == 0 || len(t.ServicePrincipals) == 0 {
		return nil, errors.New("synthetic definitions need a tenant with groups, users, roles and applications")
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 23))
	admin := t.Users[0].ID
	if admin == "" {
		admin = nameGUID("user:" + t.Users[0].UserPrincipalName)
	}
	q := func(query string) map[string]any {
		return map[string]any{"@odata.type": "#microsoft.graph.accessReviewQueryScope", "query": query, "queryType": "MicrosoftGraph"}
	}
	groupID := func() string {
		g := t.Groups[rng.IntN(len(t.Groups))]
		if g.ID != "" {
			return g.ID
		}
		return nameGUID("group:" + g.MailNickname)
	}
	quarterly := map[string]any{
		"pattern": map[string]any{"type": "absoluteMonthly", "interval": 3},
		"range":   map[string]any{"type": "noEnd", "startDate": "2026-01-05"},
	}
	out := make([][]byte, 0, n)
	for i := range n {
		recurrence := quarterly
		var scope, enum map[string]any
		kind := i % 8
		switch kind {
		case 0:
			scope = q("/groups/" + groupID() + "/members/microsoft.graph.user/?$filter=(userType eq 'Guest')")
		case 1:
			scope = q("./members/microsoft.graph.user/?$filter=(userType eq 'Guest')")
			enum = q("/groups?$filter=(groupTypes/any(c:c eq 'Unified'))")
		case 2:
			scope = q("./members/microsoft.graph.user/?$filter=(userType eq 'Guest')")
			enum = q("/groups?$filter=(groupTypes/any(c:c eq 'Unified') and resourceProvisioningOptions/Any(x:x eq 'Team'))")
		case 3:
			// The first one reaches every group; the others one group each.
			res := "/groups/" + groupID() + "/transitiveMembers/microsoft.graph.user"
			if i == 3 {
				res = "/groups"
			}
			scope = map[string]any{"@odata.type": "#microsoft.graph.principalResourceMembershipsScope",
				"principalScopes": []any{q("/users?$filter=(userType eq 'Guest')")},
				"resourceScopes":  []any{q(res)}}
		case 4:
			scope = q("/groups/" + groupID() + "/transitiveMembers/microsoft.graph.user/?$filter=(userType eq 'Guest')")
			scope["@odata.type"] = "#microsoft.graph.accessReviewInactiveUsersQueryScope"
			scope["inactiveDuration"] = "P90D"
		case 5:
			r := t.RoleDefinitions[rng.IntN(len(t.RoleDefinitions))]
			scope = q("/roleManagement/directory/roleDefinitions/" + r.ID)
		case 6:
			sp := t.ServicePrincipals[rng.IntN(len(t.ServicePrincipals))]
			id := sp.ID
			if id == "" {
				id = nameGUID("sp:" + sp.DisplayName)
			}
			scope = map[string]any{"@odata.type": "#microsoft.graph.principalResourceMembershipsScope",
				"principalScopes": []any{q("/users")},
				"resourceScopes":  []any{q("/servicePrincipals/" + id)}}
		case 7:
			scope = q("/groups/" + groupID() + "/members/microsoft.graph.user/?$filter=(userType eq 'Guest')")
			recurrence = map[string]any{"range": map[string]any{"type": "endDate", "startDate": "2025-03-01", "endDate": "2025-03-15"}}
		}
		def := map[string]any{
			"displayName":          fmt.Sprintf("Synthetic review %03d", i),
			"descriptionForAdmins": fmt.Sprintf("Synthetic review of kind %d", kind),
			"scope":                scope,
			"reviewers":            []any{map[string]any{"queryType": "MicrosoftGraph", "query": "/users/" + admin}},
			"settings": map[string]any{
				"defaultDecisionEnabled": false, "defaultDecision": "None", "instanceDurationInDays": 14,
				"autoApplyDecisionsEnabled": false, "recommendationsEnabled": false, "recurrence": recurrence,
			},
		}
		if enum != nil {
			def["instanceEnumerationScope"] = enum
		}
		b, err := json.Marshal(def)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}
