package graphclient

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/golden"
	"github.com/arsync/arsync/pkg/graph"
)

// The decision item of docs/graph-behaviour.md#documented-payloads (example 20.7) plus properties this
// package does not model (beta's target and applyDescription, a future one).
const decisionJSON = `{
  "id": "e6cafba0-cbf0-4748-8868-0810c7f4cc06",
  "accessReviewId": "6444d4fd-ab55-4608-8cf9-c6702d172bcd",
  "reviewedDateTime": null,
  "decision": "NotReviewed",
  "justification": "",
  "appliedDateTime": null,
  "applyResult": "New",
  "recommendation": "Deny",
  "principalLink": "https://graph.microsoft.com/v1.0/users/04777c4b-4d43-4d32-a2e7-1eba5d03f8cf",
  "resourceLink": null,
  "resource": {"@odata.type": "#microsoft.graph.accessReviewInstanceDecisionItemAzureRoleResource", "id": "r1", "displayName": "Contributor", "type": "AzureRole", "scope": {"id": "/subscriptions/1", "displayName": "Sub"}},
  "reviewedBy": {"id": "00000000-0000-0000-0000-000000000000", "displayName": "", "userPrincipalName": ""},
  "appliedBy": {"id": "00000000-0000-0000-0000-000000000000", "displayName": "", "userPrincipalName": ""},
  "principal": {"@odata.type": "#microsoft.graph.userIdentity", "id": "04777c4b-4d43-4d32-a2e7-1eba5d03f8cf", "displayName": "Diego Siciliani", "userPrincipalName": "DiegoS@contoso.com"},
  "target": {"@odata.type": "#microsoft.graph.accessReviewInstanceDecisionItemUserTarget", "userId": "04777c4b", "userDisplayName": "Diego Siciliani"},
  "applyDescription": null,
  "futureProperty": [1, 2, 3]
}`

func TestDecisionKeepsUnknownProperties(t *testing.T) {
	t.Parallel()
	var d graph.Decision
	require.NoError(t, json.Unmarshal([]byte(decisionJSON), &d))
	require.Equal(t, "NotReviewed", d.Decision)
	require.Equal(t, "Deny", d.Recommendation)
	require.Equal(t, "", d.ReviewedDateTime, "null decodes to empty")
	require.Equal(t, "DiegoS@contoso.com", d.Principal.UserPrincipalName)
	require.Equal(t, "AzureRole", d.Resource.Type)
	require.Equal(t, []string{"scope"}, keys(d.Resource.Extra))
	require.Equal(t, []string{"applyDescription", "futureProperty", "target"}, keys(d.Extra))

	out, err := json.MarshalIndent(d, "", "  ")
	require.NoError(t, err)
	golden.Assert(t, "testdata/decision-roundtrip.json", append(out, '\n'))

	// Decoding the output again gives the same value: nothing is lost.
	var again graph.Decision
	require.NoError(t, json.Unmarshal(out, &again))
	if diff := cmp.Diff(d, again); diff != "" {
		t.Errorf("round trip mismatch (-want +got):\n%s", diff)
	}
}

func TestDecisionWithoutExtrasEncodesPlainly(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(graph.Decision{ID: "x", Decision: "Approve"})
	require.NoError(t, err)
	require.JSONEq(t, `{"id":"x","decision":"Approve"}`, string(b))
	// A modelled property wins over an Extra of the same name.
	b, err = json.Marshal(graph.Decision{ID: "x", Extra: map[string]json.RawMessage{"id": []byte(`"y"`), "z": []byte(`1`)}})
	require.NoError(t, err)
	require.Equal(t, `{"id":"x","z":1}`, string(b))
	// Letter case: encoding/json matches "Decision" to the field, so it is not an extra.
	var d graph.Decision
	require.NoError(t, json.Unmarshal([]byte(`{"Decision":"Deny"}`), &d))
	require.Equal(t, "Deny", d.Decision)
	require.Nil(t, d.Extra)
	require.Error(t, json.Unmarshal([]byte(`[1]`), &d))
}

