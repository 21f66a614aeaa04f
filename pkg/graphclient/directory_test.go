package graphclient

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arsync/arsync/pkg/graph"
	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

// fakeDirectory is a small Graph directory: collections filtered with
// "prop in (...)", $batch, directoryObjects/getByIds and roleDefinitions.
type fakeDirectory struct {
	t        testing.TB
	srv      *httptest.Server
	objects  map[string][]map[string]any // collection -> objects
	pageSize int                         // 0: honour $top

	roundTrips atomic.Int32 // HTTP requests received
	mu         sync.Mutex
	inner      []string // inner batch request URLs, in order
	// innerFault, when set, may replace an inner answer: it gets the inner
	// URL and how many times that URL was asked before.
	innerFault func(u string, seen int) (status int, header map[string]string, ok bool)
	seen       map[string]int
}

func newFakeDirectory(t testing.TB) *fakeDirectory {
	d := &fakeDirectory{t: t, objects: map[string][]map[string]any{}, seen: map[string]int{}}
	d.srv = httptest.NewServer(http.HandlerFunc(d.serveHTTP))
	t.Cleanup(d.srv.Close)
	return d
}

func (d *fakeDirectory) innerURLs() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.inner...)
}

func (d *fakeDirectory) add(collection string, objs ...map[string]any) {
	d.objects[collection] = append(d.objects[collection], objs...)
}

var inFilterRE = regexp.MustCompile(`^(\w+) in \((.*)\)$`)

// parseIn parses 'a','b”c' into its values.
func parseIn(list string) ([]string, error) {
	var out []string
	for rest := strings.TrimSpace(list); rest != ""; {
		if rest[0] != '\'' {
			return nil, fmt.Errorf("want a quoted value at %q", rest)
		}
		var b strings.Builder
		i := 1
		for ; i < len(rest); i++ {
			if rest[i] == '\'' {
				if i+1 < len(rest) && rest[i+1] == '\'' {
					b.WriteByte('\'')
					i++
					continue
				}
				break
			}
			b.WriteByte(rest[i])
		}
		if i >= len(rest) {
			return nil, fmt.Errorf("unterminated value")
		}
		out = append(out, b.String())
		rest = strings.TrimSpace(rest[i+1:])
		rest = strings.TrimSpace(strings.TrimPrefix(rest, ","))
	}
	return out, nil
}

// get answers one GET (direct or inside a batch) with a status and body.
func (d *fakeDirectory) get(u *url.URL) (int, any) {
	coll := strings.TrimPrefix(u.Path, "/v1.0/")
	objs, ok := d.objects[coll]
	if !ok {
		return 404, json.RawMessage(graphError("Request_ResourceNotFound", "no collection "+coll))
	}
	q := u.Query()
	var match []map[string]any
	if f := q.Get("$filter"); f != "" {
		m := inFilterRE.FindStringSubmatch(f)
		if m == nil {
			return 400, json.RawMessage(graphError("BadRequest", "unsupported filter "+f))
		}
		vals, err := parseIn(m[2])
		if err != nil || len(vals) > 15 {
			return 400, json.RawMessage(graphError("BadRequest", fmt.Sprintf("bad in list (%d values, %v)", len(vals), err)))
		}
		for _, o := range objs {
			s, _ := o[m[1]].(string)
			for _, v := range vals {
				if strings.EqualFold(s, v) {
					match = append(match, o)
					break
				}
			}
		}
	} else {
		match = objs
	}
	size := d.pageSize
	if top, _ := strconv.Atoi(q.Get("$top")); size == 0 && top > 0 {
		size = top
	}
	if size == 0 {
		size = 100
	}
	start, _ := strconv.Atoi(q.Get("$skiptoken"))
	end := min(start+size, len(match))
	page := map[string]any{"value": append([]map[string]any{}, match[start:end]...)}
	if end < len(match) {
		q.Set("$skiptoken", strconv.Itoa(end))
		page["@odata.nextLink"] = d.srv.URL + u.Path + "?" + q.Encode()
	}
	return 200, page
}

