// Package docgen renders the field reference of docs/yaml-format.md from
// the JSON Schemas that pkg/spec generates (spec.SpecSchema and
// spec.ConfigSchema), which are built from the decoder's own tables. The
// page therefore lists exactly the fields arsync accepts, with the Graph
// property each one maps to, and cannot drift from the code: the package's
// test fails when the committed page differs from what Render produces.
//
// After a change to pkg/spec's field documentation, rewrite the page with
//
//	go test ./internal/docgen -update
package docgen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/arsync/arsync/pkg/spec"
)

// Regions of docs/yaml-format.md that Render fills, each between a line
// "<!-- BEGIN GENERATED name: ... -->" and "<!-- END GENERATED name -->".
const (
	RegionSpec   = "spec-fields"
	RegionConfig = "config-fields"
)

// Regions returns the generated content of every region, keyed by name.
func Regions() (map[string]string, error) {
	specJSON, err := spec.SpecSchema()
	if err != nil {
		return nil, err
	}
	cfgJSON, err := spec.ConfigSchema()
	if err != nil {
		return nil, err
	}
	s, err := parseSchema(specJSON)
	if err != nil {
		return nil, fmt.Errorf("spec schema: %w", err)
	}
	c, err := parseSchema(cfgJSON)
	if err != nil {
		return nil, fmt.Errorf("config schema: %w", err)
	}
	sf, err := renderSpec(s)
	if err != nil {
		return nil, err
	}
	return map[string]string{
		RegionSpec:   sf,
		RegionConfig: renderConfig(c),
	}, nil
}

// Render returns doc with every generated region replaced by its current
// content. Text outside the regions is kept as it is.
func Render(doc []byte) ([]byte, error) {
	regions, err := Regions()
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(regions))
	for n := range regions {
		names = append(names, n)
	}
	slices.Sort(names)
	out := doc
	for _, n := range names {
		if out, err = splice(out, n, regions[n]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// splice replaces the lines between the region's BEGIN and END markers.
func splice(doc []byte, name, content string) ([]byte, error) {
	begin := []byte("<!-- BEGIN GENERATED " + name)
	end := []byte("<!-- END GENERATED " + name + " -->")
	i := -1
	for off := 0; ; {
		k := bytes.Index(doc[off:], begin)
		if k < 0 {
			break
		}
		k += off
		// The name ends at a space or a colon, so that "x" does not match
		// "x-more".
		if next := k + len(begin); next < len(doc) && (doc[next] == ' ' || doc[next] == ':') {
			i = k
			break
		}
		off = k + len(begin)
	}
	if i < 0 {
		return nil, fmt.Errorf("no %q marker for region %s", begin, name)
	}
	nl := bytes.IndexByte(doc[i:], '\n')
	if nl < 0 {
		return nil, fmt.Errorf("region %s: BEGIN marker is the last line", name)
	}
	start := i + nl + 1
	j := bytes.Index(doc[start:], end)
	if j < 0 {
		return nil, fmt.Errorf("no %q marker after BEGIN for region %s", end, name)
	}
	var b bytes.Buffer
	b.Write(doc[:start])
	b.WriteString(content)
	b.Write(doc[start+j:])
	return b.Bytes(), nil
}

// --- an order-preserving view of a JSON Schema -------------------------------

// object is a JSON object that remembers its key order (the schema lists
// fields in the order of the Go structs, which is the order to document).
type object struct {
	keys []string
	vals map[string]any
}

func (o *object) get(k string) any {
	if o == nil {
		return nil
	}
	return o.vals[k]
}

func (o *object) obj(k string) *object {
	v, _ := o.get(k).(*object)
	return v
}

func (o *object) str(k string) string {
	v, _ := o.get(k).(string)
	return v
}

func (o *object) list(k string) []any {
	v, _ := o.get(k).([]any)
	return v
}

func parseSchema(data []byte) (*object, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after the schema")
	}
	o, ok := v.(*object)
	if !ok {
		return nil, errors.New("the schema is not a JSON object")
	}
	return o, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &object{vals: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key %v is not a string", kt)
				}
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				o.keys = append(o.keys, k)
				o.vals[k] = v
			}
			_, err := dec.Token() // '}'
			return o, err
		case '[':
			var l []any
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			_, err := dec.Token() // ']'
			return l, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return tok, nil
	}
}

