package graphclient

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/arsync/arsync/pkg/coverage"
	"github.com/arsync/arsync/pkg/graph"
)

// The client reads what coverage judges.
var _ coverage.Directory = (*Client)(nil)

// eventual is the header directory $count needs (docs/graph-behaviour.md#paging).
var eventual = map[string]string{"ConsistencyLevel": "eventual"}

// coverageGroup is a group as the coverage listing selects it.
type coverageGroup struct {
	ID                          string   `json:"id"`
	DisplayName                 string   `json:"displayName"`
	MailNickname                string   `json:"mailNickname"`
	GroupTypes                  []string `json:"groupTypes"`
	ResourceProvisioningOptions []string `json:"resourceProvisioningOptions"`
	SecurityEnabled             *bool    `json:"securityEnabled"`
	MailEnabled                 *bool    `json:"mailEnabled"`
}

// GroupsWithGuests lists every group (999 a page), then counts each one's
// guest members with $count inside $batch, 20 groups a round trip:
// ceil(groups/999) + ceil(groups/20) round trips in all.
//
// Graph API docs: https://learn.microsoft.com/graph/api/group-list-members?view=graph-rest-1.0
func (c *Client) GroupsWithGuests(ctx context.Context) ([]coverage.Group, error) {
	groups, err := collect(listPages[coverageGroup](ctx, c, c.base.String()+
		"groups?$select=id,displayName,mailNickname,groupTypes,resourceProvisioningOptions,securityEnabled,mailEnabled&$top=999"))
	if err != nil {
		return nil, fmt.Errorf("listing groups: %w", err)
	}
	paths := make([]string, len(groups))
	for i, g := range groups {
		paths[i] = "groups/" + url.PathEscape(g.ID) + "/members/microsoft.graph.user/$count?$filter=" + escapeQuery("userType eq 'Guest'")
	}
	bodies, err := c.batchGetHeaders(ctx, paths, eventual)
	if err != nil {
		return nil, fmt.Errorf("counting the guests of each group: %w", err)
	}
	var out []coverage.Group
	for i, g := range groups {
		n, err := countBody(bodies[i])
		if err != nil {
			return nil, fmt.Errorf("counting the guests of group %s: %w", g.ID, err)
		}
		if n == 0 {
			continue
		}
		out = append(out, coverage.Group{
			ID: g.ID, DisplayName: g.DisplayName, MailNickname: g.MailNickname,
			GroupTypes: g.GroupTypes, ResourceProvisioningOptions: g.ResourceProvisioningOptions,
			SecurityEnabled: deref(g.SecurityEnabled), MailEnabled: deref(g.MailEnabled), Guests: n,
		})
	}
	return out, nil
}

func deref(b *bool) bool { return b != nil && *b }

// countBody reads a $count answer from a $batch: a number, or its text,
// which Graph may base64-encode since it is not JSON
// (docs/graph-behaviour.md#batching).
func countBody(b json.RawMessage) (int, error) {
	b = bytes.TrimSpace(b)
	var n int
	if json.Unmarshal(b, &n) == nil {
		return n, nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return 0, fmt.Errorf("the count is not a number: %.40q", b)
	}
	if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
		return n, nil
	}
	if dec, err := base64.StdEncoding.DecodeString(s); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(dec))); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("the count is not a number: %.40q", s)
}

// roleAssignment is an active or eligible assignment, as far as coverage reads it.
type roleAssignment struct {
	RoleDefinitionID string `json:"roleDefinitionId"`
}

