package diff

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/graph"
)

// How putBody treats each property of a definition. A property added to
// graph.Definition must be placed in one of these lists.
var (
	// Written from the desired definition.
	putFromDesired = []string{"DisplayName", "DescriptionForAdmins", "DescriptionForReviewers", "Settings", "FallbackReviewers"}
	// Sent back as read: Graph cannot update them (reviewers: unless only
	// user reviewers changed), or they name the object.
	putFromLive = []string{"ID", "Scope", "InstanceEnumerationScope", "Reviewers", "StageSettings", "AdditionalNotificationRecipients"}
	// Left out.
	putReadOnly = []string{"CreatedDateTime", "LastModifiedDateTime", "Status", "CreatedBy"}
)

// everyField fills every exported field of a definition with a value
// carrying tag.
func everyField(tag string) graph.Definition {
	return graph.Definition{
		ID: tag + "-id", DisplayName: tag, CreatedDateTime: tag, LastModifiedDateTime: tag, Status: tag,
		DescriptionForAdmins: tag, DescriptionForReviewers: tag,
		CreatedBy:                        &graph.UserIdentity{ID: tag},
		Scope:                            &graph.Scope{Query: "/groups/" + tag},
		InstanceEnumerationScope:         &graph.Scope{Query: "/groups/" + tag},
		Reviewers:                        []graph.ReviewerScope{{Query: "/users/" + tag}},
		FallbackReviewers:                []graph.ReviewerScope{{Query: "/users/" + tag}},
		Settings:                         &graph.ScheduleSettings{DefaultDecision: tag},
		StageSettings:                    []graph.StageSettings{{StageID: tag}},
		AdditionalNotificationRecipients: []graph.NotificationRecipientItem{{NotificationTemplateType: tag}},
	}
}

// TestPutBodyClassifiesEveryField: every property of a definition is
// either desired, sent back as read, or left out of a PUT.
func TestPutBodyClassifiesEveryField(t *testing.T) {
	typ := reflect.TypeFor[graph.Definition]()
	var exported []string
	for f := range typ.Fields() {
		if f.IsExported() {
			exported = append(exported, f.Name)
		}
	}
	classified := slices.Concat(putFromDesired, putFromLive, putReadOnly)
	slices.Sort(exported)
	slices.Sort(classified)
	require.Equal(t, exported, classified, "every field of graph.Definition is classified once")

	// The live side is read from JSON, with a property arsync does not model.
	b, err := json.Marshal(everyField("live"))
	require.NoError(t, err)
	b = append(b[:len(b)-1], `,"futureSetting":[1]}`...)
	var live graph.Definition
	require.NoError(t, json.Unmarshal(b, &live))
	desired := Desired{Name: "n", Definition: everyField("want")}

	for _, reviewersChanged := range []bool{false, true} {
		got := putBody(&desired, &live, reviewersChanged)
		gv, dv, lv := reflect.ValueOf(*got), reflect.ValueOf(desired.Definition), reflect.ValueOf(live)
		for _, name := range putFromDesired {
			want := dv.FieldByName(name).Interface()
			if name == "DescriptionForAdmins" {
				want = graph.WithMarkerDigest("want", "n", graph.WrittenDigest(*got))
			}
			require.Equal(t, want, gv.FieldByName(name).Interface(), name)
		}
		for _, name := range putFromLive {
			want := lv.FieldByName(name).Interface()
			if name == "Reviewers" && reviewersChanged {
				want = dv.FieldByName(name).Interface()
			}
			require.Equal(t, want, gv.FieldByName(name).Interface(), name)
		}
		for _, name := range putReadOnly {
			require.True(t, gv.FieldByName(name).IsZero(), name)
		}
		body, err := json.Marshal(got)
		require.NoError(t, err)
		require.True(t, strings.HasSuffix(string(body), `,"futureSetting":[1]}`), "%s", body)
	}
}

// TestFingerprintOfWhatWasRead: the fingerprint covers every member read
// that an update sends back, and its spelling, and nothing else.
func TestFingerprintOfWhatWasRead(t *testing.T) {
	read := func(s string) graph.Definition {
		t.Helper()
		var d graph.Definition
		require.NoError(t, json.Unmarshal([]byte(s), &d))
		return d
	}
	base := read(`{"id":"1","displayName":"a","stageSettings":[{"stageId":"1","dependsOn":[]}],"x":{"p":1,"q":2}}`)
	fp := Fingerprint(base)

	// The same object, other member order and spacing.
	require.Equal(t, fp, Fingerprint(read(`{ "x": {"q": 2, "p": 1}, "stageSettings": [{"dependsOn": [], "stageId": "1"}], "displayName": "a", "id": "1" }`)))
	// A clone, and a plan's round trip, of it.
	require.Equal(t, fp, Fingerprint(*clone(&base)))
	b, err := json.Marshal(base)
	require.NoError(t, err)
	require.Equal(t, fp, Fingerprint(read(string(b))))

	// What the PUT would send back differs: an unknown property, the
	// spelling of an immutable one.
	require.NotEqual(t, fp, Fingerprint(read(`{"id":"1","displayName":"a","stageSettings":[{"stageId":"1","dependsOn":[]}],"x":{"p":1,"q":3}}`)))
	require.NotEqual(t, fp, Fingerprint(read(`{"id":"1","displayName":"a","stageSettings":[{"stageId":"1"}],"x":{"p":1,"q":2}}`)))
	require.NotEqual(t, fp, Fingerprint(read(`{"id":"1","displayName":"a","stageSettings":[{"stageId":"1","dependsOn":[]}],"x":{"p":1,"q":2},"y":null}`)))

	// What Graph changes by itself and the PUT does not send back is left
	// out: a plan made just before a series starts is not stale when the
	// status flips to InProgress (docs/graph-behaviour.md#put-not-patch).
	withStatus := read(`{"id":"1","displayName":"a","status":"NotStarted","createdDateTime":"2026-01-01T00:00:00Z","lastModifiedDateTime":"2026-01-01T00:00:00Z","stageSettings":[{"stageId":"1","dependsOn":[]}],"x":{"p":1,"q":2}}`)
	started := read(`{"id":"1","displayName":"a","status":"InProgress","createdDateTime":"2026-01-01T00:00:00Z","lastModifiedDateTime":"2026-01-02T00:00:00Z","stageSettings":[{"stageId":"1","dependsOn":[]}],"x":{"p":1,"q":2}}`)
	require.Equal(t, Fingerprint(withStatus), Fingerprint(started))
	require.Equal(t, fp, Fingerprint(started))
	// The marker, and every field arsync writes, are covered.
	require.NotEqual(t, fp, Fingerprint(read(`{"id":"1","displayName":"a","descriptionForAdmins":"[arsync:a]","stageSettings":[{"stageId":"1","dependsOn":[]}],"x":{"p":1,"q":2}}`)))
	require.NotEqual(t, fp, Fingerprint(read(`{"id":"1","displayName":"b","stageSettings":[{"stageId":"1","dependsOn":[]}],"x":{"p":1,"q":2}}`)))

	// A definition built in Go and the same read from its encoding agree.
	built := everyField("x")
	b, err = json.Marshal(built)
	require.NoError(t, err)
	require.Equal(t, Fingerprint(built), Fingerprint(read(string(b))))
}
