package emulator

import (
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/golden"
)

// Ids in the demo tenant (examples/tenant.yaml).
const (
	demoAdmin     = "fc9a2c2b-1ddc-486d-a211-5fe8ca77fa1f"
	demoAlice     = "398164b1-5196-49dd-ada2-364b49f99b27"
	demoBob       = "d2681937-14ec-4f48-8b40-fb1b488df21a"
	demoSam       = "7e95ba56-3aee-4988-b07a-2715a9b7ba9b"
	demoPriya     = "a6a76ccd-7c68-4328-ada0-2bd81d189d5f"
	demoTom       = "2c0a5800-d756-4df8-85e0-90de448d2e87"
	demoLina      = "ca75c94d-5bee-4cb9-b57c-f82b472dc94b"
	demoOmar      = "c80a62a1-0551-45c1-aa06-e6c09b267541"
	demoZoe       = "8fd201fa-b6ae-45fa-b698-994359006712"
	demoKen       = "31473568-f64a-442a-88e7-54e1bcef2c48"
	demoMarketing = "ea1ee477-0a50-41ac-8699-c70d0c1f868a"
	demoSales     = "119cc181-22f0-4e18-8537-264e7524ee0b"
	demoFalcon    = "06c20263-d52a-49f6-a67c-56284ec6f70c"
	demoFinance   = "02f3bafb-448c-487c-88c2-5fd65ce49a41"
	demoEng       = "77203c2a-1ce7-44ad-b64f-966cf6b9e337"
	demoPayroll   = "1b1a8bd4-1790-4175-96a8-e33def257415"
	demoGlobalRdr = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
)

// guestReview is the seed scenario: guests of every Microsoft 365 group,
// reviewed quarterly by the group's owners (admin as fallback), default
// Deny and auto-apply.
func guestReview() map[string]any {
	return map[string]any{
		"displayName":          "Guest access to Microsoft 365 groups",
		"descriptionForAdmins": "Quarterly\n[arsync:guests-m365-quarterly]",
		"scope": map[string]any{
			"@odata.type": "#microsoft.graph.accessReviewQueryScope",
			"query":       "./members/microsoft.graph.user/?$filter=(userType eq 'Guest')",
			"queryType":   "MicrosoftGraph",
		},
		"instanceEnumerationScope": map[string]any{
			"@odata.type": "#microsoft.graph.accessReviewQueryScope",
			"query":       "/groups?$filter=(groupTypes/any(c:c+eq+'Unified'))",
			"queryType":   "MicrosoftGraph",
		},
		"reviewers":         []any{map[string]any{"queryType": "MicrosoftGraph", "query": "./owners"}},
		"fallbackReviewers": []any{map[string]any{"queryType": "MicrosoftGraph", "query": "/users/" + demoAdmin}},
		"settings": map[string]any{
			"justificationRequiredOnApproval": true,
			"defaultDecisionEnabled":          true,
			"defaultDecision":                 "Deny",
			"instanceDurationInDays":          14,
			"autoApplyDecisionsEnabled":       true,
			"recommendationsEnabled":          true,
			"recurrence": map[string]any{
				"pattern": map[string]any{"type": "absoluteMonthly", "interval": 3},
				"range":   map[string]any{"type": "noEnd", "startDate": "2026-01-05"},
			},
			"applyActions": []any{map[string]any{"@odata.type": "#microsoft.graph.removeAccessApplyAction"}},
		},
	}
}

// lcHarness is a harness whose clock starts at the given time.
func lcHarness(t *testing.T, start string, opts Options) *harness {
	t.Helper()
	h := newHarness(t, opts)
	h.clock.now = at(start)
	return h
}

func (h *harness) as(upn string) *harness {
	c := *h
	c.token = h.srv.Token(upn)
	return &c
}

// instances lists a definition's instances keyed by the reviewed group's name.
func (h *harness) instancesByGroup(defID string) map[string]map[string]any {
	h.t.Helper()
	r := h.do(http.MethodGet, definitionsPath+"/"+defID+"/instances", nil)
	require.Equal(h.t, http.StatusOK, r.status, "body: %s", r.body)
	out := map[string]map[string]any{}
	for _, v := range r.values(h.t) {
		in := v.(map[string]any)
		q := getPath(in, "scope.query").(string)
		name := groupName(q)
		out[name] = in
	}
	return out
}

func groupName(query string) string {
	for id, name := range map[string]string{demoMarketing: "Marketing", demoSales: "Sales", demoFalcon: "Project Falcon", demoEng: "Engineering", demoFinance: "Finance"} {
		if strings.Contains(query, id) {
			return name
		}
	}
	return query
}

func (h *harness) decisions(defID, instID, query string) []map[string]any {
	h.t.Helper()
	path := definitionsPath + "/" + defID + "/instances/" + instID + "/decisions" + query
	var out []map[string]any
	for path != "" {
		r := h.do(http.MethodGet, path, nil)
		require.Equal(h.t, http.StatusOK, r.status, "body: %s", r.body)
		for _, v := range r.values(h.t) {
			out = append(out, v.(map[string]any))
		}
		next, _ := r.json(h.t)["@odata.nextLink"].(string)
		path = next
	}
	return out
}

// summary is principal -> decision/recommendation/applyResult.
func summary(ds []map[string]any) map[string]string {
	out := map[string]string{}
	for _, d := range ds {
		out[getPath(d, "principal.displayName").(string)] = fmt.Sprintf("%s/%s/%s", d["decision"], d["recommendation"], d["applyResult"])
	}
	return out
}

func (h *harness) memberIDs(groupID string) []string {
	h.t.Helper()
	r := h.do(http.MethodGet, "groups/"+groupID+"/members?$select=id", nil)
	require.Equal(h.t, http.StatusOK, r.status, "body: %s", r.body)
	var ids []string
	for _, v := range r.values(h.t) {
		ids = append(ids, v.(map[string]any)["id"].(string))
	}
	sort.Strings(ids)
	return ids
}

