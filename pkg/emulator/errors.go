package emulator

import (
	"fmt"
	"net/http"
)

// graphError is an error answer in Graph's shape. Handlers return it; the
// server adds innerError (date, request-id, client-request-id).
type graphError struct {
	status  int
	code    string
	message string
	header  http.Header // extra response headers, e.g. Retry-After
}

func (e *graphError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.status, e.code, e.message)
}

func errorf(status int, code, format string, args ...any) *graphError {
	return &graphError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// Error codes. Graph's codes differ by back end: the access-review service
// uses plain names, the directory uses Request_* codes, and the
// access-review input validator answers some rule violations with an empty
// code (see the package documentation).
const (
	codeBadRequest        = "BadRequest"
	codeInvalidAuth       = "InvalidAuthenticationToken"
	codeForbidden         = "Forbidden"
	codeAuthDenied        = "Authorization_RequestDenied"
	codeNotFound          = "ResourceNotFound"
	codeDirNotFound       = "Request_ResourceNotFound"
	codeDirBadRequest     = "Request_BadRequest"
	codeDirUnsupported    = "Request_UnsupportedQuery"
	codeTooMany           = "TooManyRequests"
	codeUnavailable       = "ServiceUnavailable"
	codeGatewayTimeout    = "GatewayTimeout"
	codeGeneral           = "generalException"
	codeFailedDependency  = "FailedDependency"
	codeTooLarge          = "RequestEntityTooLarge"
	codeUnsupportedMedia  = "UnsupportedMediaType"
	codeAccessReviewInput = "" // the access-review validator's empty code
)

// inputError is a rule violation reported the way the access-review back end
// does: 400 with an empty code.
func inputError(format string, args ...any) *graphError {
	return &graphError{status: http.StatusBadRequest, code: codeAccessReviewInput,
		message: "Invalid Access Reviews input data exception. " + fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *graphError {
	return errorf(http.StatusBadRequest, codeBadRequest, format, args...)
}

// errorBody renders e with Graph's innerError.
func (rc *reqCtx) errorBody(e *graphError) []byte {
	inner := newObject().
		set("date", rc.now.UTC().Format("2006-01-02T15:04:05")).
		set("request-id", rc.requestID).
		set("client-request-id", rc.clientRequestID)
	body := newObject().set("error", newObject().
		set("code", e.code).
		set("message", e.message).
		set("innerError", inner))
	return marshal(body)
}
