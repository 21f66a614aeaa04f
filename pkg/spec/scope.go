package spec

import (
	"strings"

	"github.com/arsync/arsync/pkg/graph"
	"gopkg.in/yaml.v3"
)

// --- scopes -----------------------------------------------------------------

type scopeContext int

const (
	scopeTop         scopeContext = iota // spec.scope: any kind
	scopeEnumeration                     // instanceEnumerationScope: query only
	scopePrincipal                       // principalResourceMemberships.principalScopes: query or inactiveUsers
	scopeResource                        // principalResourceMemberships.resourceScopes: query or inactiveUsers
)

func (c scopeContext) nested() bool { return c == scopePrincipal || c == scopeResource }

// queryPlace is where the context's queries are written.
func (c scopeContext) queryPlace() graph.QueryPlace {
	return [...]graph.QueryPlace{scopeTop: graph.QueryInScope, scopeEnumeration: graph.QueryInEnumeration,
		scopePrincipal: graph.QueryInPrincipals, scopeResource: graph.QueryInResources}[c]
}

var scopeFields = fields{
	known: []string{"@odata.type", "type", "query", "queryType", "queryRoot", "inactiveDuration", "principalScopes", "resourceScopes"},
	hints: map[string]string{
		"scopeType":  "is a beta-only property; arsync writes Graph v1.0 scopes (query, inactiveUsers, principalResourceMemberships)",
		"resourceId": "is a beta-only property; arsync writes Graph v1.0 scopes (query, inactiveUsers, principalResourceMemberships)",
	},
}

func (d *decoder) decodeScope(n, at *yaml.Node, path string, ctx scopeContext) *Scope {
	ps, ok := d.mapping(n, path, scopeFields)
	if !ok {
		return nil
	}
	sc := &Scope{Pos: d.pos(n)}
	short, typeNode, found := d.readType(ps, path, scopeTypes)
	switch {
	case found:
		sc.Type = ScopeType(short)
	case ps.get("principalScopes") != nil || ps.get("resourceScopes") != nil:
		d.errf(at, "%s needs type: principalResourceMemberships (or @odata.type: %s)", path, odataType(scopeTypes, string(ScopePrincipalResourceMemberships)))
		sc.Type = ScopePrincipalResourceMemberships
	case ps.get("inactiveDuration") != nil:
		d.errf(at, "%s needs type: inactiveUsers (or @odata.type: %s) to use inactiveDuration", path, odataType(scopeTypes, string(ScopeInactiveUsers)))
		sc.Type = ScopeInactiveUsers
	default:
		sc.Type = ScopeQuery
	}
	if typeNode == nil {
		typeNode = at
	}
	switch {
	case ctx == scopeEnumeration && sc.Type != ScopeQuery && sc.Type != "":
		d.errf(typeNode, "%s must be a query scope, got %s", path, sc.Type)
	case ctx.nested() && sc.Type == ScopePrincipalResourceMemberships:
		d.errf(typeNode, "%s cannot be another principalResourceMemberships scope; use query or inactiveUsers", path)
	}

	var queryNode *yaml.Node
	for _, p := range ps.list {
		switch p.key {
		case "query":
			sc.Query, sc.QueryPos = d.query(p.v, join(path, "query"), &sc.refs)
			queryNode = p.v
		case "queryType":
			sc.QueryType, _ = d.enum(p.v, join(path, "queryType"), queryTypes)
		case "queryRoot":
			sc.QueryRoot, _ = d.enum(p.v, join(path, "queryRoot"), queryRoots)
		case "inactiveDuration":
			sc.InactiveDuration, _, _ = d.duration(p.v, join(path, "inactiveDuration"))
		case "principalScopes", "resourceScopes":
			if ctx != scopeTop {
				// Only a top-level scope may nest scopes; not descending
				// here also ends YAML alias cycles (&s [*s]).
				if sc.Type != ScopePrincipalResourceMemberships {
					d.errf(p.k, "%s.%s is only used by a principalResourceMemberships scope in spec.scope", path, p.key)
				}
				continue
			}
			list := d.decodeScopeList(p, join(path, p.key), map[string]scopeContext{"principalScopes": scopePrincipal, "resourceScopes": scopeResource}[p.key])
			if p.key == "principalScopes" {
				sc.PrincipalScopes = list
			} else {
				sc.ResourceScopes = list
			}
		}
	}

	switch sc.Type {
	case ScopeQuery, ScopeInactiveUsers:
		d.checkQueryForm(queryNode, sc.Query, sc.QueryType, join(path, "query"), ctx.queryPlace())
		if ps.get("query") == nil && !ps.misspelt("query") {
			d.errf(at, "%s.query is required", path)
		}
		for _, k := range []string{"principalScopes", "resourceScopes"} {
			if p := ps.get(k); p != nil && ctx == scopeTop {
				d.errf(p.k, "%s.%s is only used by type principalResourceMemberships", path, k)
			}
		}
		if sc.Type == ScopeInactiveUsers && ps.get("inactiveDuration") == nil && !ps.misspelt("inactiveDuration") {
			d.errf(at, "%s.inactiveDuration is required for an inactiveUsers scope (e.g. P30D)", path)
		}
		if p := ps.get("inactiveDuration"); p != nil && sc.Type == ScopeQuery && found {
			d.errf(p.k, "%s.inactiveDuration is only used by type inactiveUsers", path)
		}
	case ScopePrincipalResourceMemberships:
		for _, k := range []string{"query", "queryType", "queryRoot", "inactiveDuration"} {
			if p := ps.get(k); p != nil {
				d.errf(p.k, "%s.%s is not used by a principalResourceMemberships scope; put queries in principalScopes and resourceScopes", path, k)
			}
		}
		for _, k := range []string{"principalScopes", "resourceScopes"} {
			if p := ps.get(k); p == nil && !ps.misspelt(k) {
				d.errf(at, "%s.%s is required for a principalResourceMemberships scope", path, k)
			}
		}
	}
	return sc
}