func (h *harness) advanceTo(t string) []LifecycleEvent {
	h.t.Helper()
	ev, err := h.srv.SetNow(at(t))
	require.NoError(h.t, err)
	return ev
}

func eventKinds(evs []LifecycleEvent) []string {
	var out []string
	for _, e := range evs {
		s := e.Kind
		if e.Resource != "" {
			s += " " + e.Resource
		}
		if e.Principal != "" {
			s += " " + e.Principal
		}
		out = append(out, s)
	}
	return out
}

func TestGuestReviewLifecycle(t *testing.T) {
	t.Parallel()
	h := lcHarness(t, "2025-12-01T09:00:00Z", Options{})
	id := h.create(guestReview())

	// Before the start date: nothing runs.
	require.Empty(t, h.instancesByGroup(id))

	evs := h.advanceTo("2026-01-05T08:00:00Z")
	require.Equal(t, []string{
		"InstanceStarted Marketing", "InstanceStarted Sales", "InstanceStarted Project Falcon",
	}, eventKinds(evs), "one instance per Unified group with guests; Engineering has none")

	insts := h.instancesByGroup(id)
	require.Len(t, insts, 3)
	mkt := insts["Marketing"]
	require.Equal(t, "InProgress", mkt["status"])
	require.Equal(t, "2026-01-05T00:00:00Z", mkt["startDateTime"])
	require.Equal(t, "2026-01-19T00:00:00Z", mkt["endDateTime"])
	require.Equal(t, "/v1.0/groups/"+demoMarketing+"/members/microsoft.graph.user/?$count=true&$filter=(userType eq 'Guest')", getPath(mkt, "scope.query"))

	// One decision per guest, recommendations from last sign-in (Omar last
	// signed in 2025-08, Lina never).
	mktID, salesID, falconID := mkt["id"].(string), insts["Sales"]["id"].(string), insts["Project Falcon"]["id"].(string)
	require.Equal(t, map[string]string{
		"Sam Taylor (Fabrikam)": "NotReviewed/Approve/New", "Priya Nair (Fabrikam)": "NotReviewed/Approve/New",
	}, summary(h.decisions(id, mktID, "")))
	require.Equal(t, map[string]string{
		"Lina Park (Northwind)": "NotReviewed/Deny/New", "Omar Haddad (Adatum)": "NotReviewed/Deny/New",
	}, summary(h.decisions(id, falconID, "")))

	// Contacted reviewers: the owners, or the fallback for Project Falcon.
	contacted := func(inst string) []string {
		r := h.do(http.MethodGet, definitionsPath+"/"+id+"/instances/"+inst+"/contactedReviewers", nil)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		var upns []string
		for _, v := range r.values(t) {
			upns = append(upns, v.(map[string]any)["userPrincipalName"].(string))
		}
		return upns
	}
	require.Equal(t, []string{"alice@contoso.com"}, contacted(mktID))
	require.Equal(t, []string{"bob@contoso.com", "dave@contoso.com"}, contacted(salesID))
	require.Equal(t, []string{"admin@contoso.com"}, contacted(falconID))

	// Alice approves Sam (a justification is required) and leaves Priya.
	samDecision := ""
	for _, d := range h.decisions(id, mktID, "") {
		if getPath(d, "principal.id") == demoSam {
			samDecision = d["id"].(string)
		}
	}
	decisionPath := definitionsPath + "/" + id + "/instances/" + mktID + "/decisions/" + samDecision
	r := h.as("alice@contoso.com").do(http.MethodPatch, decisionPath, map[string]any{"decision": "Approve"})
	require.Equal(t, http.StatusBadRequest, r.status, "body: %s", r.body)
	require.Contains(t, r.errMessage(t), "justification")
	r = h.as("bob@contoso.com").do(http.MethodPatch, decisionPath, map[string]any{"decision": "Approve", "justification": "x"})
	require.Equal(t, http.StatusForbidden, r.status, "bob does not own Marketing")
	h.clock.Advance(time.Hour)
	r = h.as("alice@contoso.com").do(http.MethodPatch, decisionPath, map[string]any{"decision": "Approve", "justification": "Agency contract runs to 2027"})
	require.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
	got := h.do(http.MethodGet, decisionPath, nil).json(t)
	require.Equal(t, "Approve", got["decision"])
	require.Equal(t, "Agency contract runs to 2027", got["justification"])
	require.Equal(t, "2026-01-05T09:00:00Z", got["reviewedDateTime"])
	require.Equal(t, "alice@contoso.com", getPath(got, "reviewedBy.userPrincipalName"))

	// Bob denies Tom through batchRecordDecisions; apply is refused while
	// the instance runs.
	r = h.as("bob@contoso.com").do(http.MethodPost, definitionsPath+"/"+id+"/instances/"+salesID+"/batchRecordDecisions",
		map[string]any{"decision": "Deny", "justification": "Reseller contract ended", "principalId": demoTom})
	require.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
	r = h.do(http.MethodPost, definitionsPath+"/"+id+"/instances/"+salesID+"/applyDecisions", nil)
	require.Equal(t, http.StatusConflict, r.status)
	require.Equal(t, "Conflict", r.errCode(t))

	// The end: default Deny for the unreviewed, then auto-apply.
	evs = h.advanceTo("2026-01-20T00:00:00Z")
	require.Equal(t, []string{
		"InstanceCompleted Marketing", "DecisionsApplied Marketing",
		"AccessRemoved Marketing priya_fabrikam.com#EXT#@contoso.onmicrosoft.com",
		"InstanceCompleted Sales", "DecisionsApplied Sales",
		"AccessRemoved Sales tom_northwind.com#EXT#@contoso.onmicrosoft.com",
		"InstanceCompleted Project Falcon", "DecisionsApplied Project Falcon",
		"AccessRemoved Project Falcon lina_northwind.com#EXT#@contoso.onmicrosoft.com",
		"AccessRemoved Project Falcon omar_adatum.com#EXT#@contoso.onmicrosoft.com",
	}, eventKinds(evs))
	for _, in := range h.instancesByGroup(id) {
		require.Equal(t, "Applied", in["status"])
	}
	require.Equal(t, map[string]string{
		"Sam Taylor (Fabrikam)": "Approve/Approve/AppliedSuccessfully", "Priya Nair (Fabrikam)": "Deny/Approve/AppliedSuccessfully",
	}, summary(h.decisions(id, mktID, "")))
	priya := h.decisions(id, mktID, "?$filter=decision eq 'Deny'")
	require.Len(t, priya, 1)
	require.Equal(t, "AAD Access Reviews", getPath(priya[0], "reviewedBy.displayName"), "the default decision is the system's")
	require.Equal(t, "2026-01-19T00:00:00Z", priya[0]["appliedDateTime"])

	// The directory changed: denied guests are gone, approved ones stay.
	require.Equal(t, sortedIDs("398164b1-5196-49dd-ada2-364b49f99b27", "012b3aaf-3d42-4a0d-871e-9b480e8216a4", demoSam), h.memberIDs(demoMarketing))
	require.NotContains(t, h.memberIDs(demoSales), demoTom)
	require.NotContains(t, h.memberIDs(demoFalcon), demoLina)
	require.NotContains(t, h.memberIDs(demoFalcon), demoOmar)

	// Next quarter: only Marketing still has a guest.
	evs = h.advanceTo("2026-04-05T00:00:00Z")
	require.Equal(t, []string{"InstanceStarted Marketing"}, eventKinds(evs))
	require.Len(t, h.do(http.MethodGet, definitionsPath+"/"+id+"/instances?$filter=status eq 'InProgress'", nil).values(t), 1)
	require.Len(t, h.do(http.MethodGet, definitionsPath+"/"+id+"/instances", nil).values(t), 4)
}

