// Package logging builds the *slog.Logger every loyaltybus binary uses: tint
// text (coloured only on a terminal) or JSON, with one ReplaceAttr that masks
// member PII and redacts secrets in both formats.
//
// It is the only package that imports github.com/lmittmann/tint. There are no
// globals: main calls New once and passes the logger down.
//
// Secrets are carried by config.Secret, whose LogValue, String, GoString,
// Format, MarshalJSON and MarshalText all redact, so any slog handler redacts
// it without this package knowing the type (and neither package imports the
// other). As a second line of defence ReplaceAttr also redacts attributes
// whose key names a secret (password, token, clientSecret, …).
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/lmittmann/tint"
)

// Log formats accepted in Config.Format.
const (
	FormatText = "text" // tint, human readable, coloured on a terminal
	FormatJSON = "json" // slog.JSONHandler, one object per line
)

// Config selects the handler New builds. The zero value is valid: text
// format at slog.LevelInfo, coloured when the writer is a terminal.
type Config struct {
	// Format is FormatText or FormatJSON; "" means FormatText.
	Format string
	// Level is the minimum level written; the zero value is slog.LevelInfo.
	Level slog.Level
	// NoColor turns colour off for text output even on a terminal (main may
	// set it from NO_COLOR). Colour is never used when the writer is not a
	// terminal, and JSON output is never coloured.
	NoColor bool
}

// Validate reports an unknown Format. New does not fail: it treats an
// unknown format as text, so call Validate where the settings are read.
func (c Config) Validate() error {
	switch c.Format {
	case "", FormatText, FormatJSON:
		return nil
	default:
		return fmt.Errorf("logging: unknown format %q (want %q or %q)", c.Format, FormatText, FormatJSON)
	}
}

// New returns a logger writing to w in the configured format, with
// ReplaceAttr masking PII and redacting secrets. Text output is coloured only
// when w is an *os.File attached to a character device (a terminal) and
// cfg.NoColor is false. The logger is safe for concurrent use if w is safe
// for concurrent writes of whole lines (both handlers serialise their writes).
func New(cfg Config, w io.Writer) *slog.Logger {
	var h slog.Handler
	switch cfg.Format {
	case FormatJSON:
		h = slog.NewJSONHandler(w, &slog.HandlerOptions{
			Level:       cfg.Level,
			ReplaceAttr: ReplaceAttr,
		})
	default:
		h = tint.NewTextHandler(w, &tint.Options{
			Level:       cfg.Level,
			ReplaceAttr: ReplaceAttr,
			NoColor:     cfg.NoColor || !isTerminal(w),
		})
	}
	return slog.New(h)
}

// isTerminal reports whether w is a file on a character device.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || f == nil {
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	return fi.Mode()&os.ModeCharDevice != 0
}
