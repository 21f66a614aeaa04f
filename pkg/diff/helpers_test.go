package diff

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/graphclient"
	"github.com/arsync/arsync/pkg/spec"
)

// testNow is the fixed clock of every test plan.
var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// Well-known ids used across the tests.
const (
	groupID = "02f3bafb-448c-487c-88c2-5fd65ce49a41"
	aliceID = "398164b1-5196-49dd-ada2-364b49f99b27"
	bobID   = "fc9a2c2b-1ddc-486d-a211-5fe8ca77fa1f"
)

// baseDef is a complete, realistic desired definition (the shape of the
// docs' create example), written the way a user writes it.
func baseDef(mods ...func(*graphclient.Definition)) graphclient.Definition {
	d := graphclient.Definition{
		DisplayName:             "Quarterly review of project group",
		DescriptionForAdmins:    "Members of the project group",
		DescriptionForReviewers: "If you have any questions, contact jerry@contoso.com",
		Scope: &graphclient.Scope{
			ODataType: graphclient.TypeQueryScope,
			Query:     "/groups/" + groupID + "/transitiveMembers",
			QueryType: "MicrosoftGraph",
		},
		Reviewers: []graphclient.ReviewerScope{{Query: "/users/" + aliceID, QueryType: "MicrosoftGraph"}},
		Settings: &graphclient.ScheduleSettings{
			MailNotificationsEnabled:        ptr(true),
			ReminderNotificationsEnabled:    ptr(true),
			JustificationRequiredOnApproval: ptr(true),
			DefaultDecisionEnabled:          ptr(false),
			DefaultDecision:                 "None",
			InstanceDurationInDays:          ptr(3),
			RecommendationsEnabled:          ptr(true),
			Recurrence: &graphclient.PatternedRecurrence{
				Pattern: &graphclient.RecurrencePattern{Type: "absoluteMonthly", Interval: 3},
				Range:   &graphclient.RecurrenceRange{Type: "noEnd", StartDate: "2025-01-08"},
			},
		},
	}
	for _, m := range mods {
		m(&d)
	}
	return d
}

// liveOf is d as stored under id, carrying the marker for name (when name is
// not empty), with the read-only fields the service adds.
func liveOf(d graphclient.Definition, id, name string, mods ...func(*graphclient.Definition)) graphclient.Definition {
	l := *clone(&d)
	l.ID = id
	l.Status = "InProgress"
	l.CreatedDateTime = "2025-01-02T10:00:00Z"
	l.LastModifiedDateTime = "2025-01-02T10:00:00Z"
	l.CreatedBy = &graphclient.UserIdentity{ID: bobID, DisplayName: "MOD Administrator", UserPrincipalName: "admin@contoso.com"}
	if name != "" {
		l.DescriptionForAdmins = spec.WithMarker(l.DescriptionForAdmins, name)
	}
	for _, m := range mods {
		m(&l)
	}
	return l
}

// compute runs Compute with the test clock and fails the test on error.
func compute(t *testing.T, desired []Desired, live []graphclient.Definition) *Plan {
	t.Helper()
	p, err := Compute(desired, live, Options{Now: testNow, TenantID: "contoso.onmicrosoft.com", GraphEndpoint: "https://graph.microsoft.com/v1.0"})
	require.NoError(t, err)
	return p
}
