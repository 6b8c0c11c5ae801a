package wixtar

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// PathPointsUsageRecords is the endpoint of PointsUsageRecords.
const PathPointsUsageRecords = "/v1/points_usage_records"

// TimeSort orders the records by time. The vendor's list of allowed values
// is empty; ASC and DESC are assumed, and any other value is sent verbatim.
type TimeSort string

// Assumed time_sort values.
const (
	TimeSortAsc  TimeSort = "ASC"
	TimeSortDesc TimeSort = "DESC"
)

// UsageQuery selects points usage records.
type UsageQuery struct {
	// Start and End bound the window (the vendor's start_date and end_date).
	// They are sent in Asia/Taipei to the second. Both are required and End
	// must not be before Start.
	Start, End time.Time
	// StoreID limits the records to one store (門市代碼). Optional.
	StoreID string
	// TimeSort orders the records. Optional.
	TimeSort TimeSort
}

// ErrInvalidQuery is wrapped by the errors of UsageQuery.Validate. Such a
// query is never sent; the error has no Temporary method, since it is the
// caller's to fix.
var ErrInvalidQuery = errors.New("invalid usage query")

// Validate reports the first problem with q, or nil.
func (q UsageQuery) Validate() error {
	switch {
	case q.Start.IsZero():
		return fmt.Errorf("wixtar: %w: no start", ErrInvalidQuery)
	case q.End.IsZero():
		return fmt.Errorf("wixtar: %w: no end", ErrInvalidQuery)
	case q.End.Before(q.Start):
		return fmt.Errorf("wixtar: %w: end %s is before start %s", ErrInvalidQuery, q.End.Format(time.RFC3339), q.Start.Format(time.RFC3339))
	}
	return nil
}

// Encode returns the query string, with the dates in the vendor's layout in
// Asia/Taipei and spaces percent-encoded as %20 (not +).
func (q UsageQuery) Encode() string {
	v := url.Values{}
	v.Set("start_date", q.Start.In(taipei).Format(QueryLayout))
	v.Set("end_date", q.End.In(taipei).Format(QueryLayout))
	if q.StoreID != "" {
		v.Set("store_id", q.StoreID)
	}
	if q.TimeSort != "" {
		v.Set("time_sort", string(q.TimeSort))
	}
	// url.Values encodes a space as "+"; a literal "+" is already %2B.
	return strings.ReplaceAll(v.Encode(), "+", "%20")
}

// PointType is a point_type value, kept verbatim. The vendor's examples use
// values missing from its own table and a sibling endpoint uses upper case,
// so treat it as an open, case-insensitive set; compare Normalized values.
type PointType string

// Point types from the vendor's table, and the two its example uses.
const (
	PointNewConsumption            PointType = "new_consumption"
	PointSalesReturnReduction      PointType = "sales_return_reduction"
	PointExchange                  PointType = "exchange"
	PointExchangeSellBack          PointType = "exchange_sell_back"
	PointTransferOut               PointType = "transfer_out"
	PointTransferIn                PointType = "transfer_in"
	PointActivityDeductionPoints   PointType = "activity_deduction_points"
	PointActivityAccumulatedPoints PointType = "activity_accumulated_points"
	PointZero                      PointType = "zero"
	PointExchangeGoods             PointType = "exchange_goods"
	PointExchangeGoodsSellBack     PointType = "exchange_goods_sell_back"
)

// Normalized returns p trimmed and in lower case, for comparison with the
// constants.
func (p PointType) Normalized() PointType {
	return PointType(strings.ToLower(strings.TrimSpace(string(p))))
}

// Known reports whether p (normalised) is one of the constants.
func (p PointType) Known() bool {
	switch p.Normalized() {
	case PointNewConsumption, PointSalesReturnReduction, PointExchange, PointExchangeSellBack,
		PointTransferOut, PointTransferIn, PointActivityDeductionPoints, PointActivityAccumulatedPoints,
		PointZero, PointExchangeGoods, PointExchangeGoodsSellBack:
		return true
	}
	return false
}

// Usage is the answer of PointsUsageRecords.
type Usage struct {
	// Logs are the usage records (異動紀錄).
	Logs []Record `json:"logs"`
	// PointsExpire lists points about to expire (即將到期點數).
	PointsExpire []ExpiringPoints `json:"points_expire"`
}

// Record is one points usage record. Encoded to JSON it uses the vendor's
// field names, store_name for the store and RFC 3339 times.
type Record struct {
	OrderID string `json:"order_id"`
	// DateTime is when it happened; zone-less vendor times are in Asia/Taipei.
	DateTime  time.Time `json:"date_time"`
	PointType PointType `json:"point_type"`
	// BonusPoints is bonuspt_point (紅利點數).
	BonusPoints json.Number `json:"bonuspt_point"`
	// OrderAmount is order_amount, sent by the vendor as a string.
	OrderAmount json.Number `json:"order_amount"`
	GiftGive    bool        `json:"gift_give"`
	MemberName  string      `json:"member_name"`
	// StoreName is store_name, or shop_name when store_name is empty.
	StoreName            string `json:"store_name"`
	PointMemo            string `json:"point_memo"`
	UsePointInstructions string `json:"use_point_instructions"`

	// Raw is the record's JSON as received, without insignificant
	// whitespace. It is never encoded.
	Raw json.RawMessage `json:"-"`
}

