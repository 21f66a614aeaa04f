package emulator

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// scheduleOf builds a stored definition's settings from parts.
func scheduleOf(pattern *object, rng *object, days int, stages ...int) *schedule {
	rec := newObject().set("pattern", pattern).set("range", rng)
	o := newObject().set("settings", newObject().set("instanceDurationInDays", days).set("recurrence", rec))
	if len(stages) > 0 {
		var a []any
		for _, d := range stages {
			a = append(a, newObject().set("durationInDays", d))
		}
		o.set("stageSettings", a)
	}
	return readSchedule(o)
}

func pat(typ string, interval, dayOfMonth int) *object {
	return newObject().set("type", typ).set("interval", interval).set("dayOfMonth", dayOfMonth)
}

func rng(typ, start, end string, count int) *object {
	o := newObject().set("type", typ).set("startDate", start).set("numberOfOccurrences", count)
	if end == "" {
		o.set("endDate", nil)
	} else {
		o.set("endDate", end)
	}
	return o
}

func TestSchedulePeriods(t *testing.T) {
	t.Parallel()
	type window struct{ Scheduled, Start, End string }
	cases := []struct {
		name    string
		sched   *schedule
		created string
		want    []window // the first periods
		ends    bool     // there are no more
	}{
		{
			name:    "quarterly, 14 days, created before the start",
			sched:   scheduleOf(pat("absoluteMonthly", 3, 0), rng("noEnd", "2026-01-05", "", 0), 14),
			created: "2025-12-01T09:00:00Z",
			want: []window{
				{"2026-01-05", "2026-01-05T00:00:00Z", "2026-01-19T00:00:00Z"},
				{"2026-04-05", "2026-04-05T00:00:00Z", "2026-04-19T00:00:00Z"},
				{"2026-07-05", "2026-07-05T00:00:00Z", "2026-07-19T00:00:00Z"},
				{"2026-10-05", "2026-10-05T00:00:00Z", "2026-10-19T00:00:00Z"},
			},
		},
		{
			name:    "created mid-period: that period starts at creation, earlier ones are skipped",
			sched:   scheduleOf(pat("weekly", 1, 0), rng("noEnd", "2026-01-05", "", 0), 3),
			created: "2026-03-03T10:00:00Z", // a Tuesday; the period began Monday 2 March
			want: []window{
				{"2026-03-02", "2026-03-03T10:00:00Z", "2026-03-05T00:00:00Z"},
				{"2026-03-09", "2026-03-09T00:00:00Z", "2026-03-12T00:00:00Z"},
			},
		},
		{
			name:    "created after the period's instance ended: the next period",
			sched:   scheduleOf(pat("weekly", 2, 0), rng("noEnd", "2026-01-05", "", 0), 3),
			created: "2026-01-09T00:00:00Z",
			want:    []window{{"2026-01-19", "2026-01-19T00:00:00Z", "2026-01-22T00:00:00Z"}},
		},
		{
			name:    "monthly on the 31st is clamped to shorter months",
			sched:   scheduleOf(pat("absoluteMonthly", 1, 0), rng("noEnd", "2026-01-31", "", 0), 0),
			created: "2026-01-01T00:00:00Z",
			want: []window{
				{"2026-01-31", "2026-01-31T00:00:00Z", "2026-02-28T00:00:00Z"}, // duration 0: until the next period
				{"2026-02-28", "2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z"},
				{"2026-03-31", "2026-03-31T00:00:00Z", "2026-04-30T00:00:00Z"},
				{"2026-04-30", "2026-04-30T00:00:00Z", "2026-05-31T00:00:00Z"},
			},
		},
		{
			name:    "dayOfMonth moves later periods",
			sched:   scheduleOf(pat("absoluteMonthly", 6, 15), rng("noEnd", "2026-01-05", "", 0), 7),
			created: "2026-01-01T00:00:00Z",
			want: []window{
				{"2026-01-05", "2026-01-05T00:00:00Z", "2026-01-12T00:00:00Z"},
				{"2026-07-15", "2026-07-15T00:00:00Z", "2026-07-22T00:00:00Z"},
			},
		},
		{
			name:    "endDate: no period starts after it",
			sched:   scheduleOf(pat("weekly", 1, 0), rng("endDate", "2026-01-05", "2026-01-19", 0), 2),
			created: "2026-01-01T00:00:00Z",
			want: []window{
				{"2026-01-05", "2026-01-05T00:00:00Z", "2026-01-07T00:00:00Z"},
				{"2026-01-12", "2026-01-12T00:00:00Z", "2026-01-14T00:00:00Z"},
				{"2026-01-19", "2026-01-19T00:00:00Z", "2026-01-21T00:00:00Z"},
			},
			ends: true,
		},
		{
			name:    "numbered: that many periods; 9999-12-31 is no end",
			sched:   scheduleOf(pat("weekly", 1, 0), rng("numbered", "2026-01-05", "9999-12-31", 2), 1),
			created: "2026-01-01T00:00:00Z",
			want: []window{
				{"2026-01-05", "2026-01-05T00:00:00Z", "2026-01-06T00:00:00Z"},
				{"2026-01-12", "2026-01-12T00:00:00Z", "2026-01-13T00:00:00Z"},
			},
			ends: true,
		},
		{
			name:    "one-time review lasts until the day after endDate",
			sched:   scheduleOf(nil, rng("numbered", "2021-04-28", "2021-05-08", 0), 0),
			created: "2021-04-01T00:00:00Z",
			want:    []window{{"2021-04-28", "2021-04-28T00:00:00Z", "2021-05-09T00:00:00Z"}},
			ends:    true,
		},
		{
			name:    "stages: the durations add up",
			sched:   scheduleOf(pat("absoluteMonthly", 1, 0), rng("noEnd", "2026-02-01", "", 0), 3, 5, 7),
			created: "2026-01-01T00:00:00Z",
			want:    []window{{"2026-02-01", "2026-02-01T00:00:00Z", "2026-02-13T00:00:00Z"}},
		},
		{
			name:    "one-time review created after it ended: nothing",
			sched:   scheduleOf(nil, rng("noEnd", "2021-04-28", "", 0), 3),
			created: "2022-01-01T00:00:00Z",
			ends:    true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.NotNil(t, tc.sched)
			var got []window
			var last time.Time
			for range len(tc.want) + 1 {
				p, ok := tc.sched.next(last, at(tc.created))
				if !ok {
					break
				}
				got = append(got, window{p.scheduled.Format(dateLayout), p.start.Format(time.RFC3339), p.end.Format(time.RFC3339)})
				last = p.scheduled
			}
			if !tc.ends {
				require.Len(t, got, len(tc.want)+1, "the series goes on")
				got = got[:len(tc.want)]
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("periods (-want +got):\n%s", d)
			}
		})
	}
}