// appToken is an app-only token (no user) with write access.
func (h *harness) appToken(appID string) string {
	h.t.Helper()
	tok, err := h.srv.IssueToken(TokenOptions{App: appID, Permissions: []string{PermissionReadWrite}})
	require.NoError(h.t, err)
	return tok
}

func sortedIDs(ids ...string) []string {
	sort.Strings(ids)
	return ids
}

func TestDecisionListing(t *testing.T) {
	t.Parallel()
	h := lcHarness(t, "2026-01-05T10:00:00Z", Options{PageSize: 2})
	body := guestReview()
	// All members of Sales, to have more items than a page.
	setPath(body, "scope.query", "./members")
	id := h.create(body)
	sales := h.instancesByGroup(id)["Sales"]["id"].(string)
	base := definitionsPath + "/" + id + "/instances/" + sales + "/decisions"

	r := h.do(http.MethodGet, base+"?$count=true", nil)
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	page := r.json(t)
	require.EqualValues(t, 5, page["@odata.count"])
	require.Len(t, page["value"], 2)
	require.Contains(t, page["@odata.nextLink"], "$skip=2")
	require.Contains(t, page["@odata.context"], "definitions('"+id+"')/instances('"+sales+"')/decisions")
	all := h.decisions(id, sales, "")
	require.Len(t, all, 5)
	require.Len(t, h.decisions(id, sales, "?$top=1"), 5, "nextLink keeps $top and pages on")

	// Filters on decision, recommendation and applyResult.
	require.Len(t, h.decisions(id, sales, "?$filter=recommendation eq 'Deny'"), 1) // Mike, inactive since 2025
	require.Len(t, h.decisions(id, sales, "?$filter=decision eq 'NotReviewed' and applyResult eq 'New'"), 5)
	require.Empty(t, h.decisions(id, sales, "?$filter=decision eq 'Approve'"))
	sel := h.decisions(id, sales, "?$select=id,decision&$orderby=recommendation desc")
	require.Equal(t, []string{"decision", "id"}, slices.Sorted(maps.Keys(sel[0])))

	for _, bad := range []string{"?$filter=justification eq 'x'", "?$filter=decision ne 'Deny'", "?$orderby=justification", "?$skiptoken=abc", "?$expand=insights"} {
		r := h.do(http.MethodGet, base+bad, nil)
		require.Equal(t, http.StatusBadRequest, r.status, bad)
	}

	// One decision, the documented shape (golden), and unknown ones.
	graph := func(b []byte) []byte {
		return []byte(strings.ReplaceAll(string(b), h.ts.URL, "https://graph.microsoft.com"))
	}
	golden.Assert(t, "testdata/lifecycle/decision.json", indentJSON(t, graph(h.do(http.MethodGet, base+"/"+all[0]["id"].(string), nil).body)))
	golden.Assert(t, "testdata/lifecycle/instance.json", indentJSON(t, graph(h.do(http.MethodGet, definitionsPath+"/"+id+"/instances/"+sales, nil).body)))
	require.Equal(t, http.StatusNotFound, h.do(http.MethodGet, base+"/nope", nil).status)
	require.Equal(t, http.StatusNotFound, h.do(http.MethodGet, definitionsPath+"/"+id+"/instances/nope/decisions", nil).status)
	require.Equal(t, http.StatusMethodNotAllowed, h.do(http.MethodPost, base, map[string]any{}).status)
	require.Equal(t, http.StatusMethodNotAllowed, h.do(http.MethodDelete, base+"/"+all[0]["id"].(string), nil).status)
	// A single-stage review's instance has no stages; unknown segments are still 400.
	stages := h.do(http.MethodGet, definitionsPath+"/"+id+"/instances/"+sales+"/stages", nil)
	require.Equal(t, http.StatusOK, stages.status, "body: %s", stages.body)
	require.Empty(t, stages.values(t))
	require.Equal(t, http.StatusNotFound, h.do(http.MethodGet, definitionsPath+"/"+id+"/instances/"+sales+"/stages/nope", nil).status)
	require.Equal(t, http.StatusBadRequest, h.do(http.MethodGet, definitionsPath+"/"+id+"/instances/"+sales+"/phases", nil).status)

	// filterByCurrentUser: Bob reviews every item of Sales; Alice none.
	require.Len(t, h.as("bob@contoso.com").do(http.MethodGet, base+"/filterByCurrentUser(on='reviewer')?$top=10", nil).values(t), 2)
	require.Empty(t, h.as("alice@contoso.com").do(http.MethodGet, base+"/filterByCurrentUser(on='reviewer')", nil).values(t))
	require.Len(t, h.as("bob@contoso.com").do(http.MethodGet, definitionsPath+"/"+id+"/instances/filterByCurrentUser(on='reviewer')", nil).values(t), 1)
	require.Equal(t, http.StatusBadRequest, h.do(http.MethodGet, base+"/filterByCurrentUser(on='owner')", nil).status)
}

