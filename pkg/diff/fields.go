package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/arsync/arsync/pkg/graph"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Top-level fields Graph cannot change with a PUT (docs/graph-behaviour.md#put-not-patch):
// a difference in one of them makes the change a replace. reviewers is
// decided separately (reviewersForceReplacement).
var immutableFields = map[string]bool{
	"scope":                            true,
	"instanceEnumerationScope":         true,
	"stageSettings":                    true,
	"additionalNotificationRecipients": true,
}

// descendSlices are the lists whose elements are compared one by one (and
// reported as "stageSettings[1].durationInDays") when both sides have as many.
// Every other list is a leaf: reviewer lists, for instance, are sets, and the
// plan shows the whole set before and after.
var descendSlices = map[string]bool{"stageSettings": true}

// diffAt is one difference found by go-cmp, at a reportable path.
type diffAt struct {
	path   string
	before reflect.Value
	after  reflect.Value
}

// collector is a cmp.Reporter that records the path of every unequal leaf,
// cut back to the nearest reportable path (a struct field, or an element of
// a descendSlices list).
type collector struct {
	steps cmp.Path
	diffs []diffAt
}

func (c *collector) PushStep(ps cmp.PathStep) { c.steps = append(c.steps, ps) }
func (c *collector) PopStep()                 { c.steps = c.steps[:len(c.steps)-1] }

func (c *collector) Report(r cmp.Result) {
	if r.Equal() {
		return
	}
	var path strings.Builder
	cut := len(c.steps) - 1
	for i := 1; i < len(c.steps); i++ {
		switch s := c.steps[i].(type) {
		case cmp.StructField:
			name := jsonName(c.steps[i-1].Type(), s.Index(), s.Name())
			if path.Len() > 0 {
				path.WriteByte('.')
			}
			path.WriteString(name)
			continue
		case cmp.SliceIndex:
			vx, vy := c.steps[i-1].Values()
			kx, ky := s.SplitKeys()
			if descendSlices[path.String()] && vx.IsValid() && vy.IsValid() && vx.Len() == vy.Len() && kx == ky && kx >= 0 {
				path.WriteString("[" + strconv.Itoa(kx) + "]")
				continue
			}
			cut = i - 1
		case cmp.Indirect, cmp.TypeAssertion, cmp.Transform:
			continue
		default:
			cut = i - 1
		}
		break
	}
	p := path.String()
	if n := len(c.diffs); n > 0 && c.diffs[n-1].path == p {
		return // another difference inside the same leaf
	}
	vx, vy := c.steps[cut].Values()
	c.diffs = append(c.diffs, diffAt{path: p, before: vx, after: vy})
}

// jsonName is the JSON name of field index of struct type t (or of the
// struct t points to).
func jsonName(t reflect.Type, index int, goName string) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct || index >= t.NumField() {
		return goName
	}
	tag := t.Field(index).Tag.Get("json")
	name, _, _ := strings.Cut(tag, ",")
	if name == "" || name == "-" {
		return goName
	}
	return name
}

// sameNormalized is a fast exact test of equality for normalised
// definitions, which most plans are made of: encoding is deterministic, and
// the only difference JSON could hide (a nil versus an empty list) does not
// survive Normalize, which turns every empty list into nil. Normalised
// definitions hold nothing read, so their typed fields are encoded directly,
// without the cost of graph.Definition's MarshalJSON.
func sameNormalized(a, b graph.Definition) bool {
	ja, errA := json.Marshal(typedFields(a))
	jb, errB := json.Marshal(typedFields(b))
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

// typedFields has graph.Definition's fields and none of its methods.
type typedFields graph.Definition

// fieldDiffs compares two normalised definitions and returns their
// differences in field order. Only plain exported data types are compared,
// so go-cmp has nothing to panic about; a panic would be a bug, and is
// turned into an error rather than taking the process down.
func fieldDiffs(before, after graph.Definition) (diffs []FieldChange, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("comparing definitions: %v", r)
		}
	}()
	var c collector
	// Normalised definitions hold no read object; its unexported field is
	// ignored so that go-cmp does not refuse the struct.
	cmp.Equal(before, after, cmp.Reporter(&c), cmpopts.IgnoreUnexported(graph.Definition{}))
	paths := make([]string, 0, len(c.diffs))
	for _, d := range c.diffs {
		paths = append(paths, d.path)
	}
	for _, d := range c.diffs {
		if coveredByAncestor(d.path, paths) {
			continue
		}
		diffs = append(diffs, FieldChange{Path: d.path, Before: plainValue(d.before), After: plainValue(d.after)})
	}
	return diffs, nil
}

