package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseSince reads a --since value: an RFC 3339 time
// (2026-01-31T12:00:00Z), a date (2026-01-31, midnight UTC), or a duration
// back from now (90m, 24h, 7d, 2w).
func ParseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	bad := func() (time.Time, error) {
		return time.Time{}, fmt.Errorf("--since %q: use an RFC 3339 time (2026-01-31T12:00:00Z), a date (2026-01-31) or a duration such as 24h or 7d", s)
	}
	if s == "" {
		return bad()
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	var d time.Duration
	switch unit := s[len(s)-1]; unit {
	case 'd', 'w':
		n, err := strconv.Atoi(s[:len(s)-1])
		if err != nil || n < 0 || n > 100000 {
			return bad()
		}
		d = time.Duration(n) * 24 * time.Hour
		if unit == 'w' {
			d *= 7
		}
	default:
		var err error
		if d, err = time.ParseDuration(s); err != nil || d < 0 {
			return bad()
		}
	}
	return now.Add(-d).UTC(), nil
}
