package emulator

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/golden"
)

const (
	demoIvan  = "c51c5986-f275-407c-9bb6-b84cdd8c0e01"
	demoJudy  = "e975c1cf-d223-4fbf-a2ba-b16d4471a5fa"
	demoLaura = "4724b3e7-9ed1-44d5-b320-4bb1c4b7e9e3"
)

// multiStageReview reviews Engineering's members in three stages: Alice
// first (approved and unreviewed members move on), then each member's
// manager (every decision moves on), then the admin; default Deny and
// auto-apply at the end.
func multiStageReview() map[string]any {
	user := func(id string) map[string]any {
		return map[string]any{"query": "/users/" + id, "queryType": "MicrosoftGraph"}
	}
	return map[string]any{
		"displayName": "Engineering access, three stages",
		"scope": map[string]any{
			"@odata.type": "#microsoft.graph.accessReviewQueryScope",
			"query":       "/groups/" + demoEng + "/members",
			"queryType":   "MicrosoftGraph",
		},
		"reviewers": []any{user(demoAdmin)},
		"stageSettings": []any{
			map[string]any{"stageId": "1", "durationInDays": 3, "recommendationsEnabled": false,
				"decisionsThatWillMoveToNextStage": []any{"NotReviewed", "Approve"}, "reviewers": []any{user(demoAlice)}},
			map[string]any{"stageId": "2", "dependsOn": []any{"1"}, "durationInDays": 4, "recommendationsEnabled": true,
				"reviewers":         []any{map[string]any{"query": "./manager", "queryType": "MicrosoftGraph", "queryRoot": "decisions"}},
				"fallbackReviewers": []any{user(demoAdmin)}},
			map[string]any{"stageId": "3", "dependsOn": []any{"2"}, "durationInDays": 3, "recommendationsEnabled": true,
				"reviewers": []any{user(demoAdmin)}},
		},
		"settings": map[string]any{
			"defaultDecisionEnabled":    true,
			"defaultDecision":           "Deny",
			"autoApplyDecisionsEnabled": true,
			"recommendationsEnabled":    true,
			"recurrence": map[string]any{
				"range": map[string]any{"type": "endDate", "startDate": "2026-03-02", "endDate": "2026-03-12"},
			},
		},
	}
}

// itemOf finds the decision item of a principal (by display name prefix).
func itemOf(t *testing.T, ds []map[string]any, name string) string {
	t.Helper()
	for _, d := range ds {
		if strings.HasPrefix(getPath(d, "principal.displayName").(string), name) {
			return d["id"].(string)
		}
	}
	t.Fatalf("no decision item for %s", name)
	return ""
}

func (h *harness) stages(defID, instID string) []map[string]any {
	h.t.Helper()
	r := h.do(http.MethodGet, definitionsPath+"/"+defID+"/instances/"+instID+"/stages", nil)
	require.Equal(h.t, http.StatusOK, r.status, "body: %s", r.body)
	var out []map[string]any
	for _, v := range r.values(h.t) {
		out = append(out, v.(map[string]any))
	}
	return out
}

func (h *harness) stageDecisions(defID, instID, stageID string) []map[string]any {
	h.t.Helper()
	r := h.do(http.MethodGet, definitionsPath+"/"+defID+"/instances/"+instID+"/stages/"+stageID+"/decisions", nil)
	require.Equal(h.t, http.StatusOK, r.status, "body: %s", r.body)
	var out []map[string]any
	for _, v := range r.values(h.t) {
		out = append(out, v.(map[string]any))
	}
	return out
}

func statusesOf(stages []map[string]any) []string {
	var out []string
	for _, s := range stages {
		out = append(out, s["status"].(string)+" "+s["startDateTime"].(string)+" - "+s["endDateTime"].(string))
	}
	return out
}