func TestInstanceActions(t *testing.T) {
	t.Parallel()
	h := lcHarness(t, "2026-01-05T10:00:00Z", Options{})
	body := guestReview()
	setPath(body, "settings.autoApplyDecisionsEnabled", false)
	setPath(body, "settings.defaultDecisionEnabled", false)
	setPath(body, "settings.justificationRequiredOnApproval", false)
	id := h.create(body)
	insts := h.instancesByGroup(id)
	mkt := definitionsPath + "/" + id + "/instances/" + insts["Marketing"]["id"].(string)
	falcon := definitionsPath + "/" + id + "/instances/" + insts["Project Falcon"]["id"].(string)
	alice, admin := h.as("alice@contoso.com"), h.as("admin@contoso.com")

	post := func(hh *harness, path string, body any) result {
		t.Helper()
		return hh.do(http.MethodPost, path, body)
	}
	// Preconditions and permissions.
	require.Equal(t, http.StatusConflict, post(h, mkt+"/applyDecisions", nil).status, "only a Completed instance can be applied")
	ro := *h
	ro.token = h.srv.ReadOnlyToken("alice@contoso.com")
	require.Equal(t, http.StatusForbidden, post(&ro, mkt+"/stop", nil).status)
	app := *h
	app.token = h.appToken("f61a366e-53e5-42b9-bb85-4825c728a87a")
	require.Equal(t, http.StatusForbidden, post(&app, mkt+"/acceptRecommendations", nil).status, "delegated only")
	someDecision := h.decisions(id, insts["Marketing"]["id"].(string), "")[0]["id"].(string)
	require.Equal(t, http.StatusForbidden, app.do(http.MethodPatch, mkt+"/decisions/"+someDecision, map[string]any{"decision": "Deny"}).status)
	require.Equal(t, http.StatusMethodNotAllowed, h.do(http.MethodGet, mkt+"/stop", nil).status)
	require.Equal(t, http.StatusBadRequest, post(alice, mkt+"/batchRecordDecisions", map[string]any{"decision": "Maybe"}).status)
	require.Equal(t, http.StatusBadRequest, post(alice, mkt+"/batchRecordDecisions", map[string]any{"justification": "x"}).status)
	require.Equal(t, http.StatusBadRequest, post(alice, mkt+"/batchRecordDecisions", map[string]any{"decision": "Deny", "colour": "red"}).status)
	require.Equal(t, http.StatusForbidden, post(h.as("bob@contoso.com"), mkt+"/batchRecordDecisions", map[string]any{"decision": "Deny"}).status)

	// sendReminder, acceptRecommendations, resetDecisions.
	require.Equal(t, http.StatusNoContent, post(alice, mkt+"/sendReminder", nil).status)
	require.Equal(t, http.StatusNoContent, post(admin, falcon+"/acceptRecommendations", nil).status)
	require.Equal(t, map[string]string{"Lina Park (Northwind)": "Deny/Deny/New", "Omar Haddad (Adatum)": "Deny/Deny/New"},
		summary(h.decisions(id, insts["Project Falcon"]["id"].(string), "")))
	require.Equal(t, http.StatusNoContent, post(h, falcon+"/resetDecisions", nil).status)
	require.Equal(t, map[string]string{"Lina Park (Northwind)": "NotReviewed/Deny/New", "Omar Haddad (Adatum)": "NotReviewed/Deny/New"},
		summary(h.decisions(id, insts["Project Falcon"]["id"].(string), "")))

	// An application records on every item.
	require.Equal(t, http.StatusNoContent, post(&app, mkt+"/batchRecordDecisions", map[string]any{"decision": "Deny", "principalId": demoPriya}).status)
	require.Equal(t, http.StatusNoContent, post(alice, mkt+"/batchRecordDecisions", map[string]any{"decision": "Approve", "principalId": demoSam}).status)

	// stop: Completed, reviewers can no longer respond; then applyDecisions.
	require.Equal(t, http.StatusNoContent, post(admin, mkt+"/stop", nil).status)
	in := h.do(http.MethodGet, mkt, nil).json(t)
	require.Equal(t, "Completed", in["status"])
	require.Equal(t, "2026-01-05T10:00:00Z", in["endDateTime"], "stopped early")
	require.Equal(t, http.StatusConflict, post(admin, mkt+"/stop", nil).status)
	require.Equal(t, http.StatusConflict, post(alice, mkt+"/sendReminder", nil).status)
	require.Equal(t, http.StatusConflict, post(alice, mkt+"/batchRecordDecisions", map[string]any{"decision": "Deny"}).status)
	require.Contains(t, h.memberIDs(demoMarketing), demoPriya, "not applied yet: auto-apply is off")
	require.Equal(t, http.StatusNoContent, post(admin, mkt+"/applyDecisions", nil).status)
	require.Equal(t, "Applied", h.do(http.MethodGet, mkt, nil).json(t)["status"])
	require.NotContains(t, h.memberIDs(demoMarketing), demoPriya)
	require.Contains(t, h.memberIDs(demoMarketing), demoSam)
	ds := h.decisions(id, insts["Marketing"]["id"].(string), "?$filter=applyResult eq 'AppliedSuccessfully'")
	require.Len(t, ds, 2)
	for _, d := range ds {
		require.Equal(t, "admin@contoso.com", getPath(d, "appliedBy.userPrincipalName"))
	}
	require.Equal(t, http.StatusConflict, post(admin, mkt+"/applyDecisions", nil).status, "already Applied")

	// The instance's end leaves Project Falcon Completed but not applied.
	h.advanceTo("2026-01-20T00:00:00Z")
	require.Equal(t, "Completed", h.do(http.MethodGet, falcon, nil).json(t)["status"])
	require.Contains(t, h.memberIDs(demoFalcon), demoOmar)
}

