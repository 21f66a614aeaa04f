package spec

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/graphclient"
)

// Directory is what name resolution reads from the tenant's directory.
// *graphclient.Client implements it. Each method maps every key it is given
// to the objects that match it (none, one, or several when a name is not
// unique), and is expected to batch its requests.
type Directory interface {
	LookupUsers(ctx context.Context, keys []string) (map[string][]graphclient.User, error)
	LookupGroups(ctx context.Context, keys []string) (map[string][]graphclient.Group, error)
	LookupServicePrincipals(ctx context.Context, keys []string) (map[string][]graphclient.ServicePrincipal, error)
	LookupRoleDefinitions(ctx context.Context, keys []string) (map[string][]graphclient.RoleDefinition, error)
}

// Resolved is one definition with its references turned into ids.
type Resolved struct {
	Def *Definition
	// Body is the Graph request body (ToGraph's output, without the marker).
	Body graph.Definition
	// Labels maps the ids of the objects the definition refers to to the
	// names they were written as (or, for references written as ids, the
	// object's userPrincipalName or displayName), so that a plan can show
	// names instead of GUIDs. It has no entry for ids the directory did not
	// describe.
	Labels map[string]string
}

// Candidate is a directory object a name matched.
type Candidate struct {
	ID string
	// Name is how people know the object: a user's userPrincipalName, or
	// the displayName of a group, service principal or role.
	Name string
	// Detail tells candidates of one name apart in messages: a user's UPN,
	// a group's mail, a service principal's appId.
	Detail string
}

// NameError is a reference that does not name exactly one directory object:
// no candidates means none was found, two or more that the name is
// ambiguous.
type NameError struct {
	Kind       RefKind
	Name       string
	Candidates []Candidate
}

func (e *NameError) Error() string {
	what := string(e.Kind) + " " + quote(e.Name)
	if len(e.Candidates) == 0 {
		return fmt.Sprintf("%s was not found in the directory (%s)", what, lookedUpBy[e.Kind])
	}
	ids := make([]string, len(e.Candidates))
	for i, c := range e.Candidates {
		ids[i] = c.ID
		if c.Detail != "" {
			ids[i] += " (" + c.Detail + ")"
		}
	}
	return fmt.Sprintf("%s is ambiguous: %d %s have this %s: %s; use the id",
		what, len(e.Candidates), plural[e.Kind], nameOf[e.Kind], strings.Join(ids, ", "))
}

// NotFound reports whether no object has the name.
func (e *NameError) NotFound() bool { return len(e.Candidates) == 0 }

var (
	lookedUpBy = map[RefKind]string{
		RefUser:             "a user is found by userPrincipalName, mail or id",
		RefGroup:            "a group is found by displayName or id",
		RefServicePrincipal: "a service principal is found by displayName, appId or id",
		RefRole:             "a role is found by displayName, id or templateId",
	}
	plural = map[RefKind]string{
		RefUser:             "users",
		RefGroup:            "groups",
		RefServicePrincipal: "service principals",
		RefRole:             "roles",
	}
	nameOf = map[RefKind]string{
		RefUser:             "userPrincipalName or mail",
		RefGroup:            "name",
		RefServicePrincipal: "name",
		RefRole:             "name",
	}
)

// Resolve turns the references of defs into ids and maps each definition to
// its Graph request body. It collects the references of all definitions,
// looks each distinct name up once, with one Directory call per kind of
// object (the calls run concurrently and batch their requests), and then
// runs ToGraph with the results.
//
// References written as ids are looked up too, in the same calls: an id
// that names nothing is reported like an unknown name, and a service
// principal may be given by its appId. When the directory refuses (403) a
// look-up that holds ids only, they are used as written, unchecked, so that
// specs without names need no directory permission.
//
// A name that matches nothing, or more than one object, is an error.
// Every such problem of every definition is returned at once as
// Diagnostics, each at the reference's file:line:col; a failing Directory
// call is returned as a wrapped error. dir may be nil when no definition
// uses a name.
func Resolve(ctx context.Context, defs []*Definition, dir Directory) ([]Resolved, error) {
	refs := make([][]Reference, len(defs))
	keys := map[RefKind][]string{}
	seen := map[refKey]bool{}
	needDir := false
	for i, d := range defs {
		refs[i] = d.References()
		for _, r := range refs[i] {
			k := refKey{r.Kind, r.Name}
			if seen[k] {
				continue
			}
			seen[k] = true
			keys[r.Kind] = append(keys[r.Kind], r.Name)
			needDir = needDir || !isGUID(r.Name)
		}
	}
	var ix *dirIndex
	switch {
	case dir != nil && len(keys) > 0:
		var err error
		if ix, err = lookupAll(ctx, dir, keys); err != nil {
			return nil, fmt.Errorf("resolving names in the directory: %w", err)
		}
	case needDir:
		ix = &dirIndex{} // no directory: every name is unknown
	}

	var diags Diagnostics
	for i := range defs {
		for _, r := range refs[i] {
			if _, _, err := ix.lookup(r.Kind, r.Name); err != nil {
				diags.add(r.Pos, Error, "%s", err.Error())
			}
		}
	}
	if len(diags) > 0 {
		return nil, diags.sortAndDedup()
	}

	out := make([]Resolved, 0, len(defs))
	for i, d := range defs {
		body, err := d.ToGraph(ix)
		if err != nil {
			return nil, err
		}
		labels := map[string]string{}
		for _, r := range refs[i] {
			id, label, _ := ix.lookup(r.Kind, r.Name)
			if !isGUID(r.Name) {
				label = r.Name
			}
			if id != "" && label != "" {
				if _, ok := labels[id]; !ok {
					labels[id] = label
				}
			}
		}
		out = append(out, Resolved{Def: d, Body: body, Labels: labels})
	}
	return out, nil
}

