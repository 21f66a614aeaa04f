package graph

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Sentinels for the conditions callers branch on. A *Error answers
// errors.Is for the one that matches its status, so callers keep the detail
// (code, request-id) and can still write errors.Is(err, ErrNotFound).
var (
	ErrNotFound     = errors.New("not found")
	ErrThrottled    = errors.New("throttled")
	ErrUnauthorized = errors.New("unauthorized")
	ErrForbidden    = errors.New("forbidden")
	ErrConflict     = errors.New("conflict")
)

// Error is a Graph error response: any status outside 2xx, with what Graph
// said about it. Its message never contains a token.
type Error struct {
	StatusCode int
	Code       string // Graph's error code; may be empty (the access-review back end sends "")
	InnerCode  string // the most specific code of a nested innerError chain, if any
	Message    string
	// InnerMessage is what the innerError chain says beyond Message (its
	// messages, outermost first), and Details are the error's details[]:
	// where Graph puts the reason when Message is generic ("The request is
	// invalid."; docs/graph-behaviour.md#errors).
	InnerMessage    string
	Target          string
	Details         []ErrorDetail
	RequestID       string
	ClientRequestID string
	Date            string // innerError.date, else the Date header
	Method          string
	URL             string        // sanitized
	RetryAfter      time.Duration // what the last response asked for, if anything
	Attempts        int           // how many times the request was sent
}

// ErrorDetail is one entry of an error's details[]: code and message, and
// the part of the request it is about, if any.
type ErrorDetail struct {
	Code    string
	Message string
	Target  string
}

// maxDetailsShown bounds the details[] entries printed; the rest are counted.
const maxDetailsShown = 5

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d", e.Method, e.URL, e.StatusCode)
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteString(" " + t)
	}
	code, inner := oneLine(e.Code), oneLine(e.InnerCode)
	switch {
	case code != "" && inner != "" && inner != code:
		fmt.Fprintf(&b, " (code %s/%s)", code, inner)
	case code != "":
		fmt.Fprintf(&b, " (code %s)", code)
	default:
		b.WriteString(" (no error code)")
	}
	// One line, whatever the service put in its message.
	msg := strings.TrimRight(strings.Join(strings.Fields(e.Message), " "), ".")
	if msg == "" {
		msg = "no error message"
	}
	b.WriteString(": ")
	b.WriteString(msg)
	if t := oneLine(e.Target); t != "" {
		b.WriteString(" (target " + t + ")")
	}
	// The reason, when Graph gives it below a generic message.
	if inner := strings.TrimRight(oneLine(e.InnerMessage), "."); inner != "" && !strings.EqualFold(inner, msg) {
		b.WriteString(": " + inner)
	}
	if len(e.Details) > 0 {
		var ds []string
		for i, d := range e.Details {
			if i == maxDetailsShown {
				ds = append(ds, fmt.Sprintf("and %d more", len(e.Details)-i))
				break
			}
			ds = append(ds, d.String())
		}
		b.WriteString("; details: " + strings.Join(ds, "; "))
	}
	var ids []string
	if rid := oneLine(e.RequestID); rid != "" {
		ids = append(ids, "request-id "+rid)
	}
	if crid := oneLine(e.ClientRequestID); crid != "" && crid != oneLine(e.RequestID) {
		ids = append(ids, "client-request-id "+crid)
	}
	if date := oneLine(e.Date); date != "" {
		ids = append(ids, "date "+date)
	}
	if e.Attempts > 1 {
		ids = append(ids, fmt.Sprintf("after %d attempts", e.Attempts))
	}
	if e.RetryAfter > 0 {
		ids = append(ids, "retry after "+e.RetryAfter.String())
	}
	if len(ids) > 0 {
		b.WriteString(" [" + strings.Join(ids, ", ") + "]")
	}
	return b.String()
}

// String prints "code: message (target t)", leaving out what is empty.
func (d ErrorDetail) String() string {
	code, msg, target := oneLine(d.Code), strings.TrimRight(oneLine(d.Message), "."), oneLine(d.Target)
	s := msg
	if code != "" && msg != "" {
		s = code + ": " + msg
	} else if code != "" {
		s = code
	}
	if target != "" {
		s += " (target " + target + ")"
	}
	if s == "" {
		return "(empty)"
	}
	return s
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Is reports whether e matches one of the package sentinels.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrThrottled:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	}
	return false
}

// UnknownOutcomeError says a write may or may not have been carried out:
// the connection dropped after sending, the context ended while waiting for
// the answer, Graph answered 500, 502, 503, 504 or 408, or (for a create) a
// success whose body does not name what was made. A create (POST) was not
// repeated; a DELETE was retried as far as that is safe and still ended
// this way. The caller must find out (for a create: list and look for its
// marker; for a delete: read the definition) before going on.
type UnknownOutcomeError struct {
	Method string
	URL    string // sanitized
	Err    error  // the *Error or transport error that left the outcome open
}

func (e *UnknownOutcomeError) Error() string {
	if e.Method == http.MethodPost {
		return fmt.Sprintf("%s %s: outcome unknown, the request may have been carried out and was not repeated: %v", e.Method, e.URL, e.Err)
	}
	return fmt.Sprintf("%s %s: outcome unknown, the request may have been carried out: %v", e.Method, e.URL, e.Err)
}

func (e *UnknownOutcomeError) Unwrap() error { return e.Err }

// IsNotFound reports whether err is a Graph 404.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsThrottled reports whether err is a Graph 429 (after the client's own retries).
func IsThrottled(err error) bool { return errors.Is(err, ErrThrottled) }

// IsForbidden reports whether err is a Graph 403 (missing permission, role or licence).
func IsForbidden(err error) bool { return errors.Is(err, ErrForbidden) }

// IsConflict reports whether err is a Graph 409.
func IsConflict(err error) bool { return errors.Is(err, ErrConflict) }

// IsUnknownOutcome reports whether err leaves open whether a write happened.
func IsUnknownOutcome(err error) bool {
	var u *UnknownOutcomeError
	return errors.As(err, &u)
}
