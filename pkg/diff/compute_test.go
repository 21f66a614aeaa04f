package diff

import (
	"bytes"
	"errors"
	"math/rand"
	"strings"
	"testing"

	"github.com/arsync/arsync/pkg/graph"
	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

func desiredOf(name string, d graph.Definition) Desired {
	return Desired{Name: name, Source: "reviews/" + name + ".yaml:3", Definition: d}
}

func TestComputeActions(t *testing.T) {
	type mod = func(*graph.Definition)
	tests := []struct {
		name       string
		desired    []mod // nil: no desired definition
		live       []mod // nil: no live definition
		liveMarked bool
		wantAction Action // "" means no change at all
		wantFields []string
		forcing    []string
	}{
		{name: "create", desired: []mod{}, wantAction: Create},
		{name: "noop", desired: []mod{}, live: []mod{}, liveMarked: true, wantAction: NoOp},
		{name: "delete", live: []mod{}, liveMarked: true, wantAction: Delete},
		{name: "unmanaged is left alone", live: []mod{}, wantAction: ""},
		{name: "adopt without other changes", desired: []mod{}, live: []mod{}, wantAction: Adopt},
		{name: "adopt with a change", desired: []mod{func(d *graph.Definition) { d.Settings.InstanceDurationInDays = ptr(7) }}, live: []mod{},
			wantAction: Adopt, wantFields: []string{"settings.instanceDurationInDays"}},
		{name: "adopt that must replace", desired: []mod{func(d *graph.Definition) { d.Scope.Query = "/groups/" + groupID + "/members" }}, live: []mod{},
			wantAction: Replace, wantFields: []string{"scope.query"}, forcing: []string{"scope.query"}},
		{name: "update settings", desired: []mod{func(d *graph.Definition) {
			d.Settings.InstanceDurationInDays = ptr(7)
			d.Settings.Recurrence.Range.Type, d.Settings.Recurrence.Range.EndDate = "endDate", "2026-01-08"
		}}, live: []mod{}, liveMarked: true,
			wantAction: Update, wantFields: []string{"settings.instanceDurationInDays", "settings.recurrence.range.type", "settings.recurrence.range.endDate"}},
		{name: "update names and descriptions", desired: []mod{func(d *graph.Definition) {
			d.DisplayName, d.DescriptionForAdmins, d.DescriptionForReviewers = "New name", "New admin text", "New reviewer text"
		}}, live: []mod{}, liveMarked: true,
			wantAction: Update, wantFields: []string{"displayName", "descriptionForAdmins", "descriptionForReviewers"}},
		{name: "user reviewers change in place", desired: []mod{func(d *graph.Definition) {
			d.Reviewers = []graph.ReviewerScope{{Query: "/users/" + bobID}}
		}}, live: []mod{}, liveMarked: true, wantAction: Update, wantFields: []string{"reviewers"}},
		{name: "fallback reviewers change in place", desired: []mod{func(d *graph.Definition) {
			d.FallbackReviewers = []graph.ReviewerScope{{Query: "./owners"}}
		}}, live: []mod{}, liveMarked: true, wantAction: Update, wantFields: []string{"fallbackReviewers"}},
		{name: "users to owners replaces", desired: []mod{func(d *graph.Definition) {
			d.Reviewers = []graph.ReviewerScope{{Query: "/groups/" + groupID + "/owners"}}
		}}, live: []mod{}, liveMarked: true, wantAction: Replace, wantFields: []string{"reviewers"}, forcing: []string{"reviewers"}},
		{name: "manager to users replaces", desired: []mod{}, live: []mod{func(d *graph.Definition) {
			d.Reviewers = []graph.ReviewerScope{{Query: "./manager", QueryRoot: "decisions"}}
		}}, liveMarked: true, wantAction: Replace, wantFields: []string{"reviewers"}, forcing: []string{"reviewers"}},
		{name: "self-review to users replaces", desired: []mod{}, live: []mod{func(d *graph.Definition) { d.Reviewers = nil }},
			liveMarked: true, wantAction: Replace, wantFields: []string{"reviewers"}, forcing: []string{"reviewers"}},
		{name: "scope replaces", desired: []mod{func(d *graph.Definition) {
			d.Scope.Query = "/groups/" + groupID + "/members"
			d.Settings.InstanceDurationInDays = ptr(7)
		}}, live: []mod{}, liveMarked: true,
			wantAction: Replace, wantFields: []string{"scope.query", "settings.instanceDurationInDays"}, forcing: []string{"scope.query"}},
		{name: "instanceEnumerationScope replaces", desired: []mod{func(d *graph.Definition) {
			d.InstanceEnumerationScope = &graph.Scope{Query: "/groups?$filter=(groupTypes/any(c:c eq 'Unified'))"}
		}}, live: []mod{}, liveMarked: true,
			wantAction: Replace, wantFields: []string{"instanceEnumerationScope"}, forcing: []string{"instanceEnumerationScope"}},
		{name: "stageSettings replaces", desired: []mod{func(d *graph.Definition) {
			d.StageSettings = []graph.StageSettings{{StageID: "1", DurationInDays: 2}, {StageID: "2", DependsOn: []string{"1"}, DurationInDays: 3}}
		}}, live: []mod{func(d *graph.Definition) {
			d.StageSettings = []graph.StageSettings{{StageID: "1", DurationInDays: 2}, {StageID: "2", DependsOn: []string{"1"}, DurationInDays: 4}}
		}}, liveMarked: true,
			wantAction: Replace, wantFields: []string{"stageSettings[1].durationInDays"}, forcing: []string{"stageSettings[1].durationInDays"}},
		{name: "a new stage replaces", desired: []mod{func(d *graph.Definition) {
			d.StageSettings = []graph.StageSettings{{StageID: "1", DurationInDays: 2}, {StageID: "2", DependsOn: []string{"1"}, DurationInDays: 3}}
		}}, live: []mod{func(d *graph.Definition) {
			d.StageSettings = []graph.StageSettings{{StageID: "1", DurationInDays: 2}}
		}}, liveMarked: true, wantAction: Replace, wantFields: []string{"stageSettings"}, forcing: []string{"stageSettings"}},
		{name: "additionalNotificationRecipients replaces", desired: []mod{func(d *graph.Definition) {
			d.AdditionalNotificationRecipients = []graph.NotificationRecipientItem{{NotificationRecipientScope: &graph.Scope{Query: "/users/" + bobID}}}
		}}, live: []mod{}, liveMarked: true,
			wantAction: Replace, wantFields: []string{"additionalNotificationRecipients"}, forcing: []string{"additionalNotificationRecipients"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var desired []Desired
			var live []graph.Definition
			if tt.desired != nil {
				desired = append(desired, desiredOf("project", baseDef(tt.desired...)))
			}
			if tt.live != nil {
				name := ""
				if tt.liveMarked {
					name = "project"
				}
				live = append(live, liveOf(baseDef(tt.live...), "11111111-0000-0000-0000-000000000001", name))
			}
			p := compute(t, desired, live)
			if tt.wantAction == "" {
				require.Empty(t, p.Changes)
				require.Len(t, p.Unmanaged, 1)
				require.False(t, p.HasChanges())
				return
			}
			require.Len(t, p.Changes, 1)
			c := p.Changes[0]
			require.Equal(t, tt.wantAction, c.Action)
			require.Equal(t, tt.wantAction != NoOp, p.HasChanges())
			require.Empty(t, p.Unmanaged)
			if c.Action == Create {
				return
			}
			var paths, forcing []string
			for _, f := range c.Fields {
				paths = append(paths, f.Path)
				if f.ForcesReplacement {
					forcing = append(forcing, f.Path)
				}
			}
			require.Equal(t, tt.wantFields, paths)
			require.Equal(t, tt.forcing, forcing)
		})
	}
}

func TestComputeFieldValues(t *testing.T) {
	desired := baseDef(func(d *graph.Definition) {
		d.Settings.InstanceDurationInDays = ptr(7)
		d.Reviewers = []graph.ReviewerScope{{Query: "/users/" + bobID}}
	})
	live := liveOf(baseDef(), "11111111-0000-0000-0000-000000000001", "project")
	dd := desiredOf("project", desired)
	dd.Display = map[string]string{bobID: "bob@contoso.com", aliceID: "alice@contoso.com", groupID: "Project"}
	p := compute(t, []Desired{dd}, []graph.Definition{live})
	require.Len(t, p.Changes, 1)
	c := p.Changes[0]
	want := []FieldChange{
		{Path: "reviewers",
			Before: []any{map[string]any{"query": "/users/" + aliceID, "queryType": "MicrosoftGraph"}},
			After:  []any{map[string]any{"query": "/users/" + bobID, "queryType": "MicrosoftGraph"}}},
		{Path: "settings.instanceDurationInDays", Before: float64(3), After: float64(7)},
	}
	require.Empty(t, cmp.Diff(want, c.Fields))
	require.Equal(t, map[string]string{aliceID: "alice@contoso.com", bobID: "bob@contoso.com"}, c.Labels)
	require.Positive(t, c.UnchangedFields)
	require.Equal(t, Fingerprint(live), c.LiveFingerprint)
	require.Empty(t, cmp.Diff(&live, c.Before, ignoreRead))
}

// TestComputeLabels: Options.Labels names ids in every change's fields, as
// a Desired's Display does, which wins where both name an id.
func TestComputeLabels(t *testing.T) {
	desired := baseDef(func(d *graph.Definition) {
		d.Reviewers = []graph.ReviewerScope{{Query: "/users/" + bobID}}
	})
	live := liveOf(baseDef(), "11111111-0000-0000-0000-000000000001", "project")
	dd := desiredOf("project", desired)
	dd.Display = map[string]string{bobID: "bob@contoso.com"}
	p, err := Compute([]Desired{dd}, []graph.Definition{live}, Options{Now: testNow, Labels: map[string]string{
		strings.ToUpper(aliceID): "alice@contoso.com", // the live side's reviewer
		bobID:                    "Bob (from the live side)",
		groupID:                  "Project", // in no changed field
	}})
	require.NoError(t, err)
	require.Len(t, p.Changes, 1)
	require.Equal(t, map[string]string{aliceID: "alice@contoso.com", bobID: "bob@contoso.com"}, p.Changes[0].Labels)

	// Without changed fields there is nothing to label.
	p, err = Compute([]Desired{desiredOf("project", baseDef())}, []graph.Definition{live}, Options{Labels: map[string]string{aliceID: "alice"}})
	require.NoError(t, err)
	require.Nil(t, p.Changes[0].Labels)
}

// TestComputeRequestBodies checks the exact bodies apply will send.
func TestComputeRequestBodies(t *testing.T) {
	const id = "11111111-0000-0000-0000-000000000001"
	t.Run("create: the desired body with the marker", func(t *testing.T) {
		d := baseDef()
		p := compute(t, []Desired{desiredOf("project", d)}, nil)
		want := d
		want.DescriptionForAdmins = "Members of the project group\n[arsync:project " + graph.WrittenDigest(d) + "]"
		require.Empty(t, cmp.Diff(&want, p.Changes[0].After, ignoreRead))
	})
	t.Run("update: desired plus live id and immutable fields", func(t *testing.T) {
		// The live side spells its immutable fields the way Graph stores them.
		live := liveOf(baseDef(), id, "project", func(l *graph.Definition) {
			l.Scope.Query = "/v1.0/groups/" + groupID + "/transitiveMembers/microsoft.graph.user"
			l.Reviewers[0].QueryRoot = "decisions"
			l.Reviewers[0].Query = "/v1.0/users/" + aliceID
			l.Settings.InstanceDurationInDays = ptr(5)
		})
		d := baseDef()
		p := compute(t, []Desired{desiredOf("project", d)}, []graph.Definition{live})
		c := p.Changes[0]
		require.Equal(t, Update, c.Action)
		want := d
		want.ID = id
		// The digest of the YAML: the live spelling of the fields sent back
		// means the same.
		want.DescriptionForAdmins = "Members of the project group\n[arsync:project " + graph.WrittenDigest(d) + "]"
		want.Scope = live.Scope
		want.Reviewers = live.Reviewers // unchanged by meaning: sent back as stored
		require.Empty(t, cmp.Diff(&want, c.After, ignoreRead))
		require.Empty(t, c.After.Status)
		require.Nil(t, c.After.CreatedBy)
	})
	t.Run("update of user reviewers sends the new ones", func(t *testing.T) {
		live := liveOf(baseDef(), id, "project")
		d := baseDef(func(d *graph.Definition) { d.Reviewers = []graph.ReviewerScope{{Query: "/users/" + bobID}} })
		p := compute(t, []Desired{desiredOf("project", d)}, []graph.Definition{live})
		require.Equal(t, d.Reviewers, p.Changes[0].After.Reviewers)
	})
	t.Run("adopt: the desired description with the marker", func(t *testing.T) {
		live := liveOf(baseDef(func(d *graph.Definition) { d.DescriptionForAdmins = "made in the portal" }), id, "")
		p := compute(t, []Desired{desiredOf("project", baseDef())}, []graph.Definition{live})
		c := p.Changes[0]
		require.Equal(t, Adopt, c.Action)
		require.Equal(t, "Members of the project group\n[arsync:project "+graph.WrittenDigest(baseDef())+"]", c.After.DescriptionForAdmins)
		require.Equal(t, id, c.After.ID)
		require.Equal(t, []string{"descriptionForAdmins"}, []string{c.Fields[0].Path})
	})
	t.Run("replace: a POST body without id", func(t *testing.T) {
		live := liveOf(baseDef(), id, "project")
		d := baseDef(func(d *graph.Definition) { d.Scope.Query = "/groups/" + groupID + "/members" })
		p := compute(t, []Desired{desiredOf("project", d)}, []graph.Definition{live})
		c := p.Changes[0]
		require.Equal(t, Replace, c.Action)
		require.Equal(t, id, c.ID)
		require.Empty(t, c.After.ID)
		require.Equal(t, d.Scope, c.After.Scope)
	})
}

func TestComputeMarkerNeverAField(t *testing.T) {
	live := liveOf(baseDef(), "11111111-0000-0000-0000-000000000001", "project", func(l *graph.Definition) {
		l.DescriptionForAdmins = "Members of the project group  \r\n[arsync:project]\r\n"
	})
	p := compute(t, []Desired{desiredOf("project", baseDef())}, []graph.Definition{live})
	require.Equal(t, NoOp, p.Changes[0].Action)
}

func TestComputeDuplicateMarkers(t *testing.T) {
	older := liveOf(baseDef(), "22222222-0000-0000-0000-000000000002", "project", func(l *graph.Definition) {
		l.CreatedDateTime = "2024-03-01T08:00:00Z"
	})
	younger := liveOf(baseDef(), "11111111-0000-0000-0000-000000000001", "project", func(l *graph.Definition) {
		l.CreatedDateTime = "2024-03-01T09:00:00.1234567Z"
	})
	live := []graph.Definition{younger, older}
	desired := []Desired{desiredOf("project", baseDef())}

	_, err := Compute(desired, live, Options{Now: testNow})
	var dup *DuplicateMarkerError
	require.ErrorAs(t, err, &dup)
	require.Equal(t, "project", dup.Name)
	require.Equal(t, []string{older.ID, younger.ID}, []string{dup.Definitions[0].ID, dup.Definitions[1].ID})
	require.Contains(t, err.Error(), "--allow-delete")

	p, err := Compute(desired, live, Options{Now: testNow, DeleteDuplicates: true})
	require.NoError(t, err)
	require.Len(t, p.Changes, 2)
	require.Equal(t, Delete, p.Changes[0].Action)
	require.Equal(t, younger.ID, p.Changes[0].ID)
	require.Equal(t, Fingerprint(younger), p.Changes[0].LiveFingerprint)
	require.Equal(t, NoOp, p.Changes[1].Action)
	require.Equal(t, older.ID, p.Changes[1].ID, "the older one is kept")
	require.Equal(t, Summary{Delete: 1, NoOp: 1}, p.Summary)

	// A duplicated marker whose YAML is gone: all copies are deleted.
	p, err = Compute(nil, live, Options{Now: testNow, DeleteDuplicates: true})
	require.NoError(t, err)
	require.Equal(t, Summary{Delete: 2}, p.Summary)
}

func TestComputeAmbiguousAdoption(t *testing.T) {
	a := liveOf(baseDef(), "11111111-0000-0000-0000-000000000001", "")
	b := liveOf(baseDef(), "22222222-0000-0000-0000-000000000002", "")
	t.Run("two candidates", func(t *testing.T) {
		_, err := Compute([]Desired{desiredOf("project", baseDef())}, []graph.Definition{a, b}, Options{})
		var amb *AmbiguousAdoptionError
		require.ErrorAs(t, err, &amb)
		require.Equal(t, []string{"project"}, amb.Names)
		require.Len(t, amb.Candidates, 2)
		require.Contains(t, err.Error(), a.ID)
		require.Contains(t, err.Error(), b.ID)
	})
	t.Run("two claimants", func(t *testing.T) {
		_, err := Compute([]Desired{desiredOf("project", baseDef()), desiredOf("project-2", baseDef())}, []graph.Definition{a}, Options{})
		var amb *AmbiguousAdoptionError
		require.ErrorAs(t, err, &amb)
		require.Equal(t, []string{"project", "project-2"}, amb.Names)
	})
	t.Run("a marked match wins over adoption", func(t *testing.T) {
		m := liveOf(baseDef(), "33333333-0000-0000-0000-000000000003", "project")
		p := compute(t, []Desired{desiredOf("project", baseDef())}, []graph.Definition{a, b, m})
		require.Equal(t, Summary{NoOp: 1}, p.Summary)
		require.Len(t, p.Unmanaged, 2)
	})
}

func TestComputeInputErrors(t *testing.T) {
	tests := []struct {
		name    string
		desired []Desired
		live    []graph.Definition
		want    []string
	}{
		{"bad name", []Desired{desiredOf("Bad_Name", baseDef())}, nil, []string{"reviews/Bad_Name.yaml:3: Bad_Name: metadata.name must be"}},
		{"empty name", []Desired{{Definition: baseDef()}}, nil, []string{"metadata.name must be"}},
		{"name twice", []Desired{desiredOf("a", baseDef()), {Name: "a", Source: "other.yaml:9", Definition: baseDef()}}, nil, []string{"used twice"}},
		{"live without id", nil, []graph.Definition{{DisplayName: "x"}}, []string{`definition "x" has no id`}},
		{"live id twice", nil, []graph.Definition{liveOf(baseDef(), "1", ""), liveOf(baseDef(), "1", "")}, []string{"live definition 1: listed twice"}},
		{"all problems at once", []Desired{desiredOf("A", baseDef())}, []graph.Definition{{DisplayName: "x"}}, []string{"metadata.name must be", "has no id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compute(tt.desired, tt.live, Options{})
			require.Nil(t, p)
			require.Error(t, err)
			var ie *InputError
			require.True(t, errors.As(err, &ie))
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

// allSixLive and allSixDesired make a plan with every action at once.
func allSix() ([]Desired, []graph.Definition) {
	desired := []Desired{
		desiredOf("new-review", baseDef(func(d *graph.Definition) { d.DisplayName = "New review" })),
		desiredOf("tuned", baseDef(func(d *graph.Definition) {
			d.DisplayName = "Tuned review"
			d.Settings.InstanceDurationInDays = ptr(7)
			d.Reviewers = []graph.ReviewerScope{{Query: "/users/" + bobID}}
		})),
		desiredOf("portal-made", baseDef(func(d *graph.Definition) {
			d.DisplayName = "Made in the portal"
			d.Settings.ReminderNotificationsEnabled = ptr(false)
		})),
		desiredOf("rescoped", baseDef(func(d *graph.Definition) {
			d.DisplayName = "Rescoped review"
			d.Scope.Query = "/groups/" + groupID + "/members"
		})),
		desiredOf("steady", baseDef(func(d *graph.Definition) { d.DisplayName = "Steady review" })),
	}
	desired[1].Display = map[string]string{aliceID: "alice@contoso.com", bobID: "bob@contoso.com"}
	live := []graph.Definition{
		liveOf(baseDef(func(d *graph.Definition) { d.DisplayName = "Tuned review" }), "11111111-0000-0000-0000-000000000001", "tuned"),
		liveOf(baseDef(func(d *graph.Definition) {
			d.DisplayName = "Made in the portal"
			d.DescriptionForAdmins = "Created by hand"
		}), "22222222-0000-0000-0000-000000000002", ""),
		liveOf(baseDef(func(d *graph.Definition) { d.DisplayName = "Rescoped review" }), "33333333-0000-0000-0000-000000000003", "rescoped"),
		liveOf(baseDef(func(d *graph.Definition) { d.DisplayName = "Retired review" }), "44444444-0000-0000-0000-000000000004", "retired"),
		liveOf(baseDef(func(d *graph.Definition) { d.DisplayName = "Steady review" }), "55555555-0000-0000-0000-000000000005", "steady"),
		liveOf(baseDef(func(d *graph.Definition) { d.DisplayName = "Someone else's review" }), "66666666-0000-0000-0000-000000000006", ""),
	}
	return desired, live
}

func TestComputeAllSix(t *testing.T) {
	desired, live := allSix()
	p := compute(t, desired, live)
	got := map[string]Action{}
	for _, c := range p.Changes {
		got[c.Name] = c.Action
	}
	require.Equal(t, map[string]Action{
		"new-review": Create, "tuned": Update, "portal-made": Adopt, "rescoped": Replace, "retired": Delete, "steady": NoOp,
	}, got)
	require.Equal(t, Summary{Create: 1, Update: 1, Adopt: 1, Replace: 1, Delete: 1, NoOp: 1}, p.Summary)
	require.Equal(t, []Unmanaged{{ID: "66666666-0000-0000-0000-000000000006", DisplayName: "Someone else's review"}}, p.Unmanaged)
	require.Len(t, p.Warnings, 2)
}

// TestComputeDeterministic: the order of the inputs never shows in the plan.
func TestComputeDeterministic(t *testing.T) {
	desired, live := allSix()
	var want bytes.Buffer
	require.NoError(t, RenderJSON(&want, compute(t, desired, live)))
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 50; i++ {
		d := append([]Desired(nil), desired...)
		l := append([]graph.Definition(nil), live...)
		r.Shuffle(len(d), func(i, j int) { d[i], d[j] = d[j], d[i] })
		r.Shuffle(len(l), func(i, j int) { l[i], l[j] = l[j], l[i] })
		var got bytes.Buffer
		require.NoError(t, RenderJSON(&got, compute(t, d, l)))
		require.Equal(t, want.String(), got.String(), "shuffle %d", i)
	}
}

func TestComputeDoesNotModifyItsInputs(t *testing.T) {
	desired, live := allSix()
	wantD, wantL := cloneDesired(desired), cloneLive(live)
	p := compute(t, desired, live)
	require.Empty(t, cmp.Diff(wantD, desired, ignoreRead))
	require.Empty(t, cmp.Diff(wantL, live, ignoreRead))
	// Nor does the plan share memory with them.
	for _, c := range p.Changes {
		if c.After != nil && c.After.Settings != nil {
			c.After.Settings.InstanceDurationInDays = ptr(99)
		}
		if c.Before != nil && c.Before.Settings != nil {
			c.Before.Settings.InstanceDurationInDays = ptr(99)
		}
	}
	require.Empty(t, cmp.Diff(wantD, desired, ignoreRead))
	require.Empty(t, cmp.Diff(wantL, live, ignoreRead))
}

func cloneDesired(ds []Desired) []Desired {
	out := make([]Desired, len(ds))
	for i, d := range ds {
		out[i] = d
		out[i].Definition = *clone(&d.Definition)
	}
	return out
}

func cloneLive(ls []graph.Definition) []graph.Definition {
	out := make([]graph.Definition, len(ls))
	for i := range ls {
		out[i] = *clone(&ls[i])
	}
	return out
}

func TestComputeStartDateWarning(t *testing.T) {
	live := liveOf(baseDef(), "11111111-0000-0000-0000-000000000001", "project")
	d := baseDef(func(d *graph.Definition) { d.Settings.Recurrence.Range.StartDate = "2025-02-01" })
	p := compute(t, []Desired{desiredOf("project", d)}, []graph.Definition{live})
	require.Equal(t, Update, p.Changes[0].Action)
	require.Len(t, p.Warnings, 1)
	require.Contains(t, p.Warnings[0], "started on 2025-01-08")

	// Not yet started: no warning.
	p, err := Compute([]Desired{desiredOf("project", d)}, []graph.Definition{live}, Options{Now: testNow.AddDate(-1, 0, 0)})
	require.NoError(t, err)
	require.Empty(t, p.Warnings)
}

func TestFingerprint(t *testing.T) {
	a := liveOf(baseDef(), "1", "project")
	b := *clone(&a)
	require.Equal(t, Fingerprint(a), Fingerprint(b))
	require.Regexp(t, `^sha256:[0-9a-f]{64}$`, Fingerprint(a))
	// Read-only fields Graph moves by itself are not arsync's to manage.
	b.LastModifiedDateTime = "2025-01-03T00:00:00Z"
	b.Status = "InProgress"
	require.Equal(t, Fingerprint(a), Fingerprint(b))
	c := *clone(&a)
	c.Settings.MailNotificationsEnabled = ptr(false)
	require.NotEqual(t, Fingerprint(a), Fingerprint(c))
}
