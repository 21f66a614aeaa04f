package graph

import "encoding/json"

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

// Stage is an accessReviewStage: one stage of a multi-stage review's
// instance, with its own reviewers and decision items
// (docs/graph-behaviour.md#stages). A single-stage review's instance has
// none.
type Stage struct {
	ID                string          `json:"id,omitempty"`
	StartDateTime     string          `json:"startDateTime,omitempty"`
	EndDateTime       string          `json:"endDateTime,omitempty"`
	Status            string          `json:"status,omitempty"` // InProgress, Completed, ...
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
