package graph

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// isoDuration is an ISO-8601 duration taken apart: years and months, whose
// length varies, and everything else (weeks, days, hours, minutes,
// seconds) added up into one exact length.
type isoDuration struct {
	years, months int64
	total         time.Duration
}

// maxDuration is the longest duration parseISODuration accepts: far beyond
// any review's (docs/graph-behaviour.md#durations), and far from
// overflowing a time.Duration.
const maxDuration = 100000 * 24 * time.Hour

// Units in the order ISO 8601 writes them: the date part's, then the time
// part's (after "T").
const (
	dateUnits = "YMWD"
	timeUnits = "HMS"
)

// parseISODuration is the client's one parser of ISO-8601 durations.
// Strictly (lenient false) it accepts Edm.Duration as Graph does:
// P[nD][T[nH][nM][n[.n]S]], upper case, units in that order, each once,
// and says precisely what is wrong with anything else. lenient also
// accepts what a comparison may meet but Graph never writes: years,
// months and weeks, ',' as the decimal mark, ".5" and "5.", and units in
// any order (each still once); its numbers are at most 12 characters.
// Either way only seconds may have a fraction, and the length (years and
// months apart) is at most maxDuration.
func parseISODuration(s string, lenient bool) (isoDuration, error) {
	var d isoDuration
	rest, ok := strings.CutPrefix(s, "P")
	if !ok {
		if strings.HasPrefix(s, "-") {
			return d, errors.New("must not be negative")
		}
		return d, errors.New(`must start with "P", like P30D`)
	}
	if rest == "" {
		return d, errors.New("has no amount, like P30D")
	}
	inTime := false
	next := 0 // strictly, the first position in dateUnits+timeUnits allowed next
	used := 0 // leniently, the positions seen, as bits
	for rest != "" {
		if rest[0] == 'T' {
			if inTime {
				return d, errors.New(`has "T" twice`)
			}
			inTime, next, rest = true, len(dateUnits), rest[1:]
			if rest == "" {
				return d, errors.New(`has nothing after "T"`)
			}
			continue
		}
		n := 0
		for n < len(rest) && isDurationDigit(rest[n], lenient) {
			n++
		}
		if n == 0 || n == len(rest) || lenient && n > 12 {
			return d, errors.New("is not an ISO-8601 duration like P30D or PT12H")
		}
		num, unit := rest[:n], rest[n]
		rest = rest[n+1:]
		whole, frac, hasFrac := strings.Cut(strings.ReplaceAll(num, ",", "."), ".")
		if strings.Contains(frac, ".") || !lenient && (whole == "" || hasFrac && frac == "") {
			return d, fmt.Errorf("has a bad number %q", num)
		}
		if hasFrac && !(inTime && unit == 'S') {
			return d, errors.New("may have a fraction only in seconds")
		}
		switch {
		case !lenient && !inTime && (unit == 'Y' || unit == 'M' || unit == 'W'):
			return d, errors.New("may use only days, hours, minutes and seconds (Graph durations have no years, months or weeks), like P30D")
		case inTime && unit == 'D':
			return d, errors.New(`has days after "T"; write P1DT12H`)
		}
		pos := strings.IndexByte(dateUnits, unit)
		if inTime {
			if pos = strings.IndexByte(timeUnits, unit); pos >= 0 {
				pos += len(dateUnits)
			}
		}
		if pos < 0 || !lenient && pos < next || lenient && used&(1<<pos) != 0 {
			return d, fmt.Errorf("has unit %q out of place; the order is P[nD][T[nH][nM][nS]]", string(unit))
		}
		next, used = pos+1, used|1<<pos

		w := int64(0)
		if whole != "" {
			v, err := strconv.ParseUint(whole, 10, 63)
			if err != nil {
				return d, tooLong()
			}
			w = int64(v)
		}
		var per time.Duration
		switch unit {
		case 'Y':
			d.years = w
		case 'M':
			if !inTime {
				d.months = w
			} else {
				per = time.Minute
			}
		case 'W':
			per = 7 * 24 * time.Hour
		case 'D':
			per = 24 * time.Hour
		case 'H':
			per = time.Hour
		case 'S':
			per = time.Second
		}
		if per == 0 {
			continue
		}
		if w > int64(maxDuration/per) || d.total > maxDuration-time.Duration(w)*per {
			return d, tooLong()
		}
		d.total += time.Duration(w) * per
		if frac != "" {
			// Nanoseconds: the first nine digits, the rest dropped.
			ns, _ := strconv.Atoi((frac + "000000000")[:9]) // digits only: cannot fail
			if d.total += time.Duration(ns); d.total > maxDuration {
				return d, tooLong()
			}
		}
	}
	return d, nil
}

func isDurationDigit(c byte, lenient bool) bool {
	return c >= '0' && c <= '9' || c == '.' || lenient && c == ','
}

func tooLong() error {
	return fmt.Errorf("is too long; the longest is P%dD", maxDuration/(24*time.Hour))
}

// ParseDuration parses an OData Edm.Duration as Graph accepts it
// (P[nD][T[nH][nM][n[.n]S]], e.g. P30D, PT12H, P1DT6H) and returns its length
// in seconds. Years, months and weeks are not part of Edm.Duration
// (docs/graph-behaviour.md#durations).
func ParseDuration(s string) (float64, error) {
	d, err := parseISODuration(s, false)
	if err != nil {
		return 0, err
	}
	return d.total.Seconds(), nil
}

// NormalizeDuration returns an ISO-8601 duration in canonical form: days,
// hours, minutes and seconds (and weeks) are added up and written as days
// plus the remainder ("PT720H" and "P30D" are both "P30D"; "P0D" is "PT0S").
// Years and months, whose length varies, are kept apart. A string that is not
// a duration is returned unchanged, so that it still compares as itself.
func NormalizeDuration(s string) string {
	t := strings.ToUpper(strings.TrimSpace(s))
	if t == "" {
		return ""
	}
	d, err := parseISODuration(t, true)
	if err != nil {
		return s
	}
	const day = 24 * time.Hour
	var b strings.Builder
	b.WriteByte('P')
	if d.years != 0 {
		b.WriteString(strconv.FormatInt(d.years, 10) + "Y")
	}
	if d.months != 0 {
		b.WriteString(strconv.FormatInt(d.months, 10) + "M")
	}
	if days := d.total / day; days != 0 {
		b.WriteString(strconv.FormatInt(int64(days), 10) + "D")
	}
	if r := d.total % day; r != 0 {
		b.WriteByte('T')
		if h := r / time.Hour; h != 0 {
			b.WriteString(strconv.FormatInt(int64(h), 10) + "H")
		}
		if m := r % time.Hour / time.Minute; m != 0 {
			b.WriteString(strconv.FormatInt(int64(m), 10) + "M")
		}
		if sec := r % time.Minute; sec != 0 {
			str := strconv.FormatInt(int64(sec/time.Second), 10)
			if ns := sec % time.Second; ns != 0 {
				str += "." + strings.TrimRight(strconv.FormatInt(int64(ns+time.Second), 10)[1:], "0")
			}
			b.WriteString(str + "S")
		}
	}
	if b.Len() == 1 {
		return "PT0S"
	}
	return b.String()
}
