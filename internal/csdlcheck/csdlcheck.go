// Package csdlcheck checks JSON payloads against Microsoft Graph's schema,
// as summarised from the service's published CSDL metadata (the summaries
// and their source are under pkg/emulator/testdata/csdl). Tests use it to
// hold the emulator's responses and arsync's request bodies to the
// documented types: no unknown properties, no null or missing non-nullable
// ones, collections always arrays, JSON types, date, time, duration and
// GUID formats, enum members, and "@odata.type" naming the declared type or
// one derived from it.
//
// It imports nothing of arsync's, so both sides of a test (the emulator
// and the client) can use it without depending on each other.
package csdlcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Property is a structural property of a complex or entity type.
type Property struct {
	Type       string `json:"type"`
	Collection bool   `json:"collection"`
	Nullable   bool   `json:"nullable"`
}

// Navigation is a navigation property of an entity type.
type Navigation struct {
	Type       string `json:"type"`
	Collection bool   `json:"collection"`
}

// Type is a complex, entity or enum type of the summary.
type Type struct {
	Name       string                `json:"-"`
	Kind       string                `json:"kind"` // ComplexType, EntityType or EnumType
	Base       string                `json:"base"`
	Abstract   bool                  `json:"abstract"`
	Open       bool                  `json:"open"`
	Properties map[string]Property   `json:"properties"`
	Navigation map[string]Navigation `json:"navigation"`
	Members    []string              `json:"members"`
}

// Schema is one API version's types.
type Schema struct {
	types map[string]*Type
}

type summaryFile struct {
	Types map[string]*Type `json:"types"`
}

// Load reads summary files and merges them in order: a type a later file
// repeats gains that file's properties and navigation properties (a
// supplement adds what the first file leaves out).
func Load(paths ...string) (*Schema, error) {
	s := &Schema{types: map[string]*Type{}}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading schema summary: %w", err)
		}
		var f summaryFile
		if err := json.Unmarshal(data, &f); err != nil {
			return nil, fmt.Errorf("schema summary %s: %w", p, err)
		}
		if len(f.Types) == 0 {
			return nil, fmt.Errorf("schema summary %s has no types", p)
		}
		for name, t := range f.Types {
			t.Name = name
			old := s.types[name]
			if old == nil {
				s.types[name] = t
				continue
			}
			if old.Properties == nil {
				old.Properties = map[string]Property{}
			}
			maps.Copy(old.Properties, t.Properties)
			if len(t.Navigation) > 0 && old.Navigation == nil {
				old.Navigation = map[string]Navigation{}
			}
			maps.Copy(old.Navigation, t.Navigation)
		}
	}
	for name, t := range s.types {
		if t.Base != "" && s.types[t.Base] == nil {
			return nil, fmt.Errorf("type %s: base type %s is not in the summary", name, t.Base)
		}
	}
	return s, nil
}

// Type returns a type by its name without namespace ("accessReviewScope"),
// or nil.
func (s *Schema) Type(name string) *Type { return s.types[name] }

// Derives reports whether typ is base or derives from it.
func (s *Schema) Derives(typ, base string) bool {
	for t := s.types[typ]; t != nil; t = s.types[t.Base] {
		if t.Name == base {
			return true
		}
	}
	return false
}

// Mode says what a payload is.
type Mode int

const (
	// Response: every non-nullable property and every collection must be
	// present.
	Response Mode = iota
	// Request: properties may be left out.
	Request
)

// Options tune a check.
type Options struct {
	Mode Mode
	// GUID, when set, names string properties that must hold a GUID: it is
	// called with the name of the object's type (its "@odata.type" or the
	// declared one) and the property.
	GUID func(typ, prop string) bool
	// NoAnnotations flags annotations other than "@odata.type" and
	// "@odata.bind" ones: what a client read ("@odata.context",
	// "@odata.etag", "x@odata.nextLink") is not for sending back.
	NoAnnotations bool
}

// Problem is one way a payload differs from the schema.
type Problem struct {
	Path    string // JSON path, e.g. value[0].settings.applyActions[1]
	Message string
}

func (p Problem) String() string { return p.Path + ": " + p.Message }

// Check decodes data and checks it as a value of typ.
func (s *Schema) Check(typ string, data []byte, opts Options) ([]Problem, error) {
	v, err := decode(data)
	if err != nil {
		return nil, err
	}
	return s.CheckValue(typ, v, "$", opts), nil
}

