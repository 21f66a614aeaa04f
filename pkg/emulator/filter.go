package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// A small OData $filter language: comparisons (eq ne gt ge lt le), in (...),
// contains/startswith/endswith, any/all lambdas over collections, and, or,
// not and parentheses. It covers what Graph documents for the collections
// the emulator serves; each collection then checks which parts it allows.

type filterNode interface{ isFilter() }

type (
	fAnd struct{ l, r filterNode }
	fOr  struct{ l, r filterNode }
	fNot struct{ x filterNode }
	fCmp struct {
		path []string
		op   string
		lit  any
	}
	fIn struct {
		path []string
		lits []any
	}
	fFunc struct {
		name string
		path []string
		arg  string
	}
	fLambda struct {
		path []string
		kind string // any | all
		v    string
		body filterNode
	}
)

func (fAnd) isFilter()    {}
func (fOr) isFilter()     {}
func (fNot) isFilter()    {}
func (fCmp) isFilter()    {}
func (fIn) isFilter()     {}
func (fFunc) isFilter()   {}
func (fLambda) isFilter() {}

// dateLit is an unquoted date or datetime literal.
type dateLit string

type ftoken struct {
	kind string // ident, string, number, date, punct, eof
	text string
	pos  int
}

func lexFilter(s string) ([]ftoken, error) {
	var toks []ftoken
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case strings.IndexByte("()/,:", c) >= 0:
			toks = append(toks, ftoken{"punct", string(c), i})
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			closed := false
			for j < len(s) {
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					closed = true
					j++
					break
				}
				b.WriteByte(s[j])
				j++
			}
			if !closed {
				return nil, fmt.Errorf("unterminated string literal at position %d", i)
			}
			toks = append(toks, ftoken{"string", b.String(), i})
			i = j
		case c >= '0' && c <= '9' || c == '-' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			j := i + 1
			for j < len(s) && strings.IndexByte("0123456789.-:+TZtz", s[j]) >= 0 {
				j++
			}
			text := s[i:j]
			kind := "number"
			if strings.ContainsAny(text[1:], "-:") {
				kind = "date"
			}
			toks = append(toks, ftoken{kind, text, i})
			i = j
		case c == '_' || c == '@' || c == '$' || c < 0x80 && unicode.IsLetter(rune(c)):
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] == '.' || s[j] < 0x80 && (unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j])))) {
				j++
			}
			toks = append(toks, ftoken{"ident", s[i:j], i})
			i = j
		default:
			return nil, fmt.Errorf("unexpected character %q at position %d", c, i)
		}
	}
	return append(toks, ftoken{"eof", "", len(s)}), nil
}

type filterParser struct {
	toks  []ftoken
	i     int
	vars  map[string]bool
	depth int
}

// parseFilter parses a $filter expression.
func parseFilter(s string) (filterNode, error) {
	toks, err := lexFilter(s)
	if err != nil {
		return nil, err
	}
	p := &filterParser{toks: toks, vars: map[string]bool{}}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != "eof" {
		return nil, fmt.Errorf("unexpected %q at position %d", t.text, t.pos)
	}
	return n, nil
}

func (p *filterParser) peek() ftoken { return p.toks[p.i] }
func (p *filterParser) next() ftoken {
	t := p.toks[p.i]
	if t.kind != "eof" {
		p.i++
	}
	return t
}

func (p *filterParser) keyword(word string) bool {
	t := p.peek()
	if t.kind == "ident" && strings.EqualFold(t.text, word) {
		p.i++
		return true
	}
	return false
}

func (p *filterParser) punct(c string) bool {
	if t := p.peek(); t.kind == "punct" && t.text == c {
		p.i++
		return true
	}
	return false
}

func (p *filterParser) expect(c string) error {
	if !p.punct(c) {
		t := p.peek()
		if t.kind == "eof" {
			return fmt.Errorf("expected %q at the end of the expression", c)
		}
		return fmt.Errorf("expected %q at position %d, found %q", c, t.pos, t.text)
	}
	return nil
}

func (p *filterParser) or() (filterNode, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = fOr{l, r}
	}
	return l, nil
}

func (p *filterParser) and() (filterNode, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = fAnd{l, r}
	}
	return l, nil
}

