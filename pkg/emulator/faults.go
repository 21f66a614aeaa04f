package emulator

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultKind names an injected failure.
type FaultKind string

const (
	Fault429 FaultKind = "429" // throttled, with Retry-After in the configured form
	Fault500 FaultKind = "500"
	Fault503 FaultKind = "503" // unavailable, with Retry-After
	Fault504 FaultKind = "504"
	// FaultDrop closes the connection without an answer ("reset").
	FaultDrop FaultKind = "drop"
	// FaultCommitThenFail performs a write, then answers 504: the client
	// cannot tell whether it happened. Applies to writes only.
	FaultCommitThenFail FaultKind = "commit-then-fail"
	// FaultCommitThenDrop performs a write, then drops the connection.
	FaultCommitThenDrop FaultKind = "commit-then-drop"
)

var faultKinds = []FaultKind{Fault429, Fault500, Fault503, Fault504, FaultDrop, FaultCommitThenFail, FaultCommitThenDrop}

func (k FaultKind) commits() bool { return k == FaultCommitThenFail || k == FaultCommitThenDrop }

// RetryAfterForm is how a 429 or 503 states its Retry-After.
type RetryAfterForm int

const (
	RetryAfterSeconds  RetryAfterForm = iota // "2" (rounded up)
	RetryAfterFraction                       // "2.128"
	RetryAfterDate                           // an HTTP date
	RetryAfterNone                           // no header
	RetryAfterMixed                          // one of the above, chosen by the seeded generator
)

// FaultRule injects one kind of fault into the requests it matches.
type FaultRule struct {
	Kind   FaultKind
	Method string // "" matches every method
	// Path matches requests whose path starts with it, with or without
	// the version ("/identityGovernance", "/v1.0/users"); "" matches all.
	Path string
	// Nth, when positive, faults only the Nth matching request (1-based);
	// otherwise each matching request is faulted with Probability.
	Nth int
	// Probability is the chance per matching request; 0 means always.
	Probability float64
}

// Faults configures fault injection. All choices come from a generator
// seeded with Seed (or Options.Seed), so a given sequence of requests meets
// the same faults every run.
type Faults struct {
	Seed int64
	// Rate is the chance that a request gets a random fault from Kinds
	// (default 429 and 503). Paths limits random faults to paths starting
	// with one of its entries.
	Rate  float64
	Kinds []FaultKind
	Paths []string
	// Rules are checked in order before the random faults; the first that
	// fires wins.
	Rules []FaultRule
	// RetryAfter is the wait 429 and 503 answers announce (default 1s), in
	// RetryAfterForm. A client that repeats the same request before it has
	// passed gets another 429 and is counted in RetryAfterViolations.
	RetryAfter     time.Duration
	RetryAfterForm RetryAfterForm
	// Latency delays every request (outside $batch); with LatencyMax above
	// it, the delay is uniform in [Latency, LatencyMax].
	Latency    time.Duration
	LatencyMax time.Duration
	// ReadAfterCreateLag hides a created definition from GET, list, PUT and
	// DELETE for this long after the POST (eventual consistency).
	ReadAfterCreateLag time.Duration
	// BucketSize allows that many access-review requests per BucketWindow
	// (default 10 s), like Graph's throttle.msgraph.accessreviews.app.10s;
	// the rest get 429 until the window ends. 0 is unlimited.
	BucketSize   int
	BucketWindow time.Duration
}

// ParseFaults reads the --faults mini-language: clauses separated by ';'
// or ','. Settings are key=value:
//
//	seed=N                  seed of the fault generator
//	rate=P                  chance (0..1) of a random fault per request
//	kinds=K|K|...           kinds random faults pick from (default 429|503)
//	paths=/P|/P             random faults only under these paths
//	retry-after=V           2 (seconds), 2.128 (fractional), 1500ms,
//	                        date or date:N (HTTP date), none (no header),
//	                        mixed or mixed:N (a seeded mix of the forms)
//	latency=D or D1-D2      delay per request, fixed or uniform (Go durations)
//	lag=D                   read-after-create lag
//	bucket=N or N/D         N access-review requests per window D (default 10s)
//
// Any other clause is a rule: a kind followed by ':'-separated qualifiers
// in any order: a method (GET, POST, PUT, PATCH, DELETE), a probability
// (0.1), #N for the Nth matching request only, or a path prefix (/users or
// /v1.0/users; the version segment is optional).
// Kinds are 429, 500, 503, 504, drop (alias reset), commit-then-fail and
// commit-then-drop. Examples:
//
//	seed=7,rate=0.2,kinds=429|503|reset|commit-then-fail
//	429:0.2,retry-after=2;latency=20ms;drop:POST:0.1;seed=7
//	commit-then-fail:POST:#1;bucket=5/10s
func ParseFaults(spec string) (*Faults, error) {
	f := &Faults{}
	fields := strings.FieldsFunc(spec, func(r rune) bool { return r == ';' || r == ',' })
	for _, raw := range fields {
		c := strings.TrimSpace(raw)
		if c == "" {
			continue
		}
		if err := f.parseClause(c); err != nil {
			return nil, fmt.Errorf("fault clause %q: %w", c, err)
		}
	}
	return f, nil
}

