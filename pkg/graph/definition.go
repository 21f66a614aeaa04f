package graph

// Wire types for Microsoft Graph's accessReviewScheduleDefinition (v1.0) and
// the complex types it contains. Field names and JSON tags are Graph's own.
//
// Conventions:
//   - Optional scalars that Graph treats as non-null with a default (the
//     settings booleans, instanceDurationInDays) are pointers, so a request
//     body carries exactly what the user wrote and a response keeps what the
//     service filled in. Normalisation (pkg/diff) decides what is equal.
//   - Polymorphic types (scopes, apply actions, insight settings) are one flat
//     struct with the "@odata.type" discriminator and the union of the
//     subtypes' fields. This keeps encoding deterministic and go-cmp friendly.
//   - Strings that Graph may return as null decode to "".
//   - Encoding is deterministic: the same value always gives the same bytes.
//   - A Definition decoded from JSON keeps what was read and encodes as that
//     object with its changed fields laid over it (readback.go), so a PUT
//     built from it sends back what it does not change, byte for byte.

// OData type names used in access-review payloads.
const (
	TypeQueryScope                    = "#microsoft.graph.accessReviewQueryScope"
	TypeInactiveUsersQueryScope       = "#microsoft.graph.accessReviewInactiveUsersQueryScope"
	TypePrincipalResourceMemberships  = "#microsoft.graph.principalResourceMembershipsScope"
	TypeNotificationRecipientQuery    = "#microsoft.graph.accessReviewNotificationRecipientQueryScope"
	TypeRemoveAccessApplyAction       = "#microsoft.graph.removeAccessApplyAction"
	TypeDisableAndDeleteUserAction    = "#microsoft.graph.disableAndDeleteUserApplyAction"
	TypeUserLastSignInInsight         = "#microsoft.graph.userLastSignInRecommendationInsightSetting"
	TypeGroupPeerOutlierInsight       = "#microsoft.graph.groupPeerOutlierRecommendationInsightSettings"
	QueryTypeMicrosoftGraph           = "MicrosoftGraph"
	NotificationTemplateCompletedRecp = "CompletedAdditionalRecipients"
)

// Definition is an accessReviewScheduleDefinition.
type Definition struct {
	ID                               string                      `json:"id,omitempty"`
	DisplayName                      string                      `json:"displayName,omitempty"`
	CreatedDateTime                  string                      `json:"createdDateTime,omitempty"`
	LastModifiedDateTime             string                      `json:"lastModifiedDateTime,omitempty"`
	Status                           string                      `json:"status,omitempty"`
	DescriptionForAdmins             string                      `json:"descriptionForAdmins,omitempty"`
	DescriptionForReviewers          string                      `json:"descriptionForReviewers,omitempty"`
	CreatedBy                        *UserIdentity               `json:"createdBy,omitempty"`
	Scope                            *Scope                      `json:"scope,omitempty"`
	InstanceEnumerationScope         *Scope                      `json:"instanceEnumerationScope,omitempty"`
	Reviewers                        []ReviewerScope             `json:"reviewers,omitempty"`
	FallbackReviewers                []ReviewerScope             `json:"fallbackReviewers,omitempty"`
	Settings                         *ScheduleSettings           `json:"settings,omitempty"`
	StageSettings                    []StageSettings             `json:"stageSettings,omitempty"`
	AdditionalNotificationRecipients []NotificationRecipientItem `json:"additionalNotificationRecipients,omitempty"`

	// raw is the object d was decoded from (compact), nil for a definition
	// built in Go. MarshalJSON lays d's fields over it, so that what was
	// read is what is sent back (see readback.go). It is never modified in
	// place: copies of d share it. go-cmp compares definitions with
	// cmpopts.IgnoreUnexported(graph.Definition{}).
	raw []byte
}

// UpdateBody returns the body of a PUT for d: the whole object, without the
// read-only properties Graph rejects or ignores on update
// (docs/graph-behaviour.md#put-not-patch). For a definition that was read,
// those members and the OData annotations other than "@odata.type" are
// also dropped from what was read; every other member read is kept.
func (d Definition) UpdateBody() Definition {
	d.CreatedBy = nil
	d.CreatedDateTime = ""
	d.LastModifiedDateTime = ""
	d.Status = ""
	if d.raw != nil {
		d.raw = withoutMembers(d.raw, readOnlyMember)
	}
	return d
}

// UserIdentity identifies a user, as in createdBy, reviewedBy and appliedBy.
type UserIdentity struct {
	ODataType         string `json:"@odata.type,omitempty"`
	ID                string `json:"id,omitempty"`
	DisplayName       string `json:"displayName,omitempty"`
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
}

// Scope is the union of accessReviewQueryScope,
// accessReviewInactiveUsersQueryScope and principalResourceMembershipsScope
// (and, in notification recipients, accessReviewNotificationRecipientQueryScope).
type Scope struct {
	ODataType        string  `json:"@odata.type,omitempty"`
	Query            string  `json:"query,omitempty"`
	QueryType        string  `json:"queryType,omitempty"`
	QueryRoot        string  `json:"queryRoot,omitempty"`
	InactiveDuration string  `json:"inactiveDuration,omitempty"`
	PrincipalScopes  []Scope `json:"principalScopes,omitempty"`
	ResourceScopes   []Scope `json:"resourceScopes,omitempty"`
}

