// Package apply carries out a *diff.Plan against Microsoft Graph, safely.
//
// It does no diffing: the plan says what to write, and apply writes exactly
// that (docs/safety.md):
//
//   - Gates first. CheckGates refuses deletes without AllowDelete, replaces
//     without AllowReplace, and a run that updates, replaces or deletes more
//     than MaxChangePercent of the managed definitions (once at least
//     MinManagedForLimit are managed) without Force. Apply checks them
//     itself before its first write, so a refused plan writes nothing.
//   - A saved plan is applied only where and as it was made: CheckStale
//     compares the tenant, the endpoint and every affected definition's
//     fingerprint and ownership with a fresh list, and reports a
//     *StalePlanError, writing nothing, when anything moved. (That the file
//     is the one arsync wrote is diff.ReadPlan's digest check.)
//   - Ownership is checked as each change is written, for every plan: an
//     update, adopt, replace or delete re-reads its definition just before
//     the write and writes only a definition carrying the change's own
//     marker (an adopt: one carrying none, with the planned displayName);
//     otherwise the change fails with a *StaleChangeError and nothing is
//     written for it. Neither a plan's fingerprints nor its digest can
//     prove who made it; the tenant can say what a change may touch.
//   - Order: creates, then updates and adoptions (PUT of the plan's whole
//     body), then replaces (delete, then create: the review history is lost,
//     and a warning says so) and deletes. Within a phase, changes run with
//     bounded concurrency; POSTs to the definitions collection are sent one
//     at a time, because they share one throttling key and a second POST
//     sent while the first is waiting out a Retry-After would break it.
//   - apply never retries blindly: graphclient retries what is safe to retry
//     (honouring Retry-After), and a create whose outcome is unknown
//     (timeout, dropped connection, 500/502/503/504, commit-then-fail) is
//     resolved by listing the definitions and looking for its ownership
//     marker, polling for a bounded time because new definitions may be
//     missing from lists for a while. Found: its id is adopted. Not found:
//     only then is it POSTed again, and the result is flagged MayDuplicate.
//     A DELETE whose outcome is unknown is settled by reading the
//     definition (404: gone) before a replace goes on to create.
//   - After the last phase, Apply waits (at most LookupWindow) until every
//     definition it created is listed, so the next plan does not plan it
//     again; what is still missing is noted (Result.NotListed).
//   - A failed change does not stop the others, except a write Graph
//     refuses with 401 or 403: the sign-in may not write, and every other
//     write would be refused alike, so nothing more is started (writes
//     already sent finish). Until one write has succeeded, writes go one
//     at a time, so such a run sends one write. The report prints the
//     refusal once, with the permission it needs, and groups failures
//     Graph answered alike into one footnote.
//   - The Report lists every change's outcome; Apply's error is an
//     *IncompleteError when any change is not done or may have left a
//     duplicate.
//   - Cancellation (Ctrl-C): the change in flight is finished (a replace is
//     completed, so a review is not left deleted), for at most CancelGrace;
//     nothing more is started; the report says which changes were not
//     started.
package apply
