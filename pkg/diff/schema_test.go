package diff

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/csdlcheck"
	"github.com/arsync/arsync/pkg/graph"
)

// The bodies arsync sends, checked against Microsoft Graph's schema: the
// same summaries of msgraph-metadata's CSDL that hold the emulator's
// responses (pkg/emulator/testdata/csdl). A request may leave properties
// out; it must not carry unknown ones, wrong JSON types or formats, enum
// values the schema lacks, null collections, or annotations it read.

func loadGraphSchema(t *testing.T, version string) *csdlcheck.Schema {
	t.Helper()
	dir := filepath.Join("..", "emulator", "testdata", "csdl")
	s, err := csdlcheck.Load(filepath.Join(dir, version+".json"), filepath.Join(dir, "supplement-"+version+".json"))
	require.NoError(t, err)
	return s
}

// bodyChecker collects the problems of every body of the plans it sees.
type bodyChecker struct {
	t        *testing.T
	schema   *csdlcheck.Schema
	problems []string
	bodies   map[Action]int
}

func (b *bodyChecker) plan(p *Plan, what string) {
	b.t.Helper()
	for _, c := range p.Changes {
		if c.After == nil || (c.Action != Create && c.Action != Update && c.Action != Adopt && c.Action != Replace) {
			continue
		}
		// The body graphclient sends: an update is the whole object minus
		// the read-only properties, with the live id.
		d := *c.After
		if c.Action == Update || c.Action == Adopt {
			d = d.UpdateBody()
			d.ID = c.ID
		}
		body, err := graph.MarshalNoEscape(&d)
		require.NoError(b.t, err)
		probs, err := b.schema.Check("accessReviewScheduleDefinition", body, csdlcheck.Options{Mode: csdlcheck.Request, NoAnnotations: true})
		require.NoError(b.t, err)
		b.bodies[c.Action]++
		for _, pr := range probs {
			b.problems = append(b.problems, fmt.Sprintf("%s: %s %s: %s", what, c.Action, c.Name, pr))
		}
	}
}

// TestRequestBodiesMatchGraphSchema: every body a plan of the example
// reviews sends, through v1.0 and beta and with each form the emulator can
// store values in: the creates, then an adoption, an update and a replace
// over what was read back, then an update of every example (PUT bodies
// are what was read with the changes laid over it).
func TestRequestBodiesMatchGraphSchema(t *testing.T) {
	for _, version := range []string{"v1.0", "beta"} {
		for _, v := range emulatorVariants {
			t.Run(version+"/"+v.name, func(t *testing.T) {
				b := &bodyChecker{t: t, schema: loadGraphSchema(t, version), bodies: map[Action]int{}}
				fresh := func() *emu {
					e := startEmulator(t, v.opts)
					e.defs = strings.Replace(definitionsURL, "/v1.0/", "/"+version+"/", 1)
					return e
				}
				e := fresh()
				desired := loadExamples(t, e)
				p := compute(t, desired, e.list())
				require.Equal(t, len(desired), p.Summary.Create)
				b.plan(p, "create")
				e.apply(p)

				// Every other action: adopt an unmarked copy, update a
				// changed one, replace a rescoped one.
				e = fresh()
				seed := func(d graph.Definition, name string) {
					body := d.UpdateBody()
					if name != "" {
						body.DescriptionForAdmins = graph.WithMarker(body.DescriptionForAdmins, name)
					}
					status, out := e.do(http.MethodPost, e.defs, &body)
					require.Equal(t, http.StatusCreated, status, "%s", out)
				}
				seed(desired[0].Definition, "")
				changed := *clone(&desired[1].Definition)
				changed.Settings.InstanceDurationInDays = ptr(27)
				seed(changed, desired[1].Name)
				rescoped := *clone(&desired[2].Definition)
				rescoped.Scope = &graph.Scope{ODataType: graph.TypeQueryScope, Query: "/groups/" + groupID + "/members", QueryType: graph.QueryTypeMicrosoftGraph}
				rescoped.InstanceEnumerationScope = nil
				seed(rescoped, desired[2].Name)
				p = compute(t, desired, e.list())
				require.Equal(t, Summary{Adopt: 1, Update: 1, Replace: 1, Create: len(desired) - 3}, p.Summary)
				b.plan(p, "every action")
				e.apply(p)
				requireNoChanges(t, compute(t, desired, e.list()), "after apply")

				// A change to every example: updates of what was read.
				for i := range desired {
					desired[i].Definition = *clone(&desired[i].Definition)
					desired[i].Definition.DescriptionForReviewers += " Thanks."
					desired[i].Definition.Settings.ReminderNotificationsEnabled = ptr(true)
				}
				p = compute(t, desired, e.list())
				require.Equal(t, len(desired), p.Summary.Update)
				b.plan(p, "update")
				e.apply(p)
				requireNoChanges(t, compute(t, desired, e.list()), "after update")

				if len(b.problems) > 0 {
					t.Fatalf("%d problems in the bodies arsync sends:\n%s", len(b.problems), strings.Join(b.problems, "\n"))
				}
				for _, a := range []Action{Create, Update, Adopt, Replace} {
					require.Positive(t, b.bodies[a], "no %s body was checked", a)
				}
			})
		}
	}
}

// TestBodyCheckerFindsProblems: the check above can fail. A definition
// read with what a body must not carry is caught.
func TestBodyCheckerFindsProblems(t *testing.T) {
	var d graph.Definition
	require.NoError(t, json.Unmarshal([]byte(`{"@odata.context": "x", "displayName": "d", "backupReviewers": [],
		"scope": {"@odata.type": "#microsoft.graph.accessReviewQueryScope", "query": "/users"},
		"settings": {"recommendationLookBackDuration": "P1M", "recurrence": {"range": {"type": "noEnd", "startDate": "2026-01-05T00:00:00Z"}}}}`), &d))
	b := &bodyChecker{t: t, schema: loadGraphSchema(t, "v1.0"), bodies: map[Action]int{}}
	b.plan(&Plan{Changes: []Change{{Action: Create, Name: "n", After: &d}}}, "test")
	require.Len(t, b.problems, 4, "%s", strings.Join(b.problems, "\n"))
	for i, want := range []string{"$.@odata.context: is an annotation", "$.backupReviewers: is not a property",
		"$.settings.recommendationLookBackDuration: \"P1M\" is not an Edm.Duration", "startDate: \"2026-01-05T00:00:00Z\" is not an Edm.Date"} {
		require.Contains(t, b.problems[i], want)
	}
}
