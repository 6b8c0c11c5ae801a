package shuyun

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// VendorName is the vendor name reported by VendorDetail.
const VendorName = "shuyun"

// Sentinel errors, matched with errors.Is through (*APIError).Is.
var (
	// ErrParam matches the vendor's parameter error, code 010407 "参数异常". The vendor and the
	// simulator also answer it for a missing X-Business-Token.
	ErrParam = &APIError{Code: "010407", Desc: "参数异常"}
	// ErrUnauthorized matches a gateway 401: missing or wrong client_id/client_secret.
	ErrUnauthorized = &APIError{HTTPStatus: http.StatusUnauthorized}
	// ErrRateLimited matches a gateway 429.
	ErrRateLimited = &APIError{HTTPStatus: http.StatusTooManyRequests}
)

// ErrEmptyToken is returned, wrapped, when a call needing X-Business-Token or
// X-Request-Sequence gets an empty token. Nothing is sent. It is permanent: it has no
// Temporary method.
var ErrEmptyToken = errors.New("shuyun: empty idempotency token")

// APIError is an answer from Shuyun or its MuleSoft gateway that is not a success.
//
// It has three shapes: a Shuyun business error (Module, Service, Code, Desc, URI from the
// {module, service, code, desc, uri} body, at whatever HTTP status), a coupon refusal (HTTP 200
// with success:false; Msg holds the reason), and a gateway or HTTP error (Code empty; Desc holds
// the gateway's description or the body text).
type APIError struct {
	// Op names the operation, e.g. "freeze points".
	Op string
	// HTTPStatus is the HTTP status code of the answer.
	HTTPStatus int
	// Module, Service, Code, Desc and URI are the fields of a Shuyun error body. Code is a
	// six-digit string such as "010407". For gateway errors Desc holds the description.
	Module, Service, Code, Desc, URI string
	// Msg is the reason of a coupon answer with success:false.
	Msg string
	// RetryAfterHint is how long the gateway asked to wait, from Retry-After (seconds or an
	// HTTP date) or else X-Ratelimit-Reset (read as milliseconds, as MuleSoft's rate-limiting
	// policy documents it), on 429 and 5xx answers. Zero when absent.
	RetryAfterHint time.Duration
}

// Error describes the failure in lower case with the operation and code.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("shuyun")
	if e.Op != "" {
		b.WriteString(": " + e.Op)
	}
	switch {
	case e.Msg != "" || (e.HTTPStatus >= 200 && e.HTTPStatus < 300 && e.Code == ""):
		b.WriteString(": refused")
		if e.Msg != "" {
			b.WriteString(": " + e.Msg)
		}
		if e.Desc != "" {
			b.WriteString(": " + e.Desc)
		}
		return b.String()
	case e.HTTPStatus != 0:
		fmt.Fprintf(&b, ": http %d", e.HTTPStatus)
	}
	if e.Code != "" {
		b.WriteString(": code " + e.Code)
	}
	if e.Desc != "" {
		b.WriteString(": " + e.Desc)
	}
	return b.String()
}

// Temporary reports whether retrying the same request may succeed: true for 408, 429 and 5xx
// gateway answers (including MuleSoft 502 and 504), false for a Shuyun error body at any status,
// a coupon success:false and every other status.
func (e *APIError) Temporary() bool {
	if e.Code != "" || e.Module != "" || e.Msg != "" {
		return false
	}
	return e.HTTPStatus == http.StatusRequestTimeout ||
		e.HTTPStatus == http.StatusTooManyRequests ||
		e.HTTPStatus >= 500
}

// RetryAfter returns how long the gateway asked the caller to wait, or zero.
func (e *APIError) RetryAfter() time.Duration { return e.RetryAfterHint }

// VendorDetail returns "shuyun", the HTTP status, the body's code (or empty) and the vendor's
// message: desc, msg or the gateway's text.
func (e *APIError) VendorDetail() (vendor string, httpStatus int, code, message string) {
	msg := e.Desc
	if e.Msg != "" {
		msg = e.Msg
	}
	return VendorName, e.HTTPStatus, e.Code, msg
}

