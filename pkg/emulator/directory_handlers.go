package emulator

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Collections of the directory. Their properties are those of the objects
// the tenant builds, so $select and $filter accept what the emulator knows.
var (
	userCollection  = dirCollection("microsoft.graph.user", []string{"displayName", "userPrincipalName", "mail", "createdDateTime"})
	groupCollection = dirCollection("microsoft.graph.group", []string{"displayName", "mailNickname", "createdDateTime"})
	spCollection    = dirCollection("microsoft.graph.servicePrincipal", []string{"displayName", "appId"})
	// directoryObject collections (members, owners, getByIds) mix types.
	objectCollection  = dirCollection("microsoft.graph.directoryObject", []string{"displayName"})
	roleDefCollection = &collection{entityType: "microsoft.graph.unifiedRoleDefinition", directory: true,
		props:     []string{"id", "description", "displayName", "isBuiltIn", "isEnabled", "resourceScopes", "templateId", "version", "rolePermissions"},
		orderable: []string{"displayName"}}
	roleAssignCollection = &collection{entityType: "microsoft.graph.unifiedRoleAssignment", directory: true,
		props:      []string{"id", "principalId", "directoryScopeId", "roleDefinitionId"},
		expandable: []string{"principal", "roleDefinition"}}
	roleAssignInstanceCollection = &collection{entityType: "microsoft.graph.unifiedRoleAssignmentScheduleInstance", directory: true,
		props: []string{"id", "principalId", "roleDefinitionId", "directoryScopeId", "appScopeId", "startDateTime", "endDateTime",
			"assignmentType", "memberType", "roleAssignmentOriginId", "roleAssignmentScheduleId"},
		expandable: []string{"principal", "roleDefinition"}}
	roleEligInstanceCollection = &collection{entityType: "microsoft.graph.unifiedRoleEligibilityScheduleInstance", directory: true,
		props: []string{"id", "principalId", "roleDefinitionId", "directoryScopeId", "appScopeId", "startDateTime", "endDateTime",
			"memberType", "roleEligibilityScheduleId"},
		expandable: []string{"principal", "roleDefinition"}}
	roleEligScheduleCollection = &collection{entityType: "microsoft.graph.unifiedRoleEligibilitySchedule", directory: true,
		props: []string{"id", "principalId", "roleDefinitionId", "directoryScopeId", "appScopeId", "createdUsing", "createdDateTime",
			"modifiedDateTime", "status", "scheduleInfo", "memberType"},
		expandable: []string{"principal", "roleDefinition"}}
	appRoleAssignCollection = &collection{entityType: "microsoft.graph.appRoleAssignment", directory: true, advanced: true,
		props: []string{"id", "deletedDateTime", "appRoleId", "createdDateTime", "principalDisplayName",
			"principalId", "principalType", "resourceDisplayName", "resourceId"}}
)

// Property lists come from a sample object of each kind.
func dirCollection(entity string, orderable []string) *collection {
	c := &collection{entityType: entity, directory: true, advanced: true, orderable: orderable}
	t, err := ParseTenant(strings.NewReader(sampleTenant))
	if err != nil {
		panic("emulator: sample tenant: " + err.Error()) // a programming error, caught by every test
	}
	d, _ := newDirectory(t)
	for _, o := range append(append(append([]*dirObject{}, d.users...), d.groups...), d.sps...) {
		if entity != "microsoft.graph.directoryObject" && "microsoft.graph."+o.kind != entity {
			continue
		}
		for _, k := range o.full.keys {
			if !strings.HasPrefix(k, "@") && !slices.Contains(c.props, k) {
				c.props = append(c.props, k)
			}
		}
	}
	return c
}

const sampleTenant = `
users: [{userPrincipalName: a@example.com}]
groups: [{displayName: g}]
servicePrincipals: [{displayName: s}]
`

func dirNotFound(key string) *graphError {
	return errorf(http.StatusNotFound, codeDirNotFound, "Resource '%s' does not exist or one of its queried reference-property objects are not present.", key)
}

func readOnlyDirectory(rc *reqCtx, req *request) *response {
	return methodNotAllowed(rc, req, "GET")
}

func isRead(req *request) bool { return req.method == http.MethodGet || req.method == http.MethodHead }

// castKind maps a cast segment such as microsoft.graph.user to a kind.
func castKind(seg string) (string, bool) {
	switch strings.ToLower(seg) {
	case "microsoft.graph.user":
		return kindUser, true
	case "microsoft.graph.group":
		return kindGroup, true
	case "microsoft.graph.serviceprincipal":
		return kindSP, true
	}
	return "", false
}