func TestReadScheduleRejectsWhatItCannotFollow(t *testing.T) {
	t.Parallel()
	require.Nil(t, readSchedule(newObject()))
	require.Nil(t, scheduleOf(pat("weekly", 1, 0), rng("noEnd", "not a date", "", 0), 1))
	require.Nil(t, scheduleOf(pat("relativeMonthly", 1, 0), rng("noEnd", "2026-01-01", "", 0), 1))
	// A far past start is reached by arithmetic, not by walking every period.
	sc := scheduleOf(pat("weekly", 1, 0), rng("noEnd", "0001-01-01", "", 0), 1)
	p, ok := sc.next(time.Time{}, at("2026-01-07T12:00:00Z"))
	require.True(t, ok)
	require.True(t, p.end.After(at("2026-01-07T12:00:00Z")))
}

func TestDurationOf(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{
		"P30D": 30 * 24 * time.Hour, "PT12H": 12 * time.Hour, "P1DT2H30M": 26*time.Hour + 30*time.Minute,
		"PT0.5S": 500 * time.Millisecond, "PT0S": 0, "P10675199D": math.MaxInt64,
	} {
		got, ok := durationOf(in)
		require.True(t, ok, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "P", "30D", "P1Y", "PT", "P1H", "PTxS", "P1e9D", "P2W", "P1.5D", "P1D1D", "P10675200D"} {
		_, ok := durationOf(bad)
		require.False(t, ok, bad)
	}
}

// TestDurationParsersAgree: what a request may send (normDuration) is
// what a stored value is read as (durationOf), weeks included: Edm.Duration
// has none, so both refuse P2W.
func TestDurationParsersAgree(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"P2W", "P1W2D", "P14D", "PT336H", "P1DT24H", "PT90M", "PT1.5S", "PT0.0000001S", "PT.5S", "PT1M1H",
		"P1M", "P1Y", "P1.5D", "PT1H1H", "P", "PT", "P1DT", "p1d", "P99999999D", "P200000D",
	} {
		got, ok := durationOf(s)
		norm, gerr := normDuration(s, "x")
		require.Equal(t, gerr == nil, ok, "%q: durationOf %v, normDuration %v", s, ok, gerr)
		if ok {
			stored, ok := durationOf(norm)
			require.True(t, ok, norm)
			require.Equal(t, got, stored, "%q and its stored form %q", s, norm)
		}
	}
}
