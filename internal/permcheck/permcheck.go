// Package permcheck says whether the permissions an access token carries
// suffice for each arsync command that calls Graph. It is advice: Graph
// decides, and a token whose claims cannot be read is never judged here.
// What each call needs is in docs/graph-behaviour.md#permissions and
// docs/auth.md (Permissions); this package is that table as code.
package permcheck

import (
	"slices"
	"strings"
)

// Token is what an access token says about itself.
type Token struct {
	// App is true for an app-only token (application permissions in
	// roles), false for a delegated one (scopes in scp).
	App bool
	// Permissions are the token's roles (app) or scopes (delegated).
	Permissions []string
	// DirectoryRoles are the template ids of the signed-in user's
	// directory roles (wids); HasDirectoryRoles is false when the token
	// does not carry that claim, so the roles cannot be checked.
	DirectoryRoles    []string
	HasDirectoryRoles bool
}

// Commands are the commands that call Graph, in the order they are shown.
var Commands = []string{"plan", "apply", "export", "status", "decisions", "coverage", "report"}

// Permission names.
const (
	AccessReviewRead      = "AccessReview.Read.All"
	AccessReviewReadWrite = "AccessReview.ReadWrite.All"
	UserRead              = "User.Read.All"
	GroupMemberRead       = "GroupMember.Read.All"
	GroupRead             = "Group.Read.All"
	ApplicationRead       = "Application.Read.All"
	RoleManagementRead    = "RoleManagement.Read.Directory"
	DirectoryRead         = "Directory.Read.All"
)

// Directory role template ids (docs/graph-behaviour.md#permissions).
const (
	RoleGlobalAdministrator             = "62e90394-69f5-4237-9190-012177145e10"
	RoleIdentityGovernanceAdministrator = "45d8d3c5-c802-45c6-b32a-1d70b5e1e86e"
	RoleUserAdministrator               = "fe930be7-5e62-47db-91af-98c3a49a38b1"
	RolePrivilegedRoleAdministrator     = "e8611ab8-c189-46e8-94e1-60213ab1f814"
	RoleGlobalReader                    = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
	RoleSecurityAdministrator           = "194ae4cb-b126-40b2-bd5b-6091b380977d"
	RoleSecurityReader                  = "5d6b6bb7-de71-4623-b4af-96380a352509"
)

// RoleNames names the directory roles this package knows.
var RoleNames = map[string]string{
	RoleGlobalAdministrator:             "Global Administrator",
	RoleIdentityGovernanceAdministrator: "Identity Governance Administrator",
	RoleUserAdministrator:               "User Administrator",
	RolePrivilegedRoleAdministrator:     "Privileged Role Administrator",
	RoleGlobalReader:                    "Global Reader",
	RoleSecurityAdministrator:           "Security Administrator",
	RoleSecurityReader:                  "Security Reader",
}

// need is one thing a command needs: any permission of anyOf. The first is
// the least privileged, the one to grant.
type need struct {
	anyOf []string
	// required: without it the command cannot work at all. Otherwise the
	// command works without it except for what `without` says.
	required bool
	without  string
}

// Who may do what. A permission also suffices when a broader one is held:
// the lists are those the API pages give, least privileged first.
var (
	reviewsRead  = []string{AccessReviewRead, AccessReviewReadWrite}
	reviewsWrite = []string{AccessReviewReadWrite}
	users        = []string{UserRead, "User.ReadWrite.All", DirectoryRead, "Directory.ReadWrite.All"}
	groups       = []string{GroupMemberRead, GroupRead, "Group.ReadWrite.All", DirectoryRead, "Directory.ReadWrite.All"}
	apps         = []string{ApplicationRead, "Application.ReadWrite.All", DirectoryRead, "Directory.ReadWrite.All"}
	roles        = []string{RoleManagementRead, "RoleManagement.ReadWrite.Directory", DirectoryRead, "Directory.ReadWrite.All"}
	directory    = []string{DirectoryRead, "Directory.ReadWrite.All"}
	// Directory.Read.All does not read Privileged Identity Management's
	// eligibility schedules (docs/graph-behaviour.md#permissions).
	eligibility = []string{"RoleEligibilitySchedule.Read.Directory", "RoleEligibilitySchedule.ReadWrite.Directory", RoleManagementRead, "RoleManagement.Read.All", "RoleManagement.ReadWrite.Directory"}
)

// lookUps are plan's and apply's name look-ups: each is needed only when
// the specs use that kind of name.
var lookUps = []need{
	{anyOf: users, without: "specs cannot name users (user:, ${user:...})"},
	{anyOf: groups, without: "specs cannot name groups (groupMembers:, groupOwners:, ${group:...})"},
	{anyOf: apps, without: "specs cannot name applications (${servicePrincipal:...})"},
	{anyOf: roles, without: "specs cannot name directory roles (${role:...})"},
}