func (s *Server) routeUsers(rc *reqCtx, req *request, rest []string) *response {
	if !isRead(req) {
		return readOnlyDirectory(rc, req)
	}
	if len(rest) == 0 {
		return s.listDirObjects(rc, req, userCollection, s.dir.users, rc.base+"/$metadata#users", false)
	}
	if rest[0] == "$count" && len(rest) == 1 {
		return s.countDirObjects(rc, req, userCollection, s.dir.users)
	}
	u := s.dir.userByKey(rest[0])
	if u == nil {
		return rc.fail(dirNotFound(rest[0]))
	}
	return s.userNav(rc, req, u, rest[1:], rc.base+"/$metadata#users")
}

// userNav serves a user and its navigation properties.
func (s *Server) userNav(rc *reqCtx, req *request, u *dirObject, rest []string, ctx string) *response {
	if len(rest) == 0 {
		return s.getDirObject(rc, req, userCollection, u, ctx+"/$entity", false)
	}
	switch rest[0] {
	case "manager":
		if len(rest) > 1 {
			return rc.fail(segmentNotFound(rest[1]))
		}
		if u.manager == nil {
			return rc.fail(dirNotFound("manager"))
		}
		return s.getDirObject(rc, req, objectCollection, u.manager, rc.base+"/$metadata#directoryObjects/$entity", true)
	case "directReports":
		var reports []*dirObject
		for _, o := range s.dir.users {
			if o.manager == u {
				reports = append(reports, o)
			}
		}
		return s.navCollection(rc, req, reports, rest[1:], rc.base+"/$metadata#directoryObjects")
	case "memberOf":
		var groups []*dirObject
		for _, g := range s.dir.groups {
			if slices.Contains(g.members, u) {
				groups = append(groups, g)
			}
		}
		return s.navCollection(rc, req, groups, rest[1:], rc.base+"/$metadata#directoryObjects")
	}
	return rc.fail(segmentNotFound(rest[0]))
}

func (s *Server) routeGroups(rc *reqCtx, req *request, rest []string) *response {
	if !isRead(req) {
		return readOnlyDirectory(rc, req)
	}
	if len(rest) == 0 {
		return s.listDirObjects(rc, req, groupCollection, s.dir.groups, rc.base+"/$metadata#groups", false)
	}
	if rest[0] == "$count" && len(rest) == 1 {
		return s.countDirObjects(rc, req, groupCollection, s.dir.groups)
	}
	g := s.dir.byID[strings.ToLower(rest[0])]
	if g == nil || g.kind != kindGroup {
		return rc.fail(dirNotFound(rest[0]))
	}
	if len(rest) == 1 {
		return s.getDirObject(rc, req, groupCollection, g, rc.base+"/$metadata#groups/$entity", false)
	}
	var objs []*dirObject
	switch rest[1] {
	case "members":
		objs = g.members
	case "transitiveMembers":
		objs = s.dir.transitiveMembers(g)
	case "owners":
		objs = g.owners
	default:
		return rc.fail(segmentNotFound(rest[1]))
	}
	return s.navCollection(rc, req, objs, rest[2:], rc.base+"/$metadata#directoryObjects")
}

// navCollection serves a directoryObject collection with an optional cast
// segment (/microsoft.graph.user) and an optional /$count.
func (s *Server) navCollection(rc *reqCtx, req *request, objs []*dirObject, rest []string, ctx string) *response {
	c := objectCollection
	if len(rest) > 0 {
		if kind, ok := castKind(rest[0]); ok {
			var kept []*dirObject
			for _, o := range objs {
				if o.kind == kind {
					kept = append(kept, o)
				}
			}
			objs = kept
			c = map[string]*collection{kindUser: userCollection, kindGroup: groupCollection, kindSP: spCollection}[kind]
			ctx = rc.base + "/$metadata#" + map[string]string{kindUser: "users", kindGroup: "groups", kindSP: "servicePrincipals"}[kind]
			rest = rest[1:]
		}
	}
	switch {
	case len(rest) == 0:
		return s.listDirObjects(rc, req, c, objs, ctx, true)
	case len(rest) == 1 && rest[0] == "$count":
		return s.countDirObjects(rc, req, c, objs)
	}
	return rc.fail(segmentNotFound(rest[0]))
}

