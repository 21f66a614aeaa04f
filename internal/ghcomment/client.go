package ghcomment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// DefaultAPIURL is GitHub.com's REST API; GitHub Enterprise Server runners
// set GITHUB_API_URL to theirs.
const DefaultAPIURL = "https://api.github.com"

// Client posts comments through GitHub's REST API.
type Client struct {
	// APIURL is the REST API base, e.g. https://api.github.com.
	APIURL string
	// Token is a GitHub token that may write pull-request comments
	// (GITHUB_TOKEN with "permissions: pull-requests: write").
	Token string
	// HTTPClient defaults to one with a 30-second timeout.
	HTTPClient *http.Client
	// Sleep waits between attempts; tests replace it. It must return
	// early with ctx's error when ctx ends.
	Sleep func(ctx context.Context, d time.Duration) error
	// Attempts is how many times a write is tried when GitHub answers 5xx,
	// 429 or a secondary rate limit, or the connection fails (default 3).
	Attempts int
}

// APIError is an unsuccessful answer from GitHub.
type APIError struct {
	Method, Path string
	Status       int
	Message      string // GitHub's "message"
	RetryAfter   time.Duration
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("GitHub %s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	switch e.Status {
	case http.StatusUnauthorized:
		msg += " (is GITHUB_TOKEN set to the workflow's token?)"
	case http.StatusForbidden, http.StatusNotFound:
		if e.RetryAfter == 0 {
			msg += ` (the job needs "permissions: pull-requests: write"; pull requests from forks get a read-only token)`
		}
	}
	return msg
}

// retriable reports whether trying again may succeed: server errors, rate
// limits, and secondary rate limits (403 with Retry-After).
func (e *APIError) retriable() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests ||
		(e.Status == http.StatusForbidden && e.RetryAfter > 0)
}

// Outcome says what Upsert did.
type Outcome string

// Outcomes of Upsert.
const (
	Created   Outcome = "created"
	Updated   Outcome = "updated"
	Unchanged Outcome = "unchanged"
)

// Result is the comment Upsert left on the pull request.
type Result struct {
	Outcome Outcome
	ID      int64
	URL     string
}

type comment struct {
	ID      int64  `json:"id"`
	Body    string `json:"body"`
	HTMLURL string `json:"html_url"`
}

var repoRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)

// Upsert makes the pull request (or issue) number of repo ("owner/name")
// carry exactly one comment that starts with marker, with body: it edits
// the first such comment, or creates one. A body equal to the current one
// is not written again, so an unchanged plan sends no notification.
//
// When a write fails in a way that may be temporary, Upsert lists the
// comments again before trying once more, so a create that reached GitHub
// although its answer was lost is found and edited, never duplicated.
func (c *Client) Upsert(ctx context.Context, repo string, number int, marker, body string) (*Result, error) {
	if !repoRE.MatchString(repo) {
		return nil, fmt.Errorf("repository %q is not owner/name", repo)
	}
	if number <= 0 {
		return nil, fmt.Errorf("pull request number %d is not positive", number)
	}
	if !strings.HasPrefix(body, marker) {
		return nil, errors.New("the comment body must start with its marker")
	}
	if n := len([]rune(body)); n > MaxBodyLen {
		return nil, fmt.Errorf("the comment is %d characters long; GitHub allows %d", n, MaxBodyLen)
	}
	attempts := c.Attempts
	if attempts <= 0 {
		attempts = 3
	}
	var err error
	for i := 0; i < attempts; i++ {
		var res *Result
		res, err = c.upsertOnce(ctx, repo, number, marker, body)
		if err == nil {
			return res, nil
		}
		wait, ok := retryWait(err, i)
		if !ok || i == attempts-1 {
			break
		}
		if serr := c.sleep(ctx, wait); serr != nil {
			return nil, serr
		}
	}
	return nil, err
}

func (c *Client) upsertOnce(ctx context.Context, repo string, number int, marker, body string) (*Result, error) {
	existing, err := c.find(ctx, repo, number, marker)
	if err != nil {
		return nil, err
	}
	payload := map[string]string{"body": body}
	if existing != nil {
		if existing.Body == body {
			return &Result{Outcome: Unchanged, ID: existing.ID, URL: existing.HTMLURL}, nil
		}
		var out comment
		path := fmt.Sprintf("/repos/%s/issues/comments/%d", repo, existing.ID)
		if err := c.do(ctx, http.MethodPatch, path, payload, &out); err != nil {
			return nil, err
		}
		return &Result{Outcome: Updated, ID: out.ID, URL: out.HTMLURL}, nil
	}
	var out comment
	path := fmt.Sprintf("/repos/%s/issues/%d/comments", repo, number)
	if err := c.do(ctx, http.MethodPost, path, payload, &out); err != nil {
		return nil, err
	}
	return &Result{Outcome: Created, ID: out.ID, URL: out.HTMLURL}, nil
}