func (d *decoder) decodeScopeList(p pair, path string, ctx scopeContext) []Scope {
	items, ok := d.list(p.v, path)
	if !ok || len(items) == 0 {
		if ok || isNull(p.v) {
			d.errf(p.k, "%s must list at least one scope", path)
		}
		return nil
	}
	out := make([]Scope, 0, len(items))
	for i, it := range items {
		if isNull(it) {
			d.errf(it, "%s is empty", index(path, i))
			continue
		}
		if sc := d.decodeScope(it, it, index(path, i), ctx); sc != nil {
			out = append(out, *sc)
		}
	}
	return out
}

// checkQueryForm reports a Microsoft Graph query (queryType absent or
// MicrosoftGraph) that is not one of place's forms, at the query. A query
// already reported as malformed (empty, not starting with / or ./) is left
// alone.
func (d *decoder) checkQueryForm(n *yaml.Node, q, queryType, path string, place graph.QueryPlace) {
	if n == nil || queryType != "" && queryType != "MicrosoftGraph" {
		return
	}
	q = strings.TrimSpace(q)
	if q == "" || !strings.HasPrefix(q, "/") && !strings.HasPrefix(q, "./") {
		return
	}
	if _, err := parseQueryRefs(q); err != nil {
		return
	}
	if why := graph.CheckQueryForm(refsAsIDs(q), place); why != "" {
		d.errf(n, "%s %s %s", path, quote(q), why)
	}
}

