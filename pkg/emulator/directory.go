package emulator

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Directory object kinds.
const (
	kindUser  = "user"
	kindGroup = "group"
	kindSP    = "servicePrincipal"
)

// dirObject is a user, group or service principal with its Graph
// representation built once.
type dirObject struct {
	kind     string
	id       string
	name     string  // displayName
	full     *object // every property the emulator knows
	defaults []string
	user     *User
	group    *Group
	sp       *ServicePrincipal
	members  []*dirObject // groups
	owners   []*dirObject // groups and service principals
	manager  *dirObject   // users
}

func (o *dirObject) odataType() string { return "#microsoft.graph." + o.kind }

// view renders o with its default properties, or the selected ones.
func (o *dirObject) view(sel []string, withType bool) *object {
	out := newObject()
	if withType {
		out.set("@odata.type", o.odataType())
	}
	keys := o.defaults
	if len(sel) > 0 {
		keys = sel
	}
	for _, k := range keys {
		if v, ok := o.full.get(k); ok {
			out.set(k, v)
		}
	}
	return out
}

// directory is the read-only directory built from a Tenant.
type directory struct {
	tenant   *Tenant
	adminUPN string
	users    []*dirObject
	groups   []*dirObject
	sps      []*dirObject
	byID     map[string]*dirObject
	byUPN    map[string]*dirObject
	byMail   map[string]*dirObject
	byNick   map[string]*dirObject
	spByName map[string][]*dirObject
	spByApp  map[string]*dirObject
	roles    []*object
	roleByID map[string]*object
	assigns  []*object // active role assignments (unifiedRoleAssignment)
	eligible []*object // eligible ones, as roleEligibilityScheduleInstances
	// assignTimes holds the schedule [start, end] of active assignments
	// that have one, by assignment id.
	assignTimes map[string][2]any
	appAssig    map[string][]*object // by service principal id
}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// nameGUID derives a stable GUID from a name (SHA-1, version 5 layout), for
// tenant objects written without an id.
func nameGUID(name string) string {
	h := sha1.Sum([]byte(name))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func boolOr(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

func strs(ss []string) []any {
	out := make([]any, 0, len(ss))
	for _, s := range ss {
		out = append(out, s)
	}
	return out
}

// checkTime accepts "" or an RFC 3339 time and returns it in UTC.
func checkTime(what, v string) (any, error) {
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return nil, fmt.Errorf("%s: %q is not an RFC 3339 time", what, v)
	}
	return t.UTC().Format("2006-01-02T15:04:05Z"), nil
}

// newDirectory indexes t and checks ids, names and references. Every
// problem is reported.
func newDirectory(t *Tenant) (*directory, error) {
	d := &directory{
		tenant: t, byID: map[string]*dirObject{}, byUPN: map[string]*dirObject{},
		byMail: map[string]*dirObject{}, byNick: map[string]*dirObject{},
		spByName: map[string][]*dirObject{}, spByApp: map[string]*dirObject{},
		roleByID: map[string]*object{}, appAssig: map[string][]*object{},
		assignTimes: map[string][2]any{},
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	addID := func(o *dirObject, what string) {
		if !guidRE.MatchString(o.id) {
			bad("%s: id %q is not a GUID", what, o.id)
			return
		}
		o.id = strings.ToLower(o.id)
		if _, dup := d.byID[o.id]; dup {
			bad("%s: id %s is used twice", what, o.id)
			return
		}
		d.byID[o.id] = o
	}
	if t.TenantID != "" && !guidRE.MatchString(t.TenantID) {
		bad("tenantId %q is not a GUID", t.TenantID)
	}

	for i := range t.Users {
		u := &t.Users[i]
		what := fmt.Sprintf("users[%d]", i)
		if u.UserPrincipalName == "" {
			bad("%s: userPrincipalName is required", what)
			continue
		}
		what = fmt.Sprintf("user %q", u.UserPrincipalName)
		o := &dirObject{kind: kindUser, id: u.ID, name: u.DisplayName, user: u}
		if o.id == "" {
			o.id = nameGUID("user:" + strings.ToLower(u.UserPrincipalName))
		}
		if o.name == "" {
			o.name = u.UserPrincipalName
		}
		userType := u.UserType
		switch userType {
		case "":
			userType = "Member"
		case "Member", "Guest":
		default:
			bad("%s: userType %q must be Member or Guest", what, userType)
		}
		addID(o, what)
		key := strings.ToLower(u.UserPrincipalName)
		if _, dup := d.byUPN[key]; dup {
			bad("%s: userPrincipalName is used twice", what)
		}
		d.byUPN[key] = o
		if u.Mail != "" {
			d.byMail[strings.ToLower(u.Mail)] = o
		}
		created, err := checkTime(what+": createdDateTime", u.CreatedDateTime)
		if err != nil {
			errs = append(errs, err)
		}
		lastSignIn, err := checkTime(what+": lastSignInDateTime", u.LastSignInDateTime)
		if err != nil {
			errs = append(errs, err)
		}
		guest := userType == "Guest"
		o.full = newObjectSized(22).
			set("@odata.type", o.odataType()).
			set("businessPhones", []any{}).
			set("displayName", o.name).
			set("givenName", nullable(u.GivenName)).
			set("jobTitle", nullable(u.JobTitle)).
			set("mail", nullable(u.Mail)).
			set("mobilePhone", nil).
			set("officeLocation", nullable(u.OfficeLocation)).
			set("preferredLanguage", nil).
			set("surname", nullable(u.Surname)).
			set("userPrincipalName", u.UserPrincipalName).
			set("id", o.id).
			set("accountEnabled", boolOr(u.AccountEnabled, true)).
			set("userType", userType).
			set("department", nullable(u.Department)).
			set("createdDateTime", created).
			set("creationType", map[bool]any{true: "Invitation", false: nil}[guest]).
			set("externalUserState", map[bool]any{true: "Accepted", false: nil}[guest]).
			set("signInActivity", newObject().
				set("lastSignInDateTime", lastSignIn).
				set("lastNonInteractiveSignInDateTime", lastSignIn))
		o.defaults = []string{"businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
			"officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"}
		d.users = append(d.users, o)
	}

	for i := range t.Groups {
		g := &t.Groups[i]
		what := fmt.Sprintf("groups[%d]", i)
		if g.DisplayName == "" {
			bad("%s: displayName is required", what)
			continue
		}
		what = fmt.Sprintf("group %q", g.DisplayName)
		nick := g.MailNickname
		if nick == "" {
			nick = strings.ToLower(strings.Join(strings.Fields(g.DisplayName), ""))
		}
		o := &dirObject{kind: kindGroup, id: g.ID, name: g.DisplayName, group: g}
		if o.id == "" {
			o.id = nameGUID("group:" + strings.ToLower(nick))
		}
		addID(o, what)
		if _, dup := d.byNick[strings.ToLower(nick)]; dup {
			bad("%s: mailNickname %q is used twice (set mailNickname to tell the groups apart)", what, nick)
		}
		d.byNick[strings.ToLower(nick)] = o
		unified := false
		for _, gt := range g.GroupTypes {
			switch gt {
			case "Unified":
				unified = true
			case "DynamicMembership":
			default:
				bad("%s: groupTypes value %q must be Unified or DynamicMembership", what, gt)
			}
		}
		created, err := checkTime(what+": createdDateTime", g.CreatedDateTime)
		if err != nil {
			errs = append(errs, err)
		}
		visibility := g.Visibility
		if visibility == "" && unified {
			visibility = "Private"
		}
		o.full = newObjectSized(27).
			set("@odata.type", o.odataType()).
			set("id", o.id).
			set("deletedDateTime", nil).
			set("classification", nil).
			set("createdDateTime", created).
			set("creationOptions", []any{}).
			set("description", nullable(g.Description)).
			set("displayName", g.DisplayName).
			set("expirationDateTime", nil).
			set("groupTypes", strs(g.GroupTypes)).
			set("isAssignableToRole", g.IsAssignableToRole).
			set("mail", nullable(g.Mail)).
			set("mailEnabled", boolOr(g.MailEnabled, unified)).
			set("mailNickname", nick).
			set("membershipRule", nil).
			set("membershipRuleProcessingState", nil).
			set("preferredDataLocation", nil).
			set("preferredLanguage", nil).
			set("proxyAddresses", []any{}).
			set("renewedDateTime", created).
			set("resourceBehaviorOptions", []any{}).
			set("resourceProvisioningOptions", strs(g.ResourceProvisioningOptions)).
			set("securityEnabled", boolOr(g.SecurityEnabled, !unified)).
			set("theme", nil).
			set("visibility", nullable(visibility))
		o.defaults = o.full.keys[1:]
		d.groups = append(d.groups, o)
	}

	for i := range t.ServicePrincipals {
		sp := &t.ServicePrincipals[i]
		what := fmt.Sprintf("servicePrincipals[%d]", i)
		if sp.DisplayName == "" {
			bad("%s: displayName is required", what)
			continue
		}
		what = fmt.Sprintf("service principal %q", sp.DisplayName)
		o := &dirObject{kind: kindSP, id: sp.ID, name: sp.DisplayName, sp: sp}
		if o.id == "" {
			o.id = nameGUID("sp:" + strings.ToLower(sp.DisplayName))
		}
		addID(o, what)
		appID := sp.AppID
		if appID == "" {
			appID = nameGUID("app:" + strings.ToLower(sp.DisplayName))
		} else if !guidRE.MatchString(appID) {
			bad("%s: appId %q is not a GUID", what, appID)
		}
		appID = strings.ToLower(appID)
		if _, dup := d.spByApp[appID]; dup {
			bad("%s: appId %s is used twice", what, appID)
		}
		d.spByApp[appID] = o
		name := strings.ToLower(sp.DisplayName)
		d.spByName[name] = append(d.spByName[name], o)
		roles := []any{}
		for j, r := range sp.AppRoles {
			if !guidRE.MatchString(r.ID) {
				bad("%s: appRoles[%d]: id %q is not a GUID", what, j, r.ID)
			}
			roles = append(roles, newObject().
				set("allowedMemberTypes", []any{"User"}).
				set("description", nullable(r.Description)).
				set("displayName", nullable(r.DisplayName)).
				set("id", strings.ToLower(r.ID)).
				set("isEnabled", true).
				set("origin", "Application").
				set("value", nullable(r.Value)))
		}
		o.full = newObject().
			set("@odata.type", o.odataType()).
			set("id", o.id).
			set("deletedDateTime", nil).
			set("accountEnabled", true).
			set("appDisplayName", sp.DisplayName).
			set("appId", appID).
			set("appOwnerOrganizationId", nullable(strings.ToLower(t.TenantID))).
			set("appRoleAssignmentRequired", len(sp.AppRoleAssignedTo) > 0).
			set("appRoles", roles).
			set("displayName", sp.DisplayName).
			set("servicePrincipalNames", []any{appID}).
			set("servicePrincipalType", "Application").
			set("signInAudience", "AzureADMyOrg").
			set("tags", []any{})
		o.defaults = o.full.keys[1:]
		d.sps = append(d.sps, o)
	}

	// References, now that every object is indexed.
	for _, o := range d.users {
		if ref := o.user.Manager; ref != "" {
			m, err := d.resolveRef(ref)
			switch {
			case err != nil:
				bad("user %q: manager: %v", o.user.UserPrincipalName, err)
			case m.kind != kindUser:
				bad("user %q: manager %q is not a user", o.user.UserPrincipalName, ref)
			default:
				o.manager = m
			}
		}
	}
	for _, o := range d.groups {
		what := fmt.Sprintf("group %q", o.name)
		for _, ref := range o.group.Members {
			m, err := d.resolveRef(ref)
			if err != nil {
				bad("%s: member: %v", what, err)
				continue
			}
			if m == o {
				bad("%s: a group cannot be a member of itself", what)
				continue
			}
			o.members = append(o.members, m)
		}
		for _, ref := range o.group.Owners {
			m, err := d.resolveRef(ref)
			if err != nil {
				bad("%s: owner: %v", what, err)
				continue
			}
			if m.kind == kindGroup {
				bad("%s: owner %q is a group; owners are users or service principals", what, ref)
				continue
			}
			o.owners = append(o.owners, m)
		}
	}
	for _, o := range d.sps {
		what := fmt.Sprintf("service principal %q", o.name)
		for _, ref := range o.sp.Owners {
			m, err := d.resolveRef(ref)
			if err != nil {
				bad("%s: owner: %v", what, err)
				continue
			}
			o.owners = append(o.owners, m)
		}
		for j, a := range o.sp.AppRoleAssignedTo {
			p, err := d.resolveRef(a.Principal)
			if err != nil {
				bad("%s: appRoleAssignedTo[%d]: %v", what, j, err)
				continue
			}
			roleID := strings.ToLower(a.AppRoleID)
			if roleID == "" {
				roleID = "00000000-0000-0000-0000-000000000000"
			} else if !hasAppRole(o.sp, roleID) {
				bad("%s: appRoleAssignedTo[%d]: appRoleId %s is not one of the application's roles", what, j, roleID)
			}
			id := a.ID
			if id == "" {
				id = nameGUID("appRoleAssignment:" + o.id + ":" + p.id + ":" + roleID)
			}
			created, err := checkTime(fmt.Sprintf("%s: appRoleAssignedTo[%d]: createdDateTime", what, j), a.CreatedDateTime)
			if err != nil {
				errs = append(errs, err)
			}
			ptype := map[string]string{kindUser: "User", kindGroup: "Group", kindSP: "ServicePrincipal"}[p.kind]
			d.appAssig[o.id] = append(d.appAssig[o.id], newObject().
				set("id", id).
				set("deletedDateTime", nil).
				set("appRoleId", roleID).
				set("createdDateTime", created).
				set("principalDisplayName", p.name).
				set("principalId", p.id).
				set("principalType", ptype).
				set("resourceDisplayName", o.name).
				set("resourceId", o.id))
		}
	}

	for i, r := range t.RoleDefinitions {
		what := fmt.Sprintf("roleDefinitions[%d]", i)
		if r.DisplayName == "" {
			bad("%s: displayName is required", what)
			continue
		}
		id := strings.ToLower(r.ID)
		if id == "" {
			id = nameGUID("role:" + strings.ToLower(r.DisplayName))
		}
		if !guidRE.MatchString(id) {
			bad("role %q: id %q is not a GUID", r.DisplayName, r.ID)
			continue
		}
		if _, dup := d.roleByID[id]; dup {
			bad("role %q: id %s is used twice", r.DisplayName, id)
			continue
		}
		tmpl := strings.ToLower(r.TemplateID)
		if tmpl == "" {
			tmpl = id
		}
		o := newObject().
			set("id", id).
			set("description", nullable(r.Description)).
			set("displayName", r.DisplayName).
			set("isBuiltIn", boolOr(r.IsBuiltIn, true)).
			set("isEnabled", true).
			set("resourceScopes", []any{"/"}).
			set("templateId", tmpl).
			set("version", nil).
			set("rolePermissions", []any{})
		d.roles = append(d.roles, o)
		d.roleByID[id] = o
	}
	seenGrant := map[string]bool{}
	for i, a := range t.RoleAssignments {
		what := fmt.Sprintf("roleAssignments[%d]", i)
		role := d.roleByID[strings.ToLower(a.Role)]
		if role == nil {
			var found []*object
			for _, r := range d.roles {
				if strings.EqualFold(r.str("displayName"), a.Role) {
					found = append(found, r)
				}
			}
			if len(found) != 1 {
				bad("%s: role %q matches %d role definitions", what, a.Role, len(found))
				continue
			}
			role = found[0]
		}
		p, err := d.resolveRef(a.Principal)
		if err != nil {
			bad("%s: principal: %v", what, err)
			continue
		}
		scope := a.DirectoryScopeID
		if scope == "" {
			scope = "/"
		}
		id := a.ID
		if id == "" {
			kind := "roleAssignment:"
			if a.Eligible {
				kind = "roleEligibility:"
			}
			id = nameGUID(kind + role.str("id") + ":" + p.id + ":" + scope)
		}
		id = strings.ToLower(id)
		if !guidRE.MatchString(id) {
			bad("%s: id %q is not a GUID", what, a.ID)
			continue
		}
		if seenGrant[id] {
			bad("%s: id %s is used twice", what, id)
			continue
		}
		seenGrant[id] = true
		start, err := checkTime(what+": startDateTime", a.StartDateTime)
		if err != nil {
			errs = append(errs, err)
		}
		end, err := checkTime(what+": endDateTime", a.EndDateTime)
		if err != nil {
			errs = append(errs, err)
		}
		if start != nil && end != nil && end.(string) <= start.(string) {
			bad("%s: endDateTime must be after startDateTime", what)
		}
		if a.Eligible {
			d.eligible = append(d.eligible, newObject().
				set("id", id).
				set("principalId", p.id).
				set("roleDefinitionId", role.str("id")).
				set("directoryScopeId", scope).
				set("appScopeId", nil).
				set("startDateTime", start).
				set("endDateTime", end).
				set("memberType", "Direct").
				set("roleEligibilityScheduleId", id))
			continue
		}
		d.assigns = append(d.assigns, newObject().
			set("id", id).
			set("principalId", p.id).
			set("directoryScopeId", scope).
			set("roleDefinitionId", role.str("id")))
		if start != nil || end != nil {
			d.assignTimes[id] = [2]any{start, end}
		}
	}

	d.adminUPN = t.Admin
	if d.adminUPN != "" {
		if d.byUPN[strings.ToLower(d.adminUPN)] == nil {
			bad("admin %q is not a user of the tenant", d.adminUPN)
		}
	}
	if d.adminUPN == "" {
		d.adminUPN = "admin@" + firstNonEmpty(t.Domain, "contoso.com")
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return d, nil
}

func hasAppRole(sp *ServicePrincipal, id string) bool {
	for _, r := range sp.AppRoles {
		if strings.EqualFold(r.ID, id) {
			return true
		}
	}
	return false
}

// globalAdministrator is the template id of Entra's Global Administrator
// role.
const globalAdministrator = "62e90394-69f5-4237-9190-012177145e10"

// directoryRolesOf returns the template ids of the roles assigned to the
// principal id tenant-wide (directoryScopeId "/"), as a token's wids claim
// lists them, or nil when there are none. The tenant's admin, when the
// tenant file does not list it, is a Global Administrator.
func (d *directory) directoryRolesOf(id string, admin bool) []string {
	var out []string
	for _, a := range d.assigns {
		if !strings.EqualFold(a.str("principalId"), id) || a.str("directoryScopeId") != "/" {
			continue
		}
		if r := d.roleByID[strings.ToLower(a.str("roleDefinitionId"))]; r != nil && !slices.Contains(out, r.str("templateId")) {
			out = append(out, r.str("templateId"))
		}
	}
	if out == nil && admin && d.byID[strings.ToLower(id)] == nil {
		out = []string{globalAdministrator}
	}
	return out
}

// resolveRef finds the one object a tenant-file reference names.
func (d *directory) resolveRef(ref string) (*dirObject, error) {
	key := strings.ToLower(strings.TrimSpace(ref))
	found := map[*dirObject]bool{}
	var order []*dirObject
	add := func(o *dirObject) {
		if o != nil && !found[o] {
			found[o] = true
			order = append(order, o)
		}
	}
	add(d.byID[key])
	add(d.byUPN[key])
	add(d.byNick[key])
	for _, o := range d.spByName[key] {
		add(o)
	}
	switch len(order) {
	case 0:
		return nil, fmt.Errorf("%q matches no user (userPrincipalName or id), group (mailNickname or id) or service principal (displayName or id)", ref)
	case 1:
		return order[0], nil
	default:
		return nil, fmt.Errorf("%q is ambiguous: it matches %d objects; use an id", ref, len(order))
	}
}

// userByKey finds a user by id or userPrincipalName.
func (d *directory) userByKey(key string) *dirObject {
	key = strings.ToLower(key)
	if o := d.byID[key]; o != nil && o.kind == kindUser {
		return o
	}
	return d.byUPN[key]
}

func (d *directory) spByAppID(appID string) *dirObject { return d.spByApp[strings.ToLower(appID)] }

// transitiveMembers returns g's members and, recursively, the members of
// its member groups, each once, breadth first.
func (d *directory) transitiveMembers(g *dirObject) []*dirObject {
	seen := map[*dirObject]bool{g: true}
	var out []*dirObject
	queue := []*dirObject{g}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, m := range cur.members {
			if seen[m] {
				continue
			}
			seen[m] = true
			out = append(out, m)
			if m.kind == kindGroup {
				queue = append(queue, m)
			}
		}
	}
	return out
}
