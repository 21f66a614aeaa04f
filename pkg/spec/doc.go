// Package spec loads arsync's YAML files, each describing Microsoft Entra
// access review definitions, validates them and maps them to Microsoft
// Graph request bodies; and the other way, it exports live definitions as
// such files. It makes no network calls of its own: the directory is read
// through small interfaces (Directory, ObjectReader, Namer) that
// *graphclient.Client implements and tests fake.
//
// Data flow:
//
//	files --Load--> []*Definition --Resolve(Directory)--> []Resolved (Body: the desired graph.Definition)
//	[]graph.Definition (live) --Export(Namer)--> []ExportFile --WriteFiles--> files
//
// ToGraph is the step under Resolve for one definition, given a Resolver.
//
// # Format
//
// A spec file holds one or more YAML documents:
//
//	apiVersion: arsync/v1
//	kind: AccessReviewDefinition
//	metadata:
//	  name: guests-m365-quarterly   # [a-z0-9-], 1..63, no dash at either end, unique across all files
//	spec:                           # Graph's accessReviewScheduleDefinition, with Graph's field names
//	  displayName: ...
//	  scope: {...}
//	  settings: {...}
//
// Under spec every writable v1.0 property can be written with Graph's name:
// displayName, descriptionForAdmins, descriptionForReviewers, scope,
// instanceEnumerationScope, reviewers, fallbackReviewers,
// additionalNotificationRecipients, settings and stageSettings. Read-only
// properties (id, status, createdBy, ...) are rejected with a hint, as is
// every unknown field, with a "did you mean" when a known name is close.
//
// # Polymorphic objects
//
// A scope, apply action or recommendation insight setting takes its kind
// from "type:" or "@odata.type:"; either key accepts the short name or
// Graph's full type name:
//
//	query                          #microsoft.graph.accessReviewQueryScope (the default for a scope)
//	inactiveUsers                  #microsoft.graph.accessReviewInactiveUsersQueryScope
//	principalResourceMemberships   #microsoft.graph.principalResourceMembershipsScope
//	removeAccessApplyAction        #microsoft.graph.removeAccessApplyAction
//	disableAndDeleteUserApplyAction #microsoft.graph.disableAndDeleteUserApplyAction
//	userLastSignIn                 #microsoft.graph.userLastSignInRecommendationInsightSetting
//	groupPeerOutlier               #microsoft.graph.groupPeerOutlierRecommendationInsightSettings
//
// Apply actions and insight settings without properties may be written as
// a bare name: applyActions: [removeAccessApplyAction]. A notification
// recipient's scope may carry "@odata.type:
// '#microsoft.graph.accessReviewNotificationRecipientQueryScope'" (or
// "type: query"); it is the only kind.
//
// # References
//
// Reviewers, fallback reviewers (also per stage) and notification
// recipients may name directory objects instead of writing queries:
//
//	{user: alice@contoso.com}  /users/{id}                         (UPN, mail or id)
//	{groupMembers: Marketing}  /groups/{id}/transitiveMembers      (recipients: /groups/{id}/members)
//	{groupOwners: Marketing}   /groups/{id}/owners
//	{owners: true}             ./owners                            (reviewers only)
//	{managers: true}           ./manager with queryRoot decisions  (reviewers only)
//
// Any query string may contain ${user:NAME}, ${group:NAME},
// ${servicePrincipal:NAME} or ${role:NAME}, replaced by the object's id.
// Definition.References lists them all with their positions; ToGraph asks
// a Resolver for each distinct name that is not already a GUID.
//
// # Resolution
//
// Resolve (resolve.go) turns the references of all definitions into ids in
// one step: it collects every distinct name, looks each up once with one
// batched Directory call per kind of object (users, groups, service
// principals, roles; the calls run concurrently), then runs ToGraph. A name
// that matches nothing or several objects is a *NameError, and all of them,
// across all files, come back together as Diagnostics at the reference's
// file:line:col. References written as ids are checked in the same calls;
// when the directory refuses (403) a look-up of ids only, they are used
// unchecked, so specs without names need no directory permission.
// Resolved.Labels names the ids a definition refers to, for the plan's
// display.
//
// # Export
//
// Export (export.go) is the inverse: live definitions become spec files
// that, loaded and resolved again, are equal by meaning to what is live, so
// a plan over them shows only adoptions or no-ops. The marker and values
// the service fills in are left out, queries that have a reference form
// become {user: ...}, {owners: true} and the like, and an id in a query
// becomes ${user:UPN}, ${group:NAME}, ... only when that name resolves back
// to the same id alone (one getByIds call, then one look-up per kind).
// Unmarked definitions are exported only with ExportOptions.All, named
// after their displayName. WriteFiles writes the files atomically and
// refuses, writing nothing, to overwrite existing ones unless told to
// (*ExistsError). DescribeIDs, used by plan, labels the ids of live
// definitions the same way.
//
// # Validation
//
// Besides types and required fields, Load applies the access-review rules
// of Microsoft Graph:
//   - recurrence: pattern types weekly and absoluteMonthly only, with only
//     type, interval (at least 1) and dayOfMonth (1-31, absoluteMonthly only);
//     no pattern means a one-time review, whose range is endDate (or
//     numbered with one occurrence). Range types endDate (needs endDate, not
//     before startDate), noEnd, numbered (needs a positive
//     numberOfOccurrences); startDate always; dates are YYYY-MM-DD.
//   - one recurrence period: 7×interval days for weekly; for
//     absoluteMonthly the fewest days that interval consecutive months can
//     have (28, 59, 89 for 1, 2, 3 months; 181 for 6; 365 for 12), February
//     counted as 28 days. instanceDurationInDays, or with stageSettings the
//     sum of the stages' durationInDays, must not exceed it, so that a
//     review ends before the next one starts.
//   - stages: at most 3, stageId "1", "2", "3" in the order listed, stage n
//     dependsOn ["n-1"] (the first stage none), durationInDays and
//     recommendationsEnabled required, decisionsThatWillMoveToNextStage a
//     subset of Approve, Deny, Recommendation, NotReviewed.
//   - defaultDecision is Approve, Deny, Recommendation or None; durations
//     are ISO-8601 (P30D, PT12H; no years, months or weeks, as in OData's
//     Edm.Duration); descriptionForReviewers has at most 256 characters;
//     descriptionForAdmins must not contain "[arsync:" (the ownership
//     marker is added by arsync).
//   - scopes: queries start with / or ./; a relative scope query (./members)
//     needs instanceEnumerationScope, which is a query scope; inactiveUsers
//     needs inactiveDuration; principalResourceMemberships needs
//     principalScopes and resourceScopes (query or inactiveUsers scopes);
//     queryType is MicrosoftGraph (the default) or ARM; queryRoot is
//     decisions, which ./manager requires.
//   - application reviews (a principalResourceMemberships scope with a
//     /servicePrincipals resource): look-back durations at most 30 days;
//     signInScope application only in such reviews.
//
// Warnings (validation still passes): auto-apply with defaultDecisionEnabled
// and defaultDecision Deny (unanswered reviews remove access); a
// defaultDecision without defaultDecisionEnabled; instanceDurationInDays
// together with stageSettings, and spec.reviewers when the stages name
// their own reviewers (Graph ignores both); reviewers that can all resolve
// to nobody (owners, managers) without fallbackReviewers that name someone
// fixed, checked per stage when the stages name reviewers.
//
// Every problem in every file is reported in one run, each as
// "file:line:col: message". yaml.v3 reports only the line of a YAML syntax
// error; its column is then that of the line's first non-blank character.
package spec
