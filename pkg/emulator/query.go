package emulator

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// collection describes how one collection answers OData query options.
type collection struct {
	entityType string   // e.g. microsoft.graph.user, for messages
	props      []string // properties $select and $filter may name
	orderable  []string
	// directory collections page with $skiptoken, reject $skip and use the
	// directory's Request_* error codes.
	directory bool
	// checkLeaf, when set, restricts $filter further.
	checkLeaf func(n filterNode, vars map[string]bool) *graphError
	// expandable lists the navigation properties $expand may name; none:
	// $expand is refused.
	expandable []string
	// advanced: a directory-object collection, where $count and some
	// operators are advanced queries (advanced.go).
	advanced bool
}

type orderKey struct {
	prop string
	desc bool
}

// listQuery holds the parsed query options of a collection request.
type listQuery struct {
	// directory: pages are linked with $skiptoken (else $skip); from the
	// collection.
	directory bool
	top       int // -1 when absent
	offset    int // from $skip or $skiptoken
	count     bool
	sel       []string
	filter    filterNode
	order     []orderKey
	expand    []string // navigation properties to expand
}

func (c *collection) badRequest(format string, args ...any) *graphError {
	code := codeBadRequest
	if c.directory {
		code = codeDirBadRequest
	}
	return errorf(http.StatusBadRequest, code, format, args...)
}

// canonicalProp maps a property name to its declared spelling.
func (c *collection) canonicalProp(name string) (string, bool) {
	for _, p := range c.props {
		if strings.EqualFold(p, name) {
			return p, true
		}
	}
	return "", false
}

// parseListQuery reads the system query options; unknown or malformed ones
// are a 400, as in Graph.
func parseListQuery(req *request, c *collection) (*listQuery, *graphError) {
	q := &listQuery{top: -1, directory: c.directory}
	for key, vals := range req.query {
		if !strings.HasPrefix(key, "$") {
			continue
		}
		if len(vals) > 1 {
			return nil, c.badRequest("Query option '%s' was specified more than once, but it must be specified at most once.", key)
		}
		v := vals[0]
		switch strings.ToLower(key) {
		case "$top":
			n, err := strconv.Atoi(strings.TrimSpace(v))
			switch {
			case err != nil || n < 0:
				return nil, c.badRequest("Invalid value '%s' for query option $top: it must be a non-negative integer.", v)
			case c.directory && (n < 1 || n > 999):
				return nil, c.badRequest("Invalid page size specified: '%d'. Must be between 1 and 999 inclusive.", n)
			}
			q.top = n
		case "$skip":
			if c.directory {
				return nil, c.badRequest("'$skip' is not supported by the service.")
			}
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 0 {
				return nil, c.badRequest("Invalid value '%s' for query option $skip: it must be a non-negative integer.", v)
			}
			q.offset = n
		case "$skiptoken":
			if !c.directory {
				return nil, c.badRequest("Query option '$skiptoken' is not supported on this collection; page with $top and $skip.")
			}
			n, ok := decodeSkipToken(v)
			if !ok {
				return nil, c.badRequest("Invalid skip token.")
			}
			q.offset = n
		case "$count":
			switch strings.ToLower(v) {
			case "true":
				q.count = true
			case "false":
			default:
				return nil, c.badRequest("Invalid value '%s' for query option $count: it must be true or false.", v)
			}
		case "$select":
			for _, name := range strings.Split(v, ",") {
				name = strings.TrimSpace(name)
				p, ok := c.canonicalProp(name)
				if !ok {
					return nil, c.badRequest("Parsing OData Select and Expand failed: Could not find a property named '%s' on type '%s'.", name, c.entityType)
				}
				if !slices.Contains(q.sel, p) {
					q.sel = append(q.sel, p)
				}
			}
		case "$filter":
			n, err := parseFilter(v)
			if err != nil {
				return nil, c.badRequest("Invalid filter clause: %v", err)
			}
			if gerr := c.checkFilter(n); gerr != nil {
				return nil, gerr
			}
			q.filter = n
		case "$orderby":
			for _, term := range strings.Split(v, ",") {
				f := strings.Fields(term)
				if len(f) == 0 || len(f) > 2 {
					return nil, c.badRequest("Invalid $orderby clause '%s'.", term)
				}
				k := orderKey{}
				p, ok := c.canonicalProp(f[0])
				if !ok || !slices.Contains(c.orderable, p) {
					if c.directory {
						return nil, errorf(http.StatusBadRequest, codeDirUnsupported, "Unsupported sort property '%s'.", f[0])
					}
					return nil, c.badRequest("Sorting by '%s' is not supported.", f[0])
				}
				k.prop = p
				if len(f) == 2 {
					switch strings.ToLower(f[1]) {
					case "asc":
					case "desc":
						k.desc = true
					default:
						return nil, c.badRequest("Invalid $orderby direction '%s'.", f[1])
					}
				}
				q.order = append(q.order, k)
			}
		case "$expand":
			if len(c.expandable) == 0 {
				return nil, c.badRequest("Query option '%s' is not supported.", key)
			}
			for _, name := range strings.Split(v, ",") {
				name = strings.TrimSpace(name)
				i := slices.IndexFunc(c.expandable, func(e string) bool { return strings.EqualFold(e, name) })
				if i < 0 {
					return nil, c.badRequest("Parsing OData Select and Expand failed: Could not find a property named '%s' on type '%s'.", name, c.entityType)
				}
				if !slices.Contains(q.expand, c.expandable[i]) {
					q.expand = append(q.expand, c.expandable[i])
				}
			}
		default:
			return nil, c.badRequest("Query option '%s' is not supported.", key)
		}
	}
	return q, nil
}

