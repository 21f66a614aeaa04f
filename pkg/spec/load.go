package spec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
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
	// Files lists the spec files found, in the order read, including those
	// refused unread with an error (a link leading outside the directory
	// searched, a file too large) but not those skipped with a warning
	// (not a regular file).
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
// Only regular files are read, each at most 16 MiB. Inside a directory, a
// symbolic link is followed only to a file inside that directory; a link
// leading elsewhere (or nowhere) and a file too large are errors that name
// the file, which is not read. Named pipes, devices and sockets are
// skipped with a warning, never opened. A path given is followed wherever
// a link leads: a link to a directory is searched as that directory.
//
// The error is non-nil only when something could not be read at all (a
// missing path, a permission problem); problems in the files' contents are
// Diagnostics.
func Load(paths ...string) (*Result, error) {
	return LoadContext(context.Background(), paths...)
}

// LoadContext is Load, stopping with ctx's error when ctx is cancelled
// while the files are found or read (the parse of one file is not
// interrupted).
func LoadContext(ctx context.Context, paths ...string) (*Result, error) {
	files, diags, err := collectFiles(ctx, paths)
	if err != nil {
		return nil, err
	}
	parsed, err := parseFiles(ctx, files)
	if err != nil {
		return nil, err
	}
	res := &Result{Diagnostics: diags}
	for _, f := range files {
		res.Files = append(res.Files, f.name)
	}
	first := make(map[string]*Definition)
	var kept []*Definition // in file order, for checkPreviousNames
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
			kept = append(kept, def)
			if doc.ok {
				res.Definitions = append(res.Definitions, def)
			}
		}
	}
	res.Diagnostics = append(res.Diagnostics, checkPreviousNames(kept, first)...)
	res.Diagnostics = res.Diagnostics.sortAndDedup()
	return res, nil
}

// checkPreviousNames reports, at the line of the entry, a previous name
// that is another definition's metadata.name or another definition's
// previous name: either would make the rename ambiguous.
func checkPreviousNames(defs []*Definition, byName map[string]*Definition) Diagnostics {
	var diags Diagnostics
	previousOf := map[string]*Definition{}
	previousAt := map[string]Pos{}
	for _, def := range defs {
		for i, old := range def.PreviousNames {
			at := def.previousNamePos[i]
			if other := byName[old]; other != nil {
				diags.add(at, Error, "metadata.previousNames: %s is the metadata.name of the definition at %s; a previous name must not be in use", quote(old), other.NamePos)
				continue
			}
			if prev := previousOf[old]; prev != nil && prev != def {
				diags.add(at, Error, "metadata.previousNames: %s is also a previous name of %s (at %s); one name cannot be renamed to two definitions", quote(old), prev.Name, previousAt[old])
				continue
			}
			previousOf[old], previousAt[old] = def, at
		}
	}
	return diags
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
	if diag, ok := checkText(file, data); !ok {
		pf.diags = Diagnostics{diag}
		return pf
	}
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

// checkText finds the first bytes YAML cannot read: invalid UTF-8, or a
// character YAML does not allow (control characters other than tab and
// line breaks, C1 controls but NEL, U+FFFE and U+FFFF). yaml.v3 reports
// these without a position, so they are found here, before parsing, and
// reported at their line and column. A file that starts with a UTF-16
// byte order mark is left to yaml.v3, which reads UTF-16 (as Windows
// PowerShell writes it).
func checkText(file string, data []byte) (Diagnostic, bool) {
	if bytes.HasPrefix(data, []byte{0xFE, 0xFF}) || bytes.HasPrefix(data, []byte{0xFF, 0xFE}) {
		return Diagnostic{}, true
	}
	line, start := 1, 0
	if bytes.HasPrefix(data, []byte("\uFEFF")) {
		start = 3 // yaml.v3 does not count a UTF-8 byte order mark as a column
	}
	for i := start; i < len(data); {
		r, size := rune(data[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRune(data[i:])
		}
		var msg string
		switch {
		case r == '\n':
			line, start = line+1, i+1
		case r == utf8.RuneError && size == 1:
			msg = fmt.Sprintf("invalid UTF-8 (byte 0x%02X); save the file as UTF-8", data[i])
		case !yamlChar(r):
			msg = fmt.Sprintf("character %U is not allowed in YAML; remove it", r)
		}
		if msg != "" {
			col := utf8.RuneCount(data[start:i]) + 1
			return Diagnostic{Pos: Pos{File: file, Line: line, Col: col}, Severity: Error, Message: msg}, false
		}
		i += size
	}
	return Diagnostic{}, true
}

// yamlChar reports whether YAML allows r in a stream (YAML 1.2's
// c-printable, which yaml.v3 enforces).
func yamlChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		(r >= 0x20 && r <= 0x7E) || r == 0x85 ||
		(r >= 0xA0 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) ||
		(r >= 0x10000 && r <= 0x10FFFF)
}

// parseFiles reads and parses files with one worker per CPU. Each result
// lands at its file's index, so the output order never depends on timing.
// Cancelling ctx stops it between files.
func parseFiles(ctx context.Context, files []specFile) ([]parsedFile, error) {
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
				if err := ctx.Err(); err != nil {
					errs[i] = err
					return
				}
				if files[i].open == "" {
					continue // refused unread; collectFiles said why
				}
				data, diag, err := readSpec(files[i])
				switch {
				case err != nil:
					errs[i] = fmt.Errorf("reading specs: %w", err)
				case diag != nil:
					results[i].diags = Diagnostics{*diag}
				default:
					results[i] = parseFile(files[i].name, data)
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return results, nil
}