func TestMultiStageReview(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "emulator.json")
	h := lcHarness(t, "2026-02-20T09:00:00Z", Options{StateFile: state})
	id := h.create(multiStageReview())
	defStatus := func() string {
		t.Helper()
		return h.do(http.MethodGet, definitionsPath+"/"+id, nil).json(t)["status"].(string)
	}
	require.Equal(t, "NotStarted", defStatus())

	// Stage 1 starts with the instance: Alice reviews every member, with
	// no recommendations (stage 1 turns them off).
	evs := h.advanceTo("2026-03-02T09:00:00Z")
	require.Equal(t, []string{"InstanceStarted Engineering"}, eventKinds(evs))
	require.Contains(t, evs[0].Detail, "stage 1 of 3")
	require.Equal(t, "InProgress", defStatus())
	insts := h.do(http.MethodGet, definitionsPath+"/"+id+"/instances", nil).values(t)
	require.Len(t, insts, 1)
	inst := insts[0].(map[string]any)
	instID := inst["id"].(string)
	require.Equal(t, "2026-03-12T00:00:00Z", inst["endDateTime"], "the stages' durations add up")
	base := definitionsPath + "/" + id + "/instances/" + instID
	st := h.stages(id, instID)
	require.Equal(t, []string{"InProgress 2026-03-02T00:00:00Z - 2026-03-05T00:00:00Z"}, statusesOf(st))
	stage1 := st[0]["id"].(string)
	require.Equal(t, "/users/"+demoAlice, getPath(st[0], "reviewers.0.query"))
	require.Equal(t, map[string]string{
		"Ivan Petrov": "NotReviewed/NoInfoAvailable/New", "Judy Chen": "NotReviewed/NoInfoAvailable/New",
		"Ken Adams": "NotReviewed/NoInfoAvailable/New", "Laura Smith": "NotReviewed/NoInfoAvailable/New",
	}, summary(h.decisions(id, instID, "")))
	s1 := h.stageDecisions(id, instID, stage1)
	require.Equal(t, summary(h.decisions(id, instID, "")), summary(s1), "stage 1 reviews everyone")
	require.Equal(t, instID, s1[0]["accessReviewId"])
	require.Equal(t, itemOf(t, h.decisions(id, instID, ""), "Ken"), itemOf(t, s1, "Ken"), "one id per reviewed access")

	// Alice decides through the instance, the stage's batch and the
	// stage's item; Ken stays unreviewed.
	instItems := h.decisions(id, instID, "")
	alice := h.as("alice@contoso.com")
	r := alice.do(http.MethodPatch, base+"/decisions/"+itemOf(t, instItems, "Ivan"), map[string]any{"decision": "Approve", "justification": "on call"})
	require.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
	r = alice.do(http.MethodPost, base+"/stages/"+stage1+"/batchRecordDecisions", map[string]any{"decision": "Deny", "principalId": demoJudy})
	require.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
	r = alice.do(http.MethodPatch, base+"/stages/"+stage1+"/decisions/"+itemOf(t, s1, "Laura"), map[string]any{"decision": "DontKnow"})
	require.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
	require.Equal(t, map[string]string{
		"Ivan Petrov": "Approve/NoInfoAvailable/New", "Judy Chen": "Deny/NoInfoAvailable/New",
		"Ken Adams": "NotReviewed/NoInfoAvailable/New", "Laura Smith": "DontKnow/NoInfoAvailable/New",
	}, summary(h.decisions(id, instID, "")), "the instance shows the stage's decisions")
	r = h.do(http.MethodPost, base+"/stages/nope/stop", nil)
	require.Equal(t, http.StatusNotFound, r.status)

	// Stage 1 ends: approved and unreviewed members move on to their
	// managers, with stage 2's recommendations (Ken has not signed in
	// for months); Judy's Deny and Laura's DontKnow are final.
	evs = h.advanceTo("2026-03-05T12:00:00Z")
	require.Equal(t, []string{"StageStarted Engineering"}, eventKinds(evs))
	require.Contains(t, evs[0].Detail, "stage 2 of 3: 2 of 4 item(s) moved on from stage 1")
	st = h.stages(id, instID)
	require.Equal(t, []string{
		"Completed 2026-03-02T00:00:00Z - 2026-03-05T00:00:00Z",
		"InProgress 2026-03-05T00:00:00Z - 2026-03-09T00:00:00Z",
	}, statusesOf(st))
	stage2 := st[1]["id"].(string)
	s2 := h.stageDecisions(id, instID, stage2)
	require.Equal(t, map[string]string{"Ivan Petrov": "NotReviewed/Approve/New", "Ken Adams": "NotReviewed/Deny/New"}, summary(s2))
	require.Equal(t, map[string]string{
		"Ivan Petrov": "Approve/Approve/New", "Judy Chen": "Deny/NoInfoAvailable/New",
		"Ken Adams": "NotReviewed/Deny/New", "Laura Smith": "DontKnow/NoInfoAvailable/New",
	}, summary(h.decisions(id, instID, "")), "the last decision recorded in any stage")

	// Only the running stage takes decisions, from its own reviewers.
	r = alice.do(http.MethodPatch, base+"/decisions/"+itemOf(t, instItems, "Judy"), map[string]any{"decision": "Approve"})
	require.Equal(t, http.StatusConflict, r.status, "Judy's decision is final")
	r = alice.do(http.MethodPatch, base+"/stages/"+stage1+"/decisions/"+itemOf(t, s1, "Ken"), map[string]any{"decision": "Approve"})
	require.Equal(t, http.StatusConflict, r.status, "stage 1 is over")
	r = alice.do(http.MethodPatch, base+"/decisions/"+itemOf(t, instItems, "Ivan"), map[string]any{"decision": "Deny"})
	require.Equal(t, http.StatusForbidden, r.status, "Ivan's manager reviews stage 2")
	r = h.as("dana@contoso.com").do(http.MethodPatch, base+"/decisions/"+itemOf(t, instItems, "Ivan"), map[string]any{"decision": "Deny", "justification": "moved teams"})
	require.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
	require.Equal(t, "Deny/Approve/New", summary(h.decisions(id, instID, ""))["Ivan Petrov"])
	require.Equal(t, "dana@contoso.com", getPath(h.stageDecisions(id, instID, stage2)[0], "reviewedBy.userPrincipalName"))

	// The stage's reviewers can change while it runs; fallback reviewers
	// can only be added.
	r = h.do(http.MethodPatch, base+"/stages/"+stage2, map[string]any{"fallbackReviewers": []any{}})
	require.Equal(t, http.StatusConflict, r.status, "body: %s", r.body)
	r = h.do(http.MethodPatch, base+"/stages/"+stage2, map[string]any{
		"@odata.type":       "#microsoft.graph.accessReviewStage",
		"fallbackReviewers": []any{map[string]any{"query": "/users/" + demoAdmin, "queryType": "MicrosoftGraph"}, map[string]any{"query": "/users/" + demoAlice, "queryType": "MicrosoftGraph"}},
	})
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	require.Len(t, r.json(t)["fallbackReviewers"], 2)
	r = h.do(http.MethodPatch, base+"/stages/"+stage1, map[string]any{"reviewers": []any{}})
	require.Equal(t, http.StatusConflict, r.status, "a completed stage cannot change")
	r = h.do(http.MethodPatch, base+"/stages/"+stage2, map[string]any{"status": "Completed", "scope": map[string]any{}})
	require.Equal(t, http.StatusBadRequest, r.status, "scope is not a stage property")

	// Stopping stage 2 starts stage 3 at once; every item moves on (stage
	// 2 names no decisions), and stage 3 still ends with the instance.
	require.Equal(t, http.StatusConflict, h.do(http.MethodPost, base+"/stages/"+stage1+"/stop", nil).status)
	h.advanceTo("2026-03-06T09:00:00Z")
	r = h.do(http.MethodPost, base+"/stages/"+stage2+"/stop", nil)
	require.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
	st = h.stages(id, instID)
	require.Equal(t, []string{
		"Completed 2026-03-02T00:00:00Z - 2026-03-05T00:00:00Z",
		"Completed 2026-03-05T00:00:00Z - 2026-03-06T09:00:00Z",
		"InProgress 2026-03-06T09:00:00Z - 2026-03-12T00:00:00Z",
	}, statusesOf(st))
	stage3 := st[2]["id"].(string)
	s3 := h.stageDecisions(id, instID, stage3)
	require.Equal(t, map[string]string{"Ivan Petrov": "NotReviewed/Approve/New", "Ken Adams": "NotReviewed/Deny/New"}, summary(s3))
	require.Len(t, h.as("admin@contoso.com").do(http.MethodGet, base+"/stages/filterByCurrentUser(on='reviewer')", nil).values(t), 1,
		"the admin reviews stage 3 only (every member has a manager)")
	require.Len(t, h.do(http.MethodGet, base+"/stages?$filter=status eq 'Completed'", nil).values(t), 2)
	require.Equal(t, http.StatusBadRequest, h.do(http.MethodGet, base+"/stages?$filter=id eq 'x'", nil).status)
	got := h.do(http.MethodGet, base+"/stages/"+stage3+"?$select=id,status", nil).json(t)
	require.Equal(t, "InProgress", got["status"])
	require.NotContains(t, got, "reviewers")

	// A second emulator on the same state file sees the same stages.
	other := newHarness(t, Options{StateFile: state})
	other.clock.now = at("2026-02-20T09:00:00Z")
	require.Equal(t, statusesOf(st), statusesOf(other.stages(id, instID)))
	require.Equal(t, summary(s3), summary(other.stageDecisions(id, instID, stage3)))

	// The admin approves Ivan in stage 3 and leaves Ken.
	r = h.do(http.MethodPatch, base+"/stages/"+stage3+"/decisions/"+itemOf(t, s3, "Ivan"), map[string]any{"decision": "Approve", "justification": "confirmed"})
	require.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)

	// The end: default Deny on Ken (taken in his last stage), then
	// auto-apply: Judy and Ken leave Engineering.
	evs = h.advanceTo("2026-03-13T00:00:00Z")
	require.Equal(t, []string{
		"InstanceCompleted Engineering", "DecisionsApplied Engineering",
		"AccessRemoved Engineering judy@contoso.com", "AccessRemoved Engineering ken@contoso.com",
	}, eventKinds(evs))
	require.Equal(t, "Applied", h.do(http.MethodGet, base, nil).json(t)["status"])
	require.Equal(t, "Applied", defStatus(), "the last instance of a finished series was applied")
	require.Len(t, h.do(http.MethodGet, definitionsPath+"?$filter=status eq 'Applied'", nil).values(t), 1)
	require.Equal(t, []string{
		"Completed 2026-03-02T00:00:00Z - 2026-03-05T00:00:00Z",
		"Completed 2026-03-05T00:00:00Z - 2026-03-06T09:00:00Z",
		"Completed 2026-03-06T09:00:00Z - 2026-03-12T00:00:00Z",
	}, statusesOf(h.stages(id, instID)))
	require.Equal(t, map[string]string{
		"Ivan Petrov": "Approve/Approve/AppliedSuccessfully", "Judy Chen": "Deny/NoInfoAvailable/AppliedSuccessfully",
		"Ken Adams": "Deny/Deny/AppliedSuccessfully", "Laura Smith": "DontKnow/NoInfoAvailable/New",
	}, summary(h.decisions(id, instID, "")))
	require.Equal(t, map[string]string{"Ivan Petrov": "Approve/Approve/AppliedSuccessfully", "Ken Adams": "Deny/Deny/AppliedSuccessfully"},
		summary(h.stageDecisions(id, instID, stage3)), "each stage item shows what became of it")
	require.Equal(t, "Deny/NoInfoAvailable/AppliedSuccessfully", summary(h.stageDecisions(id, instID, stage1))["Judy Chen"])
	require.Equal(t, sortedIDs(demoIvan, demoLaura), h.memberIDs(demoEng))
	require.Equal(t, http.StatusConflict, h.do(http.MethodPost, base+"/stages/"+stage3+"/stop", nil).status)

	golden.Assert(t, "testdata/lifecycle/stages.json", indentJSON(t, []byte(strings.ReplaceAll(
		string(h.do(http.MethodGet, base+"/stages", nil).body), h.ts.URL, "https://graph.microsoft.com"))))
}

