package golden

import (
	"os"
	"path/filepath"
	"testing"
)

func TestAssertMatches(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.golden")
	if err := os.WriteFile(path, []byte("same\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	Assert(t, path, []byte("same\n"))
}

func TestAssertUpdateCreatesDirectories(t *testing.T) {
	old := *update
	*update = true
	t.Cleanup(func() { *update = old })
	path := filepath.Join(t.TempDir(), "a", "b", "out.golden")
	Assert(t, path, []byte("new\n"))
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "new\n" {
		t.Fatalf("golden file = %q, %v; want it written", got, err)
	}
}
