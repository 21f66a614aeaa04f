package spec

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// YAML syntax errors at the right place.
//
// yaml.v3's errors carry only a line, and often not the line of the
// mistake: for a parser error it is the zero-based line where the enclosing
// mapping or sequence starts (a mis-indented key on line 9 is "line 5"),
// and for a tab after a plain value it is the value's line. The scanner
// knows the true position but does not expose it. So the position is found
// again from the source text: the first line whose inclusion makes yaml.v3
// fail with the same message is the offending line (every earlier prefix of
// the file parses), and on that line the mistake is found by the kind of
// error: a tab in the indentation, a ": " inside an unquoted value, a key
// out of line with its neighbours. A tab or a colon is confirmed by parsing
// the line repaired; when nothing explains the error, it keeps yaml.v3's
// message at the line's first character.

var (
	yamlLineRE   = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	yamlAnchorRE = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)
)

// yaml.v3's messages that this file refines.
const (
	msgNoTokenStart    = "found character that cannot start any token"
	msgMappingValues   = "mapping values are not allowed in this context"
	msgExpectedKey     = "did not find expected key"
	msgExpectedDash    = "did not find expected '-' indicator"
	msgSequenceEntries = "block sequence entries are not allowed in this context"
	msgEndOfStream     = "found unexpected end of stream"
)

// syntaxDiagnostic turns a yaml.v3 parse error into a diagnostic at the
// offending line and column.
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
	diag := func(line, col int, m string) Diagnostic {
		return Diagnostic{Pos: Pos{File: file, Line: line, Col: col}, Severity: Error, Message: "YAML syntax error: " + m}
	}
	if isUTF16(data) {
		// The text below is searched as UTF-8.
		return diag(line, 1, msg)
	}
	src := newSourceLines(data)
	line = min(line, len(src.lines))
	k := src.firstFailing(line, msg)
	if k == 0 {
		return diag(line, src.firstNonBlank(line), msg)
	}
	if col, m, ok := src.explain(k, msg); ok {
		return diag(k, col, m)
	}
	return diag(k, src.firstNonBlank(k), msg)
}

func isUTF16(data []byte) bool {
	return bytes.HasPrefix(data, []byte{0xFE, 0xFF}) || bytes.HasPrefix(data, []byte{0xFF, 0xFE})
}

// sourceLines is a file split into lines, for finding a syntax error.
type sourceLines struct {
	data  []byte
	lines []string // without their line breaks (a CR stays)
	ends  []int    // offset just after each line's line break
	bom   bool     // a UTF-8 byte order mark precedes line 1
}

func newSourceLines(data []byte) *sourceLines {
	s := &sourceLines{data: data}
	rest := data
	if bytes.HasPrefix(rest, []byte("\uFEFF")) {
		s.bom = true
	}
	off := 0
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			s.lines = append(s.lines, string(rest))
			s.ends = append(s.ends, len(data))
			break
		}
		s.lines = append(s.lines, string(rest[:i]))
		off += i + 1
		s.ends = append(s.ends, off)
		rest = rest[i+1:]
	}
	if s.bom {
		s.lines[0] = strings.TrimPrefix(s.lines[0], "\uFEFF")
	}
	return s
}

// col turns a byte offset in line n (1-based) into a 1-based column in
// characters.
func (s *sourceLines) col(n, off int) int {
	return utf8.RuneCountInString(s.lines[n-1][:off]) + 1
}

func (s *sourceLines) firstNonBlank(n int) int {
	l := s.lines[n-1]
	i := len(l) - len(strings.TrimLeft(l, " \t\r"))
	if i == len(l) {
		return 1
	}
	return s.col(n, i)
}

// fails reports whether text fails to parse with the error msg (yaml.v3's
// message without its line).
func fails(text []byte, msg string) bool {
	return failsReading(bytes.NewReader(text), msg)
}

func failsReading(r io.Reader, msg string) bool {
	err := parseYAMLStream(r)
	if err == nil {
		return false
	}
	m := err.Error()
	if sm := yamlLineRE.FindStringSubmatch(m); sm != nil {
		m = sm[2]
	} else {
		m = strings.TrimPrefix(m, "yaml: ")
	}
	return m == msg
}

