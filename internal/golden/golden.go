// Package golden compares test output with golden files, the one helper
// every package's tests share. It registers the -update flag, so it is
// imported only from _test.go files:
//
//	golden.Assert(t, "testdata/errors.golden", []byte(err.Error()+"\n"))
//
//	go test ./pkg/graphclient -update   # rewrite the package's golden files
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// Assert compares got with the file at path (relative to the package
// directory, where go test runs). With -update it first writes got to path,
// creating its directory.
func Assert(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file: %v (run the test with -update to create it)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s\nregenerate: go test -update in this package", path, d)
	}
}
