package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Result is everything Load found.
type Result struct {
	// Definitions holds the definitions without errors, in file order and,
	// within a file, in document order. A definition with any error (or
	// whose name an earlier file already uses) is left out, so callers may
	// use these only when Diagnostics.HasErrors() is false, or to list what
	// did load.
	Definitions []*Definition
	// Files lists the spec files read, in the order read.
	Files []string
	// Diagnostics holds every error and warning, sorted by file, line, col.
	Diagnostics Diagnostics
}

// configNames are skipped when looking for spec files: they hold arsync's
// configuration, not definitions.
var configNames = []string{"arsync.yaml", "arsync.yml"}

// Load reads every *.yaml and *.yml file under paths (files, or directories
// searched recursively; hidden files and directories such as .github are
// skipped inside directories), decodes every document strictly, validates
// it, and checks that metadata.name is unique across all files. Files named
// arsync.yaml or arsync.yml (the configuration) are always skipped. Files
// are parsed concurrently; the result does not depend on timing.
//
// The error is non-nil only when something could not be read at all (a
// missing path, a permission problem); problems in the files' contents are
// Diagnostics.
func Load(paths ...string) (*Result, error) {
	files, err := collectFiles(paths)
	if err != nil {
		return nil, err
	}
	parsed, err := parseFiles(files)
	if err != nil {
		return nil, err
	}
	res := &Result{Files: files}
	first := make(map[string]*Definition)
	for _, pf := range parsed {
		res.Diagnostics = append(res.Diagnostics, pf.diags...)
		for _, doc := range pf.docs {
			def := doc.def
			if def.Name == "" {
				continue
			}
			if prev, dup := first[def.Name]; dup {
				res.Diagnostics.add(def.NamePos, Error, "metadata.name %s is already used at %s; names must be unique across all files", quote(def.Name), prev.NamePos)
				continue
			}
			first[def.Name] = def
			if doc.ok {
				res.Definitions = append(res.Definitions, def)
			}
		}
	}
	res.Diagnostics = res.Diagnostics.sortAndDedup()
	return res, nil
}

// Parse decodes and validates the YAML documents in data as if read from
// file. It returns the definitions without errors and all diagnostics,
// sorted. Name uniqueness across files is Load's job.
func Parse(file string, data []byte) ([]*Definition, Diagnostics) {
	pf := parseFile(file, data)
	var defs []*Definition
	for _, doc := range pf.docs {
		if doc.ok {
			defs = append(defs, doc.def)
		}
	}
	return defs, pf.diags.sortAndDedup()
}

type parsedDoc struct {
	def *Definition
	ok  bool // no errors
}

type parsedFile struct {
	docs  []parsedDoc
	diags Diagnostics
}

func parseFile(file string, data []byte) (pf parsedFile) {
	d := newDecoder(file, len(data))
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := decodeNode(dec, &doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			d.nerr++
			d.diags = append(d.diags, syntaxDiagnostic(file, data, err))
			break
		}
		before := d.errors()
		def := d.decodeDocument(&doc)
		if def == nil {
			continue
		}
		pf.docs = append(pf.docs, parsedDoc{def: def, ok: d.errors() == before})
	}
	pf.diags = d.diags
	return pf
}

// decodeNode reads the next document. yaml.v3 signals errors by panicking
// and recovering internally; the guard here turns any panic that escapes it
// into an error, so that no input can crash arsync.
func decodeNode(dec *yaml.Decoder, doc *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return dec.Decode(doc)
}

var (
	yamlLineRE   = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	yamlAnchorRE = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)
)

// syntaxDiagnostic turns a yaml.v3 parse error into a diagnostic. yaml.v3
// reports the line of a syntax error but not its column, so the column is
// that of the line's first non-blank character.
func syntaxDiagnostic(file string, data []byte, err error) Diagnostic {
	msg := err.Error()
	line := 1
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil && n > 0 {
			line = n
		}
		msg = m[2]
	} else if m := yamlAnchorRE.FindStringSubmatch(msg); m != nil {
		// The composer reports an unknown alias without a position; find
		// its first use.
		msg = strings.TrimPrefix(msg, "yaml: ")
		if i := bytes.Index(data, []byte("*"+m[1])); i >= 0 {
			line = bytes.Count(data[:i], []byte("\n")) + 1
			start := bytes.LastIndexByte(data[:i], '\n') + 1
			return Diagnostic{Pos: Pos{File: file, Line: line, Col: utf8.RuneCount(data[start:i]) + 1}, Severity: Error, Message: "YAML syntax error: " + msg}
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	return Diagnostic{Pos: Pos{File: file, Line: line, Col: firstNonBlank(data, line)}, Severity: Error, Message: "YAML syntax error: " + msg}
}

// firstNonBlank returns the 1-based column of the first character of line
// that is not a space or tab, or 1.
func firstNonBlank(data []byte, line int) int {
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return 1
		}
		data = data[i+1:]
	}
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		data = data[:i]
	}
	for col, r := range []rune(string(data)) {
		if r != ' ' && r != '\t' && r != '\r' {
			return col + 1
		}
	}
	return 1
}

// collectFiles expands paths into spec files, each once, in a stable order:
// the paths in the order given, directories in lexical order.
func collectFiles(paths []string) ([]string, error) {
	var files []string
	seen := make(map[string]bool)
	add := func(p string) {
		if contains(configNames, filepath.Base(p)) {
			return
		}
		key := p
		if abs, err := filepath.Abs(p); err == nil {
			key = abs
		}
		if !seen[key] {
			seen[key] = true
			files = append(files, p)
		}
	}
	for _, root := range paths {
		info, err := os.Stat(root)
		if err != nil {
			return nil, fmt.Errorf("reading specs: %w", err)
		}
		if !info.IsDir() {
			add(root)
			continue
		}
		err = filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p != root && strings.HasPrefix(de.Name(), ".") {
				if de.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !de.IsDir() && isSpecFile(de.Name()) {
				add(p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("reading specs: %w", err)
		}
	}
	return files, nil
}

func isSpecFile(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}

// parseFiles reads and parses files with one worker per CPU. Each result
// lands at its file's index, so the output order never depends on timing.
func parseFiles(files []string) ([]parsedFile, error) {
	results := make([]parsedFile, len(files))
	errs := make([]error, len(files))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(files)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(files) {
					return
				}
				data, err := os.ReadFile(files[i])
				if err != nil {
					errs[i] = fmt.Errorf("reading specs: %w", err)
					continue
				}
				results[i] = parseFile(files[i], data)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return results, nil
}
