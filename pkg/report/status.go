package report

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/arsync/arsync/pkg/graph"
	"golang.org/x/sync/errgroup"
)

// StatusReport is what "arsync status" shows: each managed definition with
// its Graph status and, per reviewed resource, its current instance.
type StatusReport struct {
	FormatVersion int                `json:"formatVersion"`
	GeneratedAt   string             `json:"generatedAt"`
	Definitions   []DefinitionStatus `json:"definitions"`
	// Missing are the names asked for that no definition in the tenant
	// carries (not applied yet).
	Missing []string `json:"missing"`
}

// DefinitionStatus is one definition: a managed one, or with --all any.
type DefinitionStatus struct {
	Name           string           `json:"name"` // arsync name; "" for an unmanaged definition
	Managed        bool             `json:"managed"`
	ID             string           `json:"id"`
	DisplayName    string           `json:"displayName"`
	Status         string           `json:"status"`
	TotalInstances int              `json:"totalInstances"`
	Instances      []InstanceStatus `json:"instances"` // the current one per resource
	// StageCount is the number of stages of a multi-stage review (0: one stage).
	StageCount int `json:"stageCount,omitempty"`
	// Reviewers and FallbackReviewers are the definition's (of a
	// multi-stage review: every stage's), each described.
	Reviewers         []Reviewer `json:"reviewers"`
	FallbackReviewers []Reviewer `json:"fallbackReviewers,omitempty"`
	// NextStartDateTime is when the next instance of a recurring review
	// starts, from its recurrence and its last instance; "" when none will.
	NextStartDateTime string `json:"nextStartDateTime,omitempty"`
}

// Reviewer is a reviewer query with a description for people: "owners of
// Marketing", a user's name, "each reviewed user's manager".
type Reviewer struct {
	Query       string `json:"query"`
	Description string `json:"description"`
}

// InstanceStatus is an instance with its decisions counted.
type InstanceStatus struct {
	ID            string `json:"id"`
	Resource      string `json:"resource"` // the group, application or role's name; "" when the scope names none
	ResourceID    string `json:"resourceId"`
	ResourceType  string `json:"resourceType"`
	Scope         string `json:"scope"`
	Status        string `json:"status"`
	StartDateTime string `json:"startDateTime"`
	EndDateTime   string `json:"endDateTime"`
	// Decisions counts items by decision (Approve, Deny, DontKnow,
	// NotReviewed), ApplyResults by applyResult (New, AppliedSuccessfully,
	// ...); Total is the number of items.
	Total        int            `json:"total"`
	Decisions    map[string]int `json:"decisions"`
	ApplyResults map[string]int `json:"applyResults"`
	// Decided counts the items reviewed (not NotReviewed), Pending those
	// not, and Overdue the pending items of an instance whose end has
	// passed on the session's clock.
	Decided int `json:"decided"`
	Pending int `json:"pending"`
	Overdue int `json:"overdue"`
	// Reviewers are the instance's own (for a multi-stage review, its
	// current stage's).
	Reviewers []Reviewer `json:"reviewers,omitempty"`
	// For a multi-stage review: the running stage's number (else the
	// last one's) and the stages so far, each with its own items.
	Stage  int           `json:"stage,omitempty"`
	Stages []StageStatus `json:"stages,omitempty"`
}

// StatusFormatVersion is the version of the JSON status format.
const StatusFormatVersion = 1

// StatusQuery selects the definitions Status reports.
type StatusQuery struct {
	// Names are managed names; empty: every managed definition.
	Names []string
	// All adds the definitions arsync does not manage (with no Names).
	All bool
	// History keeps every instance of each definition, oldest first,
	// instead of the current one per resource (arsync report).
	History bool
	// Since, with History, leaves out the instances that ended before it.
	Since time.Time
}

// Status reads the managed definitions (those named in names, or all when
// names is empty), picks each one's current instance per resource (the
// running one, else the latest) and counts its decisions.
func Status(ctx context.Context, src Source, names []string, now time.Time) (*StatusReport, error) {
	return StatusOf(ctx, src, StatusQuery{Names: names}, now)
}

