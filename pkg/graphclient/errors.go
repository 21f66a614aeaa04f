package graphclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
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
		InnerError json.RawMessage `json:"innerError"`
	} `json:"error"`
}

type innerError struct {
	Code            string          `json:"code"`
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
	} else {
		e.Message = bodyText(sc, body)
	}
	if e.Date == "" {
		e.Date = h.Get("Date")
	}
	for _, f := range []*string{&e.Code, &e.InnerCode, &e.RequestID, &e.ClientRequestID, &e.Date} {
		*f = sc.clean(*f, maxErrorField)
	}
	// The URL is the caller's, already sanitized; it is kept whole.
	e.URL = sc.scrub(e.URL)
	return e
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