// A stopped instance ends its running stage; the stages that were to
// follow never start, and with auto-apply off the instance stays Completed
// until applyDecisions.
func TestMultiStageInstanceStop(t *testing.T) {
	t.Parallel()
	h := lcHarness(t, "2026-03-02T09:00:00Z", Options{})
	body := multiStageReview()
	setPath(body, "settings.autoApplyDecisionsEnabled", false)
	id := h.create(body)
	inst := h.do(http.MethodGet, definitionsPath+"/"+id+"/instances", nil).values(t)[0].(map[string]any)
	base := definitionsPath + "/" + id + "/instances/" + inst["id"].(string)
	h.advanceTo("2026-03-03T10:00:00Z")
	require.Equal(t, http.StatusNoContent, h.do(http.MethodPost, base+"/stop", nil).status)
	st := h.stages(id, inst["id"].(string))
	require.Equal(t, []string{"Completed 2026-03-02T09:00:00Z - 2026-03-03T10:00:00Z"}, statusesOf(st),
		"created mid-period: the instance and its first stage start at once")
	require.Equal(t, "Completed", h.do(http.MethodGet, base, nil).json(t)["status"])
	require.Equal(t, "Completed", h.do(http.MethodGet, definitionsPath+"/"+id, nil).json(t)["status"])
	h.advanceTo("2026-03-20T00:00:00Z")
	require.Len(t, h.stages(id, inst["id"].(string)), 1, "no later stage starts")
	require.Equal(t, http.StatusNoContent, h.do(http.MethodPost, base+"/applyDecisions", nil).status)
	require.Equal(t, "Applied", h.do(http.MethodGet, definitionsPath+"/"+id, nil).json(t)["status"])
	// Every item got the default Deny in stage 1, its only stage.
	for _, d := range h.stageDecisions(id, inst["id"].(string), st[0]["id"].(string)) {
		require.Equal(t, "Deny", d["decision"])
		require.Equal(t, "AppliedSuccessfully", d["applyResult"])
	}
}