// parseYAMLStream parses every document read from r, returning the first error.
func parseYAMLStream(r io.Reader) error {
	dec := yaml.NewDecoder(r)
	for {
		var doc yaml.Node
		err := decodeNode(dec, &doc)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// prefix returns the text up to the end of line n.
func (s *sourceLines) prefix(n int) []byte { return s.data[:s.ends[n-1]] }

// withLine returns the text up to the end of line n, with line n replaced.
func (s *sourceLines) withLine(n int, line string) []byte {
	start := 0
	if n > 1 {
		start = s.ends[n-2]
	}
	var b bytes.Buffer
	b.Write(s.data[:start])
	if n == 1 && s.bom {
		b.WriteString("\uFEFF")
	}
	b.WriteString(line)
	b.WriteByte('\n')
	return b.Bytes()
}

// firstFailing returns the first line n (from line from on) such that the
// text up to the end of line n fails with msg, or 0. yaml.v3's line is
// never after the mistake, and the mistake is in what yaml.v3 had read
// when it failed; the line is bisected between the two. The search gives
// up (0) rather than parse more than 16 times the file's size.
func (s *sourceLines) firstFailing(from int, msg string) int {
	n := len(s.lines)
	from = max(1, min(from, n))
	cr := &countingReader{r: bytes.NewReader(s.data)}
	if !failsReading(cr, msg) {
		return 0
	}
	hi := min(n, max(from, s.lineAt(cr.n)))
	budget := 16*len(s.data) + 1<<20
	failsAt := func(k int) bool {
		budget -= s.ends[k-1]
		return fails(s.prefix(k), msg)
	}
	if !failsAt(hi) {
		hi = n // read ahead less than the mistake needs: search all
	}
	// The mistake is usually a little before the end of what was read:
	// step back in growing steps to a prefix that parses, then bisect.
	lo := from - 1 // lines up to lo parse (or lo is before the search)
	for step := 1; hi-step > lo; step *= 2 {
		if budget < 0 {
			return 0
		}
		if !failsAt(hi - step) {
			lo = hi - step
			break
		}
		hi -= step
	}
	for hi-lo > 1 {
		if budget < 0 {
			return 0
		}
		mid := (lo + hi) / 2
		if failsAt(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// lineAt returns the 1-based line holding byte offset off (the last line
// for the end of the text).
func (s *sourceLines) lineAt(off int) int {
	for i, end := range s.ends {
		if off < end {
			return i + 1
		}
	}
	return len(s.lines)
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// explain finds the mistake on line n for yaml.v3's message msg: its
// column and a message that says what to do.
func (s *sourceLines) explain(n int, msg string) (int, string, bool) {
	switch {
	case strings.Contains(msg, "tab character") || msg == msgNoTokenStart:
		if col, ok := s.tab(n, msg); ok {
			return col, "a tab character; YAML indents with spaces only", true
		}
		if msg == msgNoTokenStart {
			return s.reserved(n)
		}
	case msg == msgMappingValues:
		return s.colon(n, msg)
	case msg == msgExpectedKey:
		return s.outOfLine(n)
	case msg == msgEndOfStream:
		if i := openQuote(s.lines[n-1]); i >= 0 {
			return s.col(n, i), msg + ": this quote is never closed", true
		}
	case msg == msgExpectedDash || msg == msgSequenceEntries:
		return s.firstNonBlank(n), msg + "; check the indentation", true
	}
	return 0, "", false
}

// leadingRE is the indentation of a line, with the "- " of list items.
var leadingRE = regexp.MustCompile(`^(?:[ \t]|-(?:[ \t]|$))*`)

// tab finds a tab in line n's indentation that causes msg: with a space
// in its place, the text up to line n no longer fails with msg (the text
// before line n parses, as firstFailing found).
func (s *sourceLines) tab(n int, msg string) (int, bool) {
	l := s.lines[n-1]
	i := strings.IndexByte(leadingRE.FindString(l), '\t')
	if i < 0 {
		return 0, false
	}
	fixed := l[:i] + " " + l[i+1:]
	if fails(s.withLine(n, fixed), msg) {
		return 0, false
	}
	return s.col(n, i), true
}

// reserved finds a value starting with @ or `, which YAML reserves.
func (s *sourceLines) reserved(n int) (int, string, bool) {
	l := s.lines[n-1]
	for i := 0; i < len(l); i++ {
		if (l[i] == '@' || l[i] == '`') && (i == 0 || strings.IndexByte(" \t[{,", l[i-1]) >= 0) {
			return s.col(n, i), "a value cannot start with " + strconv.Quote(l[i:i+1]) + "; put the value in quotes", true
		}
	}
	return 0, "", false
}

// valueColons returns the byte offsets of the ": " (or ":" at the end of
// the line) of line l that YAML reads as mapping values, outside quoted
// strings and comments, from the first token on (after indentation and
// list dashes). It stops at a flow collection or a quote left open.
func valueColons(l string) []int {
	l = strings.TrimSuffix(l, "\r")
	i := len(leadingRE.FindString(l))
	var out []int
	tokenStart := true
	for i < len(l) {
		c := l[i]
		switch {
		case tokenStart && (c == '"' || c == '\''):
			j := closingQuote(l, i)
			if j < 0 {
				return out
			}
			i = j + 1
			tokenStart = false
			continue
		case tokenStart && (c == '{' || c == '['):
			return out
		case c == '#' && (i == 0 || l[i-1] == ' ' || l[i-1] == '\t'):
			return out
		case c == ':' && (i+1 == len(l) || l[i+1] == ' ' || l[i+1] == '\t'):
			out = append(out, i)
			i++
			for i < len(l) && (l[i] == ' ' || l[i] == '\t') {
				i++
			}
			tokenStart = true
			continue
		}
		if c != ' ' && c != '\t' {
			tokenStart = false
		}
		i++
	}
	return out
}

// openQuote returns the offset of a quote opening a string that line l
// does not close, or -1.
func openQuote(l string) int {
	starts := []int{len(leadingRE.FindString(l))}
	for _, c := range valueColons(l) {
		j := c + 1
		for j < len(l) && (l[j] == ' ' || l[j] == '\t') {
			j++
		}
		starts = append(starts, j)
	}
	for _, i := range starts {
		if i < len(l) && (l[i] == '"' || l[i] == '\'') && closingQuote(l, i) < 0 {
			return i
		}
	}
	return -1
}

// closingQuote returns the offset of the quote closing the string opened
// at l[i], or -1.
func closingQuote(l string, i int) int {
	q := l[i]
	for j := i + 1; j < len(l); j++ {
		switch {
		case q == '"' && l[j] == '\\':
			j++
		case l[j] == q && q == '\'' && j+1 < len(l) && l[j+1] == '\'':
			j++
		case l[j] == q:
			return j
		}
	}
	return -1
}

// keyOf returns the key that line l starts with ("" when none) and its
// byte offset.
func keyOf(l string) (string, int) {
	cs := valueColons(l)
	start := len(leadingRE.FindString(l))
	if len(cs) == 0 || cs[0] <= start {
		return "", start
	}
	return strings.Trim(strings.TrimSpace(l[start:cs[0]]), `"'`), start
}

// colon explains "mapping values are not allowed": a ": " inside an
// unquoted value (the line reads with the value in quotes), or a key
// indented under the unquoted value of the line before it.
func (s *sourceLines) colon(n int, msg string) (int, string, bool) {
	l := s.lines[n-1]
	cs := valueColons(l)
	if len(cs) >= 2 {
		v := strings.TrimSuffix(l[cs[0]+1:], "\r")
		pad := len(v) - len(strings.TrimLeft(v, " \t"))
		quoted := l[:cs[0]+1+pad] + "'" + strings.ReplaceAll(strings.TrimSpace(v), "'", "''") + "'"
		if !fails(s.withLine(n, quoted), msg) {
			key, _ := keyOf(l)
			head := strings.TrimSpace(l[cs[0]+1 : cs[1]+1])
			example := key + `: "` + head + ` …"`
			if strings.ContainsAny(head, `"\`) {
				example = key + `: '` + strings.ReplaceAll(head, "'", "''") + ` …'`
			}
			return s.col(n, cs[1]), `": " inside an unquoted value; put the whole value in quotes, e.g. ` + example, true
		}
	}
	if len(cs) == 0 || n == 1 {
		return 0, "", false
	}
	key, start := keyOf(l)
	p := s.previousContent(n)
	if p == 0 || key == "" {
		return 0, "", false
	}
	pkey, pstart := keyOf(s.lines[p-1])
	if pkey == "" || s.col(n, start) <= s.col(p, pstart) {
		return s.col(n, start), key + " is inside the unquoted value on line " + strconv.Itoa(p) + ", which cannot hold \": \"; check the indentation", true
	}
	return s.col(n, start), key + " is indented more than " + pkey + " on line " + strconv.Itoa(p) + ", so YAML reads it as part of " + pkey + "'s value; check the indentation", true
}

// outOfLine explains "did not find expected key": line n is indented to a
// column where no mapping takes keys. It names the key above it at a
// smaller indentation, whose column the line probably means.
func (s *sourceLines) outOfLine(n int) (int, string, bool) {
	l := s.lines[n-1]
	key, start := keyOf(l)
	what := "this line"
	if key != "" {
		what = key
	}
	indent := indentOf(l)
	item := strings.HasPrefix(l[indent:], "-")
	if item {
		// A list item: compare it with the items before it.
		what, start = "this list item", indent
	}
	for p := s.previousContent(n); p > 0; p = s.previousContent(p) {
		pl := s.lines[p-1]
		if item && strings.HasPrefix(pl[indentOf(pl):], "-") && indentOf(pl) != indent {
			return s.col(n, start), what + " (column " + strconv.Itoa(s.col(n, start)) + ") is not in line with the item on line " +
				strconv.Itoa(p) + " (column " + strconv.Itoa(s.col(p, indentOf(pl))) + "); check the indentation", true
		}
		if indentOf(pl) >= indent {
			continue
		}
		pkey, pstart := keyOf(pl)
		if pkey == "" {
			break
		}
		return s.col(n, start), what + " (column " + strconv.Itoa(s.col(n, start)) + ") is not in line with " + pkey +
			" (line " + strconv.Itoa(p) + ", column " + strconv.Itoa(s.col(p, pstart)) + "); check the indentation", true
	}
	return s.col(n, start), msgExpectedKey + "; check the indentation", true
}

func indentOf(l string) int { return len(l) - len(strings.TrimLeft(l, " ")) }

// previousContent returns the line before n that is neither blank nor a
// comment, or 0.
func (s *sourceLines) previousContent(n int) int {
	for p := n - 1; p >= 1; p-- {
		t := strings.TrimSpace(s.lines[p-1])
		if t != "" && !strings.HasPrefix(t, "#") && t != "---" {
			return p
		}
	}
	return 0
}
