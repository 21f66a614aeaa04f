package graphclient

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/arsync/arsync/pkg/graph"
)

// User is a directory user, with the properties arsync uses.
type User struct {
	ID                string `json:"id,omitempty"`
	DisplayName       string `json:"displayName,omitempty"`
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	Mail              string `json:"mail,omitempty"`
	UserType          string `json:"userType,omitempty"` // Member or Guest
	AccountEnabled    *bool  `json:"accountEnabled,omitempty"`
}

// Group is a directory group.
type Group struct {
	ID              string   `json:"id,omitempty"`
	DisplayName     string   `json:"displayName,omitempty"`
	Mail            string   `json:"mail,omitempty"`
	GroupTypes      []string `json:"groupTypes,omitempty"` // "Unified" for Microsoft 365 groups
	SecurityEnabled *bool    `json:"securityEnabled,omitempty"`
	MailEnabled     *bool    `json:"mailEnabled,omitempty"`
}

// ServicePrincipal is an application's identity in the tenant.
type ServicePrincipal struct {
	ID                   string `json:"id,omitempty"`
	AppID                string `json:"appId,omitempty"`
	DisplayName          string `json:"displayName,omitempty"`
	ServicePrincipalType string `json:"servicePrincipalType,omitempty"`
}

// RoleDefinition is a Microsoft Entra role (unifiedRoleDefinition).
type RoleDefinition struct {
	ID          string `json:"id,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	TemplateID  string `json:"templateId,omitempty"`
	IsBuiltIn   *bool  `json:"isBuiltIn,omitempty"`
}

// DirectoryObject is any directory object, as directoryObjects/getByIds
// returns them; ODataType says which kind.
type DirectoryObject struct {
	ODataType         string `json:"@odata.type,omitempty"`
	ID                string `json:"id,omitempty"`
	DisplayName       string `json:"displayName,omitempty"`
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	Mail              string `json:"mail,omitempty"`
	UserType          string `json:"userType,omitempty"`
	AppID             string `json:"appId,omitempty"`
}

// Kind is the object's type without namespace: "user", "group",
// "servicePrincipal", ...
func (o DirectoryObject) Kind() string { return strings.TrimPrefix(o.ODataType, "#microsoft.graph.") }

// filterChunk is how many values one "in (...)" filter holds: Graph's
// directory limit is 15.
const filterChunk = 15

// getByIdsChunk is the most ids directoryObjects/getByIds takes at once.
const getByIdsChunk = 1000

var (
	userSelect  = "id,displayName,userPrincipalName,mail,userType,accountEnabled"
	groupSelect = "id,displayName,mail,groupTypes,securityEnabled,mailEnabled"
	spSelect    = "id,appId,displayName,servicePrincipalType"
	roleSelect  = "id,displayName,templateId,isBuiltIn"
)

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsGUID reports whether s looks like an object id.
func IsGUID(s string) bool { return guidRE.MatchString(s) }

// inFilters returns one collection path per chunk of values:
// collection?$filter=prop in ('a','b',...)&$select=...&$top=999.
// Values are de-duplicated case-insensitively, as Graph compares them.
func inFilters(collection, prop, sel string, values []string) []string {
	seen := map[string]bool{}
	var uniq []string
	for _, v := range values {
		k := strings.ToLower(v)
		if v == "" || seen[k] {
			continue
		}
		seen[k] = true
		uniq = append(uniq, v)
	}
	var paths []string
	for chunk := range slices.Chunk(uniq, filterChunk) {
		quoted := make([]string, len(chunk))
		for i, v := range chunk {
			quoted[i] = graph.ODataQuote(v)
		}
		f := prop + " in (" + strings.Join(quoted, ",") + ")"
		paths = append(paths, collection+"?$filter="+escapeQuery(f)+"&$select="+sel+"&$top=999")
	}
	return paths
}

// splitKeys separates id-shaped keys from the others.
func splitKeys(keys []string) (ids, names []string) {
	for _, k := range keys {
		if k == "" {
			continue
		}
		if IsGUID(k) {
			ids = append(ids, k)
		} else {
			names = append(names, k)
		}
	}
	return ids, names
}

// matchAll maps every key to the objects match accepts for it, each object
// once, sorted by id. Every key is in the map, with no matches if none.
func matchAll[T any](keys []string, objs []*T, id func(*T) string, match func(key string, o *T) bool) map[string][]T {
	out := make(map[string][]T, len(keys))
	for _, k := range keys {
		var ms []T
		seen := map[string]bool{}
		for _, o := range objs {
			if seen[id(o)] || !match(k, o) {
				continue
			}
			seen[id(o)] = true
			ms = append(ms, *o)
		}
		slices.SortFunc(ms, func(a, b T) int { return cmp.Compare(id(&a), id(&b)) })
		out[k] = ms
	}
	return out
}

func eqFold(a, b string) bool { return a != "" && strings.EqualFold(a, b) }

// LookupUsers finds users by UPN, mail or id. Every key is in the result,
// mapped to its matches: none, one, or (a mail shared by several users)
// more. Keys are resolved in batches: about one round trip per 150 keys.
//
// Graph API docs: https://learn.microsoft.com/graph/api/user-list?view=graph-rest-1.0
func (c *Client) LookupUsers(ctx context.Context, keys []string) (map[string][]User, error) {
	ids, names := splitKeys(keys)
	var mails []string
	for _, n := range names {
		if strings.Contains(n, "@") { // UPNs and mail addresses always have one
			mails = append(mails, n)
		}
	}
	paths := inFilters("users", "id", userSelect, ids)
	paths = append(paths, inFilters("users", "userPrincipalName", userSelect, mails)...)
	paths = append(paths, inFilters("users", "mail", userSelect, mails)...)
	found, err := batchCollect[User](ctx, c, paths)
	if err != nil {
		return nil, wrapLookup("users", err)
	}
	return matchAll(keys, found, func(u *User) string { return u.ID }, func(k string, u *User) bool {
		return eqFold(u.ID, k) || eqFold(u.UserPrincipalName, k) || eqFold(u.Mail, k)
	}), nil
}

// LookupGroups finds groups by displayName, or by id for id-shaped keys.
// Display names are not unique: a key may match several groups.
//
// Graph API docs: https://learn.microsoft.com/graph/api/group-list?view=graph-rest-1.0
func (c *Client) LookupGroups(ctx context.Context, keys []string) (map[string][]Group, error) {
	ids, names := splitKeys(keys)
	paths := inFilters("groups", "id", groupSelect, ids)
	paths = append(paths, inFilters("groups", "displayName", groupSelect, names)...)
	found, err := batchCollect[Group](ctx, c, paths)
	if err != nil {
		return nil, wrapLookup("groups", err)
	}
	return matchAll(keys, found, func(g *Group) string { return g.ID }, func(k string, g *Group) bool {
		if IsGUID(k) {
			return eqFold(g.ID, k)
		}
		return eqFold(g.DisplayName, k)
	}), nil
}

// LookupServicePrincipals finds service principals by displayName, or, for
// id-shaped keys, by appId or object id.
//
// Graph API docs: https://learn.microsoft.com/graph/api/serviceprincipal-list?view=graph-rest-1.0
func (c *Client) LookupServicePrincipals(ctx context.Context, keys []string) (map[string][]ServicePrincipal, error) {
	ids, names := splitKeys(keys)
	paths := inFilters("servicePrincipals", "id", spSelect, ids)
	paths = append(paths, inFilters("servicePrincipals", "appId", spSelect, ids)...)
	paths = append(paths, inFilters("servicePrincipals", "displayName", spSelect, names)...)
	found, err := batchCollect[ServicePrincipal](ctx, c, paths)
	if err != nil {
		return nil, wrapLookup("service principals", err)
	}
	return matchAll(keys, found, func(s *ServicePrincipal) string { return s.ID }, func(k string, s *ServicePrincipal) bool {
		if IsGUID(k) {
			return eqFold(s.ID, k) || eqFold(s.AppID, k)
		}
		return eqFold(s.DisplayName, k)
	}), nil
}

// LookupRoleDefinitions finds Entra roles by displayName, or, for id-shaped
// keys, by id or templateId. A tenant has a few hundred roles at most, so
// this lists them all (one or two round trips) instead of filtering.
//
// Graph API docs: https://learn.microsoft.com/graph/api/rbacapplication-list-roledefinitions?view=graph-rest-1.0
func (c *Client) LookupRoleDefinitions(ctx context.Context, keys []string) (map[string][]RoleDefinition, error) {
	ids, names := splitKeys(keys)
	var found []*RoleDefinition
	if len(ids)+len(names) > 0 {
		var err error
		found, err = collect(listPages[RoleDefinition](ctx, c, c.base.String()+"roleManagement/directory/roleDefinitions?$select="+roleSelect))
		if err != nil {
			return nil, wrapLookup("role definitions", err)
		}
	}
	return matchAll(keys, found, func(r *RoleDefinition) string { return r.ID }, func(k string, r *RoleDefinition) bool {
		if IsGUID(k) {
			return eqFold(r.ID, k) || eqFold(r.TemplateID, k)
		}
		return eqFold(r.DisplayName, k)
	}), nil
}

// GetDirectoryObjects returns the directory objects with the given ids, of
// any type, keyed by id; ids that do not exist are absent from the map. Up
// to 1000 ids cost one round trip.
//
// Graph API docs: https://learn.microsoft.com/graph/api/directoryobject-getbyids?view=graph-rest-1.0
func (c *Client) GetDirectoryObjects(ctx context.Context, ids []string) (map[string]DirectoryObject, error) {
	seen := map[string]bool{}
	var uniq []string
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	out := make(map[string]DirectoryObject, len(uniq))
	for chunk := range slices.Chunk(uniq, getByIdsChunk) {
		body, err := graph.MarshalNoEscape(map[string][]string{"ids": chunk})
		if err != nil {
			return nil, err
		}
		var p page[DirectoryObject]
		// getByIds is a read: safe to repeat.
		cl := call{method: http.MethodPost, url: c.base.String() + "directoryObjects/getByIds", body: body, idempotent: true}
		if _, err := c.doJSON(ctx, cl, &p); err != nil {
			return nil, wrapLookup("directory objects", err)
		}
		// Graph may echo ids in its own letter case: match case-insensitively.
		asked := map[string][]string{}
		for _, id := range chunk {
			asked[strings.ToLower(id)] = append(asked[strings.ToLower(id)], id)
		}
		for _, o := range p.Value {
			if o == nil {
				continue
			}
			for _, id := range asked[strings.ToLower(o.ID)] {
				out[id] = *o
			}
		}
	}
	return out, nil
}

func wrapLookup(what string, err error) error {
	return fmt.Errorf("looking up %s: %w", what, err)
}
