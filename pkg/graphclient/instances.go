package graphclient

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
)

// Instance is an accessReviewInstance: one run of a definition for one
// period (and, for reviews over many groups, one group).
type Instance struct {
	ID                string          `json:"id,omitempty"`
	StartDateTime     string          `json:"startDateTime,omitempty"`
	EndDateTime       string          `json:"endDateTime,omitempty"`
	Status            string          `json:"status,omitempty"`
	Scope             *Scope          `json:"scope,omitempty"`
	Reviewers         []ReviewerScope `json:"reviewers,omitempty"`
	FallbackReviewers []ReviewerScope `json:"fallbackReviewers,omitempty"`
}

// Decision is an accessReviewInstanceDecisionItem. Graph declares it an open
// type (and beta adds target, applyDescription and more): properties not
// modelled here are kept in Extra and written back by MarshalJSON.
// Timestamps that Graph sends as null decode to "".
type Decision struct {
	ID               string            `json:"id,omitempty"`
	AccessReviewID   string            `json:"accessReviewId,omitempty"` // the parent instance's id
	Decision         string            `json:"decision,omitempty"`       // Approve, Deny, NotReviewed, DontKnow
	Justification    string            `json:"justification,omitempty"`
	Recommendation   string            `json:"recommendation,omitempty"` // Approve, Deny, NoInfoAvailable
	ApplyResult      string            `json:"applyResult,omitempty"`    // New, AppliedSuccessfully, ...
	AppliedBy        *UserIdentity     `json:"appliedBy,omitempty"`
	AppliedDateTime  string            `json:"appliedDateTime,omitempty"`
	ReviewedBy       *UserIdentity     `json:"reviewedBy,omitempty"`
	ReviewedDateTime string            `json:"reviewedDateTime,omitempty"`
	Principal        *Identity         `json:"principal,omitempty"`
	PrincipalLink    string            `json:"principalLink,omitempty"`
	Resource         *DecisionResource `json:"resource,omitempty"`
	ResourceLink     string            `json:"resourceLink,omitempty"`

	// Extra holds the properties not modelled above, as received.
	Extra map[string]json.RawMessage `json:"-"`
}

type decisionFields Decision // no methods: plain struct encoding

// UnmarshalJSON decodes the modelled properties and keeps the rest in Extra.
func (d *Decision) UnmarshalJSON(b []byte) error {
	var f decisionFields
	extra, err := unmarshalOpen(b, &f)
	if err != nil {
		return err
	}
	f.Extra = extra
	*d = Decision(f)
	return nil
}

// MarshalJSON encodes the modelled properties and Extra.
func (d Decision) MarshalJSON() ([]byte, error) {
	return marshalOpen(decisionFields(d), d.Extra)
}

// Identity is a Graph identity as found in a decision's principal: a user
// (#microsoft.graph.userIdentity) or a service principal
// (#microsoft.graph.servicePrincipalIdentity, which has appId).
type Identity struct {
	ODataType         string `json:"@odata.type,omitempty"`
	ID                string `json:"id,omitempty"`
	DisplayName       string `json:"displayName,omitempty"`
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	AppID             string `json:"appId,omitempty"`
}

// DecisionResource is an accessReviewInstanceDecisionItemResource: what
// access is reviewed (a group, an application, a role, ...). Its subtypes'
// own properties are kept in Extra.
type DecisionResource struct {
	ODataType   string `json:"@odata.type,omitempty"`
	ID          string `json:"id,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	Type        string `json:"type,omitempty"` // Group, ServicePrincipal, DirectoryRole, AzureRole, ...

	Extra map[string]json.RawMessage `json:"-"`
}

type decisionResourceFields DecisionResource

// UnmarshalJSON decodes the modelled properties and keeps the rest in Extra.
func (r *DecisionResource) UnmarshalJSON(b []byte) error {
	var f decisionResourceFields
	extra, err := unmarshalOpen(b, &f)
	if err != nil {
		return err
	}
	f.Extra = extra
	*r = DecisionResource(f)
	return nil
}

// MarshalJSON encodes the modelled properties and Extra.
func (r DecisionResource) MarshalJSON() ([]byte, error) {
	return marshalOpen(decisionResourceFields(r), r.Extra)
}

// Reviewer is an accessReviewReviewer: someone contacted to review an instance.
type Reviewer struct {
	ID                string `json:"id,omitempty"`
	DisplayName       string `json:"displayName,omitempty"`
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	CreatedDateTime   string `json:"createdDateTime,omitempty"`
}

func (c *Client) instancesPath(defID string) string {
	return definitionsPath + "/" + url.PathEscape(defID) + "/instances"
}

func (c *Client) instancePath(defID, instID string) string {
	return c.instancesPath(defID) + "/" + url.PathEscape(instID)
}

// ListInstances iterates over the instances of a definition, all pages.
//
// Graph API docs: https://learn.microsoft.com/graph/api/accessreviewscheduledefinition-list-instances?view=graph-rest-1.0
func (c *Client) ListInstances(ctx context.Context, defID string, opts *ListOptions) iter.Seq2[*Instance, error] {
	if err := checkID("definition", defID); err != nil {
		return errSeq[Instance](err)
	}
	u, err := c.listURL(c.instancesPath(defID), opts)
	if err != nil {
		return errSeq[Instance](err)
	}
	return listPages[Instance](ctx, c, u)
}

// GetInstance returns one instance of a definition.
//
// Graph API docs: https://learn.microsoft.com/graph/api/accessreviewinstance-get?view=graph-rest-1.0
func (c *Client) GetInstance(ctx context.Context, defID, instID string) (*Instance, error) {
	if err := checkID("definition", defID); err != nil {
		return nil, err
	}
	if err := checkID("instance", instID); err != nil {
		return nil, err
	}
	var in Instance
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
func (c *Client) ListDecisions(ctx context.Context, defID, instID string, opts *ListOptions) iter.Seq2[*Decision, error] {
	if err := checkID("definition", defID); err != nil {
		return errSeq[Decision](err)
	}
	if err := checkID("instance", instID); err != nil {
		return errSeq[Decision](err)
	}
	u, err := c.listURL(c.instancePath(defID, instID)+"/decisions", opts)
	if err != nil {
		return errSeq[Decision](err)
	}
	return listPages[Decision](ctx, c, u)
}

// ListContactedReviewers iterates over the reviewers contacted for an instance.
//
// Graph API docs: https://learn.microsoft.com/graph/api/accessreviewinstance-list-contactedreviewers?view=graph-rest-1.0
func (c *Client) ListContactedReviewers(ctx context.Context, defID, instID string, opts *ListOptions) iter.Seq2[*Reviewer, error] {
	if err := checkID("definition", defID); err != nil {
		return errSeq[Reviewer](err)
	}
	if err := checkID("instance", instID); err != nil {
		return errSeq[Reviewer](err)
	}
	u, err := c.listURL(c.instancePath(defID, instID)+"/contactedReviewers", opts)
	if err != nil {
		return errSeq[Reviewer](err)
	}
	return listPages[Reviewer](ctx, c, u)
}
