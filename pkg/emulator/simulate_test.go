package emulator

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// outcome is what became of one decision item.
type outcome struct{ Instance, Principal, Decision, ReviewedBy, ApplyResult string }

// simulateQuarters runs the guest review for nine months with simulated
// reviewers (or without) and returns every item's outcome.
func simulateQuarters(t *testing.T, decide bool) (instances int, outcomes []outcome) {
	h := lcHarness(t, "2026-01-01T00:00:00Z", Options{Seed: 42})
	body := guestReview()
	setPath(body, "settings.defaultDecisionEnabled", false)
	setPath(body, "settings.defaultDecision", "None")
	id := h.create(body)
	h.srv.SetReviewersDecide(decide)
	_, err := h.srv.Advance(270 * 24 * time.Hour)
	require.NoError(t, err)
	r := h.do(http.MethodGet, definitionsPath+"/"+id+"/instances", nil)
	require.Equal(t, 200, r.status, "body: %s", r.body)
	for _, v := range r.values(t) {
		in := v.(map[string]any)
		require.Contains(t, []string{"Completed", "Applied"}, in["status"])
		instances++
		for _, d := range h.decisions(id, in["id"].(string), "") {
			by, _ := getPath(d, "reviewedBy.userPrincipalName").(string)
			outcomes = append(outcomes, outcome{in["id"].(string), getPath(d, "principal.displayName").(string),
				d["decision"].(string), by, d["applyResult"].(string)})
		}
	}
	return instances, outcomes
}

func TestSimulatedReviewers(t *testing.T) {
	t.Parallel()
	n, got := simulateQuarters(t, true)
	// Quarterly from January 5th: January, April and July, for each of the
	// three Microsoft 365 groups with guests (Marketing, Sales, Project
	// Falcon); Engineering has none.
	require.Equal(t, 9, n)
	counts := map[string]int{}
	applied := 0
	for _, o := range got {
		counts[o.Decision]++
		if o.Decision != "NotReviewed" {
			require.NotEmpty(t, o.ReviewedBy, "a reviewer decided %+v", o)
		}
		if o.ApplyResult == "AppliedSuccessfully" {
			applied++
		}
	}
	require.Positive(t, counts["Approve"], "outcomes: %v", counts)
	require.Positive(t, counts["Deny"], "outcomes: %v", counts)
	require.Positive(t, counts["NotReviewed"], "outcomes: %v", counts)
	require.Positive(t, applied, "auto-apply applies the decisions")

	_, again := simulateQuarters(t, true)
	require.Equal(t, got, again, "the same seed gives the same outcomes")

	_, none := simulateQuarters(t, false)
	for _, o := range none {
		require.Equal(t, "NotReviewed", o.Decision, "without simulated reviewers nobody decides")
	}
}

// TestSimulatedReviewersMidInstance: a decision shows once the clock has
// passed its moment, while the instance still runs.
func TestSimulatedReviewersMidInstance(t *testing.T) {
	t.Parallel()
	h := lcHarness(t, "2026-01-01T00:00:00Z", Options{Seed: 42})
	id := h.create(guestReview())
	h.srv.SetReviewersDecide(true)
	decided := func() int {
		n := 0
		for _, in := range h.instancesByGroup(id) {
			for _, d := range h.decisions(id, in["id"].(string), "") {
				if d["decision"] != "NotReviewed" {
					n++
				}
			}
		}
		return n
	}
	_, err := h.srv.Advance(4*24*time.Hour + time.Hour) // the instances start on the 5th
	require.NoError(t, err)
	require.Zero(t, decided(), "nobody has decided in the first hour")
	_, err = h.srv.Advance(7 * 24 * time.Hour)
	require.NoError(t, err)
	mid := decided()
	require.Positive(t, mid, "some reviewers decided in the first week")
	_, err = h.srv.Advance(24 * time.Hour)
	require.NoError(t, err)
	require.GreaterOrEqual(t, decided(), mid)
}