func TestUpdateInstanceReviewers(t *testing.T) {
	t.Parallel()
	h := lcHarness(t, "2026-01-05T10:00:00Z", Options{})
	id := h.create(guestReview())
	in := h.instancesByGroup(id)["Project Falcon"]
	path := definitionsPath + "/" + id + "/instances/" + in["id"].(string)
	body := map[string]any{
		"scope":             in["scope"],
		"reviewers":         []any{map[string]any{"queryType": "MicrosoftGraph", "query": "/users/" + demoAlice}},
		"fallbackReviewers": []any{map[string]any{"queryType": "MicrosoftGraph", "query": "/users/" + demoAdmin}, map[string]any{"queryType": "MicrosoftGraph", "query": "/users/" + demoBob}},
	}
	r := h.do(http.MethodPut, path, body)
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	require.Equal(t, "/users/"+demoAlice, getPath(r.json(t), "reviewers.0.query"))
	// Alice may now decide; the fallback reviewer cannot be removed.
	require.Len(t, h.as("alice@contoso.com").do(http.MethodGet, path+"/decisions/filterByCurrentUser(on='reviewer')", nil).values(t), 2)
	body["fallbackReviewers"] = []any{map[string]any{"queryType": "MicrosoftGraph", "query": "/users/" + demoBob}}
	require.Equal(t, http.StatusConflict, h.do(http.MethodPut, path, body).status)
	body["scope"] = map[string]any{"queryType": "MicrosoftGraph", "query": "/groups"}
	require.Equal(t, http.StatusBadRequest, h.do(http.MethodPut, path, body).status)
	require.Equal(t, http.StatusMethodNotAllowed, h.do(http.MethodPatch, path, body).status)
}

