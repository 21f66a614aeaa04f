// Package diff computes what arsync would change in a tenant and renders it.
//
// Compute takes the desired definitions (from YAML, already resolved to Graph
// request bodies) and the live definitions (as listed from Graph) and returns
// a *Plan: plain, versioned data that `arsync plan` prints and saves and that
// `arsync apply` executes. Compute is pure: no I/O, no clock (the time comes in
// Options), and its output is sorted, so the same inputs always give the same
// plan byte for byte.
//
// It depends only on pkg/graph (Graph's model): nothing here signs in,
// reads YAML or draws a terminal. The pipeline that feeds it from Graph and
// the spec files is pkg/plan.
//
// Matching (docs/safety.md#matching-and-adopt). A live definition belongs to
// arsync when the last line of its descriptionForAdmins is the ownership
// marker "[arsync:<name>]" (graph.ByMarker; the oldest of several wins).
// A desired definition is matched with the live one carrying its marker; with
// none, it adopts the one unmarked live definition of the same displayName;
// two or more such candidates is an *AmbiguousAdoptionError. Two live
// definitions with the same marker block the plan (*DuplicateMarkerError)
// unless Options.DeleteDuplicates asks for the younger ones to be deleted.
// Marked live definitions that nothing desires are deleted; unmarked ones that
// nothing adopts are listed as unmanaged and never touched.
//
// Comparison is by meaning. Both sides go through graph.Normalize, which undoes the
// rewriting Graph applies to stored values (version-prefixed queries,
// $count=true, '+' for spaces, filled-in recurrence defaults, noEnd written as
// numbered/9999-12-31, datetimes for dates, null for empty, ...), and the
// normalised values are compared with go-cmp, reporting each difference at a
// leaf path such as "settings.instanceDurationInDays". A difference in a field
// Graph cannot update (scope, instanceEnumerationScope, stageSettings,
// additionalNotificationRecipients, non-user reviewers) forces a replace.
//
// What a Change holds, by action:
//
//	action   ID    Before        After                                  Fields
//	create   -     -             POST body (with marker)                every field written, before null
//	update   live  live as read  PUT body: the live object as read,     changed fields (normalised values)
//	                             desired writable fields laid over it,
//	                             read-only ones removed, marker
//	adopt    live  live as read  PUT body, as for update                changed fields besides the marker
//	replace  live  live as read  POST body of the new definition        changed fields, forcing ones marked
//	delete   live  live as read  -                                      -
//	noop     live  -             -                                      -
//
// An update's PUT body sends back what was read (docs/graph-behaviour.md#put-not-patch):
// the fields Graph cannot update and the properties arsync does not model
// go back byte for byte, so neither a strict service nor a property added
// to Graph later is disturbed (see graph.Definition's MarshalJSON).
//
// LiveFingerprint (update, adopt, replace, delete) is Fingerprint of the live
// definition as read, so apply can refuse a stale plan. RenderJSON writes a
// plan with the digest of its own content (PlanDigest), and ReadPlan refuses
// a file whose content does not match it (*EditedPlanError): an edited
// saved plan is never applied. The digest is not a signature
// (docs/safety.md#the-saved-plans-digest).
package diff