// RolesWithAssignments counts the active assignments (roleAssignments) and
// the eligible ones (roleEligibilityScheduleInstances) of each directory
// role and names the roles from roleDefinitions: three listings, 999 a page.
//
// Graph API docs: https://learn.microsoft.com/graph/api/rbacapplication-list-roleeligibilityscheduleinstances?view=graph-rest-1.0
func (c *Client) RolesWithAssignments(ctx context.Context) ([]coverage.Role, error) {
	base := c.base.String() + "roleManagement/directory/"
	active, err := collect(listPages[roleAssignment](ctx, c, base+"roleAssignments?$select=id,roleDefinitionId&$top=999"))
	if err != nil {
		return nil, fmt.Errorf("listing active role assignments: %w", err)
	}
	eligible, err := collect(listPages[roleAssignment](ctx, c, base+"roleEligibilityScheduleInstances?$select=id,roleDefinitionId&$top=999"))
	var partial error
	switch {
	case graph.IsForbidden(err):
		// Directory.Read.All does not read Privileged Identity
		// Management's schedules (docs/graph-behaviour.md#permissions):
		// judge the roles on their active assignments, and say so.
		partial = &coverage.PartialError{Warning: "eligible role assignments were not read (403: reading them needs RoleEligibilitySchedule.Read.Directory or RoleManagement.Read.Directory); roles are judged on their active assignments only"}
		eligible = nil
	case err != nil:
		return nil, fmt.Errorf("listing eligible role assignments: %w", err)
	}
	byID := map[string]*coverage.Role{}
	role := func(id string) *coverage.Role {
		k := strings.ToLower(id)
		if byID[k] == nil {
			byID[k] = &coverage.Role{ID: k, DisplayName: id}
		}
		return byID[k]
	}
	for _, a := range active {
		if a.RoleDefinitionID != "" {
			role(a.RoleDefinitionID).Active++
		}
	}
	for _, a := range eligible {
		if a.RoleDefinitionID != "" {
			role(a.RoleDefinitionID).Eligible++
		}
	}
	if len(byID) == 0 {
		return nil, partial
	}
	defs, err := collect(listPages[RoleDefinition](ctx, c, base+"roleDefinitions?$select="+roleSelect))
	if err != nil {
		return nil, fmt.Errorf("listing role definitions: %w", err)
	}
	for _, d := range defs {
		// Assignments of built-in roles name the role by id, which is also
		// its templateId.
		for _, k := range []string{d.ID, d.TemplateID} {
			if r := byID[strings.ToLower(k)]; r != nil && d.DisplayName != "" {
				r.DisplayName = d.DisplayName
			}
		}
	}
	out := make([]coverage.Role, 0, len(byID))
	for _, r := range byID {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b coverage.Role) int { return cmp.Compare(a.ID, b.ID) })
	return out, partial
}

// countedPage is a collection page with its @odata.count.
type countedPage struct {
	Count *int              `json:"@odata.count"`
	Value []json.RawMessage `json:"value"`
}

// ApplicationsWithAssignments lists the service principals (999 a page)
// and counts each one's appRoleAssignedTo with $count=true&$top=1 inside
// $batch, 20 a round trip.
//
// Graph API docs: https://learn.microsoft.com/graph/api/serviceprincipal-list-approleassignedto?view=graph-rest-1.0
func (c *Client) ApplicationsWithAssignments(ctx context.Context) ([]coverage.Application, error) {
	sps, err := collect(listPages[ServicePrincipal](ctx, c, c.base.String()+"servicePrincipals?$select=id,appId,displayName&$top=999"))
	if err != nil {
		return nil, fmt.Errorf("listing service principals: %w", err)
	}
	paths := make([]string, len(sps))
	for i, sp := range sps {
		paths[i] = "servicePrincipals/" + url.PathEscape(sp.ID) + "/appRoleAssignedTo?$count=true&$select=id&$top=1"
	}
	bodies, err := c.batchGetHeaders(ctx, paths, eventual)
	if err != nil {
		return nil, fmt.Errorf("counting the assignments of each service principal: %w", err)
	}
	var out []coverage.Application
	for i, sp := range sps {
		var p countedPage
		if err := json.Unmarshal(bodies[i], &p); err != nil {
			return nil, fmt.Errorf("decoding the assignments of service principal %s: %w", sp.ID, err)
		}
		n := len(p.Value)
		if p.Count != nil {
			n = *p.Count
		}
		if n == 0 {
			continue
		}
		out = append(out, coverage.Application{ID: sp.ID, AppID: sp.AppID, DisplayName: sp.DisplayName, Assignments: n})
	}
	return out, nil
}
