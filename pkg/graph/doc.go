// Package graph is arsync's model of the Microsoft Graph access-reviews
// API: the wire types (definitions with their scopes, reviewers, settings,
// stages and notification recipients; instances; decisions), the shape of
// Graph's errors, list options, the canonical form in which two
// definitions that mean the same thing are equal (Normalize), ISO 8601
// durations, and ownership: the marker arsync writes into
// descriptionForAdmins and the rule that the oldest of several definitions
// carrying one marker is the one kept.
//
// It is a leaf: it imports nothing of arsync's and nothing that signs in,
// reads YAML or draws a terminal, so that planning (pkg/diff) and applying
// (pkg/apply) can be built and tested on it alone. pkg/graphclient speaks
// these types over HTTP; pkg/spec turns YAML into them.
//
// What the service does with these values, and the public sources for it,
// are in docs/graph-behaviour.md.
package graph
