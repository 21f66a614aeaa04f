package diff

import (
	"fmt"
	"io"
	"math/rand"
	"testing"

	"github.com/arsync/arsync/pkg/graph"
)

// benchInputs is a tenant of n managed definitions as Graph returns them, a
// tenth of them changed in the configuration.
func benchInputs(b *testing.B, n int) ([]Desired, []graph.Definition) {
	return benchTenant(b, n, 10)
}

// benchTenant is n managed definitions, every changeEvery-th one changed in
// the configuration (0: none).
func benchTenant(b *testing.B, n, changeEvery int) ([]Desired, []graph.Definition) {
	r := rand.New(rand.NewSource(1))
	desired := make([]Desired, n)
	live := make([]graph.Definition, n)
	for i := range desired {
		d := genDefinition(r, i)
		desired[i] = Desired{Name: fmt.Sprintf("review-%04d", i), Source: fmt.Sprintf("reviews/r%04d.yaml:1", i), Definition: d}
		body := postBody(&desired[i])
		live[i] = echo(b, r, body, fmt.Sprintf("00000000-0000-0000-0000-%012d", i))
		if changeEvery > 0 && i%changeEvery == 0 {
			mutate(r, &desired[i].Definition)
		}
	}
	return desired, live
}

// BenchmarkCompute1000: go test ./pkg/diff -run '^$' -bench Compute -benchmem
func BenchmarkCompute1000(b *testing.B) {
	desired, live := benchInputs(b, 1000)
	opts := Options{TenantID: "t", GraphEndpoint: "https://graph.microsoft.com/v1.0"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Compute(desired, live, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompute1000NoChanges is the steady state: nothing to do.
func BenchmarkCompute1000NoChanges(b *testing.B) {
	desired, live := benchTenant(b, 1000, 0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := Compute(desired, live, Options{})
		if err != nil || p.HasChanges() {
			b.Fatal("unexpected changes", err)
		}
	}
}

// BenchmarkRender1000 renders the plan of BenchmarkCompute1000 in all three formats.
func BenchmarkRender1000(b *testing.B) {
	desired, live := benchInputs(b, 1000)
	p, err := Compute(desired, live, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := RenderText(io.Discard, p, TextOptions{}); err != nil {
			b.Fatal(err)
		}
		if err := RenderMarkdown(io.Discard, p); err != nil {
			b.Fatal(err)
		}
		if err := RenderJSON(io.Discard, p); err != nil {
			b.Fatal(err)
		}
	}
}