func (p *filterParser) unary() (filterNode, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > 50 {
		return nil, errors.New("the expression is nested too deeply")
	}
	if p.keyword("not") {
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return fNot{x}, nil
	}
	if p.punct("(") {
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		return x, nil
	}
	t := p.peek()
	if t.kind != "ident" {
		if t.kind == "eof" {
			return nil, errors.New("the expression ends early")
		}
		return nil, fmt.Errorf("unexpected %q at position %d", t.text, t.pos)
	}
	switch strings.ToLower(t.text) {
	case "contains", "startswith", "endswith":
		if p.toks[p.i+1].kind == "punct" && p.toks[p.i+1].text == "(" {
			p.i += 2
			path, lambda, err := p.path()
			if err != nil {
				return nil, err
			}
			if lambda != nil {
				return nil, fmt.Errorf("%s() takes a property, not a lambda", t.text)
			}
			if err := p.expect(","); err != nil {
				return nil, err
			}
			arg := p.next()
			if arg.kind != "string" {
				return nil, fmt.Errorf("%s() needs a string literal as its second argument", t.text)
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			return fFunc{strings.ToLower(t.text), path, arg.text}, nil
		}
	}
	path, lambda, err := p.path()
	if err != nil {
		return nil, err
	}
	if lambda != nil {
		return lambda, nil
	}
	if p.keyword("in") {
		if err := p.expect("("); err != nil {
			return nil, err
		}
		var lits []any
		for {
			lit, err := p.literal()
			if err != nil {
				return nil, err
			}
			lits = append(lits, lit)
			if p.punct(")") {
				break
			}
			if err := p.expect(","); err != nil {
				return nil, err
			}
		}
		return fIn{path, lits}, nil
	}
	op := p.next()
	switch strings.ToLower(op.text) {
	case "eq", "ne", "gt", "ge", "lt", "le":
	default:
		if op.kind == "eof" {
			return nil, fmt.Errorf("expected an operator after %q", strings.Join(path, "/"))
		}
		return nil, fmt.Errorf("unsupported operator %q at position %d", op.text, op.pos)
	}
	lit, err := p.literal()
	if err != nil {
		return nil, err
	}
	return fCmp{path, strings.ToLower(op.text), lit}, nil
}

// path reads a/b/c, possibly ending in a lambda a/any(x:...).
func (p *filterParser) path() ([]string, filterNode, error) {
	t := p.next()
	if t.kind != "ident" {
		return nil, nil, fmt.Errorf("expected a property name at position %d", t.pos)
	}
	path := []string{t.text}
	for p.punct("/") {
		seg := p.next()
		if seg.kind != "ident" {
			return nil, nil, fmt.Errorf("expected a property name after '/' at position %d", seg.pos)
		}
		kind := strings.ToLower(seg.text)
		if (kind == "any" || kind == "all") && p.punct("(") {
			v := p.next()
			if v.kind != "ident" {
				return nil, nil, fmt.Errorf("expected a lambda variable at position %d", v.pos)
			}
			if err := p.expect(":"); err != nil {
				return nil, nil, err
			}
			p.vars[v.text] = true
			body, err := p.or()
			delete(p.vars, v.text)
			if err != nil {
				return nil, nil, err
			}
			if err := p.expect(")"); err != nil {
				return nil, nil, err
			}
			return path, fLambda{path, kind, v.text, body}, nil
		}
		path = append(path, seg.text)
	}
	return path, nil, nil
}

func (p *filterParser) literal() (any, error) {
	t := p.next()
	switch t.kind {
	case "string":
		return t.text, nil
	case "number":
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, fmt.Errorf("bad number %q", t.text)
		}
		return f, nil
	case "date":
		return dateLit(t.text), nil
	case "ident":
		switch strings.ToLower(t.text) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
	case "eof":
		return nil, errors.New("expected a value at the end of the expression")
	}
	return nil, fmt.Errorf("expected a value at position %d, found %q", t.pos, t.text)
}

// evalFilter reports whether item matches n. vars binds lambda variables.
func evalFilter(n filterNode, item *object, vars map[string]any) bool {
	switch t := n.(type) {
	case fAnd:
		return evalFilter(t.l, item, vars) && evalFilter(t.r, item, vars)
	case fOr:
		return evalFilter(t.l, item, vars) || evalFilter(t.r, item, vars)
	case fNot:
		return !evalFilter(t.x, item, vars)
	case fCmp:
		v := resolvePath(t.path, item, vars)
		c, ok := compare(v, t.lit)
		switch t.op {
		case "eq":
			return ok && c == 0
		case "ne":
			return !ok || c != 0
		case "gt":
			return ok && c > 0
		case "ge":
			return ok && c >= 0
		case "lt":
			return ok && c < 0
		case "le":
			return ok && c <= 0
		}
	case fIn:
		v := resolvePath(t.path, item, vars)
		for _, lit := range t.lits {
			if c, ok := compare(v, lit); ok && c == 0 {
				return true
			}
		}
	case fFunc:
		s, ok := resolvePath(t.path, item, vars).(string)
		if !ok {
			return false
		}
		s, arg := strings.ToLower(s), strings.ToLower(t.arg)
		switch t.name {
		case "contains":
			return strings.Contains(s, arg)
		case "startswith":
			return strings.HasPrefix(s, arg)
		case "endswith":
			return strings.HasSuffix(s, arg)
		}
	case fLambda:
		coll, _ := resolvePath(t.path, item, vars).([]any)
		inner := make(map[string]any, len(vars)+1)
		for k, v := range vars {
			inner[k] = v
		}
		for _, el := range coll {
			inner[t.v] = el
			m := evalFilter(t.body, item, inner)
			if t.kind == "any" && m {
				return true
			}
			if t.kind == "all" && !m {
				return false
			}
		}
		return t.kind == "all"
	}
	return false
}

