package emulator

import (
	"hash/fnv"
	"time"
)

// Simulated reviewers. With Server.SetReviewersDecide(true), the reviewers
// of running instances decide while Advance and SetNow move the clock, as
// people do in the My Access portal: each decision item gets a moment
// within its instance's (or stage's) window and an outcome, and is decided
// by one of its reviewers when the clock passes that moment: about 55% are
// approved, 17% denied, 5% "don't know", and the rest never reviewed (the
// default decision, if any, then applies at the end). Both follow from the
// instance's and the item's ids, so a seed gives the same outcomes. The
// decisions are recorded with the item's reviewer and the planned time,
// through the same rules as a reviewer's own (the instance's status, its
// justification rule), and applied like any other (auto-apply or
// applyDecisions).

// SetReviewersDecide turns simulated reviewers on or off for this Server
// (it is not kept in the state file).
func (s *Server) SetReviewersDecide(on bool) {
	s.mu.Lock()
	s.reviewersDecide = on
	s.mu.Unlock()
}

// simulated outcomes by share, in percent, cumulated.
var simulatedOutcomes = []struct {
	upTo          uint64
	decision      string
	justification string
}{
	{55, decisionApprove, "Still needs this access."},
	{72, decisionDeny, "No longer works with us."},
	{77, decisionDontKnow, "I do not know this person."},
}

// simulateReviewers records the simulated decisions of in that are due by
// at; it reports whether any was recorded. Callers hold s.mu.
func (s *Server) simulateReviewers(in *instance, at time.Time) bool {
	if in.Status != statusInProgress {
		return false
	}
	lo, hi := in.Start, in.nextEnd()
	if st := in.current(); st != nil && st.Start.After(lo) {
		lo = st.Start
	}
	if !hi.After(lo) {
		return false
	}
	n := 0
	for _, d := range in.writable() {
		if d.Decision != decisionNotReviewed || len(d.Reviewers) == 0 {
			continue
		}
		h := fnv.New64a()
		_, _ = h.Write([]byte(in.ID + "/" + d.ID))
		sum := h.Sum64()
		when := lo.Add(time.Duration(float64(hi.Sub(lo)) * float64(5+sum%90) / 100)).Truncate(time.Second)
		if when.After(at) {
			continue
		}
		p := (sum >> 8) % 100
		for _, o := range simulatedOutcomes {
			if p >= o.upTo {
				continue
			}
			by := s.dir.byID[d.Reviewers[(sum>>16)%uint64(len(d.Reviewers))]]
			if by != nil && justificationRule(in, o.decision, o.justification) == nil {
				record(d, o.decision, o.justification, refOf(by), when)
				n++
			}
			break
		}
	}
	if n > 0 {
		in.sync()
	}
	return n > 0
}
