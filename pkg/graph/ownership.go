package graph

import (
	"regexp"
	"strings"
	"time"
)

// The ownership marker is the last line of descriptionForAdmins:
// "[arsync:<metadata.name>]". It is how arsync recognises the definitions it
// manages; it is never shown in diffs or exported YAML.
var markerRE = regexp.MustCompile(`^\[arsync:([a-z0-9-]{1,63})\]$`)

// Marker returns the marker line for name.
func Marker(name string) string { return "[arsync:" + name + "]" }

// WithMarker returns desc with the marker for name as its last line,
// replacing any marker desc already had.
func WithMarker(desc, name string) string {
	_, rest, _ := SplitMarker(desc)
	if rest == "" {
		return Marker(name)
	}
	return rest + "\n" + Marker(name)
}

// StripMarker returns desc without its ownership marker line, if any.
func StripMarker(desc string) string {
	_, rest, _ := SplitMarker(desc)
	return rest
}

// SplitMarker splits a descriptionForAdmins into the marker's name and the
// description without it. ok is false when desc carries no marker. Trailing
// white space and CRLF line ends (which the service may introduce) are
// tolerated.
func SplitMarker(desc string) (name, rest string, ok bool) {
	trimmed := strings.TrimRight(desc, " \t\r\n")
	i := strings.LastIndexByte(trimmed, '\n')
	last := strings.TrimSpace(trimmed[i+1:])
	m := markerRE.FindStringSubmatch(last)
	if m == nil {
		return "", desc, false
	}
	if i < 0 {
		return m[1], "", true
	}
	return m[1], strings.TrimRight(trimmed[:i], " \t\r"), true
}

// OlderFirst orders live definitions by createdDateTime (unparsable or
// missing times last), then id. Of definitions that carry the same marker,
// the first in this order is the one kept: Compute plans the deletion of
// the others, and apply adopts the first when it finds a create's marker.
func OlderFirst(a, b *Definition) bool {
	ta, errA := time.Parse(time.RFC3339Nano, a.CreatedDateTime)
	tb, errB := time.Parse(time.RFC3339Nano, b.CreatedDateTime)
	switch {
	case errA == nil && errB == nil && !ta.Equal(tb):
		return ta.Before(tb)
	case (errA == nil) != (errB == nil):
		return errA == nil
	}
	return a.ID < b.ID
}