func keys(m map[string]json.RawMessage) []string { return slices.Sorted(maps.Keys(m)) }

func TestListInstancesDecisionsAndReviewers(t *testing.T) {
	t.Parallel()
	base := "/v1.0/identityGovernance/accessReviews/definitions/def-1/instances"
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case base:
			fmt.Fprint(w, `{"value":[{"id":"i1","startDateTime":"2021-03-09T23:10:28.83Z","endDateTime":"2021-03-12T23:10:28.83Z","status":"Applied","scope":{"@odata.type":"#microsoft.graph.accessReviewQueryScope","query":"/v1.0/groups/g1/members/microsoft.graph.user/?$count=true&$filter=(userType eq 'Guest')","queryType":"MicrosoftGraph","queryRoot":null}}]}`)
		case base + "/i1":
			fmt.Fprint(w, `{"id":"i1","status":"InProgress"}`)
		case base + "/i1/decisions":
			if r.URL.Query().Get("$skiptoken") == "" {
				require.Equal(t, "decision eq 'Deny'", r.URL.Query().Get("$filter"))
				fmt.Fprintf(w, `{"value":[{"id":"d1","decision":"Deny"}],"@odata.nextLink":"%s%s/i1/decisions?$filter=decision+eq+'Deny'&$skiptoken=2"}`, srv.URL, base)
				return
			}
			fmt.Fprint(w, `{"value":[{"id":"d2","decision":"Deny","extraThing":true}]}`)
		case base + "/i1/contactedReviewers":
			fmt.Fprint(w, `{"value":[{"id":"u1","displayName":"Adele","userPrincipalName":"adele@contoso.com","createdDateTime":"2021-03-09T23:10:28Z"}]}`)
		default:
			w.WriteHeader(404)
			fmt.Fprint(w, graphError("ResourceNotFound", r.URL.Path))
		}
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL)

	insts, err := collect(c.ListInstances(t.Context(), "def-1", nil))
	require.NoError(t, err)
	want := []*graph.Instance{{
		ID: "i1", StartDateTime: "2021-03-09T23:10:28.83Z", EndDateTime: "2021-03-12T23:10:28.83Z", Status: "Applied",
		Scope: &graph.Scope{ODataType: graph.TypeQueryScope, Query: "/v1.0/groups/g1/members/microsoft.graph.user/?$count=true&$filter=(userType eq 'Guest')", QueryType: "MicrosoftGraph"},
	}}
	if diff := cmp.Diff(want, insts); diff != "" {
		t.Errorf("ListInstances mismatch (-want +got):\n%s", diff)
	}

	in, err := c.GetInstance(t.Context(), "def-1", "i1")
	require.NoError(t, err)
	require.Equal(t, "InProgress", in.Status)
	_, err = c.GetInstance(t.Context(), "def-1", "nope")
	require.True(t, graph.IsNotFound(err))

	decs, err := collect(c.ListDecisions(t.Context(), "def-1", "i1", &graph.ListOptions{Filter: "decision eq 'Deny'"}))
	require.NoError(t, err)
	require.Len(t, decs, 2)
	require.Equal(t, "d2", decs[1].ID)
	require.JSONEq(t, `true`, string(decs[1].Extra["extraThing"]))

	revs, err := collect(c.ListContactedReviewers(t.Context(), "def-1", "i1", nil))
	require.NoError(t, err)
	require.Equal(t, []*graph.Reviewer{{ID: "u1", DisplayName: "Adele", UserPrincipalName: "adele@contoso.com", CreatedDateTime: "2021-03-09T23:10:28Z"}}, revs)
}

// BenchmarkDecisionUnmarshal: one decision item as pages of them are
// decoded (pkg/report's decisions streams thousands).
func BenchmarkDecisionUnmarshal(b *testing.B) {
	data := []byte(decisionJSON)
	for b.Loop() {
		var d graph.Decision
		if err := json.Unmarshal(data, &d); err != nil {
			b.Fatal(err)
		}
	}
}
