package graphclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/arsync/arsync/pkg/graph"
)

const definitionsPath = "identityGovernance/accessReviews/definitions"

// listQuery renders the options as a query string ("" or "?...").
func listQuery(o *graph.ListOptions) (string, error) {
	if o == nil {
		return "", nil
	}
	var parts []string
	if o.Filter != "" {
		parts = append(parts, "$filter="+escapeQuery(o.Filter))
	}
	if o.Top < 0 {
		return "", fmt.Errorf("invalid list options: $top must not be negative (got %d)", o.Top)
	}
	if o.Top > 0 {
		parts = append(parts, "$top="+strconv.Itoa(o.Top))
	}
	if len(o.Select) > 0 {
		parts = append(parts, "$select="+escapeQuery(strings.Join(o.Select, ",")))
	}
	if o.OrderBy != "" {
		parts = append(parts, "$orderby="+escapeQuery(o.OrderBy))
	}
	if o.Count {
		parts = append(parts, "$count=true")
	}
	if len(parts) == 0 {
		return "", nil
	}
	return "?" + strings.Join(parts, "&"), nil
}

// escapeQuery escapes a query value with %20 for spaces: OData services
// differ on whether "+" means a space.
func escapeQuery(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// page is one page of a Graph collection, decoded whole.
type page[T any] struct {
	Value    []*T   `json:"value"`
	NextLink string `json:"@odata.nextLink"`
}

// rawPage is one page of a Graph collection with its items not yet
// decoded: finding the nextLink then costs a scan, so the next page can be
// on its way while this one's items are decoded and consumed.
type rawPage struct {
	Value    []json.RawMessage `json:"value"`
	NextLink string            `json:"@odata.nextLink"`
}

// maxEmptyPages is how many empty pages in a row end a list: Graph may
// send an empty page with a nextLink (docs/graph-behaviour.md#paging),
// but not page after page of them.
const maxEmptyPages = 50

// listPages iterates a collection, following @odata.nextLink as an opaque
// URL until it is absent. The next page is requested as soon as the
// current one has arrived, so decoding and consuming a page overlaps the
// round trip of the next (stopping the loop early cancels that request).
//
// A list always ends, with an error after the items read so far, when
// the service's paging does not: a nextLink to another host
// (ErrForeignHost, before anything is sent there), a nextLink to a page
// already read, a page with the same items as an earlier one,
// maxEmptyPages empty pages in a row, or more than the client's MaxPages
// pages. None of them sends a request past the page that showed it.
func listPages[T any](ctx context.Context, c *Client, first string) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		type fetched struct {
			page rawPage
			err  error
		}
		fetch := func(u string) <-chan fetched {
			ch := make(chan fetched, 1)
			go func() {
				var p rawPage
				_, err := c.doJSON(ctx, call{method: http.MethodGet, url: u, idempotent: true}, &p)
				ch <- fetched{p, err}
			}()
			return ch
		}
		seen := map[string]int{first: 1} // URL -> its page number
		seed := maphash.MakeSeed()
		pageOf := map[uint64]int{} // items' hash -> page number
		empty := 0                 // empty pages in a row
		current, pending := first, fetch(first)
		stop := func(format string, args ...any) error {
			return fmt.Errorf("GET %s: %s", c.sanitize(current), fmt.Sprintf(format, args...))
		}
		loop := func(n, back int) error {
			if back == n {
				return stop("the service returned a nextLink to a page already read (page %d links to itself)", n)
			}
			return stop("the service returned a nextLink to a page already read (page %d links back to page %d)", n, back)
		}
		for n := 1; pending != nil; n++ {
			f := <-pending
			pending = nil
			if f.err != nil {
				yield(nil, f.err)
				return
			}
			items := f.page.Value[:0:0]
			var h maphash.Hash
			h.SetSeed(seed)
			for _, raw := range f.page.Value {
				if string(bytes.TrimSpace(raw)) != "null" {
					items = append(items, raw)
					h.Write(raw)
					h.WriteByte(0)
				}
			}
			if len(items) > 0 {
				sum := h.Sum64()
				if p, ok := pageOf[sum]; ok {
					// Its items were delivered with the page it repeats. A
					// nextLink back to a page read says more exactly why.
					if back := seen[f.page.NextLink]; back > 0 {
						yield(nil, loop(n, back))
						return
					}
					yield(nil, stop("page %d repeats page %d (the same items): the service's paging does not advance", n, p))
					return
				}
				pageOf[sum] = n
				empty = 0
			} else {
				empty++
			}
			// Check, and request, the next page before this one's items.
			var nextErr error
			if next := f.page.NextLink; next != "" {
				u, err := url.Parse(next)
				switch {
				case err != nil || !c.sameOrigin(u):
					nextErr = fmt.Errorf("following @odata.nextLink %s: %w", c.sanitize(next), ErrForeignHost)
				case seen[next] > 0:
					nextErr = loop(n, seen[next])
				case empty >= maxEmptyPages:
					nextErr = stop("stopped after %d empty pages in a row: the service keeps sending nextLinks without items", empty)
				case n >= c.maxPages:
					nextErr = stop("stopped after %d pages, the most one list may take: the service keeps sending nextLinks", n)
				default:
					seen[next] = n + 1
					pending = fetch(next)
				}
			}
			for _, raw := range items {
				v := new(T)
				if err := json.Unmarshal(raw, v); err != nil {
					yield(nil, fmt.Errorf("decoding the response to GET %s: %w", c.sanitize(current), c.scrubErr(err)))
					return
				}
				if !yield(v, nil) {
					return
				}
			}
			if nextErr != nil {
				yield(nil, nextErr)
				return
			}
			current = f.page.NextLink
		}
	}
}

