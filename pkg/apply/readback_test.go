package apply

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/emulator/emulatortest"
	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/graphclient"
)

// What was read is what is sent back: an update's PUT carries the object
// Graph returned, with only the desired writable fields laid over it and
// the read-only ones removed.

const readbackID = "5cd5f8c3-2f6e-4b8a-9d1e-7a0b3c4d5e6f"

// readbackServed is a two-stage review with a notification-recipient group
// as a strict service returns it: its own member order (neither alphabetical
// nor graph.Definition's), empty lists and nulls that the Go structs drop
// (dependsOn: [], queryRoot: null), and properties arsync does not model
// (futureSetting, settings.futureSubSetting). It is marked for name unless
// name is "".
func readbackServed(name string) string {
	marker := ""
	if name != "" {
		marker = `\n[arsync:` + name + `]`
	}
	return `{
  "@odata.etag": "W/\"JzEtRGVmaW5pdGlvbiI=\"",
  "id": "` + readbackID + `",
  "displayName": "Two-stage review of Sales",
  "futureSetting": {"mode": "strict", "levels": [3, 1]},
  "status": "InProgress",
  "descriptionForReviewers": "Check each member of Sales.",
  "descriptionForAdmins": "Sales members` + marker + `",
  "createdDateTime": "2026-01-05T10:00:00Z",
  "lastModifiedDateTime": "2026-01-05T10:00:00Z",
  "createdBy": {"id": "fc9a2c2b-1ddc-486d-a211-5fe8ca77fa1f", "displayName": "MOD Administrator", "userPrincipalName": "admin@contoso.com"},
  "scope": {"query": "/groups/119cc181-22f0-4e18-8537-264e7524ee0b/transitiveMembers", "queryType": "MicrosoftGraph", "queryRoot": null, "@odata.type": "#microsoft.graph.accessReviewQueryScope"},
  "instanceEnumerationScope": null,
  "reviewers": [],
  "fallbackReviewers": [],
  "settings": {
    "mailNotificationsEnabled": true,
    "reminderNotificationsEnabled": true,
    "justificationRequiredOnApproval": true,
    "defaultDecisionEnabled": false,
    "defaultDecision": "None",
    "futureSubSetting": {"enabled": true},
    "instanceDurationInDays": 5,
    "autoApplyDecisionsEnabled": false,
    "recommendationsEnabled": true,
    "recommendationLookBackDuration": null,
    "decisionHistoriesForReviewersEnabled": false,
    "recurrence": {
      "pattern": {"type": "absoluteMonthly", "interval": 3, "month": 0, "dayOfMonth": 0, "daysOfWeek": [], "firstDayOfWeek": "sunday", "index": "first"},
      "range": {"type": "noEnd", "numberOfOccurrences": 0, "recurrenceTimeZone": null, "startDate": "2026-04-01", "endDate": "9999-12-31"}
    },
    "applyActions": [],
    "recommendationInsightSettings": []
  },
  "stageSettings": [
    {"stageId": "1", "dependsOn": [], "durationInDays": 2, "recommendationsEnabled": true,
     "decisionsThatWillMoveToNextStage": ["NotReviewed", "Approve"],
     "reviewers": [{"query": "/users/398164b1-5196-49dd-ada2-364b49f99b27", "queryType": "MicrosoftGraph", "queryRoot": null}],
     "fallbackReviewers": [], "recommendationInsightSettings": []},
    {"stageId": "2", "dependsOn": ["1"], "durationInDays": 3, "recommendationsEnabled": false,
     "reviewers": [{"query": "/users/fc9a2c2b-1ddc-486d-a211-5fe8ca77fa1f", "queryType": "MicrosoftGraph", "queryRoot": null}],
     "fallbackReviewers": []}
  ],
  "additionalNotificationRecipients": [
    {"notificationTemplateType": "CompletedAdditionalRecipients",
     "notificationRecipientScope": {"@odata.type": "#microsoft.graph.accessReviewNotificationRecipientQueryScope", "query": "/groups/ea1ee477-0a50-41ac-8699-c70d0c1f868a/members", "queryType": "MicrosoftGraph", "queryRoot": null}}
  ]
}`
}

