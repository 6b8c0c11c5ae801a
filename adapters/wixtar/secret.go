package wixtar

import "log/slog"

// Secret is a string that must not be printed: String, GoString, LogValue
// and MarshalJSON all redact it. Use string(s) where the value is needed.
type Secret string

const redacted = "[REDACTED]"

// String returns a fixed placeholder, never the secret.
func (s Secret) String() string { return redacted }

// GoString returns a fixed placeholder, never the secret.
func (s Secret) GoString() string { return redacted }

// LogValue implements slog.LogValuer with a fixed placeholder.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON encodes a fixed placeholder, never the secret.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