// checkFilter verifies that the filter names only known properties and
// passes the collection's own rules.
func (c *collection) checkFilter(n filterNode) *graphError {
	var gerr *graphError
	_ = filterLeaves(n, func(leaf filterNode, vars map[string]bool) error {
		path := leafPath(leaf)
		for len(path) > 1 && strings.Contains(path[0], ".") {
			path = path[1:] // a leading type cast such as microsoft.graph.user/
		}
		if len(path) > 0 && !vars[path[0]] {
			if _, ok := c.canonicalProp(path[0]); !ok {
				gerr = c.badRequest("Invalid filter clause: Could not find a property named '%s' on type '%s'.", path[0], c.entityType)
				return gerr
			}
		}
		if c.checkLeaf != nil {
			if e := c.checkLeaf(leaf, vars); e != nil {
				gerr = e
				return e
			}
		}
		return nil
	})
	return gerr
}

// apply filters, sorts and counts items; it returns the page and the
// offset of the next page (-1 when this is the last).
func (q *listQuery) apply(items []*object, maxPage int) (page []*object, total, next int) {
	var kept []*object
	if q.filter == nil {
		kept = items
	} else {
		for _, it := range items {
			if evalFilter(q.filter, it, nil) {
				kept = append(kept, it)
			}
		}
	}
	if len(q.order) > 0 {
		kept = slices.Clone(kept)
		slices.SortStableFunc(kept, func(a, b *object) int {
			for _, k := range q.order {
				c := compareForSort(a.vals[k.prop], b.vals[k.prop])
				if k.desc {
					c = -c
				}
				if c != 0 {
					return c
				}
			}
			return 0
		})
	}
	size := maxPage
	if q.top >= 0 && q.top < size {
		size = q.top
	}
	total = len(kept)
	start := min(q.offset, total)
	end := min(start+size, total)
	next = -1
	if end < total && size > 0 {
		next = end
	}
	return kept[start:end], total, next
}

func compareForSort(a, b any) int {
	sa, _ := a.(string)
	sb, _ := b.(string)
	return strings.Compare(strings.ToLower(sa), strings.ToLower(sb))
}

// page applies q to objs and renders each item of the page with render. It
// returns the items, the number of objects q matched and the page's
// @odata.nextLink ("" on the last page).
func (s *Server) page(rc *reqCtx, req *request, q *listQuery, objs []*object, render func(*object) []byte) (items [][]byte, total int, link string) {
	page, total, next := q.apply(objs, s.pageSize)
	items = make([][]byte, 0, len(page))
	for _, o := range page {
		items = append(items, render(o))
	}
	if next >= 0 {
		link = nextLink(rc, req, q, next)
	}
	return items, total, link
}

// marshalSelected renders an item with only the properties of $select.
func (q *listQuery) marshalSelected(o *object) []byte {
	if len(q.sel) > 0 {
		o = selectProps(o, q.sel)
	}
	return marshal(o)
}

// nextLink builds the absolute link to the page at offset: the request's
// own query with $skip (or, in the directory, $skiptoken) replaced.
func nextLink(rc *reqCtx, req *request, q *listQuery, offset int) string {
	var parts []string
	for _, p := range strings.Split(req.rawQuery, "&") {
		if p == "" {
			continue
		}
		k, _, _ := strings.Cut(p, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if strings.EqualFold(k, "$skip") || strings.EqualFold(k, "$skiptoken") {
			continue
		}
		parts = append(parts, p)
	}
	if q.directory {
		parts = append(parts, "$skiptoken="+encodeSkipToken(offset))
	} else {
		parts = append(parts, "$skip="+strconv.Itoa(offset))
	}
	return rc.base + "/" + req.escPath + "?" + strings.Join(parts, "&")
}

// Skip tokens are opaque to clients; inside they are an offset.
func encodeSkipToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("emu1:" + strconv.Itoa(offset)))
}

func decodeSkipToken(tok string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	s, ok := strings.CutPrefix(string(b), "emu1:")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// collectionBody writes {"@odata.context", "@odata.count"?,
// "@odata.nextLink"?, "value": [...]} from pre-rendered items.
func collectionBody(context string, count int, withCount bool, next string, items [][]byte) []byte {
	var b bytes.Buffer
	size := len(context) + len(next) + 96
	for _, it := range items {
		size += len(it) + 1
	}
	b.Grow(size) // one allocation: list pages of 100 definitions are ~150 kB
	b.WriteString(`{"@odata.context":`)
	writeString(&b, context)
	if withCount {
		b.WriteString(`,"@odata.count":`)
		b.WriteString(strconv.Itoa(count))
	}
	if next != "" {
		b.WriteString(`,"@odata.nextLink":`)
		writeString(&b, next)
	}
	b.WriteString(`,"value":[`)
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(it)
	}
	b.WriteString("]}")
	return b.Bytes()
}

// selectContext adds the $select list to an @odata.context, as OData does.
func selectContext(ctx string, sel []string) string {
	if len(sel) == 0 {
		return ctx
	}
	return ctx + "(" + strings.Join(sel, ",") + ")"
}