// principalsOf runs a one-time review created at the test clock and
// returns its instances' principals (by display name), reviewers and
// recommendations.
func TestScopeForms(t *testing.T) {
	t.Parallel()
	type item struct{ Principal, Resource, Recommendation, Reviewers string }
	cases := []struct {
		name      string
		scope     map[string]any
		reviewers []any
		fallback  []any
		want      []item
		beta      string // the unsupported-scope error beta shows
	}{
		{
			name:      "guests of one group, transitively; owners of that group",
			scope:     map[string]any{"queryType": "MicrosoftGraph", "query": "/groups/" + demoFinance + "/transitiveMembers/microsoft.graph.user/?$filter=(userType eq 'Guest')"},
			reviewers: []any{map[string]any{"queryType": "MicrosoftGraph", "query": "/groups/" + demoFinance + "/owners"}},
			want:      []item{{"Zoe Martin (Tailspin)", "Finance", "Approve", "frank@contoso.com"}},
		},
		{
			name: "inactive users of Engineering, reviewed by their managers",
			scope: map[string]any{"@odata.type": "#microsoft.graph.accessReviewInactiveUsersQueryScope",
				"query": "/groups/" + demoEng + "/transitiveMembers/microsoft.graph.user", "queryType": "MicrosoftGraph", "inactiveDuration": "P30D"},
			reviewers: []any{map[string]any{"queryType": "MicrosoftGraph", "query": "./manager", "queryRoot": "decisions"}},
			want:      []item{{"Ken Adams", "Engineering", "Deny", "ivan@contoso.com"}},
		},
		{
			name:  "direct members of Sales, self-review; the disabled account reviews nobody",
			scope: map[string]any{"queryType": "MicrosoftGraph", "query": "/groups/" + demoSales + "/members"},
			want: []item{
				{"Bob Kelly", "Sales", "Approve", "bob@contoso.com"},
				{"Dave Patel", "Sales", "Approve", "dave@contoso.com"},
				{"Erin Lopez", "Sales", "Approve", "erin@contoso.com"},
				{"Mike Brown", "Sales", "Deny", "admin@contoso.com"}, // disabled: the fallback reviews
				{"Tom Baker (Northwind)", "Sales", "Approve", "tom_northwind.com#EXT#@contoso.onmicrosoft.com"},
			},
			fallback: []any{map[string]any{"queryType": "MicrosoftGraph", "query": "/users/" + demoAdmin}},
		},
		{
			name: "users assigned to an application (principal resource memberships)",
			scope: map[string]any{"@odata.type": "#microsoft.graph.principalResourceMembershipsScope",
				"principalScopes": []any{map[string]any{"@odata.type": "#microsoft.graph.accessReviewQueryScope", "queryType": "MicrosoftGraph", "query": "/users"}},
				"resourceScopes":  []any{map[string]any{"@odata.type": "#microsoft.graph.accessReviewQueryScope", "queryType": "MicrosoftGraph", "query": "/servicePrincipals/" + demoPayroll}}},
			reviewers: []any{map[string]any{"queryType": "MicrosoftGraph", "query": "/servicePrincipals/" + demoPayroll + "/owners"}},
			want: []item{
				{"Heidi Novak", "Payroll App", "Approve", "frank@contoso.com"},
				{"Frank Miller", "Payroll App", "Approve", "frank@contoso.com"},
				{"Grace Liu", "Payroll App", "Approve", "frank@contoso.com"},
				{"Zoe Martin (Tailspin)", "Payroll App", "Approve", "frank@contoso.com"},
			},
		},
		{
			name: "inactive guests in every group (PRM)",
			scope: map[string]any{"@odata.type": "#microsoft.graph.principalResourceMembershipsScope",
				"principalScopes": []any{map[string]any{"@odata.type": "#microsoft.graph.accessReviewInactiveUsersQueryScope", "queryType": "MicrosoftGraph", "query": "/users?$filter=(userType eq 'Guest')", "inactiveDuration": "P90D"}},
				"resourceScopes":  []any{map[string]any{"@odata.type": "#microsoft.graph.accessReviewQueryScope", "queryType": "MicrosoftGraph", "query": "/groups"}}},
			reviewers: []any{map[string]any{"queryType": "MicrosoftGraph", "query": "./owners"}},
			fallback:  []any{map[string]any{"queryType": "MicrosoftGraph", "query": "/users/" + demoAdmin}},
			want: []item{
				{"Lina Park (Northwind)", "Project Falcon", "Deny", "admin@contoso.com"},
				{"Omar Haddad (Adatum)", "Project Falcon", "Deny", "admin@contoso.com"},
				{"Omar Haddad (Adatum)", "Contractors", "Deny", "admin@contoso.com"},
				{"Lina Park (Northwind)", "Vendor Access", "Deny", "frank@contoso.com"},
			},
		},
		{
			name: "guests in a directory role",
			scope: map[string]any{"@odata.type": "#microsoft.graph.principalResourceMembershipsScope",
				"principalScopes": []any{map[string]any{"@odata.type": "#microsoft.graph.accessReviewQueryScope", "queryType": "MicrosoftGraph", "query": "/users?$filter=(userType eq 'Guest')"}},
				"resourceScopes":  []any{map[string]any{"@odata.type": "#microsoft.graph.accessReviewQueryScope", "queryType": "MicrosoftGraph", "query": "/roleManagement/directory/roleDefinitions/" + demoGlobalRdr}}},
			reviewers: []any{map[string]any{"queryType": "MicrosoftGraph", "query": "/users/" + demoAdmin}},
			// Priya last signed in 2026-04-01T09:30, just over 30 days before.
			want: []item{{"Priya Nair (Fabrikam)", "Global Reader", "Deny", "admin@contoso.com"}},
		},
		{
			name:      "access package assignments are not emulated",
			scope:     map[string]any{"queryType": "MicrosoftGraph", "query": "/identityGovernance/entitlementManagement/accessPackageAssignments?$filter=(accessPackageId eq 'x' and assignmentPolicyId eq 'y' and catalogId eq 'z')"},
			reviewers: []any{map[string]any{"queryType": "MicrosoftGraph", "query": "/users/" + demoAdmin}},
			beta:      "query form not emulated",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := lcHarness(t, "2026-05-01T10:00:00Z", Options{})
			body := map[string]any{
				"displayName": tc.name,
				"scope":       tc.scope,
				"reviewers":   tc.reviewers,
				"settings": map[string]any{
					"instanceDurationInDays": 7,
					"recommendationsEnabled": true,
					"recurrence":             map[string]any{"range": map[string]any{"type": "endDate", "startDate": "2026-05-01", "endDate": "2026-05-08"}},
				},
			}
			if tc.fallback != nil {
				body["fallbackReviewers"] = tc.fallback
			}
			if tc.reviewers == nil {
				body["reviewers"] = []any{}
			}
			id := h.create(body)
			r := h.do(http.MethodGet, definitionsPath+"/"+id+"/instances", nil)
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			vals := r.values(t)
			require.Len(t, vals, 1, "a review without instanceEnumerationScope has one instance")
			instID := vals[0].(map[string]any)["id"].(string)
			var got []item
			for _, d := range h.decisions(id, instID, "") {
				got = append(got, item{
					Principal:      getPath(d, "principal.displayName").(string),
					Resource:       fmt.Sprint(getPath(d, "resource.displayName")),
					Recommendation: d["recommendation"].(string),
				})
			}
			// Reviewers: who filterByCurrentUser shows each item to.
			for i := range got {
				for _, upn := range []string{"admin@contoso.com", "frank@contoso.com", "ivan@contoso.com", "bob@contoso.com",
					"dave@contoso.com", "erin@contoso.com", "tom_northwind.com#EXT#@contoso.onmicrosoft.com"} {
					mine := h.as(upn).decisions(id, instID, "/filterByCurrentUser(on='reviewer')")
					if slices.ContainsFunc(mine, func(d map[string]any) bool {
						return getPath(d, "principal.displayName") == got[i].Principal && fmt.Sprint(getPath(d, "resource.displayName")) == got[i].Resource
					}) {
						got[i].Reviewers = upn
					}
				}
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("decision items (-want +got):\n%s", d)
			}
			if tc.beta != "" {
				b := h.do(http.MethodGet, "/beta/"+definitionsPath+"/"+id+"/instances/"+instID, nil).json(t)
				require.Contains(t, fmt.Sprint(getPath(b, "errors.0.message")), tc.beta)
			}
		})
	}
}

