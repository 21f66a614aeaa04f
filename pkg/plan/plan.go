// Package plan is arsync's planning pipeline, the one way a command turns
// loaded specs into a *diff.Plan: Make lists the tenant's access review
// definitions while it resolves the names the specs use in the directory
// (two independent round trips, so they run concurrently), labels the ids
// of the live side with names for people, and compares both sides with
// diff.Compute.
//
// Make takes its Graph client as the small Client interface declared here
// (*graphclient.Client implements it), the specs as spec.Load returned them
// (with errors among their diagnostics, Make refuses) and Options: the clock of the
// session (the emulator's under --emulator), the tenant and endpoint the
// plan records, whether to plan deleting duplicates, and a debug writer.
// It prints nothing else; rendering the plan is the caller's.
//
// Layout around it: pkg/spec loads and resolves, pkg/diff compares and
// renders, pkg/plan runs the pipeline between them against Graph, pkg/apply
// carries a plan out; cmd/arsync only wires flags, sessions and output.
package plan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"time"

	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/spec"
)

// Lister lists the tenant's access review definitions, page by page.
type Lister interface {
	ListDefinitions(ctx context.Context, opts *graph.ListOptions) iter.Seq2[*graph.Definition, error]
}

// Client is what Make reads from Graph: the definitions, the directory
// look-ups of names (spec.Resolve) and the directory read by id that names
// the live side's ids (spec.DescribeIDs). *graphclient.Client implements
// it.
type Client interface {
	Lister
	spec.Directory
	spec.ObjectReader
}

// Options are the inputs of Make that are not definitions.
type Options struct {
	// Now is the session's clock, read once for the plan's time and its
	// warnings ("the series started on ..."); nil means time.Now. Under
	// --emulator it is the emulator's clock, which "arsync emulator advance"
	// moves.
	Now func() time.Time
	// TenantID and GraphEndpoint are recorded in the plan, so that apply
	// --plan can refuse a plan made elsewhere.
	TenantID      string
	GraphEndpoint string
	// DeleteDuplicates plans deleting the younger duplicates of a managed
	// definition instead of failing (diff.Options.DeleteDuplicates).
	DeleteDuplicates bool
	// Targets narrow the plan to the definitions whose metadata.name
	// matches one of them (diff.Options.Targets).
	Targets []string
	// Debug, when set, receives a line for what the plan leaves out (names
	// it could not read), as -v/--debug shows.
	Debug io.Writer
}

// Make plans how to make the tenant match specs. Errors: listing fails
// ("listing the tenant's access review definitions: ..."); a name in the
// specs matches no object or several, as spec.Diagnostics (unwrapped, each
// at its file:line:col); a directory look-up fails ("resolving names in
// the directory: ..."); diff.Compute's errors. A cancelled ctx ends Make
// with an error that wraps ctx's.
func Make(ctx context.Context, c Client, specs *spec.Result, opts Options) (*diff.Plan, error) {
	if c == nil {
		return nil, errors.New("plan: no Graph client")
	}
	if specs == nil {
		return nil, errors.New("plan: no specs")
	}
	// Definitions with errors are left out of specs.Definitions: planned
	// as they are, the live ones would be deleted.
	if n := specs.Diagnostics.Count(spec.Error); n > 0 {
		return nil, fmt.Errorf("plan: the specs have %d error(s); nothing was sent to Graph", n)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing when resolution fails
	type listed struct {
		defs []graph.Definition
		err  error
	}
	liveC := make(chan listed, 1)
	go func() {
		defs, err := List(ctx, c)
		liveC <- listed{defs, err}
	}()
	desired, err := desiredOf(ctx, c, specs)
	if err != nil {
		return nil, err
	}
	live := <-liveC
	if live.err != nil {
		return nil, live.err
	}
	// Name the ids on the live side too, so field changes read "alice@..."
	// rather than a GUID. Labels are a courtesy: without directory read
	// permission the plan still works, with ids.
	labels, err := spec.DescribeIDs(ctx, c, live.defs)
	if err != nil {
		// A cancelled context is the user stopping the plan (Ctrl-C), not
		// a missing permission: it ends the plan, whatever words the
		// transport used.
		if cerr := ctx.Err(); cerr != nil {
			if !errors.Is(err, cerr) {
				err = fmt.Errorf("%w (%v)", cerr, err)
			}
			return nil, fmt.Errorf("naming the ids of the live definitions: %w", err)
		}
		if opts.Debug != nil {
			fmt.Fprintf(opts.Debug, "plan: showing the live definitions' ids without names: %v\n", err)
		}
		labels = nil
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	return diff.Compute(desired, live.defs, diff.Options{
		Labels:           labels,
		Now:              now().UTC(),
		TenantID:         opts.TenantID,
		GraphEndpoint:    opts.GraphEndpoint,
		DeleteDuplicates: opts.DeleteDuplicates,
		Targets:          opts.Targets,
	})
}

// List reads every access review definition in the tenant.
func List(ctx context.Context, c Lister) ([]graph.Definition, error) {
	var live []graph.Definition
	for d, err := range c.ListDefinitions(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("listing the tenant's access review definitions: %w", err)
		}
		if d != nil {
			live = append(live, *d)
		}
	}
	return live, nil
}

// desiredOf turns loaded specs into the desired Graph bodies, resolving the
// names they use in the directory (in batches). A name that matches no
// object, or several, is returned as spec.Diagnostics.
func desiredOf(ctx context.Context, dir spec.Directory, specs *spec.Result) ([]diff.Desired, error) {
	resolved, err := spec.Resolve(ctx, specs.Definitions, dir)
	if err != nil {
		return nil, err // Diagnostics, or already "resolving names in the directory: ..."
	}
	desired := make([]diff.Desired, 0, len(resolved))
	for _, r := range resolved {
		desired = append(desired, diff.Desired{
			Name:          r.Def.Name,
			Source:        fmt.Sprintf("%s:%d", r.Def.Source.File, r.Def.Source.Line),
			Definition:    r.Body,
			Display:       r.Labels,
			PreviousNames: r.Def.PreviousNames,
		})
	}
	return desired, nil
}
