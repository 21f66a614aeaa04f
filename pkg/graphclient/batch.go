package graphclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/arsync/arsync/pkg/graph"
)

// maxBatch is Graph's limit of requests in one $batch.
const maxBatch = 20

type batchRequest struct {
	ID      string            `json:"id"`
	Method  string            `json:"method"`
	URL     string            `json:"url"` // relative to the version root, with a leading slash
	Headers map[string]string `json:"headers,omitempty"`
}

type batchResponse struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// batchGet sends GET requests for paths (relative to the base URL) packed 20
// to a $batch, and returns each one's body in order. Sub-requests the
// service throttles (429, 503, 504; and 424, which older Graph versions used
// for a throttled batch) are sent again in a new batch after the longest
// Retry-After among them; any other failing sub-request fails the call.
func (c *Client) batchGet(ctx context.Context, paths []string) ([]json.RawMessage, error) {
	return c.batchGetHeaders(ctx, paths, nil)
}

// batchGetHeaders is batchGet with headers sent on every request inside
// the batch (ConsistencyLevel for $count: docs/graph-behaviour.md#batching).
func (c *Client) batchGetHeaders(ctx context.Context, paths []string, headers map[string]string) ([]json.RawMessage, error) {
	results := make([]json.RawMessage, len(paths))
	pending := make([]int, len(paths))
	for i := range pending {
		pending[i] = i
	}
	for round := 1; len(pending) > 0; round++ {
		var (
			retry    []int
			wait     time.Duration
			hasWait  bool
			pause    bool // a sub-request was throttled: so is the host
			retryErr error
		)
		for start := 0; start < len(pending); start += maxBatch {
			chunk := pending[start:min(start+maxBatch, len(pending))]
			resps, err := c.sendBatch(ctx, paths, chunk, headers)
			if err != nil {
				return nil, err
			}
			for _, i := range chunk {
				r, ok := resps[strconv.Itoa(i)]
				if !ok {
					return nil, fmt.Errorf("POST %s$batch: the response has no answer for request %d (GET %s)", c.sanitize(c.base.String()), i, paths[i])
				}
				if r.Status >= 200 && r.Status < 300 {
					results[i] = r.Body
					continue
				}
				h := http.Header{}
				for k, v := range r.Headers {
					h.Set(k, v)
				}
				gerr := newError(c.secrets.Load(), http.MethodGet, c.sanitize(c.base.String()+paths[i]), r.Status, h, innerBody(r.Body))
				gerr.Attempts = round
				switch r.Status {
				case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusGatewayTimeout, http.StatusFailedDependency:
				default:
					return nil, gerr
				}
				ra, ok := parseRetryAfter(h.Get("Retry-After"), c.now())
				if ok {
					gerr.RetryAfter = ra
					hasWait = true
					wait = max(wait, ra)
				}
				pause = pause || r.Status == http.StatusTooManyRequests || r.Status == http.StatusServiceUnavailable && ok
				retry = append(retry, i)
				retryErr = gerr
			}
		}
		if len(retry) == 0 {
			break
		}
		if round > c.maxRetries {
			return nil, retryErr
		}
		if !hasWait {
			wait = c.backoff(round)
		}
		if pause {
			c.pauseHost(wait)
		}
		if err := c.wait(ctx, wait, hasWait, retryErr); err != nil {
			return nil, err
		}
		pending = retry
	}
	return results, nil
}

// sendBatch posts one $batch for the requests idx (indices into paths, which
// double as request ids) and returns the answers by id.
func (c *Client) sendBatch(ctx context.Context, paths []string, idx []int, headers map[string]string) (map[string]batchResponse, error) {
	reqs := make([]batchRequest, len(idx))
	for j, i := range idx {
		reqs[j] = batchRequest{ID: strconv.Itoa(i), Method: http.MethodGet, URL: "/" + paths[i], Headers: headers}
	}
	body, err := graph.MarshalNoEscape(map[string]any{"requests": reqs})
	if err != nil {
		return nil, err
	}
	var out struct {
		Responses []batchResponse `json:"responses"`
	}
	// A batch of GETs changes nothing, so it is as safe to repeat as a GET.
	if _, err := c.doJSON(ctx, call{method: http.MethodPost, url: c.base.String() + "$batch", body: body, idempotent: true}, &out); err != nil {
		return nil, err
	}
	m := make(map[string]batchResponse, len(out.Responses))
	for _, r := range out.Responses {
		m[r.ID] = r
	}
	return m, nil
}

// innerBody returns a sub-response body as bytes: JSON as is, a JSON string
// (Graph base64-encodes non-JSON bodies) as its text.
func innerBody(b json.RawMessage) []byte {
	var s string
	if json.Unmarshal(b, &s) == nil {
		return []byte(s)
	}
	return b
}

// batchCollect runs GET paths through $batch and gathers the items of every
// resulting collection, following nextLinks (directly, outside the batch).
func batchCollect[T any](ctx context.Context, c *Client, paths []string) ([]*T, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	bodies, err := c.batchGet(ctx, paths)
	if err != nil {
		return nil, err
	}
	var all []*T
	for i, b := range bodies {
		var p page[T]
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, fmt.Errorf("decoding the $batch answer to GET %s: %w", paths[i], c.scrubErr(err))
		}
		for _, v := range p.Value {
			if v != nil {
				all = append(all, v)
			}
		}
		if p.NextLink == "" {
			continue
		}
		u, err := url.Parse(p.NextLink)
		if err != nil || !c.sameOrigin(u) {
			return nil, fmt.Errorf("following @odata.nextLink %s: %w", c.sanitize(p.NextLink), ErrForeignHost)
		}
		more, err := collect(listPages[T](ctx, c, p.NextLink))
		if err != nil {
			return nil, err
		}
		all = append(all, more...)
	}
	return all, nil
}