// refName returns the definition a schema refers to, directly ($ref) or
// through the allOf: [{$ref}] wrapper the generator uses to attach a
// description.
func refName(s *object) string {
	if r := s.str("$ref"); r != "" {
		return strings.TrimPrefix(r, "#/definitions/")
	}
	for _, a := range s.list("allOf") {
		if ao, ok := a.(*object); ok && ao.str("$ref") != "" {
			return strings.TrimPrefix(ao.str("$ref"), "#/definitions/")
		}
	}
	return ""
}

// --- rendering ---------------------------------------------------------------

// splitGraph separates a description from the Graph property (or type) it
// names at its end: "... Graph: accessReviewScheduleDefinition.scope." or
// "... Graph type: accessReviewScope.".
func splitGraph(desc, marker string) (text, graph string) {
	i := strings.LastIndex(desc, " "+marker+" ")
	if i < 0 {
		if rest, ok := strings.CutPrefix(desc, marker+" "); ok {
			return "", strings.TrimSuffix(rest, ".")
		}
		return desc, ""
	}
	text = desc[:i]
	graph = strings.TrimSpace(desc[i+len(marker)+2:])
	// The Graph part may be followed by more text ("... Graph type: X. May
	// be written as ..."): keep that with the description.
	if k := strings.Index(graph, ". "); k >= 0 {
		text += " " + graph[k+2:]
		graph = graph[:k]
	}
	return text, strings.TrimSuffix(graph, ".")
}

// cell makes s safe inside a markdown table cell.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

// code writes s as inline code. Table cells escape it with the rest of the
// cell (GitHub unescapes "\|" inside code spans in tables).
func code(s string) string {
	if strings.Contains(s, "`") {
		return "`` " + s + " ``"
	}
	return "`" + s + "`"
}

// maxPattern is the longest regular expression shown in the reference.
const maxPattern = 60

// graphRef writes a Graph mapping with its leading property or type name as
// code: "accessReviewReviewerScope.query = ./owners" becomes
// "`accessReviewReviewerScope.query` = ./owners".
func graphRef(g string) string {
	if g == "" {
		return "—"
	}
	name, rest, _ := strings.Cut(g, " ")
	if !isGraphName(name) {
		return g
	}
	if rest != "" {
		rest = " " + rest
	}
	return code(name) + rest
}

func isGraphName(s string) bool {
	if s == "" || strings.ContainsAny(s, "[],") {
		return false
	}
	if s[0] == '@' || s[0] == '#' || strings.Contains(s, ".") {
		return true
	}
	return strings.ToLower(s) != s
}

func anchor(def string) string { return "fields-of-" + strings.ToLower(def) }

func link(def string) string { return "[" + def + "](#" + anchor(def) + ")" }

func scalar(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		return t.String()
	case bool:
		if t {
			return "true"
		}
		return "false"
	}
	return fmt.Sprint(v)
}

// enumValue writes an allowed value as YAML needs it: a string that would
// read as a number is quoted.
func enumValue(v any) string {
	s, ok := v.(string)
	if ok && s != "" && strings.Trim(s, "0123456789") == "" {
		return `"` + s + `"`
	}
	return scalar(v)
}