// CheckCollection checks a collection response: an object whose "value"
// is an array of typ and whose other members are OData annotations
// (@odata.context, @odata.count, @odata.nextLink).
func (s *Schema) CheckCollection(typ string, data []byte, opts Options) ([]Problem, error) {
	v, err := decode(data)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return []Problem{{"$", "a collection response must be an object"}}, nil
	}
	var out []Problem
	for _, k := range sortedKeys(obj) {
		switch k {
		case "value":
		case "@odata.count":
			if !isInteger(obj[k]) {
				out = append(out, Problem{"$." + k, fmt.Sprintf("must be an integer, not %s", show(obj[k]))})
			}
		case "@odata.context", "@odata.nextLink", "@odata.deltaLink":
			if _, ok := obj[k].(string); !ok {
				out = append(out, Problem{"$." + k, fmt.Sprintf("must be a string, not %s", show(obj[k]))})
			}
		default:
			out = append(out, Problem{"$." + k, "is not a member of a collection response"})
		}
	}
	items, ok := obj["value"].([]any)
	if !ok {
		return append(out, Problem{"$.value", fmt.Sprintf("must be an array, not %s", show(obj["value"]))}), nil
	}
	for i, it := range items {
		out = append(out, s.CheckValue(typ, it, fmt.Sprintf("$.value[%d]", i), opts)...)
	}
	return out, nil
}

// CheckValue checks a decoded value (decode numbers as json.Number) as a
// single value of typ, which is a type of the schema or an Edm primitive.
func (s *Schema) CheckValue(typ string, v any, path string, opts Options) []Problem {
	c := checker{s: s, opts: opts}
	c.value(Property{Type: typ, Nullable: false}, v, path, "", "")
	return c.out
}

type checker struct {
	s    *Schema
	opts Options
	out  []Problem
}

func (c *checker) add(path, format string, args ...any) {
	c.out = append(c.out, Problem{path, fmt.Sprintf(format, args...)})
}

// value checks v against p; owner and name say whose property it is, for
// the GUID option.
func (c *checker) value(p Property, v any, path, owner, name string) {
	if v == nil {
		switch {
		case p.Collection:
			c.add(path, "collection is null; an empty collection is []")
		case !p.Nullable:
			c.add(path, "is null, but %s is not nullable", p.Type)
		}
		return
	}
	if p.Collection {
		items, ok := v.([]any)
		if !ok {
			c.add(path, "must be an array of %s, not %s", p.Type, show(v))
			return
		}
		for i, it := range items {
			c.value(Property{Type: p.Type}, it, fmt.Sprintf("%s[%d]", path, i), owner, name)
		}
		return
	}
	if strings.HasPrefix(p.Type, "Edm.") {
		c.primitive(p.Type, v, path, owner, name)
		return
	}
	t := c.s.types[p.Type]
	switch {
	case t == nil:
		c.add(path, "type %s is not in the schema summary", p.Type)
	case t.Kind == "EnumType":
		str, ok := v.(string)
		if !ok {
			c.add(path, "must be a member of %s (a string), not %s", t.Name, show(v))
		} else if !slices.Contains(t.Members, str) {
			c.add(path, "%q is not a member of %s %v", str, t.Name, t.Members)
		}
	default:
		c.object(t, v, path)
	}
}

