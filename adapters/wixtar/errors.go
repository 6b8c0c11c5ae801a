package wixtar

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// Vendor is the vendor name reported by VendorDetail.
const Vendor = "wixtar"

// Operations named in errors.
const (
	OpToken             = "token"
	OpPointsUsageRecord = "points_usage_records"
)

// Sentinels. One with a Code matches an *APIError with that code; one
// without a Code matches by HTTP status. The API's own error bodies are not
// documented, so status sentinels are the dependable ones; the code
// sentinels are the OAuth 2.0 token endpoint errors (RFC 6749 §5.2).
var (
	ErrBadRequest   = &APIError{HTTPStatus: 400}
	ErrUnauthorized = &APIError{HTTPStatus: 401}
	ErrForbidden    = &APIError{HTTPStatus: 403}
	ErrNotFound     = &APIError{HTTPStatus: 404}
	ErrRateLimited  = &APIError{HTTPStatus: 429}

	ErrInvalidRequest       = &APIError{Code: "invalid_request"}
	ErrInvalidClient        = &APIError{Code: "invalid_client"}
	ErrInvalidGrant         = &APIError{Code: "invalid_grant"}
	ErrUnauthorizedClient   = &APIError{Code: "unauthorized_client"}
	ErrUnsupportedGrantType = &APIError{Code: "unsupported_grant_type"}
	ErrInvalidScope         = &APIError{Code: "invalid_scope"}
)

// APIError is an HTTP error status from the token endpoint or the API.
type APIError struct {
	// Op is OpToken or the endpoint name.
	Op string
	// HTTPStatus is the HTTP status.
	HTTPStatus int
	// Code is the vendor's error code from the body ("error" or "code"), or
	// "" if the body had none.
	Code string
	// Message is the vendor's description ("error_description", "message",
	// "msg"), or a prefix of the raw body.
	Message string
	// RetryAfterHint is the Retry-After header, if sent.
	RetryAfterHint time.Duration
}

// Error describes the answer.
func (e *APIError) Error() string {
	s := "wixtar"
	if e.Op != "" {
		s += " " + e.Op
	}
	s += ": HTTP " + strconv.Itoa(e.HTTPStatus)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is matches a target *APIError by Code when the target has one, otherwise
// by HTTPStatus.
func (e *APIError) Is(target error) bool {
	t, ok := target.(*APIError)
	if !ok {
		return false
	}
	if t.Code != "" {
		return t.Code == e.Code
	}
	return t.HTTPStatus != 0 && t.HTTPStatus == e.HTTPStatus
}

// Temporary reports whether retrying may help: for 408, 429 and 5xx. A 401
// that survived the client's one token refresh, and every other 4xx, is
// permanent.
func (e *APIError) Temporary() bool {
	return e.HTTPStatus == 408 || e.HTTPStatus == 429 || e.HTTPStatus >= 500
}

// RetryAfter returns the Retry-After hint, or 0.
func (e *APIError) RetryAfter() time.Duration { return e.RetryAfterHint }

// VendorDetail returns the vendor's own view of the error.
func (e *APIError) VendorDetail() (vendor string, httpStatus int, code, message string) {
	return Vendor, e.HTTPStatus, e.Code, e.Message
}

// TransportError means no usable answer: the connection failed, the request
// timed out or its context ended, or a success body could not be read or
// decoded.
type TransportError struct {
	// Op is OpToken or the endpoint name.
	Op string
	// HTTPStatus is the status received, or 0 if no response arrived.
	HTTPStatus int
	// Err is the cause; it is returned by Unwrap.
	Err error
}

// Error describes the failure.
func (e *TransportError) Error() string {
	s := "wixtar"
	if e.Op != "" {
		s += " " + e.Op
	}
	if e.HTTPStatus != 0 {
		s += fmt.Sprintf(": HTTP %d", e.HTTPStatus)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *TransportError) Unwrap() error { return e.Err }

// Is reports whether target is a *TransportError with the same HTTPStatus,
// or with HTTPStatus 0, which matches every transport error.
func (e *TransportError) Is(target error) bool {
	t, ok := target.(*TransportError)
	return ok && (t.HTTPStatus == 0 || t.HTTPStatus == e.HTTPStatus)
}

// Temporary is true when no response arrived (connection error, timeout,
// cancelled context) or the body was cut short, and false for a complete
// body that could not be decoded.
func (e *TransportError) Temporary() bool {
	switch {
	case e.HTTPStatus == 0:
		return true
	case e.Err == nil:
		return false
	case errors.Is(e.Err, io.ErrUnexpectedEOF),
		errors.Is(e.Err, context.DeadlineExceeded),
		errors.Is(e.Err, context.Canceled):
		return true
	}
	var ne net.Error
	return errors.As(e.Err, &ne)
}

// RetryAfter returns 0.
func (e *TransportError) RetryAfter() time.Duration { return 0 }

// VendorDetail returns the vendor name, the HTTP status (0 if none) and the
// cause as message.
func (e *TransportError) VendorDetail() (vendor string, httpStatus int, code, message string) {
	msg := ""
	if e.Err != nil {
		msg = e.Err.Error()
	}
	return Vendor, e.HTTPStatus, "", msg
}
