package coverage

import (
	"fmt"
	"strings"
	"unicode"
)

// An object's properties as a $filter sees them: strings, booleans and
// string collections, by lower-case name.
type props map[string]any

// groupProps are the properties of g that an instanceEnumerationScope
// filter may test.
func groupProps(g Group) props {
	return props{
		"id":                          g.ID,
		"displayname":                 g.DisplayName,
		"mailnickname":                g.MailNickname,
		"grouptypes":                  g.GroupTypes,
		"resourceprovisioningoptions": g.ResourceProvisioningOptions,
		"securityenabled":             g.SecurityEnabled,
		"mailenabled":                 g.MailEnabled,
	}
}

// guestProps is a guest user, for the member filters of a scope: a guest
// is reviewed when the filter lets such a user through.
var guestProps = props{"usertype": "Guest"}

// filterExpr is a parsed $filter: evaluate it against an object's
// properties; it fails on a property the object does not have.
type filterExpr func(props) (bool, error)

// parseFilter parses the part of OData's $filter grammar that scopes use:
// and, or, not, parentheses, eq and ne against a string or boolean literal,
// in (...), startswith/endswith/contains, and any() over a collection with
// eq. Anything else is an error: coverage then says it cannot tell rather
// than guess.
func parseFilter(s string) (filterExpr, error) {
	s = strings.TrimSpace(s)
	// The documented "all Teams" filter has a stray quote before its last
	// ")", which the service accepts (docs/graph-behaviour.md#scopes-and-queries).
	if strings.Count(s, "'")%2 == 1 && strings.HasSuffix(s, "')") {
		s = s[:len(s)-2] + ")"
	}
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &fparser{toks: toks}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos].text)
	}
	return e, nil
}

type token struct {
	text string
	lit  bool // a quoted string literal (text is its value)
}

func lex(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '+':
			i++
		case c == '(' || c == ')' || c == ',' || c == ':' || c == '/':
			out = append(out, token{text: string(c)})
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for ; ; j++ {
				if j >= len(s) {
					return nil, fmt.Errorf("unterminated string in %q", s)
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j++
						continue
					}
					break
				}
				b.WriteByte(s[j])
			}
			out = append(out, token{text: b.String(), lit: true})
			i = j + 1
		default:
			j := i
			for j < len(s) && (unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j])) || s[j] == '_' || s[j] == '.' || s[j] == '-') {
				j++
			}
			if j == i {
				return nil, fmt.Errorf("unexpected %q in %q", string(c), s)
			}
			out = append(out, token{text: s[i:j]})
			i = j
		}
	}
	return out, nil
}

type fparser struct {
	toks []token
	pos  int
}

func (p *fparser) peek() (token, bool) {
	if p.pos < len(p.toks) {
		return p.toks[p.pos], true
	}
	return token{}, false
}

// word reports whether the next token is the bare word w (any case).
func (p *fparser) word(w string) bool {
	t, ok := p.peek()
	return ok && !t.lit && strings.EqualFold(t.text, w)
}

func (p *fparser) expect(w string) error {
	if !p.word(w) {
		if t, ok := p.peek(); ok {
			return fmt.Errorf("expected %q, found %q", w, t.text)
		}
		return fmt.Errorf("expected %q at the end", w)
	}
	p.pos++
	return nil
}

func (p *fparser) or() (filterExpr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.word("or") {
		p.pos++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = combine(l, r, false)
	}
	return l, nil
}

func (p *fparser) and() (filterExpr, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.word("and") {
		p.pos++
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = combine(l, r, true)
	}
	return l, nil
}

// combine is l and r (and) or l or r; both sides are evaluated so that a
// property the object lacks is an error wherever it appears.
func combine(l, r filterExpr, and bool) filterExpr {
	return func(o props) (bool, error) {
		a, err := l(o)
		if err != nil {
			return false, err
		}
		b, err := r(o)
		if err != nil {
			return false, err
		}
		if and {
			return a && b, nil
		}
		return a || b, nil
	}
}

func (p *fparser) unary() (filterExpr, error) {
	if p.word("not") {
		p.pos++
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		return func(o props) (bool, error) {
			v, err := e(o)
			return !v, err
		}, nil
	}
	if p.word("(") {
		p.pos++
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		return e, p.expect(")")
	}
	t, ok := p.peek()
	if !ok {
		return nil, fmt.Errorf("the filter ends too early")
	}
	if t.lit {
		return nil, fmt.Errorf("unexpected string '%s'", t.text)
	}
	p.pos++
	switch strings.ToLower(t.text) {
	case "startswith", "endswith", "contains":
		return p.stringFunc(strings.ToLower(t.text))
	}
	prop := strings.ToLower(t.text)
	if p.word("/") {
		p.pos++
		return p.any(prop)
	}
	return p.comparison(prop)
}

