package smartx

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
const Vendor = "smartx"

// Sentinel errors, one per documented resultCode
// (https://smartx.imlab.by/responses/code_type.html). They match any
// *APIError with the same Code under errors.Is.
var (
	ErrGeneral            = &APIError{Code: "399"} // Общая ошибка
	ErrShiftNotOpen       = &APIError{Code: "400"} // Необходимо открыть смену
	ErrAuthRequired       = &APIError{Code: "401"} // Требуется авторизация
	ErrSumTooSmall        = &APIError{Code: "402"} // Сумма должна быть >= 0.01
	ErrInvalidPrice       = &APIError{Code: "403"} // Недействительная цена позиции
	ErrNegativeTotal      = &APIError{Code: "404"} // Получен отрицательный итог
	ErrToken              = &APIError{Code: "405"} // Ошибка токена
	ErrShiftAlreadyOpen   = &APIError{Code: "406"} // Смена уже открыта
	ErrCertificateExpired = &APIError{Code: "407"} // Срок действия сертификата истек
	ErrShiftAlreadyClosed = &APIError{Code: "408"} // Смена уже закрыта
	ErrTillBlocked        = &APIError{Code: "409"} // Касса заблокирована или не инициализирована
	ErrUnfinishedSale     = &APIError{Code: "410"} // Незавершенная продажа присутствует
	ErrNothingToAnnul     = &APIError{Code: "411"} // Нет чека для аннулирования
	ErrShiftTooLong       = &APIError{Code: "412"} // Смена открыта более 24 часов
	ErrBadRequestBody     = &APIError{Code: "413"} // Неверное тело запроса
	ErrSumTooLarge        = &APIError{Code: "414"} // Сумма должна быть <= 99999999999.99
	ErrQuantityTooSmall   = &APIError{Code: "415"} // Количество должно быть >= 0.001
	ErrQuantityTooLarge   = &APIError{Code: "416"} // Количество должно быть <= 9999.999
	ErrRRNRequired        = &APIError{Code: "418"} // Для совершения операции требуется RRN
	ErrChequesNotFound    = &APIError{Code: "488"} // Один или несколько чеков не найдены
)

var (
	errUnexpectedNoToken   = errors.New("AUTH succeeded without a token")
	errMissingResultCode   = errors.New("answer has no resultCode")
	errUnparsableResult    = errors.New("resultCode is not an integer")
	errResponseNotJSONBody = errors.New("answer is not a JSON object")
)

// temporaryCodes lists the resultCodes worth retrying unchanged. The table is
// silent on this, so it is a judgement: a code is temporary when the register
// can get out of the state by itself or by routine cashier action (opening or
// closing a shift, finishing initialisation) while the request stays valid.
//
//   - 400 shift must be opened, 412 shift open > 24 h: the cashier opens or
//     closes a shift as part of the working day.
//   - 409 till blocked or not initialised: seen while the device starts up.
//
// Everything else in the table is permanent: the request is wrong (402–404,
// 413–418), the state conflicts with it (406, 408, 411), the register needs
// an administrator (407 certificate or clock, 410 unfinished sale that can
// only be cleared by hand on the device), authentication failed after the
// client's one re-authentication (401, 405), or the cheques do not exist
// (488). 399 (general error) is permanent too: nothing says retrying helps,
// and hammering a LAN device with an unknown fault does not. Codes outside
// the table are temporary from 500 up and permanent below.
var temporaryCodes = map[string]bool{"400": true, "409": true, "412": true}

// APIError is a register answer whose resultCode is not 200.
type APIError struct {
	// Register is Config.Name of the client that got the answer.
	Register string
	// Intent is the INTENT_OPERATION_TYPE of the request.
	Intent string
	// HTTPStatus is the HTTP status line of the answer. It is informational
	// only; the register may mirror resultCode in it or always send 200.
	HTTPStatus int
	// Code is the resultCode as a decimal string, e.g. "488".
	Code string
	// Title is messageTitle ("Ошибка").
	Title string
	// Message is messageDetail, in Russian.
	Message string
}

