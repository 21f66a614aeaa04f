package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestColorOutput(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	require.False(t, colorOutput(&bytes.Buffer{}, env()), "not a terminal")
	f, err := os.CreateTemp(t.TempDir(), "out")
	require.NoError(t, err)
	defer f.Close()
	require.False(t, colorOutput(f, env()), "a regular file")
	// /dev/null is a character device but not a terminal: no colour in a CI
	// job whose output goes there.
	dev, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	require.NoError(t, err)
	defer dev.Close()
	require.False(t, colorOutput(dev, env()), "/dev/null")
	// With a terminal (injected: a test cannot open one), the environment
	// decides.
	tty := func(int) bool { return true }
	require.True(t, colorFor(dev, env(), tty))
	require.False(t, colorFor(dev, env("NO_COLOR", "1"), tty))
	require.False(t, colorFor(dev, env("TERM", "dumb"), tty))
	require.False(t, colorFor(&bytes.Buffer{}, env(), tty), "no file descriptor")
}
