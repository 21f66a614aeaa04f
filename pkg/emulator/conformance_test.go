package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/golden"
)

// Conformance tests replay the request/response pairs documented in
// docs/graph-behaviour.md#documented-payloads (fixtures in testdata/graph-api) and check that
// the emulator answers with the documented structure, apart from ids and
// timestamps.

const graphBase = "https://graph.microsoft.com"

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "graph-api", name))
	require.NoError(t, err)
	return b
}

// asGraph makes a body look as if graph.microsoft.com had sent it.
func (h *harness) asGraph(b []byte) []byte {
	return bytes.ReplaceAll(b, []byte(h.ts.URL), []byte(graphBase))
}

// topKeys returns an object's keys in document order.
func topKeys(t *testing.T, b []byte, path ...string) []string {
	t.Helper()
	v, err := decodeJSON(bytes.NewReader(b))
	require.NoError(t, err)
	o := v.(*object)
	for _, p := range path {
		o = o.vals[p].(*object)
	}
	return o.keys
}

func TestConformanceCreate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		request    string
		documented string // the documented response, "" when the docs give none
		golden     string
	}{
		{name: "20.1", request: "20.1-create-request.json", golden: "create-20.1.json"},
		{name: "20.2", request: "20.2-create-request.json", documented: "20.2-create-response.json", golden: "create-20.2.json"},
		{name: "20.3", request: "20.3-create-request.json", golden: "create-20.3.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, Options{Seed: 20})
			r := h.do(http.MethodPost, definitionsPath, fixture(t, tt.request))
			require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
			body := h.asGraph(r.body)
			golden.Assert(t, filepath.Join("testdata", "golden", tt.golden), indentJSON(t, body))
			if tt.documented == "" {
				return
			}
			doc := fixture(t, tt.documented)
			// The example is from 2021; the service has returned these
			// since (the 2024 tutorial's response, TestConformanceTutorial).
			body = withoutPaths(t, body, newerProps...)
			var want, got map[string]any
			require.NoError(t, json.Unmarshal(doc, &want))
			require.NoError(t, json.Unmarshal(body, &got))
			for _, k := range []string{"id", "createdDateTime", "lastModifiedDateTime"} {
				require.NotEmpty(t, got[k], k)
				got[k] = want[k]
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("POST response differs from the documented one (-doc +emulator):\n%s", diff)
			}
			// Properties come in the documented order too.
			require.Equal(t, topKeys(t, doc), topKeys(t, body))
			require.Equal(t, topKeys(t, doc, "settings"), topKeys(t, body, "settings"))
			require.Equal(t, topKeys(t, doc, "settings", "recurrence", "range"), topKeys(t, body, "settings", "recurrence", "range"))
		})
	}
}

// newerProps are properties the 2021 reference examples predate and later
// responses carry.
var newerProps = []string{"settings.recommendationLookBackDuration", "settings.decisionHistoriesForReviewersEnabled",
	"settings.recommendationInsightSettings", "stageSettings"}

// withoutPaths returns a JSON object without the members at the dotted
// paths, keeping the order of the others.
func withoutPaths(t *testing.T, b []byte, paths ...string) []byte {
	t.Helper()
	v, err := decodeJSON(bytes.NewReader(b))
	require.NoError(t, err)
	for _, p := range paths {
		parts := strings.Split(p, ".")
		o := v.(*object)
		for _, part := range parts[:len(parts)-1] {
			o = o.vals[part].(*object)
		}
		o.delete(parts[len(parts)-1])
	}
	return marshal(v)
}

// requireSubset checks that every property of want is in got with the same
// value (documented list items are cut short).
func requireSubset(t *testing.T, want, got any, path string) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		require.True(t, ok, "%s: want an object, got %v", path, got)
		for k, v := range w {
			gv, ok := g[k]
			require.True(t, ok, "%s.%s is missing", path, k)
			requireSubset(t, v, gv, path+"."+k)
		}
	case []any:
		g, ok := got.([]any)
		require.True(t, ok, "%s: want an array, got %v", path, got)
		require.Len(t, g, len(w), path)
		for i := range w {
			requireSubset(t, w[i], g[i], fmt.Sprintf("%s[%d]", path, i))
		}
	default:
		require.Equal(t, want, got, path)
	}
}

