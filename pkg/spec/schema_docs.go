package spec

import (
	"reflect"
	"strconv"
)

// typeDocs documents every type the schema is generated from. Keys and
// vocabularies come from the decoder's own tables (specFields, scopeTypes,
// defaultDecisions, ...); schema_test.go checks that the schema's keys are
// exactly the keys the decoder accepts.
var typeDocs map[reflect.Type]typeDoc

func init() {
	typeDocs = map[reflect.Type]typeDoc{
		reflect.TypeFor[Definition]():            definitionDoc,
		reflect.TypeFor[DefinitionSpec]():        specDoc,
		reflect.TypeFor[Scope]():                 scopeDoc,
		reflect.TypeFor[Reviewer]():              reviewerDoc,
		reflect.TypeFor[NotificationRecipient](): recipientDoc,
		reflect.TypeFor[Settings]():              settingsDoc,
		reflect.TypeFor[Recurrence]():            recurrenceDoc,
		reflect.TypeFor[Pattern]():               patternDoc,
		reflect.TypeFor[Range]():                 rangeDoc,
		reflect.TypeFor[ApplyAction]():           applyActionDoc,
		reflect.TypeFor[InsightSetting]():        insightDoc,
		reflect.TypeFor[Stage]():                 stageDoc,
		reflect.TypeFor[Config]():                configDoc,
		reflect.TypeFor[CoveragePolicy]():        coveragePolicyDoc,
	}
}

const (
	defGraph      = "accessReviewScheduleDefinition"
	settingsGraph = "accessReviewScheduleSettings"
	reviewerGraph = "accessReviewReviewerScope"
	stageGraph    = "accessReviewStageSettings"
)

var definitionDoc = typeDoc{
	fields: map[string]fieldDoc{
		"Name": {
			key:      "metadata/name",
			graph:    "the ownership marker [arsync:NAME] that arsync writes as the last line of descriptionForAdmins",
			desc:     "The definition's stable key: 1 to 63 lower-case letters, digits and dashes, not starting or ending with a dash, unique across all files. To rename it without losing the review history, list the old name in metadata.previousNames.",
			required: true,
			refine: func(s *schema) {
				s.Pattern = nameRE.String()
				s.Examples = []any{"guests-m365-quarterly"}
			},
		},
		"PreviousNames": {
			key:  "metadata/previousNames",
			desc: "Names this definition had before. A live definition whose ownership marker carries one of them, when none carries metadata.name, is this definition renamed: the plan updates it, rewriting its marker and keeping its id, instances and decisions, instead of deleting it and creating a new one. None may be another definition's name or previous name. Remove an entry once the rename has been applied in every tenant.",
			refine: func(s *schema) {
				s.Items.Pattern = nameRE.String()
				s.UniqueItems = true
				s.Examples = []any{[]any{"guests-quarterly"}}
			},
		},
		"Spec": {
			key:      "spec",
			graph:    defGraph + " (the request body)",
			desc:     "The access review definition, with Graph's field names.",
			required: true,
		},
	},
	finish: func(g *gen, s *schema) *schema {
		p := &props{}
		p.set("apiVersion", &schema{Const: APIVersion, Description: "The format version. Always " + APIVersion + ". arsync only; not a Graph property."})
		p.set("kind", &schema{Const: Kind, Description: "The document kind. Always " + Kind + ". arsync only; not a Graph property."})
		for _, k := range s.Properties.keys {
			p.set(k, s.Properties.get(k))
		}
		p.get("metadata").Description = "Identifies the definition to arsync."
		s.Properties = p
		s.Required = append([]string{"apiVersion", "kind"}, s.Required...)
		return s
	},
}

