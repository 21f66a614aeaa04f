package emulator

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLockFileOf(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		".arsync/emulator.json": ".arsync/emulator.lock",
		"state":                 "state.lock",
		"/tmp/a.b/state.json":   "/tmp/a.b/state.lock",
		"odd.lock":              "odd.lock.lock",
	} {
		require.Equal(t, want, lockFileOf(in), in)
	}
}

// TestStateLock: a second Server on a locked state file is refused, naming
// the holder, until the first closes; a Server without LockState, or
// without a state file, takes no lock.
func TestStateLock(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "nested", "emulator.json")
	first, err := New(Options{StateFile: path, LockState: true})
	require.NoError(t, err)
	lock, err := os.ReadFile(filepath.Join(dir, "nested", "emulator.lock"))
	require.NoError(t, err)
	require.Contains(t, string(lock), fmt.Sprintf(`"pid":%d`, os.Getpid()))

	_, err = New(Options{StateFile: path, LockState: true})
	require.ErrorIs(t, err, ErrStateLocked)
	var held *StateLockedError
	require.True(t, errors.As(err, &held))
	require.Equal(t, os.Getpid(), held.PID)
	require.WithinDuration(t, time.Now(), held.Since, time.Hour)
	require.Equal(t, fmt.Sprintf("another arsync is using %s (pid %d, since %s); wait for it to finish, or stop it",
		path, os.Getpid(), held.Since.UTC().Format(time.RFC3339)), err.Error())

	unlocked, err := New(Options{StateFile: path})
	require.NoError(t, err, "without LockState there is no lock to take")
	require.NoError(t, unlocked.Close())
	stateless, err := New(Options{LockState: true})
	require.NoError(t, err, "without a state file there is nothing to lock")
	require.NoError(t, stateless.Close())

	require.NoError(t, first.Close())
	require.NoError(t, first.Close(), "Close is idempotent")
	second, err := New(Options{StateFile: path, LockState: true})
	require.NoError(t, err, "released by Close")
	require.NoError(t, second.Close())
}

// TestStateLockUnknownHolder: a lock file whose holder has not said who it
// is (or a leftover of a crashed run, which holds no lock) still works.
func TestStateLockUnknownHolder(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "emulator.json")
	require.NoError(t, os.WriteFile(lockFileOf(path), []byte("garbage"), 0o644))
	l, err := lockState(path)
	require.NoError(t, err, "a lock file left behind is not a lock")
	// Someone holds it but has not written yet.
	require.NoError(t, l.f.Truncate(0))
	_, err = lockState(path)
	require.EqualError(t, err, "another arsync is using "+path+"; wait for it to finish, or stop it")
	require.NoError(t, l.release())
	require.NoError(t, l.release())
	data, err := os.ReadFile(lockFileOf(path))
	require.NoError(t, err)
	require.Empty(t, data, "a released lock names nobody")
}

// TestStateLockReleasedOnErrors: when New or Start fail after taking the
// lock, they release it.
func TestStateLockReleasedOnErrors(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "emulator.json")
	require.NoError(t, os.WriteFile(path, []byte("{"), 0o644))
	_, err := New(Options{StateFile: path, LockState: true})
	require.ErrorContains(t, err, "is not valid")
	require.NoError(t, os.Remove(path))

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	_, err = Start(Options{StateFile: path, LockState: true, Addr: busy.Addr().String()})
	require.ErrorContains(t, err, "starting the emulator")

	r, err := Start(Options{StateFile: path, LockState: true})
	require.NoError(t, err, "neither failure kept the lock")
	require.NoError(t, r.Close())
	l, err := lockState(path)
	require.NoError(t, err, "Running.Close released it")
	require.NoError(t, l.release())
}

// TestClosedServerSavesNothing: after Close another Server may own the
// state file, so a closed one refuses changes.
func TestClosedServerSavesNothing(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "emulator.json")
	h := newHarness(t, Options{StateFile: path, LockState: true})
	h.create(validDefinition())
	require.NoError(t, h.srv.Close())
	r := h.do(http.MethodPost, definitionsPath, validDefinition())
	require.Equal(t, http.StatusServiceUnavailable, r.status)
	require.Contains(t, r.errMessage(t), "has been closed")
	require.Len(t, h.srv.Definitions(), 1)
	again, err := New(Options{StateFile: path})
	require.NoError(t, err)
	require.Len(t, again.Definitions(), 1)
}

// holdLockEnv makes the test binary, run by TestStateLockAcrossProcesses,
// hold the lock of the state file it names until killed.
const holdLockEnv = "ARSYNC_TEST_HOLD_STATE_LOCK"

func TestMain(m *testing.M) {
	if path := os.Getenv(holdLockEnv); path != "" {
		srv, err := New(Options{StateFile: path, LockState: true})
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("locked")
		_, _ = io.Copy(io.Discard, os.Stdin) // until killed (or stdin closes)
		_ = srv.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestStateLockAcrossProcesses: another process's lock refuses this one,
// naming that process, and a process killed while holding it (a crash)
// leaves no lock behind.
func TestStateLockAcrossProcesses(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "emulator.json")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holdLockEnv+"="+path)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "locked\n", line)

	_, err = New(Options{StateFile: path, LockState: true})
	var held *StateLockedError
	require.True(t, errors.As(err, &held), "%v", err)
	require.Equal(t, cmd.Process.Pid, held.PID)

	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	srv, err := New(Options{StateFile: path, LockState: true})
	require.NoError(t, err, "the killed process's lock went with it")
	require.NoError(t, srv.Close())
}
