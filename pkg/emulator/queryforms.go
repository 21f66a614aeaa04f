package emulator

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// The query forms the access-review service accepts, by where the query
// sits (docs/graph-behaviour.md#scopes-and-queries, #reviewers and
// #notification-recipients). A create or update whose scope,
// instanceEnumerationScope, reviewer or recipient query has another form is
// a 400 naming the query, in the words the service has been seen to use.
// Only the shape is checked: the path, which query options it may carry and
// which properties its $filter must compare; the $filter itself is not
// parsed, since documented requests carry filters with stray characters
// that the service accepts.

// queryPlace is where a query appears in a definition.
type queryPlace int

const (
	placeScope       queryPlace = iota // scope: query or inactive-users scope
	placeEnumeration                   // instanceEnumerationScope
	placePrincipal                     // principalResourceMembershipsScope.principalScopes
	placeResource                      // principalResourceMembershipsScope.resourceScopes
	placeReviewer                      // reviewers, fallbackReviewers, backupReviewers, stage reviewers
	placeRecipient                     // additionalNotificationRecipients
)

// queryForm is one accepted query shape.
type queryForm struct {
	text     string   // the pattern, as listed in the error message
	relative bool     // "./..."
	segs     []string // literal segments; "{}" is any one segment (an id); "{cast}" an optional type cast, last
	filter   bool     // $filter (and $count) may follow
	need     []string // properties the $filter must compare with eq
	expand   string   // the $expand value the form may carry, "" for none
}

func form(text string, filter bool, need ...string) queryForm {
	f := queryForm{text: text, filter: filter, need: need}
	path := text
	if strings.HasPrefix(path, "./") {
		f.relative = true
		path = path[2:]
	} else {
		path = path[1:]
	}
	for _, s := range strings.Split(path, "/") {
		switch {
		case s == "{cast}":
			f.segs = append(f.segs, "{cast}")
		case strings.HasPrefix(s, "{"):
			f.segs = append(f.segs, "{}")
		default:
			f.segs = append(f.segs, s)
		}
	}
	return f
}

func (f queryForm) withExpand(v string) queryForm { f.expand = v; return f }

// Forms shared by several places.
var (
	formGroupTransitive = form("/groups/{groupId}/transitiveMembers/{cast}", true)
	formGroupMembers    = form("/groups/{groupId}/members/{cast}", true)
	formRoleDefinition  = form("/roleManagement/directory/roleDefinitions/{roleDefinitionId}", false)
)

var queryForms = map[queryPlace][]queryForm{
	placeScope: {
		formGroupTransitive,
		formGroupMembers,
		form("./members/{cast}", true),
		form("/identityGovernance/entitlementManagement/accessPackageAssignments", true, "accessPackageId", "catalogId"),
		form("/roleManagement/directory/roleAssignmentScheduleInstances", true, "roleDefinitionId").withExpand("principal"),
		form("/roleManagement/directory/roleEligibilityScheduleInstances", true, "roleDefinitionId").withExpand("principal"),
		form("/roleManagement/directory/roleAssignmentAndEligbilitySchedules", true, "roleDefinitionId"),
		formRoleDefinition,
		form("/servicePrincipals/{servicePrincipalId}/appRoleAssignedTo", false),
	},
	placeEnumeration: {
		form("/groups", true),
		form("/groups/{groupId}", false),
	},
	placePrincipal: {
		form("/users", true),
		form("/groups", true),
	},
	placeResource: {
		form("/groups", false),
		form("/groups/{groupId}/transitiveMembers/{cast}", false),
		form("/teams/{groupId}/channels", true, "membershipType"),
		formRoleDefinition,
		form("/servicePrincipals/{servicePrincipalId}", false),
	},
	placeReviewer: {
		form("/users/{userId}", false),
		form("/groups/{groupId}/transitiveMembers/{cast}", false),
		form("/groups/{groupId}/owners", true),
		form("/servicePrincipals/{servicePrincipalId}/owners", false),
		form("./owners", false),
		form("./manager", false),
	},
	placeRecipient: {
		form("/users/{userId}", false),
		form("/groups/{groupId}/members", false),
		form("/groups/{groupId}/owners", false),
	},
}

