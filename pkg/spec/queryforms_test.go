package spec

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestQueryFormSkipsARM: an ARM query is not a Microsoft Graph path, and a
// raw query without queryType is sent as MicrosoftGraph, so it is checked.
func TestQueryFormSkipsARM(t *testing.T) {
	t.Parallel()
	src := strings.Replace(baseSpec("  scope:\n    query: /groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/members\n"),
		"    - user: alice@contoso.com\n", "    - query: /subscriptions/s/owners\n      queryType: ARM\n    - query: /users/${user:bob@contoso.com}\n", 1)
	defs, diags := Parse("a.yaml", []byte(src))
	require.Empty(t, diags)
	g, err := defs[0].ToGraph(mapResolver{{RefUser, "bob@contoso.com"}: idAlice})
	require.NoError(t, err)
	require.Equal(t, "MicrosoftGraph", g.Reviewers[1].QueryType)
}