// coveredByAncestor reports whether another path in paths contains p.
func coveredByAncestor(p string, paths []string) bool {
	for _, q := range paths {
		if q != p && (strings.HasPrefix(p, q+".") || strings.HasPrefix(p, q+"[")) {
			return true
		}
	}
	return false
}

// plainValue turns a value into its JSON form as plain Go values, so that a
// plan read back from JSON equals the plan that was written.
func plainValue(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	return toPlain(v.Interface())
}

func toPlain(x any) any {
	b, err := graph.MarshalNoEscape(x)
	if err != nil {
		return fmt.Sprint(x)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Sprint(x)
	}
	return out
}

// leaves lists the reportable leaf paths of a definition with their values,
// in field order, using the same rules as the comparison: objects are
// descended, lists are leaves except the elements of descendSlices lists.
func leaves(d graph.Definition) []FieldChange {
	m, ok := toPlain(d).(map[string]any)
	if !ok {
		return nil
	}
	var out []FieldChange
	walkLeaves("", m, definitionFieldOrder, &out)
	return out
}

// definitionFieldOrder is the JSON field order of graph.Definition, so
// that leaves come out in the same order as go-cmp reports differences.
var definitionFieldOrder = fieldOrder(reflect.TypeOf(graph.Definition{}))

// fieldOrder maps a struct type's JSON names (and, for nested structs, their
// dotted paths) to their position in declaration order.
func fieldOrder(t reflect.Type) map[string]int {
	order := map[string]int{}
	n := 0
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		for i := 0; i < t.NumField(); i++ {
			name := jsonName(t, i, t.Field(i).Name)
			p := name
			if prefix != "" {
				p = prefix + "." + name
			}
			if _, seen := order[p]; seen {
				continue
			}
			order[p] = n
			n++
			if depth := strings.Count(p, "."); depth < 6 {
				walk(p, t.Field(i).Type)
			}
		}
	}
	walk("", t)
	return order
}

// stripIndexes turns "stageSettings[1].reviewers" into "stageSettings.reviewers".
func stripIndexes(p string) string {
	var b strings.Builder
	in := false
	for _, r := range p {
		switch {
		case r == '[':
			in = true
		case r == ']':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func walkLeaves(prefix string, m map[string]any, order map[string]int, out *[]FieldChange) {
	type key struct {
		name string
		pos  int
	}
	stripped := stripIndexes(prefix)
	keys := make([]key, 0, len(m))
	for k := range m {
		p := k
		if prefix != "" {
			p = stripped + "." + k
		}
		pos, ok := order[p]
		if !ok {
			pos = len(order)
		}
		keys = append(keys, key{k, pos})
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].pos != keys[j].pos {
			return keys[i].pos < keys[j].pos
		}
		return keys[i].name < keys[j].name
	})
	for _, kp := range keys {
		k := kp.name
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		switch v := m[k].(type) {
		case map[string]any:
			walkLeaves(p, v, order, out)
		case []any:
			if descendSlices[p] {
				for i, e := range v {
					ep := p + "[" + strconv.Itoa(i) + "]"
					if em, ok := e.(map[string]any); ok {
						walkLeaves(ep, em, order, out)
					} else {
						*out = append(*out, FieldChange{Path: ep, After: e})
					}
				}
				continue
			}
			*out = append(*out, FieldChange{Path: p, After: v})
		default:
			*out = append(*out, FieldChange{Path: p, After: v})
		}
	}
}
