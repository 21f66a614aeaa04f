package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// What was read is what is sent back.
//
// Graph updates a definition with a PUT of the whole object; a property
// left out is reset, and one Graph cannot update must come back unchanged
// (docs/graph-behaviour.md#put-not-patch). A body rebuilt from the Go
// structs is neither: omitempty drops "dependsOn": [] and "queryRoot": null,
// so a strict service sees stageSettings and additionalNotificationRecipients
// change and refuses the PUT, and the properties this package does not model
// vanish, so every update would reset them. A Definition decoded from JSON
// therefore keeps the object it was decoded from (raw), and encoding it lays
// its current typed fields over that object, member by member, in raw's
// order:
//
//   - a modelled member whose typed value is unchanged (raw's typed view, raw
//     decoded into the struct and encoded again, equals d's typed encoding,
//     both absent included) is written as it was read;
//   - a changed member is written from d; when both sides are objects and the
//     field is a struct (settings, settings.recurrence) the same rules apply
//     inside it, so unknown sub-properties survive; lists are replaced whole;
//   - a modelled member d no longer has is left out;
//   - members the struct does not model are always kept;
//   - members d has and raw lacks are appended, in struct order.
//
// So code that changes typed fields of a decoded definition sends exactly
// its changes over what was read, and the encoding is symmetric: decoding
// the output gives the same typed value and the output as raw, which encodes
// to the same bytes again (clone, saved plans).
//
// Comparing typed views rather than bytes is what makes an unchanged member
// keep Graph's spelling: the typed encoding cannot tell "dependsOn": [] from
// no dependsOn, so it must not decide what is written for it.

type definitionFields Definition // no methods: plain struct encoding

var definitionFieldsType = reflect.TypeFor[definitionFields]()

// UnmarshalJSON decodes the modelled properties and keeps a copy of the
// object for MarshalJSON. The copy is not compacted: a list page decodes
// thousands of definitions, and every encoder that embeds MarshalJSON's
// output compacts it anyway. A JSON null leaves d as it is.
func (d *Definition) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		return nil
	}
	var f definitionFields
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	f.raw = bytes.Clone(b)
	*d = Definition(f)
	return nil
}

// MarshalJSON encodes d: a definition built in Go as its typed fields, a
// decoded one as its fields laid over the object it was read from.
func (d Definition) MarshalJSON() ([]byte, error) {
	typed, err := MarshalNoEscape(definitionFields(d))
	if err != nil || d.raw == nil {
		return typed, err
	}
	return overlay(d.raw, typed, definitionFieldsType)
}

// Clone returns a deep copy of d, sharing no memory with it. A definition
// that was read stays one, with the same object read; one built in Go stays
// one too, so its encoding is unchanged.
func (d Definition) Clone() Definition {
	c := definitionFields(d)
	// The fields are plain data, so the encoding round trip cannot fail; if
	// it did, c would still be a (shallow) copy.
	if b, err := json.Marshal(definitionFields(d)); err == nil {
		var fresh definitionFields
		if json.Unmarshal(b, &fresh) == nil {
			c = fresh
		}
	}
	c.raw = bytes.Clone(d.raw)
	return Definition(c)
}

// overlay lays cur, the typed encoding of a value of struct type t, over
// raw, the object that value was decoded from (before it was changed); see
// the rules above.
func overlay(raw, cur []byte, t reflect.Type) ([]byte, error) {
	view, err := typedView(raw, t)
	if err != nil {
		return nil, err
	}
	fields := jsonFields(t)

	// A modelled property spelled twice (or in two cases) decodes from its
	// last spelling: raw's bytes cannot stand for it, so it is written from
	// cur once, where it first appears.
	seen := map[string]int{}
	dup := false
	for key := range members(raw) {
		name, err := memberName(key)
		if err != nil {
			return nil, err
		}
		if f, ok := fields[strings.ToLower(name)]; ok {
			seen[f.name]++
			dup = dup || seen[f.name] > 1
		}
	}
	if !dup && bytes.Equal(view, cur) {
		// Nothing changed, the common case. A copy: raw is shared.
		return bytes.Clone(raw), nil
	}

	viewMembers, _, err := memberMap(view)
	if err != nil {
		return nil, err
	}
	curMembers, curOrder, err := memberMap(cur)
	if err != nil {
		return nil, err
	}

	var out objectWriter
	done := map[string]bool{}
	for key, value := range members(raw) {
		name, _ := memberName(key) // checked above
		f, known := fields[strings.ToLower(name)]
		if !known {
			out.member(key, value)
			continue
		}
		if done[f.name] {
			continue
		}
		done[f.name] = true
		v, inView := viewMembers[f.name]
		c, inCur := curMembers[f.name]
		switch {
		case seen[f.name] == 1 && inView == inCur && bytes.Equal(v, c):
			out.member(key, value)
		case !inCur:
			// d dropped it.
		case seen[f.name] == 1 && isObject(value) && isObject(c) && structType(f.typ) != nil:
			sub, err := overlay(value, c, structType(f.typ))
			if err != nil {
				return nil, err
			}
			out.member(key, sub)
		default:
			out.member(key, c)
		}
	}
	for _, name := range curOrder {
		if !done[name] {
			key, err := json.Marshal(name)
			if err != nil {
				return nil, err
			}
			out.member(key, curMembers[name])
		}
	}
	return out.bytes(), nil
}

