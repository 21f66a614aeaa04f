package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The state file may be edited by hand or cut short: loading it must give
// one error naming the file, the place and what is wrong, never a panic,
// and whatever loads must serve, run its lifecycle and save without one.

// richStateBase is the base clock of the servers that read the rich state.
var richStateBase = at("2025-12-01T09:00:00Z")

// makeRichState writes a state file with every part the emulator saves:
// v1.0 and beta definitions, instances in progress, completed and applied,
// recorded and default decisions, directory changes, a pending deletion
// and a moved clock.
func makeRichState(t testing.TB) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "emulator.json")
	h := newHarness(t, Options{StateFile: path})
	h.clock.now = richStateBase
	guests := h.create(guestReview())
	h.create(map[string]any{
		"displayName": "Inactive guests",
		"scope": map[string]any{"@odata.type": "#microsoft.graph.accessReviewInactiveUsersQueryScope",
			"query": "/groups/" + demoFalcon + "/transitiveMembers/microsoft.graph.user/?$filter=(userType eq 'Guest')", "queryType": "MicrosoftGraph", "inactiveDuration": "P90D"},
		"reviewers": []any{map[string]any{"query": "/users/" + demoAdmin, "queryType": "MicrosoftGraph"}},
		"settings": map[string]any{
			"instanceDurationInDays": 7, "defaultDecisionEnabled": true, "defaultDecision": "Recommendation",
			"autoApplyDecisionsEnabled": true, "recommendationsEnabled": true,
			"recurrence":   map[string]any{"range": map[string]any{"type": "endDate", "startDate": "2026-04-10", "endDate": "2026-04-17"}},
			"applyActions": []any{map[string]any{"@odata.type": "#microsoft.graph.disableAndDeleteUserApplyAction"}},
		},
	})
	beta := validDefinition()
	beta["displayName"] = "Weekly, beta"
	setPath(beta, "scope.query", "/groups/"+demoMarketing+"/transitiveMembers/microsoft.graph.user")
	setPath(beta, "settings.instanceDurationInDays", 6)
	setPath(beta, "settings.recurrence", map[string]any{
		"pattern": map[string]any{"type": "weekly", "interval": 1},
		"range":   map[string]any{"type": "noEnd", "startDate": "2026-05-04"},
	})
	r := h.do(http.MethodPost, "/beta/"+definitionsPath, beta)
	require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
	h.advanceTo("2026-01-06T00:00:00Z")
	// Guests approved in January; the inactive ones are disabled in April
	// and due to be deleted in May.
	for _, p := range []string{demoSam, demoLina, demoOmar} {
		_, err := h.srv.RecordDecision(DecisionInput{DefinitionID: guests, Principal: p, Decision: "Approve", Justification: "still with us"})
		require.NoError(t, err)
	}
	h.advanceTo("2026-05-09T12:00:00Z")
	require.NoError(t, h.srv.Close()) // writes the journal into the file
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, want := range []string{`"InProgress"`, `"Applied"`, `"reviewedDateTime"`, `"directoryChanges"`, `"pendingDeletions"`, `"beta"`, `"clockOffset"`} {
		require.Contains(t, string(data), want, "the rich state has every part")
	}
	return data
}

var (
	richOnce sync.Once
	richData []byte
)

func richStateFor(t *testing.T) []byte {
	t.Helper()
	richOnce.Do(func() { richData = makeRichState(t) })
	require.NotEmpty(t, richData, "the rich state could not be made")
	return richData
}

// loadStateBytes writes data to a state file and opens a server on it.
func loadStateBytes(t testing.TB, data []byte) (*Server, string, error) {
	t.Helper()
	return loadStateWith(t, data, nil)
}

// loadStateWith is loadStateBytes with a tenant (nil: the demo tenant).
func loadStateWith(t testing.TB, data []byte, tenant *Tenant) (*Server, string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "emulator.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Errorf("writing the state file: %v", err) // not FailNow: workers call this
		return nil, path, err
	}
	srv, err := New(Options{StateFile: path, Seed: 1, Tenant: tenant, Clock: func() time.Time { return richStateBase }})
	return srv, path, err
}

