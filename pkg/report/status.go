package report

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/arsync/arsync/pkg/graph"
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

// DefinitionStatus is one managed definition.
type DefinitionStatus struct {
	Name           string           `json:"name"`
	ID             string           `json:"id"`
	DisplayName    string           `json:"displayName"`
	Status         string           `json:"status"`
	TotalInstances int              `json:"totalInstances"`
	Instances      []InstanceStatus `json:"instances"` // the current one per resource
	// StageCount is the number of stages of a multi-stage review (0: one stage).
	StageCount int `json:"stageCount,omitempty"`
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
	// For a multi-stage review: the running stage's number (else the
	// last one's) and the stages so far, each with its own items.
	Stage  int           `json:"stage,omitempty"`
	Stages []StageStatus `json:"stages,omitempty"`
}

// StatusFormatVersion is the version of the JSON status format.
const StatusFormatVersion = 1

// Status reads the managed definitions (those named in names, or all when
// names is empty), picks each one's current instance per resource (the
// running one, else the latest) and counts its decisions.
func Status(ctx context.Context, src Source, names []string, now time.Time) (*StatusReport, error) {
	rep := &StatusReport{FormatVersion: StatusFormatVersion, GeneratedAt: now.UTC().Format(time.RFC3339),
		Definitions: []DefinitionStatus{}, Missing: []string{}}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	found := map[string]bool{}
	nm := newNames(src)
	for def, err := range src.ListDefinitions(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("listing access review definitions: %w", err)
		}
		name := graph.ManagedName(def)
		if name == "" || len(want) > 0 && !want[name] {
			continue
		}
		found[name] = true
		ds, err := definitionStatus(ctx, src, nm, def, name)
		if err != nil {
			return nil, err
		}
		rep.Definitions = append(rep.Definitions, ds)
	}
	for _, n := range names {
		if !found[n] && !slices.Contains(rep.Missing, n) {
			rep.Missing = append(rep.Missing, n)
		}
	}
	slices.Sort(rep.Missing)
	slices.SortStableFunc(rep.Definitions, func(a, b DefinitionStatus) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return rep, nil
}

func definitionStatus(ctx context.Context, src Source, nm *names, def *graph.Definition, name string) (DefinitionStatus, error) {
	ds := DefinitionStatus{Name: name, ID: def.ID, DisplayName: def.DisplayName, Status: def.Status, Instances: []InstanceStatus{},
		StageCount: len(def.StageSettings)}
	// The current instance per resource: keyed by the instance's scope.
	current := map[string]*graph.Instance{}
	var order []string
	for inst, err := range src.ListInstances(ctx, def.ID, nil) {
		if err != nil {
			return ds, fmt.Errorf("listing the instances of %q: %w", def.DisplayName, err)
		}
		ds.TotalInstances++
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
			n, err := nm.resolve(ctx, kind, id)
			if err != nil {
				return ds, fmt.Errorf("looking up the resource of instance %s: %w", inst.ID, err)
			}
			is.Resource, is.ResourceID, is.ResourceType = n, id, kind
		}
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
		// Only multi-stage reviews have stages: single-stage ones cost no
		// extra request.
		if ds.StageCount > 0 {
			var err error
			if is.Stages, is.Stage, err = stageStatuses(ctx, src, def, inst.ID); err != nil {
				return ds, err
			}
		}
		ds.Instances = append(ds.Instances, is)
	}
	slices.SortStableFunc(ds.Instances, func(a, b InstanceStatus) int {
		if c := strings.Compare(strings.ToLower(a.Resource), strings.ToLower(b.Resource)); c != 0 {
			return c
		}
		return strings.Compare(a.Scope, b.Scope)
	})
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