func TestConformanceList(t *testing.T) {
	t.Parallel()
	// The list example shows the numbered form of a noEnd range and scope
	// queries without a version prefix.
	h := newHarness(t, Options{RangeStyle: RangeNumbered, PlainScopeQueries: true})
	h.create(fixture(t, "20.3-create-request.json"))
	r := h.do(http.MethodGet, definitionsPath+"?$count=true", nil)
	require.Equal(t, http.StatusOK, r.status)

	var want, got map[string]any
	require.NoError(t, json.Unmarshal(fixture(t, "20.3-list-response.json"), &want))
	require.NoError(t, json.Unmarshal(h.asGraph(r.body), &got))
	require.Equal(t, want["@odata.context"], got["@odata.context"])
	require.Equal(t, want["@odata.count"], got["@odata.count"])
	require.NotContains(t, got, "@odata.nextLink")
	wantItem := want["value"].([]any)[0].(map[string]any)
	gotItem := got["value"].([]any)[0].(map[string]any)
	delete(wantItem, "id")
	requireSubset(t, wantItem, gotItem, "value[0]")
	// A real item carries the properties the docs cut (example 20.3, docs/graph-behaviour.md#documented-payloads).
	for _, k := range []string{"createdDateTime", "lastModifiedDateTime", "status", "descriptionForAdmins",
		"descriptionForReviewers", "createdBy", "fallbackReviewers", "additionalNotificationRecipients"} {
		require.Contains(t, gotItem, k)
	}
	require.Equal(t, []any{}, getPath(gotItem, "settings.applyActions"))
}

func TestConformanceGet(t *testing.T) {
	t.Parallel()
	// Example 20.4 (docs/graph-behaviour.md#documented-payloads): a one-time review read back with a /v1.0-prefixed query, empty
	// fallbackReviewers, pattern null, a numbered range with 0 occurrences
	// and a disable-and-delete apply action; the object is not wrapped in
	// {"value": ...}.
	h := newHarness(t, Options{RangeStyle: RangeNumbered})
	body := validDefinition()
	setPath(body, "settings.recurrence", map[string]any{"range": map[string]any{"type": "endDate", "startDate": "2021-04-28", "endDate": "2021-05-08"}})
	setPath(body, "settings.applyActions", []any{map[string]any{"@odata.type": typeDisableAndDelete}})
	id := h.create(body)

	r := h.do(http.MethodGet, definitionsPath+"/"+id, nil)
	require.Equal(t, http.StatusOK, r.status)
	got := r.json(t)
	require.Equal(t, graphBase+"/v1.0/$metadata#identityGovernance/accessReviews/definitions/$entity", string(h.asGraph([]byte(got["@odata.context"].(string)))))
	require.NotContains(t, got, "value")
	require.Equal(t, id, got["id"])
	require.True(t, strings.HasPrefix(getPath(got, "scope.query").(string), "/v1.0/groups/"))
	require.Equal(t, []any{}, got["fallbackReviewers"])
	require.Nil(t, getPath(got, "settings.recurrence.pattern"))
	require.Equal(t, map[string]any{"type": "numbered", "numberOfOccurrences": 0.0, "recurrenceTimeZone": nil,
		"startDate": "2021-04-28", "endDate": "2021-05-08"}, getPath(got, "settings.recurrence.range"))
	require.Equal(t, []any{map[string]any{"@odata.type": typeDisableAndDelete}}, getPath(got, "settings.applyActions"))
	require.Equal(t, "InProgress", got["status"])
}

func TestConformanceUpdateAndDelete(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	id := h.create(fixture(t, "20.1-create-request.json"))

	// Example 20.5 (docs/graph-behaviour.md#put-not-patch): the whole object with its id; read-only properties left out.
	var put map[string]any
	require.NoError(t, json.Unmarshal(fixture(t, "20.1-create-request.json"), &put))
	put["id"] = id
	put["displayName"] = "Test create (updated)"
	put["descriptionForReviewers"] = "Ask jerry@contoso.com"
	setPath(put, "settings.instanceDurationInDays", 2)
	setPath(put, "settings.recurrence", map[string]any{
		"pattern": map[string]any{"type": "weekly", "interval": 2, "month": 0, "dayOfMonth": 0, "daysOfWeek": []any{}, "firstDayOfWeek": "sunday", "index": "first"},
		"range":   map[string]any{"type": "endDate", "numberOfOccurrences": 0, "recurrenceTimeZone": nil, "startDate": "2020-09-08", "endDate": "2022-09-08"},
	})
	r := h.do(http.MethodPut, definitionsPath+"/"+id, put)
	require.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
	require.Empty(t, r.body)

	got := h.do(http.MethodGet, definitionsPath+"/"+id, nil).json(t)
	require.Equal(t, "Test create (updated)", got["displayName"])
	require.Equal(t, "Ask jerry@contoso.com", got["descriptionForReviewers"])
	require.Equal(t, 2.0, getPath(got, "settings.recurrence.pattern.interval"))
	require.Equal(t, "2022-09-08", getPath(got, "settings.recurrence.range.endDate"))
	require.Equal(t, "/v1.0/groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/transitiveMembers", getPath(got, "scope.query"))

	r = h.do(http.MethodDelete, definitionsPath+"/"+id, nil)
	require.Equal(t, http.StatusNoContent, r.status)
	require.Empty(t, r.body)
	require.Equal(t, http.StatusNotFound, h.do(http.MethodGet, definitionsPath+"/"+id, nil).status)
	require.Empty(t, h.do(http.MethodGet, definitionsPath, nil).values(t))
}