func (f *Faults) parseClause(c string) error {
	key, val, isSetting := strings.Cut(c, "=")
	if !isSetting {
		return f.parseRule(c)
	}
	key, val = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(val)
	switch key {
	case "seed":
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			return fmt.Errorf("seed must be an integer")
		}
		f.Seed = n
	case "rate":
		p, err := parseProbability(val)
		if err != nil {
			return err
		}
		f.Rate = p
	case "kinds":
		f.Kinds = nil
		for _, k := range strings.Split(val, "|") {
			kind, err := parseKind(k)
			if err != nil {
				return err
			}
			f.Kinds = append(f.Kinds, kind)
		}
	case "paths":
		f.Paths = nil
		for _, p := range strings.Split(val, "|") {
			if p = strings.TrimSpace(p); p != "" {
				f.Paths = append(f.Paths, p)
			}
		}
	case "retry-after":
		return f.parseRetryAfter(val)
	case "latency":
		lo, hi, isRange := strings.Cut(val, "-")
		d, err := parseNonNegDuration(lo)
		if err != nil {
			return err
		}
		f.Latency, f.LatencyMax = d, 0
		if isRange {
			d2, err := parseNonNegDuration(hi)
			if err != nil {
				return err
			}
			if d2 < d {
				return fmt.Errorf("latency range %s is backwards", val)
			}
			f.LatencyMax = d2
		}
	case "lag":
		d, err := parseNonNegDuration(val)
		if err != nil {
			return err
		}
		f.ReadAfterCreateLag = d
	case "bucket":
		n, win, hasWin := strings.Cut(val, "/")
		size, err := strconv.Atoi(n)
		if err != nil || size < 1 {
			return fmt.Errorf("bucket size must be a positive integer")
		}
		f.BucketSize = size
		if hasWin {
			d, err := parseNonNegDuration(win)
			if err != nil || d == 0 {
				return fmt.Errorf("bucket window must be a positive duration such as 10s")
			}
			f.BucketWindow = d
		}
	default:
		return fmt.Errorf("unknown setting %q (known: seed, rate, kinds, paths, retry-after, latency, lag, bucket)", key)
	}
	return nil
}

func (f *Faults) parseRetryAfter(val string) error {
	form, num, _ := strings.Cut(strings.ToLower(val), ":")
	switch form {
	case "none":
		f.RetryAfterForm = RetryAfterNone
		return nil
	case "date", "mixed":
		f.RetryAfterForm = RetryAfterDate
		if form == "mixed" {
			f.RetryAfterForm = RetryAfterMixed
		}
		if num == "" {
			return nil
		}
		n, err := strconv.Atoi(num)
		if err != nil || n < 0 {
			return fmt.Errorf("retry-after %s:N needs a whole number of seconds", form)
		}
		f.RetryAfter = time.Duration(n) * time.Second
		return nil
	}
	if secs, err := strconv.ParseFloat(val, 64); err == nil {
		if secs < 0 || secs > 86400 || math.IsNaN(secs) {
			return fmt.Errorf("retry-after must be between 0 and 86400 seconds")
		}
		f.RetryAfter = time.Duration(secs * float64(time.Second))
		f.RetryAfterForm = RetryAfterSeconds
		if secs != math.Trunc(secs) {
			f.RetryAfterForm = RetryAfterFraction
		}
		return nil
	}
	d, err := parseNonNegDuration(val)
	if err != nil {
		return fmt.Errorf("retry-after must be seconds (2, 2.5), a duration (1500ms), date, none or mixed")
	}
	f.RetryAfter = d
	f.RetryAfterForm = RetryAfterSeconds
	if d%time.Second != 0 {
		f.RetryAfterForm = RetryAfterFraction
	}
	return nil
}

