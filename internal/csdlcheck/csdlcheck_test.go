package csdlcheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const testSummary = `{"types": {
  "entity": {"kind": "EntityType", "abstract": true, "properties": {"id": {"type": "Edm.String", "nullable": false}}},
  "thing": {"kind": "EntityType", "base": "entity", "properties": {
    "name": {"type": "Edm.String", "nullable": true},
    "count": {"type": "Edm.Int32", "nullable": false},
    "on": {"type": "Edm.Boolean", "nullable": true},
    "when": {"type": "Edm.DateTimeOffset", "nullable": true},
    "day": {"type": "Edm.Date", "nullable": true},
    "span": {"type": "Edm.Duration", "nullable": true},
    "colour": {"type": "colour", "nullable": true},
    "tags": {"type": "Edm.String", "collection": true, "nullable": true},
    "shape": {"type": "shape", "nullable": true},
    "who": {"type": "identity", "nullable": true}
  }, "navigation": {"parts": {"type": "thing", "collection": true}}},
  "colour": {"kind": "EnumType", "members": ["red", "blue"]},
  "shape": {"kind": "ComplexType", "abstract": true, "properties": {}},
  "circle": {"kind": "ComplexType", "base": "shape", "properties": {"radius": {"type": "Edm.Int32", "nullable": false}}},
  "identity": {"kind": "ComplexType", "open": true, "properties": {"id": {"type": "Edm.String", "nullable": true}}}
}}`

const testSupplement = `{"types": {
  "thing": {"kind": "EntityType", "properties": {"extra": {"type": "Edm.Boolean", "nullable": true}}},
  "square": {"kind": "ComplexType", "base": "shape", "properties": {}}
}}`

func loadTest(t *testing.T) *Schema {
	t.Helper()
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	require.NoError(t, os.WriteFile(a, []byte(testSummary), 0o644))
	require.NoError(t, os.WriteFile(b, []byte(testSupplement), 0o644))
	s, err := Load(a, b)
	require.NoError(t, err)
	return s
}

func TestCheck(t *testing.T) {
	s := loadTest(t)
	guid := func(typ, prop string) bool { return prop == "id" && typ == "thing" }
	tests := []struct {
		name          string
		mode          Mode
		noAnnotations bool
		body          string
		want          []string // substrings of the problems, in order; none for a valid payload
	}{
		{name: "minimal response", body: `{"id": "0e76ee07-b4c6-469e-bc9d-e73fc9a8d660", "count": 1, "tags": []}`},
		{name: "every kind of value", body: `{"id": "0e76ee07-b4c6-469e-bc9d-e73fc9a8d660", "count": 2147483647, "on": true,
			"when": "2021-05-04T18:27:02.6719849Z", "day": "2021-05-05", "span": "P1DT12H30M", "colour": "red",
			"tags": ["a"], "shape": {"@odata.type": "#microsoft.graph.circle", "radius": 3},
			"who": {"id": "x", "anything": 1}, "extra": null, "parts@odata.context": "x", "name": null}`},
		{name: "missing collection and non-nullable", body: `{"id": "0e76ee07-b4c6-469e-bc9d-e73fc9a8d660"}`,
			want: []string{"$.count: is missing", "$.tags: is missing: a collection"}},
		{name: "request may leave properties out", mode: Request, body: `{"name": "n"}`},
		{name: "unknown property", mode: Request, body: `{"nmae": "n"}`, want: []string{"$.nmae: is not a property of thing"}},
		{name: "supplement property", mode: Request, body: `{"extra": "yes"}`, want: []string{"$.extra: must be true or false"}},
		{name: "navigation property", mode: Request, body: `{"parts": []}`, want: []string{"$.parts: is a navigation property"}},
		{name: "nulls", mode: Request, body: `{"count": null, "tags": null, "name": null}`,
			want: []string{"$.count: is null, but Edm.Int32", "$.tags: collection is null"}},
		{name: "json types", mode: Request, body: `{"count": "1", "on": "true", "name": 1, "tags": "a"}`,
			want: []string{"$.count: must be an integer", "$.name: must be a string", "$.on: must be true or false", "$.tags: must be an array"}},
		{name: "integers", mode: Request, body: `{"count": 1.5}`, want: []string{"$.count: 1.5 is not an integer"}},
		{name: "int32 range", mode: Request, body: `{"count": 2147483648}`, want: []string{"does not fit Edm.Int32"}},
		{name: "formats", mode: Request, body: `{"when": "2021-05-04", "day": "2021-05-04T00:00:00Z", "span": "P1M"}`,
			want: []string{"$.day: \"2021-05-04T00:00:00Z\" is not an Edm.Date", "$.span: \"P1M\" is not an Edm.Duration", "$.when: \"2021-05-04\" is not an Edm.DateTimeOffset"}},
		{name: "empty duration", mode: Request, body: `{"span": "PT"}`, want: []string{"is not an Edm.Duration"}},
		{name: "guid", mode: Request, body: `{"id": "not-a-guid"}`, want: []string{"$.id: \"not-a-guid\" is not a GUID"}},
		{name: "enum member", mode: Request, body: `{"colour": "Red"}`, want: []string{"\"Red\" is not a member of colour"}},
		{name: "abstract without type", mode: Request, body: `{"shape": {}}`, want: []string{"$.shape: shape is abstract"}},
		{name: "derived type from a supplement", mode: Request, body: `{"shape": {"@odata.type": "#microsoft.graph.square"}}`},
		{name: "type outside the hierarchy", mode: Request, body: `{"shape": {"@odata.type": "#microsoft.graph.identity"}}`,
			want: []string{"is neither shape nor derived from it", "shape is abstract"}},
		{name: "unknown type", mode: Request, body: `{"shape": {"@odata.type": "#microsoft.graph.hexagon"}}`,
			want: []string{"is not a type of the schema", "shape is abstract"}},
		{name: "response type needs the hash", body: `{"id": "0e76ee07-b4c6-469e-bc9d-e73fc9a8d660", "count": 1, "tags": [], "shape": {"@odata.type": "microsoft.graph.circle", "radius": 1}}`,
			want: []string{"must be \"#microsoft.graph.<type>\"", "shape is abstract", "radius: is not a property of shape"}},
		{name: "request type without the hash", mode: Request, body: `{"shape": {"@odata.type": "microsoft.graph.circle"}}`},
		{name: "derived type's own rules", body: `{"id": "0e76ee07-b4c6-469e-bc9d-e73fc9a8d660", "count": 1, "tags": [], "shape": {"@odata.type": "#microsoft.graph.circle"}}`,
			want: []string{"$.shape.radius: is missing"}},
		{name: "not an object", mode: Request, body: `[]`, want: []string{"$: must be an object (thing)"}},
		{name: "null element", mode: Request, body: `{"tags": [null]}`, want: []string{"$.tags[0]: is null"}},
		{name: "annotations a request does not send", mode: Request, noAnnotations: true,
			body: `{"@odata.context": "c", "@odata.type": "#microsoft.graph.thing", "parts@odata.bind": [], "shape": {"@odata.etag": "e", "@odata.type": "#microsoft.graph.square"}}`,
			want: []string{"$.@odata.context: is an annotation", "$.shape.@odata.etag: is an annotation"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Check("thing", []byte(tt.body), Options{Mode: tt.mode, GUID: guid, NoAnnotations: tt.noAnnotations})
			require.NoError(t, err)
			require.Len(t, got, len(tt.want), "%v", got)
			for i, w := range tt.want {
				require.Contains(t, got[i].String(), w)
			}
		})
	}
}