// FuzzStageRequests sends arbitrary methods, paths and bodies under a
// running multi-stage instance: no panic, no 5xx, Graph's error shape.
func FuzzStageRequests(f *testing.F) {
	for _, s := range []struct{ method, path, body string }{
		{"GET", "stages?$filter=status eq 'InProgress'&$select=id,status&$orderby=status desc", ""},
		{"GET", "stages/STAGE/decisions?$filter=decision eq 'NotReviewed'&$top=1", ""},
		{"PATCH", "stages/STAGE", `{"reviewers":[{"query":"./manager","queryRoot":"decisions"}],"fallbackReviewers":[{"query":"/users/x"}]}`},
		{"PATCH", "stages/STAGE/decisions/DECISION", `{"decision":"Approve","justification":"ok"}`},
		{"POST", "stages/STAGE/stop", ""},
		{"POST", "stages/STAGE/batchRecordDecisions", `{"decision":"Deny"}`},
		{"POST", "stages/STAGE/acceptRecommendations", ""},
		{"GET", "stages/filterByCurrentUser(on='reviewer')", ""},
		{"POST", "stop", ""},
		{"PATCH", "decisions/INSTDECISION", `{"decision":"DontKnow"}`},
		{"DELETE", "stages/STAGE", ""},
	} {
		f.Add(s.method, s.path, []byte(s.body))
	}
	srv, err := New(Options{Seed: 1, PageSize: 5, Clock: func() time.Time { return at("2026-03-02T09:00:00Z") }})
	if err != nil {
		f.Fatal(err)
	}
	body, _ := json.Marshal(multiStageReview())
	rec := serve(srv, http.MethodPost, "/v1.0/"+definitionsPath, body)
	var created struct{ ID string }
	if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil {
		f.Fatal(err)
	}
	base := "/v1.0/" + definitionsPath + "/" + created.ID + "/instances"
	var list struct{ Value []struct{ ID string } }
	if err := json.Unmarshal(serve(srv, http.MethodGet, base, nil).Body.Bytes(), &list); err != nil || len(list.Value) != 1 {
		f.Fatalf("no running instance: %v", err)
	}
	inst := base + "/" + list.Value[0].ID
	first := func(path string) string {
		var l struct{ Value []struct{ ID string } }
		_ = json.Unmarshal(serve(srv, http.MethodGet, path, nil).Body.Bytes(), &l)
		if len(l.Value) == 0 {
			f.Fatalf("%s is empty", path)
		}
		return l.Value[0].ID
	}
	stageID := first(inst + "/stages")
	decisionID := first(inst + "/stages/" + stageID + "/decisions")
	instDecision := first(inst + "/decisions")
	f.Fuzz(func(t *testing.T, method, path string, body []byte) {
		switch method {
		case "GET", "POST", "PATCH", "PUT", "DELETE":
		default:
			method = "GET"
		}
		path = strings.NewReplacer("INSTDECISION", instDecision, "STAGE", stageID, "DECISION", decisionID).Replace(path)
		checkAnswer(t, serve(srv, method, inst+"/"+path, body), method+" "+path)
	})
}

