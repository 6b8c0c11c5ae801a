package client

import (
	"errors"
	"fmt"

	"github.com/loyaltybus/loyaltybus/events"
)

// Errors matched with errors.Is.
var (
	// ErrFailed matches a *CommandError whose result is failed: the vendor
	// refused, or a transient failure outlasted the retry policy.
	ErrFailed = errors.New("command failed")
	// ErrRejected matches a *CommandError whose result is rejected: the
	// command never reached a vendor.
	ErrRejected = errors.New("command rejected")
	// ErrNoResult means the context ended before the command's result arrived.
	// The command was published; its result may still come.
	ErrNoResult = errors.New("no result yet")
)

// ValidationError is a command that breaks a rule of the contract before it
// is sent: its data fails the command's JSON Schema, or an attribute (the id)
// is malformed. Nothing was published.
type ValidationError struct {
	// Type is the command type, e.g. loyalty.points.freeze.v1.
	Type string
	// Field is the failing attribute or data field, e.g. "id" or "data.points".
	Field string
	// Rule says what the field must be.
	Rule string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("invalid %s: %s: %s", e.Type, e.Field, e.Rule)
}

// CommandError is the answer of PublishAndWait and ReplayAndWait when the
// command's result is failed or rejected. errors.Is matches it with
// ErrFailed or ErrRejected.
type CommandError struct {
	Result events.Result
}

func (e *CommandError) Error() string {
	msg := fmt.Sprintf("command %s %s", e.Result.CommandID, e.Result.Status)
	if e.Result.Error == nil {
		return msg
	}
	msg += ": " + e.Result.Error.Code
	if v := e.Result.Error.Vendor; v != nil && v.Code != "" {
		msg += fmt.Sprintf(" (%s %s)", v.Name, v.Code)
	}
	if e.Result.Error.Message != "" {
		msg += ": " + e.Result.Error.Message
	}
	return msg
}

// Is matches ErrFailed and ErrRejected by the result's status.
func (e *CommandError) Is(target error) bool {
	switch target {
	case ErrFailed:
		return e.Result.Status == events.StatusFailed
	case ErrRejected:
		return e.Result.Status == events.StatusRejected
	}
	return false
}