// Key identifies the record among all records: order_id, date_time and the
// normalised point_type joined by "|", with date_time written in Asia/Taipei
// as 2006-01-02T15:04:05 (plus a fraction if there is one).
func (r Record) Key() string {
	return r.OrderID + "|" +
		r.DateTime.In(taipei).Format("2006-01-02T15:04:05.999999999") + "|" +
		string(r.PointType.Normalized())
}

type recordJSON struct {
	OrderID              json.RawMessage `json:"order_id"`
	DateTime             string          `json:"date_time"`
	PointType            string          `json:"point_type"`
	BonusPoints          json.RawMessage `json:"bonuspt_point"`
	OrderAmount          json.RawMessage `json:"order_amount"`
	GiftGive             json.RawMessage `json:"gift_give"`
	MemberName           string          `json:"member_name"`
	StoreName            string          `json:"store_name"`
	ShopName             string          `json:"shop_name"`
	PointMemo            string          `json:"point_memo"`
	UsePointInstructions string          `json:"use_point_instructions"`
}

// UnmarshalJSON reads a vendor record leniently: numbers as strings or
// numbers, shop_name or store_name, zone-less or RFC 3339 times. It fills
// Raw.
func (r *Record) UnmarshalJSON(b []byte) error {
	var j recordJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	var out Record
	var err error
	if out.OrderID, err = lenientString(j.OrderID); err != nil {
		return fmt.Errorf("order_id: %w", err)
	}
	if out.DateTime, err = ParseTime(j.DateTime); err != nil {
		return fmt.Errorf("date_time: %w", err)
	}
	if out.BonusPoints, err = lenientNumber(j.BonusPoints); err != nil {
		return fmt.Errorf("bonuspt_point: %w", err)
	}
	if out.OrderAmount, err = lenientNumber(j.OrderAmount); err != nil {
		return fmt.Errorf("order_amount: %w", err)
	}
	if out.GiftGive, err = lenientBool(j.GiftGive); err != nil {
		return fmt.Errorf("gift_give: %w", err)
	}
	out.PointType = PointType(j.PointType)
	out.MemberName = j.MemberName
	out.StoreName = j.StoreName
	if strings.TrimSpace(out.StoreName) == "" {
		out.StoreName = j.ShopName
	}
	out.PointMemo = j.PointMemo
	out.UsePointInstructions = j.UsePointInstructions
	if out.Raw, err = compact(b); err != nil {
		return err
	}
	*r = out
	return nil
}

// ExpiringPoints are points that expire at DeadLine.
type ExpiringPoints struct {
	// DeadLine is dead_line (到期日期); zone-less times are in Asia/Taipei.
	DeadLine time.Time `json:"dead_line"`
	// ExpiredPoint is expired_point (即將到期點數).
	ExpiredPoint json.Number `json:"expired_point"`
	// Raw is the entry's JSON as received, compacted; never encoded.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON reads an entry leniently and fills Raw.
func (p *ExpiringPoints) UnmarshalJSON(b []byte) error {
	var j struct {
		DeadLine     string          `json:"dead_line"`
		ExpiredPoint json.RawMessage `json:"expired_point"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	var out ExpiringPoints
	var err error
	if out.DeadLine, err = ParseTime(j.DeadLine); err != nil {
		return fmt.Errorf("dead_line: %w", err)
	}
	if out.ExpiredPoint, err = lenientNumber(j.ExpiredPoint); err != nil {
		return fmt.Errorf("expired_point: %w", err)
	}
	if out.Raw, err = compact(b); err != nil {
		return err
	}
	*p = out
	return nil
}

func compact(b []byte) (json.RawMessage, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// DecodeUsage decodes a points usage records answer body.
func DecodeUsage(body []byte) (Usage, error) {
	var u Usage
	if err := json.Unmarshal(body, &u); err != nil {
		return Usage{}, fmt.Errorf("decode points usage records: %w", err)
	}
	return u, nil
}

// PointsUsageRecords returns the points usage records in q's window
// (GET /v1/points_usage_records). An invalid q is rejected before any
// request. A 400 from the vendor (e.g. a date it does not accept) is an
// *APIError matching ErrBadRequest and is permanent.
func (c *Client) PointsUsageRecords(ctx context.Context, q UsageQuery) (Usage, error) {
	if err := q.Validate(); err != nil {
		return Usage{}, err
	}
	resp, err := c.get(ctx, OpPointsUsageRecord, PathPointsUsageRecords, q.Encode())
	if err != nil {
		return Usage{}, err
	}
	u, err := DecodeUsage(resp.body)
	if err != nil {
		return Usage{}, &TransportError{Op: OpPointsUsageRecord, HTTPStatus: resp.status, Err: err}
	}
	return u, nil
}
