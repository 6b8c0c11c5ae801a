package bus

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// class is how the runtime settles a handler error.
type class int

const (
	classTransient class = iota // retried by delayed redelivery
	classPermanent              // failed result, DLQ copy, Term
	classRejected               // rejected result, DLQ copy, Term; never reached a vendor
)

// permanentError marks an error as not worth retrying.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as permanent: the command fails at once with a failed
// result and a DLQ copy. Adapters may instead implement Temporary() bool.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// RejectionError is a rejected command: its input broke a rule, so it never
// reached a vendor. Field is a JSON pointer or attribute name.
type RejectionError struct {
	Field string
	Rule  string
}

func (e *RejectionError) Error() string {
	if e.Field == "" {
		return e.Rule
	}
	return e.Field + ": " + e.Rule
}

// Reject returns a RejectionError for a handler that finds its data unusable
// beyond what the JSON Schema can say (e.g. an unparseable time).
func Reject(field, rule string, args ...any) error {
	return &RejectionError{Field: field, Rule: fmt.Sprintf(rule, args...)}
}

// VendorDetail is the vendor's own answer carried by an adapter error.
type VendorDetail struct {
	Name       string `json:"name"`
	HTTPStatus int    `json:"httpStatus,omitempty"`
	Code       string `json:"code,omitempty"`
	Message    string `json:"message,omitempty"`
}

// The runtime reads these behaviours from adapter errors, so adapters stay
// free of any dependency on this package.
type (
	temporary    interface{ Temporary() bool }
	retryHinter  interface{ RetryAfter() time.Duration }
	vendorDetail interface {
		VendorDetail() (vendor string, httpStatus int, code, message string)
	}
)

// classify decides how an error settles a command.
func classify(err error) class {
	var rej *RejectionError
	if errors.As(err, &rej) {
		return classRejected
	}
	var perm *permanentError
	if errors.As(err, &perm) {
		return classPermanent
	}
	var tmp temporary
	if errors.As(err, &tmp) && !tmp.Temporary() {
		return classPermanent
	}
	return classTransient
}

// retryAfter returns the longest hint for the next attempt anywhere in the
// error's chain: an adapter's transport error may wrap a limiter's or
// breaker's error that knows better than the adapter itself.
func retryAfter(err error) time.Duration {
	var longest time.Duration
	var walk func(error)
	walk = func(e error) {
		for e != nil {
			if h, ok := e.(retryHinter); ok && h.RetryAfter() > longest {
				longest = h.RetryAfter()
			}
			switch u := e.(type) {
			case interface{ Unwrap() []error }:
				for _, inner := range u.Unwrap() {
					walk(inner)
				}
				return
			case interface{ Unwrap() error }:
				e = u.Unwrap()
			default:
				return
			}
		}
	}
	walk(err)
	return longest
}

// attempted reports whether err came from a call that reached the vendor.
// Errors that say they did not (a limiter or an open breaker handing the
// command back, a quota kept for later) do not count toward MaxAttempts.
func attempted(err error) bool {
	var a interface{ Attempted() bool }
	return !errors.As(err, &a) || a.Attempted()
}

// vendorOf extracts the vendor's answer from err, if an adapter supplied one.
func vendorOf(err error) *VendorDetail {
	var v vendorDetail
	if !errors.As(err, &v) {
		return nil
	}
	d := &VendorDetail{}
	d.Name, d.HTTPStatus, d.Code, d.Message = v.VendorDetail()
	return d
}

// isShutdown reports whether err only says the process is stopping.
func isShutdown(ctx context.Context, err error) bool {
	return ctx.Err() != nil && errors.Is(err, context.Canceled)
}