func (f *Faults) parseRule(c string) error {
	parts := strings.Split(c, ":")
	kind, err := parseKind(parts[0])
	if err != nil {
		return err
	}
	r := FaultRule{Kind: kind}
	for _, p := range parts[1:] {
		p = strings.TrimSpace(p)
		switch {
		case p == "":
			return fmt.Errorf("empty qualifier")
		case strings.HasPrefix(p, "#"):
			n, err := strconv.Atoi(p[1:])
			if err != nil || n < 1 {
				return fmt.Errorf("#N must name a request number from 1")
			}
			r.Nth = n
		case strings.HasPrefix(p, "/"):
			r.Path = p
		case slices.Contains(batchMethods, strings.ToUpper(p)):
			r.Method = strings.ToUpper(p)
		default:
			prob, err := parseProbability(p)
			if err != nil {
				return fmt.Errorf("qualifier %q is not a method, a probability, #N or a /path", p)
			}
			r.Probability = prob
		}
	}
	if kind.commits() && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		return fmt.Errorf("%s applies to writes, not %s", kind, r.Method)
	}
	f.Rules = append(f.Rules, r)
	return nil
}

func parseKind(s string) (FaultKind, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "reset" {
		return FaultDrop, nil
	}
	for _, k := range faultKinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown fault kind %q (known: 429, 500, 503, 504, drop, reset, commit-then-fail, commit-then-drop)", s)
}

func parseProbability(s string) (float64, error) {
	p, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || p < 0 || p > 1 || math.IsNaN(p) {
		return 0, fmt.Errorf("probability %q must be a number from 0 to 1", s)
	}
	return p, nil
}

func parseNonNegDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration such as 20ms or 2s", s)
	}
	return d, nil
}

// faultState is the running fault injector.
type faultState struct {
	f *Faults // nil: no faults

	mu          sync.Mutex
	rng         *rand.Rand
	ruleCounts  []int
	throttled   map[string]time.Time // request key -> Retry-After deadline
	violations  int
	bucketStart time.Time
	bucketCount int
}

func newFaultState(f *Faults, seed int64) *faultState {
	fs := &faultState{f: f, throttled: map[string]time.Time{}}
	if f != nil {
		if f.Seed != 0 {
			seed = f.Seed
		}
		fs.rng = rand.New(rand.NewPCG(uint64(seed), 3))
		fs.ruleCounts = make([]int, len(f.Rules))
	}
	return fs
}

func (fs *faultState) violationCount() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.violations
}

func (fs *faultState) lag() time.Duration {
	if fs.f == nil {
		return 0
	}
	return fs.f.ReadAfterCreateLag
}

// decision is what the injector does to one request.
type decision struct {
	kind    FaultKind
	header  http.Header
	message string
	latency time.Duration
}

func isWriteMethod(m string) bool {
	return m == http.MethodPost || m == http.MethodPut || m == http.MethodPatch || m == http.MethodDelete
}

// hasPathPrefix matches a request path (after the version) against a rule's
// prefix, which may be written with or without the version segment.
func hasPathPrefix(path, prefix string) bool {
	p := strings.ToLower(strings.TrimPrefix(prefix, "/"))
	for _, v := range []string{"v1.0/", "beta/"} {
		p = strings.TrimPrefix(p, v)
	}
	return strings.HasPrefix(strings.ToLower(path), p)
}