// query reads a Graph query string, checks its form and its ${kind:name}
// references, and records the references in refs.
func (d *decoder) query(n *yaml.Node, path string, refs *[]Reference) (string, Pos) {
	q, ok := d.str(n, path)
	if !ok {
		if isNull(n) {
			d.errf(n, "%s must not be empty", path)
		}
		return "", d.pos(n)
	}
	base, exact := d.valuePos(n)
	if strings.TrimSpace(q) == "" {
		d.errf(n, "%s must not be empty", path)
		return q, base
	}
	if !strings.HasPrefix(q, "/") && !strings.HasPrefix(q, "./") {
		d.errf(n, "%s %s must start with / (absolute, e.g. /groups/ID/transitiveMembers) or ./ (relative, e.g. ./owners)", path, quote(q))
	}
	found, err := parseQueryRefs(q)
	for _, r := range found {
		*refs = append(*refs, Reference{Kind: r.kind, Name: r.name, Pos: offsetPos(base, exact, q, r.start)})
	}
	if se, ok := err.(*refSyntaxError); ok {
		d.addAt(offsetPos(base, exact, q, se.offset), Error, "%s: %s", path, se.msg)
	}
	return q, base
}

// --- reviewers and notification recipients -----------------------------------

var reviewerFields = fields{
	known: []string{"query", "queryType", "queryRoot", "user", "groupMembers", "groupOwners", "owners", "managers"},
	hints: map[string]string{
		"@odata.type": "is not needed on reviewers; remove it",
		"group":       "is ambiguous for a reviewer; write groupMembers or groupOwners",
		"manager":     "is not a field; write managers: true",
		"owner":       "is not a field; write owners: true (or groupOwners: NAME for one group's owners)",
		"scopeType":   "is a beta-only property; use query or the user/groupMembers/groupOwners/owners/managers forms",
		"reviewerId":  "is a beta-only property; use query or the user/groupMembers/groupOwners/owners/managers forms",
	},
}

var reviewerForms = []string{"query", "user", "groupMembers", "groupOwners", "owners", "managers"}

func (d *decoder) decodeReviewers(n *yaml.Node, path string) []Reviewer {
	items, ok := d.list(n, path)
	if !ok {
		return nil
	}
	out := make([]Reviewer, 0, len(items))
	for i, it := range items {
		ip := index(path, i)
		ps, ok := d.mapping(it, ip, reviewerFields)
		if !ok {
			if isNull(it) {
				d.errf(it, "%s is empty; write one of %s", ip, strings.Join(reviewerForms, ", "))
			}
			continue
		}
		if r, ok := d.decodeReviewer(ps, it, ip, false); ok {
			out = append(out, r)
		}
	}
	return out
}

// decodeReviewer reads one reviewer entry from its pairs, or (recipient
// true) the scope of a notification recipient, which has no relative forms.
// Keys other than the forms, queryType and queryRoot are the caller's.
func (d *decoder) decodeReviewer(ps *pairs, n *yaml.Node, path string, recipient bool) (Reviewer, bool) {
	forms := reviewerForms
	if recipient {
		forms = recipientForms
	}
	r := Reviewer{Pos: d.pos(n)}
	var set []pair
	for _, p := range ps.list {
		if contains(forms, p.key) {
			set = append(set, p)
		}
	}
	if len(set) == 0 {
		if ps.unknown == 0 {
			d.errf(n, "%s needs one of %s", path, strings.Join(forms, ", "))
		}
		return r, false
	}
	if len(set) > 1 {
		d.errf(set[1].k, "%s has both %s and %s; write exactly one of %s", path, set[0].key, set[1].key, strings.Join(forms, ", "))
		return r, false
	}
	form := set[0]
	r.ValuePos = d.pos(form.v)
	if form.key != "query" {
		for _, k := range []string{"queryType", "queryRoot"} {
			if p := ps.get(k); p != nil {
				d.errf(p.k, "%s.%s is only used with query, not with %s", path, k, form.key)
			}
		}
	}
	fp := join(path, form.key)
	switch form.key {
	case "query":
		r.Query, r.ValuePos = d.query(form.v, fp, &r.refs)
		if p := ps.get("queryType"); p != nil {
			types := queryTypes
			if recipient {
				types = recipientQueryTypes
			}
			r.QueryType, _ = d.enum(p.v, join(path, "queryType"), types)
		}
		if p := ps.get("queryRoot"); p != nil {
			r.QueryRoot, _ = d.enum(p.v, join(path, "queryRoot"), queryRoots)
		}
		place := graph.QueryInReviewers
		if recipient {
			place = graph.QueryInRecipients
		}
		d.checkQueryForm(form.v, r.Query, r.QueryType, fp, place)
		if q, _, _ := strings.Cut(r.Query, "?"); strings.TrimSuffix(q, "/") == "./manager" && r.QueryRoot != "decisions" {
			d.errf(form.v, "%s ./manager needs queryRoot: decisions (or write managers: true)", fp)
		}
	case "user", "groupMembers", "groupOwners":
		v, ok := d.str(form.v, fp)
		v = strings.TrimSpace(v)
		if !ok || v == "" {
			d.errf(form.v, "%s must name a %s", fp, map[string]string{"user": "user (UPN, mail or id)", "groupMembers": "group (display name or id)", "groupOwners": "group (display name or id)"}[form.key])
			return r, false
		}
		kind := RefGroup
		switch form.key {
		case "user":
			r.User, kind = v, RefUser
		case "groupMembers":
			r.GroupMembers = v
		case "groupOwners":
			r.GroupOwners = v
		}
		r.refs = append(r.refs, Reference{Kind: kind, Name: v, Pos: r.ValuePos})
	case "owners", "managers":
		b := d.boolean(form.v, fp)
		if b == nil || !*b {
			if b != nil {
				d.errf(form.v, "%s must be true; leave the entry out otherwise", fp)
			}
			return r, false
		}
		if form.key == "owners" {
			r.Owners = true
		} else {
			r.Managers = true
		}
	}
	return r, true
}