// expectedPUT is the PUT body served must produce when only the members
// named in changes (name, JSON value, name, JSON value, ...) take those
// values: the served bytes, in the served order, without the read-only
// members and annotations.
func expectedPUT(t *testing.T, served string, changes ...string) []byte {
	t.Helper()
	to := map[string]string{}
	for i := 0; i+1 < len(changes); i += 2 {
		to[changes[i]] = changes[i+1]
	}
	var m []member
	for _, mb := range orderedMembers(t, []byte(served)) {
		switch mb.name {
		case "@odata.etag", "status", "createdDateTime", "lastModifiedDateTime", "createdBy":
			continue
		}
		if v, ok := to[mb.name]; ok {
			mb.value = []byte(v)
		}
		m = append(m, mb)
	}
	return joinMembers(m)
}

// writtenMarker is the JSON value of the descriptionForAdmins arsync
// writes for desired: its marker records the digest of what it writes.
func writtenMarker(t *testing.T, desired diff.Desired) string {
	t.Helper()
	b, err := json.Marshal(graph.WithMarkerDigest(desired.Definition.DescriptionForAdmins, desired.Name, graph.WrittenDigest(desired.Definition)))
	require.NoError(t, err)
	return string(b)
}

// readbackWant is expectedPUT of the served definition renamed.
func readbackWant(t *testing.T) []byte {
	desired := desiredFromServed(t, readbackServed("sales"))
	return expectedPUT(t, readbackServed("sales"), "displayName", `"Two-stage review of Sales (renamed)"`, "descriptionForAdmins", writtenMarker(t, desired))
}

type member struct {
	name  string
	value []byte // compact
}

// orderedMembers splits a JSON object into its members, in order.
func orderedMembers(t *testing.T, data []byte) []member {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok)
	var out []member
	for dec.More() {
		k, err := dec.Token()
		require.NoError(t, err)
		var v json.RawMessage
		require.NoError(t, dec.Decode(&v))
		var c bytes.Buffer
		require.NoError(t, json.Compact(&c, v))
		out = append(out, member{name: k.(string), value: c.Bytes()})
	}
	return out
}

func joinMembers(ms []member) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, mb := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(mb.name)
		b.Write(k)
		b.WriteByte(':')
		b.Write(mb.value)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// typedOnly decodes a definition with plain struct decoding: what a
// definition built in Go (from a spec) holds, with nothing read kept.
type typedOnly graph.Definition

// desiredFromServed is the desired state of the served definition written
// as a spec would: the modelled fields, no read-only ones, no marker, and
// the new displayName.
func desiredFromServed(t *testing.T, served string) diff.Desired {
	t.Helper()
	var td typedOnly
	require.NoError(t, json.Unmarshal([]byte(served), &td))
	d := graph.Definition(td).UpdateBody()
	d.ID = ""
	d.DescriptionForAdmins = graph.StripMarker(d.DescriptionForAdmins)
	d.DisplayName = "Two-stage review of Sales (renamed)"
	return diff.Desired{Name: "sales", Source: "reviews/sales.yaml:1", Definition: d}
}

// immutableMembers are the properties Graph refuses to change on a PUT.
var immutableMembers = []string{"scope", "instanceEnumerationScope", "stageSettings", "additionalNotificationRecipients"}

// strictFake serves one definition on list and GET and, when strict,
// answers a PUT with 400 whenever an immutable property's bytes differ from
// what it served (absent counts as different). It records the PUT bodies.
type strictFake struct {
	*httptest.Server
	served string
	strict bool

	mu   sync.Mutex
	puts [][]byte
}

func newStrictFake(t *testing.T, served string, strict bool) *strictFake {
	t.Helper()
	f := &strictFake{served: served, strict: strict}
	const path = "/v1.0/identityGovernance/accessReviews/definitions"
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == path:
			fmt.Fprintf(w, `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#identityGovernance/accessReviews/definitions","value":[%s]}`, f.served)
		case r.Method == http.MethodGet && r.URL.Path == path+"/"+readbackID:
			fmt.Fprintf(w, `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#identityGovernance/accessReviews/definitions/$entity",%s`, strings.TrimPrefix(strings.TrimSpace(f.served), "{"))
		case r.Method == http.MethodPut && r.URL.Path == path+"/"+readbackID:
			body, _ := io.ReadAll(r.Body)
			f.mu.Lock()
			f.puts = append(f.puts, body)
			f.mu.Unlock()
			if prop := f.changedImmutable(body); f.strict && prop != "" {
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"error":{"code":"BadRequest","message":"The property '%s' cannot be updated"}}`, prop)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":{"code":"NotFound","message":"no such resource"}}`)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