var specDoc = typeDoc{
	def:   "spec",
	graph: defGraph,
	desc:  "Every writable property of Graph v1.0's accessReviewScheduleDefinition. Read-only properties (id, status, createdBy, ...) are not written.",
	fields: map[string]fieldDoc{
		"DisplayName": {key: "displayName", graph: defGraph + ".displayName", required: true,
			desc:   "The review's name, shown to reviewers and in the portal. An unmanaged definition with the same displayName is adopted.",
			refine: func(s *schema) { s.MinLength = ptr(1) }},
		"DescriptionForAdmins": {key: "descriptionForAdmins", graph: defGraph + ".descriptionForAdmins (arsync appends its marker line)",
			desc: "Description shown to administrators. Must not contain \"" + markerPrefix + "\": arsync adds the ownership marker itself.",
			refine: func(s *schema) {
				s.Not = &schema{Pattern: `\[arsync:`}
			}},
		"DescriptionForReviewers": {key: "descriptionForReviewers", graph: defGraph + ".descriptionForReviewers",
			desc:   "Description shown to reviewers in the review e-mail; at most " + strconv.Itoa(maxDescriptionForReviewers) + " characters.",
			refine: func(s *schema) { s.MaxLength = ptr(maxDescriptionForReviewers) }},
		"Scope": {key: "scope", graph: defGraph + ".scope", required: true,
			desc: "What is reviewed: a query scope, an inactiveUsers scope or a principalResourceMemberships scope. Cannot be updated: a change replaces the definition (losing its history)."},
		"InstanceEnumerationScope": {key: "instanceEnumerationScope", graph: defGraph + ".instanceEnumerationScope",
			desc: "Which resources get a review instance each, e.g. every Microsoft 365 group (query: /groups?$filter=(groupTypes/any(c:c eq 'Unified'))). Required when scope.query is relative (./members). A query scope. Cannot be updated: a change replaces the definition."},
		"Reviewers": {key: "reviewers", graph: defGraph + ".reviewers",
			desc: "Who reviews. Empty or left out: each user reviews their own access. A change replaces the definition unless every reviewer, before and after, is a single user."},
		"FallbackReviewers": {key: "fallbackReviewers", graph: defGraph + ".fallbackReviewers",
			desc: "Who reviews when the reviewers cannot be found (e.g. a group without owners, a user without a manager)."},
		"AdditionalNotificationRecipients": {key: "additionalNotificationRecipients", graph: defGraph + ".additionalNotificationRecipients",
			desc: "Who else gets the review-completed e-mail. Cannot be updated: a change replaces the definition."},
		"Settings": {key: "settings", graph: defGraph + ".settings", required: true,
			desc: "Schedule, notifications, default decisions and what happens when the review ends."},
		"StageSettings": {key: "stageSettings", graph: defGraph + ".stageSettings",
			desc: "Up to " + strconv.Itoa(maxStages) + " sequential stages of a multi-stage review; their durationInDays add up to the review's length. Cannot be updated: a change replaces the definition.",
			refine: func(s *schema) {
				s.MinItems = ptr(1)
				s.MaxItems = ptr(maxStages)
			}},
	},
}

var scopeDoc = typeDoc{
	def:   "scope",
	graph: "accessReviewScope (accessReviewQueryScope, accessReviewInactiveUsersQueryScope or principalResourceMembershipsScope)",
	desc:  "A scope: what is reviewed, or which resources get an instance. Its kind is given by type or @odata.type (default: query).",
	fields: map[string]fieldDoc{
		"Type": {build: func(*gen) []namedSchema { return typeKeys(scopeTypes, "scope") }},
		"Query": {key: "query", graph: "accessReviewQueryScope.query",
			desc:   "A Graph query starting with / (absolute) or ./ (relative to each resource of instanceEnumerationScope), e.g. /groups/${group:Sales}/transitiveMembers/microsoft.graph.user. ${user:NAME}, ${group:NAME}, ${servicePrincipal:NAME} and ${role:NAME} are replaced by the object's id.",
			refine: query},
		"QueryType": {key: "queryType", graph: "accessReviewQueryScope.queryType",
			desc:   "The query's language. Default MicrosoftGraph.",
			refine: enumOf(queryTypes)},
		"QueryRoot": {key: "queryRoot", graph: "accessReviewQueryScope.queryRoot",
			desc:   "What a relative query is relative to.",
			refine: enumOf(queryRoots)},
		"InactiveDuration": {key: "inactiveDuration", graph: "accessReviewInactiveUsersQueryScope.inactiveDuration",
			desc:   "For type inactiveUsers (required there): only users who have not signed in for this long are reviewed. An ISO-8601 duration such as P90D.",
			refine: duration},
		"PrincipalScopes": {key: "principalScopes", graph: "principalResourceMembershipsScope.principalScopes",
			desc:   "For type principalResourceMemberships (required there): whose access is reviewed; query or inactiveUsers scopes such as /users.",
			refine: func(s *schema) { s.MinItems = ptr(1) }},
		"ResourceScopes": {key: "resourceScopes", graph: "principalResourceMembershipsScope.resourceScopes",
			desc:   "For type principalResourceMemberships (required there): access to what; query scopes such as /servicePrincipals/${servicePrincipal:Payroll App}.",
			refine: func(s *schema) { s.MinItems = ptr(1) }},
	},
	finish: func(g *gen, s *schema) *schema {
		prm := string(ScopePrincipalResourceMemberships)
		// What each kind needs and what it must not have, as the decoder
		// checks it.
		s.AllOf = []*schema{
			notBoth(),
			{If: isType(scopeTypes, prm),
				Then: &schema{
					Required: []string{"principalScopes", "resourceScopes"},
					Not:      anyRequired("query", "queryType", "queryRoot", "inactiveDuration"),
				},
				Else: &schema{
					Required: []string{"query"},
					Not:      anyRequired("principalScopes", "resourceScopes"),
				}},
			{If: isType(scopeTypes, string(ScopeInactiveUsers)),
				Then: &schema{Required: []string{"inactiveDuration"}},
				Else: &schema{Not: anyRequired("inactiveDuration")}},
		}
		return s
	},
}

