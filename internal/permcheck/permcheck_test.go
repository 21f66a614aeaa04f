package permcheck

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

func TestCheck(t *testing.T) {
	lookUpLimits := []string{
		"without User.Read.All, specs cannot name users (user:, ${user:...})",
		"without GroupMember.Read.All (or Group.Read.All), specs cannot name groups (groupMembers:, groupOwners:, ${group:...})",
		"without Application.Read.All, specs cannot name applications (${servicePrincipal:...})",
		"without RoleManagement.Read.Directory, specs cannot name directory roles (${role:...})",
	}
	tests := []struct {
		name    string
		token   Token
		command string
		want    Result
	}{
		{
			name:    "app with everything applies",
			token:   Token{App: true, Permissions: []string{AccessReviewReadWrite, DirectoryRead}},
			command: "apply",
			want:    Result{Command: "apply", OK: true},
		},
		{
			name:    "permission names are compared without case",
			token:   Token{App: true, Permissions: []string{"accessreview.readwrite.all", "directory.read.all"}},
			command: "export",
			want:    Result{Command: "export", OK: true},
		},
		{
			name:    "read-only app cannot apply",
			token:   Token{App: true, Permissions: []string{AccessReviewRead, DirectoryRead}},
			command: "apply",
			want:    Result{Command: "apply", Missing: []string{"AccessReview.ReadWrite.All (application permission)"}},
		},
		{
			name:    "read-only app plans",
			token:   Token{App: true, Permissions: []string{AccessReviewRead, UserRead, GroupMemberRead, ApplicationRead, RoleManagementRead}},
			command: "plan",
			want:    Result{Command: "plan", OK: true, Limits: []string{"without Directory.Read.All, the plan shows bare ids instead of names"}},
		},
		{
			name:    "look-ups are optional for plan, named as limits",
			token:   Token{App: true, Permissions: []string{AccessReviewReadWrite}},
			command: "apply",
			want:    Result{Command: "apply", OK: true, Limits: lookUpLimits},
		},
		{
			name:    "Directory.Read.All runs coverage, without eligible assignments",
			token:   Token{App: true, Permissions: []string{AccessReviewRead, DirectoryRead}},
			command: "coverage",
			want: Result{Command: "coverage", OK: true, Limits: []string{
				"without RoleEligibilitySchedule.Read.Directory, eligible (PIM) role assignments are not read: roles are judged on their active assignments"}},
		},
		{
			name:    "coverage needs the directory",
			token:   Token{App: true, Permissions: []string{AccessReviewRead, RoleManagementRead}},
			command: "coverage",
			want: Result{Command: "coverage", Missing: []string{
				"GroupMember.Read.All (or Group.Read.All) (application permission)", "Application.Read.All (application permission)"}},
		},
		{
			name:    "Group.Read.All covers group look-ups",
			token:   Token{App: true, Permissions: []string{AccessReviewReadWrite, UserRead, GroupRead, ApplicationRead, RoleManagementRead}},
			command: "apply",
			want:    Result{Command: "apply", OK: true},
		},
		{
			name:    "no access-review permission at all",
			token:   Token{App: true, Permissions: []string{UserRead}},
			command: "status",
			want: Result{Command: "status", Missing: []string{"AccessReview.Read.All (application permission)"},
				Limits: []string{"without Directory.Read.All, reviewed groups and applications are shown by id", "without RoleManagement.Read.Directory, reviewed directory roles are shown by id"}},
		},
		{
			name:    "export needs Directory.Read.All",
			token:   Token{App: true, Permissions: []string{AccessReviewRead, UserRead, GroupRead}},
			command: "export",
			want:    Result{Command: "export", Missing: []string{"Directory.Read.All (application permission)"}},
		},
		{
			name:    "decisions without User.Read.All",
			token:   Token{App: true, Permissions: []string{AccessReviewRead, "Directory.ReadWrite.All"}},
			command: "decisions",
			want:    Result{Command: "decisions", OK: true},
		},
		{
			name:    "delegated with Identity Governance Administrator applies",
			token:   Token{Permissions: []string{AccessReviewReadWrite, DirectoryRead}, HasDirectoryRoles: true, DirectoryRoles: []string{"b79fbf4d-3ef9-4689-8143-76b194e85509", RoleIdentityGovernanceAdministrator}},
			command: "apply",
			want:    Result{Command: "apply", OK: true},
		},
		{
			name:    "delegated without a role cannot apply",
			token:   Token{Permissions: []string{AccessReviewReadWrite, DirectoryRead}, HasDirectoryRoles: true, DirectoryRoles: []string{RoleGlobalReader}},
			command: "apply",
			want:    Result{Command: "apply", Missing: []string{"a directory role of the signed-in user that may manage access reviews (Identity Governance Administrator, User Administrator, Privileged Role Administrator or Global Administrator)"}},
		},
		{
			name:    "delegated Global Reader plans",
			token:   Token{Permissions: []string{AccessReviewRead, DirectoryRead}, HasDirectoryRoles: true, DirectoryRoles: []string{"F2EF992C-3AFB-46B9-B7CF-A126EE74C451"}},
			command: "plan",
			want:    Result{Command: "plan", OK: true},
		},
		{
			name:    "delegated without permission and role",
			token:   Token{Permissions: []string{"User.Read"}, HasDirectoryRoles: true},
			command: "export",
			want: Result{Command: "export", Missing: []string{"AccessReview.Read.All (delegated permission)", "Directory.Read.All (delegated permission)",
				"a directory role of the signed-in user that may read access reviews (Global Reader, Security Reader, Security Administrator, User Administrator, Identity Governance Administrator, Privileged Role Administrator or Global Administrator)"}},
		},
		{
			name:    "User Administrator applies reviews of groups and apps only",
			token:   Token{Permissions: []string{AccessReviewReadWrite, DirectoryRead}, HasDirectoryRoles: true, DirectoryRoles: []string{RoleUserAdministrator}},
			command: "apply",
			want:    Result{Command: "apply", OK: true, Limits: []string{"User Administrator may manage reviews of groups and applications, not of directory roles"}},
		},
		{
			name:    "User Administrator and Privileged Role Administrator together cover every review",
			token:   Token{Permissions: []string{AccessReviewReadWrite, DirectoryRead}, HasDirectoryRoles: true, DirectoryRoles: []string{RoleUserAdministrator, RolePrivilegedRoleAdministrator}},
			command: "apply",
			want: Result{Command: "apply", OK: true, Limits: []string{
				"User Administrator may manage reviews of groups and applications, not of directory roles",
				"Privileged Role Administrator may manage reviews of directory roles only"}},
		},
		{
			name:    "delegated without wids: roles not checked, never refused",
			token:   Token{Permissions: []string{AccessReviewReadWrite, DirectoryRead}},
			command: "apply",
			want:    Result{Command: "apply", OK: true, Limits: []string{"could not check the signed-in user's directory roles (the token has no wids claim); Identity Governance Administrator, User Administrator, Privileged Role Administrator or Global Administrator is needed"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Empty(t, cmp.Diff(tt.want, Check(tt.token, tt.command)))
		})
	}
}

func TestProblem(t *testing.T) {
	r := Check(Token{App: true, Permissions: []string{AccessReviewRead}}, "apply")
	require.Equal(t, "the sign-in cannot apply (it writes access reviews): the token lacks AccessReview.ReadWrite.All (application permission)", r.Problem())
	require.Empty(t, Check(Token{App: true, Permissions: []string{AccessReviewRead}}, "plan").Problem())
}

// Every command that calls Graph has an entry, and needs at least an
// access-review permission.
func TestEveryCommandNeedsAccessReviews(t *testing.T) {
	for _, c := range Commands {
		r := Check(Token{App: true}, c)
		require.False(t, r.OK, c)
		require.Contains(t, r.Missing[0], "AccessReview.", c)
	}
	require.Len(t, needs, len(Commands))
}