// maxPages bounds the listing: 100 pages of 100 comments.
const maxPages = 100

// find returns the oldest comment whose body starts with marker, or nil.
func (c *Client) find(ctx context.Context, repo string, number int, marker string) (*comment, error) {
	var found *comment
	err := c.walk(ctx, repo, number, func(cm *comment) bool {
		if strings.HasPrefix(cm.Body, marker) {
			found = cm
			return false
		}
		return true
	})
	return found, err
}

// walk calls fn with the comments of pull request number, oldest first,
// until fn returns false.
func (c *Client) walk(ctx context.Context, repo string, number int, fn func(*comment) bool) error {
	next := fmt.Sprintf("/repos/%s/issues/%d/comments?per_page=100", repo, number)
	for page := 0; next != "" && page < maxPages; page++ {
		var list []comment
		link, err := c.get(ctx, next, &list)
		if err != nil {
			return err
		}
		for i := range list {
			if !fn(&list[i]) {
				return nil
			}
		}
		next, err = c.nextPage(link)
		if err != nil {
			return err
		}
	}
	return nil
}

var linkNextRE = regexp.MustCompile(`<([^>]+)>;\s*rel="next"`)

// nextPage returns the path of the Link header's next page. A next page on
// another host is refused: the token must go only to the API it is for.
func (c *Client) nextPage(link string) (string, error) {
	m := linkNextRE.FindStringSubmatch(link)
	if m == nil {
		return "", nil
	}
	u, err := url.Parse(m[1])
	if err != nil {
		return "", fmt.Errorf("GitHub's next-page link %q: %w", m[1], err)
	}
	base, err := url.Parse(c.apiURL())
	if err != nil {
		return "", err
	}
	if u.IsAbs() && (u.Scheme != base.Scheme || u.Host != base.Host) {
		return "", fmt.Errorf("GitHub's next-page link points to %s, not %s; not following it", u.Host, base.Host)
	}
	p := strings.TrimPrefix(u.Path, strings.TrimSuffix(base.Path, "/"))
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return p, nil
}

func (c *Client) apiURL() string {
	if c.APIURL == "" {
		return DefaultAPIURL
	}
	return strings.TrimSuffix(c.APIURL, "/")
}

func (c *Client) get(ctx context.Context, path string, out any) (link string, err error) {
	resp, err := c.send(ctx, http.MethodGet, path, nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if err := decode(resp, http.MethodGet, path, out); err != nil {
		return "", err
	}
	return resp.Header.Get("Link"), nil
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	resp, err := c.send(ctx, method, path, b)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return decode(resp, method, path, out)
}

// transportError is a request that got no answer: its outcome is unknown.
type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

func (c *Client) send(ctx context.Context, method, path string, body []byte) (*http.Response, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.apiURL()+path, r)
	if err != nil {
		return nil, fmt.Errorf("GitHub %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("User-Agent", "arsync")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// The error may quote the URL, never the token.
		return nil, &transportError{fmt.Errorf("GitHub %s %s: %w", method, path, err)}
	}
	return resp, nil
}

func decode(resp *http.Response, method, path string, out any) error {
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return &transportError{fmt.Errorf("GitHub %s %s: reading the answer: %w", method, path, err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &APIError{Method: method, Path: path, Status: resp.StatusCode}
		var body struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(data, &body) == nil {
			e.Message = body.Message
		}
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"))
		if e.RetryAfter == 0 && resp.Header.Get("X-RateLimit-Remaining") == "0" && resp.StatusCode != http.StatusNotFound {
			// Primary rate limit: GitHub says when it resets.
			if reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
				e.RetryAfter = max(time.Second, time.Until(time.Unix(reset, 0)))
			}
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("GitHub %s %s: decoding the answer: %w", method, path, err)
	}
	return nil
}

// retryAfter reads Retry-After in seconds (the form GitHub sends).
func retryAfter(v string) time.Duration {
	s, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || s < 0 {
		return 0
	}
	return time.Duration(s) * time.Second
}

// maxWait caps one wait: a CI job should fail rather than hang.
const maxWait = time.Minute

// retryWait says whether err is worth another attempt and how long to wait
// before it: Retry-After when GitHub gives one, else 1 s, 2 s, 4 s, ...
func retryWait(err error, attempt int) (time.Duration, bool) {
	var te *transportError
	var ae *APIError
	switch {
	case errors.As(err, &ae) && ae.retriable():
		if ae.RetryAfter > 0 {
			return min(ae.RetryAfter, maxWait), true
		}
	case errors.As(err, &te):
	default:
		return 0, false
	}
	return min(time.Second<<attempt, maxWait), true
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
