package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/coverage"
	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/emulator/emulatortest"
	"github.com/arsync/arsync/pkg/graph"
)

// Demo tenant ids used by the coverage tests (examples/tenant.yaml).
const (
	tenantFinAuditors  = "26a48f1a-7d1c-4515-b875-6990a7512d31"
	tenantContractorsE = "5717c71a-3dba-44c3-b71d-670aca9dae2f"
	tenantContractorsU = "c078266f-a222-4205-be14-e53ac3026505"
	tenantVendorAccess = "4b0d7e8a-61c3-4f2e-9a57-2d8e1f6c0b39" // security group with guests, never reviewed
	roleGlobalAdmin    = "62e90394-69f5-4237-9190-012177145e10"
	roleGlobalReader   = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
	rolePrivRoleAdmin  = "e8611ab8-c189-46e8-94e1-60213ab1f814"
	spPayroll          = "1b1a8bd4-1790-4175-96a8-e33def257415"
)

// coverageEmulator is the demo tenant's emulator on a fixed clock.
func coverageEmulator(t *testing.T, now time.Time) *emulator.Running {
	t.Helper()
	return emulatortest.New(t, emulator.Options{Seed: 5, Clock: func() time.Time { return now }})
}

func queryScope(q string) *graph.Scope {
	return &graph.Scope{ODataType: "#microsoft.graph.accessReviewQueryScope", Query: q, QueryType: "MicrosoftGraph"}
}

// createReview creates an unmanaged definition (as made in the portal).
// Through --graph-endpoint the session judges "ended" on the system clock,
// so a live review ends far ahead.
func createReview(t *testing.T, run *emulator.Running, name string, scope, enum *graph.Scope, start, end string) {
	t.Helper()
	_, err := clientFor(t, run).CreateDefinition(context.Background(), &graph.Definition{
		DisplayName: name, DescriptionForAdmins: "made in the portal",
		Scope: scope, InstanceEnumerationScope: enum,
		Reviewers: []graph.ReviewerScope{{Query: "/users/fc9a2c2b-1ddc-486d-a211-5fe8ca77fa1f", QueryType: "MicrosoftGraph"}},
		Settings: &graph.ScheduleSettings{Recurrence: &graph.PatternedRecurrence{
			Range: &graph.RecurrenceRange{Type: "numbered", StartDate: start, EndDate: end}}},
	})
	require.NoError(t, err, name)
}

