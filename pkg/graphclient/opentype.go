package graphclient

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
)

// Open types (Graph lets the service add properties, and beta adds more)
// keep the properties this package does not model in an Extra map and write
// them back out, so a value read and re-encoded loses nothing.

// unmarshalOpen decodes data into known (a pointer to a struct without
// custom JSON methods) and returns the remaining properties.
func unmarshalOpen(data []byte, known any) (map[string]json.RawMessage, error) {
	if err := json.Unmarshal(data, known); err != nil {
		return nil, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return nil, err
	}
	names := jsonNames(reflect.TypeOf(known).Elem())
	for k, v := range all {
		// encoding/json matches names case-insensitively, so must we.
		if names[strings.ToLower(k)] {
			delete(all, k)
			continue
		}
		// Compact, so equal values compare equal however they were spaced.
		var buf bytes.Buffer
		if err := json.Compact(&buf, v); err != nil {
			return nil, err
		}
		all[k] = buf.Bytes()
	}
	if len(all) == 0 {
		return nil, nil
	}
	return all, nil
}

// marshalOpen encodes known and adds the extra properties; a modelled
// property wins over an extra one of the same name. Keys come out sorted
// when there are extras, so the output is deterministic either way.
func marshalOpen(known any, extra map[string]json.RawMessage) ([]byte, error) {
	b, err := json.Marshal(known)
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
	return json.Marshal(m)
}

var jsonNamesCache sync.Map // reflect.Type -> map[string]bool

// jsonNames returns the lower-cased JSON property names of struct type t.
func jsonNames(t reflect.Type) map[string]bool {
	if v, ok := jsonNamesCache.Load(t); ok {
		return v.(map[string]bool)
	}
	names := map[string]bool{}
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
		names[strings.ToLower(name)] = true
	}
	jsonNamesCache.Store(t, names)
	return names
}