// StatusOf is Status for a query. The names of resources and reviewers
// are read at the end, all at once (directoryObjects/getByIds takes up to
// 1000 ids a request), not per instance.
func StatusOf(ctx context.Context, src Source, q StatusQuery, now time.Time) (*StatusReport, error) {
	rep := &StatusReport{FormatVersion: StatusFormatVersion, GeneratedAt: now.UTC().Format(time.RFC3339),
		Definitions: []DefinitionStatus{}, Missing: []string{}}
	want := map[string]bool{}
	for _, n := range q.Names {
		want[n] = true
	}
	found := map[string]bool{}
	nm := newNames(src)
	var defs []*graph.Definition
	for def, err := range src.ListDefinitions(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("listing access review definitions: %w", err)
		}
		name := graph.ManagedName(def)
		if len(want) > 0 && !want[name] || len(want) == 0 && name == "" && !q.All {
			continue
		}
		found[name] = true
		defs = append(defs, def)
	}
	// Each definition's instances and decisions are lists of their own:
	// read several definitions at once, as the client's throttle allows,
	// rather than one round trip after another.
	rep.Definitions = make([]DefinitionStatus, len(defs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(statusConcurrency)
	for i, def := range defs {
		g.Go(func() error {
			ds, err := definitionStatus(gctx, src, def, graph.ManagedName(def), q, now)
			rep.Definitions[i] = ds
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := nameAll(ctx, nm, rep.Definitions); err != nil {
		return nil, err
	}
	if q.History { // over time, after nameAll's order by resource
		for i := range rep.Definitions {
			slices.SortStableFunc(rep.Definitions[i].Instances, func(a, b InstanceStatus) int {
				return strings.Compare(a.StartDateTime, b.StartDateTime)
			})
		}
	}
	for _, n := range q.Names {
		if !found[n] && !slices.Contains(rep.Missing, n) {
			rep.Missing = append(rep.Missing, n)
		}
	}
	slices.Sort(rep.Missing)
	slices.SortStableFunc(rep.Definitions, func(a, b DefinitionStatus) int {
		if a.Managed != b.Managed { // managed first
			if a.Managed {
				return -1
			}
			return 1
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		if c := strings.Compare(a.DisplayName, b.DisplayName); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return rep, nil
}

// statusConcurrency is how many definitions status reads at once.
const statusConcurrency = 8

func definitionStatus(ctx context.Context, src Source, def *graph.Definition, name string, q StatusQuery, now time.Time) (DefinitionStatus, error) {
	ds := DefinitionStatus{Name: name, Managed: name != "", ID: def.ID, DisplayName: def.DisplayName, Status: def.Status,
		Instances: []InstanceStatus{}, StageCount: len(def.StageSettings),
		Reviewers: reviewersOf(def.Reviewers), FallbackReviewers: reviewersOf(def.FallbackReviewers)}
	// Stages' reviewers replace the definition's (docs/graph-behaviour.md#reviewers).
	var staged []Reviewer
	for _, st := range def.StageSettings {
		staged = appendNew(staged, reviewersOf(st.Reviewers)...)
		ds.FallbackReviewers = appendNew(ds.FallbackReviewers, reviewersOf(st.FallbackReviewers)...)
	}
	if len(staged) > 0 {
		ds.Reviewers = staged
	}
	var lastStart time.Time
	// The current instance per resource: keyed by the instance's scope.
	current := map[string]*graph.Instance{}
	var order []string
	for inst, err := range src.ListInstances(ctx, def.ID, nil) {
		if err != nil {
			return ds, fmt.Errorf("listing the instances of %q: %w", def.DisplayName, err)
		}
		ds.TotalInstances++
		if t := parseTime(inst.StartDateTime); t.After(lastStart) {
			lastStart = t
		}
		if q.History {
			if end := parseTime(inst.EndDateTime); q.Since.IsZero() || end.IsZero() || !end.Before(q.Since) {
				key := inst.ID
				order = append(order, key)
				current[key] = inst
			}
			continue
		}
		key := ""
		if inst.Scope != nil {
			key = strings.ToLower(inst.Scope.Query)
		}
		cur, seen := current[key]
		if !seen {
			order = append(order, key)
		}
		if !seen || newer(inst, cur) {
			current[key] = inst
		}
	}
	for _, key := range order {
		inst := current[key]
		is := InstanceStatus{
			ID: inst.ID, Status: inst.Status,
			StartDateTime: utc(inst.StartDateTime), EndDateTime: utc(inst.EndDateTime),
			Decisions: map[string]int{}, ApplyResults: map[string]int{},
		}
		if inst.Scope != nil {
			is.Scope = inst.Scope.Query
		}
		if kind, id, ok := scopeResource(inst.Scope); ok {
			is.ResourceID, is.ResourceType = id, kind // named by nameAll
		}
		is.Reviewers = reviewersOf(inst.Reviewers)
		resources := map[string]string{}
		for d, err := range src.ListDecisions(ctx, def.ID, inst.ID, &graph.ListOptions{Select: []string{"id", "decision", "applyResult", "resource"}}) {
			if err != nil {
				return ds, fmt.Errorf("listing the decisions of instance %s of %q: %w", inst.ID, def.DisplayName, err)
			}
			is.Total++
			is.Decisions[d.Decision]++
			is.ApplyResults[d.ApplyResult]++
			if d.Resource != nil && len(resources) < 2 {
				resources[d.Resource.ID] = d.Resource.DisplayName
			}
		}
		// A scope that names no resource (principal resource memberships)
		// still has one when all its items share it.
		if is.ResourceID == "" && len(resources) == 1 {
			for id, n := range resources {
				is.ResourceID, is.Resource = id, n
			}
		}
		is.Pending = is.Decisions["NotReviewed"]
		is.Decided = is.Total - is.Pending
		if end := parseTime(inst.EndDateTime); !end.IsZero() && now.After(end) {
			is.Overdue = is.Pending
		}
		// Only multi-stage reviews have stages: single-stage ones cost no
		// extra request.
		if ds.StageCount > 0 {
			var err error
			var cur []graph.ReviewerScope
			if is.Stages, is.Stage, cur, err = stageStatuses(ctx, src, def, inst.ID); err != nil {
				return ds, err
			}
			if len(cur) > 0 {
				is.Reviewers = reviewersOf(cur)
			}
		}
		ds.Instances = append(ds.Instances, is)
	}
	if next, ok := nextStart(def, lastStart, now); ok {
		ds.NextStartDateTime = next.UTC().Format(time.RFC3339)
	}
	return ds, nil
}

// newer: a running instance beats one that is not; otherwise the later start.
func newer(a, b *graph.Instance) bool {
	ar, br := a.Status == "InProgress", b.Status == "InProgress"
	if ar != br {
		return ar
	}
	ta, _ := time.Parse(time.RFC3339Nano, a.StartDateTime)
	tb, _ := time.Parse(time.RFC3339Nano, b.StartDateTime)
	return ta.After(tb)
}
