package graph

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ParseDuration parses an OData Edm.Duration as Graph accepts it
// (P[nD][T[nH][nM][n[.n]S]], e.g. P30D, PT12H, P1DT6H) and returns its length
// in seconds. Years, months and weeks are not part of Edm.Duration.
func ParseDuration(s string) (float64, error) {
	rest, ok := strings.CutPrefix(s, "P")
	if !ok {
		if strings.HasPrefix(s, "-") {
			return 0, errors.New("must not be negative")
		}
		return 0, errors.New(`must start with "P", like P30D`)
	}
	if rest == "" {
		return 0, errors.New("has no amount, like P30D")
	}
	var total float64
	inTime, seen := false, false
	order := "D" // units allowed next, in order
	for rest != "" {
		if rest[0] == 'T' {
			if inTime {
				return 0, errors.New(`has "T" twice`)
			}
			inTime, order, rest = true, "HMS", rest[1:]
			if rest == "" {
				return 0, errors.New(`has nothing after "T"`)
			}
			continue
		}
		n := 0
		for n < len(rest) && (rest[n] >= '0' && rest[n] <= '9' || rest[n] == '.') {
			n++
		}
		if n == 0 || n == len(rest) {
			return 0, errors.New("is not an ISO-8601 duration like P30D or PT12H")
		}
		num, unit := rest[:n], rest[n]
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || strings.HasPrefix(num, ".") || strings.HasSuffix(num, ".") {
			return 0, fmt.Errorf("has a bad number %q", num)
		}
		if strings.Contains(num, ".") && !(inTime && unit == 'S') {
			return 0, errors.New("may have a fraction only in seconds")
		}
		switch {
		case !inTime && (unit == 'Y' || unit == 'M' || unit == 'W'):
			return 0, errors.New("may use only days, hours, minutes and seconds (Graph durations have no years, months or weeks), like P30D")
		case inTime && unit == 'D':
			return 0, errors.New(`has days after "T"; write P1DT12H`)
		}
		i := strings.IndexByte(order, unit)
		if i < 0 {
			return 0, fmt.Errorf("has unit %q out of place; the order is P[nD][T[nH][nM][nS]]", string(unit))
		}
		order = order[i+1:]
		switch unit {
		case 'D':
			total += v * 86400
		case 'H':
			total += v * 3600
		case 'M':
			total += v * 60
		case 'S':
			total += v
		}
		seen = true
		rest = rest[n+1:]
	}
	if !seen {
		return 0, errors.New("has no amount, like P30D")
	}
	return total, nil
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
	if !strings.HasPrefix(t, "P") || len(t) < 3 {
		return s
	}
	var years, months int64
	var nanos int64 // days, hours, minutes, seconds and weeks, in nanoseconds
	const (
		second = int64(1e9)
		minute = 60 * second
		hour   = 60 * minute
		day    = 24 * hour
	)
	inTime := false
	seen := ""
	rest := t[1:]
	for rest != "" {
		if rest[0] == 'T' {
			if inTime || len(rest) == 1 {
				return s
			}
			inTime = true
			rest = rest[1:]
			continue
		}
		j := 0
		for j < len(rest) && (rest[j] >= '0' && rest[j] <= '9' || rest[j] == '.' || rest[j] == ',') {
			j++
		}
		if j == 0 || j == len(rest) || j > 12 {
			return s
		}
		num := strings.ReplaceAll(rest[:j], ",", ".")
		unit := rest[j]
		rest = rest[j+1:]
		key := string(unit)
		if inTime {
			key = "T" + key
		}
		if strings.Contains(seen, "|"+key+"|") {
			return s
		}
		seen += "|" + key + "|"
		whole, frac, hasFrac := strings.Cut(num, ".")
		if whole == "" && !hasFrac || strings.Contains(frac, ".") {
			return s
		}
		w := int64(0)
		if whole != "" {
			v, err := strconv.ParseInt(whole, 10, 64)
			if err != nil {
				return s
			}
			w = v
		}
		if hasFrac && !(inTime && unit == 'S') {
			return s // only seconds may carry a fraction here
		}
		var per int64
		switch {
		case !inTime && unit == 'Y':
			years = w
		case !inTime && unit == 'M':
			months = w
		case !inTime && unit == 'W':
			per = 7 * day
		case !inTime && unit == 'D':
			per = day
		case inTime && unit == 'H':
			per = hour
		case inTime && unit == 'M':
			per = minute
		case inTime && unit == 'S':
			per = second
		default:
			return s
		}
		if per != 0 {
			// Keep the sum far from overflowing: 100 years of seconds is plenty.
			const limit = 36600 * day
			if w > limit/per || nanos+w*per > limit {
				return s
			}
			nanos += w * per
			if hasFrac {
				if len(frac) > 9 {
					frac = frac[:9]
				}
				f, err := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
				if err != nil {
					return s
				}
				nanos += f
			}
		}
	}
	var b strings.Builder
	b.WriteByte('P')
	if years != 0 {
		b.WriteString(strconv.FormatInt(years, 10) + "Y")
	}
	if months != 0 {
		b.WriteString(strconv.FormatInt(months, 10) + "M")
	}
	if d := nanos / day; d != 0 {
		b.WriteString(strconv.FormatInt(d, 10) + "D")
	}
	if r := nanos % day; r != 0 {
		b.WriteByte('T')
		if h := r / hour; h != 0 {
			b.WriteString(strconv.FormatInt(h, 10) + "H")
		}
		if m := r % hour / minute; m != 0 {
			b.WriteString(strconv.FormatInt(m, 10) + "M")
		}
		if sec := r % minute; sec != 0 {
			str := strconv.FormatInt(sec/second, 10)
			if ns := sec % second; ns != 0 {
				str += "." + strings.TrimRight(strconv.FormatInt(ns+second, 10)[1:], "0")
			}
			b.WriteString(str + "S")
		}
	}
	if b.Len() == 1 {
		return "PT0S"
	}
	return b.String()
}