var reviewerDoc = typeDoc{
	def:   "reviewer",
	graph: reviewerGraph,
	desc:  "One reviewer entry: a raw query, or exactly one of arsync's reference forms user, groupMembers, groupOwners, owners, managers.",
	fields: map[string]fieldDoc{
		"Query": {key: "query", graph: reviewerGraph + ".query",
			desc:   "A Graph query for the reviewers, e.g. /users/{id}, /groups/{id}/owners, ./owners or ./manager (with queryRoot: decisions). ${user:NAME}, ${group:NAME}, ${servicePrincipal:NAME} and ${role:NAME} are replaced by the object's id.",
			refine: query},
		"QueryType": {key: "queryType", graph: reviewerGraph + ".queryType",
			desc:   "The query's language, with query only. Default MicrosoftGraph.",
			refine: enumOf(queryTypes)},
		"QueryRoot": {key: "queryRoot", graph: reviewerGraph + ".queryRoot",
			desc:   "What a relative query is relative to, with query only; ./manager needs decisions.",
			refine: enumOf(queryRoots)},
		"User": {key: "user", graph: reviewerGraph + ".query = /users/{id}, the name resolved by arsync",
			desc:   "A user by user principal name, mail or object id.",
			refine: func(s *schema) { s.MinLength = ptr(1); s.Examples = []any{"alice@contoso.com"} }},
		"GroupMembers": {key: "groupMembers", graph: reviewerGraph + ".query = /groups/{id}/transitiveMembers, the name resolved by arsync",
			desc:   "A group by display name or object id; its members.",
			refine: func(s *schema) { s.MinLength = ptr(1) }},
		"GroupOwners": {key: "groupOwners", graph: reviewerGraph + ".query = /groups/{id}/owners, the name resolved by arsync",
			desc:   "A group by display name or object id; its owners. Add fallbackReviewers for when it has none.",
			refine: func(s *schema) { s.MinLength = ptr(1) }},
		"Owners": {key: "owners", graph: reviewerGraph + ".query = ./owners",
			desc:   "true: the owners of each reviewed group (with instanceEnumerationScope) or of the group in scope. Add fallbackReviewers for groups without owners.",
			refine: func(s *schema) { s.Const = true }},
		"Managers": {key: "managers", graph: reviewerGraph + ".query = ./manager with queryRoot decisions",
			desc:   "true: each reviewed user's manager. Add fallbackReviewers for users without one.",
			refine: func(s *schema) { s.Const = true }},
	},
	finish: func(g *gen, s *schema) *schema {
		s.OneOf = exactlyOne(reviewerForms)
		s.Dependencies = map[string]any{"queryType": []string{"query"}, "queryRoot": []string{"query"}}
		return s
	},
}

