package spec

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/golden"
	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/graphclient"
)

// The Graph client is the production Directory and Namer.
var (
	_ Directory = (*graphclient.Client)(nil)
	_ Namer     = (*graphclient.Client)(nil)
)

// memDirectory is an in-memory Directory with graphclient's matching rules
// (case-insensitive; users by UPN, mail or id; groups by name or id;
// service principals by name, appId or id; roles by name, id or
// templateId). It records each call.
type memDirectory struct {
	users  []graphclient.User
	groups []graphclient.Group
	sps    []graphclient.ServicePrincipal
	roles  []graphclient.RoleDefinition
	objs   []graphclient.DirectoryObject // extra getByIds answers
	fail   map[RefKind]error

	mu    sync.Mutex
	calls []string // "kind:key1|key2|..."
}

func (m *memDirectory) record(kind RefKind, keys []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, string(kind)+":"+strings.Join(keys, "|"))
	return m.fail[kind]
}

func lookupIn[T any](keys []string, objs []T, match func(key string, o T) bool) map[string][]T {
	out := map[string][]T{}
	for _, k := range keys {
		out[k] = nil
		for _, o := range objs {
			if match(k, o) {
				out[k] = append(out[k], o)
			}
		}
	}
	return out
}

func fold(a, b string) bool { return a != "" && strings.EqualFold(a, b) }

func (m *memDirectory) LookupUsers(_ context.Context, keys []string) (map[string][]graphclient.User, error) {
	if err := m.record(RefUser, keys); err != nil {
		return nil, err
	}
	return lookupIn(keys, m.users, func(k string, u graphclient.User) bool {
		return fold(u.ID, k) || fold(u.UserPrincipalName, k) || fold(u.Mail, k)
	}), nil
}

func (m *memDirectory) LookupGroups(_ context.Context, keys []string) (map[string][]graphclient.Group, error) {
	if err := m.record(RefGroup, keys); err != nil {
		return nil, err
	}
	return lookupIn(keys, m.groups, func(k string, g graphclient.Group) bool {
		return fold(g.ID, k) || !isGUID(k) && fold(g.DisplayName, k)
	}), nil
}

func (m *memDirectory) LookupServicePrincipals(_ context.Context, keys []string) (map[string][]graphclient.ServicePrincipal, error) {
	if err := m.record(RefServicePrincipal, keys); err != nil {
		return nil, err
	}
	return lookupIn(keys, m.sps, func(k string, s graphclient.ServicePrincipal) bool {
		return fold(s.ID, k) || fold(s.AppID, k) || !isGUID(k) && fold(s.DisplayName, k)
	}), nil
}

func (m *memDirectory) LookupRoleDefinitions(_ context.Context, keys []string) (map[string][]graphclient.RoleDefinition, error) {
	if err := m.record(RefRole, keys); err != nil {
		return nil, err
	}
	return lookupIn(keys, m.roles, func(k string, r graphclient.RoleDefinition) bool {
		return fold(r.ID, k) || fold(r.TemplateID, k) || !isGUID(k) && fold(r.DisplayName, k)
	}), nil
}

func (m *memDirectory) GetDirectoryObjects(_ context.Context, ids []string) (map[string]graphclient.DirectoryObject, error) {
	m.mu.Lock()
	m.calls = append(m.calls, "getByIds:"+strings.Join(ids, "|"))
	m.mu.Unlock()
	out := map[string]graphclient.DirectoryObject{}
	for _, id := range ids {
		for _, u := range m.users {
			if fold(u.ID, id) {
				out[id] = graphclient.DirectoryObject{ODataType: "#microsoft.graph.user", ID: u.ID, DisplayName: u.DisplayName, UserPrincipalName: u.UserPrincipalName, Mail: u.Mail, UserType: u.UserType}
			}
		}
		for _, g := range m.groups {
			if fold(g.ID, id) {
				out[id] = graphclient.DirectoryObject{ODataType: "#microsoft.graph.group", ID: g.ID, DisplayName: g.DisplayName, Mail: g.Mail}
			}
		}
		for _, s := range m.sps {
			if fold(s.ID, id) {
				out[id] = graphclient.DirectoryObject{ODataType: "#microsoft.graph.servicePrincipal", ID: s.ID, DisplayName: s.DisplayName, AppID: s.AppID}
			}
		}
		for _, o := range m.objs {
			if fold(o.ID, id) {
				out[id] = o
			}
		}
	}
	return out, nil
}