// exerciseState reads everything a loaded server holds, writes it back,
// records a decision and runs the lifecycle on; then the saved file must
// load again. A panic fails the caller.
func exerciseState(srv *Server, path string) (err error) {
	fail := func(format string, args ...any) {
		if err == nil {
			err = fmt.Errorf(format, args...)
		}
	}
	get := func(target string) map[string]any {
		rec := serve(srv, http.MethodGet, target, nil)
		if rec.Code >= 500 {
			fail("GET %s: %d %s", target, rec.Code, rec.Body.Bytes())
		}
		var m map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &m)
		return m
	}
	values := func(m map[string]any) []map[string]any {
		var out []map[string]any
		list, _ := m["value"].([]any)
		for _, v := range list {
			if o, ok := v.(map[string]any); ok {
				out = append(out, o)
			}
		}
		return out
	}
	for _, v := range []string{"v1.0", "beta"} {
		base := "/" + v + "/" + definitionsPath
		get(base + "/$count")
		get(base + "/filterByCurrentUser(on='reviewer')")
		get(base + "?$orderby=displayName&$filter=contains(displayName,'e')")
		for _, d := range values(get(base)) {
			id, _ := d["id"].(string)
			def := base + "/" + id
			// Writes once, in v1.0: each one saves the file (and syncs it).
			writes := v == "v1.0"
			body, _ := json.Marshal(get(def))
			if rec := serve(srv, http.MethodPut, def, body); writes && rec.Code >= 500 {
				fail("PUT %s: %d %s", def, rec.Code, rec.Body.Bytes())
			}
			get(def + "/instances/filterByCurrentUser(on='reviewer')")
			for _, in := range values(get(def + "/instances")) {
				iid, _ := in["id"].(string)
				inst := def + "/instances/" + iid
				got := get(inst)
				get(inst + "/contactedReviewers")
				get(inst + "/decisions/filterByCurrentUser(on='reviewer')")
				for i, dec := range values(get(inst + "/decisions?$filter=decision eq 'NotReviewed'")) {
					did, _ := dec["id"].(string)
					get(inst + "/decisions/" + did)
					if writes && i == 0 {
						serve(srv, http.MethodPatch, inst+"/decisions/"+did, []byte(`{"decision":"Deny","justification":"x"}`))
					}
				}
				if !writes || got["status"] != statusInProgress {
					continue
				}
				put, _ := json.Marshal(map[string]any{"scope": got["scope"], "reviewers": got["reviewers"], "fallbackReviewers": got["fallbackReviewers"]})
				serve(srv, http.MethodPut, inst, put)
				for _, action := range []string{"acceptRecommendations", "sendReminder", "resetDecisions", "applyDecisions", "stop"} {
					if rec := serve(srv, http.MethodPost, inst+"/"+action, nil); rec.Code >= 500 {
						fail("POST %s/%s: %d %s", inst, action, rec.Code, rec.Body.Bytes())
					}
				}
			}
		}
	}
	for _, id := range defIDs(srv) {
		// Carol Diaz is reviewed in the running beta instance.
		_, _ = srv.RecordDecision(DecisionInput{DefinitionID: id, Principal: "012b3aaf-3d42-4a0d-871e-9b480e8216a4", Decision: "Deny"})
	}
	if _, aerr := srv.Advance(100 * 24 * time.Hour); aerr != nil {
		fail("advancing: %v", aerr)
	}
	// What the emulator accepted and saved, it reads again.
	if _, lerr := New(Options{StateFile: path, Tenant: srv.opts.Tenant, Clock: func() time.Time { return richStateBase }}); lerr != nil {
		fail("the state the emulator saved does not load: %v", lerr)
	}
	return err
}

func defIDs(srv *Server) []string {
	var ids []string
	for _, raw := range srv.Definitions() {
		var d struct{ ID string }
		_ = json.Unmarshal(raw, &d)
		ids = append(ids, d.ID)
	}
	return ids
}

