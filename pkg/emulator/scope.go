package emulator

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Evaluating access-review queries (scopes, instanceEnumerationScope,
// reviewers) against the directory. The forms are those Graph documents
// (docs/graph-behaviour.md#reviewers, #scopes-and-queries); anything else is "not emulated", which
// callers report instead of guessing.

// errUnsupportedQuery marks a query form the emulator does not evaluate.
var errUnsupportedQuery = errors.New("query form not emulated")

// graphQuery is a parsed scope or reviewer query.
type graphQuery struct {
	raw      string
	relative bool     // "./..."
	segs     []string // path segments, without the version prefix or "."
	filter   filterNode
}

func parseGraphQuery(q string) (*graphQuery, error) {
	q = strings.TrimSpace(q)
	q = q[len(versionPrefix(q)):]
	path, query, _ := strings.Cut(q, "?")
	gq := &graphQuery{raw: q}
	switch {
	case strings.HasPrefix(path, "./"):
		gq.relative = true
		path = path[2:]
	case path == ".":
		gq.relative = true
		path = ""
	case strings.HasPrefix(path, "/"):
	default:
		return nil, fmt.Errorf("%w: %q does not start with / or ./", errUnsupportedQuery, q)
	}
	for _, s := range strings.Split(path, "/") {
		if s != "" {
			gq.segs = append(gq.segs, s)
		}
	}
	for _, part := range strings.Split(query, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		switch strings.ToLower(k) {
		case "$count":
		case "$filter":
			v = strings.ReplaceAll(v, "+", " ")
			if dv, err := url.PathUnescape(v); err == nil {
				v = dv
			}
			f, err := parseFilter(v)
			if err != nil {
				return nil, fmt.Errorf("%w: the $filter of %q: %v", errUnsupportedQuery, q, err)
			}
			gq.filter = f
		default:
			return nil, fmt.Errorf("%w: query option %s in %q", errUnsupportedQuery, k, q)
		}
	}
	return gq, nil
}

func (q *graphQuery) seg(i string, at int) bool {
	return at < len(q.segs) && strings.EqualFold(q.segs[at], i)
}

func (q *graphQuery) unsupported() error {
	return fmt.Errorf("%w: %q", errUnsupportedQuery, q.raw)
}

// keep applies the query's $filter to directory objects.
func (q *graphQuery) keep(objs []*dirObject) []*dirObject {
	if q.filter == nil {
		return objs
	}
	out := make([]*dirObject, 0, len(objs))
	for _, o := range objs {
		if evalFilter(q.filter, o.full, nil) {
			out = append(out, o)
		}
	}
	return out
}

// resolvedResource is something whose access a decision reviews.
type resolvedResource struct {
	ref   resourceRef
	obj   *dirObject // the group or service principal
	role  *object    // the role definition
	trans bool       // membership is transitive (…/transitiveMembers)
}

func groupResource(g *dirObject) *resolvedResource {
	return &resolvedResource{ref: resourceRef{ID: g.id, DisplayName: g.name, Type: "Group"}, obj: g}
}

// scopePair is one decision item to be: a principal and what it has access to.
type scopePair struct {
	principal *dirObject
	res       *resolvedResource
}

// members lists who has the resource's access: a group's (transitive)
// members, an application's assigned principals, a role's assignees.
func (s *Server) members(res *resolvedResource) []*dirObject {
	switch {
	case res.role != nil:
		var out []*dirObject
		seen := map[*dirObject]bool{}
		// Active and eligible assignees alike (Privileged Identity
		// Management roles are reviewed with both).
		for _, a := range slices.Concat(s.dir.assigns, s.dir.eligible) {
			if a.str("roleDefinitionId") == res.ref.ID {
				if p := s.dir.byID[a.str("principalId")]; p != nil && !seen[p] {
					seen[p] = true
					out = append(out, p)
				}
			}
		}
		return out
	case res.obj != nil && res.obj.kind == kindGroup:
		if res.trans {
			return s.dir.transitiveMembers(res.obj)
		}
		return res.obj.members
	case res.obj != nil && res.obj.kind == kindSP:
		var out []*dirObject
		seen := map[*dirObject]bool{}
		for _, a := range s.dir.appAssig[res.obj.id] {
			if p := s.dir.byID[a.str("principalId")]; p != nil && !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
		return out
	}
	return nil
}

// enumerateGroups evaluates an instanceEnumerationScope: /groups with an
// optional $filter (all groups, leaving out dynamic and role-assignable
// ones, as Graph does for all-groups reviews) or /groups/{id}.
func (s *Server) enumerateGroups(enum *object) ([]*dirObject, error) {
	q, err := parseGraphQuery(enum.str("query"))
	if err != nil {
		return nil, err
	}
	switch {
	case q.relative || !q.seg("groups", 0) || len(q.segs) > 2:
		return nil, q.unsupported()
	case len(q.segs) == 2:
		g := s.dir.byID[strings.ToLower(q.segs[1])]
		if g == nil || g.kind != kindGroup {
			return nil, nil
		}
		return []*dirObject{g}, nil
	}
	var groups []*dirObject
	for _, g := range s.dir.groups {
		if g.group.IsAssignableToRole || hasString(g.group.GroupTypes, "DynamicMembership") {
			continue
		}
		groups = append(groups, g)
	}
	return q.keep(groups), nil
}

func hasString(ss []string, v string) bool {
	for _, s := range ss {
		if strings.EqualFold(s, v) {
			return true
		}
	}
	return false
}

// scopePairs evaluates a definition's scope at time at: for an enumerated
// review relative to the group res, otherwise on its own.
func (s *Server) scopePairs(scope *object, res *resolvedResource, at time.Time) ([]scopePair, error) {
	if scope == nil {
		return nil, fmt.Errorf("%w: no scope", errUnsupportedQuery)
	}
	if scope.str("@odata.type") == typePRMScope {
		return s.prmPairs(scope, at)
	}
	principals, res, err := s.scopeObjects(scope, res)
	if err != nil {
		return nil, err
	}
	principals = inactiveOnly(scope, principals, at)
	pairs := make([]scopePair, 0, len(principals))
	for _, p := range principals {
		pairs = append(pairs, scopePair{principal: p, res: res})
	}
	return pairs, nil
}

// scopeObjects evaluates a query scope to its principals and the resource
// they have access to.
func (s *Server) scopeObjects(scope *object, ctx *resolvedResource) ([]*dirObject, *resolvedResource, error) {
	q, err := parseGraphQuery(scope.str("query"))
	if err != nil {
		return nil, nil, err
	}
	segs := q.segs
	var res *resolvedResource
	switch {
	case q.relative:
		// ./members, ./transitiveMembers (with an optional cast), relative to
		// the enumerated group.
		if ctx == nil || ctx.obj == nil || ctx.obj.kind != kindGroup {
			return nil, nil, fmt.Errorf("%w: the relative query %q needs an instanceEnumerationScope", errUnsupportedQuery, q.raw)
		}
		res = &resolvedResource{ref: ctx.ref, obj: ctx.obj}
	case q.seg("groups", 0) && len(segs) >= 2:
		g := s.dir.byID[strings.ToLower(segs[1])]
		if g == nil || g.kind != kindGroup {
			return nil, nil, nil // a group that no longer exists has no one to review
		}
		res = groupResource(g)
		segs = segs[2:]
		if len(segs) == 0 { // /groups/{id}: its members
			return q.keep(g.members), res, nil
		}
	case q.seg("roleManagement", 0) && q.seg("directory", 1) && q.seg("roleDefinitions", 2) && len(segs) == 4:
		role := s.dir.roleByID[strings.ToLower(segs[3])]
		if role == nil {
			return nil, nil, nil
		}
		res = &resolvedResource{ref: resourceRef{ID: role.str("id"), DisplayName: role.str("displayName"), Type: "DirectoryRole"}, role: role}
		return q.keep(s.members(res)), res, nil
	case q.seg("servicePrincipals", 0) && (len(segs) == 2 || len(segs) == 3 && strings.EqualFold(segs[2], "appRoleAssignedTo")):
		// The application's assigned principals: the documented form ends
		// in /appRoleAssignedTo; the bare form is kept for older state.
		sp := s.dir.byID[strings.ToLower(segs[1])]
		if sp == nil || sp.kind != kindSP {
			return nil, nil, nil
		}
		res = &resolvedResource{ref: resourceRef{ID: sp.id, DisplayName: sp.name, Type: "ServicePrincipal", AppID: sp.full.str("appId")}, obj: sp}
		return q.keep(s.members(res)), res, nil
	default:
		return nil, nil, q.unsupported()
	}
	// segs is now members|transitiveMembers [cast]
	if len(segs) == 0 || len(segs) > 2 {
		return nil, nil, q.unsupported()
	}
	switch strings.ToLower(segs[0]) {
	case "members":
	case "transitivemembers":
		res.trans = true
	default:
		return nil, nil, q.unsupported()
	}
	objs := s.members(res)
	if len(segs) == 2 {
		kind, ok := castKind(segs[1])
		if !ok {
			return nil, nil, q.unsupported()
		}
		objs = ofKind(objs, kind)
	}
	return q.keep(objs), res, nil
}

func ofKind(objs []*dirObject, kind string) []*dirObject {
	out := make([]*dirObject, 0, len(objs))
	for _, o := range objs {
		if o.kind == kind {
			out = append(out, o)
		}
	}
	return out
}

// singleResource names the resource of a non-enumerated scope that found no
// principals, so an empty instance still says what it reviews.
func (s *Server) singleResource(scope *object) *resolvedResource {
	if scope == nil || scope.str("@odata.type") == typePRMScope {
		return nil
	}
	_, res, err := s.scopeObjects(scope, nil)
	if err != nil {
		return nil
	}
	return res
}

// inactiveOnly keeps, for an inactive-users scope, the users who have not
// signed in within inactiveDuration before at (or never).
func inactiveOnly(scope *object, objs []*dirObject, at time.Time) []*dirObject {
	if scope.str("@odata.type") != typeInactiveScope {
		return objs
	}
	d, _ := durationOf(scope.str("inactiveDuration"))
	cutoff := at.Add(-d)
	out := make([]*dirObject, 0, len(objs))
	for _, o := range objs {
		if o.kind != kindUser {
			continue
		}
		if t, ok := lastSignIn(o); !ok || t.Before(cutoff) {
			out = append(out, o)
		}
	}
	return out
}

// prmPairs evaluates a principalResourceMembershipsScope: every (principal,
// resource) membership where the principal is in a principal scope and
// has the resource's access. Resources: /groups (every group, direct
// members), /groups/{id} and /groups/{id}/transitiveMembers (that group),
// /servicePrincipals/{id} (principals assigned to the application) and
// /roleManagement/directory/roleDefinitions/{id} (the role's assignees).
// Principals: /users, /groups and /servicePrincipals, each with $filter.
func (s *Server) prmPairs(scope *object, at time.Time) ([]scopePair, error) {
	inPrincipals := map[*dirObject]bool{}
	pscopes, _ := scope.vals["principalScopes"].([]any)
	for _, v := range pscopes {
		ps, ok := v.(*object)
		if !ok {
			continue
		}
		q, err := parseGraphQuery(ps.str("query"))
		if err != nil {
			return nil, err
		}
		var objs []*dirObject
		switch {
		case q.seg("users", 0) && len(q.segs) == 1:
			objs = s.dir.users
		case q.seg("groups", 0) && len(q.segs) == 1:
			objs = s.dir.groups
		case q.seg("servicePrincipals", 0) && len(q.segs) == 1:
			objs = s.dir.sps
		default:
			return nil, q.unsupported()
		}
		for _, o := range inactiveOnly(ps, q.keep(objs), at) {
			inPrincipals[o] = true
		}
	}
	var pairs []scopePair
	rscopes, _ := scope.vals["resourceScopes"].([]any)
	for _, v := range rscopes {
		rs, ok := v.(*object)
		if !ok {
			continue
		}
		resources, err := s.prmResources(rs)
		if err != nil {
			return nil, err
		}
		for _, res := range resources {
			for _, m := range s.members(res) {
				if inPrincipals[m] {
					pairs = append(pairs, scopePair{principal: m, res: res})
				}
			}
		}
	}
	return pairs, nil
}

func (s *Server) prmResources(rs *object) ([]*resolvedResource, error) {
	q, err := parseGraphQuery(rs.str("query"))
	if err != nil {
		return nil, err
	}
	segs := q.segs
	switch {
	case q.seg("groups", 0) && len(segs) == 1:
		var out []*resolvedResource
		for _, g := range q.keep(s.dir.groups) {
			if g.group.IsAssignableToRole || hasString(g.group.GroupTypes, "DynamicMembership") {
				continue
			}
			out = append(out, groupResource(g))
		}
		return out, nil
	case q.seg("groups", 0) && (len(segs) == 2 || len(segs) <= 4 && q.seg("transitiveMembers", 2)):
		g := s.dir.byID[strings.ToLower(segs[1])]
		if g == nil || g.kind != kindGroup {
			return nil, nil
		}
		res := groupResource(g)
		res.trans = len(segs) > 2
		return []*resolvedResource{res}, nil
	case q.seg("servicePrincipals", 0) && len(segs) == 2:
		sp := s.dir.byID[strings.ToLower(segs[1])]
		if sp == nil || sp.kind != kindSP {
			return nil, nil
		}
		return []*resolvedResource{{ref: resourceRef{ID: sp.id, DisplayName: sp.name, Type: "ServicePrincipal", AppID: sp.full.str("appId")}, obj: sp}}, nil
	case q.seg("roleManagement", 0) && q.seg("directory", 1) && q.seg("roleDefinitions", 2) && len(segs) == 4:
		role := s.dir.roleByID[strings.ToLower(segs[3])]
		if role == nil {
			return nil, nil
		}
		return []*resolvedResource{{ref: resourceRef{ID: role.str("id"), DisplayName: role.str("displayName"), Type: "DirectoryRole"}, role: role}}, nil
	}
	return nil, q.unsupported()
}

// reviewersOf resolves who reviews principal p's access to res: the
// reviewers, else the fallback reviewers; an empty reviewer list is a
// self-review. Disabled accounts are never contacted.
func (s *Server) reviewersOf(reviewers, fallback []*object, p *dirObject, res *resolvedResource) []*dirObject {
	if len(reviewers) == 0 {
		if p.kind == kindUser && enabled(p) {
			return []*dirObject{p}
		}
		return s.resolveReviewers(fallback, p, res)
	}
	if out := s.resolveReviewers(reviewers, p, res); len(out) > 0 {
		return out
	}
	return s.resolveReviewers(fallback, p, res)
}

func (s *Server) resolveReviewers(list []*object, p *dirObject, res *resolvedResource) []*dirObject {
	var out []*dirObject
	seen := map[*dirObject]bool{}
	add := func(objs ...*dirObject) {
		for _, o := range objs {
			if o != nil && o.kind == kindUser && enabled(o) && !seen[o] {
				seen[o] = true
				out = append(out, o)
			}
		}
	}
	for _, r := range list {
		q, err := parseGraphQuery(r.str("query"))
		if err != nil {
			continue
		}
		switch {
		case q.relative && q.seg("owners", 0) && len(q.segs) == 1:
			if res != nil && res.obj != nil {
				add(q.keep(res.obj.owners)...)
			}
		case q.relative && q.seg("manager", 0) && len(q.segs) == 1:
			if p.manager != nil {
				add(p.manager)
			}
		case q.seg("users", 0) && len(q.segs) == 2:
			add(s.dir.userByKey(q.segs[1]))
		case (q.seg("groups", 0) || q.seg("servicePrincipals", 0)) && len(q.segs) >= 3:
			o := s.dir.byID[strings.ToLower(q.segs[1])]
			if o == nil {
				continue
			}
			switch {
			case q.seg("owners", 2):
				add(q.keep(o.owners)...)
			case q.seg("members", 2) && o.kind == kindGroup:
				add(q.keep(o.members)...)
			case q.seg("transitiveMembers", 2) && o.kind == kindGroup:
				add(q.keep(s.dir.transitiveMembers(o))...)
			}
		}
	}
	return out
}

func enabled(o *dirObject) bool {
	b, ok := o.full.vals["accountEnabled"].(bool)
	return !ok || b
}

// lastSignIn is a user's last sign-in, if any.
func lastSignIn(o *dirObject) (time.Time, bool) {
	act, _ := o.full.vals["signInActivity"].(*object)
	if act == nil {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, act.str("lastSignInDateTime"))
	return t, err == nil
}

// recPolicy decides recommendations from last sign-in.
type recPolicy struct {
	enabled  bool
	lookBack time.Duration
}

// recommendationPolicy reads recommendationsEnabled and the look-back: the
// userLastSignIn insight setting's, else recommendationLookBackDuration,
// else 30 days (stage 1's values win for multi-stage reviews).
func recommendationPolicy(settings, def *object) recPolicy {
	var first *object
	if stages, _ := def.vals["stageSettings"].([]any); len(stages) > 0 {
		first, _ = stages[0].(*object)
	}
	return recommendationPolicyFor(settings, first)
}

// recommendationPolicyFor is the policy of one stage (nil: no stages): the
// stage's recommendationsEnabled and look-back override the settings'
// (docs/graph-behaviour.md#stages).
func recommendationPolicyFor(settings, stage *object) recPolicy {
	p := recPolicy{lookBack: 30 * 24 * time.Hour}
	if settings == nil {
		return p
	}
	p.enabled = boolOf(settings.vals["recommendationsEnabled"])
	sources := []*object{settings}
	if stage != nil {
		p.enabled = boolOf(stage.vals["recommendationsEnabled"])
		sources = append(sources, stage)
	}
	for _, src := range sources {
		if d, ok := durationOf(src.str("recommendationLookBackDuration")); ok {
			p.lookBack = d
		}
		ins, _ := src.vals["recommendationInsightSettings"].([]any)
		for _, v := range ins {
			if io, ok := v.(*object); ok && io.str("@odata.type") == typeLastSignIn {
				if d, ok := durationOf(io.str("recommendationLookBackDuration")); ok {
					p.lookBack = d
				}
			}
		}
	}
	return p
}

// recommend: Approve for a user who signed in within the look-back before
// the review started, Deny for one who did not (or never did), and
// NoInfoAvailable when there is nothing to go on: recommendations off, a
// group or application, or a user created within the look-back who has
// not signed in yet.
func (p recPolicy) recommend(o *dirObject, at time.Time) string {
	if !p.enabled || o.kind != kindUser {
		return recommendNoInfo
	}
	cutoff := at.Add(-p.lookBack)
	if t, ok := lastSignIn(o); ok {
		if t.Before(cutoff) {
			return decisionDeny
		}
		return decisionApprove
	}
	if created, err := time.Parse(time.RFC3339Nano, o.full.str("createdDateTime")); err == nil && created.After(cutoff) {
		return recommendNoInfo
	}
	return decisionDeny
}