func (s *Server) routeServicePrincipals(rc *reqCtx, req *request, rest []string) *response {
	if !isRead(req) {
		return readOnlyDirectory(rc, req)
	}
	if len(rest) == 0 {
		return s.listDirObjects(rc, req, spCollection, s.dir.sps, rc.base+"/$metadata#servicePrincipals", false)
	}
	if rest[0] == "$count" && len(rest) == 1 {
		return s.countDirObjects(rc, req, spCollection, s.dir.sps)
	}
	sp := s.dir.byID[strings.ToLower(rest[0])]
	if sp == nil || sp.kind != kindSP {
		return rc.fail(dirNotFound(rest[0]))
	}
	return s.spNav(rc, req, sp, rest[1:])
}

func (s *Server) spNav(rc *reqCtx, req *request, sp *dirObject, rest []string) *response {
	if len(rest) == 0 {
		return s.getDirObject(rc, req, spCollection, sp, rc.base+"/$metadata#servicePrincipals/$entity", false)
	}
	switch rest[0] {
	case "owners":
		return s.navCollection(rc, req, sp.owners, rest[1:], rc.base+"/$metadata#directoryObjects")
	case "appRoleAssignedTo":
		if len(rest) == 2 && rest[1] == "$count" {
			return s.countObjects(rc, req, appRoleAssignCollection, s.dir.appAssig[sp.id])
		}
		if len(rest) > 1 {
			return rc.fail(segmentNotFound(rest[1]))
		}
		ctx := rc.base + "/$metadata#servicePrincipals('" + sp.id + "')/appRoleAssignedTo"
		return s.listObjects(rc, req, appRoleAssignCollection, s.dir.appAssig[sp.id], ctx)
	}
	return rc.fail(segmentNotFound(rest[0]))
}

// routeRoleManagement serves roleManagement/directory: role definitions,
// (active) role assignments, and Privileged Identity Management's
// roleAssignmentScheduleInstances, roleEligibilityScheduleInstances and
// roleEligibilitySchedules, each by id too.
func (s *Server) routeRoleManagement(rc *reqCtx, req *request, rest []string) *response {
	if len(rest) < 2 || rest[0] != "directory" {
		if len(rest) == 0 {
			return rc.fail(segmentNotFound("roleManagement"))
		}
		return rc.fail(segmentNotFound(rest[0]))
	}
	if !isRead(req) {
		return readOnlyDirectory(rc, req)
	}
	var c *collection
	var items []*object
	switch rest[1] {
	case "roleDefinitions":
		c, items = roleDefCollection, s.dir.roles
	case "roleAssignments":
		c, items = roleAssignCollection, s.dir.current(s.dir.assigns, s.clock())
	case "roleAssignmentScheduleInstances":
		c, items = roleAssignInstanceCollection, s.dir.assignmentInstances(s.clock())
	case "roleEligibilityScheduleInstances":
		c, items = roleEligInstanceCollection, s.dir.current(s.dir.eligible, s.clock())
	case "roleEligibilitySchedules":
		c, items = roleEligScheduleCollection, s.dir.eligibilitySchedules(s.clock())
	default:
		return rc.fail(segmentNotFound(rest[1]))
	}
	ctx := rc.base + "/$metadata#roleManagement/directory/" + rest[1]
	switch len(rest) {
	case 2:
		return s.listObjects(rc, req, c, items, ctx)
	case 3:
		for _, it := range items {
			if strings.EqualFold(it.str("id"), rest[2]) {
				q, gerr := parseListQuery(req, c)
				if gerr != nil {
					return rc.fail(gerr)
				}
				if q.filter != nil || q.top >= 0 || q.count || len(q.order) > 0 {
					return rc.fail(c.badRequest("Only $select and $expand apply to a single object."))
				}
				return jsonResponse(http.StatusOK, withLeadingProp("@odata.context", selectContext(ctx, q.sel)+"/$entity", s.renderRoleItem(q)(it)))
			}
		}
		return rc.fail(dirNotFound(rest[2]))
	}
	return rc.fail(segmentNotFound(rest[3]))
}

// renderRoleItem renders an item with $select applied and the navigation
// properties of $expand (principal, roleDefinition) added after.
func (s *Server) renderRoleItem(q *listQuery) func(*object) []byte {
	if len(q.expand) == 0 {
		return q.marshalSelected
	}
	return func(o *object) []byte {
		out := o.shallow()
		if len(q.sel) > 0 {
			out = selectProps(o, q.sel)
		}
		for _, nav := range q.expand {
			switch nav {
			case "principal":
				var v any
				if p := s.dir.byID[o.str("principalId")]; p != nil {
					v = p.view(nil, true)
				}
				out.set("principal", v)
			case "roleDefinition":
				var v any
				if r := s.dir.roleByID[o.str("roleDefinitionId")]; r != nil {
					v = r
				}
				out.set("roleDefinition", v)
			}
		}
		return marshal(out)
	}
}

