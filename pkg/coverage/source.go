package coverage

import (
	"context"
	"fmt"
	"iter"

	"github.com/arsync/arsync/pkg/graph"
)

// Source is what coverage reads from a tenant: every access review
// definition, managed or not, and the directory.
type Source interface {
	Directory
	ListDefinitions(ctx context.Context, opts *graph.ListOptions) iter.Seq2[*graph.Definition, error]
}

// Load reads every definition and the directory's targets from src.
func Load(ctx context.Context, src Source) ([]graph.Definition, Inputs, error) {
	var defs []graph.Definition
	for d, err := range src.ListDefinitions(ctx, nil) {
		if err != nil {
			return nil, Inputs{}, fmt.Errorf("listing access review definitions: %w", err)
		}
		defs = append(defs, *d)
	}
	in, err := Read(ctx, src)
	if err != nil {
		return nil, Inputs{}, err
	}
	return defs, in, nil
}
