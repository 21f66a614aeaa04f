package emulator

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/csdlcheck"
)

// The schema walk: every response of a full scenario, on /v1.0 and on
// /beta, is checked against Microsoft Graph's schema for that version
// (testdata/csdl, from msgraph-metadata): no unknown properties, no null or
// missing non-nullable ones, collections present and never null, JSON
// types, formats, enum members and @odata.type.

// loadSchemas reads the schema summaries for both versions.
func loadSchemas(t testing.TB) map[string]*csdlcheck.Schema {
	t.Helper()
	dir := filepath.Join("testdata", "csdl")
	out := map[string]*csdlcheck.Schema{}
	for _, v := range []string{"v1.0", "beta"} {
		s, err := csdlcheck.Load(filepath.Join(dir, v+".json"), filepath.Join(dir, "supplement-"+v+".json"))
		require.NoError(t, err)
		out[v] = s
	}
	return out
}

// guidProps are the properties whose strings are GUIDs in access-review
// payloads: entity ids, the parent instance of a decision and identities.
func guidProps(_, prop string) bool {
	switch prop {
	case "id", "accessReviewId", "userId", "servicePrincipalId":
		return true
	}
	return false
}

// schemaWalk sends requests through a harness and checks every JSON
// response; problems are collected so that one run lists them all.
type schemaWalk struct {
	t        *testing.T
	h        *harness
	schemas  map[string]*csdlcheck.Schema
	problems []string
	checked  map[string]int // type -> objects checked
}

func newSchemaWalk(t *testing.T, h *harness) *schemaWalk {
	return &schemaWalk{t: t, h: h, schemas: loadSchemas(t), checked: map[string]int{}}
}

// versionOf is the API version a path is sent to.
func versionOf(path string) string {
	if strings.HasPrefix(path, "/beta/") {
		return "beta"
	}
	return "v1.0"
}

// check checks a response body as typ (a collection when the body has a
// "value" array). Responses to $select carry only what was selected, so
// they are checked as partial objects.
func (w *schemaWalk) check(what, version, typ string, body []byte, partial bool) {
	w.t.Helper()
	s := w.schemas[version]
	opts := csdlcheck.Options{Mode: csdlcheck.Response, GUID: guidProps}
	if partial {
		opts.Mode = csdlcheck.Request
	}
	var probs []csdlcheck.Problem
	var err error
	var page struct {
		Value []json.RawMessage `json:"value"`
	}
	require.NoError(w.t, json.Unmarshal(body, &page), "%s: %s", what, body)
	if page.Value != nil {
		probs, err = s.CheckCollection(typ, body, opts)
		w.checked[version+" "+typ] += len(page.Value)
	} else {
		probs, err = s.Check(typ, body, opts)
		w.checked[version+" "+typ]++
	}
	require.NoError(w.t, err, "%s: %s", what, body)
	for _, p := range probs {
		w.problems = append(w.problems, fmt.Sprintf("%s (%s %s): %s", what, version, typ, p))
	}
}

// get reads path (following @odata.nextLink) and checks each page.
func (w *schemaWalk) get(path, typ string) []map[string]any {
	w.t.Helper()
	var items []map[string]any
	next := path
	for next != "" {
		r := w.h.do(http.MethodGet, next, nil)
		require.Equal(w.t, http.StatusOK, r.status, "GET %s: %s", next, r.body)
		w.check("GET "+next, versionOf(path), typ, r.body, strings.Contains(next, "$select="))
		m := r.json(w.t)
		vals, isList := m["value"].([]any)
		if !isList {
			return []map[string]any{m}
		}
		for _, v := range vals {
			items = append(items, v.(map[string]any))
		}
		next, _ = m["@odata.nextLink"].(string)
	}
	return items
}

// send sends a write and checks its JSON answer, if any, as typ.
func (w *schemaWalk) send(method, path string, body any, typ string, want int) map[string]any {
	w.t.Helper()
	r := w.h.do(method, path, body)
	require.Equal(w.t, want, r.status, "%s %s: %s", method, path, r.body)
	if len(r.body) == 0 {
		return nil
	}
	w.check(method+" "+path, versionOf(path), typ, r.body, false)
	return r.json(w.t)
}

func (w *schemaWalk) requireClean() {
	w.t.Helper()
	if len(w.problems) > 0 {
		w.t.Fatalf("%d responses differ from Graph's schema:\n%s", len(w.problems), strings.Join(w.problems, "\n"))
	}
}

const (
	tDefinition = "accessReviewScheduleDefinition"
	tInstance   = "accessReviewInstance"
	tDecision   = "accessReviewInstanceDecisionItem"
	tReviewer   = "accessReviewReviewer"
	tStage      = "accessReviewStage"
)

