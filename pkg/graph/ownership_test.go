package graph

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

func TestSplitMarker(t *testing.T) {
	tests := []struct {
		name, desc, wantName, wantRest string
		wantOK                         bool
	}{
		{"marker alone", "[arsync:a]", "a", "", true},
		{"marker after text", "Quarterly.\n[arsync:guests-1]", "guests-1", "Quarterly.", true},
		{"CRLF line ends", "Quarterly.\r\n[arsync:a]\r\n", "a", "Quarterly.", true},
		{"trailing white space", "Quarterly.  \n[arsync:a] \t\n\n", "a", "Quarterly.", true},
		{"leading white space on the marker line", "x\n  [arsync:a]", "a", "x", true},
		{"not on the last line", "[arsync:a]\nQuarterly.", "", "[arsync:a]\nQuarterly.", false},
		{"inside a line", "see [arsync:a]", "", "see [arsync:a]", false},
		{"upper case name", "[arsync:A]", "", "[arsync:A]", false},
		{"empty name", "[arsync:]", "", "[arsync:]", false},
		{"name too long", "[arsync:" + strings.Repeat("a", 64) + "]", "", "[arsync:" + strings.Repeat("a", 64) + "]", false},
		{"no description", "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, rest, ok := SplitMarker(tt.desc)
			require.Equal(t, tt.wantOK, ok)
			require.Equal(t, tt.wantName, name)
			require.Equal(t, tt.wantRest, rest)
			require.Equal(t, tt.wantName, ManagedName(&Definition{DescriptionForAdmins: tt.desc}))
		})
	}
}

func TestWithMarker(t *testing.T) {
	require.Equal(t, "[arsync:a]", WithMarker("", "a"))
	require.Equal(t, "x\n[arsync:b]", WithMarker("x\r\n[arsync:a]\r\n", "b"))
	require.Equal(t, "[arsync:a]\nx\n[arsync:b]", WithMarker("[arsync:a]\nx", "b"))
}

// TestOldestWins is the ownership rule: of several live definitions
// carrying one marker, the oldest by createdDateTime, then by id, owns the
// name.
func TestOldestWins(t *testing.T) {
	def := func(id, created string) *Definition {
		return &Definition{ID: id, CreatedDateTime: created, DescriptionForAdmins: "[arsync:n]"}
	}
	tests := []struct {
		name string
		defs []*Definition
		want []string // ids, owner first
	}{
		{"older first", []*Definition{def("a", "2025-02-01T00:00:00Z"), def("b", "2025-01-01T00:00:00Z")}, []string{"b", "a"}},
		{"same time: id order", []*Definition{def("b", "2025-01-01T00:00:00Z"), def("a", "2025-01-01T00:00:00Z")}, []string{"a", "b"}},
		{"same instant in other zones: id order", []*Definition{def("b", "2025-01-01T00:00:00Z"), def("a", "2025-01-01T01:00:00+01:00")}, []string{"a", "b"}},
		{"times compare as instants, not text", []*Definition{def("a", "2025-01-01T08:00:00+09:00"), def("b", "2025-01-01T00:00:00Z")}, []string{"a", "b"}},
		{"fractional seconds", []*Definition{def("a", "2025-01-01T00:00:00.5983315Z"), def("b", "2025-01-01T00:00:00.1Z")}, []string{"b", "a"}},
		{"missing time last", []*Definition{def("a", ""), def("b", "2030-01-01T00:00:00Z")}, []string{"b", "a"}},
		{"unparsable time last", []*Definition{def("a", "yesterday"), def("b", "2030-01-01T00:00:00Z")}, []string{"b", "a"}},
		{"a date alone is unparsable", []*Definition{def("a", "2020-01-01"), def("b", "2030-01-01T00:00:00Z")}, []string{"b", "a"}},
		{"missing and unparsable: id order", []*Definition{def("c", ""), def("b", "soon"), def("a", "")}, []string{"a", "b", "c"}},
		{"one", []*Definition{def("a", "")}, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids := func(ds []*Definition) []string {
				var out []string
				for _, d := range ds {
					out = append(out, d.ID)
				}
				return out
			}
			owner, younger := Owner(tt.defs, "n")
			require.NotNil(t, owner)
			if d := cmp.Diff(tt.want, append([]string{owner.ID}, ids(younger)...)); d != "" {
				t.Errorf("Owner (-want +got):\n%s", d)
			}
			marked, unmarked := ByMarker(tt.defs)
			require.Empty(t, unmarked)
			if d := cmp.Diff(map[string][]string{"n": tt.want}, map[string][]string{"n": ids(marked["n"])}); d != "" {
				t.Errorf("ByMarker (-want +got):\n%s", d)
			}
			require.Len(t, marked, 1)
			// The input order does not matter, and the input is not reordered.
			rev := make([]*Definition, len(tt.defs))
			for i, d := range tt.defs {
				rev[len(tt.defs)-1-i] = d
			}
			before := ids(rev)
			owner2, _ := Owner(rev, "n")
			require.Equal(t, owner.ID, owner2.ID)
			require.Equal(t, before, ids(rev))
		})
	}
}

