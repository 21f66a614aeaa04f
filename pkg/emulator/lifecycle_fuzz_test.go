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
// Every input gets a fresh server (see freshServers), so what one input
// stores or applies is never seen by another.
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
	// The flags: 8 default decision, 16 auto-apply, 32 recommendations, 64
	// inactive-users scope, 128 principal/resource scope; the low bits set
	// the duration and interval.
	for _, s := range []struct {
		scope, enum, reviewer string
		flags                 uint8
	}{
		{"./members/microsoft.graph.user/?$count=true&$filter=(userType eq 'Guest')", "/groups?$filter=(groupTypes/any(c:c+eq+'Unified') and resourceProvisioningOptions/Any(x:x eq 'Team'))&$count=true", "./owners", 8 | 16 | 32 | 3},
		{"/groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/transitiveMembers/microsoft.graph.user", "", "/users/398164b1-5196-49dd-ada2-364b49f99b27", 8 | 16 | 1},
		{"./members/microsoft.graph.user", "/groups?$filter=(groupTypes/any(c:c eq 'Unified'))", "./owners", 64 | 8 | 16 | 32 | 7},
		{"/servicePrincipals/1b1a8bd4-1790-4175-96a8-e33def257415", "", "/users", 128 | 8 | 16 | 2},
		{"/roleManagement/directory/roleDefinitions/62e90394-69f5-4237-9190-012177145e10", "", "/users?$filter=(userType eq 'Member')", 128 | 32 | 5},
	} {
		f.Add(s.scope, s.enum, s.reviewer, s.flags)
	}
	servers := newFreshServers(f, Options{Seed: 1, PageSize: 3, Clock: func() time.Time { return at("2026-01-01T00:00:00Z") }})
	f.Fuzz(func(t *testing.T, scope, enum, reviewer string, flags uint8) {
		srv := servers.get(t)
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
// running instance, as the admin or as the instance's reviewer: no panic,
// no 5xx, Graph's error shape.
func FuzzInstanceRequests(f *testing.F) {
	for _, s := range []struct {
		method, path, body string
		asReviewer         bool
	}{
		{"POST", "batchRecordDecisions", `{"decision":"Deny","justification":"left the project","principalId":"7e95ba56-3aee-4988-b07a-2715a9b7ba9b"}`, true},
		{"POST", "batchRecordDecisions", `{"decision":"Approve","justification":"","resourceId":"ea1ee477-0a50-41ac-8699-c70d0c1f868a"}`, true},
		{"PATCH", "decisions/DECISION", `{"decision":"Deny","justification":"no longer needed"}`, true},
		{"GET", "decisions/filterByCurrentUser(on='reviewer')?$filter=decision eq 'NotReviewed'&$top=1", "", true},
		{"POST", "acceptRecommendations", "", true},
	} {
		f.Add(s.method, s.path, []byte(s.body), s.asReviewer)
	}
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
		f.Add(s.method, s.path, []byte(s.body), false)
	}
	// Every input gets a fresh server with one definition that starts
	// today, so an input that stops the instance or records decisions
	// leaves nothing behind for the next, and a failing input fails the
	// same way when re-run alone. The ids depend only on the seed and the
	// order of requests, so the instance and a decision are looked up once.
	servers := newFreshServers(f, Options{Seed: 1, PageSize: 5, Clock: func() time.Time { return t0 }})
	valid, _ := json.Marshal(validDefinition())
	create := func(tb testing.TB) (*Server, string) {
		tb.Helper()
		srv := servers.get(tb)
		rec := serve(srv, http.MethodPost, "/v1.0/"+definitionsPath, valid)
		var created struct{ ID string }
		if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil || rec.Code != http.StatusCreated {
			tb.Fatalf("create: %d %s", rec.Code, rec.Body.Bytes())
		}
		return srv, "/v1.0/" + definitionsPath + "/" + created.ID + "/instances"
	}
	srv, base := create(f)
	var insts struct{ Value []struct{ ID string } }
	if err := json.Unmarshal(serve(srv, http.MethodGet, base, nil).Body.Bytes(), &insts); err != nil || len(insts.Value) != 1 {
		f.Fatalf("no running instance: %v", err)
	}
	inst := base + "/" + insts.Value[0].ID
	var decs struct{ Value []struct{ ID string } }
	if err := json.Unmarshal(serve(srv, http.MethodGet, inst+"/decisions", nil).Body.Bytes(), &decs); err != nil || len(decs.Value) == 0 {
		f.Fatalf("no decisions: %v", err)
	}
	decision := decs.Value[0].ID
	// The same ids on the next server, without the look-ups in between.
	if srv, again := create(f); again != base {
		f.Fatalf("the definition's id is not the same on a fresh server: %s, then %s", base, again)
	} else if rec := serve(srv, http.MethodGet, inst+"/decisions/"+decision, nil); rec.Code != http.StatusOK {
		f.Fatalf("the instance and decision ids are not the same on a fresh server: %d %s", rec.Code, rec.Body.Bytes())
	}
	f.Fuzz(func(t *testing.T, method, path string, body []byte, asReviewer bool) {
		srv, _ := create(t)
		upn := "admin@contoso.com"
		if asReviewer {
			upn = "alice@contoso.com" // validDefinition's reviewer
		}
		switch method {
		case "GET", "POST", "PATCH", "PUT", "DELETE":
		default:
			method = "GET"
		}
		path = strings.ReplaceAll(path, "DECISION", decision)
		target := inst
		if path != "" {
			target += "/" + path
		}
		checkAnswer(t, serveAs(srv, upn, method, target, body), method+" "+path)
	})
}
