package graph

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

func writtenExample() Definition {
	return Definition{
		DisplayName:          "Guests",
		DescriptionForAdmins: "Quarterly.",
		Scope: &Scope{
			ODataType: TypeQueryScope,
			Query:     "/groups/0b8f3a5e-3f29-4d8b-9f5c-1c2b8d7e6a10/members/microsoft.graph.user/?$filter=(userType eq 'Guest')",
			QueryType: "MicrosoftGraph",
		},
		Reviewers: []ReviewerScope{{Query: "/users/5c1e8d2a-7b3f-4e6a-9d0c-2f4b6a8e1c3d", QueryType: "MicrosoftGraph"}},
		Settings: &ScheduleSettings{
			InstanceDurationInDays: ptrInt(14),
			Recurrence: &PatternedRecurrence{
				Pattern: &RecurrencePattern{Type: "absoluteMonthly", Interval: 3, DayOfMonth: 1},
				Range:   &RecurrenceRange{Type: "noEnd", StartDate: "2026-01-01"},
			},
		},
	}
}

func ptrInt(i int) *int { return &i }

func TestWrittenDigestShape(t *testing.T) {
	d := WrittenDigest(writtenExample())
	require.Regexp(t, `^v1:[0-9a-f]{40}$`, d)
	require.Len(t, fieldHashes(writtenExample()), len(writtenFields))
	// The longest marker, with the longest name, stays short.
	require.LessOrEqual(t, len(MarkerWithDigest(strings.Repeat("a", 63), d)), 120)
}

// TestWrittenDigestIgnoresGraphRewrites: what Graph changes in what it
// stores, and the marker, do not change the digest; so right after apply
// nothing reads as changed outside arsync.
func TestWrittenDigestIgnoresGraphRewrites(t *testing.T) {
	sent := writtenExample()
	stored := writtenExample()
	stored.ID = "1b2c"
	stored.Status = "InProgress"
	stored.CreatedDateTime = "2026-01-01T00:00:00Z"
	stored.DescriptionForAdmins = "Quarterly.\r\n" + MarkerWithDigest("guests", WrittenDigest(sent)) + "\r\n"
	stored.Scope.Query = "/v1.0/groups/0b8f3a5e-3f29-4d8b-9f5c-1c2b8d7e6a10/members/microsoft.graph.user/?$count=true&$filter=(userType+eq+'Guest')"
	stored.Reviewers[0].Query = "/v1.0/users/5c1e8d2a-7b3f-4e6a-9d0c-2f4b6a8e1c3d"
	stored.Settings.Recurrence.Range = &RecurrenceRange{Type: "numbered", StartDate: "2025-12-01", EndDate: "9999-12-31"}
	stored.Settings.Recurrence.Pattern.FirstDayOfWeek = "sunday"
	stored.Settings.Recurrence.Pattern.Index = "first"
	fields, known := ChangedSinceWritten(stored)
	require.True(t, known)
	require.Empty(t, fields)
}

func TestChangedSinceWritten(t *testing.T) {
	written := WrittenDigest(writtenExample())
	tests := []struct {
		name   string
		edit   func(d *Definition)
		marker string
		want   []string
		known  bool
	}{
		{"unchanged", func(*Definition) {}, MarkerWithDigest("g", written), nil, true},
		{"description edited", func(d *Definition) { d.DescriptionForAdmins = "Monthly." }, MarkerWithDigest("g", written), []string{"descriptionForAdmins"}, true},
		{"settings and display name edited", func(d *Definition) {
			d.DisplayName = "Guests!"
			d.Settings.InstanceDurationInDays = ptrInt(7)
		}, MarkerWithDigest("g", written), []string{"displayName", "settings"}, true},
		{"no digest: nothing to say", func(d *Definition) { d.DisplayName = "x" }, Marker("g"), nil, false},
		{"a digest of another kind", func(d *Definition) { d.DisplayName = "x" }, "[arsync:g v2:abc]", nil, false},
		{"a v1 digest of the wrong length", func(d *Definition) { d.DisplayName = "x" }, "[arsync:g v1:abc]", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := writtenExample()
			tt.edit(&d)
			d.DescriptionForAdmins = WithMarker(d.DescriptionForAdmins, "g")
			d.DescriptionForAdmins = StripMarker(d.DescriptionForAdmins) + "\n" + tt.marker
			got, known := ChangedSinceWritten(d)
			require.Equal(t, tt.known, known)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
}