// ReviewerScope is an accessReviewReviewerScope.
type ReviewerScope struct {
	Query     string `json:"query,omitempty"`
	QueryType string `json:"queryType,omitempty"`
	QueryRoot string `json:"queryRoot,omitempty"`
}

// ScheduleSettings is an accessReviewScheduleSettings.
type ScheduleSettings struct {
	MailNotificationsEnabled             *bool                          `json:"mailNotificationsEnabled,omitempty"`
	ReminderNotificationsEnabled         *bool                          `json:"reminderNotificationsEnabled,omitempty"`
	JustificationRequiredOnApproval      *bool                          `json:"justificationRequiredOnApproval,omitempty"`
	DefaultDecisionEnabled               *bool                          `json:"defaultDecisionEnabled,omitempty"`
	DefaultDecision                      string                         `json:"defaultDecision,omitempty"`
	InstanceDurationInDays               *int                           `json:"instanceDurationInDays,omitempty"`
	AutoApplyDecisionsEnabled            *bool                          `json:"autoApplyDecisionsEnabled,omitempty"`
	RecommendationsEnabled               *bool                          `json:"recommendationsEnabled,omitempty"`
	RecommendationLookBackDuration       string                         `json:"recommendationLookBackDuration,omitempty"`
	DecisionHistoriesForReviewersEnabled *bool                          `json:"decisionHistoriesForReviewersEnabled,omitempty"`
	Recurrence                           *PatternedRecurrence           `json:"recurrence,omitempty"`
	ApplyActions                         []ApplyAction                  `json:"applyActions,omitempty"`
	RecommendationInsightSettings        []RecommendationInsightSetting `json:"recommendationInsightSettings,omitempty"`
}

// PatternedRecurrence is a patternedRecurrence. A one-time review has no Pattern.
type PatternedRecurrence struct {
	Pattern *RecurrencePattern `json:"pattern,omitempty"`
	Range   *RecurrenceRange   `json:"range,omitempty"`
}

// RecurrencePattern is a recurrencePattern. Access reviews accept only type,
// interval and dayOfMonth; the service returns every field filled in.
type RecurrencePattern struct {
	Type           string   `json:"type,omitempty"`
	Interval       int      `json:"interval,omitempty"`
	Month          int      `json:"month,omitempty"`
	DayOfMonth     int      `json:"dayOfMonth,omitempty"`
	DaysOfWeek     []string `json:"daysOfWeek,omitempty"`
	FirstDayOfWeek string   `json:"firstDayOfWeek,omitempty"`
	Index          string   `json:"index,omitempty"`
}

// RecurrenceRange is a recurrenceRange. Dates are YYYY-MM-DD.
type RecurrenceRange struct {
	Type                string `json:"type,omitempty"`
	NumberOfOccurrences int    `json:"numberOfOccurrences,omitempty"`
	RecurrenceTimeZone  string `json:"recurrenceTimeZone,omitempty"`
	StartDate           string `json:"startDate,omitempty"`
	EndDate             string `json:"endDate,omitempty"`
}

// ApplyAction is an accessReviewApplyAction; its subtypes have no properties.
type ApplyAction struct {
	ODataType string `json:"@odata.type,omitempty"`
}

// RecommendationInsightSetting is the union of
// userLastSignInRecommendationInsightSetting and
// groupPeerOutlierRecommendationInsightSettings.
type RecommendationInsightSetting struct {
	ODataType                      string `json:"@odata.type,omitempty"`
	RecommendationLookBackDuration string `json:"recommendationLookBackDuration,omitempty"`
	SignInScope                    string `json:"signInScope,omitempty"`
}

// StageSettings is an accessReviewStageSettings.
type StageSettings struct {
	StageID                          string                         `json:"stageId,omitempty"`
	DependsOn                        []string                       `json:"dependsOn,omitempty"`
	DurationInDays                   int                            `json:"durationInDays,omitempty"`
	RecommendationsEnabled           *bool                          `json:"recommendationsEnabled,omitempty"`
	DecisionsThatWillMoveToNextStage []string                       `json:"decisionsThatWillMoveToNextStage,omitempty"`
	Reviewers                        []ReviewerScope                `json:"reviewers,omitempty"`
	FallbackReviewers                []ReviewerScope                `json:"fallbackReviewers,omitempty"`
	RecommendationInsightSettings    []RecommendationInsightSetting `json:"recommendationInsightSettings,omitempty"`
}

// NotificationRecipientItem is an accessReviewNotificationRecipientItem.
type NotificationRecipientItem struct {
	NotificationTemplateType   string `json:"notificationTemplateType,omitempty"`
	NotificationRecipientScope *Scope `json:"notificationRecipientScope,omitempty"`
}
