package feeds

import (
	"time"

	"github.com/loyaltybus/loyaltybus/pkg/bus"
)

// vendorLayout is the vendors' own date-time layout, yyyy-MM-dd HH:mm:ss.
const vendorLayout = time.DateTime

// window reads a command's time window: RFC 3339 with an offset, or the
// vendor's yyyy-MM-dd HH:mm:ss in the vendor's zone. It rejects an
// unreadable time or an end before the start, naming the field.
func window(startField, start, endField, end string, zone *time.Location) (time.Time, time.Time, error) {
	from, err := vendorTime(startField, start, zone)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	to, err := vendorTime(endField, end, zone)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	if to.Before(from) {
		return time.Time{}, time.Time{}, bus.Reject("data."+endField, "must not be before %s", startField)
	}
	return from, to, nil
}

func vendorTime(field, s string, zone *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.ParseInLocation(vendorLayout, s, zone)
	if err != nil {
		return time.Time{}, bus.Reject("data."+field, "must be RFC 3339 with an offset or yyyy-MM-dd HH:mm:ss, got %q", s)
	}
	return t, nil
}
