package graph

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// The query forms Graph accepts for each place a raw query can be written
// (docs/graph-behaviour.md#scopes-and-queries, #reviewers and
// #notification-recipients). Graph refuses a definition with another form
// (400, "Query ... is not supported"), so arsync's validate reports it
// first, at the query (pkg/spec). The emulator keeps its own table on
// purpose (pkg/emulator/queryforms.go). Only Microsoft Graph queries are checked: ARM queries name Azure
// resources, whose forms are not documented.

// QueryPlace names where a query is written in a definition.
type QueryPlace int

const (
	QueryInScope       QueryPlace = iota // spec.scope (query or inactiveUsers)
	QueryInEnumeration                   // spec.instanceEnumerationScope
	QueryInPrincipals                    // principalResourceMemberships.principalScopes
	QueryInResources                     // principalResourceMemberships.resourceScopes
	QueryInReviewers                     // reviewers and fallbackReviewers, also in stages
	QueryInRecipients                    // additionalNotificationRecipients
)

// what the place's queries are called in messages.
func (p QueryPlace) what() string {
	return [...]string{"a scope", "an instanceEnumerationScope", "a principal scope", "a resource scope",
		"a reviewer", "a notification recipient"}[p]
}

// queryShape is one accepted form: a path pattern and the options it may
// carry.
type queryShape struct {
	form    string         // as shown to users, e.g. /groups/{groupId}/transitiveMembers
	path    *regexp.Regexp // the whole path, version prefix removed
	filter  bool           // $filter (with $count) allowed
	compare []string       // properties the $filter must compare with eq
	expand  string         // the one $expand value allowed
}

// shape compiles a form. In the pattern, {name} is one path segment and a
// trailing "[cast]" an optional /microsoft.graph.user, .group or
// .servicePrincipal segment.
func shape(pattern string, filter bool, compare ...string) queryShape {
	form, cast := strings.CutSuffix(pattern, "[cast]")
	var re strings.Builder
	re.WriteString("(?i)^")
	for i, part := range strings.Split(form, "/") {
		if i > 0 {
			re.WriteString("/")
		}
		if strings.HasPrefix(part, "{") {
			re.WriteString(`[^/?#\s]+`)
		} else {
			re.WriteString(regexp.QuoteMeta(part))
		}
	}
	if cast {
		re.WriteString(`(/microsoft\.graph\.(user|group|servicePrincipal))?`)
	}
	re.WriteString(`/?$`)
	return queryShape{form: form, path: regexp.MustCompile(re.String()), filter: filter, compare: compare}
}

func (s queryShape) expanding(v string) queryShape { s.expand = v; return s }

// shown is the form with the options it needs, for messages.
func (s queryShape) shown() string {
	var opts []string
	if s.expand != "" {
		opts = append(opts, "$expand="+s.expand)
	}
	if len(s.compare) > 0 {
		var terms []string
		for _, c := range s.compare {
			terms = append(terms, c+" eq '...'")
		}
		opts = append(opts, "$filter=("+strings.Join(terms, " and ")+")")
	}
	if len(opts) == 0 {
		return s.form
	}
	return s.form + "?" + strings.Join(opts, "&")
}

var queryShapes = map[QueryPlace][]queryShape{
	QueryInScope: {
		shape("/groups/{groupId}/transitiveMembers[cast]", true),
		shape("/groups/{groupId}/members[cast]", true),
		shape("./members[cast]", true),
		shape("/identityGovernance/entitlementManagement/accessPackageAssignments", true, "accessPackageId", "catalogId"),
		shape("/roleManagement/directory/roleAssignmentScheduleInstances", true, "roleDefinitionId").expanding("principal"),
		shape("/roleManagement/directory/roleEligibilityScheduleInstances", true, "roleDefinitionId").expanding("principal"),
		shape("/roleManagement/directory/roleAssignmentAndEligbilitySchedules", true, "roleDefinitionId"),
		shape("/roleManagement/directory/roleDefinitions/{roleId}", false),
		shape("/servicePrincipals/{servicePrincipalId}/appRoleAssignedTo", false),
	},
	QueryInEnumeration: {
		shape("/groups", true),
		shape("/groups/{groupId}", false),
	},
	QueryInPrincipals: {
		shape("/users", true),
		shape("/groups", true),
	},
	QueryInResources: {
		shape("/groups", false),
		shape("/groups/{groupId}/transitiveMembers[cast]", false),
		shape("/teams/{groupId}/channels", true, "membershipType"),
		shape("/roleManagement/directory/roleDefinitions/{roleId}", false),
		shape("/servicePrincipals/{servicePrincipalId}", false),
	},
	QueryInReviewers: {
		shape("/users/{userId}", false),
		shape("/groups/{groupId}/transitiveMembers[cast]", false),
		shape("/groups/{groupId}/owners", true),
		shape("/servicePrincipals/{servicePrincipalId}/owners", false),
		shape("./owners", false),
		shape("./manager", false),
	},
	QueryInRecipients: {
		shape("/users/{userId}", false),
		shape("/groups/{groupId}/members", false),
		shape("/groups/{groupId}/owners", false),
	},
}

