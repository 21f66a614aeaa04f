// Package coverage answers the auditor's first question: which groups with
// guests, which directory roles with assignments and which applications
// with assigned users or groups are under no access review at all.
//
// It reads the directory through Directory and the tenant's definitions
// (managed or not), and decides for each target whether some definition
// whose series has not ended reaches it. It depends only on pkg/graph.
package coverage

import "context"

// FormatVersion is the version of Report's JSON form.
const FormatVersion = 1

// Kind is what a target is.
type Kind string

// The kinds of target coverage reports on.
const (
	KindGroup       Kind = "group"
	KindRole        Kind = "role"
	KindApplication Kind = "application"
)

// Group is a group that has guest members, as the directory reader returns
// it: the properties an instanceEnumerationScope filter may test, and the
// number of guests among its direct members.
type Group struct {
	ID                          string
	DisplayName                 string
	MailNickname                string
	GroupTypes                  []string // "Unified" for Microsoft 365 groups
	ResourceProvisioningOptions []string // "Team" for Teams
	SecurityEnabled             bool
	MailEnabled                 bool
	Guests                      int
}

// Role is a directory role with active or eligible assignments.
type Role struct {
	ID          string // the role definition's id (Entra's role template id for built-in roles)
	DisplayName string
	Active      int // active assignments
	Eligible    int // eligible assignments (Privileged Identity Management)
}

// Application is a service principal with users or groups assigned to it.
type Application struct {
	ID          string // the service principal's object id
	AppID       string
	DisplayName string
	Assignments int // app role assignments to users and groups
}

// Directory is what coverage reads from the directory.
type Directory interface {
	// GroupsWithGuests returns every group with at least one guest member.
	GroupsWithGuests(ctx context.Context) ([]Group, error)
	// RolesWithAssignments returns every directory role with at least one
	// active or eligible assignment.
	RolesWithAssignments(ctx context.Context) ([]Role, error)
	// ApplicationsWithAssignments returns every service principal with at
	// least one user or group assigned.
	ApplicationsWithAssignments(ctx context.Context) ([]Application, error)
}

// Report is the coverage report; its JSON form is arsync coverage -o json.
type Report struct {
	FormatVersion int             `json:"formatVersion"`
	Targets       []Target        `json:"targets"`
	Summary       map[Kind]Counts `json:"summary"`
	// Warnings name the scopes coverage could not evaluate (a filter it
	// does not understand); such a scope counts as covering nothing.
	Warnings []string `json:"warnings,omitempty"`
}

// Target is one group, role or application and what covers it.
type Target struct {
	Kind        Kind   `json:"kind"`
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	// Guests is set for groups, Assignments for roles and applications.
	Guests      int  `json:"guests,omitempty"`
	Assignments int  `json:"assignments,omitempty"`
	Covered     bool `json:"covered"`
	// Partial: only definitions that review part of the target cover it
	// (e.g. inactive users only).
	Partial   bool        `json:"partial"`
	CoveredBy []CoveredBy `json:"coveredBy"`
}

// CoveredBy is a definition that reaches a target.
type CoveredBy struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	// ManagedName is the arsync name in the definition's marker, "" for a
	// definition arsync does not manage.
	ManagedName string `json:"managedName,omitempty"`
	Partial     bool   `json:"partial,omitempty"`
}

// Counts are one kind's totals. Covered includes the targets covered
// only partly, which Partial counts again.
type Counts struct {
	Covered   int `json:"covered"`
	Uncovered int `json:"uncovered"`
	Partial   int `json:"partial"`
}

// PartialError is a Directory read that returned what it could: its
// results stand, and Warning says what is missing and why (for example
// eligible role assignments a token may not read).
type PartialError struct{ Warning string }

func (e *PartialError) Error() string { return e.Warning }