func (m *memDirectory) callsSorted() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.calls)
	slices.Sort(out)
	return out
}

// Ids of the test directory.
const (
	idAlice     = "398164b1-5196-49dd-ada2-364b49f99b27"
	idAdmin     = "fc9a2c2b-1ddc-486d-a211-5fe8ca77fa1f"
	idSam       = "7e95ba56-3aee-4988-b07a-2715a9b7ba9b"
	idTwinA     = "11111111-1111-4111-8111-111111111111"
	idTwinB     = "22222222-2222-4222-8222-222222222222"
	idMarketing = "ea1ee477-0a50-41ac-8699-c70d0c1f868a"
	idFinance   = "02f3bafb-448c-487c-88c2-5fd65ce49a41"
	idContrA    = "5717c71a-3dba-44c3-b71d-670aca9dae2f"
	idContrB    = "c078266f-a222-4205-be14-e53ac3026505"
	idPayroll   = "1b1a8bd4-1790-4175-96a8-e33def257415"
	appPayroll  = "f61a366e-53e5-42b9-bb85-4825c728a87a"
	idCopyA     = "33333333-3333-4333-8333-333333333333"
	idCopyB     = "44444444-4444-4444-8444-444444444444"
	idGA        = "62e90394-69f5-4237-9190-012177145e10"
	idCustomA   = "55555555-5555-4555-8555-555555555555"
	idCustomB   = "66666666-6666-4666-8666-666666666666"
	idOdd       = "77777777-7777-4777-8777-777777777777"
	idRoleX     = "88888888-8888-4888-8888-888888888888"
	idRoleXTmpl = "99999999-8888-4888-8888-888888888888"
)

func testDirectory() *memDirectory {
	return &memDirectory{
		users: []graphclient.User{
			{ID: idAlice, UserPrincipalName: "alice@contoso.com", Mail: "alice@contoso.com", DisplayName: "Alice Wong"},
			{ID: idAdmin, UserPrincipalName: "admin@contoso.com", Mail: "admin@contoso.com", DisplayName: "MOD Administrator"},
			{ID: idSam, UserPrincipalName: "sam_fabrikam.com#EXT#@contoso.onmicrosoft.com", Mail: "sam@fabrikam.com", UserType: "Guest", DisplayName: "Sam Taylor"},
			// Two accounts share one mail address.
			{ID: idTwinA, UserPrincipalName: "pat@contoso.com", Mail: "pat@contoso.com", DisplayName: "Pat"},
			{ID: idTwinB, UserPrincipalName: "pat.admin@contoso.com", Mail: "pat@contoso.com", DisplayName: "Pat (admin)"},
		},
		groups: []graphclient.Group{
			{ID: idMarketing, DisplayName: "Marketing", Mail: "marketing@contoso.com"},
			{ID: idFinance, DisplayName: "Finance"},
			{ID: "119cc181-22f0-4e18-8537-264e7524ee0b", DisplayName: "Sales", Mail: "sales@contoso.com"},
			{ID: idContrA, DisplayName: "Contractors"},
			{ID: idContrB, DisplayName: "Contractors"},
			{ID: idOdd, DisplayName: "Odd {name}"}, // cannot be written as ${group:...}
		},
		sps: []graphclient.ServicePrincipal{
			{ID: idPayroll, AppID: appPayroll, DisplayName: "Payroll App"},
			{ID: idCopyA, AppID: "aaaaaaaa-0000-4000-8000-000000000001", DisplayName: "Copy App"},
			{ID: idCopyB, AppID: "aaaaaaaa-0000-4000-8000-000000000002", DisplayName: "Copy App"},
		},
		roles: []graphclient.RoleDefinition{
			{ID: idGA, TemplateID: idGA, DisplayName: "Global Administrator"},
			{ID: idCustomA, TemplateID: idCustomA, DisplayName: "Helpdesk Lite"},
			{ID: idCustomB, TemplateID: idCustomB, DisplayName: "Helpdesk Lite"},
			{ID: idRoleX, TemplateID: idRoleXTmpl, DisplayName: "Custom Role"},
		},
	}
}

