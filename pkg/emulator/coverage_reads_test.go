package emulator

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Ids from examples/tenant.yaml used by the coverage reads.
const (
	idVendorAccess       = "4b0d7e8a-61c3-4f2e-9a57-2d8e1f6c0b39"
	idPartnerPortal      = "8e2f4c61-0a9b-4d37-b5e8-71c3d92a6f04"
	idPrivRoleAdmin      = "e8611ab8-c189-46e8-94e1-60213ab1f814"
	idUserAdmin          = "fe930be7-5e62-47db-91af-98c3a49a38b1"
	idIvan               = "c51c5986-f275-407c-9bb6-b84cdd8c0e01"
	idJudy               = "e975c1cf-d223-4fbf-a2ba-b16d4471a5fa"
	idEligIvanPRA        = "0c7e5a3b-92d4-4f18-8b6a-e41f2d9c5a70"
	codeUnsupportedQuery = codeDirUnsupported
)

// coverageTime is a day when both of the demo tenant's eligible
// assignments are in effect.
var coverageTime = time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)

// TestAdvancedQueries checks Graph's advanced-query rules on the reads
// arsync coverage makes (docs/graph-behaviour.md#advanced-queries).
func TestAdvancedQueries(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{Clock: func() time.Time { return coverageTime }})
	eventual := []string{"ConsistencyLevel", "eventual"}
	guestCount := "groups/%s/members/microsoft.graph.user/$count?$filter=userType eq 'Guest'"
	tests := []struct {
		name   string
		path   string
		hdr    []string
		status int
		code   string
		msg    string
		check  func(t *testing.T, r result)
	}{
		{name: "groups with coverage's $select and $top=999",
			path:   "groups?$select=id,displayName,mailNickname,groupTypes,resourceProvisioningOptions,securityEnabled,mailEnabled&$top=999",
			status: 200, check: func(t *testing.T, r result) {
				v := r.values(t)
				require.Len(t, v, 10)
				require.ElementsMatch(t, []string{"id", "displayName", "mailNickname", "groupTypes", "resourceProvisioningOptions", "securityEnabled", "mailEnabled"},
					keysOf(v[0].(map[string]any)), "exactly the selected properties")
				require.NotContains(t, r.json(t), "@odata.nextLink")
			}},
		{name: "groups $top=1000", path: "groups?$top=1000", status: 400, code: "Request_BadRequest"},
		{name: "security groups with eq (default query)", path: "groups?$filter=securityEnabled eq true and mailEnabled eq false&$select=displayName", status: 200, check: func(t *testing.T, r result) {
			require.Len(t, r.values(t), 6)
		}},
		{name: "teams (default query)", path: "groups?$filter=resourceProvisioningOptions/any(x:x eq 'Team')&$select=displayName", status: 200, check: func(t *testing.T, r result) {
			require.Len(t, r.values(t), 2)
		}},
		{name: "not needs advanced parameters", path: "groups?$filter=not groupTypes/any(c:c eq 'Unified')", status: 400, code: codeUnsupportedQuery,
			msg: "Operator 'not' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header."},
		{name: "not with the header only", path: "groups?$filter=not groupTypes/any(c:c eq 'Unified')", hdr: eventual, status: 400, code: codeUnsupportedQuery},
		{name: "not with $count=true only", path: "groups?$filter=not groupTypes/any(c:c eq 'Unified')&$count=true", status: 400, code: codeUnsupportedQuery},
		{name: "not as an advanced query", path: "groups?$filter=not groupTypes/any(c:c eq 'Unified')&$count=true&$select=displayName", hdr: eventual, status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, 6.0, r.json(t)["@odata.count"])
		}},
		{name: "ne needs advanced parameters", path: "users?$filter=userType ne 'Member'", status: 400, code: codeUnsupportedQuery, msg: "Operator 'ne'"},
		{name: "endsWith needs advanced parameters", path: "users?$filter=endsWith(mail,'@fabrikam.com')", status: 400, code: codeUnsupportedQuery, msg: "Operator 'endsWith'"},
		{name: "endsWith as an advanced query", path: "users?$filter=endsWith(mail,'@fabrikam.com')&$count=true", hdr: eventual, status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, 2.0, r.json(t)["@odata.count"])
		}},
		{name: "$filter with $orderby needs advanced parameters", path: "groups?$filter=securityEnabled eq true&$orderby=displayName", status: 400, code: codeUnsupportedQuery},
		{name: "$count=true without the header is ignored", path: "groups?$count=true&$top=1", status: 200, check: func(t *testing.T, r result) {
			require.NotContains(t, r.json(t), "@odata.count")
		}},
		{name: "$count=true with the header", path: "groups?$count=true&$top=1", hdr: eventual, status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, 10.0, r.json(t)["@odata.count"])
		}},
		{name: "guest count of a group", path: fmt.Sprintf(guestCount, idVendorAccess), hdr: eventual, status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, "3", string(r.body))
			require.Contains(t, r.header.Get("Content-Type"), "text/plain")
		}},
		{name: "guest count without the header", path: fmt.Sprintf(guestCount, idVendorAccess), status: 400, code: "Request_BadRequest", msg: "$count is not currently supported."},
		{name: "guest members with $count=true", path: "groups/" + idMarketing + "/members/microsoft.graph.user?$filter=userType eq 'Guest'&$count=true&$select=id", hdr: eventual, status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, 2.0, r.json(t)["@odata.count"])
		}},
		{name: "$count segment allows advanced operators", path: "groups/" + idVendorAccess + "/members/microsoft.graph.user/$count?$filter=userType ne 'Member'", hdr: eventual, status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, "3", string(r.body))
		}},
		{name: "service principals $select and $filter", path: "servicePrincipals?$filter=displayName eq 'Partner Portal'&$select=id,appId,displayName", status: 200, check: func(t *testing.T, r result) {
			v := r.values(t)
			require.Len(t, v, 1)
			require.Equal(t, idPartnerPortal, v[0].(map[string]any)["id"])
		}},
		{name: "service principals $count=true", path: "servicePrincipals?$count=true&$select=id", hdr: eventual, status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, 3.0, r.json(t)["@odata.count"])
		}},
		{name: "appRoleAssignedTo $count", path: "servicePrincipals/" + idPartnerPortal + "/appRoleAssignedTo/$count", hdr: eventual, status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, "3", string(r.body))
		}},
		{name: "appRoleAssignedTo $count without the header", path: "servicePrincipals/" + idPartnerPortal + "/appRoleAssignedTo/$count", status: 400, code: "Request_BadRequest"},
		{name: "appRoleAssignedTo $count=true", path: "servicePrincipals/" + idPartnerPortal + "/appRoleAssignedTo?$count=true&$select=principalType", hdr: eventual, status: 200, check: func(t *testing.T, r result) {
			require.Equal(t, 3.0, r.json(t)["@odata.count"])
		}},
		{name: "$expand is not for directory objects here", path: "groups?$expand=members", status: 400, code: "Request_BadRequest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(http.MethodGet, tt.path, nil, tt.hdr...)
			require.Equal(t, tt.status, r.status, "body: %s", r.body)
			if tt.code != "" {
				require.Equal(t, tt.code, r.errCode(t))
			}
			if tt.msg != "" {
				require.Contains(t, getPath(r.json(t), "error.message"), tt.msg)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

// TestAdvancedQueriesInBatch: inside $batch, ConsistencyLevel is a header
// of each request; the batch's own headers do not reach them.
func TestAdvancedQueriesInBatch(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	count := func(id, group string, consistency bool) map[string]any {
		m := get(id, "/groups/"+group+"/members/microsoft.graph.user/$count?$filter="+url.QueryEscape("userType eq 'Guest'"))
		if consistency {
			m["headers"] = map[string]any{"ConsistencyLevel": "eventual"}
		}
		return m
	}
	r := h.do(http.MethodPost, "$batch", batchBody(
		count("1", idMarketing, true),
		count("2", idVendorAccess, true),
		count("3", idFinance, true),
		count("4", idMarketing, false),
	), "ConsistencyLevel", "eventual")
	require.Equal(t, 200, r.status, "body: %s", r.body)
	got := responsesByID(t, r)
	require.Equal(t, 200.0, got["1"]["status"])
	require.Equal(t, 2.0, got["1"]["body"], "a number body comes back as JSON")
	require.Equal(t, 3.0, got["2"]["body"])
	require.Equal(t, 0.0, got["3"]["body"])
	require.Equal(t, 400.0, got["4"]["status"], "the batch's header is not the request's")
	require.Equal(t, "$count is not currently supported.", getPath(got["4"]["body"].(map[string]any), "error.message"))

	var reqs []map[string]any
	for i := range maxBatch + 1 {
		reqs = append(reqs, count(fmt.Sprint(i), idMarketing, true))
	}
	r = h.do(http.MethodPost, "$batch", batchBody(reqs...))
	require.Equal(t, 400, r.status, "at most 20 requests a batch")
}

// TestRoleAssignmentReads: active and eligible assignments through the
// role management lists, with $filter and $expand=principal.
func TestRoleAssignmentReads(t *testing.T) {
	t.Parallel()
	clock := newClock(coverageTime)
	h := newHarness(t, Options{Clock: clock.Now})
	base := "roleManagement/directory/"
	principals := func(r result) []string {
		var out []string
		for _, v := range r.values(t) {
			out = append(out, v.(map[string]any)["principalId"].(string))
		}
		return out
	}

	r := h.do(http.MethodGet, base+"roleAssignmentScheduleInstances?$filter=roleDefinitionId eq '"+idGlobalAdmin+"'&$expand=principal", nil)
	require.Equal(t, 200, r.status, "body: %s", r.body)
	require.Equal(t, []string{idAdmin, idDana}, principals(r))
	first := r.values(t)[0].(map[string]any)
	require.Equal(t, "Assigned", first["assignmentType"])
	require.Equal(t, "Direct", first["memberType"])
	require.Equal(t, first["id"], first["roleAssignmentOriginId"])
	require.Equal(t, "#microsoft.graph.user", first["principal"].(map[string]any)["@odata.type"])
	require.Equal(t, "MOD Administrator", getPath(first, "principal.displayName"))

	r = h.do(http.MethodGet, base+"roleAssignmentScheduleInstances?$filter=roleDefinitionId eq '"+idPrivRoleAdmin+"'", nil)
	require.Empty(t, r.values(t), "an eligible assignment is not active")
	r = h.do(http.MethodGet, base+"roleAssignments?$filter=roleDefinitionId eq '"+idPrivRoleAdmin+"'", nil)
	require.Empty(t, r.values(t), "roleAssignments lists active assignments only")

	r = h.do(http.MethodGet, base+"roleEligibilityScheduleInstances?$filter=roleDefinitionId eq '"+idPrivRoleAdmin+"'&$expand=principal", nil)
	require.Equal(t, 200, r.status, "body: %s", r.body)
	require.Equal(t, []string{idIvan}, principals(r))
	inst := r.values(t)[0].(map[string]any)
	require.Equal(t, idEligIvanPRA, inst["roleEligibilityScheduleId"])
	require.Equal(t, "2025-01-15T09:00:00Z", inst["startDateTime"])
	require.Nil(t, inst["endDateTime"])
	require.Equal(t, "Ivan Petrov", getPath(inst, "principal.displayName"))
	require.Contains(t, r.json(t)["@odata.context"], "$metadata#roleManagement/directory/roleEligibilityScheduleInstances")

	r = h.do(http.MethodGet, base+"roleEligibilitySchedules?$filter=principalId eq '"+idJudy+"'", nil)
	require.Equal(t, 200, r.status, "body: %s", r.body)
	sched := r.values(t)[0].(map[string]any)
	require.Equal(t, idUserAdmin, sched["roleDefinitionId"])
	require.Equal(t, "Provisioned", sched["status"])
	require.Equal(t, "afterDateTime", getPath(sched, "scheduleInfo.expiration.type"))
	require.Equal(t, "2027-08-31T00:00:00Z", getPath(sched, "scheduleInfo.expiration.endDateTime"))

	r = h.do(http.MethodGet, base+"roleEligibilityScheduleInstances/"+idEligIvanPRA+"?$expand=roleDefinition&$select=id,roleDefinitionId", nil)
	require.Equal(t, 200, r.status, "body: %s", r.body)
	require.Equal(t, "Privileged Role Administrator", getPath(r.json(t), "roleDefinition.displayName"))
	require.NotContains(t, r.json(t), "principalId", "$select applies")

	r = h.do(http.MethodGet, base+"roleEligibilityScheduleInstances?$expand=owners", nil)
	require.Equal(t, 400, r.status)

	// Judy's eligibility ends in August 2027; then it is no longer listed.
	clock.Advance(time.Date(2027, 9, 1, 0, 0, 0, 0, time.UTC).Sub(coverageTime))
	r = h.do(http.MethodGet, base+"roleEligibilityScheduleInstances?$filter=principalId eq '"+idJudy+"'", nil)
	require.Empty(t, r.values(t), "an ended eligibility has no instance")
	r = h.do(http.MethodGet, base+"roleEligibilitySchedules", nil)
	require.Equal(t, []string{idIvan}, principals(r))
}

func TestEligibleAssignmentErrors(t *testing.T) {
	t.Parallel()
	base := "users: [{userPrincipalName: a@x.com}]\nroleDefinitions: [{displayName: R}]\nroleAssignments:\n"
	tests := []struct{ name, yaml, err string }{
		{"bad end", base + "  - {role: R, principal: a@x.com, eligible: true, endDateTime: soon}", `endDateTime: "soon" is not an RFC 3339 time`},
		{"end before start", base + "  - {role: R, principal: a@x.com, eligible: true, startDateTime: '2026-01-02T00:00:00Z', endDateTime: '2026-01-01T00:00:00Z'}", "endDateTime must be after startDateTime"},
		{"same id twice", base + "  - {id: 0c7e5a3b-92d4-4f18-8b6a-e41f2d9c5a70, role: R, principal: a@x.com}\n  - {id: 0c7e5a3b-92d4-4f18-8b6a-e41f2d9c5a70, role: R, principal: a@x.com, eligible: true}", "is used twice"},
		{"bad id", base + "  - {id: nope, role: R, principal: a@x.com, eligible: true}", `id "nope" is not a GUID`},
		{"unknown field", base + "  - {role: R, principal: a@x.com, eligibility: true}", "field eligibility not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTenant(strings.NewReader(tt.yaml))
			require.ErrorContains(t, err, tt.err)
		})
	}
}
