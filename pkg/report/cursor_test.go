package report

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestCursorOverlap: an item Graph lists late, with a time inside the
// overlap, is written once; one before the overlap is not; the watermark
// follows Graph's times, capped at the session clock, never back.
func TestCursorOverlap(t *testing.T) {
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	first := newCursorRun(&Cursor{Seen: map[string]string{}}, at("2026-01-10T12:00:00Z"), time.Hour, "all")
	first.observe(at("2026-01-10T09:00:00Z"))
	require.True(t, first.keep("i/a", "v1", at("2026-01-10T09:00:00Z")), "a first run writes everything")
	require.True(t, first.keep("i/old", "v1", at("2026-01-01T00:00:00Z")))
	c := first.next()
	require.Equal(t, "2026-01-10T09:00:00Z", c.Watermark, "the latest time read, not the clock")
	require.Equal(t, "2026-01-10T08:00:00Z", c.From)
	require.Equal(t, map[string]string{"i/a": "v1"}, c.Seen)

	// Written to disk and back.
	path := filepath.Join(t.TempDir(), "c.json")
	require.NoError(t, WriteCursor(path, c))
	c, err := ReadCursor(path)
	require.NoError(t, err)

	second := newCursorRun(c, at("2026-01-11T12:00:00Z"), time.Hour, "all")
	require.False(t, second.keep("i/a", "v1", at("2026-01-10T09:00:00Z")), "seen in this version")
	require.True(t, second.keep("i/late", "v1", at("2026-01-10T08:30:00Z")), "late, inside the overlap")
	require.False(t, second.keep("i/lost", "v1", at("2026-01-10T07:00:00Z")), "before the overlap")
	require.True(t, second.keep("i/a", "v2", at("2026-01-10T09:00:00Z")), "changed")
	second.observe(at("2026-01-12T00:00:00Z")) // Graph's clock ahead of the session's
	c = second.next()
	require.Equal(t, "2026-01-11T12:00:00Z", c.Watermark, "capped at the session clock")

	third := newCursorRun(c, at("2026-01-11T13:00:00Z"), time.Hour, "all")
	require.Equal(t, "2026-01-11T12:00:00Z", third.next().Watermark, "nothing read: the watermark stays")
}