func TestRichStateLoadsAndServes(t *testing.T) {
	t.Parallel()
	srv, path, err := loadStateBytes(t, richStateFor(t))
	require.NoError(t, err)
	require.Len(t, srv.Definitions(), 3)
	require.NoError(t, exerciseState(srv, path))
}

// decodeGeneric decodes JSON into maps, lists and json.Numbers.
func decodeGeneric(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&m))
	return m
}

// editState applies edit to the rich state's generic form.
func editState(t *testing.T, edit func(m map[string]any)) []byte {
	t.Helper()
	m := decodeGeneric(t, richStateFor(t))
	edit(m)
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return b
}

// elem returns m[key][i] as a map.
func elem(m map[string]any, key string, i int) map[string]any {
	return m[key].([]any)[i].(map[string]any)
}

func TestStateFileValidation(t *testing.T) {
	t.Parallel()
	def := func(i int) func(m map[string]any) map[string]any {
		return func(m map[string]any) map[string]any { return elem(m, "definitions", i) }
	}
	inst := func(m map[string]any) map[string]any { return elem(def(0)(m), "instances", 0) }
	decision := func(m map[string]any) map[string]any { return elem(inst(m), "decisions", 0) }
	life := func(m map[string]any) map[string]any { return m["lifecycle"].(map[string]any) }
	tests := []struct {
		name string
		raw  string // the whole file, or
		edit func(m map[string]any)
		err  string
	}{
		{name: "empty", raw: "", err: "is empty"},
		{name: "truncated", raw: `{"formatVersion": 1, "definitions": [{"id": "`, err: "unexpected end of JSON input"},
		{name: "null", raw: "null", err: "is not a JSON object"},
		{name: "array", raw: "[]", err: "is not a JSON object"},
		{name: "no format", raw: `{"definitions": []}`, err: "formatVersion is missing"},
		{name: "format string", raw: `{"formatVersion": "1", "definitions": []}`, err: `formatVersion: "1" is not a whole number`},
		{name: "format zero", raw: `{"formatVersion": 0, "definitions": []}`, err: "formatVersion 0 is not a format version"},
		{name: "format newer", raw: `{"formatVersion": 9, "definitions": []}`, err: "written by a newer arsync (format version 9; this one reads version 1)"},
		{name: "definitions object", raw: `{"formatVersion": 1, "definitions": {}}`, err: "definitions: {} is not a list"},
		{name: "null definition", raw: `{"formatVersion": 1, "definitions": [null]}`, err: "definitions[0] is null"},
		{name: "definition number", raw: `{"formatVersion": 1, "definitions": [7]}`, err: "definitions[0]: 7 is not an object"},
		{name: "lifecycle list", raw: `{"formatVersion": 1, "definitions": [], "lifecycle": []}`, err: "lifecycle: [] is not an object"},
		{name: "no id", edit: func(m map[string]any) { delete(def(1)(m), "id") }, err: "definitions[1]: id is missing"},
		{name: "id not a GUID", edit: func(m map[string]any) { def(1)(m)["id"] = "x" }, err: `definitions[1]: id "x" is not a GUID`},
		{name: "id number", edit: func(m map[string]any) { def(1)(m)["id"] = 7 }, err: "definitions[1]: id: 7 is not a string"},
		{name: "duplicate id", edit: func(m map[string]any) {
			def(1)(m)["id"] = strings.ToUpper(def(0)(m)["id"].(string))
			def(1)(m)["definition"].(map[string]any)["id"] = def(1)(m)["id"]
		}, err: "is also definitions[0]'s"},
		{name: "definition lacking its id", edit: func(m map[string]any) { delete(def(1)(m)["definition"].(map[string]any), "id") }, err: "definition.id is missing"},
		{name: "definition with another id", edit: func(m map[string]any) {
			def(1)(m)["definition"].(map[string]any)["id"] = def(0)(m)["id"]
		}, err: "does not match the entry's id"},
		{name: "no definition", edit: func(m map[string]any) { delete(def(0)(m), "definition") }, err: "definitions[0] (id "},
		{name: "definition null", edit: func(m map[string]any) { def(0)(m)["definition"] = nil }, err: "definition is missing"},
		{name: "definition list", edit: func(m map[string]any) { def(0)(m)["definition"] = []any{} }, err: "definition: [] is not an object"},
		{name: "definition invalid", edit: func(m map[string]any) { delete(def(0)(m)["definition"].(map[string]any), "scope") }, err: "definition: The scope property is required; fix the file"},
		{name: "definition wrong type", edit: func(m map[string]any) { def(0)(m)["definition"].(map[string]any)["displayName"] = 7 }, err: "definition: "},
		{name: "definition status", edit: func(m map[string]any) { def(0)(m)["definition"].(map[string]any)["status"] = 7 }, err: "definition.status: 7 is not a string"},
		{name: "definition created", edit: func(m map[string]any) { def(0)(m)["definition"].(map[string]any)["createdDateTime"] = "yesterday" }, err: `definition.createdDateTime: "yesterday" is not a date-time`},
		{name: "definition created by", edit: func(m map[string]any) { def(0)(m)["definition"].(map[string]any)["createdBy"] = "me" }, err: `definition.createdBy: "me" is not an object`},
		{name: "api version", edit: func(m map[string]any) { def(0)(m)["apiVersion"] = "v2" }, err: `apiVersion "v2" must be v1.0 or beta`},
		{name: "createdAt", edit: func(m map[string]any) { def(0)(m)["createdAt"] = "2026-13-01T00:00:00Z" }, err: `createdAt: "2026-13-01T00:00:00Z" is not a date-time`},
		{name: "createdAt missing", edit: func(m map[string]any) { delete(def(0)(m), "createdAt") }, err: "createdAt is missing"},
		{name: "visibleAt", edit: func(m map[string]any) { def(0)(m)["visibleAt"] = 5 }, err: "visibleAt: 5 is not a date-time"},
		{name: "instances object", edit: func(m map[string]any) { def(0)(m)["instances"] = map[string]any{} }, err: "instances: {} is not a list"},
		{name: "null instance", edit: func(m map[string]any) { def(0)(m)["instances"] = []any{nil} }, err: "instances[0] is null"},
		{name: "instance without id", edit: func(m map[string]any) { delete(inst(m), "id") }, err: "instances[0]: id is missing"},
		{name: "duplicate instance", edit: func(m map[string]any) {
			list := def(0)(m)["instances"].([]any)
			list[1].(map[string]any)["id"] = list[0].(map[string]any)["id"]
		}, err: "is also instances[0]'s"},
		{name: "instance status", edit: func(m map[string]any) { inst(m)["status"] = "Paused" }, err: `instances[0]: status "Paused" is not one of InProgress, Completed, Applied`},
		{name: "instance start", edit: func(m map[string]any) { inst(m)["startDateTime"] = "soon" }, err: `instances[0]: startDateTime: "soon" is not a date-time`},
		{name: "instance end missing", edit: func(m map[string]any) { delete(inst(m), "endDateTime") }, err: "instances[0]: endDateTime is missing"},
		{name: "instance after its period", edit: func(m map[string]any) { inst(m)["periodStart"] = "2027-01-01T00:00:00Z" }, err: "instances[0].periodStart 2027-01-01T00:00:00Z is after lifecycle.periods."},
		{name: "instances without periods", edit: func(m map[string]any) { delete(life(m), "periods") }, err: "has instances, but lifecycle.periods."},
		{name: "periods of another definition", edit: func(m map[string]any) { def(0)(m)["createdAt"] = "2025-11-30T00:00:00Z" }, err: ".definitionCreated 2025-12-01T09:00:00Z is not the createdAt 2025-11-30T00:00:00Z of definitions[0]"},
		{name: "instance scope", edit: func(m map[string]any) { inst(m)["scope"] = nil }, err: "instances[0]: scope is missing"},
		{name: "instance reviewers", edit: func(m map[string]any) { inst(m)["reviewers"] = []any{nil} }, err: "instances[0]: reviewers[0] is null"},
		{name: "instance reviewers wrong", edit: func(m map[string]any) { inst(m)["reviewers"] = "owners" }, err: "instances[0]: reviewers: "},
		{name: "instance contacted", edit: func(m map[string]any) { inst(m)["contactedReviewers"] = []any{nil} }, err: "instances[0]: contactedReviewers[0] is null"},
		{name: "instance resource", edit: func(m map[string]any) { inst(m)["resource"] = map[string]any{"id": "", "type": "Group"} }, err: "instances[0]: resource.id is missing"},
		{name: "instance wrong type", edit: func(m map[string]any) { inst(m)["remindersSent"] = "two" }, err: "instances[0]: remindersSent: a JSON string is not a number"},
		{name: "null decision", edit: func(m map[string]any) { inst(m)["decisions"] = []any{nil} }, err: "instances[0]: decisions[0] is null"},
		{name: "decision without id", edit: func(m map[string]any) { delete(decision(m), "id") }, err: "instances[0]: decisions[0]: id is missing"},
		{name: "decision without principal", edit: func(m map[string]any) { delete(decision(m), "principal") }, err: "decisions[0]: principal.id is missing"},
		{name: "duplicate decision", edit: func(m map[string]any) {
			list := inst(m)["decisions"].([]any)
			list[1].(map[string]any)["id"] = list[0].(map[string]any)["id"]
		}, err: "is also decisions[0]'s"},
		{name: "decision value", edit: func(m map[string]any) { decision(m)["decision"] = "Maybe" }, err: `decisions[0]: decision "Maybe" is not one of`},
		{name: "decision reviewed", edit: func(m map[string]any) { decision(m)["reviewedDateTime"] = "2026-02-30T00:00:00Z" }, err: `decisions[0]: reviewedDateTime: "2026-02-30T00:00:00Z" is not a date-time`},
		{name: "decision reviewers", edit: func(m map[string]any) { decision(m)["reviewers"] = []any{nil} }, err: "decisions[0]: reviewers[0] is null"},
		{name: "decision reviewer number", edit: func(m map[string]any) { decision(m)["reviewers"] = []any{7} }, err: "decisions[0]: reviewers[0]: 7 is not a string"},
		{name: "clock offset", edit: func(m map[string]any) { life(m)["clockOffset"] = "soon" }, err: `lifecycle.clockOffset "soon" is not a non-negative duration`},
		{name: "periods list", edit: func(m map[string]any) { life(m)["periods"] = []any{} }, err: "lifecycle.periods: [] is not an object"},
		{name: "period null", edit: func(m map[string]any) {
			for k := range life(m)["periods"].(map[string]any) {
				life(m)["periods"].(map[string]any)[k] = nil
			}
		}, err: "is null"},
		{name: "period time", edit: func(m map[string]any) {
			for _, p := range life(m)["periods"].(map[string]any) {
				p.(map[string]any)["lastStart"] = "never"
			}
		}, err: `.lastStart: "never" is not a date-time`},
		{name: "directory change null", edit: func(m map[string]any) { life(m)["directoryChanges"] = []any{nil} }, err: "lifecycle.directoryChanges[0] is null"},
		{name: "directory change op", edit: func(m map[string]any) { elem(life(m), "directoryChanges", 0)["op"] = "paint" }, err: `lifecycle.directoryChanges[0]: op "paint" is not one of`},
		{name: "directory change object", edit: func(m map[string]any) { delete(elem(life(m), "directoryChanges", 0), "object") }, err: "lifecycle.directoryChanges[0]: object is missing"},
		{name: "pending deletion", edit: func(m map[string]any) { delete(elem(life(m), "pendingDeletions", 0), "user") }, err: "lifecycle.pendingDeletions[0]: user is missing"},
		{name: "pending deletion due", edit: func(m map[string]any) { elem(life(m), "pendingDeletions", 0)["due"] = true }, err: "lifecycle.pendingDeletions[0]: due: true is not a date-time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(tt.raw)
			if tt.edit != nil {
				data = editState(t, tt.edit)
			}
			_, path, err := loadStateBytes(t, data)
			require.Error(t, err)
			require.ErrorContains(t, err, "emulator state "+path)
			require.ErrorContains(t, err, tt.err)
		})
	}
}

