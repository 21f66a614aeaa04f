// Package emulator is a local look-alike of Microsoft Graph for access
// review definitions and the directory reads that reviews refer to. It is an
// http.Handler over an in-memory store, so arsync (or any Graph client) can
// be run and tested without a tenant: start it with [Start], or mount a
// [Server] from [New] in an httptest server (see package emulatortest).
//
// The emulator follows what the real service does as
// docs/graph-behaviour.md records it. It does not import arsync's graph,
// spec, diff or apply packages: it implements the service's
// rewriting of stored definitions itself, so that "apply, then plan shows no
// changes" tests compare two independent implementations.
//
// # Endpoints
//
// Under /v1.0 and /beta:
//
//   - identityGovernance/accessReviews/definitions: POST (201 with the
//     stored object), GET (list with $top, $skip, $select, $filter, $orderby,
//     $count=true, and an absolute @odata.nextLink), /$count, GET, PUT (204),
//     DELETE (204), filterByCurrentUser(on='reviewer'). PATCH is 405, as on
//     the service. Instances and decisions: see "Review lifecycle" below;
//     POST to .../instances is 405 (the generated API lists it, the service
//     has none).
//   - users (by id or userPrincipalName; manager, directReports, memberOf),
//     groups (members, transitiveMembers, owners, each with an optional cast
//     segment such as /microsoft.graph.user and /$count), servicePrincipals
//     (owners, appRoleAssignedTo; also servicePrincipals(appId='...')),
//     roleManagement/directory/roleDefinitions and roleAssignments,
//     directoryObjects/{id}, POST directoryObjects/getByIds, organization, me.
//     The directory is read-only over HTTP; only applied review decisions
//     change it (see below). Directory collections page with
//     $skiptoken, reject $skip, and need ConsistencyLevel: eventual for
//     $count, as Graph does.
//   - POST $batch: at most 20 requests with unique ids, dependsOn (a
//     request whose dependency failed gets 424), per-request status, headers
//     (Retry-After on an inner 429) and body. Each request meets the fault
//     injector on its own.
//
// # How definitions are stored
//
// A POSTed definition is validated and rewritten the way the service does
// it, then returned (201) and stored in that form:
//
//   - absolute scope queries (scope and principalResourceMemberships
//     sub-scopes) get the version prefix: /groups/x/members becomes
//     /v1.0/groups/x/members (off with Options.PlainScopeQueries). The
//     instanceEnumerationScope and reviewer queries are kept as sent.
//   - a scope or instanceEnumerationScope query with $filter and no $count
//     gets $count=true: first when the path ends in "/"
//     (./members/microsoft.graph.user/?$count=true&$filter=...), last
//     otherwise (/groups?$filter=(...)&$count=true).
//   - scopes carry @odata.type (query scope when none was sent), queryType
//     (MicrosoftGraph when none was sent) and queryRoot (null); reviewers
//     carry query, queryType and queryRoot.
//   - settings carry every non-null field: absent booleans are false,
//     defaultDecision None, instanceDurationInDays 0, applyActions [].
//   - the recurrence pattern comes back with every field filled: month 0,
//     dayOfMonth 0, daysOfWeek [], firstDayOfWeek sunday, index first; a
//     one-time review has pattern null. The range gets numberOfOccurrences 0
//     and recurrenceTimeZone null, startDate (and endDate) are cut to a date,
//     and noEnd has endDate null. With Options.RangeStyle = RangeNumbered,
//     noEnd and endDate ranges are stored as numbered with 0 occurrences,
//     noEnd with endDate 9999-12-31, as in Graph's list and get examples;
//     such a range cannot be sent back unchanged, as users of the service
//     found.
//   - durations are written as .NET TimeSpans are: PT720H becomes P30D.
//   - reviewers, fallbackReviewers and additionalNotificationRecipients are
//     [] when absent; stageSettings only appears when sent (beta also
//     returns backupReviewers, mirroring fallbackReviewers).
//   - id, createdDateTime, lastModifiedDateTime (UTC, up to 7 fractional
//     digits), createdBy (from the token) and status are the server's.
//     status follows the clock: NotStarted before range.startDate,
//     Completed after an endDate, InProgress otherwise.
//
// PUT replaces the whole object and answers 204. A change to scope,
// instanceEnumerationScope, stageSettings (beta: except its reviewers) or
// additionalNotificationRecipients is a 400, compared after the rewriting
// above, so sending back what was stored or what was originally sent are both
// "unchanged" (a /v1.0 and a /beta prefix count as the same). Reviewers may
// change only when the old and the new reviewers are all individual users
// (/users/{id}); an empty list (a self-review) does not count as users.
//
// # Review lifecycle
//
// The emulator runs access reviews as the service does, on its own clock:
// [Server.Now], moved forward only by [Server.Advance] and [Server.SetNow]
// (Options.Clock plus an offset kept in the state file). Before answering
// any request, and when the clock moves, every event due is carried out in
// time order:
//
//   - A period starts (range.startDate, then every interval weeks or months;
//     see schedule.go for the exact rules, including one-time reviews,
//     endDate and numbered ranges). A definition created mid-period starts
//     that period's instance at once; periods over before it existed are
//     skipped. An instance lasts instanceDurationInDays (the stages' summed
//     durationInDays for multi-stage reviews, which are otherwise run as one
//     stage with stage 1's reviewers).
//   - With an instanceEnumerationScope (/groups?$filter=... evaluated
//     against the directory, leaving out dynamic and role-assignable groups
//     as Graph does, or /groups/{id}), each group whose scope has someone to
//     review gets an instance; its scope is the definition's relative query
//     anchored at the group (/v1.0/groups/{id}/members/...). Without one, the
//     review has one instance, even when nobody is in scope.
//   - Each instance gets one decision item per principal in scope (for
//     principalResourceMembershipsScope, per principal and resource).
//     Scope forms evaluated: ./members and ./transitiveMembers (with a cast
//     and $filter), /groups/{id}, /groups/{id}/members|transitiveMembers,
//     /roleManagement/directory/roleDefinitions/{id}, /servicePrincipals/{id},
//     inactive-user scopes (no sign-in within inactiveDuration, or never),
//     and PRM scopes with principals /users, /groups or /servicePrincipals
//     ($filter allowed) and resources /groups, /groups/{id}[/transitiveMembers],
//     /servicePrincipals/{id} (assigned principals) and role definitions.
//     Other forms (access packages, PIM schedule instances, Teams channels)
//     are not emulated: the instance has no decision items, and beta shows
//     why in the instance's "errors".
//   - Recommendations come from the last sign-in against the look-back
//     (userLastSignInRecommendationInsightSetting, else
//     recommendationLookBackDuration, else 30 days) before the instance
//     started: Approve when the user signed in within it, Deny when not (or
//     never), NoInfoAvailable for groups, applications, users created within
//     the look-back who have not signed in yet, or with recommendations off.
//   - Reviewers per item: ./owners (of the reviewed group or application),
//     ./manager, /users/{id}, /groups/{id}/owners|members|transitiveMembers,
//     /servicePrincipals/{id}/owners; when they give nobody, the fallback
//     reviewers; an empty reviewer list is a self-review. Disabled accounts
//     are never contacted. contactedReviewers lists them all.
//   - Status NotStarted -> InProgress -> Completed (at the end, or on stop)
//     -> Applied. At completion the default decision is taken on NotReviewed
//     items when enabled (Recommendation takes the recommendation), recorded
//     as reviewed by "AAD Access Reviews". With autoApplyDecisionsEnabled,
//     or on applyDecisions, Deny items are applied: removeAccessApplyAction
//     (the default) removes the principal from the group, its app role
//     assignments or its role assignments; disableAndDeleteUserApplyAction
//     blocks the user's sign-in and deletes the user 30 days later. Their
//     applyResult is AppliedSuccessfully, or AppliedSuccessfullyButObjectNotFound
//     when the access was already gone, or ApplyNotSupported; Approve items
//     are AppliedSuccessfully; NotReviewed and DontKnow items stay New.
//     Directory changes are kept in the state file and replayed at start.
//
// Instance endpoints: GET instances (status eq and contains(scope query)
// filters, $orderby status, paging), filterByCurrentUser(on='reviewer'),
// GET and PUT one instance (reviewers and fallbackReviewers only; fallback
// reviewers can only be added, else 409), contactedReviewers, decisions
// (filters decision, recommendation and applyResult eq, $orderby, $select,
// $top/$skip with @odata.nextLink), filterByCurrentUser, GET and PATCH one
// decision (the caller must be one of its reviewers and a signed-in user),
// and the actions stop, applyDecisions, batchRecordDecisions,
// resetDecisions, sendReminder and acceptRecommendations (204). An action
// the instance's status does not allow is 409 Conflict (decisions only while
// InProgress, applyDecisions only when Completed); a missing justification
// when justificationRequiredOnApproval is set is 400 for Approve.
// [Server.RecordDecision] records a reviewer's decision from Go.
//
// # Errors
//
// Errors have Graph's body {"error":{"code","message","innerError":{"date",
// "request-id","client-request-id"}}} and every answer carries request-id,
// client-request-id (echoed when sent) and Date. Malformed JSON, unknown
// properties, wrong types and bad enum values (defaultDecision,
// queryType, apply action types) are 400 BadRequest. The rules of the
// access-review input validator (recurrence, range, stages, durations,
// relative queries) are 400 with an EMPTY code and a message starting
// "Invalid Access Reviews input data exception.", as that back end has
// been seen to answer; clients must not rely on a code being present.
// Unknown definitions are 404 ResourceNotFound; unknown directory objects
// 404 Request_ResourceNotFound; unknown path segments 400.
//
// # Tokens
//
// Every request needs "Authorization: Bearer <token>" (401
// InvalidAuthenticationToken otherwise). Any non-empty token is accepted:
//
//   - a JWT (signature not checked, e.g. from [Token] or azidentity): the
//     upn, preferred_username, unique_name or email claim names the caller,
//     looked up in the directory for createdBy (oid and name are used for
//     unknown users; an app-only token with appid is its service principal).
//     When the token has roles or scp claims and none is
//     AccessReview.ReadWrite.All, writes get 403 ([ReadOnlyToken]). An
//     expired exp claim is a 401.
//   - "emu:<upn>" acts as that user; "emu-readonly:<upn>" as that user
//     without write access.
//   - anything else acts as the tenant's admin (Tenant.Admin).
//
// # Faults
//
// [Faults] (or the --faults mini-language of [ParseFaults]) injects 429s
// with Retry-After as whole seconds, fractions, HTTP dates or absent; 500,
// 503 and 504; dropped connections; writes that commit and then fail;
// latency; read-after-create lag; and a token bucket per 10 s window for
// the access-review endpoints. A client that repeats a throttled request
// before its Retry-After has passed gets 429 again and is counted by
// [Server.RetryAfterViolations]; tests assert it stays zero. Choices come
// from a seeded generator, so a run repeats exactly.
//
// # State
//
// With Options.StateFile the store is loaded at start, and every change is
// appended to a journal next to the file (emulator.journal) before it is
// answered; the file itself is rewritten (a temporary file renamed over the
// old one) at a Server's first change, when the journal has grown past
// twice its size, and at [Server.Close]. A change costs its own size, not
// the state's, and a process killed at any point leaves a state that loads
// with every change it answered: a last journal record cut short is
// dropped with a note (Options.Logf). Separate processes can chain: apply
// in one, plan in the next. The directory always comes from the tenant, not
// from the state file. The file and the journal are checked when they are
// read: a file edited by hand or cut short is one error naming the place
// and the property, never a panic. Two Servers must not share one state
// file at the same time, since each rewrites all of it from its own copy:
// Options.LockState locks the file for the Server's life ([Server.Close]
// releases it), and a second one fails with [ErrStateLocked].
//
// # Serving
//
// [Start] serves on a loopback address (unless Options.AllowRemote) with
// read, header, write and idle timeouts (Options.ReadHeaderTimeout and the
// others), so a stalled or idle client cannot hold a connection forever.
package emulator