var (
	guidRE     = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	durationRE = regexp.MustCompile(`^-?P(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$`)
	dateTimeRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,7})?(?:Z|[+-]\d{2}:\d{2})$`)
)

func (c *checker) primitive(typ string, v any, path, owner, name string) {
	switch typ {
	case "Edm.String":
		str, ok := v.(string)
		if !ok {
			c.add(path, "must be a string, not %s", show(v))
			return
		}
		if c.opts.GUID != nil && owner != "" && c.opts.GUID(owner, name) && !guidRE.MatchString(str) {
			c.add(path, "%q is not a GUID", str)
		}
	case "Edm.Boolean":
		if _, ok := v.(bool); !ok {
			c.add(path, "must be true or false, not %s", show(v))
		}
	case "Edm.Int32", "Edm.Int64", "Edm.Int16", "Edm.Byte":
		n, ok := v.(json.Number)
		if !ok {
			c.add(path, "must be an integer, not %s", show(v))
			return
		}
		i, err := n.Int64()
		if err != nil {
			c.add(path, "%s is not an integer", n)
			return
		}
		if typ == "Edm.Int32" && (i < math.MinInt32 || i > math.MaxInt32) {
			c.add(path, "%d does not fit Edm.Int32", i)
		}
	case "Edm.Double", "Edm.Single", "Edm.Decimal":
		if _, ok := v.(json.Number); !ok {
			c.add(path, "must be a number, not %s", show(v))
		}
	case "Edm.DateTimeOffset":
		str, ok := v.(string)
		if !ok {
			c.add(path, "must be a date-time string, not %s", show(v))
			return
		}
		if !dateTimeRE.MatchString(str) {
			c.add(path, "%q is not an Edm.DateTimeOffset (e.g. 2021-05-05T09:30:00Z)", str)
			return
		}
		if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
			c.add(path, "%q is not a valid date-time", str)
		}
	case "Edm.Date":
		str, ok := v.(string)
		if !ok {
			c.add(path, "must be a date string, not %s", show(v))
			return
		}
		if _, err := time.Parse("2006-01-02", str); err != nil {
			c.add(path, "%q is not an Edm.Date (YYYY-MM-DD)", str)
		}
	case "Edm.Duration":
		str, ok := v.(string)
		if !ok {
			c.add(path, "must be a duration string, not %s", show(v))
			return
		}
		if !durationRE.MatchString(str) || strings.HasSuffix(str, "P") || strings.HasSuffix(str, "T") {
			c.add(path, "%q is not an Edm.Duration (days and time only, e.g. P30D or PT12H)", str)
		}
	case "Edm.Guid":
		str, ok := v.(string)
		if !ok || !guidRE.MatchString(str) {
			c.add(path, "must be a GUID string, not %s", show(v))
		}
	default:
		c.add(path, "primitive type %s is not known to this check", typ)
	}
}

const namespace = "microsoft.graph."

// object checks v as a value of the complex or entity type declared.
func (c *checker) object(declared *Type, v any, path string) {
	obj, ok := v.(map[string]any)
	if !ok {
		c.add(path, "must be an object (%s), not %s", declared.Name, show(v))
		return
	}
	t := declared
	if raw, has := obj["@odata.type"]; has {
		str, ok := raw.(string)
		name, cut := strings.CutPrefix(str, "#")
		if c.opts.Mode == Request && !cut {
			cut = true // a request may leave out the '#'
		}
		name, inNS := strings.CutPrefix(name, namespace)
		switch {
		case !ok:
			c.add(path+".@odata.type", "must be a string, not %s", show(raw))
		case !cut || !inNS:
			c.add(path+".@odata.type", "%q must be \"#microsoft.graph.<type>\"", str)
		case c.s.types[name] == nil:
			c.add(path+".@odata.type", "%q is not a type of the schema", str)
		case !c.s.Derives(name, declared.Name):
			c.add(path+".@odata.type", "%q is neither %s nor derived from it", str, declared.Name)
		default:
			t = c.s.types[name]
		}
	}
	if t.Abstract {
		c.add(path, "%s is abstract: the object needs the \"@odata.type\" of a derived type", t.Name)
	}
	props, navs, open := c.members(t)
	for _, k := range sortedKeys(obj) {
		kp := path + "." + k
		if strings.Contains(k, "@") {
			// Instance annotations ("@odata.type", checked above, and
			// property annotations such as "x@odata.context").
			if c.opts.NoAnnotations && k != "@odata.type" && !strings.HasSuffix(k, "@odata.bind") {
				c.add(kp, "is an annotation a request does not send")
			}
			continue
		}
		if p, ok := props[k]; ok {
			c.value(p, obj[k], kp, t.Name, k)
			continue
		}
		if _, ok := navs[k]; ok {
			c.add(kp, "is a navigation property of %s, not part of its representation", t.Name)
			continue
		}
		if !open {
			c.add(kp, "is not a property of %s", t.Name)
		}
	}
	if c.opts.Mode != Response {
		return
	}
	for _, k := range slices.Sorted(maps.Keys(props)) {
		p := props[k]
		if _, has := obj[k]; has || (p.Nullable && !p.Collection) {
			continue
		}
		if p.Collection {
			c.add(path+"."+k, "is missing: a collection of %s is always present ([] when empty)", t.Name)
		} else {
			c.add(path+"."+k, "is missing, but it is not nullable in %s", t.Name)
		}
	}
}

// members collects t's properties and navigation properties with its base
// types', and whether any of them is open.
func (c *checker) members(t *Type) (map[string]Property, map[string]Navigation, bool) {
	props := map[string]Property{}
	navs := map[string]Navigation{}
	open := false
	for ; t != nil; t = c.s.types[t.Base] {
		for k, p := range t.Properties {
			if _, ok := props[k]; !ok {
				props[k] = p
			}
		}
		for k, n := range t.Navigation {
			if _, ok := navs[k]; !ok {
				navs[k] = n
			}
		}
		open = open || t.Open
	}
	return props, navs, open
}

func decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("payload is not JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("payload has data after its JSON value")
	}
	return v, nil
}

func isInteger(v any) bool {
	n, ok := v.(json.Number)
	if !ok {
		return false
	}
	_, err := n.Int64()
	return err == nil
}

func sortedKeys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

// show describes a JSON value briefly for a message.
func show(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("the string %q", t)
	case bool:
		return fmt.Sprintf("the boolean %t", t)
	case json.Number:
		return "the number " + t.String()
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