// TestStateFileMutations breaks the rich state file everywhere: a null
// inside every list and a value of the wrong JSON type at every place must
// be refused; a missing or null member may load, and then the server must
// serve and run without a panic. Lists repeat their shape, so only the
// first element of each is broken.
func TestStateFileMutations(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("loads a few hundred state files")
	}
	// Two instances a definition are shape enough, and quicker to serve.
	var base any = decodeGeneric(t, editState(t, func(m map[string]any) {
		for _, d := range m["definitions"].([]any) {
			d := d.(map[string]any)
			if list := d["instances"].([]any); len(list) > 2 {
				d["instances"] = list[len(list)-2:]
			}
		}
	}))

	type mutation struct {
		name      string
		mustError bool
		data      []byte
		serve     bool // exercise the server if the file loads
	}
	var muts []mutation
	seen := map[string]bool{}
	var walk func(path []string, v any)
	walk = func(path []string, v any) {
		pattern := patternOf(path)
		if seen[pattern] {
			return
		}
		seen[pattern] = true
		where := strings.Join(path, ".")
		if len(path) > 0 {
			if wrong, ok := wrongType(v); ok {
				muts = append(muts, mutation{name: where + " wrong type", mustError: true, data: replaceAt(base, path, wrong)})
			}
			last := path[len(path)-1]
			if !strings.HasPrefix(last, "[") {
				muts = append(muts, mutation{name: where + " deleted", data: replaceAt(base, path, deleted{})})
				// encoding/json reads null as absent, except in the
				// objects the emulator keeps as JSON.
				if inObject(pattern) {
					muts = append(muts, mutation{name: where + " null", data: replaceAt(base, path, nil)})
				}
			}
		}
		switch t := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(append(append([]string(nil), path...), k), t[k])
			}
		case []any:
			withNull := append([]any{nil}, t...)
			muts = append(muts, mutation{name: where + " null element", mustError: true, data: replaceAt(base, path, withNull)})
			for i, x := range t {
				walk(append(append([]string(nil), path...), "["+strconv.Itoa(i)+"]"), x)
			}
		}
	}
	walk(nil, base)
	require.Greater(t, len(muts), 200, "the rich state has many places to break")
	for i := range muts {
		// Serving is ten times slower under the race detector, and this
		// test has no concurrency of its own to check: serve a quarter.
		muts[i].serve = !raceDetector || i%4 == 0
	}

	// Most of the time goes to syncing saved files: load them side by side.
	work := make(chan mutation)
	var wg sync.WaitGroup
	var loaded atomic.Int64
	for range 8 {
		wg.Go(func() {
			// The emulator only reads its tenant: one parse for the
			// servers this worker opens in turn.
			tenant, err := DemoTenant()
			if err != nil {
				t.Error(err)
				return
			}
			for m := range work {
				if checkMutation(t, tenant, m.name, m.mustError, m.serve, m.data) {
					loaded.Add(1)
				}
			}
		})
	}
	for _, m := range muts {
		work <- m
	}
	close(work)
	wg.Wait()
	t.Logf("%d broken state files, %d loaded", len(muts), loaded.Load())
}

