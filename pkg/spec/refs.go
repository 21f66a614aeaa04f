package spec

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// RefKind is the kind of directory object a reference names.
type RefKind string

// Reference kinds, as written in ${kind:name} and implied by reviewer sugar.
const (
	RefUser             RefKind = "user"
	RefGroup            RefKind = "group"
	RefServicePrincipal RefKind = "servicePrincipal"
	RefRole             RefKind = "role" // a directory role definition, by display name or template id
)

var refKinds = []string{string(RefUser), string(RefGroup), string(RefServicePrincipal), string(RefRole)}

// Reference is a directory object named in a spec instead of by id.
type Reference struct {
	Kind RefKind
	Name string // as written: a UPN, mail, display name or id
	Pos  Pos
}

// queryRef is one ${kind:name} inside a query string. start and end are
// byte offsets of "${" and just past "}".
type queryRef struct {
	kind       RefKind
	name       string
	start, end int
}

// parseQueryRefs finds every ${kind:name} in q. A "$" not followed by "{"
// is literal text (OData's $filter, $count and so on).
func parseQueryRefs(q string) ([]queryRef, error) {
	var refs []queryRef
	for i := 0; i < len(q); {
		j := strings.Index(q[i:], "${")
		if j < 0 {
			break
		}
		start := i + j
		k := strings.IndexByte(q[start:], '}')
		if k < 0 {
			return refs, &refSyntaxError{offset: start, msg: `"${" has no closing "}"; write ${user:NAME}, ${group:NAME}, ${servicePrincipal:NAME} or ${role:NAME}`}
		}
		end := start + k + 1
		body := q[start+2 : end-1]
		kind, name, ok := strings.Cut(body, ":")
		if !ok {
			return refs, &refSyntaxError{offset: start, msg: fmt.Sprintf("reference %q needs a kind and a name, like ${group:Marketing}", q[start:end])}
		}
		if !isRefKind(kind) {
			return refs, &refSyntaxError{offset: start, msg: fmt.Sprintf("unknown reference kind %q in %q%s (kinds: user, group, servicePrincipal, role)", kind, q[start:end], didYouMean(kind, refKinds))}
		}
		name = strings.TrimSpace(name)
		if name == "" {
			return refs, &refSyntaxError{offset: start, msg: fmt.Sprintf("reference %q has an empty name", q[start:end])}
		}
		if strings.Contains(name, "${") {
			return refs, &refSyntaxError{offset: start, msg: fmt.Sprintf("reference %q is not closed before the next \"${\"", q[start:end])}
		}
		refs = append(refs, queryRef{kind: RefKind(kind), name: name, start: start, end: end})
		i = end
	}
	return refs, nil
}

// refsAsIDs writes "id" for each ${kind:name} in q, as the query will read
// once resolved; a malformed reference (reported on its own) is left as is.
func refsAsIDs(q string) string {
	refs, _ := parseQueryRefs(q)
	var b strings.Builder
	last := 0
	for _, r := range refs {
		b.WriteString(q[last:r.start])
		b.WriteString("id")
		last = r.end
	}
	b.WriteString(q[last:])
	return b.String()
}

func isRefKind(s string) bool {
	for _, k := range refKinds {
		if s == k {
			return true
		}
	}
	return false
}

type refSyntaxError struct {
	offset int
	msg    string
}

func (e *refSyntaxError) Error() string { return e.msg }

// isGUID reports whether s is a GUID in its 8-4-4-4-12 hex form.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// IsGUID reports whether s is already an object id (a GUID), which needs no
// directory look-up.
func IsGUID(s string) bool { return isGUID(s) }

// parseDate checks a YYYY-MM-DD date.
func parseDate(s string) (time.Time, error) {
	if len(s) != 10 {
		return time.Time{}, errors.New("not a YYYY-MM-DD date")
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, errors.New("not a valid YYYY-MM-DD date")
	}
	return t, nil
}
