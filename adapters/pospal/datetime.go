package pospal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// DateTimeLayout is the vendor's date-time format, "yyyy-MM-dd HH:mm:ss"
// (24-hour, although the docs write hh), read in Asia/Shanghai.
const DateTimeLayout = "2006-01-02 15:04:05"

// DateTime is a vendor date-time: a JSON string in DateTimeLayout, in
// Asia/Shanghai. The zero value encodes as "" and "" or null decode to it.
type DateTime struct {
	time.Time
}

// ParseDateTime parses a vendor date-time in Asia/Shanghai.
func ParseDateTime(s string) (time.Time, error) {
	return time.ParseInLocation(DateTimeLayout, s, Shanghai)
}

// FormatDateTime formats t in Asia/Shanghai in the vendor's layout.
func FormatDateTime(t time.Time) string {
	return t.In(Shanghai).Format(DateTimeLayout)
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *DateTime) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		d.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("pospal date-time: %w", err)
	}
	if s == "" {
		d.Time = time.Time{}
		return nil
	}
	t, err := ParseDateTime(s)
	if err != nil {
		return fmt.Errorf("pospal date-time: %w", err)
	}
	d.Time = t
	return nil
}

// MarshalJSON implements json.Marshaler.
func (d DateTime) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte(`""`), nil
	}
	return json.Marshal(FormatDateTime(d.Time))
}