func TestDisableAndDeleteInactiveGuests(t *testing.T) {
	t.Parallel()
	h := lcHarness(t, "2026-05-01T10:00:00Z", Options{})
	id := h.create(map[string]any{
		"displayName": "Inactive guests",
		"scope": map[string]any{"@odata.type": "#microsoft.graph.accessReviewInactiveUsersQueryScope",
			"query": "/groups/" + demoFalcon + "/transitiveMembers/microsoft.graph.user/?$filter=(userType eq 'Guest')", "queryType": "MicrosoftGraph", "inactiveDuration": "P90D"},
		"reviewers": []any{map[string]any{"queryType": "MicrosoftGraph", "query": "/users/" + demoAdmin}},
		"settings": map[string]any{
			"instanceDurationInDays": 7, "defaultDecisionEnabled": true, "defaultDecision": "Recommendation",
			"autoApplyDecisionsEnabled": true, "recommendationsEnabled": true,
			"recurrence":   map[string]any{"range": map[string]any{"type": "endDate", "startDate": "2026-05-01", "endDate": "2026-05-08"}},
			"applyActions": []any{map[string]any{"@odata.type": "#microsoft.graph.disableAndDeleteUserApplyAction"}},
		},
	})
	evs := h.advanceTo("2026-05-09T00:00:00Z")
	require.Equal(t, []string{
		"InstanceStarted Project Falcon", "InstanceCompleted Project Falcon", "DecisionsApplied Project Falcon",
		"UserDisabled lina_northwind.com#EXT#@contoso.onmicrosoft.com",
		"UserDisabled omar_adatum.com#EXT#@contoso.onmicrosoft.com",
	}, eventKinds(evs))
	require.Equal(t, false, h.do(http.MethodGet, "users/"+demoOmar+"?$select=accountEnabled", nil).json(t)["accountEnabled"])
	require.Contains(t, h.memberIDs(demoFalcon), demoOmar, "disabled, not yet deleted")

	evs = h.advanceTo("2026-06-08T00:00:00Z")
	require.Equal(t, []string{
		"UserDeleted lina_northwind.com#EXT#@contoso.onmicrosoft.com",
		"UserDeleted omar_adatum.com#EXT#@contoso.onmicrosoft.com",
	}, eventKinds(evs))
	require.Equal(t, http.StatusNotFound, h.do(http.MethodGet, "users/"+demoOmar, nil).status)
	require.NotContains(t, h.memberIDs(demoFalcon), demoOmar)
	require.NotContains(t, h.memberIDs("5717c71a-3dba-44c3-b71d-670aca9dae2f"), demoOmar, "gone from every group")
	// The decisions still say who they were about.
	insts := h.do(http.MethodGet, definitionsPath+"/"+id+"/instances", nil).values(t)
	ds := h.decisions(id, insts[0].(map[string]any)["id"].(string), "")
	require.Equal(t, map[string]string{"Lina Park (Northwind)": "Deny/Deny/AppliedSuccessfully", "Omar Haddad (Adatum)": "Deny/Deny/AppliedSuccessfully"}, summary(ds))
}

func TestLifecyclePersistsAndRecordDecision(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "emulator.json")
	first := lcHarness(t, "2025-12-01T09:00:00Z", Options{StateFile: path})
	id := first.create(guestReview())
	first.advanceTo("2026-01-06T00:00:00Z")

	// Record through the Go API, as "arsync emulator decide" does.
	n, err := first.srv.RecordDecision(DecisionInput{DefinitionID: id, Principal: "sam_fabrikam.com#EXT#@contoso.onmicrosoft.com", Decision: "approve", Justification: "still working with us"})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, err = first.srv.RecordDecision(DecisionInput{DefinitionID: id, Principal: demoSam, Decision: "Approve"})
	require.ErrorContains(t, err, "justification")
	_, err = first.srv.RecordDecision(DecisionInput{DefinitionID: id, Principal: demoTom, Decision: "Deny", Reviewer: "alice@contoso.com"})
	require.ErrorContains(t, err, "not a reviewer")
	_, err = first.srv.RecordDecision(DecisionInput{DefinitionID: id, Principal: demoKen, Decision: "Deny"})
	require.ErrorIs(t, err, ErrNotFound)
	_, err = first.srv.RecordDecision(DecisionInput{DefinitionID: "nope", Principal: demoTom, Decision: "Deny"})
	require.ErrorIs(t, err, ErrNotFound)
	_, err = first.srv.RecordDecision(DecisionInput{DefinitionID: id, Principal: demoTom, Decision: "Perhaps"})
	require.ErrorContains(t, err, "use Approve")
	n, err = first.srv.RecordDecision(DecisionInput{DefinitionID: id, Principal: demoTom, Resource: "Sales", Decision: "Deny", Reviewer: "dave@contoso.com"})
	require.NoError(t, err)
	require.Equal(t, 1, n)

	// A second server on the same state file: same time, same instances,
	// and, after the end, the same directory.
	second := newHarness(t, Options{StateFile: path})
	second.clock.now = at("2025-12-01T09:00:00Z")
	require.Equal(t, at("2026-01-06T00:00:00Z"), second.srv.Now())
	mkt := second.instancesByGroup(id)["Marketing"]["id"].(string)
	require.Equal(t, "Approve/Approve/New", summary(second.decisions(id, mkt, ""))["Sam Taylor (Fabrikam)"])
	_, err = second.srv.Advance(14 * 24 * time.Hour)
	require.NoError(t, err)
	third := newHarness(t, Options{StateFile: path})
	third.clock.now = at("2025-12-01T09:00:00Z")
	require.Equal(t, sortedIDs(demoAlice, "012b3aaf-3d42-4a0d-871e-9b480e8216a4", demoSam), third.memberIDs(demoMarketing))
	require.NotContains(t, third.memberIDs(demoSales), demoTom)
	require.Equal(t, "Deny/Approve/AppliedSuccessfully", summary(third.decisions(id, mkt, ""))["Priya Nair (Fabrikam)"])

	// The clock never goes back.
	_, err = third.srv.Advance(-time.Hour)
	require.Error(t, err)
	_, err = third.srv.SetNow(at("2026-01-01T00:00:00Z"))
	require.ErrorContains(t, err, "only moves forward")
}

func TestDefinitionChangesAffectFutureInstancesOnly(t *testing.T) {
	t.Parallel()
	h := lcHarness(t, "2026-01-05T10:00:00Z", Options{})
	body := guestReview()
	setPath(body, "settings.defaultDecisionEnabled", false) // the guests stay for the next quarter
	id := h.create(body)
	before := h.instancesByGroup(id)["Marketing"]
	setPath(body, "settings.instanceDurationInDays", 3)
	body["id"] = id
	require.Equal(t, http.StatusNoContent, h.do(http.MethodPut, definitionsPath+"/"+id, body).status)
	require.Equal(t, before["endDateTime"], h.instancesByGroup(id)["Marketing"]["endDateTime"], "the running instance keeps its schedule")
	h.advanceTo("2026-04-06T00:00:00Z")
	var next map[string]any
	for _, v := range h.do(http.MethodGet, definitionsPath+"/"+id+"/instances?$filter=status eq 'InProgress'", nil).values(t) {
		next = v.(map[string]any)
	}
	require.Equal(t, "2026-04-08T00:00:00Z", next["endDateTime"])

	// Deleting the definition deletes its instances.
	require.Equal(t, http.StatusNoContent, h.do(http.MethodDelete, definitionsPath+"/"+id, nil).status)
	require.Equal(t, http.StatusNotFound, h.do(http.MethodGet, definitionsPath+"/"+id+"/instances", nil).status)
}

