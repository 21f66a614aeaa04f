package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSignalsCancelLikeCtrlC runs arsync as a child process, stops it with
// SIGINT or SIGTERM while it waits for an answer, and checks that both end
// it the same way: its context is cancelled, it reports and exits 1, and
// is not killed by the signal (README and docs/safety.md#ctrl-c say
// SIGTERM is handled exactly like Ctrl-C).
func TestSignalsCancelLikeCtrlC(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			arrived := make(chan struct{}, 1)
			release := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case arrived <- struct{}{}:
				default:
				}
				select { // the answer never comes while the child runs
				case <-release:
				case <-r.Context().Done():
				}
			}))
			defer srv.Close()
			defer close(release)

			plan := writePlan(t, onePlan())
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			cmd.Dir = t.TempDir()
			cmd.Env = append(os.Environ(),
				"ARSYNC_TEST_MAIN=1",
				"ARSYNC_TEST_ARGS=github comment --plan "+plan+" --repo contoso/reviews --pr 12",
				"GITHUB_TOKEN=ghs_test", "GITHUB_API_URL="+srv.URL, "GITHUB_EVENT_PATH=",
				"HOME="+filepath.Join(t.TempDir(), "home"))
			require.NoError(t, cmd.Start())
			<-arrived // the child is waiting for GitHub's answer
			require.NoError(t, cmd.Process.Signal(sig))
			err := cmd.Wait()
			var ee *exec.ExitError
			require.ErrorAs(t, err, &ee, "stderr: %s", stderr.String())
			ws := ee.Sys().(syscall.WaitStatus)
			require.False(t, ws.Signaled(), "killed by %s instead of stopping cleanly; stderr: %s", sig, stderr.String())
			require.Equal(t, exitError, ee.ExitCode(), stderr.String())
			require.Contains(t, stderr.String(), "context canceled")
		})
	}
}
