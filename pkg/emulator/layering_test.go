package emulator

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestEmulatorIsIndependent enforces what the package doc promises: the emulator imports
// nothing from pkg/graph, pkg/spec, pkg/diff or pkg/apply, directly or through
// another package of this module, so that its rewriting of stored values
// cannot borrow the client's canonical form (pkg/graph) (and other projects can use it
// alone). It follows the module's own imports from the package's
// non-test files.
func TestEmulatorIsIndependent(t *testing.T) {
	const module = "github.com/arsync/arsync/"
	forbidden := []string{module + "pkg/graph", module + "pkg/spec", module + "pkg/diff", module + "pkg/apply"}
	seen := map[string]bool{}
	var visit func(pkg, dir string, path []string)
	visit = func(pkg, dir string, path []string) {
		if seen[pkg] {
			return
		}
		seen[pkg] = true
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, name), nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				rest, ok := strings.CutPrefix(p, module)
				if !ok {
					continue
				}
				via := append(append([]string(nil), path...), p)
				for _, bad := range forbidden {
					if p == bad || strings.HasPrefix(p, bad+"/") {
						t.Errorf("pkg/emulator imports %s (via %s)", bad, strings.Join(via, " -> "))
					}
				}
				visit(p, filepath.Join("..", "..", filepath.FromSlash(rest)), via)
			}
		}
	}
	visit(module+"pkg/emulator", ".", []string{module + "pkg/emulator"})
	if len(seen) < 2 {
		t.Fatalf("walked %d package(s); the walk is broken", len(seen))
	}
}