// TestStageFallbackReviewers: a stage whose reviewers are nobody (the
// owners of Project Falcon, which has none) is reviewed by the stage's
// fallback reviewers. A stage without fallbackReviewers does not fall back
// to the definition's: the stage's list overrides it, and the emulator
// reads a missing list as empty (docs/graph-behaviour.md#stages).
func TestStageFallbackReviewers(t *testing.T) {
	t.Parallel()
	user := func(id string) map[string]any {
		return map[string]any{"query": "/users/" + id, "queryType": "MicrosoftGraph"}
	}
	review := func(stage2 map[string]any) map[string]any {
		stage2["stageId"], stage2["dependsOn"], stage2["durationInDays"], stage2["recommendationsEnabled"] = "2", []any{"1"}, 4, false
		stage2["reviewers"] = []any{map[string]any{"query": "/groups/" + demoFalcon + "/owners", "queryType": "MicrosoftGraph"}}
		return map[string]any{
			"displayName":       "Falcon guests, two stages",
			"scope":             map[string]any{"query": "/groups/" + demoFalcon + "/transitiveMembers/microsoft.graph.user/?$filter=(userType eq 'Guest')", "queryType": "MicrosoftGraph"},
			"fallbackReviewers": []any{user(demoBob)},
			"stageSettings": []any{
				map[string]any{"stageId": "1", "durationInDays": 3, "recommendationsEnabled": false, "reviewers": []any{user(demoAlice)}},
				stage2,
			},
			"settings": map[string]any{"recurrence": map[string]any{
				"range": map[string]any{"type": "endDate", "startDate": "2026-03-02", "endDate": "2026-03-12"}}},
		}
	}
	tests := []struct {
		name      string
		stage2    map[string]any
		wantStage string   // stage 2's start event
		wantUsers []string // every reviewer contacted once stage 2 runs
	}{
		{"stage fallback", map[string]any{"fallbackReviewers": []any{user(demoAdmin)}},
			"stage 2 of 2: 2 of 2 item(s) moved on from stage 1, 1 more reviewer(s) contacted", []string{demoAlice, demoAdmin}},
		{"none in the stage", map[string]any{},
			"stage 2 of 2: 2 of 2 item(s) moved on from stage 1, 0 more reviewer(s) contacted", []string{demoAlice}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := lcHarness(t, "2026-02-20T09:00:00Z", Options{})
			id := h.create(review(tt.stage2))
			h.advanceTo("2026-03-02T09:00:00Z")
			evs := h.advanceTo("2026-03-05T09:00:00Z")
			require.Len(t, evs, 1)
			require.Equal(t, tt.wantStage, evs[0].Detail)
			inst := h.do(http.MethodGet, definitionsPath+"/"+id+"/instances", nil).values(t)[0].(map[string]any)["id"].(string)
			require.Len(t, h.stages(id, inst), 2)
			var got []string
			for _, v := range h.do(http.MethodGet, definitionsPath+"/"+id+"/instances/"+inst+"/contactedReviewers", nil).values(t) {
				got = append(got, v.(map[string]any)["id"].(string))
			}
			require.Equal(t, tt.wantUsers, got, "stage 1's Alice, then stage 2's")
		})
	}
}
