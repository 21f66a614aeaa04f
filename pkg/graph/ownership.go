package graph

import (
	"regexp"
	"slices"
	"strings"
	"time"
)

// The ownership marker is the last line of descriptionForAdmins:
// "[arsync:<metadata.name>]", or "[arsync:<metadata.name> <digest>]" when
// arsync wrote it with the digest of what it wrote (WrittenDigest). It is
// how arsync recognises the definitions it manages; it is never shown in
// diffs or exported YAML. The digest is any token without white space or
// brackets, so that a marker written by a later version, with another kind
// of digest, still says who owns the definition.
var markerRE = regexp.MustCompile(`^\[arsync:([a-z0-9-]{1,63})(?: ([^\s\[\]]{1,64}))?\]$`)

// Marker returns the marker line for name.
func Marker(name string) string { return "[arsync:" + name + "]" }

// MarkerWithDigest returns the marker line for name recording digest, or
// Marker(name) when digest is "".
func MarkerWithDigest(name, digest string) string {
	if digest == "" {
		return Marker(name)
	}
	return "[arsync:" + name + " " + digest + "]"
}

// WithMarkerDigest is WithMarker, with a marker that records digest.
func WithMarkerDigest(desc, name, digest string) string {
	_, rest, _ := SplitMarker(desc)
	if rest == "" {
		return MarkerWithDigest(name, digest)
	}
	return rest + "\n" + MarkerWithDigest(name, digest)
}

// MarkerDigest returns the digest recorded in desc's marker, or "" when
// desc has no marker or a marker without one.
func MarkerDigest(desc string) string {
	m := markerRE.FindStringSubmatch(lastLine(desc))
	if m == nil {
		return ""
	}
	return m[2]
}

// lastLine is desc's last line as SplitMarker reads it.
func lastLine(desc string) string {
	trimmed := strings.TrimRight(desc, " \t\r\n")
	return strings.TrimSpace(trimmed[strings.LastIndexByte(trimmed, '\n')+1:])
}

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

// ManagedName returns the name in d's ownership marker, or "" when d
// carries none (arsync does not manage it).
func ManagedName(d *Definition) string {
	name, _, _ := SplitMarker(d.DescriptionForAdmins)
	return name
}

// OlderFirst orders live definitions by createdDateTime (unparsable or
// missing times last), then id. It is the "oldest wins" rule: of
// definitions that carry the same marker, the first in this order owns the
// name and is the one kept; plan deletes the others (with --allow-delete),
// and apply adopts the first when it finds a create's marker. ByMarker and
// Owner apply it; use them rather than sorting by hand.
func OlderFirst(a, b *Definition) bool { return compareAge(a, b) < 0 }

// compareAge is OlderFirst as a three-way comparison.
func compareAge(a, b *Definition) int { return compareAged(agedOf(a), agedOf(b)) }

// aged is a definition with its creation time parsed once.
type aged struct {
	d       *Definition
	created time.Time
	known   bool // createdDateTime parsed
}

func agedOf(d *Definition) aged {
	t, err := time.Parse(time.RFC3339Nano, d.CreatedDateTime)
	return aged{d: d, created: t, known: err == nil}
}

func compareAged(a, b aged) int {
	switch {
	case a.known && b.known:
		if c := a.created.Compare(b.created); c != 0 {
			return c
		}
	case a.known:
		return -1
	case b.known:
		return 1
	}
	return strings.Compare(a.d.ID, b.d.ID)
}

// oldestFirst returns a copy of defs sorted by OlderFirst, parsing each
// creation time once.
func oldestFirst(defs []*Definition) []*Definition {
	as := make([]aged, len(defs))
	for i, d := range defs {
		as[i] = agedOf(d)
	}
	slices.SortStableFunc(as, compareAged)
	out := make([]*Definition, len(as))
	for i, a := range as {
		out[i] = a.d
	}
	return out
}

// ByMarker sorts defs oldest first (OlderFirst) and splits them: those
// carrying an ownership marker grouped by its name, and the unmarked ones.
// The first definition of a group owns the name; any others are younger
// duplicates. defs itself is left as it is.
func ByMarker(defs []*Definition) (marked map[string][]*Definition, unmarked []*Definition) {
	marked = map[string][]*Definition{}
	for _, d := range oldestFirst(defs) {
		if name := ManagedName(d); name != "" {
			marked[name] = append(marked[name], d)
		} else {
			unmarked = append(unmarked, d)
		}
	}
	return marked, unmarked
}

// Owner returns the definition of defs that owns name: the oldest
// (OlderFirst) of those carrying name's marker, nil when none does, and
// the younger ones that also carry it, oldest first.
func Owner(defs []*Definition, name string) (owner *Definition, younger []*Definition) {
	if name == "" {
		return nil, nil // "" is ManagedName's answer for unmarked definitions
	}
	var carrying []*Definition
	for _, d := range defs {
		if ManagedName(d) == name {
			carrying = append(carrying, d)
		}
	}
	if len(carrying) == 0 {
		return nil, nil
	}
	carrying = oldestFirst(carrying)
	return carrying[0], carrying[1:]
}
