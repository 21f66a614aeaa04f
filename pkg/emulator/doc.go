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
//     (owners, appRoleAssignedTo and its /$count; also
//     servicePrincipals(appId='...')), roleManagement/directory/
//     roleDefinitions, roleAssignments (active assignments), and Privileged
//     Identity Management's roleAssignmentScheduleInstances,
//     roleEligibilityScheduleInstances and roleEligibilitySchedules (each
//     with $filter, $select and $expand=principal,roleDefinition),
//     directoryObjects/{id}, POST directoryObjects/getByIds, organization, me.
//     The directory is read-only over HTTP; only applied review decisions
//     change it (see below). Directory collections page with
//     $skiptoken, reject $skip, take $top up to 999, and follow Graph's
//     advanced-query rules (advanced.go): the /$count segment needs
//     ConsistencyLevel: eventual (else 400 "$count is not currently
//     supported."), $count=true without it is silently ignored, and ne,
//     not, endsWith and $filter with $orderby need the header and
//     $count=true (else 400 Request_UnsupportedQuery). Inside $batch the
//     header is each request's own; the batch's headers do not reach them.
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
//     instanceEnumerationScope query loses one (/v1.0/groups?$filter=...
//     becomes /groups?$filter=..., as in the tutorial); reviewer queries
//     are kept as sent.
//   - a scope or instanceEnumerationScope query with $filter and no $count
//     gets $count=true: first when the path ends in "/"
//     (./members/microsoft.graph.user/?$count=true&$filter=...), last
//     otherwise (/groups?$filter=(...)&$count=true).
//   - scopes carry @odata.type (query scope when none was sent), queryType
//     (MicrosoftGraph when none was sent) and queryRoot (null); reviewers
//     carry query, queryType and queryRoot.
//   - settings carry every property, in the order of the tutorials'
//     responses: absent booleans are false, defaultDecision None,
//     instanceDurationInDays 0, recommendationLookBackDuration null,
//     decisionHistoriesForReviewersEnabled false, applyActions [] and
//     recommendationInsightSettings [].
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
//   - every collection is present, [] when empty: reviewers,
//     fallbackReviewers, additionalNotificationRecipients, stageSettings,
//     and in each stage dependsOn, decisionsThatWillMoveToNextStage (so []
//     means "not sent": every decision moves on), reviewers,
//     fallbackReviewers and recommendationInsightSettings.
//   - one object serves both versions, each shown with its own schema's
//     properties whichever created it: beta adds backupReviewers (the
//     fallbackReviewers, which writing either sets),
//     settings.isAgenticExperienceEnabled when it was set, the stages'
//     recommendationLookBackDuration (null when not set), and target on
//     decision items; v1.0 shows none of them, refuses them in bodies and
//     in $select, and a v1.0 PUT leaves the beta-only values as they were.
//   - instances (a navigation property) may be sent in a body, null or a
//     list of objects, and is ignored: the service makes instances itself.
//   - id, createdDateTime, lastModifiedDateTime (UTC, up to 7 fractional
//     digits), createdBy (from the token) and status are the server's.
//     status follows the review lifecycle (below): NotStarted before
//     range.startDate; InProgress while an instance runs; once the
//     schedule has no period left, Applied when the last period's
//     instances were all applied, else Completed; otherwise Completed
//     after an endDate and InProgress before.
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
//     durationInDays for multi-stage reviews; see "Stages" below).
//   - With an instanceEnumerationScope (/groups?$filter=... evaluated
//     against the directory, leaving out dynamic and role-assignable groups
//     as Graph does, or /groups/{id}), each group whose scope has someone to
//     review gets an instance; its scope is the definition's relative query
//     anchored at the group (/v1.0/groups/{id}/members/...). Without one, the
//     review has one instance, even when nobody is in scope.
//   - Each instance gets one decision item per principal in scope (for
//     principalResourceMembershipsScope, per principal and resource).
//     Scope forms evaluated: ./members (with a cast and $filter),
//     /groups/{id}/members|transitiveMembers,
//     /roleManagement/directory/roleDefinitions/{id}, inactive-user scopes
//     (no sign-in within inactiveDuration, or never), and PRM scopes with
//     principals /users or /groups ($filter allowed) and resources /groups,
//     /groups/{id}/transitiveMembers, /servicePrincipals/{id} (assigned
//     principals) and role definitions. The other accepted forms (access
//     packages, PIM schedule instances, appRoleAssignedTo, Teams channels)
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
// # Stages
//
// An instance of a definition with stageSettings runs its stages one after
// another. Stage k is scheduled to end the summed durationInDays of stages
// 1..k after the instance started; the last ends with the instance. Each
// stage has the reviewers, fallback reviewers and recommendation settings
// of its stageSettings entry (a stage without fallbackReviewers has none,
// whatever the definition's; Graph does not document this case), and its
// own decision items: stage 1 reviews
// everyone in scope; when a stage ends, the items whose decision is listed
// in its decisionsThatWillMoveToNextStage (all of them when the list is
// empty, as it is when it was not sent) get an item in the next stage, whose reviewers are contacted
// then, and the others are final. The instance's decision items show, per
// principal, the last decision recorded in any stage (the service
// documents this for stop); the default decision is taken, in the item's
// last stage, on those still NotReviewed when the instance ends, and apply
// works on them. A decision recorded through the instance (PATCH,
// batchRecordDecisions, acceptRecommendations, resetDecisions,
// Server.RecordDecision) goes to the running stage's items, and so do the
// reviewers of a PUT on the instance; a final item answers 409. Stage
// status is InProgress, then Completed.
//
// Stage endpoints: GET stages (status eq filter, $orderby status,
// $select), filterByCurrentUser(on='reviewer'), GET and PATCH one stage
// (reviewers and fallbackReviewers, only while it runs; fallback reviewers
// can only be added, else 409), stages/{id}/decisions (as the instance's,
// also GET and PATCH one item), and the actions stop, batchRecordDecisions
// and acceptRecommendations. stop ends the stage now and starts the next
// one at once (the last stage's stop completes the instance); stopping the
// instance ends its running stage, and the stages after it never start.
// A single-stage review's instance has no stages (an empty list).
//
// What the emulator decides where the documentation is silent: stages are
// created as they start (listing them shows the stages so far); a stage's
// item has the id of the instance's item for the same access; a stage
// stopped early does not move the later stages' scheduled ends; the
// decision value Recommendation in decisionsThatWillMoveToNextStage
// selects no item, and DontKnow items move on only when the list is
// empty; recommendations always look back from the instance's start.
//
// # Errors
//
// Errors have Graph's body {"error":{"code","message","innerError":{"date",
// "request-id","client-request-id"}}} and every answer carries request-id,
// client-request-id (echoed when sent) and Date. Malformed JSON, unknown
// properties, wrong types, bad enum values (defaultDecision, queryType,
// apply action types) and a query without queryType are 400 BadRequest.
// A scope, instanceEnumerationScope, reviewer or recipient query that is
// not one of the documented forms of its place
// (docs/graph-behaviour.md#scopes-and-queries, queryforms.go) is 400
// with an empty code and "Query <query> is not supported. Please pass in
// one of the following queries : ..." listing the forms of the place, in
// the words the service has been seen to use. The rules of the
// access-review input validator (recurrence, range, stages, durations,
// relative queries) are 400 with an EMPTY code and a message starting
// "Invalid Access Reviews input data exception.", as that back end has
// been seen to answer; clients must not rely on a code being present.
// Unknown definitions are 404 ResourceNotFound; unknown directory objects
// 404 Request_ResourceNotFound; unknown path segments 400.
//
// # What the emulator does not check
//
// Known differences from the service on the input side, each a guess
// that nothing public settles:
//
//   - A query is matched on its path, its query options and the properties
//     its $filter compares with eq, not on the filter's syntax: documented
//     requests carry filters with stray characters that the service
//     accepted. A filter the service would refuse for its syntax is
//     accepted.
//   - Ids in queries are not looked up or checked to be GUIDs; a query
//     naming a group that does not exist is accepted (its review has nobody
//     to review).
//   - ARM queries (queryType ARM) are not checked at all.
//   - The forms come from the versions of the documentation read
//     (docs/graph-behaviour.md#scopes-and-queries); a newer documented form
//     is refused until it is added. /servicePrincipals/{id}/appRoleAssignedTo
//     is accepted without a documented example.
//   - Requiring queryType, the empty error code of a refused query and
//     $expand=principal being optional on schedule-instance queries are
//     assumptions.
//   - backupReviewers is read through /v1.0 too (the v1.0 create example
//     sends it), although v1.0's schema lacks it.
//   - A numbered range with 0 occurrences and an endDate is accepted (the
//     documentation sends it) and bounded by endDate; whether the service
//     accepts it for every pattern is not known.
//
// # Tokens
//
// Every request needs "Authorization: Bearer <token>" with a token this
// Server issued: [Running.Token] (read-write, for Tenant.Admin), or one from
// [Server.IssueToken] (a user or an application, any permissions, a
// lifetime), [Server.Token] or [Server.ReadOnlyToken]. Anything else is
// refused with 401 InvalidAuthenticationToken, a WWW-Authenticate: Bearer
// challenge and the message Graph has been seen to give for the case
// (docs/graph-behaviour.md#errors): no header, or another scheme, "Access
// token is empty."; "Bearer" alone, "ArgumentNull"; a token that is not a
// JWT, "IDX14100: JWT is not well formed, ..."; a JWT for another audience,
// "Access token validation failure. Invalid audience."; any other JWT the
// emulator did not sign (another emulator's, an earlier run's, Entra's, or
// one edited after signing), "Access token validation failure."; a token
// past its exp, "Lifetime validation failed, the token is expired.". A
// $batch's inner requests are checked with the batch's token.
//
// The caller is the token's user (createdBy, reviewer checks) or, for an
// app-only token, its service principal. [Server.IssueToken] refuses users
// and applications that are not in the tenant, except the default admin: a
// tenant file that does not list it (admin@<domain>) gets a token acting as
// a user with an id derived from the name. Without AccessReview.ReadWrite.All
// in the token's scp or roles, writes get 403; without that and
// AccessReview.Read.All, every access-review request does. Directory reads
// need no particular permission.
//
// How the tokens differ from Microsoft Entra's:
//
//   - They are JWT-shaped (header, claims and signature, base64url) but
//     signed with HMAC-SHA256 (alg HS256, kid arsync-emulator) under a key
//     drawn at random for each Server and never saved, where Entra signs
//     with RS256 and publishes its keys. So tokens die with the Server: a
//     restarted emulator, even on the same state file, refuses the old ones,
//     and two emulators refuse each other's.
//   - The claims are a small subset: aud https://graph.microsoft.com, iss
//     https://arsync-emulator.invalid/{tenant id}/ (not sts.windows.net),
//     iat, exp (only with a lifetime; Running.Token and [Server.Token] never
//     expire, where Entra's last 60 to 90 minutes), tid (the tenant's id, as
//     GET /organization shows it), ver 1.0, idtyp, oid, and upn, name, scp
//     and wids (the template ids of the user's tenant-wide directory roles
//     in the tenant, omitted when there are none; Global Administrator for
//     an admin the tenant does not list) for a user, or appid,
//     app_displayname and roles for an application. There is no nbf, appid
//     of a client for delegated tokens, amr or CAE claims. Clients may read
//     the claims for advice (arsync auth status does) but must not rely on
//     them.
//   - Expiry is checked against the emulator's clock ([Server.Now], which
//     [Server.Advance] moves), to the second, with no allowance for clock
//     skew; whether Graph allows some is not documented.
//   - Permissions are whatever the issuer asks for: no consent, no
//     licences. The access-review permissions are checked, and directory
//     reads need one of the permissions Graph's API reference lists for
//     each List operation (users, groups, servicePrincipals,
//     directoryObjects, roleManagement; Privileged Identity Management's
//     schedules need RoleEligibilitySchedule/RoleAssignmentSchedule or
//     RoleManagement permissions, not Directory.Read.All); without one the
//     answer is 403 Authorization_RequestDenied (the PIM endpoints' exact
//     code is assumed). Not modelled: the least privileges of
//     relationships (a group's members with GroupMember.Read.All but users
//     without User.ReadBasic.All), /me and /organization, and directory
//     roles (wids), which are carried but not checked: a delegated token
//     reads and writes whatever its scp allows. Tokens are issued for
//     disabled users.
//   - A scheme other than Bearer is answered like a missing token; what
//     Graph says then is not documented. Graph's messages change over time
//     (IDX14100 replaced "CompactToken parsing failed ..."), so clients must
//     branch on the status and code, never on the message.
//   - There is no sign-in endpoint: tokens come from the Go API or from
//     "arsync emulator --issue-token".
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
// # Conformance and known differences
//
// The tests replay the documentation's examples (testdata/graph-api, among
// them the tutorial "Review guest access to groups") and check every
// response of a full scenario (definitions of every kind, list pages,
// $count, instances, stages, decisions, contacted reviewers), on /v1.0 and
// /beta, against a summary of Graph's CSDL metadata (testdata/csdl, from
// msgraph-metadata). Where the
// emulator still differs from the service as documented:
//
//   - Order of properties in stages, instances and decision items follows
//     the reference pages, which the service is not known to keep.
//   - The tutorial's create response has no createdBy and null timestamps;
//     the emulator fills them, as every reference example does.
//   - An instance's scope keeps the /v1.0 prefix, @odata.type and
//     queryRoot, as List instances shows it; the tutorial shows it without
//     them (shortened). A definition created through /beta gets /beta on
//     its instances' scopes, and its scope queries keep the prefix of the
//     version that created it whichever version reads them.
//   - v1.0 decision items have no target (v1.0's schema has none), though
//     the v1.0 examples of List decisions and the tutorial show one.
//   - The public-cloud beta has properties its published US National
//     schema lacks (decision items' applyDescription, delegatedBy and
//     permission, reviewer scopes' reviewerId and scopeType); the emulator
//     has none of them except settings.isAgenticExperienceEnabled.
//   - Bodies are more leniently read than the schema: a range's startDate
//     and endDate may be date-times (the documented create request sends
//     one; they are cut to dates), @odata.type may leave out '#', and a
//     scope without @odata.type is a query scope.
//   - Nothing documents what the service does with instances in a body,
//     with a v1.0 PUT of a definition that has beta-only values, or which
//     prefix a query gets when another version reads it; the choices above
//     are the emulator's.
//
// # Directory reads: known differences
//
// The tenant file is the directory; where the emulator's reads differ from
// the service:
//
//   - Counts are immediate: ConsistencyLevel: eventual is checked, but what
//     it allows is never stale, where the service's index may lag writes
//     by seconds or more.
//   - The advanced-query rules are the documented ones listed above; which
//     properties the service indexes for which operator (its per-property
//     tables) is not modelled: every property the emulator knows filters
//     with every operator the rules allow. The 400 for $filter with
//     $orderby is worded like the documented one for operators.
//   - The role management lists (role definitions, assignments, schedule
//     instances, eligibility schedules) are not directory objects: $count=true
//     on them counts without ConsistencyLevel (the documentation lists no
//     rule), and nested options inside $expand (principal($select=id)) are
//     a 400.
//   - Privileged Identity Management is simplified: every assignment is
//     Direct (no group-inherited ones), assigned by an administrator; an
//     active assignment is its own schedule and origin (its id serves as
//     roleAssignmentScheduleId and roleAssignmentOriginId, as for
//     assignments made through roleAssignments); an eligibility has one
//     schedule whose instance shares its id, with no recurrence;
//     activations, requests (roleEligibilityScheduleRequests) and
//     filterByCurrentUser are not served. The emulator's clock decides which
//     assignments are current: one that has not started or has ended is
//     not listed (a schedule is listed until it ends).
//   - A role review (roleDefinitions/{id} as a resource scope) reviews the
//     role's active and eligible assignees; a denied item applied removes
//     the principal's assignments of that role, both kinds.
//
// # Not emulated
//
// What the emulator does not do at all, and why:
//
//   - historyDefinitions (access review history reports): arsync does not
//     use them, and they need report files the emulator has nowhere to
//     keep; the path is not served.
//   - stop on a definition (POST definitions/{id}/stop, beta): arsync stops
//     instances, never whole series; stop an instance or a stage instead.
//   - Instances created ahead of their start as NotStarted: the service
//     has been seen to list a period's instance before it starts; the
//     emulator creates it when the period starts, which is all arsync's
//     reports need.
//   - Evaluating access-package, PIM schedule-instance and Teams channel
//     scopes (see Review lifecycle): they are accepted and stored, but
//     their instances have no decision items, since the emulator's tenant
//     has no access packages, role schedules or channels.
//   - A sign-in endpoint (see Tokens): tokens come from the Go API or the
//     command line, so no client library's sign-in flow is exercised.
//   - Throttling by the service's real limits: throttling happens only as
//     configured faults (see Faults), so that tests are deterministic.
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
