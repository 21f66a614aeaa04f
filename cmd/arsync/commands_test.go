package main

import (
	"bytes"
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/graphclient"
	"github.com/arsync/arsync/pkg/spec"
)

// fakeAPI is a Graph with an empty tenant and directory. Methods it does
// not override belong to the nil graphAPI it embeds: a command that calls
// one panics, and the test fails.
type fakeAPI struct {
	graphAPI
}

func (fakeAPI) ListDefinitions(context.Context, *graph.ListOptions) iter.Seq2[*graph.Definition, error] {
	return func(func(*graph.Definition, error) bool) {}
}

func (fakeAPI) LookupUsers(context.Context, []string) (map[string][]graphclient.User, error) {
	return map[string][]graphclient.User{}, nil
}

func (fakeAPI) LookupGroups(context.Context, []string) (map[string][]graphclient.Group, error) {
	return map[string][]graphclient.Group{}, nil
}

func (fakeAPI) LookupServicePrincipals(context.Context, []string) (map[string][]graphclient.ServicePrincipal, error) {
	return map[string][]graphclient.ServicePrincipal{}, nil
}

func (fakeAPI) LookupRoleDefinitions(context.Context, []string) (map[string][]graphclient.RoleDefinition, error) {
	return map[string][]graphclient.RoleDefinition{}, nil
}

func (fakeAPI) GetDirectoryObjects(context.Context, []string) (map[string]graphclient.DirectoryObject, error) {
	return map[string]graphclient.DirectoryObject{}, nil
}

// TestPlanCommandWithFakes runs plan through its real run function with a
// fake session: the plan takes the session's clock, tenant and endpoint.
func TestPlanCommandWithFakes(t *testing.T) {
	var out, errOut bytes.Buffer
	now := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	closed := false
	f := &Factory{
		IO:      &streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
		Globals: &globalOptions{},
		Config:  func() (*spec.Config, error) { return &spec.Config{}, nil },
		Connect: func(context.Context, *spec.Config) (*session, error) {
			return &session{Client: fakeAPI{}, TenantID: "fake-tenant", Endpoint: "fake", Now: func() time.Time { return now },
				close: func() error { closed = true; return nil }}, nil
		},
	}
	cmd := NewCmdPlan(f, nil)
	cmd.SetArgs([]string{"-o", "json", seedSpec})
	require.NoError(t, cmd.Execute(), errOut.String())
	p, err := diff.ReadPlan(&out)
	require.NoError(t, err)
	require.Equal(t, "2030-05-06T07:08:09Z", p.CreatedAt)
	require.Equal(t, "fake-tenant", p.TenantID)
	require.Equal(t, "fake", p.GraphEndpoint)
	require.Len(t, p.Changes, 1)
	require.Equal(t, diff.Create, p.Changes[0].Action)
	require.True(t, closed, "the session is closed")
}

// TestNoComputeOutsidePlan: commands plan through pkg/plan (makePlan), never
// with diff.Compute of their own.
func TestNoComputeOutsidePlan(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	for _, name := range files {
		src, err := os.ReadFile(name)
		require.NoError(t, err)
		f, err := parser.ParseFile(fset, name, src, 0)
		require.NoError(t, err)
		diffName := ""
		for _, imp := range f.Imports {
			if imp.Path.Value == `"github.com/arsync/arsync/pkg/diff"` {
				diffName = "diff"
				if imp.Name != nil {
					diffName = imp.Name.Name
				}
			}
		}
		if diffName == "" {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && sel.Sel.Name == "Compute" {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == diffName {
					t.Errorf("%s: diff.Compute; plan with makePlan (pkg/plan) instead", fset.Position(sel.Pos()))
				}
			}
			return true
		})
	}
}