// TestCoverageEndToEnd: arsync coverage through Main against the demo
// tenant, with one review of each scope kind.
func TestCoverageEndToEnd(t *testing.T) {
	now := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	run := coverageEmulator(t, now)
	// All Microsoft 365 groups (instanceEnumerationScope filter): the
	// security groups are left out.
	code, _, errOut := runCLI(t, run, "apply", "--auto-approve", seedSpec)
	require.Equal(t, exitOK, code, errOut)
	// A one-time review of Contractors (EMEA) that ended in December.
	createReview(t, run, "Contractors EMEA, once", queryScope("/groups/"+tenantContractorsE+"/members"), nil, "2025-12-01", "2025-12-14")
	// Inactive guests of Finance Auditors: partial.
	inactive := queryScope("/groups/" + tenantFinAuditors + "/transitiveMembers/microsoft.graph.user/?$filter=(userType eq 'Guest')")
	inactive.ODataType, inactive.InactiveDuration = "#microsoft.graph.accessReviewInactiveUsersQueryScope", "P30D"
	createReview(t, run, "Inactive auditors", inactive, nil, "2026-01-05", "2099-12-31")
	// A principal/resource scope: every user's access to Global Administrator.
	createReview(t, run, "Global admins", &graph.Scope{ODataType: "#microsoft.graph.principalResourceMembershipsScope",
		PrincipalScopes: []graph.Scope{*queryScope("/users")},
		ResourceScopes:  []graph.Scope{*queryScope("/roleManagement/directory/roleDefinitions/" + roleGlobalAdmin)}}, nil, "2026-01-05", "2099-12-31")
	// An application review.
	createReview(t, run, "Payroll access", queryScope("/servicePrincipals/"+spPayroll+"/appRoleAssignedTo"), nil, "2026-01-05", "2099-12-31")

	code, out, errOut := runCLI(t, run, "coverage", "-o", "json")
	require.Equal(t, exitOK, code, errOut)
	var rep coverage.Report
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Equal(t, 1, rep.FormatVersion)
	state := map[string]string{}
	for _, tg := range rep.Targets {
		state[tg.ID] = map[bool]string{true: "covered", false: "uncovered"}[tg.Covered]
		if tg.Partial {
			state[tg.ID] = "partial"
		}
	}
	require.Equal(t, "covered", state[tenantMarketing])
	require.Equal(t, "covered", state[tenantSales])
	require.Equal(t, "covered", state[tenantFalcon], "a Team is a Microsoft 365 group")
	require.Equal(t, "uncovered", state[tenantContractorsU], "the all-M365 filter excludes security groups")
	require.Equal(t, "uncovered", state[tenantContractorsE], "the one-time review has ended")
	require.Equal(t, "partial", state[tenantFinAuditors])
	require.Equal(t, "covered", state[roleGlobalAdmin], "principal/resource scope over the role")
	require.Equal(t, "uncovered", state[roleGlobalReader])
	require.Equal(t, "covered", state[spPayroll])
	require.False(t, rep.Targets[0].Covered, "uncovered first")
	for _, tg := range rep.Targets {
		if tg.ID == tenantMarketing {
			require.Equal(t, []coverage.CoveredBy{{ID: tg.CoveredBy[0].ID, DisplayName: "Guest access to Microsoft 365 groups", ManagedName: "guests-m365-quarterly"}}, tg.CoveredBy)
			require.Equal(t, 2, tg.Guests)
		}
	}
	require.Equal(t, "uncovered", state[tenantVendorAccess])
	require.Equal(t, coverage.Counts{Covered: 4, Uncovered: 3, Partial: 1}, rep.Summary[coverage.KindGroup])
	// The raw JSON has the field names.
	require.Contains(t, out, `"summary": {`)
	require.Contains(t, out, `"coveredBy": []`)

	code, out, errOut = runCLI(t, run, "coverage")
	require.Equal(t, exitOK, code, errOut)
	require.Regexp(t, `(?m)^uncovered\s+group\s+Contractors\s+2\s+-$`, out)
	require.Regexp(t, `(?m)^partial\s+group\s+Finance Auditors\s+1\s+Inactive auditors \(partial\)$`, out)
	require.Contains(t, out, "Groups with guests: 4 covered (1 partly), 3 uncovered\n")

	code, out, errOut = runCLI(t, run, "coverage", "-o", "csv")
	require.Equal(t, exitOK, code, errOut)
	require.True(t, strings.HasPrefix(out, "kind,id,displayName,guests,assignments,covered,partial,coveredBy\n"), out)

	code, out, errOut = runCLI(t, run, "coverage", "-o", "markdown")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "| uncovered | group | Contractors | 2 | - |\n")

	code, _, errOut = runCLI(t, run, "coverage", "--fail-on-uncovered")
	require.Equal(t, exitError, code)
	require.Contains(t, errOut, "target(s) are not covered by any access review (--fail-on-uncovered)")
}

