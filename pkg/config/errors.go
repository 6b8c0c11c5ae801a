package config

import (
	"errors"
	"strconv"
)

// Sentinels matched with errors.Is on the errors Load returns.
var (
	// ErrRequired: a required setting is not set (or set to "").
	ErrRequired = errors.New("required but not set")
	// ErrInvalid: a value (or a default tag) does not parse as the field's
	// type.
	ErrInvalid = errors.New("invalid value")
	// ErrFile: the file named by NAME_FILE cannot be read.
	ErrFile = errors.New("cannot read setting file")
	// ErrAmbiguous: both NAME and NAME_FILE are set.
	ErrAmbiguous = errors.New("ambiguous")
	// ErrTag: the destination struct is malformed (bad tag, unsupported
	// type, unexported tagged field); a programming error.
	ErrTag = errors.New("bad config struct")
)

// Error is one problem with one setting. Load joins one Error per problem
// with errors.Join. Its message starts with the variable name and never
// contains the value of a Secret setting or the content of a file.
type Error struct {
	// Setting is the environment variable, e.g. LOYALTY_STREAM_REPLICAS.
	Setting string
	// Err says what is wrong; it matches ErrRequired, ErrInvalid, ErrFile,
	// ErrAmbiguous or ErrTag.
	Err error
}

// Error returns "SETTING: problem".
func (e *Error) Error() string { return e.Setting + ": " + e.Err.Error() }

// Unwrap returns e.Err.
func (e *Error) Unwrap() error { return e.Err }

// invalidError says what a value should have been; it matches ErrInvalid.
type invalidError struct {
	want   string // "an integer"
	got    string // the raw value, unless hidden
	hidden bool   // the value belongs to a Secret
	detail string // extra reason, e.g. from UnmarshalText
	isDef  bool   // the value came from the default tag
}

// maxEcho bounds how much of a bad value an error repeats.
const maxEcho = 64

// Error returns e.g. `want an integer, got "x"`.
func (e *invalidError) Error() string {
	msg := "want " + e.want
	switch {
	case e.hidden:
		msg += " (value hidden)"
	case len(e.got) > maxEcho:
		msg += ", got " + strconv.Quote(e.got[:maxEcho]) + "…"
	default:
		msg += ", got " + strconv.Quote(e.got)
	}
	if e.detail != "" {
		msg += ": " + e.detail
	}
	if e.isDef {
		msg = "default tag: " + msg
	}
	return msg
}

// Is reports whether target is ErrInvalid.
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }
