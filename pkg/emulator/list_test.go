package emulator

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPagingWalk follows nextLinks through 250 definitions in pages of 7
// and sees every definition exactly once.
func TestPagingWalk(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{PageSize: 7})
	want := map[string]bool{}
	for i := range 250 {
		body := validDefinition()
		body["displayName"] = fmt.Sprintf("Review %03d", i)
		want[h.create(body)] = true
	}

	seen := map[string]int{}
	link := h.ts.URL + "/v1.0/" + definitionsPath + "?$count=true"
	pages := 0
	for link != "" {
		pages++
		require.Less(t, pages, 100, "nextLinks do not end")
		r := h.do(http.MethodGet, link, nil)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		m := r.json(t)
		require.Equal(t, 250.0, m["@odata.count"])
		vals := r.values(t)
		if next, ok := m["@odata.nextLink"].(string); ok {
			u, err := url.Parse(next)
			require.NoError(t, err)
			require.True(t, u.IsAbs(), "nextLink %q must be absolute", next)
			require.Equal(t, strings.TrimPrefix(h.ts.URL, "http://"), u.Host, "nextLink uses the request's host")
			require.Contains(t, next, "$count=true", "nextLink keeps the original query options")
			require.Len(t, vals, 7)
			link = next
		} else {
			link = ""
		}
		for _, v := range vals {
			seen[v.(map[string]any)["id"].(string)]++
		}
	}
	require.Equal(t, 36, pages) // ceil(250/7)
	require.Len(t, seen, 250)
	for id, n := range seen {
		require.True(t, want[id], "unexpected id %s", id)
		require.Equal(t, 1, n, "id %s seen %d times", id, n)
	}
}

