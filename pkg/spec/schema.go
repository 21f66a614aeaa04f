package spec

//go:generate go run ../../internal/schemagen -out ../../schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/arsync/arsync/pkg/graph"
)

// Names of the published JSON Schema files (schema/ at the repository root)
// and the address they are published at, for the
// "# yaml-language-server: $schema=..." line of spec files.
const (
	SpecSchemaFile   = "arsync-v1.schema.json"
	ConfigSchemaFile = "arsync-config.schema.json"
	SchemaBaseURL    = "https://raw.githubusercontent.com/arsync/arsync/main/schema/"
)

// SpecSchema returns the JSON Schema (draft-07) of an arsync/v1 spec
// document, generated from Definition and the types it holds. Editors use
// it to complete and check fields; `arsync validate` remains the full check
// (references, cross-field rules such as stage durations against the
// recurrence).
func SpecSchema() ([]byte, error) {
	return generateSchema(reflect.TypeFor[Definition](), SpecSchemaFile,
		"arsync access review definition (arsync/v1)",
		"One Microsoft Entra access review definition. spec holds Graph's accessReviewScheduleDefinition with Graph's own field names, plus arsync's references by name. Check with `arsync validate`.")
}

// ConfigSchema returns the JSON Schema (draft-07) of arsync.yaml, generated
// from Config.
func ConfigSchema() ([]byte, error) {
	return generateSchema(reflect.TypeFor[Config](), ConfigSchemaFile,
		"arsync configuration (arsync.yaml)",
		"Settings for one tenant: where the spec files are and which tenant and cloud they are applied to. Command-line flags override them.")
}

// schema is the subset of JSON Schema draft-07 that the generator writes.
// Field order is output order.
type schema struct {
	Schema               string         `json:"$schema,omitempty"`
	ID                   string         `json:"$id,omitempty"`
	Ref                  string         `json:"$ref,omitempty"`
	Title                string         `json:"title,omitempty"`
	Description          string         `json:"description,omitempty"`
	Type                 any            `json:"type,omitempty"` // string or []string
	Const                any            `json:"const,omitempty"`
	Enum                 []any          `json:"enum,omitempty"`
	Pattern              string         `json:"pattern,omitempty"`
	Format               string         `json:"format,omitempty"`
	MinLength            *int           `json:"minLength,omitempty"`
	MaxLength            *int           `json:"maxLength,omitempty"`
	Minimum              *int           `json:"minimum,omitempty"`
	Maximum              *int           `json:"maximum,omitempty"`
	Items                *schema        `json:"items,omitempty"`
	MinItems             *int           `json:"minItems,omitempty"`
	MaxItems             *int           `json:"maxItems,omitempty"`
	UniqueItems          bool           `json:"uniqueItems,omitempty"`
	Properties           *props         `json:"properties,omitempty"`
	Required             []string       `json:"required,omitempty"`
	AdditionalProperties *bool          `json:"additionalProperties,omitempty"`
	Dependencies         map[string]any `json:"dependencies,omitempty"`
	Not                  *schema        `json:"not,omitempty"`
	AnyOf                []*schema      `json:"anyOf,omitempty"`
	OneOf                []*schema      `json:"oneOf,omitempty"`
	AllOf                []*schema      `json:"allOf,omitempty"`
	If                   *schema        `json:"if,omitempty"`
	Then                 *schema        `json:"then,omitempty"`
	Else                 *schema        `json:"else,omitempty"`
	Default              any            `json:"default,omitempty"`
	Examples             []any          `json:"examples,omitempty"`
	Definitions          *props         `json:"definitions,omitempty"`
}

// props is a JSON object of schemas that keeps insertion order, so that
// properties appear in the file in the order of the Go fields.
type props struct {
	keys []string
	m    map[string]*schema
}

func (p *props) set(k string, s *schema) {
	if p.m == nil {
		p.m = map[string]*schema{}
	}
	if _, ok := p.m[k]; !ok {
		p.keys = append(p.keys, k)
	}
	p.m[k] = s
}

func (p *props) get(k string) *schema { return p.m[k] }

