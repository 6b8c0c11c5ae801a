package config

import (
	"fmt"
	"io"
	"log/slog"
)

// Redacted is how a Secret renders everywhere except Reveal.
const Redacted = "[redacted]"

// Secret is a setting that must never be printed or logged: password,
// client secret, app key, PIN. Its String, GoString, Format (every fmt verb,
// including %v, %+v, %#v, %s, %q, %x and %d), LogValue, MarshalJSON and
// MarshalText all produce "[redacted]"; only Reveal returns the value, and
// should be called only where the value is handed to the party that needs it
// (an HTTP header, a NATS option).
//
// Redaction relies on methods, so it holds wherever fmt, slog or
// encoding/json can call them: values, exported struct fields, maps and
// slices. fmt cannot call methods on unexported struct fields and prints
// those raw, so keep a Secret in an exported field (or never print the
// struct).
//
// Secret lives in package config because config reads secrets and must
// treat them specially (no value in errors, redacted in Describe); logging
// redacts it through slog.LogValuer without importing this package.
type Secret string

// Reveal returns the secret value. Do not log or print the result.
func (s Secret) Reveal() string { return string(s) }

// String returns "[redacted]".
func (s Secret) String() string { return Redacted }

// GoString returns `config.Secret("[redacted]")`, used by %#v.
func (s Secret) GoString() string { return `config.Secret("` + Redacted + `")` }

// Format implements fmt.Formatter so that every verb, including ones fmt
// would otherwise apply to the underlying string (%d, %x on a bad verb),
// prints "[redacted]"; %#v prints GoString.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, s.GoString())
		return
	}
	_, _ = io.WriteString(f, Redacted)
}

// LogValue implements slog.LogValuer; every slog handler logs "[redacted]".
func (s Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalJSON encodes the secret as the JSON string "[redacted]".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText encodes the secret as "[redacted]" (slog's text handler,
// encoding/xml and YAML encoders use it).
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }
