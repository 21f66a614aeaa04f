package plan_test

import (
	"context"
	"iter"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/graphclient"
	"github.com/arsync/arsync/pkg/plan"
	"github.com/arsync/arsync/pkg/spec"
)

// The objects of testdata/fake/review.yaml.
const (
	marketingID = "ea1ee477-0a50-41ac-8699-c70d0c1f868a"
	aliceID     = "398164b1-5196-49dd-ada2-364b49f99b27"
	bobID       = "7a2f1c3e-52a4-4b8e-9d6f-0c1b2a3d4e5f"
)

// fakeGraph is a Client without a server: the directory of
// testdata/fake/review.yaml and the live definitions in defs. Each on*
// hook, when set, runs first and fails the call with its error.
type fakeGraph struct {
	defs    []graph.Definition
	listErr error
	onList  func(ctx context.Context) error

	lookupErr error
	onLookup  func(ctx context.Context) error

	objectsErr error
	onObjects  func(ctx context.Context) error

	mu          sync.Mutex
	objectCalls int
}

func (f *fakeGraph) ListDefinitions(ctx context.Context, _ *graph.ListOptions) iter.Seq2[*graph.Definition, error] {
	return func(yield func(*graph.Definition, error) bool) {
		if f.onList != nil {
			if err := f.onList(ctx); err != nil {
				yield(nil, err)
				return
			}
		}
		if f.listErr != nil {
			yield(nil, f.listErr)
			return
		}
		for i := range f.defs {
			d := f.defs[i]
			if !yield(&d, nil) {
				return
			}
		}
	}
}

func (f *fakeGraph) lookup(ctx context.Context) error {
	if f.onLookup != nil {
		if err := f.onLookup(ctx); err != nil {
			return err
		}
	}
	return f.lookupErr
}

func (f *fakeGraph) LookupUsers(ctx context.Context, keys []string) (map[string][]graphclient.User, error) {
	if err := f.lookup(ctx); err != nil {
		return nil, err
	}
	known := map[string]graphclient.User{
		"alice@contoso.com": {ID: aliceID, UserPrincipalName: "alice@contoso.com"},
		"bob@contoso.com":   {ID: bobID, UserPrincipalName: "bob@contoso.com"},
	}
	out := map[string][]graphclient.User{}
	for _, k := range keys {
		if u, ok := known[k]; ok {
			out[k] = []graphclient.User{u}
		}
	}
	return out, nil
}

func (f *fakeGraph) LookupGroups(ctx context.Context, keys []string) (map[string][]graphclient.Group, error) {
	if err := f.lookup(ctx); err != nil {
		return nil, err
	}
	out := map[string][]graphclient.Group{}
	for _, k := range keys {
		if k == marketingID || k == "Marketing" {
			out[k] = []graphclient.Group{{ID: marketingID, DisplayName: "Marketing"}}
		}
	}
	return out, nil
}

func (f *fakeGraph) LookupServicePrincipals(ctx context.Context, _ []string) (map[string][]graphclient.ServicePrincipal, error) {
	return map[string][]graphclient.ServicePrincipal{}, f.lookup(ctx)
}

func (f *fakeGraph) LookupRoleDefinitions(ctx context.Context, _ []string) (map[string][]graphclient.RoleDefinition, error) {
	return map[string][]graphclient.RoleDefinition{}, f.lookup(ctx)
}

func (f *fakeGraph) GetDirectoryObjects(ctx context.Context, ids []string) (map[string]graphclient.DirectoryObject, error) {
	f.mu.Lock()
	f.objectCalls++
	f.mu.Unlock()
	if f.onObjects != nil {
		if err := f.onObjects(ctx); err != nil {
			return nil, err
		}
	}
	if f.objectsErr != nil {
		return nil, f.objectsErr
	}
	known := map[string]graphclient.DirectoryObject{
		aliceID:     {ODataType: "#microsoft.graph.user", ID: aliceID, UserPrincipalName: "alice@contoso.com"},
		bobID:       {ODataType: "#microsoft.graph.user", ID: bobID, UserPrincipalName: "bob@contoso.com"},
		marketingID: {ODataType: "#microsoft.graph.group", ID: marketingID, DisplayName: "Marketing"},
	}
	out := map[string]graphclient.DirectoryObject{}
	for _, id := range ids {
		if o, ok := known[id]; ok {
			out[id] = o
		}
	}
	return out, nil
}

// loadSpecs loads spec files as the commands do, failing on any error.
func loadSpecs(t *testing.T, paths ...string) *spec.Result {
	t.Helper()
	res, err := spec.Load(paths...)
	require.NoError(t, err)
	require.False(t, res.Diagnostics.HasErrors(), "%v", res.Diagnostics)
	require.NotEmpty(t, res.Files)
	return res
}

// liveReview is testdata/fake/review.yaml as Graph would hold it once
// created (the plan's create body, with an id), its reviewer replaced by
// the user with id reviewer.
func liveReview(t *testing.T, reviewer string) graph.Definition {
	t.Helper()
	p, err := plan.Make(t.Context(), &fakeGraph{}, loadSpecs(t, "testdata/fake"), plan.Options{})
	require.NoError(t, err)
	require.Len(t, p.Changes, 1)
	d := *p.Changes[0].After
	d.ID = "11111111-0000-0000-0000-000000000001"
	d.CreatedDateTime = "2026-01-10T09:00:00Z"
	d.Reviewers = []graph.ReviewerScope{{Query: "/users/" + reviewer, QueryType: "MicrosoftGraph"}}
	return d
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}