func (p *props) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range p.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := graph.MarshalNoEscape(k)
		if err != nil {
			return nil, err
		}
		vb, err := graph.MarshalNoEscape(p.m[k])
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func ptr[T any](v T) *T { return &v }

// typeDoc says how a Go type of this package is written in YAML: its
// definition's name in the schema, the Graph type it maps to, and each Go
// field's key and meaning. Every exported field must be documented here
// (fields of type Pos excepted), so that a new field cannot be left out of
// the schema.
type typeDoc struct {
	def    string // name under "definitions"; "" for the root type
	graph  string // the Graph type it maps to
	desc   string
	fields map[string]fieldDoc // by Go field name
	// arsyncOnly marks a type with no Graph counterpart (the
	// configuration), whose fields need not say so one by one.
	arsyncOnly bool
	// finish adds what plain fields cannot say (polymorphic type keys,
	// "exactly one of", conditional requirements) and may replace the
	// object schema, e.g. to also accept a bare type name.
	finish func(g *gen, s *schema) *schema
}

// fieldDoc is one Go field as a YAML key.
type fieldDoc struct {
	// key is the YAML key; "a/b" nests b in an object a.
	key string
	// graph is the Graph property written from it, "" for arsync's own
	// fields and references.
	graph    string
	desc     string
	required bool
	// refine narrows the schema derived from the Go type (enums, bounds,
	// patterns).
	refine func(*schema)
	// build replaces the derived schema entirely: the field stands for
	// several keys (it returns them) or for an arsync reference form.
	build func(g *gen) []namedSchema
}

type namedSchema struct {
	key string
	s   *schema
}

// gen generates one schema document.
type gen struct {
	defs  props
	built map[string]bool
	errs  []error
}

var posType = reflect.TypeFor[Pos]()

func generateSchema(root reflect.Type, file, title, desc string) ([]byte, error) {
	g := &gen{built: map[string]bool{}}
	s := g.object(root)
	s.Schema = "http://json-schema.org/draft-07/schema#"
	s.ID = SchemaBaseURL + file
	s.Title = title
	s.Description = desc
	if len(g.defs.keys) > 0 {
		s.Definitions = &g.defs
	}
	declareRequired(s)
	if err := errors.Join(g.errs...); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the %s schema: %w", file, err)
	}
	// MarshalIndent re-indents the output of props.MarshalJSON but keeps
	// its escaping; it has none, since marshalNoEscape wrote it.
	return append(b, '\n'), nil
}

// declareRequired gives every subschema that requires keys a properties
// entry for each of them ({}, which accepts anything, where it had none).
// The verdict is the same; validators in strict mode (ajv's strictRequired)
// refuse a schema whose required keys are not declared next to it, and
// schematest checks the schema with ajv in strict mode.
func declareRequired(s *schema) {
	if s == nil {
		return
	}
	for _, k := range s.Required {
		if s.Properties == nil {
			s.Properties = &props{}
		}
		if s.Properties.get(k) == nil {
			s.Properties.set(k, &schema{})
		}
	}
	children := []*schema{s.Items, s.Not, s.If, s.Then, s.Else}
	children = append(children, s.AnyOf...)
	children = append(children, s.OneOf...)
	children = append(children, s.AllOf...)
	for _, p := range []*props{s.Properties, s.Definitions} {
		if p != nil {
			for _, k := range p.keys {
				children = append(children, p.m[k])
			}
		}
	}
	for _, v := range s.Dependencies {
		if d, ok := v.(*schema); ok {
			children = append(children, d)
		}
	}
	for _, c := range children {
		declareRequired(c)
	}
}

// ref returns a $ref to the definition of struct type t, generating it
// once.
func (g *gen) ref(t reflect.Type) *schema {
	doc, ok := typeDocs[t]
	if !ok || doc.def == "" {
		g.errs = append(g.errs, fmt.Errorf("schema: type %s has no definition name in typeDocs", t))
		return &schema{}
	}
	if !g.built[doc.def] {
		g.built[doc.def] = true
		g.defs.set(doc.def, nil) // reserve its place: definitions in order of first use
		g.defs.set(doc.def, g.object(t))
	}
	return &schema{Ref: "#/definitions/" + doc.def}
}

