package pospal

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// vendorName is the name reported by VendorDetail.
const vendorName = "pospal"

// Sentinels for errors.Is. An [*APIError] matches a sentinel with the same
// ErrorCode; the code table is the one public clients carry.
var (
	// ErrUnknown is errorCode 0, 未知错误 (unknown error).
	ErrUnknown = &APIError{ErrorCode: 0, Messages: []string{"未知错误"}}
	// ErrNoSignature is errorCode 1031: the data-signature header was missing.
	ErrNoSignature = &APIError{ErrorCode: 1031, Messages: []string{"请求头中没传消息签名"}}
	// ErrSignature is errorCode 1032: body and signature do not match (a
	// wrong AppKey, or a body changed after signing).
	ErrSignature = &APIError{ErrorCode: 1032, Messages: []string{"消息体与消息签名不匹配"}}
	// ErrSignatureCheck is errorCode 1033: the vendor failed to verify the
	// signature.
	ErrSignatureCheck = &APIError{ErrorCode: 1033, Messages: []string{"校验消息签名时出错"}}
	// ErrAppID is errorCode 1034: no account has this appId.
	ErrAppID = &APIError{ErrorCode: 1034, Messages: []string{"appId错误，根据所传的appId找不到对应的用户"}}
	// ErrCustomerNotFound is errorCode 2015: no member has this customerUid.
	ErrCustomerNotFound = &APIError{ErrorCode: 2015, Messages: []string{"会员不存在"}}
	// ErrCouponInvalid is errorCode 3001: unknown coupon rule, or an unknown or
	// already used coupon code.
	ErrCouponInvalid = &APIError{ErrorCode: 3001, Messages: []string{"优惠券无效"}}
	// ErrCouponDisabled is errorCode 3002: the coupon rule is disabled.
	ErrCouponDisabled = &APIError{ErrorCode: 3002, Messages: []string{"优惠券已停用"}}
	// ErrNoCodesLeft is errorCode 3003: the coupon rule has no codes left.
	ErrNoCodesLeft = &APIError{ErrorCode: 3003, Messages: []string{"优惠券号不足"}}
	// ErrCodeExists is errorCode 3004: the coupon code already exists. A
	// caller that derives the code from its own idempotency key treats it as
	// "already done".
	ErrCodeExists = &APIError{ErrorCode: 3004, Messages: []string{"优惠券号已经存在"}}
	// ErrOutsideRuleTime is errorCode 9001: only usable within the rule's time.
	ErrOutsideRuleTime = &APIError{ErrorCode: 9001, Messages: []string{"只能在规则时间内使用"}}
	// ErrBadRequest is errorCode 9003, 请求参数错误: a bad parameter, such as a
	// changed postBackParameter or too wide a time window.
	ErrBadRequest = &APIError{ErrorCode: 9003, Messages: []string{"请求参数错误"}}
)

// Sentinels that are not vendor error codes.
var (
	// ErrQuotaExceeded matches a [*QuotaError] (the client refused to call) and
	// an [*APIError] whose errorCode is one of Config.QuotaErrorCodes.
	ErrQuotaExceeded = errors.New("pospal: daily call quota used up")
	// ErrResponseSignature is wrapped by a [*TransportError] when an answer's
	// data-signature header does not match its body.
	ErrResponseSignature = errors.New("pospal: answer signature does not match its body")
	// ErrPagingLoop is wrapped by a [*LoopError].
	ErrPagingLoop = errors.New("pospal: postBackParameter repeated")
)

// APIError is an answer of the vendor with status "error" (any case), or a
// non-2xx answer that still carried an envelope.
//
// Temporary reports true for quota exhaustion and HTTP 5xx, 408 and 429; every
// business refusal (1031–1034, 2015, 3001–3004, 9003, and codes not listed,
// including 0) is permanent.
type APIError struct {
	// HTTPStatus is the HTTP status of the answer (200 for business errors).
	HTTPStatus int
	// Status is the envelope's status as sent, e.g. "error" or "ERROR".
	Status string
	// ErrorCode is the envelope's errorCode (0 when absent).
	ErrorCode int
	// Messages are the envelope's messages.
	Messages []string
	// Op is the called endpoint, e.g. "promotionOpenApi/promotion/addCouponcode".
	Op string

	quota      bool
	retryAfter time.Duration
}

// Error returns "pospal <op>: error <code>: <messages>".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("pospal")
	if e.Op != "" {
		b.WriteString(" " + e.Op)
	}
	b.WriteString(": error " + strconv.Itoa(e.ErrorCode))
	if e.HTTPStatus != 0 && e.HTTPStatus != 200 {
		b.WriteString(" (HTTP " + strconv.Itoa(e.HTTPStatus) + ")")
	}
	if msg := e.Message(); msg != "" {
		b.WriteString(": " + msg)
	}
	return b.String()
}

// Message returns the vendor's messages joined by "; ".
func (e *APIError) Message() string { return strings.Join(e.Messages, "; ") }

// Is reports whether target is an *APIError with the same ErrorCode, or
// ErrQuotaExceeded for a quota answer.
func (e *APIError) Is(target error) bool {
	if target == ErrQuotaExceeded {
		return e.quota
	}
	t, ok := target.(*APIError)
	return ok && t.ErrorCode == e.ErrorCode
}

// Temporary reports whether retrying later may succeed.
func (e *APIError) Temporary() bool {
	if e.quota {
		return true
	}
	return retryableStatus(e.HTTPStatus)
}

// RetryAfter is the time until the daily quota resets for a quota answer, and
// 0 (the caller's backoff decides) otherwise.
func (e *APIError) RetryAfter() time.Duration { return e.retryAfter }