// listObjects pages plain objects (role definitions, assignments).
func (s *Server) listObjects(rc *reqCtx, req *request, c *collection, items []*object, ctx string) *response {
	q, gerr := parseListQuery(req, c)
	if gerr != nil {
		return rc.fail(gerr)
	}
	if gerr := advancedRules(req, c, q); gerr != nil {
		return rc.fail(gerr)
	}
	out, total, link := s.page(rc, req, q, items, s.renderRoleItem(q))
	return jsonResponse(http.StatusOK, collectionBody(selectContext(ctx, q.sel), total, q.count, link, out))
}

// countObjects answers the /$count segment of a plain-object collection.
func (s *Server) countObjects(rc *reqCtx, req *request, c *collection, items []*object) *response {
	if gerr := countSegmentRules(req, c); gerr != nil {
		return rc.fail(gerr)
	}
	q, gerr := parseListQuery(req, c)
	if gerr != nil {
		return rc.fail(gerr)
	}
	n := 0
	for _, o := range items {
		if q.filter == nil || evalFilter(q.filter, o, nil) {
			n++
		}
	}
	return countResponse(n)
}

func countResponse(n int) *response {
	h := http.Header{}
	h.Set("Content-Type", "text/plain;charset=utf-8")
	return &response{status: http.StatusOK, header: h, body: []byte(strconv.Itoa(n))}
}

// listDirObjects pages users, groups, service principals or a mix.
func (s *Server) listDirObjects(rc *reqCtx, req *request, c *collection, objs []*dirObject, ctx string, withType bool) *response {
	q, gerr := parseListQuery(req, c)
	if gerr != nil {
		return rc.fail(gerr)
	}
	if gerr := advancedRules(req, c, q); gerr != nil {
		return rc.fail(gerr)
	}
	full := make([]*object, len(objs))
	back := make(map[*object]*dirObject, len(objs))
	for i, o := range objs {
		full[i] = o.full
		back[o.full] = o
	}
	items, total, link := s.page(rc, req, q, full, func(f *object) []byte {
		return marshal(back[f].view(q.sel, withType))
	})
	return jsonResponse(http.StatusOK, collectionBody(selectContext(ctx, q.sel), total, q.count, link, items))
}

func (s *Server) countDirObjects(rc *reqCtx, req *request, c *collection, objs []*dirObject) *response {
	if gerr := countSegmentRules(req, c); gerr != nil {
		return rc.fail(gerr)
	}
	q, gerr := parseListQuery(req, c)
	if gerr != nil {
		return rc.fail(gerr)
	}
	n := 0
	for _, o := range objs {
		if q.filter == nil || evalFilter(q.filter, o.full, nil) {
			n++
		}
	}
	return countResponse(n)
}

func (s *Server) getDirObject(rc *reqCtx, req *request, c *collection, o *dirObject, ctx string, withType bool) *response {
	q, gerr := parseListQuery(req, c)
	if gerr != nil {
		return rc.fail(gerr)
	}
	if q.filter != nil || q.top >= 0 || q.count || len(q.order) > 0 {
		return rc.fail(errorf(http.StatusBadRequest, codeDirBadRequest, "Only $select applies to a single object."))
	}
	if len(q.sel) > 0 {
		ctx = strings.Replace(ctx, "/$entity", "("+strings.Join(q.sel, ",")+")/$entity", 1)
	}
	return jsonResponse(http.StatusOK, withLeadingProp("@odata.context", ctx, marshal(o.view(q.sel, withType))))
}

// routeDirectoryObjects serves directoryObjects/{id} and getByIds.
func (s *Server) routeDirectoryObjects(rc *reqCtx, req *request, rest []string) *response {
	if len(rest) == 1 && rest[0] == "getByIds" {
		if req.method != http.MethodPost {
			return methodNotAllowed(rc, req, "POST")
		}
		return s.getByIds(rc, req)
	}
	if !isRead(req) {
		return readOnlyDirectory(rc, req)
	}
	if len(rest) == 1 {
		o := s.dir.byID[strings.ToLower(rest[0])]
		if o == nil {
			return rc.fail(dirNotFound(rest[0]))
		}
		return s.getDirObject(rc, req, objectCollection, o, rc.base+"/$metadata#directoryObjects/$entity", true)
	}
	if len(rest) == 0 {
		return rc.fail(errorf(http.StatusBadRequest, codeDirBadRequest, "Listing all directory objects is not supported; use users, groups or servicePrincipals."))
	}
	return rc.fail(segmentNotFound(rest[1]))
}