// checkMutation loads a broken state file: an error naming the file (which
// mustError requires) or a server that serves and runs (when serve is
// set); never a panic. It reports whether the file loaded.
func checkMutation(t *testing.T, tenant *Tenant, name string, mustError, serve bool, data []byte) (loaded bool) {
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("%s: panic: %v", name, p)
		}
	}()
	srv, path, err := loadStateWith(t, data, tenant)
	switch {
	case mustError && err == nil:
		t.Errorf("%s: loaded without an error", name)
	case err != nil:
		if !strings.Contains(err.Error(), "emulator state "+path) {
			t.Errorf("%s: the error does not name the file: %v", name, err)
		}
	case serve:
		if err := exerciseState(srv, path); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	return err == nil
}

// inObject says whether the member at pattern is inside an object the
// emulator keeps as JSON (a stored definition, an instance's scope and
// reviewers), where null and absent differ.
func inObject(pattern string) bool {
	for _, prefix := range []string{".definitions[].definition.", ".definitions[].instances[].scope.",
		".definitions[].instances[].reviewers[].", ".definitions[].instances[].fallbackReviewers[]."} {
		if strings.HasPrefix(pattern, prefix) {
			return true
		}
	}
	return false
}

// deleted marks a member replaceAt removes.
type deleted struct{}

