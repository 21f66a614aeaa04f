package apply

import (
	"errors"
	"fmt"
	"strings"

	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/graph"
)

// MinManagedForLimit is how many definitions must be managed before the
// change limit applies: below it, one change is already a large share.
const MinManagedForLimit = 10

// Gate names a safety check.
type Gate string

const (
	GateDelete  Gate = "allow-delete"
	GateReplace Gate = "allow-replace"
	GateLimit   Gate = "max-change-percent"
)

// GateError is a refusal by one gate. CheckGates joins one per gate that
// refuses.
type GateError struct {
	Gate Gate
	// Names are the changes the gate refuses (for the limit: every
	// update, replace and delete).
	Names []string
	// For GateLimit: the changed and managed definitions and the limit.
	Changed, Managed, Limit int
}

func (e *GateError) Error() string {
	switch e.Gate {
	case GateDelete:
		return fmt.Sprintf("refusing to delete %s without --allow-delete (or allowDelete: true in arsync.yaml): a delete also removes the review history (instances and decisions)",
			countNames(e.Names))
	case GateReplace:
		return fmt.Sprintf("refusing to replace %s without --allow-replace (or allowReplace: true in arsync.yaml): a replace deletes the definition with its review history and creates it again",
			countNames(e.Names))
	case GateLimit:
		return fmt.Sprintf("refusing to update, replace or delete %d of %d managed definitions (%d%%, more than the %d%% limit) without --force (maxChangePercent in arsync.yaml sets the limit)",
			e.Changed, e.Managed, e.Changed*100/e.Managed, e.Limit)
	}
	return "refused by gate " + string(e.Gate)
}

// countNames writes "1 definition (a)" or "3 definitions (a, b, c)", with at
// most ten names.
func countNames(names []string) string {
	noun := "definitions"
	if len(names) == 1 {
		noun = "definition"
	}
	shown := names
	more := ""
	if len(shown) > 10 {
		shown, more = shown[:10], fmt.Sprintf(" and %d more", len(names)-10)
	}
	return fmt.Sprintf("%d %s (%s%s)", len(names), noun, strings.Join(shown, ", "), more)
}

// ManagedCount returns how many live definitions of the plan carry
// arsync's marker: every change but creates and adoptions (whose targets
// are not marked yet). Plans list managed definitions that do not change
// as noops, and a targeted plan lists the others in LeftOut, so the count
// is complete.
func ManagedCount(p *diff.Plan) int {
	if p == nil {
		return 0
	}
	n := 0
	for _, c := range p.Changes {
		switch c.Action {
		case diff.NoOp, diff.Update, diff.Delete:
			n++
		case diff.Replace:
			// A replace may adopt an unmarked definition as it goes.
			if c.Before == nil {
				n++
			} else if _, _, ok := graph.SplitMarker(c.Before.DescriptionForAdmins); ok {
				n++
			}
		}
	}
	// A targeted plan's left-out definitions are still managed: the limit
	// is a share of all of them, of which only the targeted changes count.
	for _, lo := range p.LeftOut {
		if lo.Managed {
			n++
		}
	}
	return n
}

// CheckGates returns nil when opts permit every change of p, and otherwise
// a *GateError per refusing gate, joined. It does no I/O.
func CheckGates(p *diff.Plan, opts Options) error {
	if p == nil {
		return fmt.Errorf("%w: no plan", ErrInvalidPlan)
	}
	limit := DefaultMaxChangePercent
	if opts.MaxChangePercent != nil {
		limit = *opts.MaxChangePercent
	}
	if limit < 0 || limit > 100 {
		return fmt.Errorf("the change limit must be between 0 and 100 percent, got %d", limit)
	}
	var deletes, replaces, changed []string
	for _, c := range p.Changes {
		switch c.Action {
		case diff.Delete:
			deletes = append(deletes, c.Name)
			changed = append(changed, c.Name)
		case diff.Replace:
			replaces = append(replaces, c.Name)
			changed = append(changed, c.Name)
		case diff.Update:
			changed = append(changed, c.Name)
		}
	}
	var errs []error
	if len(deletes) > 0 && !opts.AllowDelete {
		errs = append(errs, &GateError{Gate: GateDelete, Names: deletes})
	}
	if len(replaces) > 0 && !opts.AllowReplace {
		errs = append(errs, &GateError{Gate: GateReplace, Names: replaces})
	}
	managed := ManagedCount(p)
	if !opts.Force && managed >= MinManagedForLimit && len(changed)*100 > limit*managed {
		errs = append(errs, &GateError{Gate: GateLimit, Names: changed, Changed: len(changed), Managed: managed, Limit: limit})
	}
	return errors.Join(errs...)
}
