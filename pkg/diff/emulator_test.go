package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/spec"
)

// The tests in this file run the central promise of docs/safety.md#the-actions against
// pkg/emulator, whose rewriting of stored values is written from the Graph
// reference independently of Normalize: desired -> plan -> apply -> list ->
// plan shows no changes. Plain HTTP is used, so that nothing but the
// emulator's wire format is assumed.

const definitionsURL = "/v1.0/identityGovernance/accessReviews/definitions"

type emu struct {
	t     testing.TB
	base  string
	token string
	defs  string // the definitions collection: definitionsURL, or beta's
}

func startEmulator(t testing.TB, opts emulator.Options) *emu {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = func() time.Time { return testNow }
	}
	if opts.Seed == 0 {
		opts.Seed = 7
	}
	srv, err := emulator.New(opts)
	require.NoError(t, err)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &emu{t: t, base: hs.URL, token: srv.Token("admin@contoso.com"), defs: definitionsURL}
}

func (e *emu) do(method, path string, body any) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(e.t, err)
		rd = bytes.NewReader(b)
	}
	u := path
	if !strings.HasPrefix(u, "http") {
		u = e.base + path
	}
	req, err := http.NewRequest(method, u, rd)
	require.NoError(e.t, err)
	req.Header.Set("Authorization", "Bearer "+e.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	return resp.StatusCode, b
}

// list reads every definition, page by page, as graphclient would.
func (e *emu) list() []graph.Definition {
	e.t.Helper()
	var all []graph.Definition
	next := e.defs
	for next != "" {
		status, b := e.do(http.MethodGet, next, nil)
		require.Equal(e.t, http.StatusOK, status, "list: %s", b)
		var page struct {
			Value    []graph.Definition `json:"value"`
			NextLink string             `json:"@odata.nextLink"`
		}
		require.NoError(e.t, json.Unmarshal(b, &page))
		all = append(all, page.Value...)
		next = page.NextLink
	}
	return all
}

// apply performs p the way pkg/apply does: creates, then updates and
// adoptions (PUT of the whole body), then replaces and deletes.
func (e *emu) apply(p *Plan) {
	e.t.Helper()
	post := func(c Change) {
		status, b := e.do(http.MethodPost, e.defs, c.After)
		require.Equal(e.t, http.StatusCreated, status, "%s %s: %s", c.Action, c.Name, b)
	}
	del := func(c Change) {
		status, b := e.do(http.MethodDelete, e.defs+"/"+url.PathEscape(c.ID), nil)
		require.Equal(e.t, http.StatusNoContent, status, "%s %s: %s", c.Action, c.Name, b)
	}
	for _, phase := range [][]Action{{Create}, {Update, Adopt}, {Replace, Delete}} {
		for _, c := range p.Changes {
			if !containsAction(phase, c.Action) {
				continue
			}
			switch c.Action {
			case Create:
				post(c)
			case Update, Adopt:
				status, b := e.do(http.MethodPut, e.defs+"/"+url.PathEscape(c.ID), c.After)
				require.Contains(e.t, []int{http.StatusOK, http.StatusNoContent}, status, "%s %s: %s", c.Action, c.Name, b)
			case Replace:
				del(c)
				post(c)
			case Delete:
				del(c)
			}
		}
	}
}

func containsAction(as []Action, a Action) bool {
	for _, x := range as {
		if x == a {
			return true
		}
	}
	return false
}

// requireNoChanges fails with the plan when it is not empty.
func requireNoChanges(t testing.TB, p *Plan, what string) {
	t.Helper()
	if p.HasChanges() {
		var b bytes.Buffer
		_ = RenderText(&b, p, TextOptions{})
		t.Fatalf("%s: false drift:\n%s", what, b.String())
	}
}

// emulatorVariants are the documented forms the emulator can store values in.
var emulatorVariants = []struct {
	name string
	opts emulator.Options
}{
	{"as-sent", emulator.Options{}},
	{"numbered-ranges", emulator.Options{RangeStyle: emulator.RangeNumbered}},
	{"plain-queries", emulator.Options{PlainScopeQueries: true}},
}

// httpResolver resolves spec references against the emulator's directory.
type httpResolver struct{ e *emu }

func (r httpResolver) ResolveID(kind spec.RefKind, name string) (string, error) {
	var path string
	filter := func(collection string) string {
		return "/v1.0/" + collection + "?$filter=" + url.QueryEscape("displayName eq '"+strings.ReplaceAll(name, "'", "''")+"'")
	}
	switch kind {
	case spec.RefUser:
		path = "/v1.0/users/" + url.PathEscape(name)
	case spec.RefGroup:
		path = filter("groups")
	case spec.RefServicePrincipal:
		path = filter("servicePrincipals")
	case spec.RefRole:
		path = filter("roleManagement/directory/roleDefinitions")
	default:
		return "", fmt.Errorf("unknown kind %s", kind)
	}
	status, b := r.e.do(http.MethodGet, path, nil)
	if status != http.StatusOK {
		return "", fmt.Errorf("%s %q: HTTP %d: %s", kind, name, status, b)
	}
	var one struct {
		ID    string `json:"id"`
		Value []struct {
			ID string `json:"id"`
		} `json:"value"`
	}
	if err := json.Unmarshal(b, &one); err != nil {
		return "", err
	}
	if kind == spec.RefUser {
		return one.ID, nil
	}
	if len(one.Value) != 1 {
		return "", fmt.Errorf("%s %q: %d matches", kind, name, len(one.Value))
	}
	return one.Value[0].ID, nil
}

