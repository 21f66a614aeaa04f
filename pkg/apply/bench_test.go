package apply

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/emulator"
)

// BenchmarkApplyCreatesThrottled applies 1,000 creates against the
// emulator's access-review throttle (a token bucket of N requests per 10 s
// window, answered with 429 and Retry-After). Time is virtual (the fake
// clock the emulator, the client and apply share), so the figure that
// matters is x-min: the virtual time the run took divided by the least the
// throttle allows, (ceil(1000/N) - 1) windows of 10 s. The issue asks for
// at most 1.2. With latency (virtual too), the requests of each window
// take time of their own. ns/op is the real cost of the run on this
// machine.
//
//	go test ./pkg/apply -run '^$' -bench ApplyCreatesThrottled -benchmem
func BenchmarkApplyCreatesThrottled(b *testing.B) {
	const creates = 1000
	const window = 10 * time.Second
	desired := defs(creates)
	plan, err := diff.Compute(desired, nil, diff.Options{})
	require.NoError(b, err)
	for _, v := range []struct {
		bucket  int
		latency time.Duration // per request, uniform in [latency, 3*latency]
	}{{25, 0}, {100, 0}, {100, 20 * time.Millisecond}} {
		name := fmt.Sprintf("bucket-%d-per-10s", v.bucket)
		if v.latency > 0 {
			name += fmt.Sprintf("-latency-%s-%s", v.latency, 3*v.latency)
		}
		b.Run(name, func(b *testing.B) {
			bucket := v.bucket
			minimum := time.Duration((creates+bucket-1)/bucket-1) * window
			var ratio, virtual float64
			b.ReportAllocs()
			for b.Loop() {
				e := newMemEnv(b, &emulator.Faults{BucketSize: bucket, BucketWindow: window, Latency: v.latency, LatencyMax: 3 * v.latency})
				t0 := e.clock.Now()
				rep, err := Apply(context.Background(), e.client, plan, e.opts())
				require.NoError(b, err)
				require.Equal(b, creates, rep.Count(Done))
				require.Zero(b, e.srv.RetryAfterViolations())
				elapsed := e.clock.Now().Sub(t0)
				require.GreaterOrEqual(b, elapsed, minimum, "faster than the throttle allows: the bucket is not working")
				ratio = float64(elapsed) / float64(minimum)
				virtual = elapsed.Seconds()
				require.NoError(b, e.run.Close())
			}
			b.ReportMetric(ratio, "x-min")
			b.ReportMetric(virtual, "virtual-s")
			b.ReportMetric(minimum.Seconds(), "min-s")
		})
	}
}
