package wixtar

import (
	"fmt"
	"strings"
	"time"
)

// QueryLayout is the vendor's date format for query parameters
// (YYYY-MM-DD HH:mm:ss), read and written in Asia/Taipei.
const QueryLayout = "2006-01-02 15:04:05"

// taipei is Asia/Taipei, or a fixed +08:00 zone of the same name where the
// system has no time zone database (Taiwan has kept +08:00 without daylight
// saving since 1979).
var taipei = loadTaipei()

func loadTaipei() *time.Location {
	if loc, err := time.LoadLocation("Asia/Taipei"); err == nil {
		return loc
	}
	return time.FixedZone("Asia/Taipei", 8*60*60)
}

// Location returns Asia/Taipei, the zone of the vendor's zone-less times.
func Location() *time.Location { return taipei }

// zonelessLayouts are tried, in order, for times without an offset.
var zonelessLayouts = []string{
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// ParseTime reads a vendor time. Times with an offset or Z (RFC 3339) keep
// it; times without one ("2020-09-01T10:17:59", "2020-09-01 10:17:59",
// "2022-05-02") are read in Asia/Taipei.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range zonelessLayouts {
		if t, err := time.ParseInLocation(layout, s, taipei); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("wixtar: cannot read time %q", s)
}