func loadExamples(t *testing.T, e *emu) []Desired {
	t.Helper()
	res, err := spec.Load("../../examples/reviews")
	require.NoError(t, err)
	require.False(t, res.Diagnostics.HasErrors(), "%v", res.Diagnostics)
	require.NotEmpty(t, res.Definitions)
	var desired []Desired
	for _, d := range res.Definitions {
		g, err := d.ToGraph(httpResolver{e})
		require.NoError(t, err, d.Name)
		desired = append(desired, Desired{Name: d.Name, Source: fmt.Sprintf("%s:%d", d.Source.File, d.Source.Line), Definition: g})
	}
	return desired
}

// TestEmulatorNoFalseDriftExamples: every example under examples/reviews,
// created in the emulator and read back, plans no change.
func TestEmulatorNoFalseDriftExamples(t *testing.T) {
	for _, v := range emulatorVariants {
		t.Run(v.name, func(t *testing.T) {
			e := startEmulator(t, v.opts)
			desired := loadExamples(t, e)
			p := compute(t, desired, e.list())
			require.Equal(t, len(desired), p.Summary.Create)
			e.apply(p)
			requireNoChanges(t, compute(t, desired, e.list()), "examples")
		})
	}
}

// TestEmulatorNoFalseDriftDocumented: each documented request of
// each documented request (docs/graph-behaviour.md#documented-payloads), created in the emulator and read back, plans no change.
func TestEmulatorNoFalseDriftDocumented(t *testing.T) {
	for _, v := range emulatorVariants {
		t.Run(v.name, func(t *testing.T) {
			e := startEmulator(t, v.opts)
			var desired []Desired
			for i, f := range []string{"20.1-request.json", "20.2-request.json", "20.3-request.json", "20.4-request.json"} {
				desired = append(desired, Desired{Name: fmt.Sprintf("doc-%d", i+1), Definition: readDefinition(t, f)})
			}
			p := compute(t, desired, e.list())
			e.apply(p)
			requireNoChanges(t, compute(t, desired, e.list()), "documented payloads")
		})
	}
}

// TestEmulatorNoFalseDriftProperty: 500 generated definitions (fixed seed)
// are created; the next plan is empty. Then one real change is made to each
// and applied (updates through PUT, replaces through DELETE and POST); the
// next plan is empty again, so the PUT bodies are right too.
func TestEmulatorNoFalseDriftProperty(t *testing.T) {
	if testing.Short() {
		t.Skip("500 definitions through the emulator")
	}
	const cases = 500
	for _, v := range emulatorVariants {
		t.Run(v.name, func(t *testing.T) {
			r := rand.New(rand.NewSource(20250601))
			e := startEmulator(t, v.opts)
			desired := make([]Desired, cases)
			for i := range desired {
				desired[i] = Desired{Name: fmt.Sprintf("generated-%03d", i), Definition: genDefinition(r, i)}
			}
			p := compute(t, desired, e.list())
			require.Equal(t, cases, p.Summary.Create)
			e.apply(p)
			requireNoChanges(t, compute(t, desired, e.list()), "after create")

			for i := range desired {
				desired[i].Definition = *clone(&desired[i].Definition)
				mutate(r, &desired[i].Definition)
			}
			p = compute(t, desired, e.list())
			require.Equal(t, cases, p.Summary.Update+p.Summary.Replace, "every change is seen")
			e.apply(p)
			requireNoChanges(t, compute(t, desired, e.list()), "after update")
		})
	}
}

// TestEmulatorAllActionsConverge starts from a tenant that needs every
// action (adopt, update, replace, delete, noop, create, and an unmanaged
// definition to leave alone), applies the plan, and checks that the next
// plan is empty and the unmanaged definition untouched.
func TestEmulatorAllActionsConverge(t *testing.T) {
	e := startEmulator(t, emulator.Options{})
	desired := loadExamples(t, e)
	require.GreaterOrEqual(t, len(desired), 5)
	seed := func(d graph.Definition, name string) {
		body := d.UpdateBody()
		if name != "" {
			body.DescriptionForAdmins = graph.WithMarker(body.DescriptionForAdmins, name)
		}
		status, b := e.do(http.MethodPost, definitionsURL, &body)
		require.Equal(t, http.StatusCreated, status, "%s", b)
	}
	seed(desired[0].Definition, "") // adopt
	changed := *clone(&desired[1].Definition)
	changed.Settings.InstanceDurationInDays = ptr(27)
	seed(changed, desired[1].Name) // update
	rescoped := *clone(&desired[2].Definition)
	rescoped.Scope = &graph.Scope{ODataType: graph.TypeQueryScope, Query: "/groups/" + groupID + "/members", QueryType: "MicrosoftGraph"}
	rescoped.InstanceEnumerationScope = nil
	seed(rescoped, desired[2].Name)              // replace
	seed(desired[3].Definition, desired[3].Name) // noop
	seed(desired[3].Definition, "retired")       // delete
	unmanaged := *clone(&desired[4].Definition)
	unmanaged.DisplayName = "Made in the portal"
	seed(unmanaged, "") // unmanaged

	p := compute(t, desired, e.list())
	require.Equal(t, Summary{Adopt: 1, Update: 1, Replace: 1, Delete: 1, NoOp: 1, Create: len(desired) - 4}, p.Summary)
	require.Len(t, p.Unmanaged, 1)
	e.apply(p)

	after := compute(t, desired, e.list())
	requireNoChanges(t, after, "after apply")
	require.Equal(t, p.Unmanaged, after.Unmanaged)
	require.Equal(t, len(desired), after.Summary.NoOp)
}