// schemaScenarioDefinitions are create bodies of every kind the emulator
// knows; beta adds the beta-only properties.
func schemaScenarioDefinitions(version string) map[string]map[string]any {
	defs := map[string]map[string]any{}
	user := func(id string) map[string]any {
		return map[string]any{"query": "/users/" + id, "queryType": "MicrosoftGraph"}
	}
	base := func(name string) map[string]any {
		return map[string]any{
			"displayName":             name + " (" + version + ")",
			"descriptionForAdmins":    "Schema walk\n[arsync:" + strings.ReplaceAll(name, " ", "-") + "-" + version + "]",
			"descriptionForReviewers": "Please review",
			"reviewers":               []any{user(demoAlice)},
			"settings": map[string]any{
				"mailNotificationsEnabled": true,
				"instanceDurationInDays":   7,
				"recommendationsEnabled":   true,
				"recurrence": map[string]any{
					"pattern": map[string]any{"type": "weekly", "interval": 2},
					"range":   map[string]any{"type": "noEnd", "startDate": "2026-01-05"},
				},
			},
		}
	}

	// Guests of every Microsoft 365 group, owners reviewing (the tutorial).
	defs["all groups"] = guestReview()
	defs["all groups"]["displayName"] = "All groups (" + version + ")"
	setPath(defs["all groups"], "instanceEnumerationScope.query", "/"+version+"/groups?$filter=(groupTypes/any(c:c+eq+'Unified'))&$count=true")

	d := base("group members")
	d["scope"] = map[string]any{"@odata.type": typeQueryScope, "queryType": "MicrosoftGraph", "query": "/groups/" + demoMarketing + "/transitiveMembers/microsoft.graph.user/?$filter=(userType eq 'Guest')"}
	setPath(d, "settings.recurrence", map[string]any{"range": map[string]any{"type": "endDate", "startDate": "2026-01-05", "endDate": "2026-02-05"}})
	setPath(d, "settings.applyActions", []any{map[string]any{"@odata.type": typeDisableAndDelete}})
	setPath(d, "settings.recommendationLookBackDuration", "PT720H")
	setPath(d, "settings.recommendationInsightSettings", []any{
		map[string]any{"@odata.type": typeLastSignIn, "recommendationLookBackDuration": "P60D", "signInScope": "tenant"},
		map[string]any{"@odata.type": typePeerOutlier},
	})
	setPath(d, "settings.decisionHistoriesForReviewersEnabled", true)
	defs["group members"] = d

	d = base("inactive guests")
	d["scope"] = map[string]any{"@odata.type": typeInactiveScope, "queryType": "MicrosoftGraph", "query": "./members/microsoft.graph.user/?$filter=(userType eq 'Guest')", "inactiveDuration": "P90D"}
	d["instanceEnumerationScope"] = map[string]any{"queryType": "MicrosoftGraph", "query": "/groups/" + demoFalcon}
	d["reviewers"] = []any{map[string]any{"queryType": "MicrosoftGraph", "query": "./owners"}}
	d["fallbackReviewers"] = []any{user(demoAdmin)}
	defs["inactive guests"] = d

	d = base("app assignments")
	d["scope"] = map[string]any{"@odata.type": typePRMScope,
		"principalScopes": []any{map[string]any{"@odata.type": typeQueryScope, "query": "/users", "queryType": "MicrosoftGraph"}},
		"resourceScopes":  []any{map[string]any{"@odata.type": typeQueryScope, "query": "/servicePrincipals/" + demoPayroll, "queryType": "MicrosoftGraph"}},
	}
	d["reviewers"] = []any{map[string]any{"queryType": "MicrosoftGraph", "query": "/servicePrincipals/" + demoPayroll + "/owners"}}
	d["fallbackReviewers"] = []any{user(demoAdmin)}
	setPath(d, "settings.recurrence.range", map[string]any{"type": "numbered", "numberOfOccurrences": 4, "startDate": "2026-01-05"})
	defs["app assignments"] = d

	d = base("role members")
	d["scope"] = map[string]any{"@odata.type": typePRMScope,
		"principalScopes": []any{
			map[string]any{"@odata.type": typeQueryScope, "query": "/users", "queryType": "MicrosoftGraph"},
			map[string]any{"@odata.type": typeInactiveScope, "queryType": "MicrosoftGraph", "query": "/users?$filter=(userType eq 'Guest')", "inactiveDuration": "P30D"},
		},
		"resourceScopes": []any{map[string]any{"@odata.type": typeQueryScope, "queryType": "MicrosoftGraph", "query": "/roleManagement/directory/roleDefinitions/" + demoGlobalRdr}},
	}
	d["reviewers"] = []any{map[string]any{"query": "./manager", "queryType": "MicrosoftGraph", "queryRoot": "decisions"}}
	d["fallbackReviewers"] = []any{user(demoAdmin)}
	defs["role members"] = d

	d = base("two stages")
	d["scope"] = map[string]any{"@odata.type": typeQueryScope, "queryType": "MicrosoftGraph", "query": "/groups/" + demoSales + "/members"}
	stage1 := map[string]any{"stageId": "1", "durationInDays": 2, "recommendationsEnabled": true,
		"reviewers":                     []any{user(demoBob)},
		"recommendationInsightSettings": []any{map[string]any{"@odata.type": typeLastSignIn, "recommendationLookBackDuration": "P30D"}}}
	stage2 := map[string]any{"stageId": "2", "dependsOn": []any{"1"}, "durationInDays": 3, "recommendationsEnabled": false,
		"decisionsThatWillMoveToNextStage": []any{"NotReviewed", "Approve"},
		"reviewers":                        []any{user(demoAdmin)}, "fallbackReviewers": []any{user(demoAlice)}}
	if version == "beta" {
		stage1["recommendationLookBackDuration"] = "P14D"
	}
	d["stageSettings"] = []any{stage1, stage2}
	defs["two stages"] = d

	d = base("recipients")
	d["scope"] = map[string]any{"queryType": "MicrosoftGraph", "query": "/groups/" + demoFinance + "/transitiveMembers"}
	d["reviewers"] = []any{}
	d["additionalNotificationRecipients"] = []any{map[string]any{"notificationTemplateType": "CompletedAdditionalRecipients",
		"notificationRecipientScope": map[string]any{"queryType": "MicrosoftGraph", "query": "/groups/" + demoFinance + "/members"}}}
	defs["self review with recipients"] = d

	d = base("app users")
	d["scope"] = map[string]any{"queryType": "MicrosoftGraph", "query": "/servicePrincipals/" + demoPayroll + "/appRoleAssignedTo"}
	defs["application"] = d

	// A form the emulator does not evaluate: beta's instances say why in
	// their errors.
	d = base("access package")
	d["scope"] = map[string]any{"queryType": "MicrosoftGraph", "query": "/identityGovernance/entitlementManagement/accessPackageAssignments?$filter=(accessPackageId eq '9b1b6c1e-5c4a-4a39-9f0a-2d2f4c3b1a00' and catalogId eq '5a2c6b1e-1c4a-4a39-9f0a-2d2f4c3b1a01')"}
	defs["access package"] = d

	if version == "beta" {
		d = base("beta only")
		d["scope"] = map[string]any{"queryType": "MicrosoftGraph", "query": "/groups/" + demoMarketing + "/members"}
		d["backupReviewers"] = []any{user(demoAdmin)}
		setPath(d, "settings.isAgenticExperienceEnabled", true)
		defs["beta only"] = d
	}
	return defs
}