// resolvePath walks path from item (or a lambda variable). A segment with a
// dot is a type cast: it passes only objects of that @odata.type.
func resolvePath(path []string, item *object, vars map[string]any) any {
	var cur any = item
	start := 0
	if v, ok := vars[path[0]]; ok {
		cur, start = v, 1
	}
	for _, seg := range path[start:] {
		o, ok := cur.(*object)
		if !ok {
			return nil
		}
		if strings.Contains(seg, ".") {
			if !strings.EqualFold(strings.TrimPrefix(o.str("@odata.type"), "#"), seg) {
				return nil
			}
			continue
		}
		cur = lookupFold(o, seg)
	}
	return cur
}

// lookupFold gets a property by name, ignoring letter case as Graph does.
func lookupFold(o *object, key string) any {
	if v, ok := o.get(key); ok {
		return v
	}
	for _, k := range o.keys {
		if strings.EqualFold(k, key) {
			return o.vals[k]
		}
	}
	return nil
}

// compare orders a property value against a literal; ok is false when they
// are not comparable. Strings compare without regard to case, as the
// directory does.
func compare(v, lit any) (int, bool) {
	switch l := lit.(type) {
	case nil:
		if v == nil {
			return 0, true
		}
		return 1, true
	case string:
		s, ok := v.(string)
		if !ok {
			return 0, false
		}
		return strings.Compare(strings.ToLower(s), strings.ToLower(l)), true
	case bool:
		b, ok := v.(bool)
		if !ok {
			return 0, false
		}
		switch {
		case b == l:
			return 0, true
		case !b:
			return -1, true
		default:
			return 1, true
		}
	case float64:
		var f float64
		switch n := v.(type) {
		case json.Number:
			x, err := n.Float64()
			if err != nil {
				return 0, false
			}
			f = x
		case int:
			f = float64(n)
		case float64:
			f = n
		default:
			return 0, false
		}
		switch {
		case f < l:
			return -1, true
		case f > l:
			return 1, true
		}
		return 0, true
	case dateLit:
		s, ok := v.(string)
		if !ok {
			return 0, false
		}
		a, errA := parseLooseTime(s)
		b, errB := parseLooseTime(string(l))
		if errA != nil || errB != nil {
			return 0, false
		}
		return a.Compare(b), true
	}
	return 0, false
}

func parseLooseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", s)
}

// filterLeaves calls fn for every comparison, function and lambda in n,
// with the lambda variables in scope, for collection-specific checks.
func filterLeaves(n filterNode, fn func(n filterNode, vars map[string]bool) error) error {
	return walkFilter(n, map[string]bool{}, fn)
}

func walkFilter(n filterNode, vars map[string]bool, fn func(filterNode, map[string]bool) error) error {
	switch t := n.(type) {
	case fAnd:
		if err := walkFilter(t.l, vars, fn); err != nil {
			return err
		}
		return walkFilter(t.r, vars, fn)
	case fOr:
		if err := walkFilter(t.l, vars, fn); err != nil {
			return err
		}
		return walkFilter(t.r, vars, fn)
	case fNot:
		return walkFilter(t.x, vars, fn)
	case fLambda:
		if err := fn(t, vars); err != nil {
			return err
		}
		inner := map[string]bool{t.v: true}
		for k := range vars {
			inner[k] = true
		}
		return walkFilter(t.body, inner, fn)
	default:
		return fn(n, vars)
	}
}

// leafPath returns the property path a leaf tests.
func leafPath(n filterNode) []string {
	switch t := n.(type) {
	case fCmp:
		return t.path
	case fIn:
		return t.path
	case fFunc:
		return t.path
	case fLambda:
		return t.path
	}
	return nil
}