var needs = map[string][]need{
	"plan": append([]need{{anyOf: reviewsRead, required: true}}, append(slices.Clone(lookUps),
		need{anyOf: directory, without: "the plan shows bare ids instead of names"})...),
	"apply": append([]need{{anyOf: reviewsWrite, required: true}}, lookUps...),
	"export": {
		{anyOf: reviewsRead, required: true},
		{anyOf: directory, required: true},
	},
	"status": {
		{anyOf: reviewsRead, required: true},
		{anyOf: directory, without: "reviewed groups and applications are shown by id"},
		{anyOf: roles, without: "reviewed directory roles are shown by id"},
	},
	"decisions": {
		{anyOf: reviewsRead, required: true},
		{anyOf: directory, without: "reviewed resources are shown by id"},
		{anyOf: users, without: "guests are recognised only by an #EXT# userPrincipalName"},
	},
	"coverage": {
		{anyOf: reviewsRead, required: true},
		{anyOf: groups, required: true},
		{anyOf: roles, required: true},
		{anyOf: apps, required: true},
		{anyOf: eligibility, without: "eligible (PIM) role assignments are not read: roles are judged on their active assignments"},
	},
	"report": {
		{anyOf: reviewsRead, required: true},
		{anyOf: directory, without: "the report has no coverage, and reviewed resources are shown by id"},
		{anyOf: eligibility, without: "the report's coverage judges roles on their active assignments only"},
	},
}

// Directory roles a signed-in user needs besides the delegated permission
// (docs/graph-behaviour.md#permissions). A role that may write may read.
var (
	readRoles  = []string{RoleGlobalReader, RoleSecurityReader, RoleSecurityAdministrator, RoleUserAdministrator, RoleIdentityGovernanceAdministrator, RolePrivilegedRoleAdministrator, RoleGlobalAdministrator}
	writeRoles = []string{RoleIdentityGovernanceAdministrator, RoleUserAdministrator, RolePrivilegedRoleAdministrator, RoleGlobalAdministrator}
	// Roles that may write only some reviews.
	writeLimits = map[string]string{
		RoleUserAdministrator:           "User Administrator may manage reviews of groups and applications, not of directory roles",
		RolePrivilegedRoleAdministrator: "Privileged Role Administrator may manage reviews of directory roles only",
	}
)

// Result is the verdict for one command.
type Result struct {
	Command string `json:"command"`
	// OK: the token carries what the command cannot work without.
	OK bool `json:"ok"`
	// Missing names what the command cannot work without: permissions,
	// and, for a delegated token, a directory role.
	Missing []string `json:"missing,omitempty"`
	// Limits say what does not work, or may not, with the token: an
	// optional permission it lacks, a role that covers some reviews only,
	// roles that could not be checked.
	Limits []string `json:"limits,omitempty"`
}

// Problem is the one sentence that says why the command cannot work, or ""
// when it can. arsync auth status and the commands' up-front refusal both
// print it.
func (r Result) Problem() string {
	if r.OK {
		return ""
	}
	return "the sign-in cannot " + verb(r.Command) + ": the token lacks " + strings.Join(r.Missing, " and ")
}

func verb(command string) string {
	switch command {
	case "plan":
		return "plan (it reads the access reviews)"
	case "apply":
		return "apply (it writes access reviews)"
	case "export":
		return "export (it reads the access reviews and turns ids into names)"
	case "coverage":
		return "run coverage (it reads the access reviews, groups, roles and applications)"
	}
	return "run " + command + " (it reads the access reviews)"
}

// Check says whether t suffices for command (one of Commands).
func Check(t Token, command string) Result {
	r := Result{Command: command, OK: true}
	kind := "application permission"
	if !t.App {
		kind = "delegated permission"
	}
	for _, n := range needs[command] {
		if slices.ContainsFunc(t.Permissions, func(p string) bool { return containsFold(n.anyOf, p) }) {
			continue
		}
		name := n.anyOf[0]
		if n.anyOf[0] == GroupMemberRead {
			name += " (or " + GroupRead + ")"
		}
		if n.required {
			r.OK = false
			r.Missing = append(r.Missing, name+" ("+kind+")")
		} else {
			r.Limits = append(r.Limits, "without "+name+", "+n.without)
		}
	}
	if !t.App {
		r.checkRoles(t, command)
	}
	return r
}

// checkRoles adds what a delegated token's directory roles lack.
func (r *Result) checkRoles(t Token, command string) {
	want := readRoles
	if command == "apply" {
		want = writeRoles
	}
	if !t.HasDirectoryRoles {
		r.Limits = append(r.Limits, "could not check the signed-in user's directory roles (the token has no wids claim); "+rolesSentence(want)+" is needed")
		return
	}
	var held []string
	for _, id := range t.DirectoryRoles {
		if containsFold(want, id) {
			held = append(held, strings.ToLower(id))
		}
	}
	if len(held) == 0 {
		r.OK = false
		r.Missing = append(r.Missing, "a directory role of the signed-in user that may "+map[bool]string{true: "manage", false: "read"}[command == "apply"]+" access reviews ("+rolesSentence(want)+")")
		return
	}
	if command != "apply" {
		return
	}
	// A role that covers every review wins over those that cover some.
	if slices.ContainsFunc(held, func(id string) bool { return writeLimits[id] == "" }) {
		return
	}
	for _, id := range held {
		r.Limits = append(r.Limits, writeLimits[id])
	}
}

func rolesSentence(ids []string) string {
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = RoleNames[id]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, strings.TrimSpace(s)) })
}