// decide picks the fault (if any) for a request. Draws from the generator
// happen in a fixed order per request, so runs repeat.
func (fs *faultState) decide(rc *reqCtx, req *request) decision {
	if fs.f == nil {
		return decision{}
	}
	f := fs.f
	fs.mu.Lock()
	defer fs.mu.Unlock()
	now := rc.now
	key := req.method + " " + strings.ToLower(req.path) + "?" + req.rawQuery

	var d decision
	if f.LatencyMax > f.Latency {
		d.latency = f.Latency + time.Duration(fs.rng.Int64N(int64(f.LatencyMax-f.Latency)+1))
	} else {
		d.latency = f.Latency
	}

	if until, ok := fs.throttled[key]; ok {
		if now.Before(until) {
			fs.violations++
			d.kind = Fault429
			d.header = http.Header{"Retry-After": {strconv.FormatInt(int64(math.Ceil(until.Sub(now).Seconds())), 10)}}
			d.message = "Too many requests: the client retried before the Retry-After interval had passed."
			return d
		}
		delete(fs.throttled, key)
	}

	if f.BucketSize > 0 && hasPathPrefix(req.path, "identityGovernance/accessReviews") {
		win := f.BucketWindow
		if win <= 0 {
			win = 10 * time.Second
		}
		if fs.bucketStart.IsZero() || !now.Before(fs.bucketStart.Add(win)) {
			fs.bucketStart, fs.bucketCount = now, 0
		}
		fs.bucketCount++
		if fs.bucketCount > f.BucketSize {
			until := fs.bucketStart.Add(win)
			secs := int64(math.Ceil(until.Sub(now).Seconds()))
			if secs < 1 {
				secs = 1
			}
			fs.throttled[key] = now.Add(time.Duration(secs) * time.Second)
			d.kind = Fault429
			d.header = http.Header{"Retry-After": {strconv.FormatInt(secs, 10)}}
			d.message = "Too many requests from Identifier:arsync-emulator under category:throttle.msgraph.accessreviews.app.10s. Please try again later."
			return d
		}
	}

	kind := FaultKind("")
	for i, r := range f.Rules {
		if r.Method != "" && r.Method != req.method || r.Path != "" && !hasPathPrefix(req.path, r.Path) {
			continue
		}
		if r.Kind.commits() && !isWriteMethod(req.method) {
			continue
		}
		fs.ruleCounts[i]++
		fire := false
		switch {
		case r.Nth > 0:
			fire = fs.ruleCounts[i] == r.Nth
		case r.Probability <= 0 || r.Probability >= 1:
			fire = true
		default:
			fire = fs.rng.Float64() < r.Probability
		}
		if fire {
			kind = r.Kind
			break
		}
	}
	if kind == "" && f.Rate > 0 && fs.pathAllowed(req.path) {
		if fs.rng.Float64() < f.Rate {
			kinds := f.Kinds
			if len(kinds) == 0 {
				kinds = []FaultKind{Fault429, Fault503}
			}
			var usable []FaultKind
			for _, k := range kinds {
				if !k.commits() || isWriteMethod(req.method) {
					usable = append(usable, k)
				}
			}
			if len(usable) > 0 {
				kind = usable[fs.rng.IntN(len(usable))]
			}
		}
	}
	if kind == "" {
		return d
	}
	d.kind = kind
	if kind == Fault429 || kind == Fault503 {
		d.header = fs.retryAfter(key, now)
		d.message = "Too many requests. Retry the request after the interval in the Retry-After header."
	}
	return d
}

func (fs *faultState) pathAllowed(path string) bool {
	if len(fs.f.Paths) == 0 {
		return true
	}
	for _, p := range fs.f.Paths {
		if hasPathPrefix(path, p) {
			return true
		}
	}
	return false
}

// retryAfter renders the Retry-After header in the configured form and
// remembers the deadline for the violation counter. Callers hold fs.mu.
func (fs *faultState) retryAfter(key string, now time.Time) http.Header {
	wait := fs.f.RetryAfter
	if wait == 0 {
		wait = time.Second
	}
	form := fs.f.RetryAfterForm
	if form == RetryAfterMixed {
		form = []RetryAfterForm{RetryAfterSeconds, RetryAfterFraction, RetryAfterDate, RetryAfterNone}[fs.rng.IntN(4)]
	}
	var value string
	var until time.Time
	switch form {
	case RetryAfterNone:
		return http.Header{}
	case RetryAfterFraction:
		secs := wait.Seconds()
		value = strconv.FormatFloat(secs, 'f', -1, 64)
		if !strings.Contains(value, ".") {
			value += ".0"
		}
		until = now.Add(wait)
	case RetryAfterDate:
		// HTTP dates have whole seconds: round the deadline up.
		until = now.Add(wait).Truncate(time.Second)
		if until.Before(now.Add(wait)) {
			until = until.Add(time.Second)
		}
		value = until.UTC().Format(http.TimeFormat)
	default:
		secs := int64(math.Ceil(wait.Seconds()))
		value = strconv.FormatInt(secs, 10)
		until = now.Add(time.Duration(secs) * time.Second)
	}
	fs.throttled[key] = until
	return http.Header{"Retry-After": {value}}
}
