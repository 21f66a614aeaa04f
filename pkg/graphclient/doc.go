// Package graphclient is arsync's one door to Microsoft Graph: the wire types
// of the access-review and directory resources arsync uses, and (see
// client.go) authentication, retries, paging and typed errors.
package graphclient