func (p *fparser) stringFunc(fn string) (filterExpr, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	t, ok := p.peek()
	if !ok || t.lit {
		return nil, fmt.Errorf("%s needs a property first", fn)
	}
	p.pos++
	prop := strings.ToLower(t.text)
	if err := p.expect(","); err != nil {
		return nil, err
	}
	lit, err := p.literal()
	if err != nil {
		return nil, err
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	s, ok := lit.(string)
	if !ok {
		return nil, fmt.Errorf("%s needs a string", fn)
	}
	return func(o props) (bool, error) {
		v, err := o.str(prop)
		if err != nil {
			return false, err
		}
		v, s := strings.ToLower(v), strings.ToLower(s)
		switch fn {
		case "startswith":
			return strings.HasPrefix(v, s), nil
		case "endswith":
			return strings.HasSuffix(v, s), nil
		}
		return strings.Contains(v, s), nil
	}, nil
}

// any parses "any(x:x eq 'v')" after "prop/".
func (p *fparser) any(prop string) (filterExpr, error) {
	if err := p.expect("any"); err != nil {
		return nil, err
	}
	if err := p.expect("("); err != nil {
		return nil, err
	}
	v, ok := p.peek()
	if !ok || v.lit {
		return nil, fmt.Errorf("any() needs a variable")
	}
	p.pos++
	if err := p.expect(":"); err != nil {
		return nil, err
	}
	if err := p.expect(v.text); err != nil {
		return nil, err
	}
	if err := p.expect("eq"); err != nil {
		return nil, err
	}
	lit, err := p.literal()
	if err != nil {
		return nil, err
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	want, ok := lit.(string)
	if !ok {
		return nil, fmt.Errorf("any() compares with a string here")
	}
	return func(o props) (bool, error) {
		raw, has := o[prop]
		list, isList := raw.([]string)
		if !has || !isList {
			return false, fmt.Errorf("the filter tests %s, which coverage does not read", prop)
		}
		for _, s := range list {
			if strings.EqualFold(s, want) {
				return true, nil
			}
		}
		return false, nil
	}, nil
}

func (p *fparser) comparison(prop string) (filterExpr, error) {
	op, ok := p.peek()
	if !ok || op.lit {
		return nil, fmt.Errorf("expected an operator after %s", prop)
	}
	p.pos++
	switch strings.ToLower(op.text) {
	case "eq", "ne":
		lit, err := p.literal()
		if err != nil {
			return nil, err
		}
		ne := strings.EqualFold(op.text, "ne")
		return func(o props) (bool, error) {
			eq, err := o.equal(prop, lit)
			return eq != ne, err
		}, nil
	case "in":
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
			if p.word(",") {
				p.pos++
				continue
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			break
		}
		return func(o props) (bool, error) {
			for _, l := range lits {
				eq, err := o.equal(prop, l)
				if err != nil || eq {
					return eq, err
				}
			}
			return false, nil
		}, nil
	}
	return nil, fmt.Errorf("the operator %q is not one coverage evaluates", op.text)
}

// literal reads a string, true, false or null.
func (p *fparser) literal() (any, error) {
	t, ok := p.peek()
	if !ok {
		return nil, fmt.Errorf("expected a value at the end")
	}
	p.pos++
	if t.lit {
		return t.text, nil
	}
	switch strings.ToLower(t.text) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "null":
		return nil, nil
	}
	return nil, fmt.Errorf("the value %q is not one coverage evaluates", t.text)
}

func (o props) str(prop string) (string, error) {
	v, ok := o[prop].(string)
	if !ok {
		return "", fmt.Errorf("the filter tests %s, which coverage does not read", prop)
	}
	return v, nil
}

// equal compares a property with a literal; strings case-insensitively, as
// the directory does.
func (o props) equal(prop string, lit any) (bool, error) {
	v, ok := o[prop]
	if !ok {
		return false, fmt.Errorf("the filter tests %s, which coverage does not read", prop)
	}
	switch v := v.(type) {
	case string:
		if lit == nil {
			return v == "", nil
		}
		s, ok := lit.(string)
		return ok && strings.EqualFold(v, s), nil
	case bool:
		b, ok := lit.(bool)
		return ok && v == b, nil
	}
	return false, fmt.Errorf("%s is a collection: compare it with any()", prop)
}
