package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The state file's lock. A server that keeps its state in a file reads it
// once and rewrites all of it from its own copy (journal.go), so two servers
// on one file would each overwrite the other's changes. Options.LockState makes New
// take an exclusive lock first, on a lock file next to the state file
// (emulator.json: emulator.lock), with flock(2) (LockFileEx on Windows):
// the operating system drops the lock when its holder exits, crash
// included, so a lock file left behind never blocks anyone. The holder
// writes its pid and start time into the file for the message of whoever
// is refused.

// ErrStateLocked is the error (in a *StateLockedError) of New when another
// server, in this process or another, holds the state file's lock.
var ErrStateLocked = errors.New("the emulator's state file is in use")

// StateLockedError says who holds a state file's lock.
type StateLockedError struct {
	StateFile string
	LockFile  string
	PID       int       // 0 when unknown
	Since     time.Time // zero when unknown
}

func (e *StateLockedError) Error() string {
	who := ""
	if e.PID > 0 {
		who = fmt.Sprintf(" (pid %d, since %s)", e.PID, e.Since.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("another arsync is using %s%s; wait for it to finish, or stop it", e.StateFile, who)
}

// Is makes errors.Is(err, ErrStateLocked) true.
func (e *StateLockedError) Is(target error) bool { return target == ErrStateLocked }

// lockHolder is the lock file's content.
type lockHolder struct {
	PID   int       `json:"pid"`
	Since time.Time `json:"since"`
}

// stateLock is a held lock; release gives it up.
type stateLock struct{ f *os.File }

// lockFileOf names the lock file of a state file: its name with the
// extension replaced by .lock.
func lockFileOf(stateFile string) string {
	base := strings.TrimSuffix(stateFile, filepath.Ext(stateFile))
	if base+".lock" == stateFile {
		return stateFile + ".lock"
	}
	return base + ".lock"
}

// lockState takes the lock of stateFile, or fails with a
// *StateLockedError naming its holder.
func lockState(stateFile string) (*stateLock, error) {
	path := lockFileOf(stateFile)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("locking the emulator's state: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("locking the emulator's state: %w", err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking the emulator's state with %s: %w", path, err)
	}
	if !held {
		// The holder may not have written its content yet: then it is
		// unknown, not an error.
		var h lockHolder
		data, _ := io.ReadAll(io.LimitReader(f, 4096))
		f.Close()
		_ = json.Unmarshal(data, &h)
		return nil, &StateLockedError{StateFile: stateFile, LockFile: path, PID: h.PID, Since: h.Since}
	}
	data, _ := json.Marshal(lockHolder{PID: os.Getpid(), Since: time.Now().Truncate(time.Second)})
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt(append(data, '\n'), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking the emulator's state with %s: %w", path, err)
	}
	return &stateLock{f: f}, nil
}

// release gives the lock up; closing the file is what releases it. It is
// safe on a nil or released lock.
func (l *stateLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0) // nobody holds it any more
	err := l.f.Close()
	l.f = nil
	if err != nil {
		return fmt.Errorf("releasing the emulator's state lock: %w", err)
	}
	return nil
}