// patternOf is a path with the list indexes dropped and the ids that key
// lifecycle.periods collapsed, so each shape is broken once.
func patternOf(path []string) string {
	var b strings.Builder
	for i, p := range path {
		switch {
		case strings.HasPrefix(p, "["):
			b.WriteString("[]")
		case i > 0 && path[i-1] == "periods":
			b.WriteString(".{id}")
		default:
			b.WriteString("." + p)
		}
	}
	return b.String()
}

// wrongType is a value of another JSON type than v.
func wrongType(v any) (any, bool) {
	switch v.(type) {
	case string:
		return json.Number("7"), true
	case json.Number:
		return "seven", true
	case bool:
		return "yes", true
	case map[string]any:
		return []any{}, true
	case []any:
		return map[string]any{}, true
	}
	return nil, false // null: any type may belong there
}

// replaceAt returns base, marshalled, with the value at path replaced (or
// removed, for deleted{}).
func replaceAt(base any, path []string, v any) []byte {
	var rebuild func(cur any, path []string) any
	rebuild = func(cur any, path []string) any {
		if len(path) == 0 {
			return v
		}
		switch t := cur.(type) {
		case map[string]any:
			c := make(map[string]any, len(t))
			for k, x := range t {
				c[k] = x
			}
			if len(path) == 1 {
				if _, ok := v.(deleted); ok {
					delete(c, path[0])
					return c
				}
			}
			c[path[0]] = rebuild(t[path[0]], path[1:])
			return c
		case []any:
			i, _ := strconv.Atoi(strings.Trim(path[0], "[]"))
			c := append([]any(nil), t...)
			c[i] = rebuild(t[i], path[1:])
			return c
		}
		panic(fmt.Sprintf("replaceAt: %v is not a container", path))
	}
	b, err := json.Marshal(rebuild(base, path))
	if err != nil {
		panic(err)
	}
	return b
}

