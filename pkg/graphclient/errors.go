package graphclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/arsync/arsync/pkg/graph"
)

// ErrForeignHost is returned, before anything is sent, when a URL the
// service handed back (an @odata.nextLink) points at a host other than
// the configured Graph host: the token must not go there.
var ErrForeignHost = errors.New("refusing to send the token to a host other than the configured Graph host")

// ErrResponseTooLarge is wrapped by the error for a response whose body is
// over the client's size limit (64 MiB).
var ErrResponseTooLarge = errors.New("response body too large")

// odataError is Graph's OData v4 error body.
type odataError struct {
	Error *struct {
		Code       string          `json:"code"`
		Message    string          `json:"message"`
		Target     string          `json:"target"`
		Details    json.RawMessage `json:"details"`
		InnerError json.RawMessage `json:"innerError"`
	} `json:"error"`
}

// odataDetail is one entry of an OData error's details array.
type odataDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Target  string `json:"target"`
}

// maxErrorDetails bounds the details[] entries kept from one answer.
const maxErrorDetails = 20

type innerError struct {
	Code            string          `json:"code"`
	Message         string          `json:"message"`
	Date            string          `json:"date"`
	RequestID       string          `json:"request-id"`
	ClientRequestID string          `json:"client-request-id"`
	InnerError      json.RawMessage `json:"innerError"`
}

// maxErrorText bounds how much of a non-JSON error body goes into a message.
const maxErrorText = 300

// newError builds an *Error from a response. Header values win for the ids
// Graph also puts in the body only when the body has none. Every field is
// text from the service: it is made one line, bounded, and scrubbed of
// sc's secrets (the token a misbehaving service or proxy may echo) before
// anything is cut, so no part of a secret survives.
func newError(sc *secretSet, method, rawURL string, status int, h http.Header, body []byte) *graph.Error {
	e := &graph.Error{
		StatusCode:      status,
		Method:          method,
		URL:             rawURL,
		RequestID:       h.Get("request-id"),
		ClientRequestID: h.Get("client-request-id"),
	}
	var oe odataError
	if err := json.Unmarshal(body, &oe); err == nil && oe.Error != nil {
		e.Code = oe.Error.Code
		e.Message = sc.clean(oe.Error.Message, maxErrorMessage)
		e.Target = oe.Error.Target
		var details []json.RawMessage
		if json.Unmarshal(oe.Error.Details, &details) == nil {
			for _, raw := range details {
				var d odataDetail
				if json.Unmarshal(raw, &d) != nil || d == (odataDetail{}) {
					continue
				}
				if len(e.Details) == maxErrorDetails {
					break
				}
				e.Details = append(e.Details, graph.ErrorDetail{
					Code: sc.clean(d.Code, maxErrorField), Message: sc.clean(d.Message, maxErrorText), Target: sc.clean(d.Target, maxErrorField),
				})
			}
		}
		var inner []string
		raw := oe.Error.InnerError
		// Walk nested innerError objects; the deepest code is the most specific.
		for depth := 0; len(raw) > 0 && depth < 8; depth++ {
			var ie innerError
			if json.Unmarshal(raw, &ie) != nil {
				break
			}
			if ie.Code != "" {
				e.InnerCode = ie.Code
			}
			// Kept once, and not when it only repeats the message.
			if m := strings.TrimSpace(ie.Message); m != "" && !slices.Contains(inner, m) && !sameMessage(m, oe.Error.Message) {
				inner = append(inner, m)
			}
			if e.RequestID == "" {
				e.RequestID = ie.RequestID
			}
			if e.ClientRequestID == "" {
				e.ClientRequestID = ie.ClientRequestID
			}
			if e.Date == "" {
				e.Date = ie.Date
			}
			raw = ie.InnerError
		}
		e.InnerMessage = sc.clean(strings.Join(inner, ": "), maxErrorMessage)
	} else {
		e.Message = bodyText(sc, body)
	}
	if e.Date == "" {
		e.Date = h.Get("Date")
	}
	for _, f := range []*string{&e.Code, &e.InnerCode, &e.Target, &e.RequestID, &e.ClientRequestID, &e.Date} {
		*f = sc.clean(*f, maxErrorField)
	}
	// The URL is the caller's, already sanitized; it is kept whole.
	e.URL = sc.scrub(e.URL)
	return e
}

// sameMessage reports whether two messages differ at most in spacing, case
// and a final period.
func sameMessage(a, b string) bool {
	norm := func(s string) string { return strings.TrimRight(strings.Join(strings.Fields(s), " "), ".") }
	return strings.EqualFold(norm(a), norm(b))
}

// bodyText turns a non-JSON body into a short, printable one-line message.
func bodyText(sc *secretSet, body []byte) string {
	if len(body) == 0 {
		return ""
	}
	if !utf8.Valid(body) {
		return fmt.Sprintf("non-text response body of %d bytes", len(body))
	}
	return sc.clean(string(body), maxErrorText)
}
