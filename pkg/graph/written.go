package graph

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// What arsync wrote: the digest its marker records, so that a later plan
// can tell a definition changed in the tenant since arsync last wrote it
// from one that only the YAML changes.
//
// The digest is "v1:" and, for each of writtenFields in that order, the
// first four hex digits of the SHA-256 of the field's JSON encoding in
// canonical form (Normalize). One short hash per field, rather than one
// for the whole body, names the fields that were changed; 16 bits per
// field let a change escape notice once in 65536. The canonical form is
// the one the plan compares by, so whatever Graph rewrites in what it
// stores (docs/graph-behaviour.md#scopes-and-queries, #durations,
// #recurrence) does not change the digest, and right after apply the live
// definition has the digest its marker records. The marker itself is not
// covered: Normalize drops it.
//
// Left out, because Graph may not store it as sent: the start date of the
// recurrence range (Graph keeps the start date of a series that has
// started, docs/graph-behaviour.md#recurrence).

// writtenVersion prefixes a digest of this kind. A marker with a digest of
// another kind is never compared.
const writtenVersion = "v1:"

// writtenHexPerField is how many hex digits of each field's hash the digest
// keeps.
const writtenHexPerField = 4

// writtenFields are the members the digest covers, in its order: every
// property of a definition that arsync writes.
var writtenFields = []string{
	"displayName", "descriptionForAdmins", "descriptionForReviewers",
	"scope", "instanceEnumerationScope", "reviewers", "fallbackReviewers",
	"additionalNotificationRecipients", "settings", "stageSettings",
}

// WrittenDigest returns the digest of d, as the marker records it when
// arsync writes d ("v1:" and 40 hex digits).
func WrittenDigest(d Definition) string {
	var b strings.Builder
	b.WriteString(writtenVersion)
	for _, h := range fieldHashes(d) {
		b.WriteString(h)
	}
	return b.String()
}

// ChangedSinceWritten compares live with the digest its marker records
// (MarkerDigest of its descriptionForAdmins) and returns the names of the
// fields whose value is not the one arsync wrote, in writtenFields order.
// known is false when the marker records no digest, or one of a kind this
// version does not compute: nothing can be said then.
func ChangedSinceWritten(live Definition) (fields []string, known bool) {
	recorded, ok := strings.CutPrefix(MarkerDigest(live.DescriptionForAdmins), writtenVersion)
	if !ok || len(recorded) != len(writtenFields)*writtenHexPerField {
		return nil, false
	}
	for i, h := range fieldHashes(live) {
		if recorded[i*writtenHexPerField:(i+1)*writtenHexPerField] != h {
			fields = append(fields, writtenFields[i])
		}
	}
	return fields, true
}

// fieldHashes returns the short hash of each of writtenFields of d.
func fieldHashes(d Definition) []string {
	n := Normalize(d)
	settings := n.Settings
	if settings != nil && settings.Recurrence != nil && settings.Recurrence.Range != nil {
		s, rec, rng := *settings, *settings.Recurrence, *settings.Recurrence.Range
		rng.StartDate = ""
		rec.Range = &rng
		s.Recurrence = &rec
		settings = &s
	}
	values := []any{
		n.DisplayName, n.DescriptionForAdmins, n.DescriptionForReviewers,
		n.Scope, n.InstanceEnumerationScope, n.Reviewers, n.FallbackReviewers,
		n.AdditionalNotificationRecipients, settings, n.StageSettings,
	}
	out := make([]string, len(values))
	for i, v := range values {
		b, err := MarshalNoEscape(v)
		if err != nil {
			// Plain data always encodes; should it not, the field reads
			// as changed rather than as unchanged.
			b = []byte("\x00" + err.Error())
		}
		sum := sha256.Sum256(b)
		out[i] = hex.EncodeToString(sum[:])[:writtenHexPerField]
	}
	return out
}