func TestSchemaWalk(t *testing.T) {
	t.Parallel()
	h := lcHarness(t, "2025-12-01T09:00:00Z", Options{PageSize: 2})
	w := newSchemaWalk(t, h)
	versions := []string{"v1.0", "beta"}
	defsPath := func(v string) string { return "/" + v + "/" + definitionsPath }

	// Create every kind through both versions.
	var ids []string
	byName := map[string]string{} // "version name" -> id
	for _, v := range versions {
		defs := schemaScenarioDefinitions(v)
		for _, name := range slices.Sorted(maps.Keys(defs)) {
			created := w.send(http.MethodPost, defsPath(v), defs[name], tDefinition, http.StatusCreated)
			ids = append(ids, created["id"].(string))
			byName[v+" "+name] = created["id"].(string)
		}
	}

	readDefinitions := func() {
		for _, v := range versions {
			for _, id := range ids {
				w.get(defsPath(v)+"/"+id, tDefinition)
				w.get(defsPath(v)+"/"+id+"?$select=id,displayName,settings", tDefinition)
			}
			require.Len(t, w.get(defsPath(v), tDefinition), len(ids))
			require.Len(t, w.get(defsPath(v)+"?$count=true&$top=3", tDefinition), len(ids))
			w.get(defsPath(v)+"?$filter=status eq 'NotStarted'&$select=id,status", tDefinition)
			w.h = h.as("alice@contoso.com")
			w.get(defsPath(v)+"/filterByCurrentUser(on='reviewer')", tDefinition)
			w.h = h
			r := h.do(http.MethodGet, defsPath(v)+"/$count", nil)
			require.Equal(t, http.StatusOK, r.status)
			n, err := strconv.Atoi(string(r.body))
			require.NoError(t, err, "$count is a plain integer: %s", r.body)
			require.Equal(t, len(ids), n)
		}
	}
	readDefinitions()

	// An update through each version, read back through both.
	for i, v := range versions {
		id := ids[i]
		got := h.do(http.MethodGet, defsPath(v)+"/"+id, nil).json(t)
		for _, k := range []string{"@odata.context", "createdBy", "createdDateTime", "lastModifiedDateTime", "status"} {
			delete(got, k)
		}
		got["displayName"] = fmt.Sprintf("Updated through %s", v)
		w.send(http.MethodPut, defsPath(v)+"/"+id, got, tDefinition, http.StatusNoContent)
	}

	// The reviews start: instances, decisions and reviewers.
	h.advanceTo("2026-01-05T10:00:00Z")
	readInstances := func() {
		for _, v := range versions {
			for _, id := range ids {
				base := defsPath(v) + "/" + id + "/instances"
				insts := w.get(base, tInstance)
				require.NotEmpty(t, insts, "definition %s has instances", id)
				w.get(base+"?$count=true&$filter=status eq 'InProgress'", tInstance)
				w.get(base+"?$select=id,status", tInstance)
				for _, in := range insts {
					ib := base + "/" + in["id"].(string)
					w.get(ib, tInstance)
					w.get(ib+"/contactedReviewers", tReviewer)
					for _, d := range w.get(ib+"/decisions?$count=true", tDecision) {
						w.get(ib+"/decisions/"+d["id"].(string), tDecision)
					}
					w.get(ib+"/decisions?$select=id,decision,principal", tDecision)
					for _, st := range w.get(ib+"/stages", tStage) {
						sb := ib + "/stages/" + st["id"].(string)
						w.get(sb, tStage)
						for _, d := range w.get(sb+"/decisions", tDecision) {
							w.get(sb+"/decisions/"+d["id"].(string), tDecision)
						}
					}
				}
			}
			w.h = h.as("alice@contoso.com")
			w.get(defsPath(v)+"/"+ids[0]+"/instances/filterByCurrentUser(on='reviewer')", tInstance)
			w.h = h
		}
	}
	readInstances()
	for _, v := range versions {
		inst := w.get(defsPath("beta")+"/"+byName[v+" access package"]+"/instances", tInstance)[0]
		require.NotEmpty(t, inst["errors"], "beta says why an access-package review has no decisions")
	}

	// Reviewers decide, an instance is changed, stopped and applied.
	for _, v := range versions {
		id := byName[v+" application"]
		base := defsPath(v) + "/" + id + "/instances"
		inst := w.get(base, tInstance)[0]
		ib := base + "/" + inst["id"].(string)
		upd := map[string]any{"scope": inst["scope"], "reviewers": inst["reviewers"],
			"fallbackReviewers": []any{map[string]any{"query": "/users/" + demoAdmin, "queryType": "MicrosoftGraph"}}}
		w.send(http.MethodPut, ib, upd, tInstance, http.StatusOK)
		ds := w.get(ib+"/decisions", tDecision)
		require.NotEmpty(t, ds)
		w.h = h.as("alice@contoso.com")
		w.get(ib+"/decisions/filterByCurrentUser(on='reviewer')", tDecision)
		w.send(http.MethodPatch, ib+"/decisions/"+ds[0]["id"].(string), map[string]any{"decision": "Deny", "justification": "Left"}, tDecision, http.StatusNoContent)
		w.h = h
		w.send(http.MethodPost, ib+"/stop", nil, tInstance, http.StatusNoContent)
		w.send(http.MethodPost, ib+"/applyDecisions", nil, tInstance, http.StatusNoContent)

		// A running stage gets a fallback reviewer.
		base = defsPath(v) + "/" + byName[v+" two stages"] + "/instances"
		ib = base + "/" + w.get(base, tInstance)[0]["id"].(string)
		w.h = h.as("bob@contoso.com")
		require.NotEmpty(t, w.get(ib+"/stages/filterByCurrentUser(on='reviewer')", tStage))
		w.h = h
		st := w.get(ib+"/stages?$filter=status eq 'InProgress'", tStage)[0]
		w.send(http.MethodPatch, ib+"/stages/"+st["id"].(string), map[string]any{
			"fallbackReviewers": []any{map[string]any{"query": "/users/" + demoAdmin, "queryType": "MicrosoftGraph"}}}, tStage, http.StatusOK)
	}

	// Everything ends: completed and applied instances, read again.
	h.advanceTo("2026-03-01T10:00:00Z")
	readDefinitions()
	readInstances()

	w.requireClean()
	for _, v := range versions {
		for _, typ := range []string{tDefinition, tInstance, tDecision, tReviewer, tStage} {
			require.Greater(t, w.checked[v+" "+typ], 5, "the walk checked %s %s payloads", v, typ)
		}
	}
}