// collect drains a sequence into a slice, stopping at the first error.
func collect[T any](seq iter.Seq2[*T, error]) ([]*T, error) {
	var out []*T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (c *Client) listURL(path string, opts *graph.ListOptions) (string, error) {
	q, err := listQuery(opts)
	if err != nil {
		return "", err
	}
	return c.base.String() + path + q, nil
}

func errSeq[T any](err error) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) { yield(nil, err) }
}

func checkID(what, id string) error {
	if strings.TrimSpace(id) == "" {
		return fmt.Errorf("empty %s id", what)
	}
	return nil
}

// ListDefinitions iterates over the access review definitions, all pages.
// Stopping the loop early stops the paging.
//
// Graph API docs: https://learn.microsoft.com/graph/api/accessreviewset-list-definitions?view=graph-rest-1.0
func (c *Client) ListDefinitions(ctx context.Context, opts *graph.ListOptions) iter.Seq2[*graph.Definition, error] {
	u, err := c.listURL(definitionsPath, opts)
	if err != nil {
		return errSeq[graph.Definition](err)
	}
	return listPages[graph.Definition](ctx, c, u)
}

// AllDefinitions returns every access review definition.
func (c *Client) AllDefinitions(ctx context.Context) ([]*graph.Definition, error) {
	defs, err := collect(c.ListDefinitions(ctx, nil))
	if err != nil {
		return nil, fmt.Errorf("listing access review definitions: %w", err)
	}
	return defs, nil
}

// GetDefinition returns one definition. A missing one is an *Error for
// which IsNotFound is true.
//
// Graph API docs: https://learn.microsoft.com/graph/api/accessreviewscheduledefinition-get?view=graph-rest-1.0
func (c *Client) GetDefinition(ctx context.Context, id string) (*graph.Definition, error) {
	if err := checkID("definition", id); err != nil {
		return nil, err
	}
	var d graph.Definition
	if _, err := c.doJSON(ctx, call{method: http.MethodGet, url: c.definitionURL(id), idempotent: true}, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// CreateDefinition creates a definition and returns it as Graph stored it.
//
// A create is never repeated once it may have reached the service: it is
// retried only after 429 (the service did not carry it out) or a failure to
// connect. A dropped connection, a timeout, a cancelled context while
// waiting for the answer, or a 500/502/503/504/408 returns an
// *UnknownOutcomeError: the caller must look for the definition (by its
// marker) before creating it again. So does a 2xx answer whose body does
// not name the new definition (not JSON, or no id): it was made, but which
// one it is can only be found by its marker.
//
// Graph API docs: https://learn.microsoft.com/graph/api/accessreviewset-post-definitions?view=graph-rest-1.0
func (c *Client) CreateDefinition(ctx context.Context, d *graph.Definition) (*graph.Definition, error) {
	if d == nil {
		return nil, errors.New("creating a definition: nil definition")
	}
	body, err := graph.MarshalNoEscape(d)
	if err != nil {
		return nil, fmt.Errorf("encoding definition %q: %w", d.DisplayName, err)
	}
	u := c.base.String() + definitionsPath
	resp, err := c.send(ctx, call{method: http.MethodPost, url: u, body: body})
	if err != nil {
		return nil, err
	}
	unknown := func(err error) error {
		return &graph.UnknownOutcomeError{Method: http.MethodPost, URL: c.sanitize(u), Err: err}
	}
	var out graph.Definition
	if b := bytes.TrimSpace(resp.body); len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			return nil, unknown(fmt.Errorf("the service answered %d with a body that is not a definition: %w", resp.StatusCode, err))
		}
	}
	if strings.TrimSpace(out.ID) == "" {
		return nil, unknown(fmt.Errorf("the service answered %d without the created definition's id", resp.StatusCode))
	}
	return &out, nil
}

