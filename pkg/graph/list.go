package graph

import "strings"

// ListOptions are the OData query options of a list call.
type ListOptions struct {
	Filter  string   // raw OData $filter; quote literals with ODataQuote
	Top     int      // page size; 0 means the service default (100 for access reviews)
	Select  []string // $select
	OrderBy string   // $orderby, e.g. "createdDateTime desc"
	Count   bool     // $count=true
}

// ODataQuote returns s as an OData string literal: in single quotes, with
// single quotes doubled.
func ODataQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
