package diff

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/arsync/arsync/pkg/graph"
)

// RenderJSON writes p as the versioned plan JSON of docs/safety.md#saved-plans-and-the-stale-plan-check (also the
// saved-plan file): indented, with '&', '<' and '>' left as they are, and
// with the digest of its own content (see PlanDigest), whatever p.Digest
// says.
func RenderJSON(w io.Writer, p *Plan) error {
	if p == nil {
		return fmt.Errorf("render plan: no plan")
	}
	q := *p
	q.Digest = ""
	var err error
	if q.ChangesDigest, err = q.DigestChanges(); err != nil {
		return fmt.Errorf("render plan: %w", err)
	}
	body, err := encodePlan(&q)
	if err != nil {
		return err
	}
	if q.Digest, err = PlanDigest(body); err != nil {
		return fmt.Errorf("render plan: %w", err)
	}
	if body, err = encodePlan(&q); err != nil {
		return err
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}

func encodePlan(p *Plan) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("render plan: %w", err)
	}
	return buf.Bytes(), nil
}

// digestPrefix names the digest's algorithm.
const digestPrefix = "sha256:"

// PlanDigest returns the digest of a plan file's content: "sha256:" and the
// hex SHA-256 of the file's JSON object without its top-level "digest"
// member, compact and with every object's members sorted by name
// (graph.SortedJSON). Spacing and member order do not change it; any other
// edit does. data must be one JSON object.
func PlanDigest(data []byte) (string, error) {
	ms, err := objectMembers(data)
	if err != nil {
		return "", err
	}
	return contentDigest(ms)
}

// member is one member of a JSON object, its value as spelled.
type member struct {
	name  string
	value json.RawMessage
}

// errNotObject: a plan is a JSON object.
var errNotObject = errors.New("not a JSON object")

// objectMembers splits a JSON object into its members, in order and
// duplicates kept, so that what the digest covers is everything the file
// says.
func objectMembers(data []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errNotObject
	}
	var ms []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errNotObject
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		ms = append(ms, member{name, v})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("unexpected data after the object")
	}
	return ms, nil
}

// contentDigest is PlanDigest of an object's members.
func contentDigest(ms []member) (string, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	n := 0
	for _, m := range ms {
		if m.name == "digest" {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		name, err := json.Marshal(m.name)
		if err != nil {
			return "", err
		}
		b.Write(name)
		b.WriteByte(':')
		b.Write(m.value)
	}
	b.WriteByte('}')
	canonical, err := graph.SortedJSON(b.Bytes())
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canonical)
	return digestPrefix + hex.EncodeToString(sum[:]), nil
}

// EditedPlanError says a saved plan's content does not match its digest:
// the file was changed after arsync wrote it, so it is not the plan that
// was reviewed. Nothing in it is applied.
type EditedPlanError struct {
	Reason string
}

func (e *EditedPlanError) Error() string {
	return "the saved plan was edited after arsync plan wrote it: " + e.Reason + "; run arsync plan again"
}

// checkDigest checks the members' "digest" against their content and
// returns it.
func checkDigest(ms []member) (string, error) {
	var digests []json.RawMessage
	for _, m := range ms {
		if m.name == "digest" {
			digests = append(digests, m.value)
		}
	}
	switch len(digests) {
	case 0:
		return "", &EditedPlanError{Reason: "it has no digest"}
	case 1:
	default:
		return "", &EditedPlanError{Reason: "it has more than one digest"}
	}
	var claimed string
	if err := json.Unmarshal(digests[0], &claimed); err != nil || !validDigest(claimed) {
		return "", &EditedPlanError{Reason: "its digest is not " + digestPrefix + " followed by 64 lower-case hex digits"}
	}
	actual, err := contentDigest(ms)
	if err != nil {
		return "", fmt.Errorf("read plan: %w", err)
	}
	if actual != claimed {
		return "", &EditedPlanError{Reason: "its content does not match its digest " + claimed}
	}
	return claimed, nil
}

func validDigest(s string) bool {
	h, ok := strings.CutPrefix(s, digestPrefix)
	if !ok || len(h) != 2*sha256.Size {
		return false
	}
	for _, c := range h {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// ReadPlan reads a plan written by RenderJSON and checks that it is one this
// version can apply: first its digest (an *EditedPlanError when its content
// does not match it, or it has none), then the format version, every
// change's action and the fields that action needs, and the summary
// against the changes. An unsupported version wraps
// ErrUnsupportedFormatVersion.
func ReadPlan(r io.Reader) (*Plan, error) {
	dec := json.NewDecoder(r)
	var head struct {
		FormatVersion *int `json:"formatVersion"`
	}
	raw := json.RawMessage{}
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read plan: the file is empty")
		}
		return nil, fmt.Errorf("read plan: not valid JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read plan: unexpected data after the plan")
	}
	ms, err := objectMembers(raw)
	if err != nil {
		return nil, fmt.Errorf("read plan: not a plan: %w", err)
	}
	if !slices.ContainsFunc(ms, func(m member) bool { return m.name == "formatVersion" || m.name == "digest" }) {
		return nil, fmt.Errorf("read plan: no formatVersion; not an arsync plan")
	}
	// The digest first: nothing an edited file says is to be trusted, not
	// even its version.
	digest, err := checkDigest(ms)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("read plan: not a plan: %w", err)
	}
	if head.FormatVersion == nil {
		return nil, fmt.Errorf("read plan: no formatVersion; not an arsync plan")
	}
	if *head.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("read plan: formatVersion %d, this arsync reads %d: %w", *head.FormatVersion, FormatVersion, ErrUnsupportedFormatVersion)
	}
	var p Plan
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	p.Digest = digest
	if p.ChangesDigest == "" { // a plan saved before plans had one
		if p.ChangesDigest, err = p.DigestChanges(); err != nil {
			return nil, fmt.Errorf("read plan: %w", err)
		}
	}
	if p.Changes == nil {
		p.Changes = []Change{}
	}
	if p.Unmanaged == nil {
		p.Unmanaged = []Unmanaged{}
	}
	if p.Warnings == nil {
		p.Warnings = []string{}
	}
	return &p, nil
}

// validate checks what apply relies on.
func (p *Plan) validate() error {
	var sum Summary
	for i, c := range p.Changes {
		where := fmt.Sprintf("change %d", i+1)
		if c.Name != "" {
			where += " (" + c.Name + ")"
		}
		if !c.Action.Valid() {
			return fmt.Errorf("%s: unknown action %q", where, c.Action)
		}
		if c.Name == "" {
			return fmt.Errorf("change %d: no name", i+1)
		}
		if c.Action != Create && c.ID == "" {
			return fmt.Errorf("%s: %s needs the live id", where, c.Action)
		}
		switch c.Action {
		case Create, Update, Adopt, Replace:
			if c.After == nil {
				return fmt.Errorf("%s: %s needs the request body (after)", where, c.Action)
			}
		}
		switch c.Action {
		case Update, Adopt, Replace, Delete:
			if c.LiveFingerprint == "" {
				return fmt.Errorf("%s: %s needs the live definition's fingerprint", where, c.Action)
			}
		}
		sum.add(c.Action)
	}
	if sum != p.Summary {
		return fmt.Errorf("the summary does not match the changes (the file was edited?)")
	}
	return p.validateTargets()
}