// getByIds answers POST directoryObjects/getByIds {ids, types}: the objects
// found, unknown ids left out, at most 1000 ids.
func (s *Server) getByIds(rc *reqCtx, req *request) *response {
	in, gerr := decodeBody(req.body)
	if gerr != nil {
		return rc.fail(gerr)
	}
	for _, k := range in.keys {
		if k != "ids" && k != "types" && !strings.HasPrefix(k, "@") {
			return rc.fail(errorf(http.StatusBadRequest, codeDirBadRequest, "The property '%s' does not exist on the getByIds action.", k))
		}
	}
	idsA, ok, gerr := optArray(in, "ids", "")
	if gerr != nil {
		return rc.fail(gerr)
	}
	if !ok || len(idsA) == 0 {
		return rc.fail(errorf(http.StatusBadRequest, codeDirBadRequest, "The ids parameter is required and must not be empty."))
	}
	if len(idsA) > 1000 {
		return rc.fail(errorf(http.StatusBadRequest, codeDirBadRequest, "Too many ids: at most 1000 can be requested at once (got %d).", len(idsA)))
	}
	ids, gerr := stringList(idsA, "ids")
	if gerr != nil {
		return rc.fail(gerr)
	}
	typesA, _, gerr := optArray(in, "types", "")
	if gerr != nil {
		return rc.fail(gerr)
	}
	types, gerr := stringList(typesA, "types")
	if gerr != nil {
		return rc.fail(gerr)
	}
	kinds := map[string]bool{}
	for _, t := range types {
		k, ok := castKind("microsoft.graph." + strings.TrimPrefix(strings.TrimPrefix(t, "#"), "microsoft.graph."))
		if !ok {
			return rc.fail(errorf(http.StatusBadRequest, codeDirBadRequest, "Type '%s' is not supported by getByIds here; use user, group or servicePrincipal.", t))
		}
		kinds[k] = true
	}
	var items [][]byte
	seen := map[*dirObject]bool{}
	for _, id := range ids {
		o := s.dir.byID[strings.ToLower(strings.TrimSpace(id))]
		if o == nil || seen[o] || len(kinds) > 0 && !kinds[o.kind] {
			continue
		}
		seen[o] = true
		items = append(items, marshal(o.view(nil, true)))
	}
	return jsonResponse(http.StatusOK, collectionBody(rc.base+"/$metadata#directoryObjects", 0, false, "", items))
}

// routeOrganization serves GET organization: the tenant itself.
func (s *Server) routeOrganization(rc *reqCtx, req *request, rest []string) *response {
	if !isRead(req) {
		return readOnlyDirectory(rc, req)
	}
	t := s.dir.tenant
	domain := firstNonEmpty(t.Domain, "contoso.com")
	org := newObject().
		set("id", strings.ToLower(firstNonEmpty(t.TenantID, nameGUID("tenant:"+domain)))).
		set("displayName", firstNonEmpty(t.DisplayName, domain)).
		set("verifiedDomains", []any{newObject().
			set("capabilities", "Email, OfficeCommunicationsOnline").
			set("isDefault", true).
			set("isInitial", false).
			set("name", domain).
			set("type", "Managed")})
	if len(rest) == 1 && strings.EqualFold(rest[0], org.str("id")) {
		return jsonResponse(http.StatusOK, withLeadingProp("@odata.context", rc.base+"/$metadata#organization/$entity", marshal(org)))
	}
	if len(rest) > 0 {
		return rc.fail(dirNotFound(rest[0]))
	}
	return jsonResponse(http.StatusOK, collectionBody(rc.base+"/$metadata#organization", 0, false, "", [][]byte{marshal(org)}))
}

// routeMe serves /me for a token that names a directory user.
func (s *Server) routeMe(rc *reqCtx, req *request, rest []string) *response {
	if !isRead(req) {
		return readOnlyDirectory(rc, req)
	}
	u := s.dir.userByKey(rc.ident.ID)
	if u == nil {
		return rc.fail(errorf(http.StatusBadRequest, codeDirBadRequest, "/me request is only valid with delegated authentication flow."))
	}
	return s.userNav(rc, req, u, rest, rc.base+"/$metadata#users")
}