// object generates the object schema of struct type t from its fields.
func (g *gen) object(t reflect.Type) *schema {
	doc, ok := typeDocs[t]
	if !ok {
		g.errs = append(g.errs, fmt.Errorf("schema: type %s is not documented in typeDocs", t))
		return &schema{}
	}
	s := &schema{Type: "object", Properties: &props{}, AdditionalProperties: ptr(false)}
	s.Description = doc.desc
	if doc.graph != "" {
		s.Description = appendSentence(s.Description, "Graph type: "+doc.graph+".")
	}
	seen := map[string]bool{}
	for f := range t.Fields() {
		if !f.IsExported() || f.Type == posType {
			continue
		}
		seen[f.Name] = true
		fd, ok := doc.fields[f.Name]
		if !ok {
			g.errs = append(g.errs, fmt.Errorf("schema: field %s.%s is not documented in typeDocs", t.Name(), f.Name))
			continue
		}
		var named []namedSchema
		if fd.build != nil {
			named = fd.build(g)
		} else {
			fs := g.valueSchema(f.Type)
			if fd.refine != nil {
				fd.refine(fs)
			}
			if fs.Ref != "" {
				// Draft-07 ignores a $ref's siblings: wrap it so that the
				// description counts.
				fs = &schema{AllOf: []*schema{fs}}
			}
			fs.Description = fieldDescription(fd, doc.arsyncOnly)
			named = []namedSchema{{fd.key, fs}}
		}
		for _, n := range named {
			addProperty(s, n.key, n.s, fd.required)
		}
	}
	for name := range doc.fields {
		if !seen[name] {
			g.errs = append(g.errs, fmt.Errorf("schema: typeDocs documents %s.%s, which is not an exported field", t.Name(), name))
		}
	}
	if doc.finish != nil {
		s = doc.finish(g, s)
	}
	return s
}

// addProperty adds key (possibly "a/b") to object s.
func addProperty(s *schema, key string, v *schema, required bool) {
	outer, inner, nested := strings.Cut(key, "/")
	if !nested {
		s.Properties.set(key, v)
		if required {
			s.Required = append(s.Required, key)
		}
		return
	}
	o := s.Properties.get(outer)
	if o == nil {
		o = &schema{Type: "object", Properties: &props{}, AdditionalProperties: ptr(false)}
		s.Properties.set(outer, o)
	}
	if required && !slices.Contains(s.Required, outer) {
		s.Required = append(s.Required, outer)
	}
	addProperty(o, inner, v, required)
}

// valueSchema derives a schema from a Go type.
func (g *gen) valueSchema(t reflect.Type) *schema {
	switch t.Kind() {
	case reflect.Pointer:
		return g.valueSchema(t.Elem())
	case reflect.String:
		return &schema{Type: "string"}
	case reflect.Bool:
		return &schema{Type: "boolean"}
	case reflect.Int:
		// Graph's Int32.
		return &schema{Type: "integer", Maximum: ptr(1<<31 - 1)}
	case reflect.Slice:
		return &schema{Type: "array", Items: g.valueSchema(t.Elem())}
	case reflect.Struct:
		return g.ref(t)
	}
	g.errs = append(g.errs, fmt.Errorf("schema: no JSON Schema for Go type %s", t))
	return &schema{}
}

func fieldDescription(fd fieldDoc, arsyncOnly bool) string {
	switch {
	case fd.graph != "":
		return appendSentence(fd.desc, "Graph: "+fd.graph+".")
	case arsyncOnly:
		return fd.desc
	}
	return appendSentence(fd.desc, "arsync only; not a Graph property.")
}

func appendSentence(s, t string) string {
	if s == "" {
		return t
	}
	return s + " " + t
}

// --- refinements shared by several fields ----------------------------------

// durationPattern is the ISO-8601 duration form of OData's Edm.Duration that
// graph.ParseDuration accepts: days, hours, minutes, seconds (fraction in
// seconds only). TestDurationPatternMatchesParser keeps the two in step.
const durationPattern = `^P(?:\d+D(?:T(?:\d+H(?:\d+M)?(?:\d+(?:\.\d+)?S)?|\d+M(?:\d+(?:\.\d+)?S)?|\d+(?:\.\d+)?S))?|T(?:\d+H(?:\d+M)?(?:\d+(?:\.\d+)?S)?|\d+M(?:\d+(?:\.\d+)?S)?|\d+(?:\.\d+)?S))$`

