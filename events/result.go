package events

import (
	_ "embed"
	"strings"
)

// Status is the outcome of a command.
type Status string

// Outcomes of a command (CONTRACT §5).
const (
	// StatusSucceeded: the vendor confirmed, or answered "already done" to a replayed token.
	StatusSucceeded Status = "succeeded"
	// StatusFailed: the vendor refused, or a transient failure outlasted the retry policy.
	StatusFailed Status = "failed"
	// StatusRejected: the command never reached a vendor (bad envelope or data).
	StatusRejected Status = "rejected"
)

// Result is the data of a result event: exactly one per command id.
type Result struct {
	CommandID   string         `json:"commandId"`
	CommandType string         `json:"commandType"`
	Status      Status         `json:"status"`
	Output      map[string]any `json:"output,omitempty"`
	Error       *Error         `json:"error,omitempty"`
	Attempts    int            `json:"attempts"`
}

// Error explains a failed or rejected command.
type Error struct {
	// Code is a stable, machine-readable reason such as "validation", "vendor", "conflict".
	Code      string       `json:"code"`
	Message   string       `json:"message"`
	Retryable bool         `json:"retryable"`
	Vendor    *VendorError `json:"vendor,omitempty"`
}

// VendorError is the vendor's own answer, as far as it gave one.
type VendorError struct {
	Name       string `json:"name"`
	HTTPStatus int    `json:"httpStatus,omitempty"`
	Code       string `json:"code,omitempty"`
	Message    string `json:"message,omitempty"`
}

// Error codes used in Result.Error.Code.
const (
	ErrorCodeValidation = "validation"        // data or envelope failed validation
	ErrorCodeVendor     = "vendor"            // the vendor refused
	ErrorCodeExhausted  = "retries_exhausted" // a transient failure outlasted the retry policy
	ErrorCodeInternal   = "internal"          // a bug on our side (e.g. a handler panic)
)

// ResultSchema is the JSON Schema of Result.
//
//go:embed schemas/result.json
var ResultSchema []byte

// ResultType returns the result event type for a command type:
// loyalty.points.freeze.v1 → loyalty.points.freeze.result.v1.
func ResultType(commandType string) string {
	base, version, ok := cutVersion(commandType)
	if !ok {
		return commandType + ".result"
	}
	return base + ".result." + version
}

// ResultSubject returns the result subject for a command subject:
// loyalty.cmd.points.freeze → loyalty.result.points.freeze.
func ResultSubject(commandSubject string) string {
	return "loyalty.result." + strings.TrimPrefix(commandSubject, "loyalty.cmd.")
}

// DLQSubject returns the dead-letter subject for a command subject:
// loyalty.cmd.points.freeze → loyalty.dlq.points.freeze.
func DLQSubject(commandSubject string) string {
	return "loyalty.dlq." + strings.TrimPrefix(commandSubject, "loyalty.cmd.")
}

// cutVersion splits "loyalty.points.freeze.v1" into "loyalty.points.freeze" and "v1".
func cutVersion(t string) (base, version string, ok bool) {
	i := strings.LastIndexByte(t, '.')
	if i < 0 || i+2 > len(t) || t[i+1] != 'v' {
		return "", "", false
	}
	return t[:i], t[i+1:], true
}