// CheckQueryForm returns "" when q has one of place's forms, else why not,
// to follow the query in a message. Ids are not checked: any segment or
// literal stands for one.
func CheckQueryForm(q string, place QueryPlace) string {
	q = strings.TrimSpace(q)
	lower := strings.ToLower(q)
	for _, v := range []string{"/v1.0/", "/beta/"} {
		if strings.HasPrefix(lower, v) {
			q = q[len(v)-1:]
			break
		}
	}
	path, opts, _ := strings.Cut(q, "?")
	shapes := queryShapes[place]
	var near []string
	for _, s := range shapes {
		if !s.path.MatchString(path) {
			continue
		}
		problem := s.optionsProblem(opts)
		if problem == "" {
			return ""
		}
		near = append(near, problem)
	}
	if len(near) > 0 {
		return near[0]
	}
	forms := make([]string, len(shapes))
	for i, s := range shapes {
		forms[i] = s.shown()
	}
	return fmt.Sprintf("is not %s query Graph supports%s; write one of %s",
		place.what(), segmentHint(path, shapes), strings.Join(forms, ", "))
}

// optionsProblem checks the query options of a query whose path fits s.
func (s queryShape) optionsProblem(opts string) string {
	var filter string
	seen := map[string]bool{}
	for _, kv := range strings.Split(opts, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		k = strings.ToLower(decodeOption(k))
		if seen[k] {
			return fmt.Sprintf("has %s twice", k)
		}
		seen[k] = true
		switch {
		case k == "$filter" && s.filter:
			filter = decodeOption(v)
		case k == "$count" && s.filter:
		case k == "$expand" && s.expand != "" && strings.EqualFold(decodeOption(v), s.expand):
		default:
			return fmt.Sprintf("cannot carry %s: Graph accepts %s", k, s.shown())
		}
	}
	var missing []string
	for _, c := range s.compare {
		if !comparesWithEq(filter, c) {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return fmt.Sprintf("needs a $filter comparing %s; Graph accepts %s", strings.Join(missing, " and "), s.shown())
	}
	return ""
}

func decodeOption(s string) string {
	s = strings.ReplaceAll(s, "+", " ")
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	return s
}

// comparesWithEq reports whether filter has "name eq", name not being the
// tail of a longer name.
func comparesWithEq(filter, name string) bool {
	lf, ln := strings.ToLower(filter), strings.ToLower(name)
	for i := 0; ; {
		j := strings.Index(lf[i:], ln)
		if j < 0 {
			return false
		}
		at := i + j
		before := at == 0 || !isNameByte(lf[at-1])
		rest := strings.TrimLeft(lf[at+len(ln):], " \t")
		if before && len(rest) < len(lf)-at-len(ln) && strings.HasPrefix(rest, "eq") && len(rest) > 2 && (rest[2] == ' ' || rest[2] == '\t') {
			return true
		}
		i = at + len(ln)
	}
}

func isNameByte(c byte) bool {
	return c == '_' || c == '.' || c == '/' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// segmentHint suggests a known path segment for a misspelt one, as in
// /identitityGovernance/...
func segmentHint(path string, shapes []queryShape) string {
	var known []string
	for _, s := range shapes {
		for _, seg := range strings.Split(strings.TrimPrefix(s.form, "./"), "/") {
			if seg != "" && !strings.HasPrefix(seg, "{") {
				known = append(known, seg)
			}
		}
	}
	for _, seg := range strings.Split(strings.TrimPrefix(path, "./"), "/") {
		if seg == "" || seg == "id" {
			continue
		}
		exact := false
		for _, k := range known {
			if strings.EqualFold(seg, k) {
				exact = true
				break
			}
		}
		if !exact {
			if m := Suggest(seg, known); m != "" {
				return fmt.Sprintf(" (%q: did you mean %q?)", seg, m)
			}
		}
	}
	return ""
}