// TestConformanceTutorial replays the tutorial "Review guest access to
// groups using access reviews APIs" (docs/graph-behaviour.md#documented-payloads):
// the create response key for key (the definition read back is the same),
// and the instance and decision it lists.
func TestConformanceTutorial(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{Seed: 20})
	r := h.do(http.MethodPost, definitionsPath, fixture(t, "tutorial-m365-create-request.json"))
	require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
	created := h.asGraph(r.body)
	doc := fixture(t, "tutorial-m365-create-response.json")

	// The tutorial cuts createdBy, which every reference example has, and
	// shows null timestamps; the rest is the emulator's answer, in order.
	body := withoutPaths(t, created, "createdBy")
	var want, got map[string]any
	require.NoError(t, json.Unmarshal(doc, &want))
	require.NoError(t, json.Unmarshal(body, &got))
	id := got["id"].(string)
	for _, k := range []string{"id", "createdDateTime", "lastModifiedDateTime"} {
		require.NotEmpty(t, got[k], k)
		got[k] = want[k]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("POST response differs from the tutorial's (-doc +emulator):\n%s", diff)
	}
	for _, path := range [][]string{nil, {"settings"}, {"settings", "recurrence", "pattern"}, {"settings", "recurrence", "range"},
		{"scope"}, {"instanceEnumerationScope"}} {
		require.Equal(t, topKeys(t, doc, path...), topKeys(t, body, path...), "keys of %v", path)
	}

	// A GET answers the same object; beta adds backupReviewers after reviewers.
	r = h.do(http.MethodGet, definitionsPath+"/"+id, nil)
	require.Equal(t, http.StatusOK, r.status)
	require.JSONEq(t, string(created), string(h.asGraph(r.body)))
	require.Equal(t, topKeys(t, created), topKeys(t, r.body))
	r = h.do(http.MethodGet, "/beta/"+definitionsPath+"/"+id, nil)
	require.Equal(t, http.StatusOK, r.status)
	beta := r.json(t)
	require.Equal(t, beta["fallbackReviewers"], beta["backupReviewers"])
	wantKeys := slices.Clone(topKeys(t, created))
	wantKeys = slices.Insert(wantKeys, slices.Index(wantKeys, "reviewers")+1, "backupReviewers")
	require.Equal(t, wantKeys, topKeys(t, r.body))

	// The review starts: one instance per Microsoft 365 group with guests,
	// lasting instanceDurationInDays. The tutorial shows the instance's
	// scope cut short; the reference page (List instances) shows it whole,
	// with @odata.type, queryRoot and the /v1.0 prefix, as the emulator does.
	_, err := h.srv.SetNow(time.Date(2024, 3, 21, 17, 0, 36, 0, time.UTC))
	require.NoError(t, err)
	var docInst map[string]any
	require.NoError(t, json.Unmarshal(fixture(t, "tutorial-m365-instances-response.json"), &docInst))
	wantInst := docInst["value"].([]any)[0].(map[string]any)
	r = h.do(http.MethodGet, definitionsPath+"/"+id+"/instances", nil)
	require.Equal(t, http.StatusOK, r.status)
	insts := r.values(t)
	require.NotEmpty(t, insts)
	inst := insts[0].(map[string]any)
	for k := range wantInst {
		require.Contains(t, inst, k)
	}
	require.Equal(t, wantInst["status"], inst["status"])
	start, _ := time.Parse(time.RFC3339, inst["startDateTime"].(string))
	end, _ := time.Parse(time.RFC3339, inst["endDateTime"].(string))
	require.Equal(t, 3*24*time.Hour, end.Sub(start))
	group := strings.Split(getPath(inst, "scope.query").(string), "/")[3]
	require.Equal(t, "/v1.0"+strings.Replace(getPath(wantInst, "scope.query").(string), "59ab642a-2776-4e32-9b68-9ff7a47b7f6a", group, 1),
		getPath(inst, "scope.query"))

	// Its decisions: the documented item's properties, except target, which
	// v1.0's schema does not have (beta's does).
	var docDec map[string]any
	require.NoError(t, json.Unmarshal(fixture(t, "tutorial-m365-decisions-response.json"), &docDec))
	wantDec := docDec["value"].([]any)[0].(map[string]any)
	r = h.do(http.MethodGet, definitionsPath+"/"+id+"/instances/"+inst["id"].(string)+"/decisions?$count=true", nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.json(t), "@odata.count")
	dec := r.values(t)[0].(map[string]any)
	for k := range wantDec {
		if k != "target" {
			require.Contains(t, dec, k)
		}
	}
	require.NotContains(t, dec, "target")
	require.Equal(t, wantDec["appliedBy"], dec["appliedBy"], "nobody has applied it")
	require.Equal(t, "New", dec["applyResult"])
	require.Equal(t, dec["accessReviewId"], inst["id"])
	require.Equal(t, "#microsoft.graph.userIdentity", getPath(dec, "principal.@odata.type"))
}