// Error describes the answer.
func (e *APIError) Error() string {
	s := "smartx"
	if e.Register != "" {
		s += " register " + strconv.Quote(e.Register)
	}
	if e.Intent != "" {
		s += " " + e.Intent
	}
	s += ": resultCode " + e.Code
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is reports whether target is an *APIError with the same Code, so that
// errors.Is(err, ErrChequesNotFound) works.
func (e *APIError) Is(target error) bool {
	t, ok := target.(*APIError)
	return ok && t.Code == e.Code
}

// ResultCode returns Code as an integer, or 0 if it is not one.
func (e *APIError) ResultCode() int {
	n, _ := strconv.Atoi(e.Code)
	return n
}

// Temporary reports whether the same request may succeed later; see the
// classification on the sentinel errors' codes in this file.
func (e *APIError) Temporary() bool {
	if t, ok := temporaryCodes[e.Code]; ok {
		return t
	}
	return e.ResultCode() >= 500
}

// RetryAfter returns 0: the register never hints when to retry.
func (e *APIError) RetryAfter() time.Duration { return 0 }

// VendorDetail returns the vendor's own view of the error for results and
// logs.
func (e *APIError) VendorDetail() (vendor string, httpStatus int, code, message string) {
	return Vendor, e.HTTPStatus, e.Code, e.Message
}

// TransportError means no usable register answer: the connection failed or
// was refused (device off), the request timed out or its context ended, the
// HTTP status was an error without a resultCode body, or the body could not
// be read or decoded.
type TransportError struct {
	// Register is Config.Name of the client.
	Register string
	// Intent is the INTENT_OPERATION_TYPE of the request.
	Intent string
	// HTTPStatus is the HTTP status received, or 0 if no response arrived.
	HTTPStatus int
	// RetryAfterHint is the server's Retry-After, if it sent one.
	RetryAfterHint time.Duration
	// Err is the underlying cause; it is returned by Unwrap.
	Err error
}

// Error describes the failure.
func (e *TransportError) Error() string {
	s := "smartx"
	if e.Register != "" {
		s += " register " + strconv.Quote(e.Register)
	}
	if e.Intent != "" {
		s += " " + e.Intent
	}
	if e.HTTPStatus != 0 {
		s += fmt.Sprintf(": HTTP %d", e.HTTPStatus)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying cause, so errors.Is(err, context.Canceled)
// and errors.As(err, *net.OpError) work.
func (e *TransportError) Unwrap() error { return e.Err }

// Is reports whether target is a *TransportError with the same HTTPStatus,
// or with HTTPStatus 0, which matches every transport error.
func (e *TransportError) Is(target error) bool {
	t, ok := target.(*TransportError)
	return ok && (t.HTTPStatus == 0 || t.HTTPStatus == e.HTTPStatus)
}

// Temporary reports whether retrying may help: true when no response
// arrived (connection refused or reset, timeout, cancelled context), for
// HTTP 408, 429 and 5xx, and for a body cut short; false for other HTTP
// statuses and for a complete body that is not a valid answer.
func (e *TransportError) Temporary() bool {
	switch {
	case e.HTTPStatus == 0,
		e.HTTPStatus == 408, e.HTTPStatus == 429, e.HTTPStatus >= 500:
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

// RetryAfter returns the server's Retry-After hint, or 0.
func (e *TransportError) RetryAfter() time.Duration { return e.RetryAfterHint }

// VendorDetail returns the vendor name, the HTTP status (0 if none) and the
// cause as message; there is no vendor code.
func (e *TransportError) VendorDetail() (vendor string, httpStatus int, code, message string) {
	msg := ""
	if e.Err != nil {
		msg = e.Err.Error()
	}
	return Vendor, e.HTTPStatus, "", msg
}