// TestStateFileTruncated cuts the rich state short at many places: each is
// an error, never a panic.
func TestStateFileTruncated(t *testing.T) {
	t.Parallel()
	data := bytes.TrimSpace(richStateFor(t))
	tenant, err := DemoTenant() // read once: the emulator only reads it
	require.NoError(t, err)
	step := max(1, len(data)/100)
	for n := 0; n < len(data); n += step {
		_, _, err := loadStateWith(t, data[:n], tenant)
		require.Error(t, err, "cut at %d of %d", n, len(data))
	}
}

// FuzzStateFile loads arbitrary state files: an error or a server that
// serves and runs, never a panic.
func FuzzStateFile(f *testing.F) {
	f.Add([]byte(`{"formatVersion":1,"definitions":[]}`))
	f.Add([]byte(`{"formatVersion":1,"definitions":[{"id":"33b01ac7-5a3c-4a2e-a394-a5f15237c292","apiVersion":"v1.0","createdAt":"2026-01-01T00:00:00Z","definition":{"displayName":"x"},"instances":[]}]}`))
	f.Add([]byte(`{"formatVersion":1,"definitions":null,"lifecycle":{"periods":{"x":null},"directoryChanges":[{}],"pendingDeletions":[null]}}`))
	f.Add(makeRichState(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		srv, path, err := loadStateBytes(t, data)
		if err != nil {
			if !strings.Contains(err.Error(), "emulator state "+path) {
				t.Fatalf("the error does not name the file: %v", err)
			}
			return
		}
		if err := exerciseState(srv, path); err != nil {
			t.Fatal(err)
		}
	})
}
