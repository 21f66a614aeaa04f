package emulator

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/csdlcheck"
)

// betaDefinition is validDefinition with every beta-only property set.
func betaDefinition() map[string]any {
	m := validDefinition()
	m["backupReviewers"] = []any{map[string]any{"queryType": "MicrosoftGraph", "query": "/users/" + demoAdmin}}
	setPath(m, "settings.isAgenticExperienceEnabled", true)
	setPath(m, "settings.recurrence.pattern", map[string]any{"type": "weekly", "interval": 1})
	m["stageSettings"] = []any{map[string]any{"stageId": "1", "durationInDays": 2, "recommendationsEnabled": true,
		"recommendationLookBackDuration": "P14D", "reviewers": []any{map[string]any{"queryType": "MicrosoftGraph", "query": "/users/" + demoAlice}}}}
	return m
}

// TestVersionsShowTheirOwnProperties: one stored definition, read through
// each version with that version's properties, whichever version created it.
func TestVersionsShowTheirOwnProperties(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	fromBeta := h.do(http.MethodPost, "/beta/"+definitionsPath, betaDefinition())
	require.Equal(t, http.StatusCreated, fromBeta.status, "body: %s", fromBeta.body)
	betaID := fromBeta.json(t)["id"].(string)
	v1ID := h.create(validDefinition())

	read := func(version, id string) map[string]any {
		r := h.do(http.MethodGet, "/"+version+"/"+definitionsPath+"/"+id, nil)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		return r.json(t)
	}
	admin := []any{map[string]any{"query": "/users/" + demoAdmin, "queryType": "MicrosoftGraph", "queryRoot": nil}}

	// Created through beta, read through v1.0: no beta-only property.
	got := read("v1.0", betaID)
	require.NotContains(t, got, "backupReviewers")
	require.Equal(t, admin, got["fallbackReviewers"], "backupReviewers set fallbackReviewers")
	require.NotContains(t, got["settings"], "isAgenticExperienceEnabled")
	require.NotContains(t, getPath(got, "stageSettings.0"), "recommendationLookBackDuration")
	// ... and through beta: all of them.
	got = read("beta", betaID)
	require.Equal(t, admin, got["backupReviewers"])
	require.Equal(t, true, getPath(got, "settings.isAgenticExperienceEnabled"))
	require.Equal(t, "P14D", getPath(got, "stageSettings.0.recommendationLookBackDuration"))

	// Created through v1.0, read through beta: backupReviewers mirrors
	// fallbackReviewers; unset beta-only values are null or absent.
	got = read("beta", v1ID)
	require.Equal(t, []any{}, got["backupReviewers"])
	require.NotContains(t, got["settings"], "isAgenticExperienceEnabled")
	got = read("v1.0", v1ID)
	require.NotContains(t, got, "backupReviewers")

	// Lists show each version's shape too.
	for _, v := range h.do(http.MethodGet, definitionsPath, nil).values(t) {
		require.NotContains(t, v, "backupReviewers")
	}
	for _, v := range h.do(http.MethodGet, "/beta/"+definitionsPath, nil).values(t) {
		require.Contains(t, v, "backupReviewers")
	}

	// $select may name the version's properties only.
	r := h.do(http.MethodGet, definitionsPath+"/"+betaID+"?$select=backupReviewers", nil)
	require.Equal(t, http.StatusBadRequest, r.status, "v1.0 has no backupReviewers: %s", r.body)
	r = h.do(http.MethodGet, "/beta/"+definitionsPath+"/"+betaID+"?$select=id,backupReviewers", nil)
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	require.Equal(t, admin, r.json(t)["backupReviewers"])
	r = h.do(http.MethodGet, definitionsPath+"?$select=id,settings", nil)
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	for _, v := range r.values(t) {
		require.NotContains(t, v.(map[string]any)["settings"], "isAgenticExperienceEnabled")
	}

	// A v1.0 client sends back what it read: the beta-only values stay.
	put := read("v1.0", betaID)
	for _, k := range []string{"@odata.context", "createdBy", "createdDateTime", "lastModifiedDateTime", "status"} {
		delete(put, k)
	}
	put["displayName"] = "Renamed through v1.0"
	r = h.do(http.MethodPut, definitionsPath+"/"+betaID, put)
	require.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
	got = read("beta", betaID)
	require.Equal(t, "Renamed through v1.0", got["displayName"])
	require.Equal(t, true, getPath(got, "settings.isAgenticExperienceEnabled"))
	require.Equal(t, "P14D", getPath(got, "stageSettings.0.recommendationLookBackDuration"))
	require.Equal(t, admin, got["backupReviewers"])

	// And a beta client too, the other way round.
	put = read("beta", v1ID)
	for _, k := range []string{"@odata.context", "createdBy", "createdDateTime", "lastModifiedDateTime", "status"} {
		delete(put, k)
	}
	r = h.do(http.MethodPut, "/beta/"+definitionsPath+"/"+v1ID, put)
	require.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
	require.NotContains(t, read("v1.0", v1ID), "backupReviewers")
}