var recipientDoc = typeDoc{
	def:   "notificationRecipient",
	graph: "accessReviewNotificationRecipientItem",
	desc:  "A recipient of the review-completed e-mail. The recipient is written under notificationRecipientScope or directly in the item, as a query or one of user, groupMembers, groupOwners.",
	fields: map[string]fieldDoc{
		"NotificationTemplateType": {key: "notificationTemplateType", graph: "accessReviewNotificationRecipientItem.notificationTemplateType",
			desc:   "Which e-mail. Default CompletedAdditionalRecipients, the only kind.",
			refine: enumOf(templateTypes)},
		"Recipient": {build: func(g *gen) []namedSchema {
			scope := &schema{
				Description: "Who is notified, as Graph writes it; or write query, user, groupMembers or groupOwners directly in the item. Graph: accessReviewNotificationRecipientItem.notificationRecipientScope.",
				AllOf:       []*schema{g.recipientScopeRef()},
			}
			out := []namedSchema{{"notificationRecipientScope", scope}}
			inline := g.reviewerProps(true)
			for _, k := range inline.Properties.keys {
				out = append(out, namedSchema{k, inline.Properties.get(k)})
			}
			return out
		}},
	},
	finish: func(g *gen, s *schema) *schema {
		s.OneOf = exactlyOne(append([]string{"notificationRecipientScope"}, recipientForms...))
		s.Dependencies = map[string]any{"queryType": []string{"query"}, "queryRoot": []string{"query"}}
		return s
	},
}

// recipientDescriptions describe the keys a notification recipient shares
// with a reviewer entry (the recipientForms plus queryType and queryRoot).
var recipientDescriptions = map[string]string{
	"query":        "A Graph query for the recipients, e.g. /users/{id} or /groups/{id}/members; ${user:NAME} and ${group:NAME} are replaced by ids. Graph: accessReviewNotificationRecipientQueryScope.query.",
	"queryType":    "The query's language, with query only: MicrosoftGraph. Graph: accessReviewNotificationRecipientQueryScope.queryType.",
	"queryRoot":    "What a relative query is relative to, with query only. Graph: accessReviewNotificationRecipientQueryScope.queryRoot.",
	"user":         "A user by user principal name, mail or object id. Graph: accessReviewNotificationRecipientQueryScope.query = /users/{id}, the name resolved by arsync.",
	"groupMembers": "A group by display name or object id; its members. Graph: accessReviewNotificationRecipientQueryScope.query = /groups/{id}/members, the name resolved by arsync.",
	"groupOwners":  "A group by display name or object id; its owners. Graph: accessReviewNotificationRecipientQueryScope.query = /groups/{id}/owners, the name resolved by arsync.",
}

// recipientScopeRef returns a $ref to the notificationRecipientScope
// definition: Reviewer's recipient forms plus the scope's type keys.
func (g *gen) recipientScopeRef() *schema {
	const name = "notificationRecipientScope"
	if !g.built[name] {
		g.built[name] = true
		g.defs.set(name, nil)
		s := &schema{
			Type:                 "object",
			Description:          "Who is notified: a query (/users/{id}, /groups/{id}/members) or one of user, groupMembers, groupOwners. Graph type: accessReviewNotificationRecipientQueryScope.",
			Properties:           &props{},
			AdditionalProperties: ptr(false),
		}
		for _, n := range typeKeys(recipientScopeTypes, "notification recipient scope") {
			s.Properties.set(n.key, n.s)
		}
		inline := g.reviewerProps(true)
		for _, k := range inline.Properties.keys {
			s.Properties.set(k, inline.Properties.get(k))
		}
		s.AllOf = []*schema{notBoth()}
		s.OneOf = exactlyOne(recipientForms)
		s.Dependencies = map[string]any{"queryType": []string{"query"}, "queryRoot": []string{"query"}}
		g.defs.set(name, s)
	}
	return &schema{Ref: "#/definitions/" + name}
}

