package graphclient

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/arsync/arsync/internal/clock"
	"github.com/arsync/arsync/pkg/graph"
)

// Defaults of [Options]. Identity-governance endpoints have been seen asking
// for Retry-After waits of 315 s, so one wait may last minutes; the context
// bounds the whole call.
const (
	DefaultMaxConcurrency = 4
	DefaultMaxRetries     = 8
	// maxDialRetries bounds the retries of a request whose connection
	// could not be made (nothing was sent): about 3 s of backoff.
	maxDialRetries      = 2
	DefaultMaxRetryWait = 10 * time.Minute
	DefaultUserAgent    = "arsync"
	// DefaultMaxPages bounds the pages one list follows: 1,000,000 items
	// at Graph's default page size of 100 (docs/graph-behaviour.md#paging),
	// far more than a tenant's access reviews, and about an hour of
	// round trips. It is not derived from $top: the service picks the
	// page size, and may send fewer items than asked for.
	DefaultMaxPages = 10000

	backoffBase = time.Second
	backoffMax  = time.Minute
	// defaultAttemptTimeout bounds one HTTP attempt of the default HTTP
	// client, so a hung connection becomes a retryable (or, for a create, an
	// unknown-outcome) error instead of a hang.
	defaultAttemptTimeout = 2 * time.Minute
	// maxResponseBody bounds what one response may hold in memory.
	maxResponseBody = 64 << 20
	// tokenRefreshMargin renews a token this long before it expires.
	tokenRefreshMargin = 5 * time.Minute
)

// maxServerErrorAttempts bounds the attempts of a GET, PUT or DELETE
// answered 500 or 502 (azcore's default allows 4,
// docs/graph-behaviour.md#throttling-and-retries): a 500 is as often an
// answer to this very request as a passing fault, so a few tries settle
// which it is without making a failing run slow.
const maxServerErrorAttempts = 3

// Options configures a [Client]. Only Credential is required.
type Options struct {
	// BaseURL is the Graph API root, e.g. https://graph.microsoft.com/v1.0
	// (trailing slash optional; a URL without a path gets /v1.0). Empty means
	// the Cloud's Graph. Plain http is accepted only for loopback hosts.
	BaseURL string
	// Cloud is global, usgov, usgovdod or china; empty means global. It picks
	// the Graph host when BaseURL is empty.
	Cloud string
	// Scope is the token scope. Empty means the Graph origin + "/.default":
	// the cloud's scope, or, with a BaseURL, that URL's scheme and host.
	Scope string
	// Credential supplies bearer tokens (see NewCredential and StaticToken).
	Credential azcore.TokenCredential
	// HTTPClient sends the requests. It is copied, never changed; the copy
	// does not follow redirects, so a token never follows one elsewhere.
	HTTPClient *http.Client
	// MaxConcurrency bounds the requests in flight at once across all
	// goroutines using the client (default 4). Waits between retries do not
	// hold a slot.
	MaxConcurrency int
	// MaxRetries bounds the retries of one logical request (default 8;
	// negative: never retry).
	MaxRetries int
	// MaxRetryWait is the longest single wait accepted (default 10 min,
	// negative: no limit but the context). A longer Retry-After ends the
	// retries with the throttling error rather than cutting the wait short.
	MaxRetryWait time.Duration
	// Sleep waits for d or until ctx ends (tests inject a recorder).
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a number in [0,1) for the jitter of backoffs and of
	// Retry-After waits; it must be safe for concurrent use.
	Rand func() float64
	// Now is the clock used for HTTP-date Retry-After values and token expiry.
	Now func() time.Time
	// NewRequestID returns the client-request-id of a logical request.
	NewRequestID func() string
	// Debug, when set, receives one line per attempt: method, URL, status,
	// timing, request-id and client-request-id. Headers are never logged.
	Debug io.Writer
	// UserAgent is sent as User-Agent (default "arsync").
	UserAgent string
	// MaxPages bounds the pages one list follows (default
	// DefaultMaxPages); the list then ends with an error rather than
	// following nextLinks forever.
	MaxPages int
	// Secrets are scrubbed, like every token the client uses, from every
	// error and debug line, whole or in part (a client secret, say).
	// Strings shorter than 8 bytes are not: they would blank out words.
	Secrets []string
}

