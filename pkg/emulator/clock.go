package emulator

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// The emulator's clock is Options.Clock (default time.Now) plus an offset
// that only Advance and SetNow change. The offset is kept in the state file,
// so processes that share one state file share the virtual time: after
// "arsync emulator advance 30d" the next --emulator run is 30 days later.

// ErrNotFound is returned (wrapped) by the Go API when a definition,
// instance, decision item or user does not exist.
var ErrNotFound = errors.New("not found")

// Now returns the emulator's current time.
func (s *Server) Now() time.Time { return s.clock() }

// Advance moves the clock forward by d and carries out the review
// lifecycle up to the new time: instances start and end, default
// decisions are taken, decisions are applied. It returns what happened, in
// order, and saves the state file.
func (s *Server) Advance(d time.Duration) ([]LifecycleEvent, error) {
	if d < 0 {
		return nil, fmt.Errorf("advancing the clock by %s: the emulator's clock only moves forward", d)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	off := s.clockOff.Load()
	if int64(d) > math.MaxInt64-off {
		return nil, fmt.Errorf("advancing the clock by %s: too far", d)
	}
	s.clockOff.Store(off + int64(d))
	return s.advanced()
}

// SetNow moves the clock forward to t (see Advance); t must not be before
// the current time.
func (s *Server) SetNow(t time.Time) ([]LifecycleEvent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	if t.Before(now) {
		return nil, fmt.Errorf("setting the clock to %s: it is already %s, and the emulator's clock only moves forward",
			t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	d := t.Sub(now)
	off := s.clockOff.Load()
	if int64(d) > math.MaxInt64-off {
		return nil, fmt.Errorf("setting the clock to %s: too far", t.UTC().Format(time.RFC3339))
	}
	s.clockOff.Store(off + int64(d))
	return s.advanced()
}

// advanced runs the lifecycle after a clock change and always saves, so the
// new offset is kept even when nothing else happened. Callers hold s.mu.
func (s *Server) advanced() ([]LifecycleEvent, error) {
	s.changed()
	events, err := s.runLifecycle(s.clock())
	if err != nil {
		return events, err
	}
	if err := s.saveLifecycle(nil); err != nil {
		return events, err
	}
	return events, nil
}