// changedImmutable names the first immutable property whose compact bytes
// in body differ from the served ones, or "".
func (f *strictFake) changedImmutable(body []byte) string {
	served, sent := compactMembers([]byte(f.served)), compactMembers(body)
	for _, k := range immutableMembers {
		a, okA := served[k]
		b, okB := sent[k]
		if okA != okB || !bytes.Equal(a, b) {
			return k
		}
	}
	return ""
}

func compactMembers(data []byte) map[string][]byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return nil
	}
	out := map[string][]byte{}
	for k, v := range m {
		var c bytes.Buffer
		if json.Compact(&c, v) == nil {
			out[k] = c.Bytes()
		}
	}
	return out
}

func (f *strictFake) putBodies() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.puts...)
}

func (f *strictFake) client(t *testing.T) *graphclient.Client {
	t.Helper()
	clock := newFakeClock()
	c, err := graphclient.New(graphclient.Options{
		BaseURL:    f.URL + "/v1.0",
		Credential: graphclient.StaticToken("token"),
		Sleep:      clock.Sleep,
		Now:        clock.Now,
		Rand:       func() float64 { return 0.5 },
	})
	require.NoError(t, err)
	return c
}

// listAll lists the definitions through c.
func listAll(t *testing.T, c Client) []graph.Definition {
	t.Helper()
	var out []graph.Definition
	for d, err := range c.ListDefinitions(context.Background(), nil) {
		require.NoError(t, err)
		out = append(out, *d)
	}
	return out
}

// TestUpdateSendsBackWhatWasRead: a displayName change of a definition read
// with empty lists, nulls, its own member order and unknown properties sends
// all of them back byte for byte, through diff.Compute, apply.Apply and the
// Graph client; directly and through a saved plan.
func TestUpdateSendsBackWhatWasRead(t *testing.T) {
	for _, saved := range []bool{false, true} {
		t.Run(fmt.Sprintf("saved=%v", saved), func(t *testing.T) {
			f := newStrictFake(t, readbackServed("sales"), false)
			c := f.client(t)
			desired := desiredFromServed(t, f.served)
			p, err := diff.Compute([]diff.Desired{desired}, listAll(t, c), diff.Options{TenantID: "contoso", GraphEndpoint: f.URL + "/v1.0"})
			require.NoError(t, err)
			require.Equal(t, diff.Summary{Update: 1}, p.Summary)
			var paths []string
			for _, fc := range p.Changes[0].Fields {
				paths = append(paths, fc.Path)
			}
			require.Equal(t, []string{"displayName"}, paths, "the plan shows only the real change")

			if saved {
				p = savedPlan(t, p)
				require.NoError(t, CheckStale(context.Background(), c, p, "contoso", f.URL+"/v1.0"), "the fingerprint is stable")
			}
			rep, err := Apply(context.Background(), c, p, Options{Force: true})
			require.NoError(t, err)
			require.True(t, rep.OK(), "%+v", rep.Results)

			puts := f.putBodies()
			require.Len(t, puts, 1)
			require.Equal(t, string(readbackWant(t)), string(puts[0]))
		})
	}
}

// TestUpdateAcceptedByStrictService: the service refuses a PUT whose
// immutable properties differ in any byte from what it served; the update
// of a multi-stage review with notification recipients goes through.
func TestUpdateAcceptedByStrictService(t *testing.T) {
	f := newStrictFake(t, readbackServed("sales"), true)
	c := f.client(t)
	p, err := diff.Compute([]diff.Desired{desiredFromServed(t, f.served)}, listAll(t, c), diff.Options{})
	require.NoError(t, err)
	rep, err := Apply(context.Background(), c, p, Options{Force: true})
	require.NoError(t, err)
	require.True(t, rep.OK(), "%+v", rep.Results)
	require.Len(t, f.putBodies(), 1)
}

