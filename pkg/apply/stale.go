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
// has the fingerprint it had when planned, and no definition has meanwhile
// appeared with the marker of one it creates (applying it would make a
// duplicate). It reads one list of the definitions (the same read plan
// fingerprinted) and writes nothing. A mismatch is a *StalePlanError;
// failing to read is another error.
func CheckStale(ctx context.Context, c Client, p *diff.Plan, tenantID, endpoint string) error {
	if p == nil {
		return fmt.Errorf("%w: no plan", ErrInvalidPlan)
	}
	var reasons []string
	if !strings.EqualFold(strings.TrimSpace(p.TenantID), strings.TrimSpace(tenantID)) {
		reasons = append(reasons, fmt.Sprintf("it was made for tenant %s, not %s", orNone(p.TenantID), orNone(tenantID)))
	}
	if canonicalEndpoint(p.GraphEndpoint) != canonicalEndpoint(endpoint) {
		reasons = append(reasons, fmt.Sprintf("it was made for endpoint %s, not %s", orNone(p.GraphEndpoint), orNone(endpoint)))
	}
	if len(reasons) > 0 {
		return &StalePlanError{Reasons: reasons}
	}
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
