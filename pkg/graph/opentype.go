package graph

import (
	"bytes"
	"encoding/json"
	"iter"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"
)

// Open types (Graph lets the service add properties, and beta adds more)
// keep the properties this package does not model in an Extra map and write
// them back out, so a value read and re-encoded loses nothing.

// unmarshalOpen decodes data into known (a pointer to a struct without
// custom JSON methods) and returns the remaining properties. data is decoded
// once; the properties known does not have are then found by walking the
// object's members, which json.Unmarshal has just checked.
func unmarshalOpen(data []byte, known any) (map[string]json.RawMessage, error) {
	if err := json.Unmarshal(data, known); err != nil {
		return nil, err
	}
	fields := jsonFields(reflect.TypeOf(known).Elem())
	var extra map[string]json.RawMessage
	for key, value := range members(data) {
		name, err := memberName(key)
		if err != nil {
			return nil, err
		}
		// encoding/json matches names case-insensitively, so must we.
		if _, ok := fields[strings.ToLower(name)]; ok {
			continue
		}
		// Compact, so equal values compare equal however they were spaced.
		var buf bytes.Buffer
		if err := json.Compact(&buf, value); err != nil {
			return nil, err
		}
		if extra == nil {
			extra = map[string]json.RawMessage{}
		}
		extra[name] = buf.Bytes()
	}
	return extra, nil
}

// members iterates over the members of the JSON object in data, which must
// be valid JSON: each key as its quoted token, with the value's bytes. For
// anything but an object it yields nothing.
func members(data []byte) iter.Seq2[[]byte, []byte] {
	return func(yield func(key, value []byte) bool) {
		i := skipSpace(data, 0)
		if i == len(data) || data[i] != '{' {
			return
		}
		i = skipSpace(data, i+1)
		for i < len(data) && data[i] != '}' {
			keyEnd := endOfString(data, i)
			v := skipSpace(data, skipSpace(data, keyEnd)+1) // past ':'
			vEnd := endOfValue(data, v)
			if !yield(data[i:keyEnd], data[v:vEnd]) {
				return
			}
			i = skipSpace(data, vEnd)
			if i < len(data) && data[i] == ',' {
				i = skipSpace(data, i+1)
			}
		}
	}
}

// elements iterates over the elements of the JSON array in data, which must
// be valid JSON. For anything but an array it yields nothing.
func elements(data []byte) iter.Seq[[]byte] {
	return func(yield func(value []byte) bool) {
		i := skipSpace(data, 0)
		if i == len(data) || data[i] != '[' {
			return
		}
		i = skipSpace(data, i+1)
		for i < len(data) && data[i] != ']' {
			end := endOfValue(data, i)
			if !yield(data[i:end]) {
				return
			}
			i = skipSpace(data, end)
			if i < len(data) && data[i] == ',' {
				i = skipSpace(data, i+1)
			}
		}
	}
}

// memberName decodes a quoted key; most need no unescaping.
func memberName(key []byte) (string, error) {
	if bytes.IndexByte(key, '\\') < 0 && utf8.Valid(key) {
		return string(key[1 : len(key)-1]), nil
	}
	var name string
	err := json.Unmarshal(key, &name)
	return name, err
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// endOfString returns the index just past the string token at data[i].
func endOfString(data []byte, i int) int {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(data)
}

// endOfValue returns the index just past the value at data[i].
func endOfValue(data []byte, i int) int {
	if i == len(data) {
		return i
	}
	switch data[i] {
	case '"':
		return endOfString(data, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(data); {
			switch data[j] {
			case '"':
				j = endOfString(data, j)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
			j++
		}
		return len(data)
	}
	j := i // a number, true, false or null
	for j < len(data) && !strings.ContainsRune(",}] \t\r\n", rune(data[j])) {
		j++
	}
	return j
}

// marshalOpen encodes known and adds the extra properties; a modelled
// property wins over an extra one of the same name. Keys come out sorted
// when there are extras, so the output is deterministic either way. Without
// HTML escaping, so extras come back as received.
func marshalOpen(known any, extra map[string]json.RawMessage) ([]byte, error) {
	b, err := MarshalNoEscape(known)
	if err != nil || len(extra) == 0 {
		return b, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range extra {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	return MarshalNoEscape(m)
}

var jsonFieldsCache sync.Map // reflect.Type -> map[string]jsonField

// jsonField is a struct field as encoding/json sees it.
type jsonField struct {
	name string // the JSON name, as spelled in the tag
	typ  reflect.Type
}

// jsonFields returns the JSON properties of struct type t, by lower-cased
// name (encoding/json matches names case-insensitively).
func jsonFields(t reflect.Type) map[string]jsonField {
	if v, ok := jsonFieldsCache.Load(t); ok {
		return v.(map[string]jsonField)
	}
	fields := map[string]jsonField{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		fields[strings.ToLower(name)] = jsonField{name: name, typ: f.Type}
	}
	jsonFieldsCache.Store(t, fields)
	return fields
}
