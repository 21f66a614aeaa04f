package emulator

import (
	"fmt"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

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
				cpu0 := cpuTime()
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
				// CPU time (server and client together) per GET: wall-clock
				// figures swing with other load on a shared machine, this
				// does not. 2 cores give 2e6/cpu-µs GETs/s.
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/GET")
			})
		}
	}
}

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkListDefinitionsHandler is the emulator's own share of a list
// GET: ServeHTTP without a network or a client.
func BenchmarkListDefinitionsHandler(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprintf("defs=%d", n), func(b *testing.B) {
			h := newHarness(b, Options{})
			for range n {
				h.create(validDefinition())
			}
			req, _ := http.NewRequest(http.MethodGet, "http://graph.test/v1.0/"+definitionsPath, nil)
			req.Header.Set("Authorization", "Bearer "+h.token)
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				h.srv.ServeHTTP(&discardWriter{h: http.Header{}}, req)
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/GET")
		})
	}
}