func TestCheckCollection(t *testing.T) {
	s := loadTest(t)
	got, err := s.CheckCollection("thing", []byte(`{"@odata.context": "c", "@odata.count": 1, "@odata.nextLink": "n",
		"value": [{"id": "1", "count": 1, "tags": []}, {"id": "2"}]}`), Options{})
	require.NoError(t, err)
	require.Equal(t, []string{"$.value[1].count: is missing, but it is not nullable in thing",
		"$.value[1].tags: is missing: a collection of thing is always present ([] when empty)"}, strs(got))

	got, err = s.CheckCollection("thing", []byte(`{"@odata.count": "1", "extra": 1, "value": {}}`), Options{})
	require.NoError(t, err)
	require.Equal(t, []string{"$.@odata.count: must be an integer, not the string \"1\"",
		"$.extra: is not a member of a collection response", "$.value: must be an array, not an object"}, strs(got))
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	for _, tt := range []struct{ body, want string }{
		{`{`, "schema summary"},
		{`{"types": {}}`, "has no types"},
		{`{"types": {"a": {"kind": "ComplexType", "base": "b"}}}`, "base type b is not in the summary"},
	} {
		_, err := Load(write("s.json", tt.body))
		require.ErrorContains(t, err, tt.want)
	}
	_, err := Load(filepath.Join(dir, "absent.json"))
	require.ErrorContains(t, err, "reading schema summary")
	s := loadTest(t)
	_, err = s.Check("thing", []byte(`{} {}`), Options{})
	require.ErrorContains(t, err, "data after")
}

func TestDerives(t *testing.T) {
	s := loadTest(t)
	require.True(t, s.Derives("circle", "shape"))
	require.True(t, s.Derives("shape", "shape"))
	require.False(t, s.Derives("shape", "circle"))
	require.False(t, s.Derives("nothing", "shape"))
	require.NotNil(t, s.Type("square"))
	require.True(t, strings.HasPrefix(Problem{"$.a", "b"}.String(), "$.a: b"))
}

func strs(ps []Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}