// UpdateDefinition replaces definition id with d (PUT of the whole object,
// minus read-only properties, see Definition.UpdateBody). When d was read
// from Graph and then changed, the body is what was read with d's changes
// laid over it, so the properties arsync leaves alone go back as Graph
// returned them (docs/graph-behaviour.md#put-not-patch). Graph answers 204;
// 200 is accepted too.
//
// Graph API docs: https://learn.microsoft.com/graph/api/accessreviewscheduledefinition-update?view=graph-rest-1.0
func (c *Client) UpdateDefinition(ctx context.Context, id string, d *graph.Definition) error {
	if err := checkID("definition", id); err != nil {
		return err
	}
	if d == nil {
		return fmt.Errorf("updating definition %s: nil definition", id)
	}
	if d.ID != "" && d.ID != id {
		return fmt.Errorf("updating definition %s: the body carries a different id (%s)", id, d.ID)
	}
	b := d.UpdateBody()
	b.ID = id
	body, err := graph.MarshalNoEscape(b)
	if err != nil {
		return fmt.Errorf("encoding definition %s: %w", id, err)
	}
	_, err = c.send(ctx, call{method: http.MethodPut, url: c.definitionURL(id), body: body, idempotent: true})
	return err
}

// DeleteDefinition deletes a definition. A 404 on the first attempt is an
// *Error (IsNotFound); a 404 after an attempt that may have deleted it
// (a 500, 502, 503 or 504, or a dropped connection) counts as done.
//
// Any other 4xx answer means nothing was deleted. Every other failure left
// by the retries (408, a 500/502/503/504 or a dropped connection on the
// last attempt, the context ending while a request was out) may come after
// the service carried the delete out, so it is an *UnknownOutcomeError: the
// caller checks whether the definition is gone (GetDefinition: a 404).
//
// Graph API docs: https://learn.microsoft.com/graph/api/accessreviewscheduledefinition-delete?view=graph-rest-1.0
func (c *Client) DeleteDefinition(ctx context.Context, id string) error {
	if err := checkID("definition", id); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err // nothing was sent
	}
	u := c.definitionURL(id)
	_, err := c.send(ctx, call{method: http.MethodDelete, url: u, idempotent: true, goneIsDone: true})
	if err == nil || !deleteMayBeDone(err) {
		return err
	}
	return &graph.UnknownOutcomeError{Method: http.MethodDelete, URL: c.sanitize(u), Err: err}
}

// deleteMayBeDone reports whether a DELETE that failed with err may still
// have been carried out: anything but a 4xx answer (other than 408) or a
// refusal before sending may.
func deleteMayBeDone(err error) bool {
	if errors.Is(err, ErrForeignHost) {
		return false
	}
	if se := (*setupError)(nil); errors.As(err, &se) {
		return se.sent // a failed handshake sent nothing
	}
	var ge *graph.Error
	if errors.As(err, &ge) {
		s := ge.StatusCode
		return !(s >= 400 && s < 500 && s != http.StatusRequestTimeout)
	}
	return true
}

func (c *Client) definitionURL(id string) string {
	return c.base.String() + definitionsPath + "/" + url.PathEscape(id)
}
