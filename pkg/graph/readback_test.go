package graph

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"
)

// readJSON is a definition as a service may return it: its own member
// order, nulls and empty lists the structs drop, spacing, escapes, an
// annotation and properties this package does not model, at the top and
// inside settings.
const readJSON = `{
  "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#x/$entity",
  "id": "d1",
  "displayName": "Caf\u00e9 & co",
  "futureSetting": {"b": 1, "a": [true, null]},
  "status": null,
  "createdBy": {"id": "u1"},
  "descriptionForAdmins": "admins",
  "scope": {"queryRoot": null, "query": "/groups/g1/transitiveMembers", "@odata.type": "#microsoft.graph.accessReviewQueryScope"},
  "reviewers": [],
  "settings": {
    "instanceDurationInDays": 3,
    "futureSub": "kept",
    "recommendationLookBackDuration": null,
    "recurrence": {"range": {"type": "noEnd", "recurrenceTimeZone": null, "startDate": "2026-04-01"}, "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": []}},
    "mailNotificationsEnabled": true
  },
  "stageSettings": [{"stageId": "1", "dependsOn": [], "durationInDays": 2}],
  "createdDateTime": "2026-01-05T10:00:00Z",
  "lastModifiedDateTime": "2026-01-05T10:00:00Z"
}`

func compactString(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, json.Compact(&b, []byte(s)))
	return b.String()
}

