package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/graphclient"
)

// clientFor is a Graph client for a test emulator.
func clientFor(t *testing.T, run *emulator.Running) *graphclient.Client {
	t.Helper()
	c, err := graphclient.New(graphclient.Options{BaseURL: run.URL, Credential: graphclient.StaticToken(run.Token)})
	require.NoError(t, err)
	return c
}