// parseAll parses YAML files that must be valid and returns their
// definitions, in file name order.
func parseAll(t *testing.T, files map[string]string) []*Definition {
	t.Helper()
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	var defs []*Definition
	for _, name := range names {
		ds, diags := Parse(name, []byte(files[name]))
		require.False(t, diags.HasErrors(), "%s:\n%s", name, diags)
		defs = append(defs, ds...)
	}
	return defs
}

// doc is a minimal valid definition whose spec fragment (indented by four
// spaces, under spec:) is extra.
func doc(name, extra string) string {
	return `apiVersion: arsync/v1
kind: AccessReviewDefinition
metadata:
  name: ` + name + `
spec:
  displayName: ` + name + `
  scope:
    query: /groups/${group:Marketing}/transitiveMembers
  settings:
    recurrence:
      range: {type: endDate, startDate: 2026-01-01, endDate: 2026-01-10}
` + extra
}

func TestResolveMapsNamesToIDs(t *testing.T) {
	defs := parseAll(t, map[string]string{
		"a.yaml": doc("a", `  reviewers:
    - user: Alice@Contoso.com
    - groupOwners: Finance
  fallbackReviewers:
    - user: sam@fabrikam.com
  additionalNotificationRecipients:
    - groupMembers: `+idFinance+`
`),
		"b.yaml": doc("b", `  reviewers:
    - query: /servicePrincipals/${servicePrincipal:Payroll App}/owners
    - query: /servicePrincipals/${servicePrincipal:`+appPayroll+`}/owners
    - user: alice@contoso.com
`),
		"c.yaml": `apiVersion: arsync/v1
kind: AccessReviewDefinition
metadata: {name: c}
spec:
  displayName: c
  scope:
    type: principalResourceMemberships
    principalScopes: [{query: /users}]
    resourceScopes: [{query: "/roleManagement/directory/roleDefinitions/${role:Global Administrator}"}]
  settings:
    recurrence: {range: {type: endDate, startDate: 2026-01-01, endDate: 2026-01-10}}
`,
	})
	dir := testDirectory()
	got, err := Resolve(context.Background(), defs, dir)
	require.NoError(t, err)
	require.Len(t, got, 3)

	a, b, c := got[0], got[1], got[2]
	require.Same(t, defs[0], a.Def)
	require.Equal(t, "/groups/"+idMarketing+"/transitiveMembers", a.Body.Scope.Query)
	require.Equal(t, []graph.ReviewerScope{
		{Query: "/users/" + idAlice, QueryType: "MicrosoftGraph"},
		{Query: "/groups/" + idFinance + "/owners", QueryType: "MicrosoftGraph"},
	}, a.Body.Reviewers)
	require.Equal(t, "/users/"+idSam, a.Body.FallbackReviewers[0].Query)
	require.Equal(t, "/groups/"+idFinance+"/members", a.Body.AdditionalNotificationRecipients[0].NotificationRecipientScope.Query)
	if d := cmp.Diff(map[string]string{
		idMarketing: "Marketing",
		idAlice:     "Alice@Contoso.com", // as written
		idFinance:   "Finance",
		idSam:       "sam@fabrikam.com",
	}, a.Labels); d != "" {
		t.Errorf("labels of a (-want +got):\n%s", d)
	}

	require.Equal(t, "/servicePrincipals/"+idPayroll+"/owners", b.Body.Reviewers[0].Query)
	// An appId is a service principal's id-shaped name: it becomes the object id.
	require.Equal(t, "/servicePrincipals/"+idPayroll+"/owners", b.Body.Reviewers[1].Query)
	require.Equal(t, "Payroll App", b.Labels[idPayroll])
	require.Equal(t, "/roleManagement/directory/roleDefinitions/"+idGA, c.Body.Scope.ResourceScopes[0].Query)
	require.Equal(t, "Global Administrator", c.Labels[idGA])

	// One call per kind, each distinct name once, ids included.
	want := []string{
		"group:Marketing|Finance|" + idFinance,
		"role:Global Administrator",
		"servicePrincipal:Payroll App|" + appPayroll,
		"user:Alice@Contoso.com|sam@fabrikam.com|alice@contoso.com",
	}
	if d := cmp.Diff(want, dir.callsSorted()); d != "" {
		t.Errorf("directory calls (-want +got):\n%s", d)
	}
}