// TestInstancesInABody: the navigation property instances is accepted in
// a create or update body and ignored; anything but null or an array of
// objects is a 400.
func TestInstancesInABody(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	for _, v := range []any{[]any{}, nil, []any{map[string]any{"id": "x", "status": "InProgress"}}} {
		m := validDefinition()
		m["instances"] = v
		id := h.create(m)
		got := h.do(http.MethodGet, definitionsPath+"/"+id, nil).json(t)
		require.NotContains(t, got, "instances")
		got["instances"] = v
		delete(got, "@odata.context")
		r := h.do(http.MethodPut, definitionsPath+"/"+id, got)
		require.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
	}
	for _, bad := range []any{"x", []any{"x"}, map[string]any{}} {
		m := validDefinition()
		m["instances"] = bad
		r := h.do(http.MethodPost, definitionsPath, m)
		require.Equal(t, http.StatusBadRequest, r.status, "%v: %s", bad, r.body)
		require.Equal(t, "BadRequest", r.errCode(t))
	}
}

// TestEnumerationScopeLosesItsVersionPrefix: the service answers with the
// instanceEnumerationScope query without a version prefix, whatever was sent.
func TestEnumerationScopeLosesItsVersionPrefix(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{})
	for sent, want := range map[string]string{
		"/v1.0/groups?$filter=(groupTypes/any(c:c+eq+'Unified'))&$count=true": "/groups?$filter=(groupTypes/any(c:c+eq+'Unified'))&$count=true",
		"/beta/groups/" + demoFalcon:                                          "/groups/" + demoFalcon,
		"/groups?$filter=(groupTypes/any(c:c eq 'Unified'))":                  "/groups?$filter=(groupTypes/any(c:c eq 'Unified'))&$count=true",
	} {
		m := guestReview()
		setPath(m, "instanceEnumerationScope.query", sent)
		r := h.do(http.MethodPost, definitionsPath, m)
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
		require.Equal(t, want, getPath(r.json(t), "instanceEnumerationScope.query"), sent)
	}
}

// TestOldStoredShapeRendersWhole: a definition stored before the emulator
// filled in the newer properties (a state file of an older version) is
// shown with them, and conforms to the schema.
func TestOldStoredShapeRendersWhole(t *testing.T) {
	t.Parallel()
	schemas := loadSchemas(t)
	old := `{"id":"0e76ee07-b4c6-469e-bc9d-e73fc9a8d660","displayName":"Old","createdDateTime":"2021-05-05T09:30:00Z",
		"lastModifiedDateTime":"2021-05-05T09:30:00Z","status":"InProgress","descriptionForAdmins":null,"descriptionForReviewers":null,
		"createdBy":{"id":"fc9a2c2b-1ddc-486d-a211-5fe8ca77fa1f","displayName":"MOD Administrator","userPrincipalName":"admin@contoso.com"},
		"scope":{"@odata.type":"#microsoft.graph.accessReviewQueryScope","query":"/v1.0/groups/x/members","queryType":"MicrosoftGraph","queryRoot":null},
		"instanceEnumerationScope":null,"reviewers":[],"backupReviewers":[],"fallbackReviewers":[],
		"settings":{"mailNotificationsEnabled":false,"reminderNotificationsEnabled":false,"justificationRequiredOnApproval":false,
			"defaultDecisionEnabled":false,"defaultDecision":"None","instanceDurationInDays":0,"autoApplyDecisionsEnabled":false,
			"recommendationsEnabled":false,"recurrence":{"pattern":null,"range":{"type":"noEnd","numberOfOccurrences":0,
			"recurrenceTimeZone":null,"startDate":"2021-05-05","endDate":null}},"applyActions":[]},
		"stageSettings":[{"stageId":"1","dependsOn":[],"durationInDays":1,"recommendationsEnabled":false,"reviewers":[],"fallbackReviewers":[]}],
		"additionalNotificationRecipients":[]}`
	v, err := decodeJSON(strings.NewReader(old))
	require.NoError(t, err)
	for _, version := range []string{"v1.0", "beta"} {
		body := marshal(renderDefinition(v.(*object), version))
		probs, err := schemas[version].Check(tDefinition, body, csdlcheck.Options{Mode: csdlcheck.Response})
		require.NoError(t, err)
		require.Empty(t, probs, "%s: %s", version, body)
	}
}

// TestDecisionTargetInBetaOnly: beta's decision items carry target, the
// reviewed user in beta's own shape; v1.0's schema has no target.
func TestDecisionTargetInBetaOnly(t *testing.T) {
	t.Parallel()
	h := lcHarness(t, "2026-01-05T10:00:00Z", Options{})
	id := h.create(guestReview())
	inst := h.instancesByGroup(id)["Marketing"]["id"].(string)
	path := definitionsPath + "/" + id + "/instances/" + inst + "/decisions"
	for _, d := range h.decisions(id, inst, "") {
		require.NotContains(t, d, "target")
	}
	r := h.do(http.MethodGet, "/beta/"+path+"?$select=id,target,principal", nil)
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	for _, v := range r.values(t) {
		d := v.(map[string]any)
		require.Equal(t, map[string]any{
			"@odata.type":       "#microsoft.graph.accessReviewInstanceDecisionItemUserTarget",
			"userId":            getPath(d, "principal.id"),
			"userDisplayName":   getPath(d, "principal.displayName"),
			"userPrincipalName": getPath(d, "principal.userPrincipalName"),
		}, d["target"])
	}
	require.Equal(t, http.StatusBadRequest, h.do(http.MethodGet, path+"?$select=target", nil).status)
}