var settingsDoc = typeDoc{
	def:   "settings",
	graph: settingsGraph,
	desc:  "The review's schedule and behaviour. Settings left out take Graph's defaults (false, no default decision).",
	fields: map[string]fieldDoc{
		"MailNotificationsEnabled": {key: "mailNotificationsEnabled", graph: settingsGraph + ".mailNotificationsEnabled",
			desc: "E-mail reviewers when the review starts."},
		"ReminderNotificationsEnabled": {key: "reminderNotificationsEnabled", graph: settingsGraph + ".reminderNotificationsEnabled",
			desc: "Remind reviewers who have not finished."},
		"JustificationRequiredOnApproval": {key: "justificationRequiredOnApproval", graph: settingsGraph + ".justificationRequiredOnApproval",
			desc: "Reviewers must give a reason when they approve."},
		"DefaultDecisionEnabled": {key: "defaultDecisionEnabled", graph: settingsGraph + ".defaultDecisionEnabled",
			desc: "Apply defaultDecision to everyone nobody reviewed."},
		"DefaultDecision": {key: "defaultDecision", graph: settingsGraph + ".defaultDecision",
			desc:   "The decision for users nobody reviewed, when defaultDecisionEnabled is true. With autoApplyDecisionsEnabled, Deny removes their access.",
			refine: enumOf(defaultDecisions)},
		"InstanceDurationInDays": {key: "instanceDurationInDays", graph: settingsGraph + ".instanceDurationInDays",
			desc:   "How many days each review instance is open. Must fit in one recurrence period. Ignored with stageSettings.",
			refine: minimum(1)},
		"AutoApplyDecisionsEnabled": {key: "autoApplyDecisionsEnabled", graph: settingsGraph + ".autoApplyDecisionsEnabled",
			desc: "Apply the decisions (remove denied access) automatically when an instance ends."},
		"RecommendationsEnabled": {key: "recommendationsEnabled", graph: settingsGraph + ".recommendationsEnabled",
			desc: "Show reviewers recommendations (e.g. based on sign-in activity)."},
		"RecommendationLookBackDuration": {key: "recommendationLookBackDuration", graph: settingsGraph + ".recommendationLookBackDuration",
			desc:   "How far back sign-ins count for recommendations; an ISO-8601 duration, default P30D, at most P30D for application reviews.",
			refine: duration},
		"DecisionHistoriesForReviewersEnabled": {key: "decisionHistoriesForReviewersEnabled", graph: settingsGraph + ".decisionHistoriesForReviewersEnabled",
			desc: "In multi-stage reviews, show later stages' reviewers the earlier decisions."},
		"Recurrence": {key: "recurrence", graph: settingsGraph + ".recurrence", required: true,
			desc: "When the review starts and how often it repeats. Leave pattern out for a one-time review."},
		"ApplyActions": {key: "applyActions", graph: settingsGraph + ".applyActions",
			desc:   "What applying a Deny does. Default removeAccessApplyAction.",
			refine: func(s *schema) { s.UniqueItems = true }},
		"RecommendationInsightSettings": {key: "recommendationInsightSettings", graph: settingsGraph + ".recommendationInsightSettings",
			desc: "Which insights recommendations use."},
	},
}

var recurrenceDoc = typeDoc{
	def:   "recurrence",
	graph: "patternedRecurrence",
	desc:  "A start date, and with a pattern, a repetition.",
	fields: map[string]fieldDoc{
		"Pattern": {key: "pattern", graph: "patternedRecurrence.pattern",
			desc: "How often the review repeats. Leave it out for a one-time review."},
		"Range": {key: "range", graph: "patternedRecurrence.range", required: true,
			desc: "When the series starts and ends."},
	},
}

var patternDoc = typeDoc{
	def:   "pattern",
	graph: "recurrencePattern",
	desc:  "Access reviews accept only type, interval and dayOfMonth. Quarterly is absoluteMonthly with interval 3; yearly is interval 12.",
	fields: map[string]fieldDoc{
		"Type": {key: "type", graph: "recurrencePattern.type", required: true,
			desc:   "weekly or absoluteMonthly (the only kinds access reviews accept).",
			refine: enumOf(patternTypes)},
		"Interval": {key: "interval", graph: "recurrencePattern.interval", required: true,
			desc:   "Every how many weeks or months.",
			refine: minimum(1)},
		"DayOfMonth": {key: "dayOfMonth", graph: "recurrencePattern.dayOfMonth",
			desc:   "For absoluteMonthly: the day of the month the review starts.",
			refine: func(s *schema) { s.Minimum, s.Maximum = ptr(1), ptr(31) }},
	},
}

var rangeDoc = typeDoc{
	def:   "range",
	graph: "recurrenceRange",
	desc:  "The dates of the series.",
	fields: map[string]fieldDoc{
		"Type": {key: "type", graph: "recurrenceRange.type", required: true,
			desc:   "endDate (needs endDate), noEnd (recurring only) or numbered (needs numberOfOccurrences).",
			refine: enumOf(rangeTypes)},
		"StartDate": {key: "startDate", graph: "recurrenceRange.startDate", required: true,
			desc:   "The day the first review starts, YYYY-MM-DD.",
			refine: date},
		"EndDate": {key: "endDate", graph: "recurrenceRange.endDate",
			desc:   "For type endDate: the last day, YYYY-MM-DD, not before startDate.",
			refine: date},
		"NumberOfOccurrences": {key: "numberOfOccurrences", graph: "recurrenceRange.numberOfOccurrences",
			desc:   "For type numbered: how many reviews.",
			refine: minimum(1)},
		"RecurrenceTimeZone": {key: "recurrenceTimeZone", graph: "recurrenceRange.recurrenceTimeZone",
			desc: "The time zone of the dates."},
	},
	finish: func(g *gen, s *schema) *schema {
		s.AllOf = []*schema{
			{If: hasConst("type", "endDate"), Then: &schema{Required: []string{"endDate"}}},
			{If: hasConst("type", "numbered"), Then: &schema{Required: []string{"numberOfOccurrences"}}},
		}
		return s
	},
}

