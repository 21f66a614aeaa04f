package spec

import (
	"regexp"
	"strings"
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
