package spec

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/arsync/arsync/pkg/graph"
	"gopkg.in/yaml.v3"
)

// decoder walks yaml.Nodes into the typed model. It never stops at the first
// problem: each check records a diagnostic and decoding goes on, so one run
// reports everything.
type decoder struct {
	file  string
	diags Diagnostics
	// budget bounds the mapping entries and list items visited, so that
	// YAML aliases (one anchor used many times) cannot make decoding cost
	// more than linear in the input's size.
	budget    int
	exhausted bool
	// nerr counts errors, including those not recorded past
	// maxDiagnostics, so that a document's validity never depends on it.
	nerr int
}

// maxDiagnostics caps the problems reported per file: past it, more
// messages would bury the first ones (which usually cause the rest).
const maxDiagnostics = 1000

// newDecoder returns a decoder for file, whose text is size bytes long. A
// normal document visits far fewer entries than it has bytes.
func newDecoder(file string, size int) *decoder {
	return &decoder{file: file, budget: 16*size + 10000}
}

// full reports whether the file has reached maxDiagnostics, recording that
// once.
func (d *decoder) full() bool {
	if len(d.diags) < maxDiagnostics {
		return false
	}
	if len(d.diags) == maxDiagnostics {
		last := d.diags[len(d.diags)-1].Pos
		d.diags = append(d.diags, Diagnostic{Pos: last, Severity: Error, Message: fmt.Sprintf("too many problems in this file; stopping after %d", maxDiagnostics)})
	}
	return true
}

// spend takes k units of budget; when it runs out, it reports that once
// and returns false, and the caller stops descending.
func (d *decoder) spend(n *yaml.Node, k int) bool {
	d.budget -= k
	if d.budget >= 0 {
		return true
	}
	if !d.exhausted {
		d.exhausted = true
		d.errf(n, "the document expands too much through YAML aliases; write the values out")
	}
	return false
}

func (d *decoder) pos(n *yaml.Node) Pos { return Pos{File: d.file, Line: n.Line, Col: n.Column} }

func (d *decoder) errf(n *yaml.Node, format string, args ...any) {
	d.nerr++
	if !d.full() {
		d.diags.add(d.pos(n), Error, format, args...)
	}
}

func (d *decoder) warnf(n *yaml.Node, format string, args ...any) {
	if !d.full() {
		d.diags.add(d.pos(n), Warning, format, args...)
	}
}

// addAt records a diagnostic at p, unless the file is full.
func (d *decoder) addAt(p Pos, s Severity, format string, args ...any) {
	if s == Error {
		d.nerr++
	}
	if !d.full() {
		d.diags.add(p, s, format, args...)
	}
}

func (d *decoder) errors() int { return d.nerr }

// deref follows YAML aliases to the anchored node. yaml.v3 rejects alias
// cycles, but the depth bound keeps this safe on any input.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 64; i++ {
		n = n.Alias
	}
	if n == nil || n.Kind == yaml.AliasNode {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names a node's value for messages: a mapping, a list, null, or
// the scalar itself.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return quote(n.Value)
	}
	return "nothing"
}

// quote quotes s for a message, shortening long values.
func quote(s string) string {
	if utf8.RuneCountInString(s) > 60 {
		r := []rune(s)
		s = string(r[:57]) + "..."
	}
	return strconv.Quote(s)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func where(path string) string {
	if path == "" {
		return "the document"
	}
	return path
}

// pair is one key/value of a mapping.
type pair struct {
	key  string
	k, v *yaml.Node // v is dereferenced
}

// pairs is a mapping's accepted keys, plus what its unknown keys were
// probably meant to be, so that a misspelt required field gets one error
// ("did you mean") rather than two.
type pairs struct {
	list    []pair
	meant   []string // known keys suggested for unknown ones
	unknown int      // number of unknown or unsupported keys
}

// get returns the pair for key, or nil.
func (ps *pairs) get(key string) *pair {
	for i := range ps.list {
		if ps.list[i].key == key {
			return &ps.list[i]
		}
	}
	return nil
}

// firstSeen reports whether key was already seen in this mapping, and the
// line where.
func (d *decoder) firstSeen(ps *pairs, seen []pair, lines map[string]int, key string) (int, bool) {
	if lines != nil {
		line, ok := lines[key]
		return line, ok
	}
	if p := ps.get(key); p != nil {
		return p.k.Line, true
	}
	for _, p := range seen {
		if p.key == key {
			return p.k.Line, true
		}
	}
	return 0, false
}

// misspelt reports whether an unknown key was reported as a likely
// misspelling of key. A missing key that is misspelt needs no second error.
func (ps *pairs) misspelt(key string) bool { return contains(ps.meant, key) }

// fields describes the keys a mapping accepts. hints explain keys that are
// known but not accepted (read-only, beta-only or unsupported properties);
// each reads after the field's path, e.g. "is read-only".
type fields struct {
	known []string
	hints map[string]string
}

// mapping checks that n is a mapping and returns its pairs with known keys,
// reporting unknown keys (with a suggestion), duplicate keys, non-scalar
// keys and merge keys. ok is false when n is not a mapping; null is reported
// by the caller (it usually means "absent").
func (d *decoder) mapping(n *yaml.Node, path string, f fields) (ps *pairs, ok bool) {
	ps = &pairs{}
	if n.Kind != yaml.MappingNode {
		if !isNull(n) {
			d.errf(n, "%s must be a mapping, got %s", where(path), describe(n))
		}
		return ps, false
	}
	if !d.spend(n, len(n.Content)/2) {
		return ps, false
	}
	ps.list = make([]pair, 0, len(n.Content)/2)
	var seen []pair // unknown keys, to report a repeated one as a duplicate
	var lines map[string]int
	if len(n.Content) > 64 {
		// A large (hostile) mapping: find repeats by map, not by scanning.
		lines = make(map[string]int, len(n.Content)/2)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode || k.Tag == "!!null" {
			d.errf(n.Content[i], "%s has a key that is %s; keys must be field names", where(path), describe(k))
			ps.unknown++
			continue
		}
		key := k.Value
		if k.Tag == "!!merge" {
			d.errf(n.Content[i], "YAML merge keys (<<) are not supported in %s; write the fields out", where(path))
			ps.unknown++
			continue
		}
		if first, dup := d.firstSeen(ps, seen, lines, key); dup {
			d.errf(n.Content[i], "%s is set twice (first at line %d)", join(path, key), first)
			continue
		}
		if lines != nil {
			lines[key] = k.Line
		}
		if !contains(f.known, key) {
			ps.unknown++
			seen = append(seen, pair{key: key, k: n.Content[i]})
			if d.full() {
				continue
			}
			if h, ok := f.hints[key]; ok {
				d.errf(n.Content[i], "%s %s", join(path, key), h)
			} else if m := graph.Suggest(key, f.known); m != "" {
				ps.meant = append(ps.meant, m)
				d.errf(n.Content[i], "unknown field %s in %s; did you mean %q?", quote(key), where(path), m)
			} else {
				d.errf(n.Content[i], "unknown field %s in %s (known fields: %s)", quote(key), where(path), strings.Join(f.known, ", "))
			}
			continue
		}
		ps.list = append(ps.list, pair{key: key, k: n.Content[i], v: v})
	}
	return ps, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// str reads a scalar as a string. Any scalar is accepted (stageId: 1 reads
// as "1"); null reads as unset.
func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.errf(n, "%s must be a string, got %s", path, describe(n))
		return "", false
	}
	if n.Tag == "!!null" {
		return "", false
	}
	return n.Value, true
}