// anyRequired matches an object that has any of keys.
func anyRequired(keys ...string) *schema {
	s := &schema{}
	for _, k := range keys {
		s.AnyOf = append(s.AnyOf, &schema{Required: []string{k}})
	}
	return s
}

// hasConst matches an object whose key is value.
func hasConst(key, value string) *schema {
	p := &props{}
	p.set(key, &schema{Const: value})
	return &schema{Properties: p, Required: []string{key}}
}

var applyActionDoc = typeDoc{
	def:   "applyAction",
	graph: "accessReviewApplyAction (removeAccessApplyAction or disableAndDeleteUserApplyAction)",
	desc:  "What applying a Deny decision does.",
	fields: map[string]fieldDoc{
		"Type": {build: func(*gen) []namedSchema { return typeKeys(applyActionTypes, "apply action") }},
	},
	finish: func(g *gen, s *schema) *schema {
		s.AllOf = []*schema{notBoth()}
		s.AnyOf = []*schema{{Required: []string{"type"}}, {Required: []string{"@odata.type"}}}
		return orBareName(applyActionTypes, s)
	},
}

var insightDoc = typeDoc{
	def:   "recommendationInsightSetting",
	graph: "accessReviewRecommendationInsightSetting (userLastSignInRecommendationInsightSetting or groupPeerOutlierRecommendationInsightSettings)",
	desc:  "An insight that recommendations use.",
	fields: map[string]fieldDoc{
		"Type": {build: func(*gen) []namedSchema { return typeKeys(insightTypes, "insight setting") }},
		"RecommendationLookBackDuration": {key: "recommendationLookBackDuration", graph: "userLastSignInRecommendationInsightSetting.recommendationLookBackDuration",
			desc:   "For userLastSignIn: how far back sign-ins count; ISO-8601, default P30D, at most P30D for application reviews.",
			refine: duration},
		"SignInScope": {key: "signInScope", graph: "userLastSignInRecommendationInsightSetting.signInScope",
			desc:   "For userLastSignIn: sign-ins anywhere in the tenant, or to the reviewed application only (application reviews).",
			refine: enumOf(signInScopes)},
	},
	finish: func(g *gen, s *schema) *schema {
		s.AllOf = []*schema{notBoth()}
		s.AnyOf = []*schema{{Required: []string{"type"}}, {Required: []string{"@odata.type"}}}
		return orBareName(insightTypes, s)
	},
}

var stageDoc = typeDoc{
	def:   "stage",
	graph: stageGraph,
	desc:  "One stage of a multi-stage review. Stages are sequential: stageId \"1\", \"2\", \"3\" in the order listed, each depending on the one before.",
	fields: map[string]fieldDoc{
		"StageID": {key: "stageId", graph: stageGraph + ".stageId", required: true,
			desc:   "The stage's number as a string: \"1\", \"2\" or \"3\", in order.",
			refine: stageNumber},
		"DependsOn": {key: "dependsOn", graph: stageGraph + ".dependsOn",
			desc: "The stage before this one: left out for stage \"1\", [\"1\"] for stage \"2\", [\"2\"] for stage \"3\".",
			refine: func(s *schema) {
				s.MaxItems = ptr(1)
				stageNumber(s.Items)
			}},
		"DurationInDays": {key: "durationInDays", graph: stageGraph + ".durationInDays", required: true,
			desc:   "How many days the stage is open. All stages together must fit in one recurrence period.",
			refine: minimum(1)},
		"RecommendationsEnabled": {key: "recommendationsEnabled", graph: stageGraph + ".recommendationsEnabled", required: true,
			desc: "Show this stage's reviewers recommendations."},
		"DecisionsThatWillMoveToNextStage": {key: "decisionsThatWillMoveToNextStage", graph: stageGraph + ".decisionsThatWillMoveToNextStage",
			desc: "Which decisions go on to the next stage; left out, all do.",
			refine: func(s *schema) {
				s.UniqueItems = true
				s.Items.Enum = anys(stageMoveDecisions)
			}},
		"Reviewers": {key: "reviewers", graph: stageGraph + ".reviewers",
			desc: "This stage's reviewers (replace spec.reviewers)."},
		"FallbackReviewers": {key: "fallbackReviewers", graph: stageGraph + ".fallbackReviewers",
			desc: "This stage's fallback reviewers, asked when its reviewers are nobody (e.g. a user without a manager)."},
		"RecommendationInsightSettings": {key: "recommendationInsightSettings", graph: stageGraph + ".recommendationInsightSettings",
			desc: "This stage's recommendation insights (override settings)."},
	},
}

