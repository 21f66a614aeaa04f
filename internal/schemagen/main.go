// Command schemagen writes the JSON Schemas of arsync's spec and config
// files (schema/arsync-v1.schema.json, schema/arsync-config.schema.json),
// generated from pkg/spec's Go types. Run it with `go generate ./pkg/spec`;
// pkg/spec's tests fail when the committed files are stale.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/arsync/arsync/pkg/spec"
)

func main() {
	out := flag.String("out", "schema", "directory to write the schema files to")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		gen  func() ([]byte, error)
	}{
		{spec.SpecSchemaFile, spec.SpecSchema},
		{spec.ConfigSchemaFile, spec.ConfigSchema},
	} {
		b, err := f.gen()
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
