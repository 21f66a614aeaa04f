package spec

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the parser. Beyond not panicking, it
// checks what callers rely on: every diagnostic has a real position and a
// message, and every definition without errors maps to a Graph body (with
// a directory that knows every name), deterministically.
//
// Run: go test ./pkg/spec -run=^$ -fuzz=FuzzParse -fuzztime=2m
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{examplesDir + "/*.yaml", "testdata/invalid/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte("tenantId: contoso.onmicrosoft.com\npaths: [reviews]\nmaxChangePercent: 30\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("---\n---\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		defs, diags := Parse("fuzz.yaml", data)
		for _, d := range diags {
			if d.Pos.File != "fuzz.yaml" || d.Pos.Line < 1 || d.Pos.Col < 1 || strings.TrimSpace(d.Message) == "" {
				t.Fatalf("bad diagnostic %+v", d)
			}
		}
		for _, def := range defs {
			if def.Name == "" {
				t.Fatalf("definition without a name loaded: %+v", def)
			}
			for _, r := range def.References() {
				if r.Pos.Line < 1 || r.Pos.Col < 1 || r.Name == "" {
					t.Fatalf("bad reference %+v", r)
				}
			}
			g1, err := def.ToGraph(&fakeDirectory{})
			if err != nil {
				t.Fatalf("valid definition %q does not map to Graph: %v", def.Name, err)
			}
			g2, _ := def.ToGraph(&fakeDirectory{})
			b1, err1 := json.Marshal(g1)
			b2, err2 := json.Marshal(g2)
			if err1 != nil || err2 != nil || !bytes.Equal(b1, b2) {
				t.Fatalf("ToGraph is not deterministic: %v %v\n%s\n%s", err1, err2, b1, b2)
			}
		}
		// The same decoder reads arsync.yaml.
		if _, err := ParseConfig("fuzz.yaml", data); err != nil {
			if _, ok := err.(Diagnostics); !ok {
				t.Fatalf("ParseConfig returned %T, want Diagnostics", err)
			}
		}
	})
}
