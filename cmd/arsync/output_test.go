package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOutputFormats(t *testing.T) {
	require.Equal(t, "text, markdown or json", orList(planFormats))
	require.Equal(t, "text or json", orList(statusFormats))
	require.Equal(t, "text", orList([]string{"text"}))
	require.NoError(t, checkFormat("json", statusFormats))
	require.EqualError(t, checkFormat("yaml", planFormats), `unknown output format "yaml": use text, markdown or json`)
}