// Is reports whether target is an *APIError with the same Code, or, when target has no Code,
// the same non-zero HTTPStatus. It makes errors.Is(err, ErrParam) work.
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

// TransportError is a call that got no usable answer: a timeout, a refused or reset
// connection, or a connection dropped before the response. The vendor may or may not have
// applied the request, so it is always temporary: retry with the same idempotency token.
// A cancellation by the caller stays visible through errors.Is(err, context.Canceled).
type TransportError struct {
	// Op names the operation, e.g. "freeze points".
	Op string
	// Err is the underlying error.
	Err error
}

// Error describes the failure in lower case.
func (e *TransportError) Error() string { return "shuyun: " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *TransportError) Unwrap() error { return e.Err }

// Temporary is always true: the outcome is unknown and a retry with the same token is safe.
func (e *TransportError) Temporary() bool { return true }

// Timeout reports whether the call ran out of time.
func (e *TransportError) Timeout() bool {
	var ne net.Error
	return errors.Is(e.Err, context.DeadlineExceeded) || (errors.As(e.Err, &ne) && ne.Timeout())
}

// VendorDetail returns "shuyun", status 0, no code and the error text.
func (e *TransportError) VendorDetail() (vendor string, httpStatus int, code, message string) {
	return VendorName, 0, "", e.Err.Error()
}

// errorBody is the union of the error bodies seen from Shuyun and MuleSoft.
type errorBody struct {
	Module      string     `json:"module"`
	Service     string     `json:"service"`
	Code        flexString `json:"code"`
	Desc        string     `json:"desc"`
	URI         string     `json:"uri"`
	Error       string     `json:"error"`       // MuleSoft
	Description string     `json:"description"` // MuleSoft
	Message     string     `json:"message"`     // other gateways
}

// business reports whether the body is a Shuyun business error.
func (b errorBody) business() bool { return b.Module != "" || b.Code != "" }

// classify returns nil for a success answer, otherwise the *APIError it carries.
func (c *Client) classify(op string, resp *http.Response, body []byte) error {
	status := resp.StatusCode
	trimmed := bytes.TrimSpace(body)
	var eb errorBody
	decoded := len(trimmed) > 0 && trimmed[0] == '{' && json.Unmarshal(trimmed, &eb) == nil
	success := status >= 200 && status < 300
	if success && !(decoded && eb.business()) {
		return nil
	}
	e := &APIError{Op: op, HTTPStatus: status}
	switch {
	case decoded && eb.business():
		e.Module, e.Service, e.Code, e.Desc, e.URI = eb.Module, eb.Service, string(eb.Code), eb.Desc, eb.URI
	case decoded && (eb.Error != "" || eb.Description != "" || eb.Message != ""):
		e.Desc = joinNonEmpty(": ", eb.Error, eb.Description, eb.Message)
	default:
		e.Desc = excerpt(trimmed)
		if e.Desc == "" {
			e.Desc = strings.ToLower(http.StatusText(status))
		}
	}
	e.Desc = scrub(e.Desc, c.secret)
	if status == http.StatusTooManyRequests || status >= 500 {
		e.RetryAfterHint = retryAfter(resp.Header, time.Now())
	}
	return e
}

// retryAfter reads Retry-After (seconds or HTTP date), else X-Ratelimit-Reset (milliseconds).
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if s, err := strconv.ParseInt(v, 10, 64); err == nil && s >= 0 {
			return time.Duration(s) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	if v := strings.TrimSpace(h.Get("X-Ratelimit-Reset")); v != "" {
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms >= 0 {
			return time.Duration(ms) * time.Millisecond
		}
	}
	return 0
}

// excerpt returns at most 256 bytes of body as valid UTF-8 text.
func excerpt(body []byte) string {
	const limit = 256
	if len(body) > limit {
		body = body[:limit]
		for len(body) > 0 && !utf8.Valid(body) {
			body = body[:len(body)-1]
		}
	}
	return strings.ToValidUTF8(string(body), "?")
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}
