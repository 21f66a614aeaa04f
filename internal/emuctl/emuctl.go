// Package emuctl is the glue behind "arsync emulator advance|decide|now":
// it opens the emulator on a state file (without serving it), resolves a
// review by its arsync name, and moves the clock or records decisions, so
// the next "--emulator" run sees what happened. It also reads the token
// requests of "arsync emulator --issue-token" (ParseTokenSpec).
package emuctl

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/graph"
)

// Open loads the emulator kept in stateFile (a missing file is a new
// emulator), with the directory StateOptions picks. It holds the state
// file's lock until the caller closes the server; while another arsync
// holds it, Open fails with emulator.ErrStateLocked.
func Open(stateFile, tenantFile, defaultTenant string) (*emulator.Server, error) {
	opts, err := StateOptions(stateFile, tenantFile, defaultTenant)
	if err != nil {
		return nil, err
	}
	return emulator.New(opts)
}

// StateOptions are the emulator options of --emulator and of the emulator's
// controls, so that both see one emulator: its state in stateFile, locked
// while in use (one arsync at a time: each writes the whole state), its
// directory from tenantFile, or, when that is empty, from defaultTenant if
// it exists, else the built-in demo tenant (Options.Tenant nil).
func StateOptions(stateFile, tenantFile, defaultTenant string) (emulator.Options, error) {
	if strings.TrimSpace(stateFile) == "" {
		return emulator.Options{}, errors.New("the emulator's state file is required")
	}
	opts := emulator.Options{StateFile: stateFile, LockState: true}
	path := tenantFile
	if path == "" {
		if _, err := os.Stat(defaultTenant); err == nil {
			path = defaultTenant
		}
	}
	if path != "" {
		t, err := emulator.LoadTenant(path)
		if err != nil {
			return emulator.Options{}, fmt.Errorf("loading the emulator's tenant: %w", err)
		}
		opts.Tenant = t
	}
	return opts, nil
}

// ParseStep reads how far to move the clock: a Go duration (12h, 90m) or a
// whole number of days or weeks (30d, 2w).
func ParseStep(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	bad := fmt.Errorf("%q is not a duration: use e.g. 30d, 2w, 12h or 90m", s)
	if s == "" {
		return 0, bad
	}
	var d time.Duration
	switch unit := s[len(s)-1]; unit {
	case 'd', 'w':
		n, err := strconv.Atoi(s[:len(s)-1])
		if err != nil || n < 0 || n > 100000 {
			return 0, bad
		}
		d = time.Duration(n) * 24 * time.Hour
		if unit == 'w' {
			d *= 7
		}
	default:
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, bad
		}
	}
	if d < 0 {
		return 0, fmt.Errorf("%q: the emulator's clock only moves forward", s)
	}
	return d, nil
}

// ParseTime reads --to: an RFC 3339 time or a date (midnight UTC).
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2026-01-06T09:00:00Z) or a date (2026-01-06)", s)
}

// FindReview returns the id of the definition key names: its id, its
// arsync name (the definition that owns the marker: the oldest, as plan
// decides; younger duplicates are the ones plan deletes), or its exact
// displayName when that is unique.
func FindReview(srv *emulator.Server, key string) (id, displayName string, err error) {
	var defs []*graph.Definition
	for _, raw := range srv.Definitions() {
		d := &graph.Definition{}
		if err := json.Unmarshal(raw, d); err != nil {
			return "", "", fmt.Errorf("reading the emulator's definitions: %w", err)
		}
		if strings.EqualFold(d.ID, key) {
			return d.ID, d.DisplayName, nil
		}
		defs = append(defs, d)
	}
	if owner, _ := graph.Owner(defs, key); owner != nil {
		return owner.ID, owner.DisplayName, nil
	}
	var byDisplay []*graph.Definition
	for _, d := range defs {
		if d.DisplayName == key {
			byDisplay = append(byDisplay, d)
		}
	}
	switch {
	case len(byDisplay) == 1:
		return byDisplay[0].ID, byDisplay[0].DisplayName, nil
	case len(byDisplay) > 1:
		return "", "", fmt.Errorf("%d definitions are called %q; use an id", len(byDisplay), key)
	}
	return "", "", fmt.Errorf("no access review named %q in the emulator (apply it first, e.g. arsync apply --emulator): %w", key, emulator.ErrNotFound)
}
