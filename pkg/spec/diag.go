package spec

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Pos is a position in a spec file. Line and Col are 1-based.
type Pos struct {
	File      string
	Line, Col int
}

// String returns "file:line:col".
func (p Pos) String() string {
	return p.File + ":" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
}

// Severity says whether a diagnostic fails validation.
type Severity int

// Severities. Only errors make validation fail.
const (
	Error Severity = iota
	Warning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Diagnostic is one problem found in a spec or config file.
type Diagnostic struct {
	Pos      Pos
	Severity Severity
	Message  string
}

// String returns "file:line:col: message", with "warning: " before the
// message of a warning.
func (d Diagnostic) String() string {
	if d.Severity == Warning {
		return d.Pos.String() + ": warning: " + d.Message
	}
	return d.Pos.String() + ": " + d.Message
}

// Diagnostics is every problem found in one run, sorted by file, line and
// column. It implements error so that a caller can return it as is.
type Diagnostics []Diagnostic

// Error returns one diagnostic per line.
func (ds Diagnostics) Error() string {
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(d.String())
	}
	return b.String()
}

// HasErrors reports whether any diagnostic is an error (not a warning).
func (ds Diagnostics) HasErrors() bool { return ds.Count(Error) > 0 }

// Count returns the number of diagnostics of severity s.
func (ds Diagnostics) Count(s Severity) int {
	n := 0
	for _, d := range ds {
		if d.Severity == s {
			n++
		}
	}
	return n
}

// sortAndDedup orders ds by file, line and column (keeping the order of
// diagnostics at the same position) and drops exact repeats, which a YAML
// alias used twice would otherwise produce.
func (ds Diagnostics) sortAndDedup() Diagnostics {
	slices.SortStableFunc(ds, func(a, b Diagnostic) int {
		return cmp.Or(
			cmp.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
		)
	})
	out := ds[:0]
	seen := make(map[Diagnostic]bool, len(ds))
	for _, d := range ds {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

func (ds *Diagnostics) add(p Pos, s Severity, format string, args ...any) {
	*ds = append(*ds, Diagnostic{Pos: p, Severity: s, Message: fmt.Sprintf(format, args...)})
}
