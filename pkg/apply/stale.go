package apply

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/graph"
)

// StalePlanError says a saved plan no longer describes the tenant, or was
// made for another one. Nothing has been written.
type StalePlanError struct {
	Reasons []string
}

func (e *StalePlanError) Error() string {
	return "stale plan: " + strings.Join(e.Reasons, "; ") + "; nothing was written: run arsync plan again"
}

// CheckStale checks that a saved plan can still be applied as it is: it
// was made for tenantID at endpoint, every live definition it changes still
// has the fingerprint it had when planned and is one the change may write
// (see StaleChangeError), and no definition has meanwhile appeared with the
// marker of one it creates (applying it would make a duplicate). It reads
// one list of the definitions (the same read plan fingerprinted) and writes
// nothing. A plan for another tenant or endpoint is a *WrongTargetError,
// found before any request; a plan the tenant has moved away from is a
// *StalePlanError; failing to read is another error.
//
// The fingerprint alone does not make a plan trustworthy: it is a hash of
// what anyone who can read the tenant can read, so a plan edited to delete
// an unmanaged definition can carry its true fingerprint. The ownership
// check is what refuses that, here and again in Apply as it writes.
func CheckStale(ctx context.Context, c Client, p *diff.Plan, tenantID, endpoint string) error {
	if p == nil {
		return fmt.Errorf("%w: no plan", ErrInvalidPlan)
	}
	wt := &WrongTargetError{PlanTenant: p.TenantID, Tenant: tenantID, PlanEndpoint: p.GraphEndpoint, Endpoint: endpoint}
	if wt.tenantDiffers() || wt.endpointDiffers() {
		return wt
	}
	var reasons []string
	if !p.HasChanges() {
		return nil
	}

	byID := map[string]*graph.Definition{}
	var all []*graph.Definition
	for d, err := range c.ListDefinitions(ctx, nil) {
		if err != nil {
			return fmt.Errorf("checking the saved plan against the tenant: listing definitions: %w", err)
		}
		byID[d.ID] = d
		all = append(all, d)
	}
	byMarker, _ := graph.ByMarker(all)
	for _, ch := range p.Changes {
		switch ch.Action {
		case diff.NoOp:
			continue
		case diff.Update, diff.Adopt, diff.Replace, diff.Delete:
			live, ok := byID[ch.ID]
			switch {
			case !ok:
				reasons = append(reasons, fmt.Sprintf("%s: definition %s no longer exists", ch.Name, ch.ID))
			case diff.Fingerprint(*live) != ch.LiveFingerprint:
				reasons = append(reasons, fmt.Sprintf("%s: definition %s changed since the plan was made (last modified %s)", ch.Name, ch.ID, orNone(live.LastModifiedDateTime)))
			default:
				if why := ownershipProblem(&ch, live); why != "" {
					reasons = append(reasons, fmt.Sprintf("%s: definition %s (%q) %s", ch.Name, ch.ID, live.DisplayName, why))
				}
			}
		}
		if ch.Action == diff.Create || ch.Action == diff.Replace {
			var others []string
			for _, d := range byMarker[ch.Name] {
				if d.ID != ch.ID {
					others = append(others, d.ID)
				}
			}
			if len(others) > 0 {
				reasons = append(reasons, fmt.Sprintf("%s: definition %s now carries its marker, so creating it would make a duplicate", ch.Name, strings.Join(others, ", ")))
			}
		}
	}
	if len(reasons) > 0 {
		return &StalePlanError{Reasons: reasons}
	}
	return nil
}

// WrongTargetError says a saved plan was made for another tenant or Graph
// endpoint than the one arsync is signed in to. The plan is not stale:
// planning again would not help; applying it where it was made would.
// Nothing has been written.
type WrongTargetError struct {
	PlanTenant, Tenant     string
	PlanEndpoint, Endpoint string
}

func (e *WrongTargetError) tenantDiffers() bool {
	return !strings.EqualFold(strings.TrimSpace(e.PlanTenant), strings.TrimSpace(e.Tenant))
}

func (e *WrongTargetError) endpointDiffers() bool {
	return canonicalEndpoint(e.PlanEndpoint) != canonicalEndpoint(e.Endpoint)
}