// Client is a Microsoft Graph client for the resources arsync uses. It is
// safe for concurrent use.
type Client struct {
	base         *url.URL
	scope        string
	cred         azcore.TokenCredential
	hc           *http.Client
	sem          chan struct{}
	maxRetries   int
	maxRetryWait time.Duration
	maxPages     int
	gate         throttleGate
	sleep        func(context.Context, time.Duration) error
	rand         func() float64
	now          func() time.Time
	newID        func() string
	userAgent    string
	// maxBody bounds what one response body may hold in memory
	// (maxResponseBody; tests lower it).
	maxBody int64

	logMu sync.Mutex
	debug io.Writer

	// tokMu guards the cached token only, never across a sign-in.
	tokMu     sync.Mutex
	tok       azcore.AccessToken
	refreshAt time.Time
	// signIn is held by the one request fetching a token; the others
	// wait for it, or for their context (a sign-in can take minutes).
	signIn chan struct{}
	// secrets are the tokens handed out and Options.Secrets, scrubbed
	// from every message. It is replaced, never changed, so scrubbing
	// takes no lock and goes on while a sign-in is in progress.
	secrets atomic.Pointer[secretSet]
}

// New returns a client. It does no I/O.
func New(opts Options) (*Client, error) {
	if opts.Credential == nil {
		return nil, errors.New("graphclient: no credential: use NewCredential, or StaticToken for a fixed token")
	}
	ci, err := CloudConfig(opts.Cloud)
	if err != nil {
		return nil, err
	}
	raw, scope := ci.BaseURL(), ci.Scope
	if opts.BaseURL != "" {
		raw = opts.BaseURL
	}
	base, err := parseBaseURL(raw)
	if err != nil {
		return nil, err
	}
	if opts.BaseURL != "" {
		scope = scopeForBase(base)
	}
	if opts.Scope != "" {
		scope = opts.Scope
	}
	c := &Client{
		base:         base,
		scope:        scope,
		cred:         opts.Credential,
		maxRetries:   opts.MaxRetries,
		maxRetryWait: opts.MaxRetryWait,
		maxPages:     opts.MaxPages,
		sleep:        opts.Sleep,
		rand:         opts.Rand,
		now:          opts.Now,
		newID:        opts.NewRequestID,
		userAgent:    opts.UserAgent,
		debug:        opts.Debug,
		maxBody:      maxResponseBody,
	}
	n := opts.MaxConcurrency
	if n <= 0 {
		n = DefaultMaxConcurrency
	}
	c.sem = make(chan struct{}, n)
	fixed := slices.Clone(opts.Secrets)
	if st, ok := opts.Credential.(StaticToken); ok {
		// Known before any request: scrubbed from the first message on.
		fixed = append(fixed, string(st))
	}
	c.secrets.Store(newSecretSet(fixed))
	c.signIn = make(chan struct{}, 1)
	switch {
	case c.maxRetries == 0:
		c.maxRetries = DefaultMaxRetries
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.maxPages <= 0 {
		c.maxPages = DefaultMaxPages
	}
	switch {
	case c.maxRetryWait == 0:
		c.maxRetryWait = DefaultMaxRetryWait
	case c.maxRetryWait < 0:
		c.maxRetryWait = 0 // no limit
	}
	if c.sleep == nil {
		c.sleep = clock.Sleep
	}
	if c.rand == nil {
		c.rand = mathrand.Float64
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.newID == nil {
		c.newID = newUUID
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	var hc http.Client
	if opts.HTTPClient != nil {
		hc = *opts.HTTPClient
	} else {
		hc.Timeout = defaultAttemptTimeout
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.hc = &hc
	return c, nil
}

// BaseURL returns the Graph API root the client talks to, with a trailing slash.
func (c *Client) BaseURL() string { return c.base.String() }

// Scope returns the token scope the client asks its credential for.
func (c *Client) Scope() string { return c.scope }

// Response describes the final answer to a logical request.
type Response struct {
	StatusCode      int
	Header          http.Header
	RequestID       string
	ClientRequestID string
	Attempts        int
	body            []byte
}

// call is one logical request.
type call struct {
	method string
	url    string // absolute
	body   []byte
	header http.Header
	// idempotent requests are retried on 429, 503, 504 and transport
	// errors, and a few times on 500 and 502 (maxServerErrorAttempts);
	// the others (creates) only on 429 and on failures that certainly
	// happened before sending.
	idempotent bool
	// goneIsDone makes a 404 after an attempt that may have been carried
	// out count as success (a retried DELETE).
	goneIsDone bool
}

// Do sends one logical request, with the client's retries, and decodes a
// JSON response into out (unless out is nil or the body is empty). path is
// relative to the base URL ("identityGovernance/accessReviews/definitions");
// an absolute URL must be on the Graph host. GET, PUT, DELETE and HEAD are
// treated as idempotent, every other method as a create: see the package
// documentation for what that changes.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) (*Response, error) {
	u, err := c.resolve(path)
	if err != nil {
		return nil, err
	}
	cl := call{method: method, url: u}
	switch method {
	case http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodHead:
		cl.idempotent = true
	}
	if body != nil {
		if cl.body, err = graph.MarshalNoEscape(body); err != nil {
			return nil, fmt.Errorf("encoding %s %s body: %w", method, path, err)
		}
	}
	return c.doJSON(ctx, cl, out)
}

func (c *Client) doJSON(ctx context.Context, cl call, out any) (*Response, error) {
	resp, err := c.send(ctx, cl)
	if err != nil {
		return resp, err
	}
	if out != nil && len(bytes.TrimSpace(resp.body)) > 0 {
		if err := json.Unmarshal(resp.body, out); err != nil {
			return resp, fmt.Errorf("decoding the response to %s %s: %w", cl.method, c.sanitize(cl.url), c.scrubErr(err))
		}
	}
	return resp, nil
}

// resolve turns a relative path into an absolute URL under the base URL.
func (c *Client) resolve(path string) (string, error) {
	u, err := url.Parse(path)
	if err != nil {
		return "", fmt.Errorf("invalid request path %q: %w", c.scrub(path), err)
	}
	if u.IsAbs() || u.Host != "" {
		if !c.sameOrigin(u) {
			return "", fmt.Errorf("%s: %w", c.scrub(sanitizeURL(u)), ErrForeignHost)
		}
		return path, nil
	}
	rel := strings.TrimPrefix(path, "/")
	if before, q, ok := strings.Cut(rel, "?"); ok {
		rel = before + "?" + escapeRawQuery(q)
	}
	return c.base.String() + rel, nil
}

// escapeRawQuery percent-encodes the bytes that may not appear in a URL
// query as typed (spaces, quotes, non-ASCII), leaving escapes and OData's
// $ , ( ) ' = & untouched, so callers may write filters naturally.
func escapeRawQuery(q string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		ch := q[i]
		if ch <= ' ' || ch >= 0x7f || strings.IndexByte("\"<>\\^`{|}#", ch) >= 0 {
			b.WriteByte('%')
			b.WriteByte(hexDigits[ch>>4])
			b.WriteByte(hexDigits[ch&15])
			continue
		}
		b.WriteByte(ch)
	}
	return b.String()
}

func (c *Client) sameOrigin(u *url.URL) bool {
	return u.IsAbs() && strings.EqualFold(u.Scheme, c.base.Scheme) &&
		strings.EqualFold(u.Hostname(), c.base.Hostname()) && portOf(u) == portOf(c.base)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "http") {
		return "80"
	}
	return "443"
}

// notSentError marks a failure that certainly happened before any byte of
// the request reached the server, so even a create may be tried again.
type notSentError struct{ err error }

func (e *notSentError) Error() string { return e.err.Error() }
func (e *notSentError) Unwrap() error { return e.err }

// send runs the retry loop of one logical request. One client-request-id is
// used for all its attempts.
func (c *Client) send(ctx context.Context, cl call) (*Response, error) {
	u, err := url.Parse(cl.url)
	if err != nil {
		return nil, fmt.Errorf("invalid URL %q: %w", c.sanitize(cl.url), err)
	}
	safeURL := c.sanitize(cl.url)
	if !c.sameOrigin(u) {
		return nil, fmt.Errorf("%s %s: %w", cl.method, safeURL, ErrForeignHost)
	}
	crid := c.newID()
	maybeDone := false // an earlier attempt may have been carried out
	reauthed := false
	dialFails, serverFails := 0, 0
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		resp, terr := c.attempt(ctx, cl, crid, attempt)
		var (
			retryErr error
			wait     time.Duration
			hasWait  bool
		)
		if terr != nil {
			var tl *tooLargeError
			if errors.As(terr, &tl) {
				// The service answered, and would answer a repeat the same
				// way: an oversized body is no transient fault.
				if !cl.idempotent && tl.mayBeDone() {
					return nil, &graph.UnknownOutcomeError{Method: cl.method, URL: safeURL, Err: tl}
				}
				return nil, fmt.Errorf("%s %s: %w; not retried", cl.method, safeURL, tl)
			}
			var ns *notSentError
			if errors.As(terr, &ns) {
				// Cancelled while queued, no token, a malformed request:
				// nothing was sent and retrying cannot help.
				if ctxErr := ctx.Err(); ctxErr != nil {
					return nil, ctxErr
				}
				return nil, fmt.Errorf("%s %s: %w", cl.method, safeURL, c.scrubErr(terr))
			}
			sent := !isDialError(terr)
			if ctxErr := ctx.Err(); ctxErr != nil {
				if sent && !cl.idempotent {
					return nil, &graph.UnknownOutcomeError{Method: cl.method, URL: safeURL, Err: ctxErr}
				}
				return nil, ctxErr
			}
			if se := classifySetupError(terr); se != nil {
				// Retrying a certificate or protocol failure only delays the
				// same error (by minutes of backoff).
				err := fmt.Errorf("%s %s: %w", cl.method, safeURL, c.scrubErr(se))
				if se.sent && !cl.idempotent {
					return nil, &graph.UnknownOutcomeError{Method: cl.method, URL: safeURL, Err: err}
				}
				return nil, err
			}
			if sent && !cl.idempotent {
				return nil, &graph.UnknownOutcomeError{Method: cl.method, URL: safeURL, Err: c.scrubErr(terr)}
			}
			maybeDone = maybeDone || sent
			retryErr = fmt.Errorf("%s %s (attempt %d): %w", cl.method, safeURL, attempt, c.scrubErr(terr))
			// A host that refuses connections or does not resolve is
			// rarely back within the backoff's minutes (a wrong
			// --graph-endpoint, a network down): give up after a short
			// while instead of waiting out every retry.
			if !sent {
				if dialFails++; dialFails > maxDialRetries {
					return nil, retryErr
				}
			}
		} else {
			s := resp.StatusCode
			if s >= 200 && s < 300 {
				resp.Attempts = attempt
				return resp, nil
			}
			if s == http.StatusNotFound && cl.goneIsDone && maybeDone {
				resp.Attempts = attempt
				return resp, nil
			}
			gerr := newError(c.secrets.Load(), cl.method, safeURL, s, resp.Header, resp.body)
			gerr.Attempts = attempt
			if ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), c.now()); ok {
				gerr.RetryAfter, wait, hasWait = ra, ra, true
			}
			if s == http.StatusTooManyRequests || s == http.StatusServiceUnavailable && hasWait {
				// The host, not just this request, is throttled.
				if !hasWait {
					wait = c.backoff(attempt)
				}
				c.pauseHost(wait)
			}
			switch {
			case s == http.StatusUnauthorized && !reauthed:
				// The token may have been revoked or expired early: fetch a
				// fresh one and try once more. Nothing was carried out.
				reauthed = true
				c.dropToken()
				attempt--
				continue
			case s == http.StatusTooManyRequests:
				// Throttled requests were not carried out: always retryable.
			case s == http.StatusServiceUnavailable || s == http.StatusGatewayTimeout:
				if !cl.idempotent {
					return nil, &graph.UnknownOutcomeError{Method: cl.method, URL: safeURL, Err: gerr}
				}
				maybeDone = true
			case !cl.idempotent && (s == http.StatusInternalServerError || s == http.StatusBadGateway || s == http.StatusRequestTimeout):
				return nil, &graph.UnknownOutcomeError{Method: cl.method, URL: safeURL, Err: gerr}
			case s == http.StatusInternalServerError || s == http.StatusBadGateway:
				// It may have been carried out (a DELETE's 404 on a retry
				// then means done), and may be this request's own answer:
				// only a few tries.
				maybeDone = true
				if serverFails++; serverFails >= maxServerErrorAttempts {
					return resp, gerr
				}
			default:
				return resp, gerr
			}
			retryErr = gerr
		}
		if attempt > c.maxRetries {
			return resp, retryErr
		}
		if wait == 0 && !hasWait {
			wait = c.backoff(attempt)
		}
		if err := c.wait(ctx, wait, hasWait, retryErr); err != nil {
			return resp, err
		}
	}
}

