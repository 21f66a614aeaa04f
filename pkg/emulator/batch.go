package emulator

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// maxBatch is Graph's limit of requests in one $batch.
const maxBatch = 20

type batchItem struct {
	id        string
	method    string
	url       string
	header    http.Header
	body      []byte
	dependsOn []string
}

// batch answers POST $batch (docs/graph-behaviour.md#batching): the batch is
// checked as a whole (at most 20 requests, unique ids, known dependencies,
// a Content-Type with every body), then each request runs through the same
// handlers, faults included, in dependency order. A request whose
// dependency failed gets 424.
func (s *Server) batch(ctx context.Context, rc *reqCtx, req *request) *response {
	in, gerr := decodeBody(req.body)
	if gerr != nil {
		return rc.fail(gerr)
	}
	items, gerr := parseBatch(in)
	if gerr != nil {
		return rc.fail(gerr)
	}
	order, gerr := batchOrder(items)
	if gerr != nil {
		return rc.fail(gerr)
	}

	status := map[string]int{}
	results := map[string]*object{}
	for _, it := range order {
		var resp *response
		irc := *rc
		irc.inBatch = true
		failedDep := ""
		for _, d := range it.dependsOn {
			if st := status[strings.ToLower(d)]; st >= 400 {
				failedDep = d
				break
			}
		}
		path, rawQuery, _ := strings.Cut(strings.TrimPrefix(it.url, "/"), "?")
		switch {
		case failedDep != "":
			resp = irc.fail(errorf(http.StatusFailedDependency, codeFailedDependency, "The request depends on request '%s', which failed.", failedDep))
		default:
			resp = s.serveBatchItem(ctx, &irc, it, path, rawQuery)
		}
		status[strings.ToLower(it.id)] = resp.status
		results[strings.ToLower(it.id)] = batchResult(it.id, resp)

		s.mu.Lock()
		s.requests = append(s.requests, RequestRecord{Method: it.method, Path: "/" + rc.version + "/" + path,
			Query: rawQuery, Status: resp.status, Batch: true, Fault: resp.fault})
		s.mu.Unlock()
	}
	out := make([]any, 0, len(items))
	for _, it := range items {
		out = append(out, results[strings.ToLower(it.id)])
	}
	return jsonResponse(http.StatusOK, marshal(newObject().set("responses", out)))
}

func (s *Server) serveBatchItem(ctx context.Context, rc *reqCtx, it *batchItem, path, rawQuery string) *response {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return rc.fail(badRequest("The query string of request '%s' is malformed: %v", it.id, err))
	}
	decoded, err := url.PathUnescape(path)
	if err != nil {
		return rc.fail(badRequest("The URL of request '%s' is malformed: %v", it.id, err))
	}
	h := it.header.Clone()
	h.Set("Authorization", rc.authz)
	ireq := &request{
		method:   it.method,
		path:     decoded,
		escPath:  path,
		segs:     splitPath(decoded),
		query:    q,
		rawQuery: rawQuery,
		header:   h,
		body:     it.body,
	}
	return s.serve(ctx, rc, ireq)
}

// batchResult renders one entry of "responses".
func batchResult(id string, resp *response) *object {
	headers := newObject()
	keys := make([]string, 0, len(resp.header))
	for k := range resp.header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		headers.set(k, resp.header.Get(k))
	}
	status := resp.status
	if resp.drop {
		status = http.StatusGatewayTimeout
	}
	out := newObject().set("id", id).set("status", status).set("headers", headers)
	if len(resp.body) > 0 {
		if v, err := decodeJSON(bytes.NewReader(resp.body)); err == nil {
			out.set("body", v)
		} else {
			out.set("body", base64.StdEncoding.EncodeToString(resp.body))
		}
	}
	return out
}

var batchMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead}

