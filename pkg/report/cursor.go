package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// CursorFormatVersion is the version of the --cursor file's format.
const CursorFormatVersion = 1

// DefaultCursorOverlap is how far before a cursor's watermark the next run
// looks again: it covers clock skew between this machine and Graph and
// items Graph lists some time after their timestamp.
const DefaultCursorOverlap = 24 * time.Hour

// Cursor is the state of incremental collection ("decisions --cursor
// FILE"), kept in FILE as JSON between runs.
//
// An item's time is the latest of its reviewedDateTime, appliedDateTime
// and the start of its instance (of its stage with DecisionQuery.Stage), so
// that an item nobody has reviewed yet has a time too: when its instance
// appeared. Its version is its reviewedDateTime, appliedDateTime, decision
// and applyResult.
//
// A run with a cursor writes the items whose time is after From and whose
// version is not the one Seen records for them; the first run (no
// Watermark yet) writes every item. A complete run then moves the cursor:
// Watermark becomes the latest reviewed or applied time read (Graph's
// clock, capped at the session's), From the watermark minus Overlap, and Seen the versions of every item read whose
// time is after the new From. Items inside the overlap are thus read
// again by the next run but written only when they changed, and an item
// that appears late, with a time up to Overlap before the watermark, is
// still written once.
type Cursor struct {
	FormatVersion int `json:"formatVersion"`
	// Watermark is the latest reviewedDateTime or appliedDateTime the
	// complete runs have read (never after the run), RFC 3339 in UTC;
	// "" before the first complete run.
	Watermark string `json:"watermark"`
	// From is Watermark minus Overlap: the next run writes items whose
	// time is after it.
	From string `json:"from"`
	// Overlap is the overlap window, as a Go duration ("24h0m0s").
	Overlap string `json:"overlap"`
	// Selection describes the filters the cursor was made with; a run
	// with other filters is refused, since it would miss items.
	Selection string `json:"selection"`
	// Seen maps "instanceId/decisionId" to the version written, for every
	// item whose time is after From.
	Seen map[string]string `json:"seen"`
}

// ReadCursor reads a cursor file; a file that does not exist yet is an
// empty cursor (a first run).
func ReadCursor(path string) (*Cursor, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		// A first run; its directory must exist, or the run would collect
		// everything and then fail to record it.
		if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("the cursor's directory %s does not exist", filepath.Dir(path))
		}
		return &Cursor{FormatVersion: CursorFormatVersion, Seen: map[string]string{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the cursor: %w", err)
	}
	var c Cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s is not a cursor written by arsync decisions: %w", path, err)
	}
	if c.FormatVersion != CursorFormatVersion {
		return nil, fmt.Errorf("%s is a cursor of format version %d; this arsync reads version %d", path, c.FormatVersion, CursorFormatVersion)
	}
	if c.Watermark != "" {
		if _, err := time.Parse(time.RFC3339Nano, c.From); err != nil {
			return nil, fmt.Errorf("%s: from %q is not an RFC 3339 time", path, c.From)
		}
	}
	if c.Seen == nil {
		c.Seen = map[string]string{}
	}
	return &c, nil
}

// Started reports whether a complete run has written the cursor.
func (c *Cursor) Started() bool { return c != nil && c.Watermark != "" }

func (c *Cursor) from() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, c.From)
	return t
}

// WriteCursor writes c to path atomically: to a temporary file in the same
// directory, synced, then renamed over path. A reader (or a run killed
// half-way) sees the old cursor or the new one, never a part.
func WriteCursor(path string, c *Cursor) (err error) {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing the cursor: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("writing the cursor: %w", err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("writing the cursor: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("writing the cursor: %w", err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing the cursor: %w", err)
	}
	return nil
}

// cursorRun is the cursor's part of one Decisions call: what to skip, and
// the cursor the run moves to when it completes.
type cursorRun struct {
	old       *Cursor
	from      time.Time // write items after this (zero: every item)
	now       time.Time
	overlap   time.Duration
	selection string
	latest    time.Time            // the latest reviewed or applied time read
	cands     map[string]candidate // the items that may be in the next Seen
}

type candidate struct {
	version string
	at      time.Time
}

func newCursorRun(c *Cursor, now time.Time, overlap time.Duration, selection string) *cursorRun {
	cr := &cursorRun{old: c, now: now.UTC(), overlap: overlap, selection: selection, cands: map[string]candidate{}}
	if c.Started() {
		cr.from = c.from()
		cr.latest, _ = time.Parse(time.RFC3339Nano, c.Watermark)
	}
	return cr
}

// started reports whether the run continues a cursor; false without one.
func (cr *cursorRun) started() bool { return cr != nil && cr.old.Started() }

// observe notes an item's reviewed and applied times, read from Graph.
func (cr *cursorRun) observe(times ...time.Time) {
	for _, t := range times {
		if t.After(cr.latest) {
			cr.latest = t
		}
	}
}

// keep records the item for the next cursor and reports whether to write
// it.
func (cr *cursorRun) keep(key, version string, at time.Time) bool {
	// The next From is at least the latest time so far minus the overlap:
	// an item before it cannot be in the next Seen.
	if at.After(cr.from) && at.After(cr.latest.Add(-cr.overlap)) {
		cr.cands[key] = candidate{version, at}
	}
	if !cr.old.Started() {
		return true
	}
	return at.After(cr.from) && cr.old.Seen[key] != version
}

// next is the cursor after a complete run. The watermark is the latest
// reviewed or applied time read, so that it is on Graph's clock, not this
// machine's; it is capped at the session's clock so that it never runs
// ahead of the run, and it never moves back.
func (cr *cursorRun) next() *Cursor {
	wm := cr.latest
	if wm.After(cr.now) {
		wm = cr.now
	}
	if old, err := time.Parse(time.RFC3339Nano, cr.old.Watermark); err == nil && old.After(wm) {
		wm = old
	}
	from := wm
	if !wm.IsZero() { // nothing reviewed yet: every item stays in Seen
		from = wm.Add(-cr.overlap)
	}
	c := &Cursor{FormatVersion: CursorFormatVersion, Watermark: wm.UTC().Format(time.RFC3339Nano),
		From: from.UTC().Format(time.RFC3339Nano), Overlap: cr.overlap.String(), Selection: cr.selection,
		Seen: map[string]string{}}
	for k, cand := range cr.cands {
		if cand.at.After(from) {
			c.Seen[k] = cand.version
		}
	}
	return c
}
