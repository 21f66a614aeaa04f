package graphclient

import (
	"context"
	"iter"
	"net/http"
	"net/url"

	"github.com/arsync/arsync/pkg/graph"
)

func (c *Client) instancesPath(defID string) string {
	return definitionsPath + "/" + url.PathEscape(defID) + "/instances"
}

func (c *Client) instancePath(defID, instID string) string {
	return c.instancesPath(defID) + "/" + url.PathEscape(instID)
}

// ListInstances iterates over the instances of a definition, all pages.
//
// Graph API docs: https://learn.microsoft.com/graph/api/accessreviewscheduledefinition-list-instances?view=graph-rest-1.0
func (c *Client) ListInstances(ctx context.Context, defID string, opts *graph.ListOptions) iter.Seq2[*graph.Instance, error] {
	if err := checkID("definition", defID); err != nil {
		return errSeq[graph.Instance](err)
	}
	u, err := c.listURL(c.instancesPath(defID), opts)
	if err != nil {
		return errSeq[graph.Instance](err)
	}
	return listPages[graph.Instance](ctx, c, u)
}

// GetInstance returns one instance of a definition.
//
// Graph API docs: https://learn.microsoft.com/graph/api/accessreviewinstance-get?view=graph-rest-1.0
func (c *Client) GetInstance(ctx context.Context, defID, instID string) (*graph.Instance, error) {
	if err := checkID("definition", defID); err != nil {
		return nil, err
	}
	if err := checkID("instance", instID); err != nil {
		return nil, err
	}
	var in graph.Instance
	u := c.base.String() + c.instancePath(defID, instID)
	if _, err := c.doJSON(ctx, call{method: http.MethodGet, url: u, idempotent: true}, &in); err != nil {
		return nil, err
	}
	return &in, nil
}

// ListDecisions iterates over the decision items of an instance, page by
// page, so memory stays flat however many there are.
//
// Graph API docs: https://learn.microsoft.com/graph/api/accessreviewinstance-list-decisions?view=graph-rest-1.0
func (c *Client) ListDecisions(ctx context.Context, defID, instID string, opts *graph.ListOptions) iter.Seq2[*graph.Decision, error] {
	if err := checkID("definition", defID); err != nil {
		return errSeq[graph.Decision](err)
	}
	if err := checkID("instance", instID); err != nil {
		return errSeq[graph.Decision](err)
	}
	u, err := c.listURL(c.instancePath(defID, instID)+"/decisions", opts)
	if err != nil {
		return errSeq[graph.Decision](err)
	}
	return listPages[graph.Decision](ctx, c, u)
}

// ListContactedReviewers iterates over the reviewers contacted for an instance.
//
// Graph API docs: https://learn.microsoft.com/graph/api/accessreviewinstance-list-contactedreviewers?view=graph-rest-1.0
func (c *Client) ListContactedReviewers(ctx context.Context, defID, instID string, opts *graph.ListOptions) iter.Seq2[*graph.Reviewer, error] {
	if err := checkID("definition", defID); err != nil {
		return errSeq[graph.Reviewer](err)
	}
	if err := checkID("instance", instID); err != nil {
		return errSeq[graph.Reviewer](err)
	}
	u, err := c.listURL(c.instancePath(defID, instID)+"/contactedReviewers", opts)
	if err != nil {
		return errSeq[graph.Reviewer](err)
	}
	return listPages[graph.Reviewer](ctx, c, u)
}

func (c *Client) stagePath(defID, instID, stageID string) (string, error) {
	for _, id := range []struct{ what, id string }{{"definition", defID}, {"instance", instID}, {"stage", stageID}} {
		if err := checkID(id.what, id.id); err != nil {
			return "", err
		}
	}
	return c.instancePath(defID, instID) + "/stages/" + url.PathEscape(stageID), nil
}

// ListStages iterates over the stages of a multi-stage review's instance
// (none for a single-stage review), all pages.
//
// Graph API docs: https://learn.microsoft.com/graph/api/accessreviewinstance-list-stages?view=graph-rest-1.0
func (c *Client) ListStages(ctx context.Context, defID, instID string, opts *graph.ListOptions) iter.Seq2[*graph.Stage, error] {
	if err := checkID("definition", defID); err != nil {
		return errSeq[graph.Stage](err)
	}
	if err := checkID("instance", instID); err != nil {
		return errSeq[graph.Stage](err)
	}
	u, err := c.listURL(c.instancePath(defID, instID)+"/stages", opts)
	if err != nil {
		return errSeq[graph.Stage](err)
	}
	return listPages[graph.Stage](ctx, c, u)
}

// GetStage returns one stage of an instance.
//
// Graph API docs: https://learn.microsoft.com/graph/api/accessreviewstage-get?view=graph-rest-1.0
func (c *Client) GetStage(ctx context.Context, defID, instID, stageID string) (*graph.Stage, error) {
	p, err := c.stagePath(defID, instID, stageID)
	if err != nil {
		return nil, err
	}
	var st graph.Stage
	if _, err := c.doJSON(ctx, call{method: http.MethodGet, url: c.base.String() + p, idempotent: true}, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// ListStageDecisions iterates over the decision items of one stage, page
// by page: the items that reached that stage, with that stage's decisions.
//
// Graph API docs: https://learn.microsoft.com/graph/api/accessreviewstage-list-decisions?view=graph-rest-1.0
func (c *Client) ListStageDecisions(ctx context.Context, defID, instID, stageID string, opts *graph.ListOptions) iter.Seq2[*graph.Decision, error] {
	p, err := c.stagePath(defID, instID, stageID)
	if err != nil {
		return errSeq[graph.Decision](err)
	}
	u, err := c.listURL(p+"/decisions", opts)
	if err != nil {
		return errSeq[graph.Decision](err)
	}
	return listPages[graph.Decision](ctx, c, u)
}

// StopStage ends a running stage now; the next stage, if any, starts.
// Like the instance actions it is not retried after an outcome that may
// have happened: a second stop fails.
//
// Graph API docs: https://learn.microsoft.com/graph/api/accessreviewstage-stop?view=graph-rest-1.0
func (c *Client) StopStage(ctx context.Context, defID, instID, stageID string) error {
	p, err := c.stagePath(defID, instID, stageID)
	if err != nil {
		return err
	}
	_, err = c.doJSON(ctx, call{method: http.MethodPost, url: c.base.String() + p + "/stop"}, nil)
	return err
}