func TestResolveMatchesToGraphBodies(t *testing.T) {
	// Resolve's bodies are ToGraph's, given the same ids.
	defs := parseAll(t, map[string]string{"a.yaml": doc("a", "  reviewers:\n    - user: alice@contoso.com\n")})
	got, err := Resolve(context.Background(), defs, testDirectory())
	require.NoError(t, err)
	want, err := defs[0].ToGraph(mapResolver{
		{RefGroup, "Marketing"}:        idMarketing,
		{RefUser, "alice@contoso.com"}: idAlice,
	})
	require.NoError(t, err)
	if d := cmp.Diff(want, got[0].Body, cmpopts.IgnoreUnexported(graph.Definition{})); d != "" {
		t.Errorf("(-ToGraph +Resolve):\n%s", d)
	}
}

type mapResolver map[refKey]string

func (m mapResolver) ResolveID(kind RefKind, name string) (string, error) {
	if id, ok := m[refKey{kind, name}]; ok {
		return id, nil
	}
	return "", errors.New("unknown")
}

// TestResolveErrors checks the messages for unknown and ambiguous names
// of every kind, all reported at once with their positions.
func TestResolveErrors(t *testing.T) {
	res, err := Load("testdata/resolve/first.yaml", "testdata/resolve/second.yaml")
	require.NoError(t, err)
	require.Empty(t, res.Diagnostics)
	defs := res.Definitions
	_, err = Resolve(context.Background(), defs, testDirectory())
	var diags Diagnostics
	require.ErrorAs(t, err, &diags)
	require.Equal(t, len(diags), diags.Count(Error))
	golden.Assert(t, "testdata/resolve/errors.golden", []byte(err.Error()+"\n"))

}

func TestNameError(t *testing.T) {
	tests := []struct {
		err  NameError
		want string
	}{
		{NameError{Kind: RefUser, Name: "x@y.z"}, `user "x@y.z" was not found in the directory (a user is found by userPrincipalName, mail or id)`},
		{NameError{Kind: RefGroup, Name: "G", Candidates: []Candidate{{ID: "1", Name: "G"}, {ID: "2", Name: "G", Detail: "g@x"}}}, `group "G" is ambiguous: 2 groups have this name: 1, 2 (g@x); use the id`},
		{NameError{Kind: RefServicePrincipal, Name: "S"}, `servicePrincipal "S" was not found in the directory (a service principal is found by displayName, appId or id)`},
		{NameError{Kind: RefRole, Name: "R"}, `role "R" was not found in the directory (a role is found by displayName, id or templateId)`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			require.Equal(t, tt.want, tt.err.Error())
			require.Equal(t, len(tt.err.Candidates) == 0, tt.err.NotFound())
		})
	}
}

