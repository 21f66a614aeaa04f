// Package benchutil holds helpers shared by the benchmarks behind the issues'
// memory targets.
package benchutil

import (
	"runtime"
	"sync"
	"time"
)

// PeakHeap samples the heap in use every few milliseconds until the returned
// stop function is called, which reports the largest value seen in MB. It
// measures what is held at once, unlike -benchmem's B/op (all allocation).
func PeakHeap() (stop func() float64) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var peak uint64
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() float64 {
		close(done)
		wg.Wait()
		return float64(peak) / (1 << 20)
	}
}
