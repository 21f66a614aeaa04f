package diff

// Targeted (partial) plans and the changes digest: the plan-level fields
// "targets", "partial", "leftOut" and "changesDigest"
// (docs/safety.md#targeted-plans, docs/safety.md#the-reviewed-plan-is-the-applied-plan).

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/arsync/arsync/pkg/graph"
)

// LeftOut is a change a targeted plan leaves out of view: the change a full
// plan would make to a definition whose name matches no target. Nothing is
// done to it.
type LeftOut struct {
	Action      Action `json:"action"`
	Name        string `json:"name"`
	ID          string `json:"id,omitempty"`
	DisplayName string `json:"displayName"`
	// Managed says the live definition carries arsync's marker, so that the
	// change limit still counts it among the managed definitions.
	Managed bool `json:"managed,omitempty"`
}

// CheckTargets returns an error for a target that is not a valid pattern
// (path.Match's syntax: '*', '?', '[a-z]'), or empty.
func CheckTargets(targets []string) error {
	for _, t := range targets {
		if strings.TrimSpace(t) == "" {
			return fmt.Errorf("--target: an empty name")
		}
		if _, err := path.Match(t, ""); err != nil {
			return fmt.Errorf("--target %q: not a name or a glob ('*' any characters, '?' one, [a-z] a range): %w", t, err)
		}
	}
	return nil
}

// MatchTarget reports whether name (a metadata.name) matches one of
// targets. No targets match every name.
func MatchTarget(targets []string, name string) bool {
	if len(targets) == 0 {
		return true
	}
	for _, t := range targets {
		if ok, _ := path.Match(t, name); ok {
			return true
		}
	}
	return false
}

// TargetError says a target matches no definition, in the specs or among
// the tenant's managed ones: most likely a typo, and a plan of nothing
// would hide it.
type TargetError struct {
	Target     string
	Suggestion string
}

func (e *TargetError) Error() string {
	msg := fmt.Sprintf("--target %q matches no definition in the spec files or the tenant", e.Target)
	if e.Suggestion != "" {
		msg += fmt.Sprintf("; did you mean %q?", e.Suggestion)
	}
	return msg
}

// keepTargets narrows p to the changes whose names match targets, moving
// the others to p.LeftOut. known are the names a target may match: the
// desired names and the managed live ones. Each target must match one.
func keepTargets(p *Plan, targets []string, known []string) error {
	if len(targets) == 0 {
		return nil
	}
	for _, t := range targets {
		if !slices.ContainsFunc(known, func(n string) bool { return MatchTarget([]string{t}, n) }) {
			return &TargetError{Target: t, Suggestion: graph.Suggest(t, known)}
		}
	}
	p.Targets = slices.Clone(targets)
	p.Partial = true
	kept := p.Changes[:0:0]
	for _, c := range p.Changes {
		if MatchTarget(targets, c.Name) {
			kept = append(kept, c)
			continue
		}
		lo := LeftOut{Action: c.Action, Name: c.Name, ID: c.ID, DisplayName: c.DisplayName}
		switch c.Action {
		case NoOp, Update, Delete:
			lo.Managed = true
		case Replace:
			lo.Managed = c.Before == nil || hasMarker(c.Before)
		}
		p.LeftOut = append(p.LeftOut, lo)
	}
	p.Changes = kept
	return nil
}

func hasMarker(d *graph.Definition) bool {
	_, _, ok := graph.SplitMarker(d.DescriptionForAdmins)
	return ok
}

// LeftOutChanges counts the left-out changes that would write something.
func (p *Plan) LeftOutChanges() int {
	n := 0
	for _, lo := range p.LeftOut {
		if lo.Action != NoOp {
			n++
		}
	}
	return n
}

