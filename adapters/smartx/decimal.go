package smartx

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Decimal is an exact decimal number kept as the register wrote it, e.g.
// "57.47", "60.5" or "3". The register sends money and quantities as JSON
// strings with variable scale; Decimal never goes through float64, so
// "60.5" stays "60.5" and not "60.50" or 60.49999.
//
// The zero value "" means absent.
type Decimal string

// ParseDecimal checks that s is a plain decimal (optional minus sign,
// digits, optional fraction) and returns it unchanged as a Decimal.
func ParseDecimal(s string) (Decimal, error) {
	if !isPlainDecimal(s) {
		return "", fmt.Errorf("smartx: %q is not a decimal number", s)
	}
	return Decimal(s), nil
}

// String returns the decimal text.
func (d Decimal) String() string { return string(d) }

// MarshalJSON encodes d as a JSON string, as the register does.
func (d Decimal) MarshalJSON() ([]byte, error) {
	return json.Marshal(string(d))
}

// UnmarshalJSON accepts a JSON string holding a plain decimal, or a JSON
// number (kept literally); an empty string or null leaves "".
func (d *Decimal) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s == "" {
			*d = ""
			return nil
		}
		if !isPlainDecimal(s) {
			return fmt.Errorf("smartx: %q is not a decimal number", s)
		}
		*d = Decimal(s)
		return nil
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("smartx: decimal: %w", err)
		}
		*d = Decimal(n)
		return nil
	}
}

func isPlainDecimal(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digits++
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		frac := 0
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			frac++
		}
		if frac == 0 {
			return false
		}
	}
	return i == len(s)
}