// TestDefinitionMarshalOverlay: encoding lays the typed fields over what
// was read, member by member.
func TestDefinitionMarshalOverlay(t *testing.T) {
	t.Parallel()
	// The members of readJSON, compact, from settings on.
	const settings = `"settings":{"instanceDurationInDays":3,"futureSub":"kept","recommendationLookBackDuration":null,"recurrence":{"range":{"type":"noEnd","recurrenceTimeZone":null,"startDate":"2026-04-01"},"pattern":{"type":"weekly","interval":1,"daysOfWeek":[]}},"mailNotificationsEnabled":true}`
	const rest = `"stageSettings":[{"stageId":"1","dependsOn":[],"durationInDays":2}],"createdDateTime":"2026-01-05T10:00:00Z","lastModifiedDateTime":"2026-01-05T10:00:00Z"`
	const head = `"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#x/$entity","id":"d1"`
	const scope = `"scope":{"queryRoot":null,"query":"/groups/g1/transitiveMembers","@odata.type":"#microsoft.graph.accessReviewQueryScope"}`
	tests := []struct {
		name string
		read string // "" for a definition built in Go
		edit func(*Definition)
		want string
	}{{
		name: "no raw: the typed encoding",
		edit: func(d *Definition) {
			*d = Definition{DisplayName: "a & b", Settings: &ScheduleSettings{InstanceDurationInDays: new(3)},
				StageSettings: []StageSettings{{StageID: "1", DependsOn: []string{}}}}
		},
		want: `{"displayName":"a & b","settings":{"instanceDurationInDays":3},"stageSettings":[{"stageId":"1"}]}`,
	}, {
		name: "unchanged: the bytes read",
		read: readJSON,
		want: compactString(t, readJSON),
	}, {
		name: "a changed scalar, in place",
		read: readJSON,
		edit: func(d *Definition) { d.DisplayName = "Renamed" },
		want: `{` + head + `,"displayName":"Renamed","futureSetting":{"b":1,"a":[true,null]},"status":null,"createdBy":{"id":"u1"},"descriptionForAdmins":"admins",` + scope + `,"reviewers":[],` + settings + `,` + rest + `}`,
	}, {
		name: "cleared fields are left out",
		read: readJSON,
		edit: func(d *Definition) { d.DescriptionForAdmins, d.StageSettings = "", nil },
		want: `{` + head + `,"displayName":"Caf\u00e9 & co","futureSetting":{"b":1,"a":[true,null]},"status":null,"createdBy":{"id":"u1"},` + scope + `,"reviewers":[],` + settings + `,"createdDateTime":"2026-01-05T10:00:00Z","lastModifiedDateTime":"2026-01-05T10:00:00Z"}`,
	}, {
		name: "a nested change keeps unknown and unchanged sub-members",
		read: readJSON,
		edit: func(d *Definition) {
			d.Settings.InstanceDurationInDays = new(7)
			d.Settings.Recurrence.Range.StartDate = "2026-05-01"
			d.Settings.MailNotificationsEnabled = nil
			d.Settings.DefaultDecision = "Approve"
		},
		want: `{` + head + `,"displayName":"Caf\u00e9 & co","futureSetting":{"b":1,"a":[true,null]},"status":null,"createdBy":{"id":"u1"},"descriptionForAdmins":"admins",` + scope + `,"reviewers":[],` +
			`"settings":{"instanceDurationInDays":7,"futureSub":"kept","recommendationLookBackDuration":null,"recurrence":{"range":{"type":"noEnd","recurrenceTimeZone":null,"startDate":"2026-05-01"},"pattern":{"type":"weekly","interval":1,"daysOfWeek":[]}},"defaultDecision":"Approve"},` + rest + `}`,
	}, {
		name: "lists are replaced whole; new members are appended",
		read: readJSON,
		edit: func(d *Definition) {
			d.StageSettings[0].DurationInDays = 5
			d.FallbackReviewers = []ReviewerScope{{Query: "/users/u2"}}
		},
		want: `{` + head + `,"displayName":"Caf\u00e9 & co","futureSetting":{"b":1,"a":[true,null]},"status":null,"createdBy":{"id":"u1"},"descriptionForAdmins":"admins",` + scope + `,"reviewers":[],` + settings +
			`,"stageSettings":[{"stageId":"1","durationInDays":5}],"createdDateTime":"2026-01-05T10:00:00Z","lastModifiedDateTime":"2026-01-05T10:00:00Z","fallbackReviewers":[{"query":"/users/u2"}]}`,
	}, {
		name: "UpdateBody drops read-only members and annotations",
		read: `{"@odata.type":"#microsoft.graph.accessReviewScheduleDefinition","@odata.etag":"W/\"1\"","id":"d1","Status":null,"displayName":"x","createdBy":{"id":"u1"},"reviewers@odata.context":"c","scope@odata.type":"#t","futureSetting":1,"createdDateTime":"2026-01-05T10:00:00Z","lastModifiedDateTime":null}`,
		edit: func(d *Definition) { *d = d.UpdateBody() },
		want: `{"@odata.type":"#microsoft.graph.accessReviewScheduleDefinition","id":"d1","displayName":"x","scope@odata.type":"#t","futureSetting":1}`,
	}, {
		name: "a property spelled twice is written once, as decoded",
		read: `{"displayName":"a","x":1,"DisplayName":"b"}`,
		want: `{"displayName":"b","x":1}`,
	}, {
		name: "an empty object",
		read: `{}`,
		edit: func(d *Definition) { d.ID = "d1" },
		want: `{"id":"d1"}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var d Definition
			if tt.read != "" {
				require.NoError(t, json.Unmarshal([]byte(tt.read), &d))
			}
			if tt.edit != nil {
				tt.edit(&d)
			}
			got := encode(t, d)
			require.Equal(t, tt.want, got)

			// Symmetric: decoding the output gives the same typed value,
			// which encodes to the same bytes; so does a clone.
			var back Definition
			require.NoError(t, json.Unmarshal([]byte(got), &back))
			require.Empty(t, cmp.Diff(typedOf(t, d), typedOf(t, back), cmpopts.IgnoreUnexported(Definition{})))
			require.Equal(t, got, encode(t, back))
			require.Equal(t, got, encode(t, d.Clone()))
		})
	}
}

// encode is how graphclient and saved plans encode: no HTML escaping.
func encode(t *testing.T, v any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(v))
	return strings.TrimSuffix(b.String(), "\n")
}

// typedOf is d's typed fields after an encoding round trip (which turns
// empty lists into nil).
func typedOf(t *testing.T, d Definition) Definition {
	t.Helper()
	b, err := json.Marshal(definitionFields(d))
	require.NoError(t, err)
	var f definitionFields
	require.NoError(t, json.Unmarshal(b, &f))
	return Definition(f)
}

func TestDefinitionJSONEdges(t *testing.T) {
	t.Parallel()
	d := Definition{DisplayName: "kept"}
	require.NoError(t, json.Unmarshal([]byte(" null "), &d))
	require.Equal(t, "kept", d.DisplayName, "null leaves the value as it is")

	for _, bad := range []string{`[1]`, `"x"`, `{"displayName":1}`, `{"settings":[]}`} {
		require.Error(t, json.Unmarshal([]byte(bad), &d), bad)
	}
	var list []Definition
	require.NoError(t, json.Unmarshal([]byte(`[{"id":"a","x":[]},null,{"id":"b"}]`), &list))
	require.Len(t, list, 3)
	require.Equal(t, `{"id":"a","x":[]}`, encode(t, list[0]))
	require.Equal(t, `{}`, encode(t, list[1]))

	// json.Marshal escapes as for any struct; graphclient's encoder does not.
	require.NoError(t, json.Unmarshal([]byte(`{"displayName":"a<b","x":"&"}`), &d))
	d.ID = "i"
	b, err := json.Marshal(d)
	require.NoError(t, err)
	require.Equal(t, `{"displayName":"a\u003cb","x":"\u0026","id":"i"}`, string(b))
	require.Equal(t, `{"displayName":"a<b","x":"&","id":"i"}`, encode(t, d))
}

// TestCloneSharesNothing: a clone's changes do not reach the original.
func TestCloneSharesNothing(t *testing.T) {
	t.Parallel()
	var d Definition
	require.NoError(t, json.Unmarshal([]byte(readJSON), &d))
	before := encode(t, d)
	c := d.Clone()
	c.Settings.InstanceDurationInDays = new(9)
	c.StageSettings[0].StageID = "9"
	c.raw[len(c.raw)-2] = 'X' // what was read is private, but a copy
	require.Equal(t, before, encode(t, d))
}

func TestSortedJSON(t *testing.T) {
	t.Parallel()
	got, err := SortedJSON([]byte(` {"b": [ {"z":1, "a":null} , 2], "a": {"y": "\u00e9", "x": 1.50}, "a": 0} `))
	require.NoError(t, err)
	require.Equal(t, `{"a":{"x":1.50,"y":"\u00e9"},"a":0,"b":[{"a":null,"z":1},2]}`, string(got))
	for _, scalar := range []string{`1`, `"s"`, `null`, `[]`, `{}`} {
		got, err := SortedJSON([]byte(scalar))
		require.NoError(t, err)
		require.Equal(t, scalar, string(got))
	}
	_, err = SortedJSON([]byte(`{"a":`))
	require.Error(t, err)
}

// FuzzDefinitionJSON: whatever decodes, encodes without error to JSON that
// decodes to the same typed value and encodes to the same bytes again.
func FuzzDefinitionJSON(f *testing.F) {
	f.Add([]byte(readJSON))
	f.Add([]byte(`{"displayName":"a","DISPLAYNAME":"b","settings":{"recurrence":{}},"x":{"y":[{}]}}`))
	f.Add([]byte(`{"settings":null,"scope":{"principalScopes":[{"query":"q"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Definition
		if json.Unmarshal(data, &d) != nil {
			return
		}
		d.DisplayName += "!"
		d = d.UpdateBody()
		out, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		var back Definition
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("output does not decode: %v\n%s", err, out)
		}
		if diff := cmp.Diff(typedOf(t, d), typedOf(t, back), cmpopts.IgnoreUnexported(Definition{})); diff != "" {
			t.Fatalf("typed value changed (-want +got):\n%s", diff)
		}
		again, err := json.Marshal(back)
		if err != nil || !bytes.Equal(out, again) {
			t.Fatalf("not symmetric: %v\n%s\n%s", err, out, again)
		}
	})
}