// TestCoverageRoleForms: role reviews through the schedule-instance
// queries, and eligible assignments.
func TestCoverageRoleForms(t *testing.T) {
	now := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	run := coverageEmulator(t, now)
	createReview(t, run, "Active global readers", queryScope("/roleManagement/directory/roleAssignmentScheduleInstances?$expand=principal&$filter=(roleDefinitionId eq '"+roleGlobalReader+"')"), nil, "2026-01-05", "2099-12-31")
	code, out, errOut := runCLI(t, run, "coverage", "-o", "json")
	require.Equal(t, exitOK, code, errOut)
	var rep coverage.Report
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	var reader *coverage.Target
	for i, tg := range rep.Targets {
		if tg.ID == roleGlobalReader {
			reader = &rep.Targets[i]
		}
	}
	require.NotNil(t, reader)
	require.True(t, reader.Covered)
	require.Equal(t, "Global Reader", reader.DisplayName)

	// Ivan is eligible (not active) for Privileged Role Administrator
	// since 2025 in the demo tenant: the role is a target through its
	// eligible assignment alone.
	var pra *coverage.Target
	for i, tg := range rep.Targets {
		if tg.ID == rolePrivRoleAdmin {
			pra = &rep.Targets[i]
		}
	}
	require.NotNil(t, pra, "a role with only an eligible assignment is a target")
	require.Positive(t, pra.Assignments)
}

// TestPlanCoveragePolicy: with a coverage section, plan judges coverage as
// it would be after the plan (the review it creates counts) and fails on
// a required target left uncovered; without one it reads nothing more.
func TestPlanCoveragePolicy(t *testing.T) {
	run := coverageEmulator(t, time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC))
	cfg := filepath.Join(t.TempDir(), "arsync.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("coverage:\n  guestGroups: required\n  roles: [Global Administrator, No Such Role]\n  applications: [f61a366e-53e5-42b9-bb85-4825c728a87a]\n"), 0o644))

	code, out, errOut := runCLI(t, run, "plan", "--config", cfg, "-o", "json", "--detailed-exitcode", seedSpec)
	require.Equal(t, exitError, code, out)
	require.Contains(t, errOut, "required target(s) would stay uncovered after this plan (coverage in arsync.yaml)")
	p, err := diff.ReadPlan(strings.NewReader(out))
	require.NoError(t, err)
	require.NotNil(t, p.Coverage)
	var ids []string
	for _, u := range p.Coverage.Uncovered {
		ids = append(ids, u.ID)
	}
	require.ElementsMatch(t, []string{tenantFinAuditors, tenantContractorsE, tenantContractorsU, tenantVendorAccess, roleGlobalAdmin, spPayroll}, ids,
		"the Microsoft 365 groups are covered by the review the plan creates")
	require.Equal(t, []string{"No Such Role"}, p.Coverage.Missing)

	code, out, _ = runCLI(t, run, "plan", "--config", cfg, seedSpec)
	require.Equal(t, exitError, code)
	require.Contains(t, out, "Coverage: 6 of ")
	require.Contains(t, out, "  - group Contractors ("+tenantContractorsE+")\n")
	code, out, _ = runCLI(t, run, "plan", "--config", cfg, "-o", "markdown", seedSpec)
	require.Equal(t, exitError, code)
	require.Contains(t, out, "> [!CAUTION]\n")

	// Cover the rest: the plan passes.
	createReview(t, run, "Security groups", queryScope("./members"), queryScope("/groups?$filter=securityEnabled eq true"), "2026-01-05", "2099-12-31")
	createReview(t, run, "Admins and payroll", &graph.Scope{ODataType: "#microsoft.graph.principalResourceMembershipsScope",
		PrincipalScopes: []graph.Scope{*queryScope("/users")},
		ResourceScopes: []graph.Scope{*queryScope("/roleManagement/directory/roleDefinitions/" + roleGlobalAdmin),
			*queryScope("/servicePrincipals/" + spPayroll)}}, nil, "2026-01-05", "2099-12-31")
	code, out, errOut = runCLI(t, run, "plan", "--config", cfg, "--detailed-exitcode", seedSpec)
	require.Equal(t, exitChanges, code, errOut)
	require.Contains(t, out, "Coverage: all ")

	// Without a coverage section: no directory reads.
	run.Server.ResetRequests()
	code, _, errOut = runCLI(t, run, "plan", seedSpec)
	require.Equal(t, exitOK, code, errOut)
	for _, r := range run.Server.Requests() {
		require.NotContains(t, r.Path, "/groups", "plan without coverage reads no groups")
		require.NotContains(t, r.Path, "roleManagement")
	}
}
