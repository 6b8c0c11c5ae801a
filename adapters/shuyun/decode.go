package shuyun

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// RequestLayout is the time layout Shuyun expects in requests: yyyy-MM-dd HH:mm:ss, in China
// Standard Time.
const RequestLayout = time.DateTime

// ChinaStandardTime is the vendor's zone, UTC+8 (China has no daylight saving time). Times
// without an offset are read in it.
var ChinaStandardTime = time.FixedZone("CST", 8*60*60)

// responseLayouts are the layouts seen in Shuyun answers and doc examples, tried in order.
var responseLayouts = []struct {
	layout string
	zoned  bool // whether the layout carries its own offset
}{
	{time.RFC3339Nano, true},                     // 2021-12-15T17:10:01.218+08:00, …Z, no millis
	{"2006-01-02T15:04:05.999999999Z0700", true}, // +0800 without a colon
	{time.DateTime, false},                       // 2021-07-13 08:36:03
	{"2006-01-02 15:04:05.999999999", false},     // with fractional seconds
	{"2006-01-02T15:04:05.999999999", false},     // ISO without offset
	{time.DateOnly, false},                       // 2021-07-13
}

// ParseTime parses a time in any layout Shuyun is known to use: RFC 3339 with or without
// milliseconds and with an offset or Z, yyyy-MM-dd HH:mm:ss (read in ChinaStandardTime),
// ISO without an offset, and yyyy-MM-dd.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range responseLayouts {
		if l.zoned {
			if t, err := time.Parse(l.layout, s); err == nil {
				return t, nil
			}
			continue
		}
		if t, err := time.ParseInLocation(l.layout, s, ChinaStandardTime); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("shuyun: unrecognised time %q", s)
}

// Time is a point in time as Shuyun writes it. It marshals as yyyy-MM-dd HH:mm:ss in
// ChinaStandardTime (the request format; a zero Time marshals as null, and fields tagged
// omitzero leave it out) and unmarshals any layout ParseTime accepts, a JSON null or an empty
// string (zero Time), or a number of milliseconds since the Unix epoch.
type Time struct {
	time.Time
}

// MarshalJSON writes t in RequestLayout.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + t.In(ChinaStandardTime).Format(RequestLayout) + `"`), nil
}

// UnmarshalJSON reads t leniently; see Time.
func (t *Time) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*t = Time{}
		return nil
	}
	if len(b) > 0 && b[0] != '"' {
		ms, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil {
			return fmt.Errorf("shuyun: time %s is neither a string nor epoch milliseconds", b)
		}
		*t = Time{time.UnixMilli(ms)}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if strings.TrimSpace(s) == "" {
		*t = Time{}
		return nil
	}
	parsed, err := ParseTime(s)
	if err != nil {
		return err
	}
	*t = Time{parsed}
	return nil
}

// flexString decodes a JSON string or number (the vendor's ids are documented as strings but
// sometimes sent as numbers). null leaves it empty.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	case string(b) == "true" || string(b) == "false":
		*f = flexString(b)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("shuyun: value %.40s is neither a string nor a number", b)
	}
	*f = flexString(n.String())
	return nil
}

// flexBool decodes a JSON boolean, or the strings "true"/"false" and the numbers 1/0.
type flexBool struct {
	set   bool
	value bool
}

func (f *flexBool) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	switch strings.ToLower(strings.TrimSpace(string(s))) {
	case "true", "1":
		*f = flexBool{set: true, value: true}
	case "false", "0":
		*f = flexBool{set: true, value: false}
	case "":
	default:
		return fmt.Errorf("shuyun: %q is not a boolean", string(s))
	}
	return nil
}
