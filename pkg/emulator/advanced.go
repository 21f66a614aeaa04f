package emulator

import (
	"net/http"
	"strings"
)

// Graph's advanced queries on directory objects (users, groups, service
// principals, their relationships, app role assignments): some query
// options need the ConsistencyLevel: eventual header and, except for the
// /$count segment, $count=true as well
// (docs/graph-behaviour.md#advanced-queries):
//   - the /$count segment without the header is a 400 ("$count is not
//     currently supported.");
//   - $count=true without the header is silently ignored: the list comes
//     back without @odata.count;
//   - the ne and not operators, endsWith, and $filter with $orderby in one
//     request, without both the header and $count=true, are a 400
//     Request_UnsupportedQuery.

// eventual reports whether the request asks for eventual consistency.
func eventual(req *request) bool {
	return strings.EqualFold(strings.TrimSpace(req.header.Get("ConsistencyLevel")), "eventual")
}

// advancedRules applies the rules above to a list request on c; it may
// clear q.count.
func advancedRules(req *request, c *collection, q *listQuery) *graphError {
	if !c.advanced {
		return nil
	}
	ev, asked := eventual(req), q.count
	if !ev {
		q.count = false
	}
	if what := advancedOnly(q); what != "" && !(ev && asked) {
		return advancedError(what)
	}
	return nil
}

// countSegmentRules is advancedRules for the /$count segment, which is an
// advanced query by itself: with the header, every operator is allowed.
func countSegmentRules(req *request, c *collection) *graphError {
	if c.advanced && !eventual(req) {
		return errorf(http.StatusBadRequest, codeDirBadRequest, "$count is not currently supported.")
	}
	return nil
}

func advancedError(what string) *graphError {
	return errorf(http.StatusBadRequest, codeDirUnsupported,
		"%s is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information", what)
}

// advancedOnly names the first part of q that only an advanced query may
// use, or returns "".
func advancedOnly(q *listQuery) string {
	if q.filter != nil && len(q.order) > 0 {
		return "Using $filter and $orderby together"
	}
	return advancedOperator(q.filter)
}

func advancedOperator(n filterNode) string {
	switch t := n.(type) {
	case nil:
		return ""
	case fAnd:
		return firstNonEmpty(advancedOperator(t.l), advancedOperator(t.r))
	case fOr:
		return firstNonEmpty(advancedOperator(t.l), advancedOperator(t.r))
	case fNot:
		return "Operator 'not'"
	case fLambda:
		return advancedOperator(t.body)
	case fCmp:
		if t.op == "ne" {
			return "Operator 'ne'"
		}
	case fFunc:
		if strings.EqualFold(t.name, "endswith") {
			return "Operator 'endsWith'"
		}
	}
	return ""
}