func parseBatch(in *object) ([]*batchItem, *graphError) {
	for _, k := range in.keys {
		if k != "requests" && !strings.HasPrefix(k, "@") {
			return nil, badRequest("Invalid batch payload: unexpected property '%s'.", k)
		}
	}
	reqs, ok, gerr := optArray(in, "requests", "")
	if gerr != nil {
		return nil, gerr
	}
	if !ok || len(reqs) == 0 {
		return nil, badRequest("Invalid batch payload: 'requests' must hold at least one request.")
	}
	if len(reqs) > maxBatch {
		return nil, badRequest("Invalid batch payload: a batch holds at most %d requests (got %d).", maxBatch, len(reqs))
	}
	var items []*batchItem
	seen := map[string]bool{}
	for i, v := range reqs {
		o, ok := v.(*object)
		if !ok {
			return nil, badRequest("Invalid batch payload: requests[%d] must be an object.", i)
		}
		it := &batchItem{header: http.Header{}}
		for _, k := range o.keys {
			switch k {
			case "id", "method", "url", "headers", "body", "dependsOn":
			default:
				return nil, badRequest("Invalid batch payload: requests[%d] has an unexpected property '%s'.", i, k)
			}
		}
		var gerr *graphError
		if it.id, ok, gerr = optString(o, "id", "requests"); gerr != nil {
			return nil, gerr
		} else if !ok || it.id == "" {
			return nil, badRequest("Invalid batch payload: requests[%d] needs an id.", i)
		}
		if seen[strings.ToLower(it.id)] {
			return nil, badRequest("Invalid batch payload: the id '%s' is used by more than one request.", it.id)
		}
		seen[strings.ToLower(it.id)] = true
		m, _, gerr := optString(o, "method", "requests")
		if gerr != nil {
			return nil, gerr
		}
		it.method = strings.ToUpper(m)
		if !slices.Contains(batchMethods, it.method) {
			return nil, badRequest("Invalid batch payload: request '%s' has an invalid method '%s'.", it.id, m)
		}
		if it.url, ok, gerr = optString(o, "url", "requests"); gerr != nil {
			return nil, gerr
		} else if !ok || strings.TrimSpace(it.url) == "" {
			return nil, badRequest("Invalid batch payload: request '%s' needs a url.", it.id)
		}
		if u, err := url.Parse(it.url); err != nil || u.IsAbs() || u.Host != "" {
			return nil, badRequest("Invalid batch payload: the url of request '%s' must be relative to the version root, e.g. /users.", it.id)
		}
		if h, ok, gerr := optObject(o, "headers", "requests"); gerr != nil {
			return nil, gerr
		} else if ok {
			for _, k := range h.keys {
				sv, isStr := h.vals[k].(string)
				if !isStr {
					return nil, badRequest("Invalid batch payload: header '%s' of request '%s' must be a string.", k, it.id)
				}
				it.header.Set(k, sv)
			}
		}
		if body, present := o.get("body"); present && body != nil {
			ct := strings.ToLower(it.header.Get("Content-Type"))
			if ct == "" {
				return nil, badRequest("Invalid batch payload: request '%s' has a body but no Content-Type header.", it.id)
			}
			if s, isStr := body.(string); isStr && !strings.Contains(ct, "json") {
				b, err := base64.StdEncoding.DecodeString(s)
				if err != nil {
					return nil, badRequest("Invalid batch payload: the body of request '%s' is not valid base64.", it.id)
				}
				it.body = b
			} else {
				it.body = marshal(body)
			}
		}
		if d, ok, gerr := optArray(o, "dependsOn", "requests"); gerr != nil {
			return nil, gerr
		} else if ok {
			deps, gerr := stringList(d, "dependsOn")
			if gerr != nil {
				return nil, gerr
			}
			it.dependsOn = deps
		}
		items = append(items, it)
	}
	for _, it := range items {
		for _, d := range it.dependsOn {
			if !seen[strings.ToLower(d)] {
				return nil, badRequest("Invalid batch payload: request '%s' depends on '%s', which is not in the batch.", it.id, d)
			}
			if strings.EqualFold(d, it.id) {
				return nil, badRequest("Invalid batch payload: request '%s' depends on itself.", it.id)
			}
		}
	}
	return items, nil
}

// batchOrder runs requests after their dependencies, otherwise in the
// order given.
func batchOrder(items []*batchItem) ([]*batchItem, *graphError) {
	done := map[string]bool{}
	var order []*batchItem
	for len(order) < len(items) {
		progress := false
		for _, it := range items {
			if done[strings.ToLower(it.id)] {
				continue
			}
			ready := true
			for _, d := range it.dependsOn {
				if !done[strings.ToLower(d)] {
					ready = false
					break
				}
			}
			if ready {
				done[strings.ToLower(it.id)] = true
				order = append(order, it)
				progress = true
			}
		}
		if !progress {
			return nil, badRequest("Invalid batch payload: the dependsOn references form a cycle.")
		}
	}
	return order, nil
}