// stageNumber is "1" to "3"; YAML's unquoted 1 is accepted too.
func stageNumber(s *schema) {
	var ids []string
	for i := 1; i <= maxStages; i++ {
		ids = append(ids, strconv.Itoa(i))
	}
	s.Type = nil
	s.AnyOf = []*schema{
		{Type: "string", Enum: anys(ids)},
		{Type: "integer", Minimum: ptr(1), Maximum: ptr(maxStages)},
	}
}

var configDoc = typeDoc{
	arsyncOnly: true,
	fields: map[string]fieldDoc{
		"TenantID": {key: "tenantId",
			desc: "The Entra tenant: its id (GUID) or a domain such as contoso.onmicrosoft.com. --tenant-id overrides it; when neither is set, AZURE_TENANT_ID is used.",
			refine: func(s *schema) {
				s.Pattern = tenantRE.String()
				s.Examples = []any{"contoso.onmicrosoft.com"}
			}},
		"Cloud": {key: "cloud",
			desc:   "The national cloud (sets the sign-in authority and the Graph host). Default global.",
			refine: enumOf(Clouds)},
		"GraphEndpoint": {key: "graphEndpoint",
			desc: "The Graph base URL, e.g. https://graph.microsoft.com/v1.0. https, or plain http to a loopback address (the emulator). Default: the cloud's Graph host.",
			refine: func(s *schema) {
				s.Format = "uri"
				s.Pattern = `^https?://`
			}},
		"Paths": {key: "paths",
			desc: "Where the spec files are: files or directories, relative to this file. Default: the current directory. PATH arguments on the command line replace it.",
			refine: func(s *schema) {
				s.Items.MinLength = ptr(1)
			}},
		"AllowDelete": {key: "allowDelete",
			desc: "Let apply delete marked definitions whose YAML is gone (as --allow-delete). Default false."},
		"AllowReplace": {key: "allowReplace",
			desc: "Let apply replace definitions whose scope or other fixed fields changed, losing their history (as --allow-replace). Default false."},
		"MaxChangePercent": {key: "maxChangePercent",
			desc: "The share of managed definitions (when at least 10) one apply may update, replace or delete without --force. Default 30.", // apply.DefaultMaxChangePercent; TestChangeLimitDocumented checks
			refine: func(s *schema) {
				s.Minimum, s.Maximum = ptr(0), ptr(100)
			}},
		"Coverage": {key: "coverage",
			desc: "What plan requires to be under access review once the plan is applied (arsync coverage shows the tenant as it is). plan fails when a required target would stay uncovered."},
	},
}

var coveragePolicyDoc = typeDoc{
	def:        "coverage",
	desc:       "The coverage section of arsync.yaml: the targets that must be under access review.",
	arsyncOnly: true,
	fields: map[string]fieldDoc{
		"GuestGroups": {key: "guestGroups",
			desc: "required: every group with guest members must be covered by a review. Default optional.",
			refine: func(s *schema) {
				s.Type = "string"
				s.Enum = anys(GuestGroupsValues)
			}},
		"Roles": {key: "roles",
			desc:   "Directory roles (display names or role ids) whose assignments must be covered by a review.",
			refine: func(s *schema) { s.Items.MinLength = ptr(1) }},
		"Applications": {key: "applications",
			desc:   "Applications (service principal display names, appIds or object ids) whose assignments must be covered by a review.",
			refine: func(s *schema) { s.Items.MinLength = ptr(1) }},
	},
}
