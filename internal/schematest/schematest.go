// Package schematest checks YAML documents against arsync's published JSON
// Schemas (schema/ at the repository root) with third-party tools, as
// editors and other people's pipelines check them: ajv (a JSON Schema
// validator, in strict mode) with js-yaml as the YAML parser, run through
// node. package.json and package-lock.json in this directory pin them;
// install them here with `npm ci`.
//
// Tests call Validate. Without node or the installed packages it skips the
// test with a message, except when CI=true, where it fails it: CI installs
// them (.ci/run).
package schematest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Schema file names under schema/.
const (
	SpecSchema   = "arsync-v1.schema.json"
	ConfigSchema = "arsync-config.schema.json"
)

// File is a YAML file to check, one document at a time, against Schema.
type File struct {
	Name   string // for messages
	Schema string // SpecSchema or ConfigSchema
	Text   []byte
}

// Result is what ajv said about each document of a file.
type Result struct {
	Name       string
	ParseError string // js-yaml could not read the file
	Docs       []Doc  // one per non-empty document, in order
}

// Doc is ajv's verdict on one document.
type Doc struct {
	Valid  bool
	Errors []Error
}

// Error is one of ajv's errors.
type Error struct {
	InstancePath string // JSON pointer into the document, "" for its root
	Keyword      string
	Message      string
}

func (e Error) String() string { return e.InstancePath + ": " + e.Keyword + ": " + e.Message }

// dir is this package's directory, where package.json and node_modules are.
func dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// Validate checks files with ajv and returns one Result per file, in
// order. A schema that ajv refuses, or any warning of ajv's strict mode,
// fails the test.
func Validate(t testing.TB, files []File) []Result {
	t.Helper()
	node := requireTools(t)
	schemas := map[string]json.RawMessage{}
	for _, name := range []string{SpecSchema, ConfigSchema} {
		b, err := os.ReadFile(filepath.Join(dir(), "..", "..", "schema", name))
		if err != nil {
			t.Fatalf("reading the schema: %v", err)
		}
		schemas[name] = b
	}
	type reqFile struct {
		Name   string `json:"name"`
		Schema string `json:"schema"`
		Text   string `json:"text"`
	}
	req := struct {
		Schemas map[string]json.RawMessage `json:"schemas"`
		Files   []reqFile                  `json:"files"`
	}{Schemas: schemas}
	for _, f := range files {
		req.Files = append(req.Files, reqFile{f.Name, f.Schema, string(f.Text)})
	}
	in, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir(), "validate.mjs"))
	cmd.Dir = dir()
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node validate.mjs: %v\n%s", err, stderr.String())
	}
	var out struct {
		Warnings []string `json:"warnings"`
		Files    []struct {
			Name       string `json:"name"`
			ParseError string `json:"parseError"`
			Docs       []struct {
				Valid  bool `json:"valid"`
				Errors []struct {
					InstancePath string `json:"instancePath"`
					Keyword      string `json:"keyword"`
					Message      string `json:"message"`
				} `json:"errors"`
			} `json:"docs"`
		} `json:"files"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("reading validate.mjs's answer: %v\n%s", err, stdout.String())
	}
	if len(out.Warnings) > 0 {
		t.Errorf("ajv's strict mode warns about the schema:\n%s", strings.Join(out.Warnings, "\n"))
	}
	if len(out.Files) != len(files) {
		t.Fatalf("validate.mjs answered for %d files, asked for %d", len(out.Files), len(files))
	}
	res := make([]Result, len(out.Files))
	for i, f := range out.Files {
		res[i] = Result{Name: f.Name, ParseError: f.ParseError}
		for _, d := range f.Docs {
			doc := Doc{Valid: d.Valid}
			for _, e := range d.Errors {
				doc.Errors = append(doc.Errors, Error{e.InstancePath, e.Keyword, e.Message})
			}
			res[i].Docs = append(res[i].Docs, doc)
		}
	}
	return res
}

// requireTools returns the path of node, or skips (fails under CI=true)
// when node or the npm packages are missing.
func requireTools(t testing.TB) string {
	t.Helper()
	missing := func(what string) {
		t.Helper()
		msg := what + "; to run this check: cd internal/schematest && npm ci"
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (CI=true: required)", msg)
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed")
	}
	for _, pkg := range []string{"ajv", "ajv-formats", "js-yaml"} {
		if _, err := os.Stat(filepath.Join(dir(), "node_modules", pkg, "package.json")); err != nil {
			missing("the npm package " + pkg + " is not installed")
		}
	}
	return node
}