func (e *WrongTargetError) Error() string {
	var what []string
	var there, here []string
	if e.tenantDiffers() {
		what = append(what, fmt.Sprintf("this plan was made for tenant %s, but arsync is signed in to tenant %s", orNone(e.PlanTenant), orNone(e.Tenant)))
		there = append(there, fmt.Sprintf("signed in to tenant %s (--tenant-id %s, or tenantId in arsync.yaml, with an identity of that tenant)", orNone(e.PlanTenant), orNone(e.PlanTenant)))
		here = append(here, "for tenant "+orNone(e.Tenant))
	}
	if e.endpointDiffers() {
		what = append(what, fmt.Sprintf("this plan was made for endpoint %s, not %s", orNone(e.PlanEndpoint), orNone(e.Endpoint)))
		there = append(there, "with the plan's --graph-endpoint (or --cloud)")
		here = append(here, "against "+orNone(e.Endpoint))
	}
	return strings.Join(what, "; ") + "; nothing was written: apply it " + strings.Join(there, " ") + ", or run arsync plan " + strings.Join(here, " ")
}

// StaleChangeError is the result of a change that Apply refused as it was
// about to write: the definition it re-read just before is not one the
// change may write (any more). Nothing was written for the change.
//
// An update, a delete and a replace write only a definition that carries
// the change's own marker ([arsync:<name>]), or for an update or a replace
// that renames, the marker of the name it renames from; an adopt, and a replace that
// adopts (planned from a definition without a marker), only a definition
// that carries no marker and has the displayName the plan adopts. This
// holds whoever made the plan: a plan edited to aim a change at another
// definition finds it refused here.
type StaleChangeError struct {
	Name   string
	Action diff.Action
	// ID and DisplayName name the live definition as re-read.
	ID, DisplayName string
	// Reason says what is wrong with it.
	Reason string
}

func (e *StaleChangeError) Error() string {
	return fmt.Sprintf("stale plan: definition %s (%q) %s; nothing was written for %s: run arsync plan again", e.ID, e.DisplayName, e.Reason, e.Name)
}

// ownershipProblem says why live, as read just now, is not a definition
// ch may write, or "" when it is (see StaleChangeError).
func ownershipProblem(ch *diff.Change, live *graph.Definition) string {
	owner := graph.ManagedName(live)
	if adopts(ch) {
		switch {
		case owner != "":
			return fmt.Sprintf("carries the marker %s, and %s takes over only a definition without one", graph.Marker(owner), article(ch.Action))
		case live.DisplayName != ch.DisplayName:
			return fmt.Sprintf("is not named %q as the plan says, and %s takes over only the unmanaged definition of that displayName", ch.DisplayName, article(ch.Action))
		}
		return ""
	}
	if owner != "" && owner == ch.RenamedFrom && ch.Action != diff.Delete {
		// A rename rewrites the marker of its previous name
		// (docs/safety.md#renaming-a-definition).
		return ""
	}
	switch owner {
	case ch.Name:
		return ""
	case "":
		return fmt.Sprintf("does not carry the marker %s that %s needs: it carries no arsync marker", graph.Marker(ch.Name), article(ch.Action))
	default:
		return fmt.Sprintf("does not carry the marker %s that %s needs: it carries %s", graph.Marker(ch.Name), article(ch.Action), graph.Marker(owner))
	}
}

// adopts reports whether ch takes over a definition without a marker: an
// adopt, or a replace planned from a definition that carried none. A
// replace whose plan does not show the definition it was made from is
// taken to be of a managed one, the stricter rule.
func adopts(ch *diff.Change) bool {
	switch ch.Action {
	case diff.Adopt:
		return true
	case diff.Replace:
		return ch.Before != nil && graph.ManagedName(ch.Before) == ""
	}
	return false
}

func article(a diff.Action) string {
	switch a {
	case diff.Update, diff.Adopt:
		return "an " + string(a)
	}
	return "a " + string(a)
}

// canonicalEndpoint compares endpoints by meaning: scheme and host in any
// case, with or without a trailing slash.
func canonicalEndpoint(s string) string {
	s = strings.TrimRight(strings.TrimSpace(s), "/")
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return s
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	return u.String()
}

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "(none)"
	}
	return s
}
