package graphclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/arsync/arsync/pkg/graph"
)

// Reviewers' decisions and the actions on an instance
// (docs/graph-behaviour.md#instances-and-decisions, #instance-actions). Every action answers 204; one the
// instance's status does not allow fails (the emulator answers 409, see
// IsConflict).

// Instance actions that take no body.
const (
	ActionStop                  = "stop"                  // end the instance now; decisions are applied with auto-apply
	ActionApplyDecisions        = "applyDecisions"        // apply a Completed instance's decisions
	ActionResetDecisions        = "resetDecisions"        // set every item back to NotReviewed
	ActionSendReminder          = "sendReminder"          // remind the reviewers of a running instance
	ActionAcceptRecommendations = "acceptRecommendations" // take the recommendation on the caller's unreviewed items (delegated only)
)

// BatchDecision is the body of batchRecordDecisions: Decision on every item
// of the instance, or on those of PrincipalID and/or ResourceID.
type BatchDecision struct {
	Decision      string `json:"decision"` // Approve, Deny, NotReviewed or DontKnow
	Justification string `json:"justification,omitempty"`
	PrincipalID   string `json:"principalId,omitempty"`
	ResourceID    string `json:"resourceId,omitempty"`
}

func (c *Client) decisionURL(defID, instID, decisionID string) (string, error) {
	for what, id := range map[string]string{"definition": defID, "instance": instID, "decision": decisionID} {
		if err := checkID(what, id); err != nil {
			return "", err
		}
	}
	return c.base.String() + c.instancePath(defID, instID) + "/decisions/" + url.PathEscape(decisionID), nil
}

// GetDecision returns one decision item of an instance.
//
// Graph API docs: https://learn.microsoft.com/graph/api/accessreviewinstancedecisionitem-get?view=graph-rest-1.0
func (c *Client) GetDecision(ctx context.Context, defID, instID, decisionID string) (*graph.Decision, error) {
	u, err := c.decisionURL(defID, instID, decisionID)
	if err != nil {
		return nil, err
	}
	var d graph.Decision
	if _, err := c.doJSON(ctx, call{method: http.MethodGet, url: u, idempotent: true}, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// RecordDecision records the signed-in reviewer's decision on one item
// (PATCH; Graph allows it with delegated permission only, for a reviewer
// of the item).
//
// Graph API docs: https://learn.microsoft.com/graph/api/accessreviewinstancedecisionitem-update?view=graph-rest-1.0
func (c *Client) RecordDecision(ctx context.Context, defID, instID, decisionID, decision, justification string) error {
	u, err := c.decisionURL(defID, instID, decisionID)
	if err != nil {
		return err
	}
	body, err := graph.MarshalNoEscape(map[string]string{"decision": decision, "justification": justification})
	if err != nil {
		return err
	}
	// The same PATCH sent twice leaves the same item: safe to retry.
	_, err = c.doJSON(ctx, call{method: http.MethodPatch, url: u, body: body, idempotent: true}, nil)
	return err
}

// InstanceAction posts one of the Action* actions to an instance.
//
// Graph API docs: https://learn.microsoft.com/graph/api/accessreviewinstance-stop?view=graph-rest-1.0 (and -applydecisions, -resetdecisions, -sendreminder, -acceptrecommendations)
func (c *Client) InstanceAction(ctx context.Context, defID, instID, action string) error {
	switch action {
	case ActionStop, ActionApplyDecisions, ActionResetDecisions, ActionSendReminder, ActionAcceptRecommendations:
	default:
		return fmt.Errorf("unknown access review instance action %q", action)
	}
	return c.postAction(ctx, defID, instID, action, nil)
}

// BatchRecordDecisions records one decision on many items of an instance.
//
// Graph API docs: https://learn.microsoft.com/graph/api/accessreviewinstance-batchrecorddecisions?view=graph-rest-1.0
func (c *Client) BatchRecordDecisions(ctx context.Context, defID, instID string, b BatchDecision) error {
	if b.Decision == "" {
		return fmt.Errorf("batchRecordDecisions: a decision is required")
	}
	body, err := graph.MarshalNoEscape(b)
	if err != nil {
		return err
	}
	return c.postAction(ctx, defID, instID, "batchRecordDecisions", body)
}

// postAction sends an action. Actions change state and some cannot be
// repeated (a second stop fails), so they are not retried after an
// outcome that may have happened, like a create.
func (c *Client) postAction(ctx context.Context, defID, instID, action string, body []byte) error {
	if err := checkID("definition", defID); err != nil {
		return err
	}
	if err := checkID("instance", instID); err != nil {
		return err
	}
	u := c.base.String() + c.instancePath(defID, instID) + "/" + action
	_, err := c.doJSON(ctx, call{method: http.MethodPost, url: u, body: body}, nil)
	return err
}
