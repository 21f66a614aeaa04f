package emulator

import (
	"time"
)

// schedule is a definition's recurrence, read from its stored settings.
//
// Periods start on range.startDate (00:00 UTC) and then every interval
// weeks (weekly) or months (absoluteMonthly, on pattern.dayOfMonth when set,
// else on the start date's day, moved to the month's last day when the month
// is shorter). A one-time review (pattern null) has one period. A range of
// type endDate (or any range with a real endDate) lets no period start after
// that date; numbered with numberOfOccurrences > 0 allows that many periods.
//
// An instance lasts the sum of the stages' durationInDays when stageSettings
// is present, else instanceDurationInDays; when that is 0 it lasts until the
// next period starts, or, for a one-time review, until the day after the
// range's endDate (one day when there is none).
type schedule struct {
	start  time.Time // the first period's start
	until  time.Time // no period starts after this day; zero: no end
	count  int       // at most this many periods; 0: no limit
	weeks  int       // weekly interval; 0 when not weekly
	months int       // absoluteMonthly interval; 0 when not monthly
	day    int       // pattern.dayOfMonth (0: the start date's day)
	days   int       // instance duration in days; 0: see above
}

const dateLayout = "2006-01-02"

// readSchedule reads the schedule of a stored definition; nil when it has
// none the emulator can follow.
func readSchedule(o *object) *schedule {
	settings, _ := o.vals["settings"].(*object)
	if settings == nil {
		return nil
	}
	rec, _ := settings.vals["recurrence"].(*object)
	if rec == nil {
		return nil
	}
	rng, _ := rec.vals["range"].(*object)
	if rng == nil {
		return nil
	}
	start, err := time.Parse(dateLayout, rng.str("startDate"))
	if err != nil {
		return nil
	}
	sc := &schedule{start: start, days: intOf(settings.vals["instanceDurationInDays"])}
	if end := rng.str("endDate"); end != "" && end != noEndDate && rng.str("type") != "noEnd" {
		if t, err := time.Parse(dateLayout, end); err == nil {
			sc.until = t
		}
	}
	if rng.str("type") == "numbered" {
		sc.count = intOf(rng.vals["numberOfOccurrences"])
	}
	if pat, _ := rec.vals["pattern"].(*object); pat != nil {
		interval := max(intOf(pat.vals["interval"]), 1)
		switch pat.str("type") {
		case "weekly":
			sc.weeks = interval
		case "absoluteMonthly":
			sc.months = interval
			sc.day = intOf(pat.vals["dayOfMonth"])
		default:
			return nil
		}
	}
	if stages, _ := o.vals["stageSettings"].([]any); len(stages) > 0 {
		sum := 0
		for _, st := range stages {
			if so, ok := st.(*object); ok {
				sum += intOf(so.vals["durationInDays"])
			}
		}
		sc.days = sum
	}
	return sc
}

func (sc *schedule) once() bool { return sc.weeks == 0 && sc.months == 0 }

// periodStart is the start of period k.
func (sc *schedule) periodStart(k int) time.Time {
	switch {
	case k == 0 || sc.once():
		return sc.start
	case sc.weeks > 0:
		return sc.start.AddDate(0, 0, 7*sc.weeks*k)
	}
	y, m, d := sc.start.Date()
	if sc.day > 0 {
		d = sc.day
	}
	first := time.Date(y, m+time.Month(sc.months*k), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(d, last), 0, 0, 0, 0, time.UTC)
}

// periodEnd is when period k's instance ends.
func (sc *schedule) periodEnd(k int) time.Time {
	ps := sc.periodStart(k)
	switch {
	case sc.days > 0:
		return ps.AddDate(0, 0, sc.days)
	case !sc.once():
		return sc.periodStart(k + 1)
	case !sc.until.IsZero() && sc.until.After(ps):
		return sc.until.AddDate(0, 0, 1)
	}
	return ps.AddDate(0, 0, 1)
}

// allowed reports whether period k exists.
func (sc *schedule) allowed(k int) bool {
	switch {
	case sc.once() && k > 0:
		return false
	case sc.count > 0 && k >= sc.count:
		return false
	case !sc.until.IsZero() && sc.periodStart(k).After(sc.until):
		return false
	}
	return true
}

// next returns the first period that starts after the one started last
// (zero: none yet) and whose instance would still be running when the
// definition was created: a definition created mid-period starts that
// period's instance at once, and periods over before it existed are
// skipped.
func (sc *schedule) next(lastStart, created time.Time) (period, bool) {
	created = created.UTC()
	k := 0
	// Jump close to the answer instead of walking from the first period.
	from := created
	if lastStart.After(from) {
		from = lastStart
	}
	if from.After(sc.start) && !sc.once() {
		days := int(from.Sub(sc.start).Hours() / 24)
		switch {
		case sc.weeks > 0:
			k = days/(7*sc.weeks) - 1
		default:
			k = days/(31*sc.months) - 1
		}
		k = max(k, 0)
	}
	for steps := 0; steps < 100000; steps, k = steps+1, k+1 {
		if !sc.allowed(k) {
			return period{}, false
		}
		ps := sc.periodStart(k)
		if !lastStart.IsZero() && !ps.After(lastStart) {
			continue
		}
		pe := sc.periodEnd(k)
		if !pe.After(created) {
			continue
		}
		start := ps
		if created.After(start) {
			start = created
		}
		return period{index: k, scheduled: ps, start: start, end: pe}, true
	}
	return period{}, false
}