func TestByMarker(t *testing.T) {
	defs := []*Definition{
		{ID: "u2", CreatedDateTime: "2025-03-01T00:00:00Z", DescriptionForAdmins: "hand-made"},
		{ID: "x2", CreatedDateTime: "2025-02-01T00:00:00Z", DescriptionForAdmins: "[arsync:x]"},
		{ID: "y1", CreatedDateTime: "2025-01-01T00:00:00Z", DescriptionForAdmins: "y\r\n[arsync:y]  \r\n"},
		{ID: "u1", CreatedDateTime: "2025-01-01T00:00:00Z", DescriptionForAdmins: "[arsync:x]\nnot a marker any more"},
		{ID: "x1", CreatedDateTime: "2025-01-15T00:00:00Z", DescriptionForAdmins: "[arsync:x]"},
	}
	marked, unmarked := ByMarker(defs)
	got := map[string][]string{}
	for name, ds := range marked {
		for _, d := range ds {
			got[name] = append(got[name], d.ID)
		}
	}
	for _, d := range unmarked {
		got[""] = append(got[""], d.ID)
	}
	want := map[string][]string{"x": {"x1", "x2"}, "y": {"y1"}, "": {"u1", "u2"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}

	owner, younger := Owner(defs, "nobody")
	require.Nil(t, owner)
	require.Empty(t, younger)
	owner, _ = Owner(defs, "")
	require.Nil(t, owner, "unmarked definitions own no name")
	owner, younger = Owner(defs, "y")
	require.Equal(t, "y1", owner.ID)
	require.Empty(t, younger)
}

func TestMarkerWithDigest(t *testing.T) {
	digest := "v1:" + strings.Repeat("0a", 20)
	tests := []struct {
		name, desc, wantName, wantRest, wantDigest string
		wantOK                                     bool
	}{
		{"marker without digest", "x\n[arsync:a]", "a", "x", "", true},
		{"marker with digest", "x\n[arsync:a " + digest + "]", "a", "x", digest, true},
		{"a later version's digest still names the owner", "[arsync:a v9:zz]", "a", "", "v9:zz", true},
		{"two spaces", "[arsync:a  v1:00]", "", "[arsync:a  v1:00]", "", false},
		{"white space in the digest", "[arsync:a v1 00]", "", "[arsync:a v1 00]", "", false},
		{"bracket in the digest", "[arsync:a v1]]", "", "[arsync:a v1]]", "", false},
		{"digest too long", "[arsync:a " + strings.Repeat("0", 65) + "]", "", "[arsync:a " + strings.Repeat("0", 65) + "]", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, rest, ok := SplitMarker(tt.desc)
			require.Equal(t, tt.wantOK, ok)
			require.Equal(t, tt.wantName, name)
			require.Equal(t, tt.wantRest, rest)
			require.Equal(t, tt.wantDigest, MarkerDigest(tt.desc))
		})
	}
	require.Equal(t, "[arsync:a]", MarkerWithDigest("a", ""))
	require.Equal(t, "x\n[arsync:b "+digest+"]", WithMarkerDigest("x\r\n[arsync:a]\r\n", "b", digest))
	require.Equal(t, "[arsync:b v1:00]", WithMarkerDigest("[arsync:a v1:ff]", "b", "v1:00"))
	require.Equal(t, "x", StripMarker("x\n[arsync:a "+digest+"]"))
}
