package graph

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEditDistance(t *testing.T) {
	require.Equal(t, 0, editDistance("", ""))
	require.Equal(t, 3, editDistance("abc", ""))
	require.Equal(t, 1, editDistance("ab", "ba"))
	require.Equal(t, 2, editDistance("kitten", "sittin"))
}