func TestListQueryOptions(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{PageSize: 4})
	names := []string{"Delta", "alpha", "Charlie", "bravo", "Echo"}
	for i, n := range names {
		body := validDefinition()
		body["displayName"] = n
		if i%2 == 1 {
			setPath(body, "scope.query", "./members/microsoft.graph.user/?$filter=(userType eq 'Guest')")
			body["instanceEnumerationScope"] = map[string]any{"queryType": "MicrosoftGraph", "query": "/groups?$filter=(groupTypes/any(c:c eq 'Unified'))"}
		}
		if i == 4 {
			setPath(body, "settings.recurrence.range.startDate", "2030-01-01")
		}
		if i == 2 {
			body["scope"] = map[string]any{"@odata.type": typeInactiveScope, "queryType": "MicrosoftGraph", "query": "/groups/x/members", "inactiveDuration": "P30D"}
		}
		h.create(body)
	}
	displayNames := func(r result) []string {
		var out []string
		for _, v := range r.values(t) {
			out = append(out, v.(map[string]any)["displayName"].(string))
		}
		return out
	}
	tests := []struct {
		query   string
		status  int
		names   []string
		count   float64 // @odata.count, 0 = absent
		next    string  // a substring of @odata.nextLink, "" = none
		message string
	}{
		{query: "", status: 200, names: []string{"Delta", "alpha", "Charlie", "bravo"}, next: "$skip=4"},
		{query: "$top=2", status: 200, names: []string{"Delta", "alpha"}, next: "$top=2&$skip=2"},
		{query: "$top=2&$skip=4", status: 200, names: []string{"Echo"}},
		{query: "$skip=2&$top=2", status: 200, names: []string{"Charlie", "bravo"}, next: "$top=2&$skip=4"},
		{query: "$top=50", status: 200, names: []string{"Delta", "alpha", "Charlie", "bravo"}, next: "$skip=4"},
		{query: "$top=0", status: 200, names: nil},
		{query: "$skip=99", status: 200, names: nil},
		{query: "$count=true&$top=1", status: 200, names: []string{"Delta"}, count: 5, next: "$skip=1"},
		{query: "$orderby=displayName", status: 200, names: []string{"alpha", "bravo", "Charlie", "Delta"}, next: "$skip=4"},
		{query: "$orderby=displayName desc&$skip=1&$top=2", status: 200, names: []string{"Delta", "Charlie"}, next: "$skip=3"},
		{query: "$filter=status eq 'NotStarted'", status: 200, names: []string{"Echo"}},
		{query: "$filter=status eq 'InProgress'&$count=true", status: 200, names: []string{"Delta", "alpha", "Charlie", "bravo"}, count: 4},
		{query: "$filter=contains(scope/microsoft.graph.accessReviewQueryScope/query, './members')", status: 200, names: []string{"alpha", "bravo"}},
		{query: "$filter=contains(scope/microsoft.graph.accessReviewQueryScope/query, '/groups')", status: 200, names: []string{"Delta", "Echo"}},
		{query: "$filter=contains(scope/microsoft.graph.accessReviewQueryScope/query,'/GROUPS') and status eq 'NotStarted'", status: 200, names: []string{"Echo"}},
		{query: "$select=displayName", status: 200, names: []string{"Delta", "alpha", "Charlie", "bravo"}, next: "$select=displayName&$skip=4"},
		{query: "$filter=displayName eq 'Delta'", status: 400, message: "can be filtered only with status"},
		{query: "$filter=status ne 'InProgress'", status: 400, message: "can be filtered only with status"},
		{query: "$filter=status eq", status: 400, message: "Invalid filter clause"},
		{query: "$filter=colour eq 'red'", status: 400, message: "Could not find a property named 'colour'"},
		{query: "$top=-1", status: 400, message: "$top"},
		{query: "$top=many", status: 400, message: "$top"},
		{query: "$skip=-3", status: 400, message: "$skip"},
		{query: "$count=maybe", status: 400, message: "$count"},
		{query: "$select=colour", status: 400, message: "Could not find a property named 'colour'"},
		{query: "$orderby=scope", status: 400, message: "Sorting by 'scope'"},
		{query: "$orderby=displayName sideways", status: 400, message: "direction"},
		{query: "$expand=instances", status: 400, message: "'$expand' is not supported"},
		{query: "$skiptoken=abc", status: 400, message: "$skiptoken"},
		{query: "$top=1&$top=2", status: 400, message: "more than once"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := h.do(http.MethodGet, definitionsPath+"?"+tt.query, nil)
			require.Equal(t, tt.status, r.status, "body: %s", r.body)
			if tt.status != http.StatusOK {
				require.Equal(t, "BadRequest", r.errCode(t))
				require.Contains(t, r.errMessage(t), tt.message)
				return
			}
			require.Equal(t, tt.names, displayNames(r))
			m := r.json(t)
			if tt.count > 0 {
				require.Equal(t, tt.count, m["@odata.count"])
			} else {
				require.NotContains(t, m, "@odata.count")
			}
			next, _ := m["@odata.nextLink"].(string)
			if tt.next == "" {
				require.Empty(t, next)
			} else {
				require.Contains(t, next, tt.next)
			}
			if strings.Contains(tt.query, "$select=displayName") {
				require.Equal(t, []string{"displayName"}, keysOf(r.values(t)[0].(map[string]any)))
				require.True(t, strings.HasSuffix(m["@odata.context"].(string), "definitions(displayName)"))
			}
		})
	}

	r := h.do(http.MethodGet, definitionsPath+"/$count?$filter=status eq 'InProgress'", nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, "4", string(r.body))
	require.Contains(t, r.header.Get("Content-Type"), "text/plain")

	id := r.header.Get("request-id")
	require.NotEmpty(t, id)
	one := h.do(http.MethodGet, definitionsPath+"?$top=1", nil).values(t)[0].(map[string]any)["id"].(string)
	g := h.do(http.MethodGet, definitionsPath+"/"+one+"?$select=id,status", nil)
	require.Equal(t, http.StatusOK, g.status)
	require.Equal(t, []string{"@odata.context", "id", "status"}, keysOf(g.json(t)))
	require.Equal(t, http.StatusBadRequest, h.do(http.MethodGet, definitionsPath+"/"+one+"?$top=1", nil).status)
}

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
