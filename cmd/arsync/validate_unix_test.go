//go:build unix

package main

import (
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestValidateNamedPipe: a named pipe is skipped with a warning, never
// opened (which would block until something writes to it).
func TestValidateNamedPipe(t *testing.T) {
	t.Chdir(t.TempDir())
	require.NoError(t, os.Mkdir("reviews", 0o755))
	require.NoError(t, syscall.Mkfifo("reviews/pipe.yaml", 0o644))
	require.NoError(t, os.WriteFile("reviews/empty.yaml", nil, 0o644))

	code, stdout, stderr := runArsync(t, "validate", "reviews")
	require.Equal(t, exitOK, code, stderr)
	require.Equal(t, "reviews/pipe.yaml:1:1: warning: a named pipe, not a regular file; skipped\n", stderr)
	require.Equal(t, "1 file, 0 definitions: valid, 1 warning\n", stdout)
	documented(t, "troubleshooting", stderr, "named pipe")

	// With nothing else, the warning comes before the error.
	require.NoError(t, os.Remove("reviews/empty.yaml"))
	code, _, stderr = runArsync(t, "validate", "reviews")
	require.Equal(t, exitError, code)
	require.Equal(t, "reviews/pipe.yaml:1:1: warning: a named pipe, not a regular file; skipped\nError: no spec files (*.yaml, *.yml) found in reviews\n", stderr)
}
