package emulator

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// FuzzLifecycleQueries creates reviews with arbitrary scope, enumeration
// and reviewer queries and runs them: whatever the service accepts, the
// lifecycle must evaluate (or mark as not emulated) without panicking, and
// every instance and decision read must be answered.
func FuzzLifecycleQueries(f *testing.F) {
	for _, s := range [][3]string{
		{"./members/microsoft.graph.user/?$filter=(userType eq 'Guest')", "/groups?$filter=(groupTypes/any(c:c+eq+'Unified'))", "./owners"},
		{"/groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/transitiveMembers", "", "./manager"},
		{"/roleManagement/directory/roleDefinitions/f2ef992c-3afb-46b9-b7cf-a126ee74c451", "", "/groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/owners?$filter=microsoft.graph.user/userType eq 'Member'"},
		{"./transitiveMembers/microsoft.graph.group", "/groups/ea1ee477-0a50-41ac-8699-c70d0c1f868a", "/servicePrincipals/1b1a8bd4-1790-4175-96a8-e33def257415/owners"},
		{"/users?$filter=(", "/groups?$expand=members", "/users/nobody"},
		{"./", "/groups/", "./"},
		{"/groups/%zz/members", "/groups?$filter=resourceProvisioningOptions/Any(x:x eq 'Team')'", "/groups"},
	} {
		f.Add(s[0], s[1], s[2], uint8(0))
	}
	f.Fuzz(func(t *testing.T, scope, enum, reviewer string, flags uint8) {
		srv, err := New(Options{Seed: 1, PageSize: 3, Clock: func() time.Time { return at("2026-01-01T00:00:00Z") }})
		if err != nil {
			t.Fatal(err)
		}
		body := map[string]any{
			"displayName": "fuzz",
			"scope":       map[string]any{"queryType": "MicrosoftGraph", "query": scope},
			"reviewers":   []any{map[string]any{"queryType": "MicrosoftGraph", "query": reviewer, "queryRoot": "decisions"}},
			"settings": map[string]any{
				"instanceDurationInDays": int(flags % 9), "defaultDecisionEnabled": flags&8 != 0, "defaultDecision": "Recommendation",
				"autoApplyDecisionsEnabled": flags&16 != 0, "recommendationsEnabled": flags&32 != 0,
				"recurrence": map[string]any{"pattern": map[string]any{"type": "weekly", "interval": 1 + int(flags%3)},
					"range": map[string]any{"type": "noEnd", "startDate": "2026-01-02"}},
			},
		}
		if flags&64 != 0 {
			body["scope"] = map[string]any{"@odata.type": typeInactiveScope, "queryType": "MicrosoftGraph", "query": scope, "inactiveDuration": "P30D"}
		}
		if flags&128 != 0 {
			body["scope"] = map[string]any{"@odata.type": typePRMScope,
				"principalScopes": []any{map[string]any{"@odata.type": typeQueryScope, "queryType": "MicrosoftGraph", "query": reviewer}},
				"resourceScopes":  []any{map[string]any{"@odata.type": typeQueryScope, "queryType": "MicrosoftGraph", "query": scope}}}
		}
		if enum != "" {
			body["instanceEnumerationScope"] = map[string]any{"queryType": "MicrosoftGraph", "query": enum}
		}
		raw, _ := json.Marshal(body)
		rec := serve(srv, http.MethodPost, "/v1.0/"+definitionsPath, raw)
		checkAnswer(t, rec, "create")
		if rec.Code != http.StatusCreated {
			return
		}
		var created struct{ ID string }
		if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil {
			t.Fatal(err)
		}
		if _, err := srv.Advance(40 * 24 * time.Hour); err != nil {
			t.Fatal(err)
		}
		base := "/v1.0/" + definitionsPath + "/" + created.ID + "/instances"
		rec = serve(srv, http.MethodGet, base, nil)
		checkAnswer(t, rec, "instances")
		var insts struct{ Value []struct{ ID string } }
		if err := json.Unmarshal(rec.Body.Bytes(), &insts); err != nil {
			t.Fatal(err)
		}
		for _, in := range insts.Value {
			for _, p := range []string{"", "/decisions?$filter=recommendation eq 'Deny'", "/contactedReviewers", "/decisions?$top=2&$skip=1"} {
				checkAnswer(t, serve(srv, http.MethodGet, base+"/"+in.ID+p, nil), p)
			}
		}
	})
}

// FuzzInstanceRequests sends arbitrary methods, paths and bodies under a
// running instance: no panic, no 5xx, Graph's error shape.
func FuzzInstanceRequests(f *testing.F) {
	for _, s := range []struct{ method, path, body string }{
		{"GET", "decisions?$filter=decision eq 'Deny' and applyResult eq 'New'&$orderby=recommendation desc", ""},
		{"POST", "batchRecordDecisions", `{"decision":"Approve","justification":"ok","principalId":"7e95ba56-3aee-4988-b07a-2715a9b7ba9b"}`},
		{"POST", "batchRecordDecisions", `{"decision":1}`},
		{"PATCH", "decisions/DECISION", `{"decision":"Deny","justification":null}`},
		{"PUT", "", `{"scope":{"query":"x"},"reviewers":[{"query":"./owners"}],"fallbackReviewers":[]}`},
		{"POST", "stop", ""},
		{"POST", "applyDecisions", "[]"},
		{"POST", "resetDecisions", "{}"},
		{"POST", "acceptRecommendations", ""},
		{"GET", "decisions/filterByCurrentUser(on='reviewer')?$select=id", ""},
		{"GET", "contactedReviewers?$filter=id eq 'x'", ""},
		{"DELETE", "decisions", ""},
	} {
		f.Add(s.method, s.path, []byte(s.body))
	}
	srv := fuzzServer(f)
	valid, _ := json.Marshal(validDefinition()) // starts today: an instance is running
	rec := serve(srv, http.MethodPost, "/v1.0/"+definitionsPath, valid)
	var created struct{ ID string }
	if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil {
		f.Fatal(err)
	}
	base := "/v1.0/" + definitionsPath + "/" + created.ID + "/instances"
	var insts struct{ Value []struct{ ID string } }
	if err := json.Unmarshal(serve(srv, http.MethodGet, base, nil).Body.Bytes(), &insts); err != nil || len(insts.Value) != 1 {
		f.Fatalf("no running instance: %v", err)
	}
	inst := base + "/" + insts.Value[0].ID
	var decs struct{ Value []struct{ ID string } }
	_ = json.Unmarshal(serve(srv, http.MethodGet, inst+"/decisions", nil).Body.Bytes(), &decs)
	f.Fuzz(func(t *testing.T, method, path string, body []byte) {
		switch method {
		case "GET", "POST", "PATCH", "PUT", "DELETE":
		default:
			method = "GET"
		}
		if len(decs.Value) > 0 {
			path = strings.ReplaceAll(path, "DECISION", decs.Value[0].ID)
		}
		target := inst
		if path != "" {
			target += "/" + path
		}
		checkAnswer(t, serve(srv, method, target, body), method+" "+path)
	})
}
