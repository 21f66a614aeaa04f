package spec

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFallbackWarnings: reviewers that can resolve to nobody without a
// fallback reviewer who always names someone are a warning at the first
// reviewer; a fixed reviewer in the list, or a fixed fallback, silences it.
func TestFallbackWarnings(t *testing.T) {
	const (
		eachGroup = "the owners of each reviewed group: a group without owners gets no reviewer and its review is never done"
		managers  = "each reviewed user's manager: a user without a manager gets no reviewer and is never reviewed"
		add       = "; add spec.fallbackReviewers, who review when the reviewers are nobody"
	)
	tests := []struct {
		name      string
		reviewers string // the lines after "  reviewers:", or "" for none
		fallback  string // the lines after "  fallbackReviewers:", or "" for none
		want      string // the warnings, "" for none
	}{
		{name: "owners", reviewers: "    - owners: true\n",
			want: "f.yaml:9:7: warning: spec.reviewers are " + eachGroup + add},
		{name: "managers", reviewers: "    - managers: true\n",
			want: "f.yaml:9:7: warning: spec.reviewers are " + managers + add},
		{name: "raw ./owners", reviewers: "    - query: ./owners\n",
			want: "f.yaml:9:7: warning: spec.reviewers are " + eachGroup + add},
		{name: "raw ./manager", reviewers: "    - {query: ./manager/, queryRoot: decisions}\n",
			want: "f.yaml:9:7: warning: spec.reviewers are " + managers + add},
		{name: "one group's owners", reviewers: "    - groupOwners: Finance\n",
			want: `f.yaml:9:7: warning: spec.reviewers are the owners of group "Finance": if it has none, nobody reviews and the review is never done` + add},
		{name: "raw group owners with a filter", reviewers: "    - query: \"/v1.0/groups/${group:Sales}/owners?$filter=(userType eq 'Member')\"\n",
			want: `f.yaml:9:7: warning: spec.reviewers are the owners of group "Sales": if it has none, nobody reviews and the review is never done` + add},
		{name: "application owners", reviewers: "    - query: /servicePrincipals/11111111-2222-4333-8444-555555555555/owners\n",
			want: `f.yaml:9:7: warning: spec.reviewers are the owners of application 11111111-2222-4333-8444-555555555555: if it has none, nobody reviews and the review is never done` + add},
		{name: "ARM owners are not judged", reviewers: "    - {query: /servicePrincipals/x/owners, queryType: ARM}\n"},
		{name: "with a fallback user", reviewers: "    - owners: true\n", fallback: "    - user: admin@contoso.com\n"},
		{name: "with fallback group members", reviewers: "    - managers: true\n", fallback: "    - groupMembers: Helpdesk\n"},
		{name: "a fixed reviewer beside", reviewers: "    - owners: true\n    - user: alice@contoso.com\n"},
		{name: "all can be nobody", reviewers: "    - owners: true\n    - managers: true\n",
			want: "f.yaml:9:7: warning: spec.reviewers are " + eachGroup + add},
		{name: "fallback can be nobody too", reviewers: "    - managers: true\n", fallback: "    - owners: true\n",
			want: "f.yaml:9:7: warning: spec.reviewers are " + managers + "; spec.fallbackReviewers (the owners of each reviewed group) can be nobody too: add a user to them"},
		{name: "self-review", reviewers: ""},
		{name: "named users", reviewers: "    - user: alice@contoso.com\n"},
		{name: "group members", reviewers: "    - groupMembers: Finance\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "apiVersion: arsync/v1\nkind: AccessReviewDefinition\nmetadata: {name: f}\nspec:\n  displayName: F\n" +
				"  scope: {query: ./members}\n  instanceEnumerationScope: {query: /groups}\n"
			if tt.reviewers != "" {
				src += "  reviewers:\n" + tt.reviewers
			}
			if tt.fallback != "" {
				src += "  fallbackReviewers:\n" + tt.fallback
			}
			src += "  settings:\n    recurrence: {range: {type: endDate, startDate: \"2026-01-01\", endDate: \"2026-01-10\"}}\n"
			defs, diags := Parse("f.yaml", []byte(src))
			require.False(t, diags.HasErrors(), "%s", diags)
			require.Len(t, defs, 1, "a warning keeps the definition")
			require.Equal(t, tt.want, diags.Error())
		})
	}
}

// TestFallbackWarningsInStages: each stage that names reviewers is checked
// with its own fallbackReviewers; spec.reviewers, ignored then, is not.
func TestFallbackWarningsInStages(t *testing.T) {
	src := `apiVersion: arsync/v1
kind: AccessReviewDefinition
metadata: {name: s}
spec:
  displayName: S
  scope: {query: /groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/members}
  fallbackReviewers: [{user: admin@contoso.com}]
  stageSettings:
    - stageId: "1"
      durationInDays: 3
      recommendationsEnabled: true
      reviewers: [{managers: true}]
      fallbackReviewers: [{user: admin@contoso.com}]
    - stageId: "2"
      dependsOn: ["1"]
      durationInDays: 3
      recommendationsEnabled: true
      reviewers: [{groupOwners: Finance}]
  settings:
    recurrence: {range: {type: endDate, startDate: "2026-01-01", endDate: "2026-01-10"}}
`
	defs, diags := Parse("s.yaml", []byte(src))
	require.Len(t, defs, 1)
	require.Equal(t, `s.yaml:18:19: warning: spec.stageSettings[1].reviewers are the owners of group "Finance": if it has none, nobody reviews and the review is never done; add spec.stageSettings[1].fallbackReviewers, who review when the reviewers are nobody`, diags.Error())

	// Stages without reviewers: spec.reviewers is checked.
	src2 := strings.NewReplacer("      reviewers: [{managers: true}]\n", "", "      reviewers: [{groupOwners: Finance}]\n", "",
		"  fallbackReviewers: [{user: admin@contoso.com}]\n  stageSettings", "  reviewers: [{owners: true}]\n  stageSettings").Replace(src)
	_, diags = Parse("s.yaml", []byte(src2))
	require.Equal(t, "s.yaml:7:15: warning: spec.reviewers are the owners of each reviewed group: a group without owners gets no reviewer and its review is never done; add spec.fallbackReviewers, who review when the reviewers are nobody", diags.Error())
}

// TestNoFallbackWarningWithErrors: a spec with an error gets no fallback
// warning, since the entry in error is missing from its list.
func TestNoFallbackWarningWithErrors(t *testing.T) {
	src := baseSpec("  scope:\n    query: /groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/members\n")
	src = strings.Replace(src, "    - user: alice@contoso.com\n", "    - owners: true\n    - user: \"\"\n", 1)
	_, diags := Parse("e.yaml", []byte(src))
	require.Equal(t, `e.yaml:11:13: spec.reviewers[1].user must name a user (UPN, mail or id)`, diags.Error())
}