func TestResolveWithoutDirectory(t *testing.T) {
	idsOnly := parseAll(t, map[string]string{"a.yaml": `apiVersion: arsync/v1
kind: AccessReviewDefinition
metadata: {name: a}
spec:
  displayName: a
  scope: {query: "/groups/` + idFinance + `/transitiveMembers"}
  reviewers: [{user: ` + idAlice + `}]
  settings:
    recurrence: {range: {type: endDate, startDate: 2026-01-01, endDate: 2026-01-10}}
`})
	got, err := Resolve(context.Background(), idsOnly, nil)
	require.NoError(t, err)
	require.Equal(t, "/users/"+idAlice, got[0].Body.Reviewers[0].Query)
	require.Empty(t, got[0].Labels)

	named := parseAll(t, map[string]string{"b.yaml": doc("b", "")})
	_, err = Resolve(context.Background(), named, nil)
	require.EqualError(t, err, `b.yaml:8:20: group "Marketing" was not found in the directory (a group is found by displayName or id)`)

	// Nothing to resolve: no directory call at all.
	dir := testDirectory()
	_, err = Resolve(context.Background(), nil, dir)
	require.NoError(t, err)
	require.Empty(t, dir.calls)
}

func TestResolveDirectoryFailures(t *testing.T) {
	forbidden := &graph.Error{StatusCode: 403, Code: "Authorization_RequestDenied", Message: "Insufficient privileges"}
	require.True(t, graph.IsForbidden(forbidden))
	idsOnly := doc("a", "  reviewers: [{user: "+idAlice+"}]\n")
	idsOnly = strings.Replace(idsOnly, "${group:Marketing}", idMarketing, 1)

	tests := []struct {
		name    string
		spec    string
		fail    map[RefKind]error
		wantErr string // "" means success
		wantQ   string // reviewers[0].query on success
	}{
		{
			name: "ids only, directory refuses: ids used unchecked",
			spec: idsOnly, fail: map[RefKind]error{RefUser: forbidden, RefGroup: forbidden},
			wantQ: "/users/" + idAlice,
		},
		{
			name: "names, directory refuses: error",
			spec: doc("a", "  reviewers: [{user: alice@contoso.com}]\n"), fail: map[RefKind]error{RefUser: forbidden},
			wantErr: "resolving names in the directory: " + forbidden.Error(),
		},
		{
			name: "ids only, other failure: error",
			spec: idsOnly, fail: map[RefKind]error{RefUser: errors.New("connection reset")},
			wantErr: "resolving names in the directory: connection reset",
		},
		{
			name: "two kinds fail: both reported",
			spec: doc("a", "  reviewers: [{user: alice@contoso.com}]\n"), fail: map[RefKind]error{RefUser: errors.New("u down"), RefGroup: errors.New("g down")},
			wantErr: "resolving names in the directory: u down\ng down",
		},
		{
			name:    "kinds fail for one cause: reported once",
			spec:    doc("a", "  reviewers: [{user: alice@contoso.com}]\n"),
			fail:    map[RefKind]error{RefUser: fmt.Errorf("looking up users: %w", x509.UnknownAuthorityError{}), RefGroup: fmt.Errorf("looking up groups: %w", x509.UnknownAuthorityError{})},
			wantErr: "resolving names in the directory: looking up users: x509: certificate signed by unknown authority (the look-ups of groups failed the same way)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := testDirectory()
			dir.fail = tt.fail
			got, err := Resolve(context.Background(), parseAll(t, map[string]string{"a.yaml": tt.spec}), dir)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantQ, got[0].Body.Reviewers[0].Query)
		})
	}
}

func TestResolveCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := testDirectory()
	dir.fail = map[RefKind]error{RefGroup: context.Canceled}
	_, err := Resolve(ctx, parseAll(t, map[string]string{"a.yaml": doc("a", "")}), dir)
	require.ErrorIs(t, err, context.Canceled)
}
