package emulator

import (
	"fmt"
	"io"
	"net/http"
	"testing"
)

// BenchmarkListDefinitions measures GETs of the definitions list over real
// HTTP (loopback), a full page per request. Issue 3 asks for 2,000 GETs/s
// on a 2-core machine; see bench/emulator.md.
//
//	go test ./pkg/emulator -run '^$' -bench ListDefinitions -benchmem
func BenchmarkListDefinitions(b *testing.B) {
	for _, n := range []int{10, 100} {
		for _, parallel := range []bool{false, true} {
			name := fmt.Sprintf("defs=%d/serial", n)
			if parallel {
				name = fmt.Sprintf("defs=%d/parallel", n)
			}
			b.Run(name, func(b *testing.B) {
				h := newHarness(b, Options{})
				for i := range n {
					body := validDefinition()
					body["displayName"] = fmt.Sprintf("Review %d", i)
					h.create(body)
				}
				url := h.ts.URL + "/v1.0/" + definitionsPath
				client := h.ts.Client()
				get := func() {
					req, _ := http.NewRequest(http.MethodGet, url, nil)
					req.Header.Set("Authorization", "Bearer "+h.token)
					resp, err := client.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Fatalf("status %d", resp.StatusCode)
					}
				}
				get()
				b.ReportAllocs()
				b.ResetTimer()
				if parallel {
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							get()
						}
					})
				} else {
					for b.Loop() {
						get()
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "GETs/s")
			})
		}
	}
}