// checkQueryForm answers nil when q has one of place's forms, else the
// service's 400.
func checkQueryForm(q string, place queryPlace) *graphError {
	for _, f := range queryForms[place] {
		if f.matches(q) {
			return nil
		}
	}
	return unsupportedQuery(q, place)
}

// unsupportedQuery is the service's answer to a query of another form: its
// message names the query and lists the accepted forms, as one user was
// answered (docs/graph-behaviour.md#scopes-and-queries). The code is the
// access-review validator's empty one.
func unsupportedQuery(q string, place queryPlace) *graphError {
	forms := queryForms[place]
	texts := make([]string, len(forms))
	for i, f := range forms {
		texts[i] = f.String()
	}
	list := strings.Join(texts[:len(texts)-1], ", ") + " or " + texts[len(texts)-1]
	return &graphError{status: 400, code: codeAccessReviewInput,
		message: fmt.Sprintf("Query %s is not supported. Please pass in one of the following queries : %s", q, list)}
}

// String writes the form as a query: the cast left out, the required
// $expand and $filter comparisons shown.
func (f queryForm) String() string {
	s := strings.TrimSuffix(f.text, "/{cast}")
	var opts []string
	if f.expand != "" {
		opts = append(opts, "$expand="+f.expand)
	}
	if len(f.need) > 0 {
		terms := make([]string, len(f.need))
		for i, p := range f.need {
			terms[i] = fmt.Sprintf("%s eq '{%s}'", p, p)
		}
		opts = append(opts, "$filter=("+strings.Join(terms, " and ")+")")
	}
	if len(opts) > 0 {
		s += "?" + strings.Join(opts, "&")
	}
	return s
}

func (f queryForm) matches(q string) bool {
	q = strings.TrimSpace(q)
	q = q[len(versionPrefix(q)):]
	path, opts, _ := strings.Cut(q, "?")
	switch {
	case f.relative && strings.HasPrefix(path, "./"):
		path = path[2:]
	case !f.relative && strings.HasPrefix(path, "/"):
		path = path[1:]
	default:
		return false
	}
	path = strings.TrimSuffix(path, "/") // ./members/microsoft.graph.user/?$filter=...
	segs := strings.Split(path, "/")
	if !f.matchSegs(segs) {
		return false
	}
	return f.matchOptions(opts)
}

func (f queryForm) matchSegs(segs []string) bool {
	want := f.segs
	if n := len(want); n > 0 && want[n-1] == "{cast}" {
		if len(segs) == n {
			if _, ok := castKind(segs[n-1]); !ok {
				return false
			}
		}
		want = want[:n-1]
		if len(segs) == n {
			segs = segs[:n-1]
		}
	}
	if len(segs) != len(want) {
		return false
	}
	for i, w := range want {
		s := segs[i]
		switch {
		case s == "" || strings.ContainsAny(s, " \t"):
			return false
		case w == "{}":
		case !strings.EqualFold(s, w):
			return false
		}
	}
	return true
}

func (f queryForm) matchOptions(opts string) bool {
	seen := map[string]bool{}
	filter := ""
	for _, part := range strings.Split(opts, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k = strings.ToLower(unescapeQuery(k))
		if seen[k] {
			return false
		}
		seen[k] = true
		switch k {
		case "$filter":
			if !f.filter {
				return false
			}
			filter = unescapeQuery(v)
		case "$count":
			if !f.filter || !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
				return false
			}
		case "$expand":
			if f.expand == "" || !strings.EqualFold(unescapeQuery(v), f.expand) {
				return false
			}
		default:
			return false
		}
	}
	for _, p := range f.need {
		if !comparesProperty(filter, p) {
			return false
		}
	}
	return true
}

func unescapeQuery(s string) string {
	s = strings.ReplaceAll(s, "+", " ")
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// comparesProperty reports whether the filter has "prop eq ...".
func comparesProperty(filter, prop string) bool {
	re := regexp.MustCompile(`(?i)(^|[^A-Za-z0-9_./])` + regexp.QuoteMeta(prop) + `\s+eq\s`)
	return re.MatchString(filter)
}