// TestAdoptSendsBackWhatWasRead: adopting an unmarked definition by its
// displayName sends the same kind of body, with the marker written.
func TestAdoptSendsBackWhatWasRead(t *testing.T) {
	f := newStrictFake(t, readbackServed(""), true)
	c := f.client(t)
	desired := desiredFromServed(t, f.served)
	desired.Definition.DisplayName = "Two-stage review of Sales" // unchanged: adopted by it
	p, err := diff.Compute([]diff.Desired{desired}, listAll(t, c), diff.Options{})
	require.NoError(t, err)
	require.Equal(t, diff.Summary{Adopt: 1}, p.Summary)
	rep, err := Apply(context.Background(), c, savedPlan(t, p), Options{Force: true})
	require.NoError(t, err)
	require.True(t, rep.OK(), "%+v", rep.Results)

	want := expectedPUT(t, f.served, "descriptionForAdmins", writtenMarker(t, desired))
	puts := f.putBodies()
	require.Len(t, puts, 1)
	require.Equal(t, string(want), string(puts[0]))
}

// recorder records the PUT bodies a client sends.
type recorder struct {
	mu   sync.Mutex
	puts [][]byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPut && req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		r.mu.Lock()
		r.puts = append(r.puts, b)
		r.mu.Unlock()
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	return http.DefaultTransport.RoundTrip(req)
}

// TestUpdateRoundTripOnEmulator: a multi-stage definition with notification
// recipients, created in the emulator and read back, takes a displayName
// change; the PUT carries the immutable properties exactly as the emulator
// served them, and the emulator keeps them. (The emulator refuses
// properties it does not know, so unknown ones are tested on the fake.)
func TestUpdateRoundTripOnEmulator(t *testing.T) {
	clock := newFakeClock()
	run := emulatortest.New(t, emulator.Options{Clock: clock.Now, Seed: 11, Sleep: clock.Sleep})
	rec := &recorder{}
	c, err := graphclient.New(graphclient.Options{
		BaseURL: run.URL, Credential: graphclient.StaticToken(run.Token),
		Sleep: clock.Sleep, Now: clock.Now, Rand: func() float64 { return 0.5 },
		HTTPClient: &http.Client{Transport: rec},
	})
	require.NoError(t, err)

	var td typedOnly
	require.NoError(t, json.Unmarshal([]byte(readbackServed("")), &td))
	body := graph.Definition(td).UpdateBody()
	body.ID = ""
	body.DescriptionForAdmins = graph.WithMarker("Sales members", "sales")
	created, err := c.CreateDefinition(context.Background(), &body)
	require.NoError(t, err)

	// What the emulator serves for it, member by member.
	servedMembers := compactMembers(getRaw(t, run, created.ID))
	require.Contains(t, string(servedMembers["stageSettings"]), `"dependsOn":[]`)
	require.Contains(t, string(servedMembers["additionalNotificationRecipients"]), `"queryRoot":null`)

	desired := desiredFromServed(t, readbackServed(""))
	live := listAll(t, c)
	p, err := diff.Compute([]diff.Desired{desired}, live, diff.Options{})
	require.NoError(t, err)
	require.Equal(t, diff.Summary{Update: 1}, p.Summary)
	require.Len(t, p.Changes[0].Fields, 1)
	require.Equal(t, "displayName", p.Changes[0].Fields[0].Path)

	rep, err := Apply(context.Background(), c, savedPlan(t, p), Options{Force: true})
	require.NoError(t, err)
	require.True(t, rep.OK(), "%+v", rep.Results)

	require.Len(t, rec.puts, 1)
	sent := compactMembers(rec.puts[0])
	for _, k := range immutableMembers {
		require.Equal(t, string(servedMembers[k]), string(sent[k]), "%s is sent back as served", k)
	}
	for _, k := range []string{"createdBy", "createdDateTime", "lastModifiedDateTime", "status", "@odata.context"} {
		require.NotContains(t, sent, k)
	}

	afterMembers := compactMembers(getRaw(t, run, created.ID))
	require.Equal(t, `"Two-stage review of Sales (renamed)"`, string(afterMembers["displayName"]))
	for _, k := range immutableMembers {
		require.Equal(t, string(servedMembers[k]), string(afterMembers[k]), "%s is kept", k)
	}
}

// getRaw is the body the emulator answers a GET of definition id with.
func getRaw(t *testing.T, run *emulator.Running, id string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, run.URL+"/identityGovernance/accessReviews/definitions/"+id, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+run.Token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	return b
}
