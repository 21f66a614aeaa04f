package report

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/arsync/arsync/pkg/graph"
)

// MaxStages is the most stages a review can have (docs/graph-behaviour.md#stages).
const MaxStages = 3

// StageStatus is one stage of a multi-stage instance with its decisions
// counted (the stage's own items: those that reached it).
type StageStatus struct {
	Stage         int            `json:"stage"` // 1 for the first stage
	ID            string         `json:"id"`
	Status        string         `json:"status"`
	StartDateTime string         `json:"startDateTime"`
	EndDateTime   string         `json:"endDateTime"`
	Total         int            `json:"total"`
	Decisions     map[string]int `json:"decisions"`
}

// readStages lists an instance's stages in the order they ran (by start;
// Graph does not promise an order).
func readStages(ctx context.Context, src Source, def *graph.Definition, instID string) ([]*graph.Stage, error) {
	var out []*graph.Stage
	for st, err := range src.ListStages(ctx, def.ID, instID, nil) {
		if err != nil {
			return nil, fmt.Errorf("listing the stages of instance %s of %q: %w", instID, def.DisplayName, err)
		}
		out = append(out, st)
	}
	slices.SortStableFunc(out, func(a, b *graph.Stage) int { return startOf(a).Compare(startOf(b)) })
	return out, nil
}

func startOf(st *graph.Stage) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, st.StartDateTime)
	return t
}

// stageStatuses reads the stages of a multi-stage instance and counts each
// one's decisions; current is the running stage's number, else the last's,
// and reviewers that stage's reviewers.
func stageStatuses(ctx context.Context, src Source, def *graph.Definition, instID string) (stages []StageStatus, current int, reviewers []graph.ReviewerScope, err error) {
	list, err := readStages(ctx, src, def, instID)
	if err != nil {
		return nil, 0, nil, err
	}
	stages = make([]StageStatus, 0, len(list))
	for i, st := range list {
		ss := StageStatus{Stage: i + 1, ID: st.ID, Status: st.Status,
			StartDateTime: utc(st.StartDateTime), EndDateTime: utc(st.EndDateTime), Decisions: map[string]int{}}
		for d, err := range src.ListStageDecisions(ctx, def.ID, instID, st.ID, &graph.ListOptions{Select: []string{"id", "decision"}}) {
			if err != nil {
				return nil, 0, nil, fmt.Errorf("listing the decisions of stage %d of instance %s of %q: %w", i+1, instID, def.DisplayName, err)
			}
			ss.Total++
			ss.Decisions[d.Decision]++
		}
		stages = append(stages, ss)
		if st.Status == "InProgress" || current == 0 || stages[current-1].Status != "InProgress" {
			current = i + 1
		}
	}
	if current > 0 {
		reviewers = list[current-1].Reviewers
	}
	return stages, current, reviewers, nil
}
