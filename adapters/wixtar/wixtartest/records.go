package wixtartest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/loyaltybus/loyaltybus/adapters/wixtar"
)

// zonelessLayout is how the vendor writes times: ISO local time, no zone.
const zonelessLayout = "2006-01-02T15:04:05"

// Keys for the store name; the vendor's example uses both.
const (
	StoreNameKey = "store_name"
	ShopNameKey  = "shop_name"
)

// Record is a points usage record held by the Simulator, with the choices of
// how to render it.
type Record struct {
	// StoreID is what store_id filters on; the vendor does not return it.
	StoreID string
	OrderID string
	// DateTime is sent without a zone, in Asia/Taipei.
	DateTime time.Time
	// PointType is sent verbatim, so values outside the vendor's table and
	// odd cases can be served.
	PointType   string
	BonusPoints int
	// OrderAmount is the decimal text of order_amount, sent as a JSON string
	// like the vendor's example, or as a JSON number when AmountAsNumber.
	OrderAmount    string
	AmountAsNumber bool
	GiftGive       bool
	MemberName     string
	StoreName      string
	// NameKey is the key of StoreName: StoreNameKey (default) or ShopNameKey.
	NameKey              string
	PointMemo            string
	UsePointInstructions string
}

// ExpiringPoints is an entry of points_expire.
type ExpiringPoints struct {
	// DeadLine is sent without a zone, in Asia/Taipei.
	DeadLine time.Time
	Points   int
}

// AddRecords adds records to the store. It checks them all first and adds
// none if one is invalid: OrderID and DateTime are required, NameKey must be
// empty, StoreNameKey or ShopNameKey, and a number OrderAmount must be a
// number.
func (s *Simulator) AddRecords(records ...Record) error {
	for i, r := range records {
		switch {
		case r.OrderID == "":
			return fmt.Errorf("wixtartest: record %d has no OrderID", i)
		case r.DateTime.IsZero():
			return fmt.Errorf("wixtartest: record %d has no DateTime", i)
		case r.NameKey != "" && r.NameKey != StoreNameKey && r.NameKey != ShopNameKey:
			return fmt.Errorf("wixtartest: record %d has NameKey %q", i, r.NameKey)
		case r.AmountAsNumber && !json.Valid([]byte(r.OrderAmount)):
			return fmt.Errorf("wixtartest: record %d: OrderAmount %q is not a number", i, r.OrderAmount)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records = append(s.records, records...)
	return nil
}

// SetPointsExpire replaces the points_expire list of every answer.
func (s *Simulator) SetPointsExpire(entries ...ExpiringPoints) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expiring = append([]ExpiringPoints(nil), entries...)
}

// render writes r the way the vendor does, keys in the doc's order.
func (r Record) render() json.RawMessage {
	nameKey := r.NameKey
	if nameKey == "" {
		nameKey = StoreNameKey
	}
	amount := strconv.Quote(r.OrderAmount)
	if r.AmountAsNumber {
		amount = r.OrderAmount
	}
	fields := []struct {
		key   string
		value any
	}{
		{"bonuspt_point", r.BonusPoints},
		{"date_time", r.DateTime.In(wixtar.Location()).Format(zonelessLayout)},
		{"gift_give", r.GiftGive},
		{"member_name", r.MemberName},
		{"order_amount", json.RawMessage(amount)},
		{"order_id", r.OrderID},
		{"point_type", r.PointType},
		{nameKey, r.StoreName},
		{"point_memo", r.PointMemo},
		{"use_point_instructions", r.UsePointInstructions},
	}
	out := []byte{'{'}
	for i, f := range fields {
		if i > 0 {
			out = append(out, ',')
		}
		k, _ := json.Marshal(f.key)
		v, err := json.Marshal(f.value)
		if err != nil {
			v = []byte("null")
		}
		out = append(append(append(out, k...), ':'), v...)
	}
	return append(out, '}')
}