var (
	recipientFields = fields{
		known: []string{"notificationTemplateType", "notificationRecipientScope", "query", "queryType", "queryRoot", "user", "groupMembers", "groupOwners"},
		hints: map[string]string{
			"owners":   "is only valid for reviewers; name the group with groupOwners: NAME",
			"managers": "is only valid for reviewers",
		},
	}
	recipientScopeFields = fields{
		known: []string{"@odata.type", "type", "query", "queryType", "queryRoot", "user", "groupMembers", "groupOwners"},
		hints: map[string]string{
			"owners":   "is only valid for reviewers; name the group with groupOwners: NAME",
			"managers": "is only valid for reviewers",
		},
	}
	recipientForms = []string{"query", "user", "groupMembers", "groupOwners"}
)

func (d *decoder) decodeRecipients(n *yaml.Node, path string) []NotificationRecipient {
	items, ok := d.list(n, path)
	if !ok {
		return nil
	}
	out := make([]NotificationRecipient, 0, len(items))
	for i, it := range items {
		ip := index(path, i)
		ps, ok := d.mapping(it, ip, recipientFields)
		if !ok {
			if isNull(it) {
				d.errf(it, "%s is empty", ip)
			}
			continue
		}
		rc := NotificationRecipient{Pos: d.pos(it)}
		if p := ps.get("notificationTemplateType"); p != nil {
			rc.NotificationTemplateType, _ = d.enum(p.v, join(ip, "notificationTemplateType"), templateTypes)
		}
		var shorthand *pair
		for _, k := range recipientForms {
			if p := ps.get(k); p != nil {
				shorthand = p
				break
			}
		}
		sp := ps.get("notificationRecipientScope")
		switch {
		case sp != nil && shorthand != nil:
			d.errf(shorthand.k, "%s has both notificationRecipientScope and %s; write the recipient in one place", ip, shorthand.key)
			continue
		case sp != nil:
			scopePath := join(ip, "notificationRecipientScope")
			sps, ok := d.mapping(sp.v, scopePath, recipientScopeFields)
			if !ok {
				if isNull(sp.v) {
					d.errf(sp.k, "%s is empty", scopePath)
				}
				continue
			}
			d.readType(sps, scopePath, recipientScopeTypes)
			r, ok := d.decodeReviewer(sps, sp.v, scopePath, true)
			if !ok {
				continue
			}
			rc.Recipient = r
		default:
			r, ok := d.decodeReviewer(ps, it, ip, true)
			if !ok {
				continue
			}
			rc.Recipient = r
		}
		out = append(out, rc)
	}
	return out
}
