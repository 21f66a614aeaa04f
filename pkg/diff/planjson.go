package diff

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// RenderJSON writes p as the versioned plan JSON of docs/safety.md#saved-plans-and-the-stale-plan-check (also the
// saved-plan file): indented, with '&', '<' and '>' left as they are.
func RenderJSON(w io.Writer, p *Plan) error {
	if p == nil {
		return fmt.Errorf("render plan: no plan")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		return fmt.Errorf("render plan: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}

// ReadPlan reads a plan written by RenderJSON and checks that it is one this
// version can apply: the format version, every change's action and the
// fields that action needs, and the summary against the changes. An
// unsupported version wraps ErrUnsupportedFormatVersion.
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
	return nil
}
