package diff

import (
	"testing"
	"time"

	"github.com/arsync/arsync/pkg/graph"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"
)

// testNow is the fixed clock of every test plan.
var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// ignoreRead lets go-cmp compare definitions by their typed fields: the
// object a definition was read from is unexported, and go-cmp refuses
// unexported fields.
var ignoreRead = cmpopts.IgnoreUnexported(graph.Definition{})

// Well-known ids used across the tests.
const (
	groupID = "02f3bafb-448c-487c-88c2-5fd65ce49a41"
	aliceID = "398164b1-5196-49dd-ada2-364b49f99b27"
	bobID   = "fc9a2c2b-1ddc-486d-a211-5fe8ca77fa1f"
)

// baseDef is a complete, realistic desired definition (the shape of the
// docs' create example), written the way a user writes it.
func baseDef(mods ...func(*graph.Definition)) graph.Definition {
	d := graph.Definition{
		DisplayName:             "Quarterly review of project group",
		DescriptionForAdmins:    "Members of the project group",
		DescriptionForReviewers: "If you have any questions, contact jerry@contoso.com",
		Scope: &graph.Scope{
			ODataType: graph.TypeQueryScope,
			Query:     "/groups/" + groupID + "/transitiveMembers",
			QueryType: "MicrosoftGraph",
		},
		Reviewers: []graph.ReviewerScope{{Query: "/users/" + aliceID, QueryType: "MicrosoftGraph"}},
		Settings: &graph.ScheduleSettings{
			MailNotificationsEnabled:        ptr(true),
			ReminderNotificationsEnabled:    ptr(true),
			JustificationRequiredOnApproval: ptr(true),
			DefaultDecisionEnabled:          ptr(false),
			DefaultDecision:                 "None",
			InstanceDurationInDays:          ptr(3),
			RecommendationsEnabled:          ptr(true),
			Recurrence: &graph.PatternedRecurrence{
				Pattern: &graph.RecurrencePattern{Type: "absoluteMonthly", Interval: 3},
				Range:   &graph.RecurrenceRange{Type: "noEnd", StartDate: "2025-01-08"},
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
func liveOf(d graph.Definition, id, name string, mods ...func(*graph.Definition)) graph.Definition {
	l := *clone(&d)
	l.ID = id
	l.Status = "InProgress"
	l.CreatedDateTime = "2025-01-02T10:00:00Z"
	l.LastModifiedDateTime = "2025-01-02T10:00:00Z"
	l.CreatedBy = &graph.UserIdentity{ID: bobID, DisplayName: "MOD Administrator", UserPrincipalName: "admin@contoso.com"}
	if name != "" {
		l.DescriptionForAdmins = graph.WithMarker(l.DescriptionForAdmins, name)
	}
	for _, m := range mods {
		m(&l)
	}
	return l
}

// writtenLiveOf is liveOf for a definition as arsync wrote d: its marker
// records d's digest. mods, applied after, are edits made in the tenant
// since; they must keep the marker line.
func writtenLiveOf(d graph.Definition, id, name string, mods ...func(*graph.Definition)) graph.Definition {
	l := liveOf(d, id, "")
	l.DescriptionForAdmins = graph.WithMarkerDigest(l.DescriptionForAdmins, name, graph.WrittenDigest(d))
	for _, m := range mods {
		m(&l)
	}
	return l
}

// compute runs Compute with the test clock and fails the test on error.
func compute(t *testing.T, desired []Desired, live []graph.Definition) *Plan {
	t.Helper()
	p, err := Compute(desired, live, Options{Now: testNow, TenantID: "contoso.onmicrosoft.com", GraphEndpoint: "https://graph.microsoft.com/v1.0"})
	require.NoError(t, err)
	return p
}
