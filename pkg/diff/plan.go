package diff

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/arsync/arsync/pkg/graph"
)

// FormatVersion is the version of the plan JSON this package writes and reads.
// It changes only when a change to the format would break a reader; adding a
// field does not change it.
const FormatVersion = 1

// Desired is one definition arsync should make exist.
type Desired struct {
	// Name is metadata.name: the ownership marker's key.
	Name string
	// Source is where the definition was written ("file:line"), for the plan.
	Source string
	// Definition is the request body, without the marker: Compute adds it.
	Definition graph.Definition
	// Display optionally maps object ids to readable names (a UPN, a group's
	// name) so that field changes can say who a GUID is. Keys are matched
	// case-insensitively.
	Display map[string]string
	// PreviousNames are metadata.previousNames: names the definition had
	// before. A live definition carrying one of their markers, and none
	// carrying Name's, is this definition, renamed (Change.RenamedFrom).
	PreviousNames []string
}

// Options are the inputs of Compute that are not definitions.
type Options struct {
	// Now is the plan's creation time. Compute never reads the clock.
	Now time.Time
	// TenantID and GraphEndpoint are recorded in the plan so that apply can
	// check that a saved plan is applied where it was made.
	TenantID      string
	GraphEndpoint string
	// Targets, when set, narrow the plan to the definitions whose
	// metadata.name matches one of them (path.Match globs); the other
	// changes are listed in Plan.LeftOut. A target that matches no desired
	// or managed name is a *TargetError.
	Targets []string
	// DeleteDuplicates plans the deletion of all but the oldest (by
	// createdDateTime) of live definitions sharing one marker. Without it such
	// duplicates make Compute fail with a *DuplicateMarkerError.
	DeleteDuplicates bool
	// Labels, like Desired.Display, maps object ids to readable names, for
	// every change: typically the ids of the live definitions, so that the
	// "before" side of a field change shows names too. A Desired's own
	// Display wins. Keys are matched case-insensitively.
	Labels map[string]string
}

// Action is what apply will do to one definition.
type Action string

// The actions, in the order apply performs them (creates first).
const (
	Create  Action = "create"
	Update  Action = "update"
	Adopt   Action = "adopt"
	Replace Action = "replace"
	Delete  Action = "delete"
	NoOp    Action = "noop"
)

// Valid reports whether a is one of the six actions.
func (a Action) Valid() bool {
	switch a {
	case Create, Update, Adopt, Replace, Delete, NoOp:
		return true
	}
	return false
}

// Symbol is the action's mark in the text plan.
func (a Action) Symbol() string {
	switch a {
	case Create:
		return "+"
	case Update:
		return "~"
	case Adopt:
		return "<="
	case Replace:
		return "-/+"
	case Delete:
		return "-"
	}
	return " "
}

// FieldChange is one difference at a leaf path of a definition. Before and
// After are the normalised values (for create: the value written, Before nil),
// as plain JSON values (string, float64, bool, nil, []any, map[string]any).
type FieldChange struct {
	Path              string `json:"path"`
	Before            any    `json:"before"`
	After             any    `json:"after"`
	ForcesReplacement bool   `json:"forcesReplacement"`
}

// Change is the plan for one definition. See the package documentation for
// what each field holds for each action.
type Change struct {
	Action      Action `json:"action"`
	Name        string `json:"name"`
	ID          string `json:"id,omitempty"`
	DisplayName string `json:"displayName"`
	Source      string `json:"source,omitempty"`
	// Reason says why, for humans (e.g. "no longer in the configuration").
	// Apply must not branch on it.
	Reason string        `json:"reason,omitempty"`
	Fields []FieldChange `json:"fields,omitempty"`
	// UnchangedFields counts the desired leaf fields that do not change
	// (update, adopt, replace), so renderers can say how many they hide.
	UnchangedFields int `json:"unchangedFields,omitempty"`
	// Labels maps the GUIDs that appear in Fields to readable names.
	Labels          map[string]string `json:"labels,omitempty"`
	Before          *graph.Definition `json:"before,omitempty"`
	After           *graph.Definition `json:"after,omitempty"`
	LiveFingerprint string            `json:"liveFingerprint,omitempty"`

	// RenamedFrom is the previous name (Desired.PreviousNames) whose
	// marker the live definition carries: the update rewrites the marker
	// to Name, keeping the definition's id, instances and decisions.
	RenamedFrom string `json:"renamedFrom,omitempty"`
	// ChangedOutside says the live definition was changed in the tenant
	// since arsync last wrote it (update, replace, delete): its marker
	// records a digest of what arsync wrote (graph.WrittenDigest) and
	// ChangedOutsideFields, the top-level fields whose value is no longer
	// that, are not empty. For an update or a replace only the fields that
	// also differ from the YAML count: a field changed in the tenant to
	// what the YAML says needs nothing. A change that comes only from the
	// YAML is not flagged, nor is a definition whose marker records no
	// digest (written by an older arsync, or by hand).
	ChangedOutside       bool     `json:"changedOutside,omitempty"`
	ChangedOutsideFields []string `json:"changedOutsideFields,omitempty"`
}