// describeType says what a property accepts: its type and constraints, in
// words an administrator reads.
func describeType(s *object) string {
	if s == nil {
		return ""
	}
	if def := refName(s); def != "" {
		return "object: " + link(def)
	}
	if alts := s.list("anyOf"); len(alts) > 0 && s.get("type") == nil {
		var parts []string
		for _, a := range alts {
			if ao, ok := a.(*object); ok {
				parts = append(parts, describeType(ao))
			}
		}
		return strings.Join(parts, ", or ")
	}
	var parts []string
	typ := scalar(s.get("type"))
	if s.get("type") == nil {
		typ = ""
	}
	switch typ {
	case "array":
		item := describeType(s.obj("items"))
		switch {
		case item == "":
			item = "values"
		case strings.Contains(item, ", or "):
			item = "(" + item + ")"
		}
		parts = append(parts, "list of "+strings.TrimPrefix(item, "object: "))
	case "":
	default:
		parts = append(parts, typ)
	}
	if c := s.get("const"); c != nil {
		parts = append(parts, "always "+code(scalar(c)))
	}
	if e := s.list("enum"); len(e) > 0 {
		vals := make([]string, len(e))
		for i, v := range e {
			vals[i] = code(enumValue(v))
		}
		parts = append(parts, "one of "+strings.Join(vals, ", "))
	}
	lo, hi := s.get("minimum"), s.get("maximum")
	if hi != nil && scalar(hi) == "2147483647" {
		hi = nil // the int32 bound of a count, not a rule
	}
	switch {
	case lo != nil && hi != nil:
		parts = append(parts, scalar(lo)+" to "+scalar(hi))
	case lo != nil:
		parts = append(parts, "at least "+scalar(lo))
	case hi != nil:
		parts = append(parts, "at most "+scalar(hi))
	}
	if n := s.get("maxLength"); n != nil {
		parts = append(parts, "at most "+scalar(n)+" characters")
	}
	if n := s.get("minItems"); n != nil && scalar(n) != "0" {
		parts = append(parts, "at least "+scalar(n)+" item(s)")
	}
	if n := s.get("maxItems"); n != nil {
		parts = append(parts, "at most "+scalar(n)+" item(s)")
	}
	if s.get("uniqueItems") == true {
		parts = append(parts, "no duplicates")
	}
	switch p := s.str("pattern"); {
	case p == "" || s.get("enum") != nil:
	case len(p) > maxPattern:
		// Long patterns (ISO-8601 durations) help nobody; the
		// description says what is accepted.
	default:
		parts = append(parts, "matching "+code(p))
	}
	if n := s.obj("not"); n != nil && n.str("pattern") != "" {
		parts = append(parts, "not containing "+code(strings.ReplaceAll(n.str("pattern"), `\`, "")))
	}
	return strings.Join(parts, ", ")
}

// row is one documented field.
type row struct {
	key, graph, typ, desc string
	required              bool
}

// rows lists the fields of an object schema in schema order.
func rows(s *object, graphColumn bool) []row {
	props := s.obj("properties")
	if props == nil {
		return nil
	}
	req := map[string]bool{}
	for _, r := range s.list("required") {
		req[scalar(r)] = true
	}
	var out []row
	for _, k := range props.keys {
		p := props.obj(k)
		desc, graph := splitGraph(p.str("description"), "Graph:")
		if graphColumn && graph == "" && (k == "type" || k == "@odata.type") {
			graph = "@odata.type"
		}
		out = append(out, row{key: k, graph: graph, typ: describeType(p), desc: desc, required: req[k]})
	}
	return out
}

func writeTable(b *strings.Builder, rs []row, graphColumn bool) {
	if graphColumn {
		b.WriteString("| Field | Graph property | Type and allowed values | Description |\n")
		b.WriteString("|---|---|---|---|\n")
	} else {
		b.WriteString("| Field | Type and allowed values | Description |\n")
		b.WriteString("|---|---|---|\n")
	}
	for _, r := range rs {
		typ := r.typ
		if r.required {
			typ = "**required**; " + typ
		}
		if graphColumn {
			fmt.Fprintf(b, "| %s | %s | %s | %s |\n", cell(code(r.key)), cell(graphRef(r.graph)), cell(typ), cell(r.desc))
		} else {
			fmt.Fprintf(b, "| %s | %s | %s |\n", cell(code(r.key)), cell(typ), cell(r.desc))
		}
	}
}

// usage maps each definition to the document paths it appears at.
func usage(root *object) map[string][]string {
	defs := root.obj("definitions")
	out := map[string][]string{}
	var walk func(s *object, path string, chain []string)
	walk = func(s *object, path string, chain []string) {
		props := s.obj("properties")
		if props == nil {
			// Polymorphic definitions keep their object form in anyOf.
			for _, a := range s.list("anyOf") {
				if ao, ok := a.(*object); ok && ao.obj("properties") != nil {
					props = ao.obj("properties")
				}
			}
		}
		if props == nil {
			return
		}
		for _, k := range props.keys {
			p := props.obj(k)
			child := path + "." + k
			target := p
			if scalar(p.get("type")) == "array" && p.obj("items") != nil {
				target = p.obj("items")
				child += "[]"
			}
			def := refName(target)
			if def == "" {
				if target.obj("properties") != nil {
					walk(target, child, chain)
				}
				continue
			}
			if !slices.Contains(out[def], child) {
				out[def] = append(out[def], child)
			}
			if slices.Contains(chain, def) {
				continue
			}
			walk(defs.obj(def), child, append(slices.Clone(chain), def))
		}
	}
	walk(root, "", nil)
	for def, paths := range out {
		for i, p := range paths {
			paths[i] = strings.TrimPrefix(p, ".")
		}
		out[def] = paths
	}
	return out
}

func renderSpec(root *object) (string, error) {
	var b strings.Builder
	defs := root.obj("definitions")
	if defs == nil {
		return "", errors.New("the spec schema has no definitions")
	}
	used := usage(root)

	b.WriteString("### The document\n\n")
	b.WriteString(cell(root.str("description")) + "\n\n")
	var top []row
	for _, r := range rows(root, true) {
		if r.key == "metadata" {
			r.typ = "object"
			top = append(top, r)
			meta := root.obj("properties").obj("metadata")
			for _, mr := range rows(meta, true) {
				mr.key = "metadata." + mr.key
				top = append(top, mr)
			}
			continue
		}
		top = append(top, r)
	}
	writeTable(&b, top, true)

	for _, name := range defs.keys {
		d := defs.obj(name)
		fmt.Fprintf(&b, "\n<a id=\"%s\"></a>\n### Fields of `%s`\n\n", anchor(name), name)
		text, graph := splitGraph(d.str("description"), "Graph type:")
		if paths := used[name]; len(paths) > 0 {
			quoted := make([]string, len(paths))
			for i, p := range paths {
				quoted[i] = code(p)
			}
			fmt.Fprintf(&b, "Used at %s.", strings.Join(quoted, ", "))
			if graph != "" {
				fmt.Fprintf(&b, " Graph type: %s.", graphRef(graph))
			}
			b.WriteString("\n\n")
		}
		if text != "" {
			b.WriteString(cell(text) + "\n\n")
		}
		obj := d
		if d.obj("properties") == nil {
			// A polymorphic object that may also be written as a bare
			// name: anyOf [string enum, object].
			for _, a := range d.list("anyOf") {
				ao, ok := a.(*object)
				if !ok {
					continue
				}
				if ao.obj("properties") != nil {
					obj = ao
				} else if e := ao.list("enum"); len(e) > 0 {
					vals := make([]string, len(e))
					for i, v := range e {
						vals[i] = code(enumValue(v))
					}
					fmt.Fprintf(&b, "Bare-name form: %s.\n\n", strings.Join(vals, ", "))
				}
			}
		}
		if rs := rows(obj, true); len(rs) > 0 {
			writeTable(&b, rs, true)
		}
		if forms := exactlyOne(d); len(forms) > 0 {
			fmt.Fprintf(&b, "\nWrite exactly one of %s.\n", strings.Join(forms, ", "))
		}
	}
	return b.String(), nil
}

// exactlyOne returns the keys of a oneOf whose branches each require one
// key: the "write exactly one of" rule of reviewer and recipient entries.
func exactlyOne(s *object) []string {
	var keys []string
	for _, a := range s.list("oneOf") {
		ao, ok := a.(*object)
		if !ok {
			return nil
		}
		req := ao.list("required")
		if len(req) != 1 {
			return nil
		}
		keys = append(keys, code(scalar(req[0])))
	}
	return keys
}

func renderConfig(root *object) string {
	var b strings.Builder
	b.WriteString(cell(root.str("description")) + "\n\n")
	writeTable(&b, rows(root, false), false)
	return b.String()
}

// PropertyNames returns every property name the spec and config schemas
// define (including nested definitions), sorted and without duplicates.
func PropertyNames() ([]string, error) {
	var names []string
	for _, gen := range []func() ([]byte, error){spec.SpecSchema, spec.ConfigSchema} {
		data, err := gen()
		if err != nil {
			return nil, err
		}
		root, err := parseSchema(data)
		if err != nil {
			return nil, err
		}
		var walk func(v any)
		walk = func(v any) {
			switch t := v.(type) {
			case *object:
				if p := t.obj("properties"); p != nil {
					names = append(names, p.keys...)
				}
				for _, k := range t.keys {
					walk(t.vals[k])
				}
			case []any:
				for _, e := range t {
					walk(e)
				}
			}
		}
		walk(root)
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}