// wait sleeps before a retry, unless the wait is longer than allowed or
// would end after the context's deadline: then it returns the error that
// caused the retry, saying why it gave up. A wait the service asked for
// gets jitter on top (see maxJitter); a backoff has its own.
func (c *Client) wait(ctx context.Context, d time.Duration, asked bool, cause error) error {
	if c.maxRetryWait > 0 && d > c.maxRetryWait {
		return fmt.Errorf("giving up: the service asked to wait %s, longer than the %s allowed: %w", d, c.maxRetryWait, cause)
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return fmt.Errorf("giving up: waiting %s would pass the deadline: %w", d, cause)
	}
	total := d
	if asked {
		total = c.withJitter(ctx, d)
		c.logf("graph: retrying in %s (Retry-After %s, plus jitter)", total.Round(time.Millisecond), d)
	} else {
		c.logf("graph: retrying in %s (backoff)", d)
	}
	if err := c.sleep(ctx, total); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return err
	}
	return nil
}

// attempt sends the request once and reads the whole response. It waits
// first while the host is paused (see pauseHost), and for a slot.
func (c *Client) attempt(ctx context.Context, cl call, crid string, n int) (*Response, error) {
	for {
		if err := c.waitForHost(ctx, cl); err != nil {
			return nil, &notSentError{err}
		}
		select {
		case c.sem <- struct{}{}:
		case <-ctx.Done():
			return nil, &notSentError{ctx.Err()}
		}
		if c.now().Before(c.gate.openAt()) {
			// Paused while this request queued for a slot.
			<-c.sem
			continue
		}
		break
	}
	defer func() { <-c.sem }()

	tok, err := c.token(ctx)
	if err != nil {
		return nil, &notSentError{err}
	}
	var body io.Reader
	if cl.body != nil {
		body = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, cl.url, body)
	if err != nil {
		return nil, &notSentError{err}
	}
	if cl.header != nil {
		req.Header = cl.header.Clone()
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("client-request-id", crid)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if cl.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if n > 1 {
		req.Header.Set("Retry-Attempt", strconv.Itoa(n-1))
	}
	start := time.Now()
	hresp, err := c.hc.Do(req)
	if err != nil {
		// net/http wraps the failure in a *url.Error that repeats the method
		// and the raw URL (secret query parameters included); callers name
		// the request themselves, sanitised.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		c.logf("graph: %s %s -> error after %s (attempt %d, client-request-id %s): %v",
			cl.method, c.sanitize(cl.url), since(start), n, crid, c.scrubErr(err))
		return nil, err
	}
	defer hresp.Body.Close()
	if s := hresp.StatusCode; s == http.StatusTooManyRequests || s == http.StatusServiceUnavailable {
		// Hold back the other requests to the host now, not once this
		// answer has been read and logged (send pauses it again, also
		// without Retry-After).
		if ra, ok := parseRetryAfter(hresp.Header.Get("Retry-After"), c.now()); ok {
			c.pauseHost(ra)
		}
	}
	// The ids are the service's text, printed in messages and logs.
	sc := c.secrets.Load()
	rid := sc.clean(hresp.Header.Get("request-id"), maxErrorField)
	var b []byte
	if hresp.ContentLength > c.maxBody {
		err = &tooLargeError{status: hresp.StatusCode, requestID: rid, limit: c.maxBody}
	} else {
		b, err = io.ReadAll(io.LimitReader(hresp.Body, c.maxBody+1))
		if err == nil && int64(len(b)) > c.maxBody {
			err = &tooLargeError{status: hresp.StatusCode, requestID: rid, limit: c.maxBody}
		}
	}
	resp := &Response{
		StatusCode:      hresp.StatusCode,
		Header:          hresp.Header,
		RequestID:       rid,
		ClientRequestID: sc.clean(hresp.Header.Get("client-request-id"), maxErrorField),
		Attempts:        n,
		body:            b,
	}
	if resp.ClientRequestID == "" {
		resp.ClientRequestID = crid
	}
	c.logf("graph: %s %s -> %d in %s (attempt %d, request-id %s, client-request-id %s)",
		cl.method, c.sanitize(cl.url), hresp.StatusCode, since(start), n, orDash(resp.RequestID), resp.ClientRequestID)
	if err != nil {
		var tl *tooLargeError
		if errors.As(err, &tl) {
			return nil, err
		}
		return nil, fmt.Errorf("reading the response: %w", c.scrubErr(err))
	}
	return resp, nil
}

