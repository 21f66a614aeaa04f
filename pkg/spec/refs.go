package spec

import (
	"errors"
	"fmt"
	"strconv"
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

// parseDuration parses an OData Edm.Duration as Graph accepts it
// (P[nD][T[nH][nM][n[.n]S]], e.g. P30D, PT12H, P1DT6H) and returns its length
// in seconds. Years, months and weeks are not part of Edm.Duration.
func parseDuration(s string) (float64, error) {
	rest, ok := strings.CutPrefix(s, "P")
	if !ok {
		if strings.HasPrefix(s, "-") {
			return 0, errors.New("must not be negative")
		}
		return 0, errors.New(`must start with "P", like P30D`)
	}
	if rest == "" {
		return 0, errors.New("has no amount, like P30D")
	}
	var total float64
	inTime, seen := false, false
	order := "D" // units allowed next, in order
	for rest != "" {
		if rest[0] == 'T' {
			if inTime {
				return 0, errors.New(`has "T" twice`)
			}
			inTime, order, rest = true, "HMS", rest[1:]
			if rest == "" {
				return 0, errors.New(`has nothing after "T"`)
			}
			continue
		}
		n := 0
		for n < len(rest) && (rest[n] >= '0' && rest[n] <= '9' || rest[n] == '.') {
			n++
		}
		if n == 0 || n == len(rest) {
			return 0, errors.New("is not an ISO-8601 duration like P30D or PT12H")
		}
		num, unit := rest[:n], rest[n]
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || strings.HasPrefix(num, ".") || strings.HasSuffix(num, ".") {
			return 0, fmt.Errorf("has a bad number %q", num)
		}
		if strings.Contains(num, ".") && !(inTime && unit == 'S') {
			return 0, errors.New("may have a fraction only in seconds")
		}
		switch {
		case !inTime && (unit == 'Y' || unit == 'M' || unit == 'W'):
			return 0, errors.New("may use only days, hours, minutes and seconds (Graph durations have no years, months or weeks), like P30D")
		case inTime && unit == 'D':
			return 0, errors.New(`has days after "T"; write P1DT12H`)
		}
		i := strings.IndexByte(order, unit)
		if i < 0 {
			return 0, fmt.Errorf("has unit %q out of place; the order is P[nD][T[nH][nM][nS]]", string(unit))
		}
		order = order[i+1:]
		switch unit {
		case 'D':
			total += v * 86400
		case 'H':
			total += v * 3600
		case 'M':
			total += v * 60
		case 'S':
			total += v
		}
		seen = true
		rest = rest[n+1:]
	}
	if !seen {
		return 0, errors.New("has no amount, like P30D")
	}
	return total, nil
}