func (d *fakeDirectory) serveHTTP(w http.ResponseWriter, r *http.Request) {
	d.roundTrips.Add(1)
	require.Equal(d.t, "Bearer "+testToken, r.Header.Get("Authorization"))
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1.0/$batch":
		var in struct {
			Requests []batchRequest `json:"requests"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || len(in.Requests) > 20 {
			w.WriteHeader(400)
			fmt.Fprint(w, graphError("BadRequest", "bad batch"))
			return
		}
		ids := map[string]bool{}
		var out struct {
			Responses []map[string]any `json:"responses"`
		}
		// Answer in reverse order: clients must match by id.
		for i := len(in.Requests) - 1; i >= 0; i-- {
			br := in.Requests[i]
			if ids[strings.ToLower(br.ID)] || br.Method != "GET" || !strings.HasPrefix(br.URL, "/") {
				w.WriteHeader(400)
				fmt.Fprint(w, graphError("BadRequest", "bad batch item"))
				return
			}
			ids[strings.ToLower(br.ID)] = true
			d.mu.Lock()
			d.inner = append(d.inner, br.URL)
			seen := d.seen[br.URL]
			d.seen[br.URL]++
			d.mu.Unlock()
			if d.innerFault != nil {
				if st, h, ok := d.innerFault(br.URL, seen); ok {
					out.Responses = append(out.Responses, map[string]any{"id": br.ID, "status": st, "headers": h,
						"body": json.RawMessage(graphError("TooManyRequests", "inner"))})
					continue
				}
			}
			u, err := url.Parse("/v1.0" + br.URL)
			require.NoError(d.t, err)
			st, body := d.get(u)
			out.Responses = append(out.Responses, map[string]any{"id": br.ID, "status": st,
				"headers": map[string]string{"Content-Type": "application/json"}, "body": body})
		}
		json.NewEncoder(w).Encode(out)
	case r.Method == http.MethodPost && r.URL.Path == "/v1.0/directoryObjects/getByIds":
		var in struct {
			IDs []string `json:"ids"`
		}
		require.NoError(d.t, json.NewDecoder(r.Body).Decode(&in))
		require.LessOrEqual(d.t, len(in.IDs), 1000)
		byID := map[string]map[string]any{}
		for coll, objs := range d.objects {
			for _, o := range objs {
				o2 := map[string]any{"@odata.type": "#microsoft.graph." + strings.TrimSuffix(coll, "s")}
				for k, v := range o {
					o2[k] = v
				}
				byID[strings.ToLower(o["id"].(string))] = o2
			}
		}
		var out []map[string]any
		for _, id := range in.IDs {
			if o, ok := byID[strings.ToLower(id)]; ok {
				out = append(out, o)
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"value": out})
	case r.Method == http.MethodGet:
		st, body := d.get(r.URL)
		w.WriteHeader(st)
		json.NewEncoder(w).Encode(body)
	default:
		w.WriteHeader(405)
	}
}

func guid(kind, i int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", kind, i) }

func TestLookupUsersCostsAboutOneRoundTripPer150Keys(t *testing.T) {
	t.Parallel()
	d := newFakeDirectory(t)
	for i := range 600 {
		d.add("users", map[string]any{
			"id": guid(1, i), "displayName": fmt.Sprintf("User %d", i),
			"userPrincipalName": fmt.Sprintf("user%d@contoso.com", i),
			"mail":              fmt.Sprintf("first.last%d@contoso.com", i),
			"userType":          "Member",
		})
	}
	// Two users share one mail address: a key for it is ambiguous.
	d.add("users", map[string]any{"id": guid(1, 9000), "userPrincipalName": "shared1@contoso.com", "mail": "team@contoso.com"})
	d.add("users", map[string]any{"id": guid(1, 9001), "userPrincipalName": "shared2@contoso.com", "mail": "team@contoso.com"})
	// A guest, found by mail though its UPN is the #EXT# form.
	d.add("users", map[string]any{"id": guid(1, 9002), "userPrincipalName": "o'brien_fabrikam.com#EXT#@contoso.onmicrosoft.com", "mail": "o'brien@fabrikam.com", "userType": "Guest"})

	var keys []string
	for i := range 500 {
		switch i % 3 {
		case 0:
			keys = append(keys, fmt.Sprintf("user%d@contoso.com", i))
		case 1:
			keys = append(keys, fmt.Sprintf("FIRST.LAST%d@contoso.com", i)) // case differs
		default:
			keys = append(keys, guid(1, i))
		}
	}
	keys = append(keys, "team@contoso.com", "o'brien@fabrikam.com", "nobody@contoso.com", "not-an-address", "", "user0@contoso.com")

	c, _ := newTestClient(t, d.srv.URL)
	got, err := c.LookupUsers(t.Context(), keys)
	require.NoError(t, err)
	require.LessOrEqual(t, d.roundTrips.Load(), int32(40), "500 names must cost at most 40 round trips")
	require.LessOrEqual(t, d.roundTrips.Load(), int32(6), "expected ceil((34 UPN + 34 mail + 12 id filters)/20) batches")
	t.Logf("round trips for %d keys: %d", len(keys), d.roundTrips.Load())

	for i := range 500 {
		k := keys[i]
		require.Len(t, got[k], 1, "key %s", k)
		require.Equal(t, guid(1, i), got[k][0].ID, "key %s", k)
	}
	require.Len(t, got["team@contoso.com"], 2)
	require.Equal(t, guid(1, 9000), got["team@contoso.com"][0].ID, "matches sorted by id")
	require.Equal(t, "Guest", got["o'brien@fabrikam.com"][0].UserType)
	require.Empty(t, got["nobody@contoso.com"])
	require.Contains(t, got, "nobody@contoso.com", "every key is in the result")
	require.Empty(t, got["not-an-address"])
	for _, u := range d.innerURLs() {
		require.True(t, strings.HasPrefix(u, "/users?$filter="), u)
		require.Contains(t, u, "&$select=id,displayName,userPrincipalName,mail,userType,accountEnabled&$top=999")
	}
}

func TestLookupRetriesThrottledBatchItems(t *testing.T) {
	t.Parallel()
	d := newFakeDirectory(t)
	for i := range 40 {
		d.add("groups", map[string]any{"id": guid(2, i), "displayName": fmt.Sprintf("Group %02d", i)})
	}
	// The second filter is throttled twice with different waits; the
	// first answer of the third is 503 without Retry-After.
	var mu sync.Mutex
	d.innerFault = func(u string, seen int) (int, map[string]string, bool) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case strings.Contains(u, "group%2015") && seen == 0:
			return 429, map[string]string{"Retry-After": "7"}, true
		case strings.Contains(u, "group%2015") && seen == 1:
			return 429, map[string]string{"retry-after": "2.5"}, true
		case strings.Contains(u, "group%2030") && seen == 0:
			return 503, nil, true
		}
		return 0, nil, false
	}
	var names []string
	for i := range 40 {
		names = append(names, fmt.Sprintf("group %02d", i))
	}
	c, clock := newTestClient(t, d.srv.URL)
	got, err := c.LookupGroups(t.Context(), names)
	require.NoError(t, err)
	for i, n := range names {
		require.Len(t, got[n], 1, n)
		require.Equal(t, guid(2, i), got[n][0].ID)
	}
	// Round 1: all three; round 2: the two that failed, after the longest
	// Retry-After (7 s); round 3: the one throttled again, after 3 s; each
	// plus jitter (0.5 s with the test's random 0.5).
	require.Equal(t, []time.Duration{7500 * time.Millisecond, 3500 * time.Millisecond}, clock.Sleeps())
	require.Len(t, d.innerURLs(), 3+2+1)
	require.EqualValues(t, 3, d.roundTrips.Load())
}

func TestLookupFailsOnOtherInnerErrors(t *testing.T) {
	t.Parallel()
	d := newFakeDirectory(t)
	d.innerFault = func(string, int) (int, map[string]string, bool) { return 403, nil, true }
	c, _ := newTestClient(t, d.srv.URL)
	_, err := c.LookupGroups(t.Context(), []string{"Marketing"})
	require.True(t, graph.IsForbidden(err), "got %v", err)
	require.ErrorContains(t, err, "looking up groups: GET http://")
	require.ErrorContains(t, err, "/v1.0/groups?$filter=displayName%20in%20%28%27Marketing%27%29")

	d2 := newFakeDirectory(t)
	d2.innerFault = func(string, int) (int, map[string]string, bool) {
		return 429, map[string]string{"Retry-After": "1"}, true
	}
	c2, clock := newTestClient(t, d2.srv.URL, func(o *Options) { o.MaxRetries = 2 })
	_, err = c2.LookupGroups(t.Context(), []string{"Marketing"})
	require.True(t, graph.IsThrottled(err), "got %v", err)
	require.Len(t, clock.Sleeps(), 2)
}

func TestLookupFollowsNextLinksOfBatchItems(t *testing.T) {
	t.Parallel()
	d := newFakeDirectory(t)
	d.pageSize = 2
	for i := range 5 {
		d.add("groups", map[string]any{"id": guid(2, i), "displayName": "All Staff"})
	}
	c, _ := newTestClient(t, d.srv.URL)
	got, err := c.LookupGroups(t.Context(), []string{"all staff"})
	require.NoError(t, err)
	require.Len(t, got["all staff"], 5, "an ambiguous name keeps every match")
	require.EqualValues(t, 3, d.roundTrips.Load(), "one batch, then two direct page requests")
}

func TestLookupGroupsServicePrincipalsAndRoles(t *testing.T) {
	t.Parallel()
	d := newFakeDirectory(t)
	d.add("groups",
		map[string]any{"id": guid(2, 1), "displayName": "Marketing", "groupTypes": []string{"Unified"}},
		map[string]any{"id": guid(2, 2), "displayName": "Sales"},
	)
	d.add("servicePrincipals",
		map[string]any{"id": guid(3, 1), "appId": guid(4, 1), "displayName": "Payroll App"},
		map[string]any{"id": guid(3, 2), "appId": guid(4, 2), "displayName": "HR App"},
	)
	d.add("roleManagement/directory/roleDefinitions",
		map[string]any{"id": guid(5, 1), "templateId": guid(5, 1), "displayName": "Global Administrator", "isBuiltIn": true},
		map[string]any{"id": guid(5, 2), "templateId": guid(6, 2), "displayName": "User Administrator", "isBuiltIn": true},
	)
	c, _ := newTestClient(t, d.srv.URL)

	groups, err := c.LookupGroups(t.Context(), []string{"marketing", guid(2, 2), "Nope"})
	require.NoError(t, err)
	require.Equal(t, []string{"Unified"}, groups["marketing"][0].GroupTypes)
	require.Equal(t, "Sales", groups[guid(2, 2)][0].DisplayName)
	require.Empty(t, groups["Nope"])

	sps, err := c.LookupServicePrincipals(t.Context(), []string{"Payroll App", guid(4, 2), guid(3, 1)})
	require.NoError(t, err)
	require.Equal(t, guid(3, 1), sps["Payroll App"][0].ID)
	require.Equal(t, "HR App", sps[guid(4, 2)][0].DisplayName, "found by appId")
	require.Equal(t, "Payroll App", sps[guid(3, 1)][0].DisplayName, "found by object id")

	before := d.roundTrips.Load()
	roles, err := c.LookupRoleDefinitions(t.Context(), []string{"global administrator", guid(6, 2), "Unknown Role"})
	require.NoError(t, err)
	require.Equal(t, guid(5, 1), roles["global administrator"][0].ID)
	require.Equal(t, "User Administrator", roles[guid(6, 2)][0].DisplayName, "found by templateId")
	require.Empty(t, roles["Unknown Role"])
	require.Equal(t, before+1, d.roundTrips.Load())

	// No keys, no requests.
	before = d.roundTrips.Load()
	for _, f := range []func() error{
		func() error { _, err := c.LookupUsers(t.Context(), nil); return err },
		func() error { _, err := c.LookupGroups(t.Context(), []string{""}); return err },
		func() error { _, err := c.LookupRoleDefinitions(t.Context(), nil); return err },
		func() error { _, err := c.GetDirectoryObjects(t.Context(), nil); return err },
	} {
		require.NoError(t, f())
	}
	require.Equal(t, before, d.roundTrips.Load())
}

func TestGetDirectoryObjects(t *testing.T) {
	t.Parallel()
	d := newFakeDirectory(t)
	for i := range 2500 {
		d.add("users", map[string]any{"id": guid(1, i), "userPrincipalName": fmt.Sprintf("u%d@contoso.com", i)})
	}
	d.add("groups", map[string]any{"id": guid(2, 1), "displayName": "Marketing"})
	ids := []string{guid(2, 1), strings.ToUpper(guid(1, 10)), "00000000-0000-0000-0000-00000000dead"}
	for i := range 2500 {
		ids = append(ids, guid(1, i))
	}
	ids = append(ids, guid(1, 3)) // a repeat
	c, _ := newTestClient(t, d.srv.URL)
	got, err := c.GetDirectoryObjects(t.Context(), ids)
	require.NoError(t, err)
	require.EqualValues(t, 3, d.roundTrips.Load(), "2503 distinct ids in chunks of 1000")
	require.Equal(t, 2502, len(got))
	want := DirectoryObject{ODataType: "#microsoft.graph.group", ID: guid(2, 1), DisplayName: "Marketing"}
	if diff := cmp.Diff(want, got[guid(2, 1)]); diff != "" {
		t.Errorf("group mismatch (-want +got):\n%s", diff)
	}
	require.Equal(t, "group", got[guid(2, 1)].Kind())
	require.Equal(t, "user", got[strings.ToUpper(guid(1, 10))].Kind(), "keyed by the id as asked")
	require.NotContains(t, got, "00000000-0000-0000-0000-00000000dead")
}

func TestInFilters(t *testing.T) {
	t.Parallel()
	got := inFilters("groups", "displayName", "id", []string{"A", "a", "O'Brien & Co", ""})
	require.Equal(t, []string{"groups?$filter=displayName%20in%20%28%27A%27%2C%27O%27%27Brien%20%26%20Co%27%29&$select=id&$top=999"}, got)
	vals := make([]string, 31)
	for i := range vals {
		vals[i] = strconv.Itoa(i)
	}
	require.Len(t, inFilters("users", "mail", "id", vals), 3)
	require.True(t, IsGUID("04777c4b-4d43-4d32-a2e7-1eba5d03f8cf"))
	require.False(t, IsGUID("04777c4b-4d43-4d32-a2e7-1eba5d03f8c"))
}

func BenchmarkLookupUsers500(b *testing.B) {
	d := newFakeDirectory(b)
	var keys []string
	for i := range 500 {
		upn := fmt.Sprintf("user%d@contoso.com", i)
		d.add("users", map[string]any{"id": guid(1, i), "userPrincipalName": upn, "mail": upn})
		keys = append(keys, upn)
	}
	c, err := New(Options{BaseURL: d.srv.URL + "/v1.0", Credential: StaticToken(testToken)})
	if err != nil {
		b.Fatal(err)
	}
	d.roundTrips.Store(0)
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.LookupUsers(b.Context(), keys); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(d.roundTrips.Load())/float64(b.N), "roundtrips/op")
}