// tooLargeError is an answer whose body is over the client's limit.
type tooLargeError struct {
	status    int
	requestID string
	limit     int64
}

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("response body over the %s limit (status %d, request-id %s)", formatSize(e.limit), e.status, orDash(e.requestID))
}

func (e *tooLargeError) Unwrap() error { return ErrResponseTooLarge }

// mayBeDone reports whether a create answered this way may have been
// carried out: the statuses that make its outcome unknown, and success
// (its answer, with the new id, could not be read).
func (e *tooLargeError) mayBeDone() bool {
	switch e.status {
	case http.StatusRequestTimeout, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return e.status >= 200 && e.status < 300
}

// formatSize prints a byte count in the largest binary unit that divides it.
func formatSize(n int64) string {
	switch {
	case n > 0 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n > 0 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// isDialError reports a failure to connect: nothing was sent.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// backoff is the wait before retry n when the service named none:
// exponential from 1 s, capped at 1 min, with "equal jitter" (half fixed,
// half random) so parallel clients spread out.
func (c *Client) backoff(n int) time.Duration {
	d := backoffBase << min(n-1, 16)
	if d > backoffMax || d <= 0 {
		d = backoffMax
	}
	half := d / 2
	r := c.rand()
	if r < 0 || r >= 1 || math.IsNaN(r) {
		r = 0
	}
	return half + time.Duration(float64(half)*r)
}

// parseRetryAfter reads a Retry-After value: whole or fractional seconds
// (rounded up to whole seconds, so the client never comes back early) or an
// HTTP date. ok is false when the value is absent or unreadable.
func parseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if math.IsNaN(f) || f < 0 {
			return 0, false
		}
		return wholeSeconds(f), true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d <= 0 {
			return 0, true
		}
		return wholeSeconds(d.Seconds()), true
	}
	return 0, false
}

// wholeSeconds rounds secs up to whole seconds, saturating instead of
// overflowing for absurd values (which then exceed any wait limit).
func wholeSeconds(secs float64) time.Duration {
	secs = math.Ceil(secs)
	if secs >= float64(math.MaxInt64/int64(time.Second)) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(secs) * time.Second
}

// token returns a cached token, fetching a new one when it is near expiry.
// Fetches are serialised so parallel requests share one; a request waiting
// for another's sign-in gives up when its context ends.
func (c *Client) token(ctx context.Context) (string, error) {
	if tok, ok := c.cachedToken(); ok {
		return tok, nil
	}
	select {
	case c.signIn <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-c.signIn }()
	// Another request may have signed in while this one waited.
	if tok, ok := c.cachedToken(); ok {
		return tok, nil
	}
	now := c.now()
	at, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{c.scope}})
	if err != nil {
		return "", fmt.Errorf("getting an access token for %s: %w", c.scope, err)
	}
	if at.Token == "" {
		return "", fmt.Errorf("getting an access token for %s: the credential returned an empty token", c.scope)
	}
	// Scrubbed from every message before anything can carry it.
	c.addSecret(at.Token)
	c.tokMu.Lock()
	defer c.tokMu.Unlock()
	c.tok = at
	switch {
	case !at.RefreshOn.IsZero():
		c.refreshAt = at.RefreshOn
	case !at.ExpiresOn.IsZero():
		c.refreshAt = at.ExpiresOn.Add(-tokenRefreshMargin)
	default:
		c.refreshAt = now.Add(tokenRefreshMargin)
	}
	return at.Token, nil
}

