package pospal

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// OpQueryUsedPromotionCode lists the coupon codes used in a time window (doc
// 001, in the casing current SDKs use).
const OpQueryUsedPromotionCode = "promotionOpenApi/queryUsedPromotionCode"

// MaxUsedCodeWindow is the widest window the used-codes query accepts:
// excludeEndTime − startTime ≤ 5 days (doc 001). A wider one is refused
// before sending.
const MaxUsedCodeWindow = 5 * 24 * time.Hour

// UsedCodeQuery selects the coupon codes used in a time window.
type UsedCodeQuery struct {
	// StartTime (inclusive) and ExcludeEndTime (exclusive) bound the window
	// of use times. Both are required, sent as yyyy-MM-dd HH:mm:ss in
	// Asia/Shanghai (sub-second parts are dropped, so align them to whole
	// seconds), and ExcludeEndTime must be after StartTime by at most
	// MaxUsedCodeWindow.
	StartTime, ExcludeEndTime time.Time
	// Resume continues a walk after the page whose UsedCodePage.Next it is:
	// it is sent as postBackParameter of the first request. Nil starts at
	// the first page.
	Resume json.RawMessage
}

// UsedCode is a used coupon code (核销码) as the used-codes query returns it.
// The answer names the store account that used the code, not the member.
// Fields whose type doc 001 gets wrong or leaves open are
// [NumberOrString]. Raw keeps the record as received; it is not encoded.
type UsedCode struct {
	// Code is the coupon code.
	Code string `json:"code"`
	// PromotionCouponUID is the code's coupon rule.
	PromotionCouponUID int64 `json:"promotionCouponUid"`
	// PromotionCouponName is the rule's name.
	PromotionCouponName string `json:"promotionCouponName,omitempty"`
	// PromotionCouponAppID is typed integer by doc 001 with a copy-pasted
	// description; kept as text.
	PromotionCouponAppID NumberOrString `json:"promotionCouponAppId,omitempty"`
	// PromotionCouponAccount is the account that created the rule.
	PromotionCouponAccount string `json:"promotionCouponAccount,omitempty"`
	// PromotionCouponStartDate and PromotionCouponEndDate bound the rule.
	PromotionCouponStartDate DateTime `json:"promotionCouponStartDate"`
	PromotionCouponEndDate   DateTime `json:"promotionCouponEndDate"`
	// CreatedByUserAppID and CreatedByUserAccount name the store that added
	// the code; CreatedDateTime is when.
	CreatedByUserAppID   string   `json:"createdByUserAppId,omitempty"`
	CreatedByUserAccount string   `json:"createdByUserAccount,omitempty"`
	CreatedDateTime      DateTime `json:"createdDateTime"`
	// ExpiredDate is when the code expires; zero means the rule's end.
	ExpiredDate DateTime `json:"expiredDate"`
	// UsedByUserAppID and UsedByUserAccount name the store that used the
	// code. Any store's appId lists the codes of all stores.
	UsedByUserAppID   string `json:"usedByUserAppId,omitempty"`
	UsedByUserAccount string `json:"usedByUserAccount,omitempty"`
	// UsedDateTime is when the code was used: the useDateTime of the use
	// call, or the vendor's clock when none was sent.
	UsedDateTime DateTime `json:"usedDateTime"`
	// UsedByTicketUID is the sales ticket that used the code, if any.
	UsedByTicketUID NumberOrString `json:"usedByTicketUid,omitempty"`
	// UsedByProductOrderID is the order that used the code, if any.
	UsedByProductOrderID NumberOrString `json:"usedByProductOrderId,omitempty"`

	// Raw is the record's JSON as received; nil for one built in code.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes the declared fields and keeps the input in Raw.
func (u *UsedCode) UnmarshalJSON(b []byte) error {
	type plain UsedCode
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*u = UsedCode(p)
	u.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// NumberOrString is a field the vendor may send as a JSON number or string:
// the number's digits or the string's text, "" for null. It encodes as a
// string.
type NumberOrString string

// UnmarshalJSON implements json.Unmarshaler.
func (n *NumberOrString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*n = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*n = NumberOrString(s)
		return nil
	}
	var num json.Number
	if err := json.Unmarshal(b, &num); err != nil {
		return fmt.Errorf("pospal: want a number or a string, got %.40s", b)
	}
	*n = NumberOrString(num)
	return nil
}

// UsedCodePage is one page of a used-codes walk.
type UsedCodePage struct {
	// Number counts the pages of this walk from 1 (a resumed walk counts
	// anew).
	Number int
	// Codes are the page's used codes in the vendor's order.
	Codes []UsedCode
	// PageSize is the vendor's page size when the answer carries one (doc
	// 001 does not list it for this query), else 0.
	PageSize int
	// Request is the postBackParameter sent for this page (nil for the first
	// page of a walk that did not resume).
	Request json.RawMessage
	// Next is the postBackParameter the vendor returned, byte for byte.
	Next json.RawMessage
	// Last reports that no request follows this page.
	Last bool
}

// QueryUsedPromotionCodes walks the coupon codes used in a time window page
// by page (queryUsedPromotionCode), calling page for each page in order, and
// returns when the last page was handled. The vendor lists the codes used by
// every store of the account, whichever appId asks.
//
// Paging follows [Client.QueryCustomerHistoryTickets]: each request after the
// first echoes the previous postBackParameter unchanged; the walk stops after
// an empty page, a page shorter than a pageSize the answer states, or an
// answer without a usable postBackParameter, and stops with a [*LoopError]
// when an answer repeats a parameter already sent. An error returned by page
// stops the walk and is returned unchanged, so a caller looking for one code
// stops as soon as it has it.
//
// Each page costs one call of the daily quota. A window that is empty, wider
// than MaxUsedCodeWindow or missing a bound is refused before sending with a
// [*ValidationError]; the vendor answers 9003 (ErrBadRequest) to a wider
// window or a changed postBackParameter.
func (c *Client) QueryUsedPromotionCodes(ctx context.Context, q UsedCodeQuery, page func(p UsedCodePage) error) error {
	const op = OpQueryUsedPromotionCode
	if err := q.validate(); err != nil {
		return err
	}
	body := struct {
		AppID             string          `json:"appId"`
		StartTime         string          `json:"startTime"`
		ExcludeEndTime    string          `json:"excludeEndTime"`
		PostBackParameter json.RawMessage `json:"postBackParameter,omitempty"`
	}{
		AppID:          c.cfg.AppID,
		StartTime:      FormatDateTime(q.StartTime),
		ExcludeEndTime: FormatDateTime(q.ExcludeEndTime),
	}
	return walk(ctx, c, op, q.Resume, func(postBack json.RawMessage) any {
		body.PostBackParameter = postBack
		return body
	}, func(p rawPage[UsedCode]) error {
		return page(UsedCodePage{
			Number:   p.number,
			Codes:    p.result,
			PageSize: p.pageSize,
			Request:  p.request,
			Next:     p.next,
			Last:     p.last,
		})
	})
}

// validate checks the query before any call, on the times as they are sent
// (whole seconds).
func (q *UsedCodeQuery) validate() error {
	const op = OpQueryUsedPromotionCode
	start, end := q.StartTime.Truncate(time.Second), q.ExcludeEndTime.Truncate(time.Second)
	switch {
	case q.StartTime.IsZero():
		return &ValidationError{Op: op, Field: "startTime", Rule: "is required"}
	case q.ExcludeEndTime.IsZero():
		return &ValidationError{Op: op, Field: "excludeEndTime", Rule: "is required"}
	case !end.After(start):
		return &ValidationError{Op: op, Field: "excludeEndTime", Rule: "must be after startTime"}
	case end.Sub(start) > MaxUsedCodeWindow:
		return &ValidationError{Op: op, Field: "excludeEndTime", Rule: "must be at most 5 days after startTime"}
	case q.Resume != nil && !json.Valid(q.Resume):
		return &ValidationError{Op: op, Field: "postBackParameter", Rule: "resume value must be valid JSON"}
	}
	return nil
}