// datePattern is YYYY-MM-DD; parseDate also checks the calendar.
const datePattern = `^\d{4}-\d{2}-\d{2}$`

// queryPattern: Graph queries are absolute (/...) or relative (./...).
const queryPattern = `^\.?/`

func enumOf(values []string) func(*schema) {
	return func(s *schema) { s.Enum = anys(values) }
}

func anys(values []string) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}

func minimum(n int) func(*schema) { return func(s *schema) { s.Minimum = ptr(n) } }

func duration(s *schema) {
	s.Pattern = durationPattern
	s.Examples = []any{"P30D"}
}

func date(s *schema) {
	s.Pattern = datePattern
	s.Examples = []any{"2025-01-01"}
}

func query(s *schema) {
	s.Pattern = queryPattern
	s.MinLength = ptr(2)
}

// typeKeys are the "type" and "@odata.type" properties of a polymorphic
// object: either key takes the short or the full name.
func typeKeys(names []typeName, what string) []namedSchema {
	all := anys(typeChoices(names))
	var list []string
	for _, n := range names {
		list = append(list, n.short+" ("+n.odata+")")
	}
	return []namedSchema{
		{"type", &schema{Type: "string", Enum: all, Description: "The kind of " + what + ", short or full name: " + strings.Join(list, ", ") + ". Written to Graph as @odata.type. Write type or @odata.type, not both."}},
		{"@odata.type", &schema{Type: "string", Enum: all, Description: "Graph's @odata.type of " + what + " (the short name is accepted too). Same as type; write one of them."}},
	}
}

// notBoth forbids writing both type and @odata.type. A new schema each
// time: declareRequired completes schemas in place.
func notBoth() *schema { return &schema{Not: &schema{Required: []string{"type", "@odata.type"}}} }

// isType matches an object whose type or @odata.type names one of shorts.
func isType(names []typeName, shorts ...string) *schema {
	var vals []any
	for _, n := range names {
		if slices.Contains(shorts, n.short) {
			vals = append(vals, n.short, n.odata)
		}
	}
	return &schema{AnyOf: []*schema{
		{Properties: &props{keys: []string{"type"}, m: map[string]*schema{"type": {Enum: vals}}}, Required: []string{"type"}},
		{Properties: &props{keys: []string{"@odata.type"}, m: map[string]*schema{"@odata.type": {Enum: vals}}}, Required: []string{"@odata.type"}},
	}}
}

// exactlyOne requires exactly one of keys.
func exactlyOne(keys []string) []*schema {
	out := make([]*schema, len(keys))
	for i, k := range keys {
		out[i] = &schema{Required: []string{k}}
	}
	return out
}

// orBareName lets a polymorphic list item be written as its bare type
// name (applyActions: [removeAccessApplyAction]).
func orBareName(names []typeName, obj *schema) *schema {
	desc := obj.Description
	obj.Description = ""
	return &schema{
		Description: desc + " May be written as the bare type name.",
		AnyOf: []*schema{
			{Type: "string", Enum: anys(typeChoices(names))},
			obj,
		},
	}
}

// reviewerProps are the properties of a reviewer entry, derived from
// Reviewer; recipient restricts them to the forms a notification recipient
// accepts.
func (g *gen) reviewerProps(recipient bool) *schema {
	s := g.object(reflect.TypeFor[Reviewer]())
	if !recipient {
		return s
	}
	r := &schema{Type: "object", Properties: &props{}, AdditionalProperties: ptr(false)}
	for _, k := range s.Properties.keys {
		desc, ok := recipientDescriptions[k]
		if !ok {
			continue
		}
		v := *s.Properties.get(k)
		v.Description = desc
		if k == "queryType" {
			v.Enum = anys(recipientQueryTypes)
		}
		r.Properties.set(k, &v)
	}
	return r
}