// cachedToken returns the cached token unless it is due for renewal.
func (c *Client) cachedToken() (string, bool) {
	c.tokMu.Lock()
	defer c.tokMu.Unlock()
	if c.tok.Token != "" && c.now().Before(c.refreshAt) {
		return c.tok.Token, true
	}
	return "", false
}

func (c *Client) dropToken() {
	c.tokMu.Lock()
	c.tok = azcore.AccessToken{}
	c.tokMu.Unlock()
}

// addSecret adds tok to the secrets to scrub, keeping the last few
// tokens. Only the request holding signIn calls it, so replacing the set
// is safe.
func (c *Client) addSecret(tok string) {
	old := c.secrets.Load()
	if next := old.withToken(tok); next != old {
		c.secrets.Store(next)
	}
}

// scrub removes any secret, or part of one, from s: a misbehaving server
// or proxy might echo the token back, whole or cut.
func (c *Client) scrub(s string) string { return c.secrets.Load().scrub(s) }

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

func (c *Client) scrubErr(err error) error {
	if err == nil {
		return nil
	}
	if msg := c.scrub(err.Error()); msg != err.Error() {
		return &scrubbedError{msg: msg, err: err}
	}
	return err
}

func (c *Client) logf(format string, args ...any) {
	if c.debug == nil {
		return
	}
	line := c.scrub(fmt.Sprintf(format, args...))
	c.logMu.Lock()
	defer c.logMu.Unlock()
	fmt.Fprintln(c.debug, line)
}

func (c *Client) sanitize(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return c.scrub(sanitizeURL(u))
}

// sensitiveParams are query parameters whose values are redacted in
// messages and logs.
var sensitiveParams = map[string]bool{
	"access_token": true, "token": true, "code": true, "client_secret": true,
	"client_assertion": true, "sig": true, "signature": true, "password": true,
}

// sanitizeURL prints u without user information and with secret-looking
// query values redacted.
func sanitizeURL(u *url.URL) string {
	v := *u
	v.User = nil
	if v.RawQuery != "" {
		q := v.Query()
		changed := false
		for k := range q {
			if sensitiveParams[strings.ToLower(k)] {
				q[k] = []string{"REDACTED"}
				changed = true
			}
		}
		if changed {
			v.RawQuery = q.Encode()
		}
	}
	return v.String()
}

// newUUID returns a random (version 4) UUID for client-request-id.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; a fixed id
		// only weakens correlation, never correctness.
		return "00000000-0000-4000-8000-000000000000"
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
