package spec

// APIVersion and Kind identify an arsync access review document.
const (
	APIVersion = "arsync/v1"
	Kind       = "AccessReviewDefinition"
)

// Definition is one desired access review definition, as written in a spec
// file. Its Spec uses Graph's field names; ToGraph turns it into a request
// body.
type Definition struct {
	// Name is metadata.name, the stable key written into the ownership marker.
	Name string
	// Source is the position of the document (its apiVersion line).
	Source Pos
	// NamePos is the position of the metadata.name value.
	NamePos Pos
	// PreviousNames are metadata.previousNames: names the definition had
	// before, so that a live definition still carrying one of their
	// markers is renamed rather than deleted and created again.
	PreviousNames []string
	// previousNamePos are the positions of PreviousNames' values.
	previousNamePos []Pos
	Spec            DefinitionSpec
}

// DefinitionSpec is Graph's accessReviewScheduleDefinition as the user
// wrote it: every writable v1.0 property, plus reference sugar for
// reviewers and notification recipients.
type DefinitionSpec struct {
	DisplayName                      string
	DescriptionForAdmins             string
	DescriptionForReviewers          string
	Scope                            *Scope
	InstanceEnumerationScope         *Scope
	Reviewers                        []Reviewer // nil or empty: self-review
	FallbackReviewers                []Reviewer
	AdditionalNotificationRecipients []NotificationRecipient
	Settings                         *Settings
	StageSettings                    []Stage
}

// ScopeType is the kind of a polymorphic accessReviewScope, by its short
// name.
type ScopeType string

// Scope kinds. In YAML, "type:" takes the short name and "@odata.type:" the
// full Graph type name.
const (
	ScopeQuery                        ScopeType = "query"                        // #microsoft.graph.accessReviewQueryScope
	ScopeInactiveUsers                ScopeType = "inactiveUsers"                // #microsoft.graph.accessReviewInactiveUsersQueryScope
	ScopePrincipalResourceMemberships ScopeType = "principalResourceMemberships" // #microsoft.graph.principalResourceMembershipsScope
)

// Scope is an accessReviewScope: what is reviewed (scope) or which
// resources get an instance each (instanceEnumerationScope).
type Scope struct {
	Type             ScopeType
	Query            string // may contain ${kind:name} references
	QueryType        string // "" means MicrosoftGraph
	QueryRoot        string
	InactiveDuration string  // ISO-8601 duration; inactiveUsers only
	PrincipalScopes  []Scope // principalResourceMemberships only
	ResourceScopes   []Scope // principalResourceMemberships only

	Pos      Pos // the scope's mapping
	QueryPos Pos // the query value

	refs []Reference // the ${kind:name} references in Query, in order
}

// Reviewer is an accessReviewReviewerScope, either raw (Query, QueryType,
// QueryRoot) or as exactly one of the reference forms.
type Reviewer struct {
	Query     string // may contain ${kind:name} references
	QueryType string // "" means MicrosoftGraph
	QueryRoot string

	User         string // {user: UPN|mail|id} -> /users/{id}
	GroupMembers string // {groupMembers: name|id} -> /groups/{id}/transitiveMembers
	GroupOwners  string // {groupOwners: name|id} -> /groups/{id}/owners
	Owners       bool   // {owners: true} -> ./owners
	Managers     bool   // {managers: true} -> ./manager with queryRoot decisions

	Pos      Pos // the entry's mapping
	ValuePos Pos // the query or reference value

	refs []Reference // the sugar's reference, or the ${kind:name} references in Query
}

// NotificationRecipient is an accessReviewNotificationRecipientItem. Its
// scope is written like a reviewer (raw query, user, groupMembers or
// groupOwners), either under notificationRecipientScope or directly in the
// item.
type NotificationRecipient struct {
	NotificationTemplateType string // "" means CompletedAdditionalRecipients
	Recipient                Reviewer
	Pos                      Pos
}

// Settings is an accessReviewScheduleSettings. Nil pointers are settings
// the user did not write; they are left out of the request body.
type Settings struct {
	MailNotificationsEnabled             *bool
	ReminderNotificationsEnabled         *bool
	JustificationRequiredOnApproval      *bool
	DefaultDecisionEnabled               *bool
	DefaultDecision                      string
	InstanceDurationInDays               *int
	AutoApplyDecisionsEnabled            *bool
	RecommendationsEnabled               *bool
	RecommendationLookBackDuration       string
	DecisionHistoriesForReviewersEnabled *bool
	Recurrence                           *Recurrence
	ApplyActions                         []ApplyAction
	RecommendationInsightSettings        []InsightSetting

	Pos         Pos
	lookBackPos Pos
}

// Recurrence is a patternedRecurrence. A nil Pattern is a one-time review.
type Recurrence struct {
	Pattern *Pattern
	Range   *Range
	Pos     Pos
}

// Pattern is the part of recurrencePattern that access reviews accept.
type Pattern struct {
	Type       string // weekly or absoluteMonthly
	Interval   int
	DayOfMonth int // 0: not set
	Pos        Pos
}

// Range is a recurrenceRange. Dates are YYYY-MM-DD.
type Range struct {
	Type                string // endDate, noEnd or numbered
	StartDate           string
	EndDate             string
	NumberOfOccurrences int
	RecurrenceTimeZone  string
	Pos                 Pos
}

// ApplyAction is an accessReviewApplyAction by its short type name:
// removeAccessApplyAction or disableAndDeleteUserApplyAction.
type ApplyAction struct {
	Type string
	Pos  Pos
}

// Short names of the recommendation insight settings.
const (
	InsightUserLastSignIn   = "userLastSignIn"   // #microsoft.graph.userLastSignInRecommendationInsightSetting
	InsightGroupPeerOutlier = "groupPeerOutlier" // #microsoft.graph.groupPeerOutlierRecommendationInsightSettings
)

// InsightSetting is an accessReviewRecommendationInsightSetting by its
// short type name (InsightUserLastSignIn or InsightGroupPeerOutlier).
type InsightSetting struct {
	Type                           string
	RecommendationLookBackDuration string // userLastSignIn only
	SignInScope                    string // userLastSignIn only: tenant or application
	Pos                            Pos
}

// Stage is an accessReviewStageSettings.
type Stage struct {
	StageID                          string
	DependsOn                        []string
	DurationInDays                   int
	RecommendationsEnabled           *bool
	DecisionsThatWillMoveToNextStage []string
	Reviewers                        []Reviewer
	FallbackReviewers                []Reviewer
	RecommendationInsightSettings    []InsightSetting
	Pos                              Pos
}