// Unmanaged is a live definition without arsync's marker that no desired
// definition adopts. arsync lists it and never changes it.
type Unmanaged struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

// Summary counts the changes by action.
type Summary struct {
	Create  int `json:"create"`
	Update  int `json:"update"`
	Replace int `json:"replace"`
	Delete  int `json:"delete"`
	Adopt   int `json:"adopt"`
	NoOp    int `json:"noop"`
}

func (s *Summary) add(a Action) {
	switch a {
	case Create:
		s.Create++
	case Update:
		s.Update++
	case Replace:
		s.Replace++
	case Delete:
		s.Delete++
	case Adopt:
		s.Adopt++
	case NoOp:
		s.NoOp++
	}
}

// Plan is the result of Compute and the content of a saved plan file
// (docs/safety.md#saved-plans-and-the-stale-plan-check). Changes are sorted by name, then action, then id, and
// include the noops, so a reader also knows which definitions arsync manages.
type Plan struct {
	FormatVersion int `json:"formatVersion"`
	// Digest is the saved plan's digest of its own content ("sha256:...",
	// docs/safety.md#the-saved-plans-digest): RenderJSON computes and
	// writes it, ReadPlan refuses a file whose content does not match it
	// and keeps it here. It is not a signature: it catches an edited file,
	// not one whose editor recomputed it.
	Digest        string      `json:"digest,omitempty"`
	TenantID      string      `json:"tenantId"`
	GraphEndpoint string      `json:"graphEndpoint"`
	CreatedAt     string      `json:"createdAt"`
	Changes       []Change    `json:"changes"`
	Unmanaged     []Unmanaged `json:"unmanaged"`
	Warnings      []string    `json:"warnings"`
	Summary       Summary     `json:"summary"`

	// A targeted plan (Options.Targets, docs/safety.md#targeted-plans):
	// its targets, Partial set, and the changes it left out of view. All
	// are absent from a full plan.
	Targets []string  `json:"targets,omitempty"`
	Partial bool      `json:"partial,omitempty"`
	LeftOut []LeftOut `json:"leftOut,omitempty"`
	// ChangesDigest is DigestChanges: the same for two plans that make the
	// same writes, whenever they were made. RenderJSON writes it.
	ChangesDigest string `json:"changesDigest,omitempty"`
	// Coverage is the check of arsync.yaml's coverage section, absent
	// without one.
	Coverage *CoverageCheck `json:"coverage,omitempty"`
}

// HasChanges reports whether applying p would write anything.
func (p *Plan) HasChanges() bool {
	if p == nil {
		return false
	}
	for _, c := range p.Changes {
		if c.Action != NoOp {
			return true
		}
	}
	return false
}

// LiveRef identifies a live definition in an error.
type LiveRef struct {
	ID              string
	DisplayName     string
	CreatedDateTime string
}

func (r LiveRef) String() string {
	if r.CreatedDateTime == "" {
		return r.ID
	}
	return r.ID + " (created " + r.CreatedDateTime + ")"
}

func refsString(rs []LiveRef) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.String()
	}
	return strings.Join(s, ", ")
}

// DuplicateMarkerError reports live definitions that carry the same marker.
// Definitions are ordered oldest first; the first one is the one arsync keeps
// when Options.DeleteDuplicates is set.
type DuplicateMarkerError struct {
	Name        string
	Definitions []LiveRef
}

func (e *DuplicateMarkerError) Error() string {
	return fmt.Sprintf("%d live definitions carry the marker [arsync:%s]: %s; delete the younger ones (arsync apply --allow-delete) or remove their marker",
		len(e.Definitions), e.Name, refsString(e.Definitions))
}

// AmbiguousAdoptionError reports a desired definition that could adopt more
// than one unmarked live definition, or an unmarked live definition that more
// than one desired definition could adopt.
type AmbiguousAdoptionError struct {
	DisplayName string
	// Names are the desired definitions (metadata.name) involved.
	Names []string
	// Candidates are the unmarked live definitions with that displayName.
	Candidates []LiveRef
}

func (e *AmbiguousAdoptionError) Error() string {
	return fmt.Sprintf("cannot adopt %q for %s: %d desired and %d unmarked live definitions have that displayName (%s); rename one, or add the marker [arsync:<name>] to the one to keep",
		e.DisplayName, strings.Join(e.Names, ", "), len(e.Names), len(e.Candidates), refsString(e.Candidates))
}

// InputError reports a desired or live definition Compute cannot plan for.
type InputError struct {
	Name   string // desired metadata.name, or "" for a live definition
	Source string
	ID     string // live id, or ""
	Reason string
}

func (e *InputError) Error() string {
	var where string
	switch {
	case e.Source != "":
		where = e.Source + ": " + e.Name
	case e.Name != "":
		where = e.Name
	case e.ID != "":
		where = "live definition " + e.ID
	default:
		where = "live definition"
	}
	return where + ": " + e.Reason
}

// ErrUnsupportedFormatVersion is returned (wrapped) by ReadPlan for a plan
// written in a format this version cannot read.
var ErrUnsupportedFormatVersion = errors.New("unsupported plan format version")