// boolean reads true or false; null reads as unset.
func (d *decoder) boolean(n *yaml.Node, path string) *bool {
	if isNull(n) {
		return nil
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		switch strings.ToLower(n.Value) {
		case "true":
			v := true
			return &v
		case "false":
			v := false
			return &v
		}
	}
	d.errf(n, "%s must be true or false, got %s", path, describe(n))
	return nil
}

// integer reads a whole number that fits Graph's Int32; null reads as unset.
func (d *decoder) integer(n *yaml.Node, path string) (int, bool) {
	if isNull(n) {
		return 0, false
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		v, err := strconv.ParseInt(n.Value, 0, 32)
		if err == nil {
			return int(v), true
		}
		d.errf(n, "%s is out of range, got %s", path, describe(n))
		return 0, false
	}
	d.errf(n, "%s must be a whole number, got %s", path, describe(n))
	return 0, false
}

// positive reads a whole number that must be at least 1.
func (d *decoder) positive(n *yaml.Node, path string) (int, bool) {
	v, ok := d.integer(n, path)
	if ok && v < 1 {
		d.errf(n, "%s must be at least 1, got %d", path, v)
		return 0, false
	}
	return v, ok
}

// list reads a sequence; null reads as absent (ok false, no error).
func (d *decoder) list(n *yaml.Node, path string) (items []*yaml.Node, ok bool) {
	if isNull(n) {
		return nil, false
	}
	if n.Kind != yaml.SequenceNode {
		d.errf(n, "%s must be a list, got %s", path, describe(n))
		return nil, false
	}
	if !d.spend(n, len(n.Content)) {
		return nil, false
	}
	items = make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		items[i] = deref(c)
	}
	return items, true
}

// enum reads a string that must be one of values.
func (d *decoder) enum(n *yaml.Node, path string, values []string) (string, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return "", false
	}
	if !contains(values, s) {
		d.errf(n, "%s must be one of %s, got %s%s", path, strings.Join(values, ", "), quote(s), didYouMean(s, values))
		return "", false
	}
	return s, true
}

// duration reads a positive ISO-8601 duration and returns it with its
// length in seconds.
func (d *decoder) duration(n *yaml.Node, path string) (string, float64, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return "", 0, false
	}
	secs, err := graph.ParseDuration(s)
	if err != nil {
		d.errf(n, "%s %s %s", path, quote(s), err)
		return "", 0, false
	}
	if secs <= 0 {
		d.errf(n, "%s must be longer than zero, got %s", path, quote(s))
		return "", 0, false
	}
	return s, secs, true
}

// valuePos is the position of the first character of a scalar's text and
// whether byte offsets into its value map onto columns of that line (true
// for one-line values without escapes).
func (d *decoder) valuePos(n *yaml.Node) (Pos, bool) {
	p := d.pos(n)
	if strings.ContainsAny(n.Value, "\n\r") {
		return p, false
	}
	switch n.Style {
	case 0, yaml.TaggedStyle:
		if n.Tag != "" && n.Style == yaml.TaggedStyle {
			return p, false
		}
		return p, true
	case yaml.SingleQuotedStyle:
		p.Col++
		return p, !strings.Contains(n.Value, "'")
	case yaml.DoubleQuotedStyle:
		p.Col++
		return p, !strings.ContainsAny(n.Value, `\"`)
	}
	return p, false
}

// offsetPos is the position of byte offset off inside a scalar whose text
// starts at base.
func offsetPos(base Pos, exact bool, value string, off int) Pos {
	if exact && off <= len(value) {
		base.Col += utf8.RuneCountInString(value[:off])
	}
	return base
}