// VendorDetail returns "pospal", the HTTP status, the errorCode in decimal and
// the joined messages, for result events.
func (e *APIError) VendorDetail() (vendor string, httpStatus int, code, message string) {
	return vendorName, e.HTTPStatus, strconv.Itoa(e.ErrorCode), e.Message()
}

// TransportError is a call that got no usable envelope: a connection error, a
// timeout, a cancelled context, a non-2xx status without an envelope, or an
// answer that was truncated, not JSON, or wrongly signed. The request may or
// may not have taken effect.
//
// Temporary reports true for connection errors, timeouts, cancellation,
// truncated, unreadable or wrongly signed answers and HTTP 408, 429 and 5xx;
// false for other non-2xx statuses (a wrong BaseURL answering 404) and for
// data that does not decode into the documented types.
type TransportError struct {
	// Op is the called endpoint.
	Op string
	// HTTPStatus is the answer's status, or 0 when there was no answer.
	HTTPStatus int
	// Err is the cause; it may wrap context.Canceled,
	// context.DeadlineExceeded, io.ErrUnexpectedEOF or ErrResponseSignature.
	Err error

	temporary  bool
	retryAfter time.Duration
}

// Error returns "pospal <op>: <cause>".
func (e *TransportError) Error() string {
	if e.HTTPStatus != 0 {
		return fmt.Sprintf("pospal %s: HTTP %d: %v", e.Op, e.HTTPStatus, e.Err)
	}
	return fmt.Sprintf("pospal %s: %v", e.Op, e.Err)
}

// Unwrap returns the cause.
func (e *TransportError) Unwrap() error { return e.Err }

// Temporary reports whether retrying later may succeed.
func (e *TransportError) Temporary() bool { return e.temporary }

// RetryAfter is the delay asked by a Retry-After header, or 0.
func (e *TransportError) RetryAfter() time.Duration { return e.retryAfter }

// VendorDetail returns "pospal", the HTTP status (0 without an answer), no code
// and the cause.
func (e *TransportError) VendorDetail() (vendor string, httpStatus int, code, message string) {
	return vendorName, e.HTTPStatus, "", e.Err.Error()
}

// QuotaError is returned without calling the vendor when the client's own
// counter shows the daily quota used up. It matches ErrQuotaExceeded.
type QuotaError struct {
	// Op is the endpoint that was not called.
	Op string
	// Used and Limit are the counter's state.
	Used, Limit int
	// ResetAt is the next midnight in Asia/Shanghai.
	ResetAt time.Time

	retryAfter time.Duration
}

// Error describes the exhausted quota.
func (e *QuotaError) Error() string {
	return fmt.Sprintf("pospal %s: daily quota used up (%d of %d calls), resets at %s",
		e.Op, e.Used, e.Limit, e.ResetAt.Format(time.RFC3339))
}

// Is reports whether target is ErrQuotaExceeded.
func (e *QuotaError) Is(target error) bool { return target == ErrQuotaExceeded }

// Temporary reports true: the quota resets at midnight.
func (e *QuotaError) Temporary() bool { return true }

// RetryAfter is the time until the next midnight in Asia/Shanghai.
func (e *QuotaError) RetryAfter() time.Duration { return e.retryAfter }

// Attempted reports false: the call was kept back, not made, so it should
// not count as an attempt of the command.
func (e *QuotaError) Attempted() bool { return false }

// VendorDetail returns "pospal", no status or code, and the description; the
// vendor was not called.
func (e *QuotaError) VendorDetail() (vendor string, httpStatus int, code, message string) {
	return vendorName, 0, "", e.Error()
}

// ValidationError is a request refused before sending because a field breaks
// a rule of the vendor's doc. It is permanent.
type ValidationError struct {
	// Op is the endpoint that was not called.
	Op string
	// Field is the JSON name of the field.
	Field string
	// Rule describes what is wrong.
	Rule string
}

// Error returns "pospal <op>: <field> <rule>".
func (e *ValidationError) Error() string {
	return fmt.Sprintf("pospal %s: %s %s", e.Op, e.Field, e.Rule)
}

// Temporary reports false.
func (e *ValidationError) Temporary() bool { return false }

// RetryAfter reports 0.
func (e *ValidationError) RetryAfter() time.Duration { return 0 }

// VendorDetail returns "pospal" and the description; the vendor was not called.
func (e *ValidationError) VendorDetail() (vendor string, httpStatus int, code, message string) {
	return vendorName, 0, "", e.Error()
}

// LoopError stops a paged query whose answer repeated a postBackParameter
// already sent, which would fetch the same page forever. Pages before it were
// delivered; the walk is incomplete. It matches ErrPagingLoop and is permanent.
type LoopError struct {
	// Op is the paged endpoint.
	Op string
	// Page is the 1-based number of the page whose answer repeated the
	// parameter.
	Page int
	// PostBackParameter is the repeated parameter.
	PostBackParameter json.RawMessage
}

// Error describes the loop.
func (e *LoopError) Error() string {
	return fmt.Sprintf("pospal %s: page %d answered postBackParameter %s again", e.Op, e.Page, e.PostBackParameter)
}

// Unwrap returns ErrPagingLoop.
func (e *LoopError) Unwrap() error { return ErrPagingLoop }

// Temporary reports false: the vendor would loop again.
func (e *LoopError) Temporary() bool { return false }

// RetryAfter reports 0.
func (e *LoopError) RetryAfter() time.Duration { return 0 }

// VendorDetail returns "pospal" and the description.
func (e *LoopError) VendorDetail() (vendor string, httpStatus int, code, message string) {
	return vendorName, 200, "", e.Error()
}

// retryableStatus reports whether an HTTP status is worth retrying.
func retryableStatus(status int) bool {
	return status >= 500 || status == 429 || status == 408
}
