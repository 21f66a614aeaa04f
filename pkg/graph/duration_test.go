package graph

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseISODuration(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		in      string
		lenient bool
		want    isoDuration
		wantErr string
	}{
		{in: "P1DT2H3M4.5S", want: isoDuration{total: day + 2*time.Hour + 3*time.Minute + 4500*time.Millisecond}},
		{in: "PT0.123456789999S", want: isoDuration{total: 123456789}}, // nanoseconds; the rest dropped
		{in: "P100000D", want: isoDuration{total: maxDuration}},
		{in: "P100001D", wantErr: "is too long; the longest is P100000D"},
		{in: "P99999DT86399.999999999S", want: isoDuration{total: maxDuration - 1}},
		{in: "P99999DT86400.000000001S", wantErr: "is too long; the longest is P100000D"},
		{in: "P99999DT24H1S", wantErr: "is too long; the longest is P100000D"},
		{in: "P99999999999999999999D", wantErr: "is too long; the longest is P100000D"},
		{in: "P1Y2M3W4DT5H6M7S", wantErr: "may use only days, hours, minutes and seconds (Graph durations have no years, months or weeks), like P30D"},
		{in: "P1Y2M3W4DT5H6M7S", lenient: true, want: isoDuration{years: 1, months: 2, total: 25*day + 5*time.Hour + 6*time.Minute + 7*time.Second}},
		{in: "PT6M5H", wantErr: `has unit "H" out of place; the order is P[nD][T[nH][nM][nS]]`},
		{in: "PT6M5H", lenient: true, want: isoDuration{total: 5*time.Hour + 6*time.Minute}},
		{in: "PT6M5H6M", lenient: true, wantErr: `has unit "M" out of place; the order is P[nD][T[nH][nM][nS]]`},
		{in: "P1MT1M", lenient: true, want: isoDuration{months: 1, total: time.Minute}},
		{in: "PT0,5S", wantErr: `has unit "," out of place; the order is P[nD][T[nH][nM][nS]]`},
		{in: "PT0,5S", lenient: true, want: isoDuration{total: 500 * time.Millisecond}},
		{in: "PT.5S", wantErr: `has a bad number ".5"`},
		{in: "PT.5S", lenient: true, want: isoDuration{total: 500 * time.Millisecond}},
		{in: "PT5.S", wantErr: `has a bad number "5."`},
		{in: "PT5.S", lenient: true, want: isoDuration{total: 5 * time.Second}},
		{in: "PT1.5.5S", lenient: true, wantErr: `has a bad number "1.5.5"`},
		{in: "P1.5W", lenient: true, wantErr: "may have a fraction only in seconds"},
		{in: "P0000000000001D", lenient: true, wantErr: "is not an ISO-8601 duration like P30D or PT12H"},
		{in: "p1d", lenient: true, wantErr: `must start with "P", like P30D`}, // NormalizeDuration upper-cases first
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseISODuration(tt.in, tt.lenient)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// TestDurationParsersAgree: what Graph accepts, the canonical form reads
// as the same length, and its canonical form is again an Edm.Duration of
// that length.
func TestDurationParsersAgree(t *testing.T) {
	for _, s := range []string{"P30D", "PT720H", "P1DT36H", "PT90M", "PT0S", "P0D", "PT1.5S", "PT0.000000001S", "P1DT2H3M4.25S", "P100000D"} {
		t.Run(s, func(t *testing.T) {
			secs, err := ParseDuration(s)
			require.NoError(t, err)
			lenient, err := parseISODuration(s, true)
			require.NoError(t, err)
			require.Equal(t, secs, lenient.total.Seconds())
			again, err := ParseDuration(NormalizeDuration(s))
			require.NoError(t, err)
			require.Equal(t, secs, again)
		})
	}
}