func TestLifecycleStateErrors(t *testing.T) {
	t.Parallel()
	const inst = `"id":"x","periodStart":"2026-01-05T00:00:00Z","startDateTime":"2026-01-05T00:00:00Z","endDateTime":"2026-01-19T00:00:00Z","status":"InProgress","scope":{"query":"/groups/` + demoEng + `/members","queryType":"MicrosoftGraph"}`
	for name, tc := range map[string]struct{ lifecycle, instances, msg string }{
		"clock offset":     {`{"clockOffset":"soon"}`, `[]`, "clockOffset"},
		"negative offset":  {`{"clockOffset":"-1h"}`, `[]`, "clockOffset"},
		"instance":         {`{}`, `[{"id":"x"}]`, "instances[0]: periodStart is missing"},
		"instance shape":   {`{}`, `[7]`, "instances[0]"},
		"null decision":    {`{}`, `[{` + inst + `,"decisions":[null]}]`, "decisions[0] is null"},
		"decision without": {`{}`, `[{` + inst + `,"decisions":[{"id":"d"}]}]`, "decisions[0]: principal.id is missing"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "state.json")
			state := `{"formatVersion":1,"lifecycle":` + tc.lifecycle + `,"definitions":[` + storedEntry("33b01ac7-5a3c-4a2e-a394-a5f15237c292", tc.instances) + `]}`
			require.NoError(t, os.WriteFile(path, []byte(state), 0o644))
			_, err := New(Options{StateFile: path})
			require.ErrorContains(t, err, tc.msg)
		})
	}
}

func TestTeamsEnumeration(t *testing.T) {
	t.Parallel()
	h := lcHarness(t, "2026-01-05T10:00:00Z", Options{})
	body := guestReview()
	// Guests in all Teams: Project Falcon and Engineering are Teams; only
	// Project Falcon has guests.
	setPath(body, "instanceEnumerationScope.query", "/groups?$filter=(groupTypes/any(c:c eq 'Unified') and resourceProvisioningOptions/Any(x:x eq 'Team'))")
	id := h.create(body)
	require.Equal(t, []string{"Project Falcon"}, slices.Sorted(maps.Keys(h.instancesByGroup(id))))

	// The docs' copy of that filter has a stray quote: not a filter the
	// emulator can read, so no instance is made.
	setPath(body, "instanceEnumerationScope.query", "/groups?$filter=(groupTypes/any(c:c eq 'Unified') and resourceProvisioningOptions/Any(x:x eq 'Team')')")
	setPath(body, "settings.recurrence.range.startDate", "2026-02-01")
	id = h.create(body)
	evs := h.advanceTo("2026-02-01T00:00:00Z") // the first review's instance ends on the way
	last := evs[len(evs)-1]
	require.Equal(t, EventPeriodSkipped, last.Kind)
	require.Contains(t, last.Detail, "not emulated")
	require.Empty(t, h.instancesByGroup(id))
	setPath(body, "settings.recurrence.range.startDate", "2026-01-05")

	// Every group (no filter): dynamic and role-assignable groups are left out.
	tenant := &Tenant{Admin: "admin@contoso.com", Users: []User{{UserPrincipalName: "admin@contoso.com"}, {UserPrincipalName: "g@x.com", UserType: "Guest"}},
		Groups: []Group{
			{DisplayName: "Plain", Members: []string{"g@x.com"}, Owners: []string{"admin@contoso.com"}},
			{DisplayName: "Dynamic", GroupTypes: []string{"Unified", "DynamicMembership"}, Members: []string{"g@x.com"}},
			{DisplayName: "Privileged", IsAssignableToRole: true, Members: []string{"g@x.com"}},
		}}
	h2 := lcHarness(t, "2026-01-05T10:00:00Z", Options{Tenant: tenant})
	setPath(body, "instanceEnumerationScope.query", "/groups")
	setPath(body, "fallbackReviewers", nil)
	id = h2.create(body)
	insts := h2.do(http.MethodGet, definitionsPath+"/"+id+"/instances", nil).values(t)
	require.Len(t, insts, 1)
	require.Contains(t, getPath(insts[0], "scope.query"), "/groups/"+nameGUID("group:plain")+"/members")
}

// TestDirectoryReadsDuringApply reads the directory while the lifecycle
// changes it (run with -race): applied removals and deletions never race
// with member, user and token look-ups.
func TestDirectoryReadsDuringApply(t *testing.T) {
	t.Parallel()
	h := lcHarness(t, "2025-12-01T09:00:00Z", Options{})
	body := guestReview()
	setPath(body, "settings.applyActions", []any{
		map[string]any{"@odata.type": "#microsoft.graph.removeAccessApplyAction"},
		map[string]any{"@odata.type": "#microsoft.graph.disableAndDeleteUserApplyAction"},
	})
	h.create(body)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, path := range []string{"groups/" + demoMarketing + "/members", "users/" + demoPriya, "users?$filter=userType eq 'Guest'", "groups/" + demoFalcon + "/transitiveMembers"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				r := h.as("alice@contoso.com").do(http.MethodGet, path, nil)
				if r.status != http.StatusOK && r.status != http.StatusNotFound {
					t.Errorf("GET %s: %d %s", path, r.status, r.body)
					return
				}
			}
		}()
	}
	for _, step := range []string{"2026-01-05T01:00:00Z", "2026-01-19T01:00:00Z", "2026-02-20T00:00:00Z"} {
		h.advanceTo(step)
	}
	close(done)
	wg.Wait()
	require.Equal(t, http.StatusNotFound, h.do(http.MethodGet, "users/"+demoPriya, nil).status, "denied by default and deleted 30 days later")
}