// typedView decodes raw into a new value of type t and encodes it again.
func typedView(raw []byte, t reflect.Type) ([]byte, error) {
	v := reflect.New(t)
	if err := json.Unmarshal(raw, v.Interface()); err != nil {
		return nil, err
	}
	return MarshalNoEscape(v.Elem().Interface())
}

// memberMap indexes an object's members by name, and lists the names in
// order. It is used on typed encodings, whose names are unique.
func memberMap(data []byte) (map[string][]byte, []string, error) {
	m := map[string][]byte{}
	var order []string
	for key, value := range members(data) {
		name, err := memberName(key)
		if err != nil {
			return nil, nil, err
		}
		if _, dup := m[name]; !dup {
			order = append(order, name)
		}
		m[name] = value
	}
	return m, order, nil
}

// structType is t, or what t points to, when that is a struct; else nil.
func structType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	return t
}

func isObject(data []byte) bool {
	i := skipSpace(data, 0)
	return i < len(data) && data[i] == '{'
}

// objectWriter writes a JSON object one member at a time.
type objectWriter struct {
	buf bytes.Buffer
	n   int
}

// member writes a member from its quoted key and its value.
func (w *objectWriter) member(key, value []byte) {
	if w.n == 0 {
		w.buf.WriteByte('{')
	} else {
		w.buf.WriteByte(',')
	}
	w.n++
	w.buf.Write(key)
	w.buf.WriteByte(':')
	w.buf.Write(value)
}

func (w *objectWriter) bytes() []byte {
	if w.n == 0 {
		return []byte("{}")
	}
	w.buf.WriteByte('}')
	return w.buf.Bytes()
}

// withoutMembers returns the object raw without the members drop names.
// raw is not modified.
func withoutMembers(raw []byte, drop func(name string) bool) []byte {
	var out objectWriter
	for key, value := range members(raw) {
		name, err := memberName(key)
		if err == nil && drop(name) {
			continue
		}
		out.member(key, value)
	}
	return out.bytes()
}

// readOnlyMember reports whether a definition's member is read-only:
// service-managed properties (docs/graph-behaviour.md#put-not-patch) and
// OData annotations ("@odata.context", "@odata.etag", "x@odata.nextLink"),
// except the type annotations, which say what the object is.
func readOnlyMember(name string) bool {
	switch strings.ToLower(name) {
	case "createdby", "createddatetime", "lastmodifieddatetime", "status":
		return true
	}
	at := strings.IndexByte(name, '@')
	return at >= 0 && name[at+1:] != "odata.type"
}

// SortedJSON returns data, which must be valid JSON, compact and with the
// members of every object sorted by name (members of the same name keep
// their order). Two encodings of the same value that differ only in member
// order or spacing give the same bytes; strings and numbers are kept as
// they are spelled.
func SortedJSON(data []byte) ([]byte, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := writeSorted(&out, compact.Bytes()); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func writeSorted(out *bytes.Buffer, v []byte) error {
	switch {
	case len(v) == 0:
		return fmt.Errorf("empty JSON value")
	case v[0] == '{':
		type kv struct {
			name       string
			key, value []byte
		}
		var ms []kv
		for key, value := range members(v) {
			name, err := memberName(key)
			if err != nil {
				return err
			}
			ms = append(ms, kv{name, key, value})
		}
		slices.SortStableFunc(ms, func(a, b kv) int { return strings.Compare(a.name, b.name) })
		out.WriteByte('{')
		for i, m := range ms {
			if i > 0 {
				out.WriteByte(',')
			}
			out.Write(m.key)
			out.WriteByte(':')
			if err := writeSorted(out, m.value); err != nil {
				return err
			}
		}
		out.WriteByte('}')
	case v[0] == '[':
		out.WriteByte('[')
		i := 0
		for e := range elements(v) {
			if i > 0 {
				out.WriteByte(',')
			}
			i++
			if err := writeSorted(out, e); err != nil {
				return err
			}
		}
		out.WriteByte(']')
	default:
		out.Write(v)
	}
	return nil
}