// dirIndex holds the directory's answers, by kind and key as asked.
// A nil *dirIndex accepts ids as written and knows no names.
type dirIndex struct {
	users  map[string][]graphclient.User
	groups map[string][]graphclient.Group
	sps    map[string][]graphclient.ServicePrincipal
	roles  map[string][]graphclient.RoleDefinition
	// unchecked holds the kinds whose id-only look-up the directory
	// refused; their ids are used as written.
	unchecked map[RefKind]bool
}

// lookupAll asks dir about keys, one call per kind, concurrently.
func lookupAll(ctx context.Context, dir Directory, keys map[RefKind][]string) (*dirIndex, error) {
	ix := &dirIndex{unchecked: map[RefKind]bool{}}
	kinds := []RefKind{RefUser, RefGroup, RefServicePrincipal, RefRole}
	errs := make([]error, len(kinds))
	refused := make([]bool, len(kinds))
	var wg sync.WaitGroup
	for i, kind := range kinds {
		ks := keys[kind]
		if len(ks) == 0 {
			continue
		}
		wg.Go(func() {
			var err error
			switch kind {
			case RefUser:
				ix.users, err = dir.LookupUsers(ctx, ks)
			case RefGroup:
				ix.groups, err = dir.LookupGroups(ctx, ks)
			case RefServicePrincipal:
				ix.sps, err = dir.LookupServicePrincipals(ctx, ks)
			case RefRole:
				ix.roles, err = dir.LookupRoleDefinitions(ctx, ks)
			}
			if err != nil && graph.IsForbidden(err) && !slices.ContainsFunc(ks, func(k string) bool { return !isGUID(k) }) {
				refused[i], err = true, nil
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, kind := range kinds {
		if refused[i] {
			ix.unchecked[kind] = true
		}
	}
	if err := joinLookupErrors(kinds, errs); err != nil {
		return nil, err
	}
	return ix, nil
}

// joinLookupErrors joins the look-ups' failures, except that failures with
// the same root cause (an untrusted certificate, a refused connection: the
// concurrent look-ups all meet it) are reported once, naming the others.
func joinLookupErrors(kinds []RefKind, errs []error) error {
	var (
		out    []error
		causes []string
		same   = map[int][]string{} // index in out -> the kinds that failed the same way
	)
	for i, err := range errs {
		if err == nil {
			continue
		}
		cause := rootCause(err)
		if j := slices.Index(causes, cause); j >= 0 {
			same[j] = append(same[j], refKindPlural(kinds[i]))
			continue
		}
		out = append(out, err)
		causes = append(causes, cause)
	}
	for j, names := range same {
		list := names[len(names)-1]
		if len(names) > 1 {
			list = strings.Join(names[:len(names)-1], ", ") + " and " + list
		}
		out[j] = fmt.Errorf("%w (the look-ups of %s failed the same way)", out[j], list)
	}
	return errors.Join(out...)
}

// rootCause is the message of the innermost error of a chain of single
// wraps.
func rootCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

// refKindPlural names a kind of directory object in a sentence.
func refKindPlural(k RefKind) string {
	switch k {
	case RefUser:
		return "users"
	case RefGroup:
		return "groups"
	case RefServicePrincipal:
		return "service principals"
	case RefRole:
		return "role definitions"
	}
	return string(k)
}

// candidates lists the objects key matched, sorted by id.
func (ix *dirIndex) candidates(kind RefKind, key string) []Candidate {
	var out []Candidate
	switch kind {
	case RefUser:
		for _, u := range ix.users[key] {
			name := cmp.Or(u.UserPrincipalName, u.Mail, u.DisplayName)
			out = append(out, Candidate{ID: u.ID, Name: name, Detail: name})
		}
	case RefGroup:
		for _, g := range ix.groups[key] {
			out = append(out, Candidate{ID: g.ID, Name: g.DisplayName, Detail: g.Mail})
		}
	case RefServicePrincipal:
		for _, s := range ix.sps[key] {
			c := Candidate{ID: s.ID, Name: s.DisplayName}
			if s.AppID != "" {
				c.Detail = "appId " + s.AppID
			}
			out = append(out, c)
		}
	case RefRole:
		for _, r := range ix.roles[key] {
			out = append(out, Candidate{ID: r.ID, Name: r.DisplayName})
		}
	}
	slices.SortFunc(out, func(a, b Candidate) int { return cmp.Compare(a.ID, b.ID) })
	return slices.CompactFunc(out, func(a, b Candidate) bool { return strings.EqualFold(a.ID, b.ID) })
}

// lookup returns the id a reference stands for and a label for it. An id
// of a user, group or role is returned as written; a service principal's
// id-shaped key may be its appId, so its object id is returned.
func (ix *dirIndex) lookup(kind RefKind, name string) (id, label string, err error) {
	if ix == nil || ix.unchecked[kind] {
		if isGUID(name) {
			return name, "", nil
		}
		return "", "", &NameError{Kind: kind, Name: name}
	}
	cs := ix.candidates(kind, name)
	if len(cs) != 1 {
		return "", "", &NameError{Kind: kind, Name: name, Candidates: cs}
	}
	c := cs[0]
	if isGUID(name) && kind != RefServicePrincipal {
		return name, c.Name, nil
	}
	return c.ID, c.Name, nil
}

// ResolveID implements Resolver.
func (ix *dirIndex) ResolveID(kind RefKind, name string) (string, error) {
	id, _, err := ix.lookup(kind, name)
	return id, err
}