// DigestChanges is the digest of what applying p would do: "sha256:" and
// the hex SHA-256 of the tenant, the endpoint, the targets and, for every
// change that writes, its action, name, id, request body and the
// fingerprint of the live definition it was planned against. Two plans
// with the same digest make the same writes. Unlike the saved
// plan's digest it leaves out what does not change what is written: the
// plan's creation time, warnings, sources, labels, unmanaged definitions
// and left-out changes. So two plans of an unchanged tenant and unchanged
// specs, made at different times, have the same digest. RenderJSON writes it as
// the plan's "changesDigest".
func (p *Plan) DigestChanges() (string, error) {
	if p == nil {
		return "", fmt.Errorf("changes digest: no plan")
	}
	type write struct {
		Action          Action            `json:"action"`
		Name            string            `json:"name"`
		ID              string            `json:"id,omitempty"`
		After           *graph.Definition `json:"after,omitempty"`
		LiveFingerprint string            `json:"liveFingerprint,omitempty"`
	}
	in := struct {
		FormatVersion int      `json:"formatVersion"`
		TenantID      string   `json:"tenantId"`
		GraphEndpoint string   `json:"graphEndpoint"`
		Targets       []string `json:"targets"`
		Writes        []write  `json:"writes"`
	}{FormatVersion: FormatVersion, TenantID: p.TenantID, GraphEndpoint: p.GraphEndpoint, Targets: p.Targets, Writes: []write{}}
	if in.Targets == nil {
		in.Targets = []string{}
	}
	for _, c := range p.Changes {
		if c.Action != NoOp {
			in.Writes = append(in.Writes, write{c.Action, c.Name, c.ID, c.After, c.LiveFingerprint})
		}
	}
	b, err := json.Marshal(in)
	if err == nil {
		b, err = graph.SortedJSON(b)
	}
	if err != nil {
		return "", fmt.Errorf("changes digest: %w", err)
	}
	sum := sha256.Sum256(b)
	return digestPrefix + hex.EncodeToString(sum[:]), nil
}

// validateTargets checks the targeted-plan fields of a plan that was read.
func (p *Plan) validateTargets() error {
	if p.Partial != (len(p.Targets) > 0) {
		return fmt.Errorf("partial is %t with %d target(s)", p.Partial, len(p.Targets))
	}
	if err := CheckTargets(p.Targets); err != nil {
		return err
	}
	for _, c := range p.Changes {
		if !MatchTarget(p.Targets, c.Name) {
			return fmt.Errorf("change %s is outside the plan's targets", c.Name)
		}
	}
	for _, lo := range p.LeftOut {
		if !lo.Action.Valid() {
			return fmt.Errorf("left-out change %s: unknown action %q", lo.Name, lo.Action)
		}
	}
	if p.ChangesDigest != "" {
		d, err := p.DigestChanges()
		if err != nil {
			return err
		}
		if d != p.ChangesDigest {
			return fmt.Errorf("its changesDigest does not match its changes")
		}
	}
	return nil
}

// targetsList is the targets as flags, for the renderers.
func targetsList(p *Plan) string {
	s := make([]string, len(p.Targets))
	for i, t := range p.Targets {
		s[i] = "--target " + t
	}
	return strings.Join(s, " ")
}

// partialSummary is what the summary line says of a targeted plan.
func partialSummary(p *Plan) string {
	n := p.LeftOutChanges()
	return fmt.Sprintf(" Targeted plan: %d %s outside the targets left out.", n, plural(n, "change", "changes"))
}

// writeTextLeftOut writes a targeted plan's note and its left-out changes.
func writeTextLeftOut(w io.Writer, pt painter, p *Plan) {
	if !p.Partial {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%s this is a targeted plan (%s): only definitions whose metadata.name matches are created, updated, replaced or deleted.\n",
		pt.paint(ansiBold+ansiYellow, "Note:"), targetsList(p))
	n := p.LeftOutChanges()
	if n == 0 {
		fmt.Fprintf(w, "Nothing outside the targets would change (%d unchanged left out).\n", len(p.LeftOut))
		return
	}
	fmt.Fprintf(w, "Left out, not done: %d %s outside the targets\n", n, plural(n, "change", "changes"))
	for _, lo := range p.LeftOut {
		if lo.Action == NoOp {
			continue
		}
		fmt.Fprintf(w, "    %s %s %s  %s", pt.paint(actionColor(lo.Action), lo.Action.Symbol()), lo.Action, lo.Name, quote(lo.DisplayName))
		if lo.ID != "" {
			fmt.Fprintf(w, "  id=%s", lo.ID)
		}
		fmt.Fprintln(w)
	}
}

// writeMarkdownLeftOut writes a targeted plan's note for a pull request.
func writeMarkdownLeftOut(w io.Writer, p *Plan) {
	if !p.Partial {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "> [!NOTE]")
	fmt.Fprintf(w, "> Targeted plan (%s): only definitions whose metadata.name matches are created, updated, replaced or deleted.\n", mdCode(targetsList(p)))
	n := p.LeftOutChanges()
	if n == 0 {
		fmt.Fprintln(w, "> Nothing outside the targets would change.")
		return
	}
	fmt.Fprintf(w, "> %d %s outside the targets %s left out, not done:\n", n, plural(n, "change", "changes"), plural(n, "is", "are"))
	for _, lo := range p.LeftOut {
		if lo.Action != NoOp {
			fmt.Fprintf(w, "> - <code>%s %s</code> %s: %s\n", html.EscapeString(lo.Action.Symbol()), lo.Action, mdEscape(lo.Name), mdEscape(lo.DisplayName))
		}
	}
}
