// Package orders serves the order.save command against Shuyun CRM (POST
// /order/save). It holds handlers only; consuming, validation, idempotency,
// retries and publishing are the runtime's (pkg/bus).
//
// The command's data, the doc's Order object, is forwarded to the vendor as
// published, so every field reaches it, those the contract does not name
// included. The one change: times given as RFC 3339 (the contract's form) are
// rewritten in the vendor's yyyy-MM-dd HH:mm:ss, Asia/Shanghai; data whose
// times are already in that form is sent byte for byte.
//
// Shuyun upserts by orderId and orderType and the call takes no token, so a
// repeat after a lost answer saves the same order again, which is harmless;
// the idempotency record stops repeats once the outcome is recorded. Saves are
// ordered by orderId (events/order), so a later state of an order is never
// overwritten by an earlier one.
package orders

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/loyaltybus/loyaltybus/adapters/shuyun"
	"github.com/loyaltybus/loyaltybus/events/order"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/services/internal/routing"
)

// Name is the service name: its durable consumer and output source.
const Name = "orders"

// Vendor is what the service needs from Shuyun.
type Vendor interface {
	SaveOrder(ctx context.Context, order json.RawMessage) (json.RawMessage, error)
}

var _ Vendor = (*shuyun.Client)(nil)

// Service holds the order handlers. It is safe for concurrent use.
type Service struct {
	vendor Vendor
}

// New returns the order service calling vendor.
func New(vendor Vendor) *Service { return &Service{vendor: vendor} }

// Routes lists the commands the service handles.
func (s *Service) Routes() []bus.Route {
	return []bus.Route{routing.Route(order.SaveCommand, s.save)}
}

// facts are the fields of an order the result and the event report.
type facts struct {
	OrderID       string      `json:"orderId"`
	OrderType     string      `json:"orderType"`
	OrderStatus   string      `json:"orderStatus"`
	OriginOrderID string      `json:"originOrderId"`
	MemberID      string      `json:"memberId"`
	MemberType    string      `json:"memberType"`
	ChannelType   string      `json:"channelType"`
	CustomerNo    string      `json:"customerNo"`
	ShopCode      string      `json:"shopCode"`
	ShopName      string      `json:"shopName"`
	TotalQuantity json.Number `json:"totalQuantity"`
	TotalFee      json.Number `json:"totalFee"`
	Payment       json.Number `json:"payment"`
	CouponNo      string      `json:"couponNo"`
	OrderTime     string      `json:"orderTime"`
	PayTime       string      `json:"payTime"`
	OrderItems    []struct{}  `json:"orderItems"`
	Custom        struct {
		TicketNum string `json:"ticketNum"`
	} `json:"customizedProperties"`
}

// saveOutput is the result output of a save.
type saveOutput struct {
	OrderID     string `json:"orderId"`
	OrderType   string `json:"orderType"`
	OrderStatus string `json:"orderStatus"`
	MemberID    string `json:"memberId,omitempty"`
	// VendorAnswer is the vendor's answer body, when it sent one.
	VendorAnswer json.RawMessage `json:"vendorAnswer,omitempty"`
}

func (s *Service) save(ctx context.Context, cmd *bus.Command) (*bus.Outcome, error) {
	var f facts
	if err := cmd.Decode(&f); err != nil {
		return nil, err
	}
	body, err := vendorOrder(cmd.Data)
	if err != nil {
		return nil, err
	}
	answer, err := s.vendor.SaveOrder(ctx, body)
	if err != nil {
		return nil, fmt.Errorf("save %s order %s: %w", f.OrderType, f.OrderID, err)
	}
	if !json.Valid(answer) {
		answer = nil
	}
	return &bus.Outcome{
		Output: saveOutput{OrderID: f.OrderID, OrderType: f.OrderType, OrderStatus: f.OrderStatus, MemberID: f.MemberID, VendorAnswer: answer},
		Changes: []bus.Change{routing.Change(order.SavedChange, order.Saved{
			OrderID: f.OrderID, OrderType: f.OrderType, OrderStatus: f.OrderStatus, OriginOrderID: f.OriginOrderID,
			MemberID: f.MemberID, MemberType: f.MemberType, ChannelType: f.ChannelType, CustomerNo: f.CustomerNo,
			ShopCode: f.ShopCode, ShopName: f.ShopName, TotalQuantity: f.TotalQuantity, TotalFee: f.TotalFee,
			Payment: f.Payment, CouponNo: f.CouponNo, TicketNum: f.Custom.TicketNum,
			OrderTime: eventTime(f.OrderTime), PayTime: eventTime(f.PayTime), ItemCount: len(f.OrderItems),
		})},
	}, nil
}

// Time fields of the Order object and of its items (doc 003 §6.3).
var (
	orderTimes = []string{"orderTime", "payTime", "finishTime", "receiveTime", "shippingTime", "exchangeTime", "refundTime"}
	itemTimes  = []string{"orderTime", "payTime", "finishTime"}
)

// vendorOrder returns the order to send: data itself when every time is in
// the vendor's form, else data with the RFC 3339 times rewritten (the rest of
// each value untouched; key order may change).
func vendorOrder(data []byte) ([]byte, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, bus.Reject("data", "must be a JSON object: %v", err)
	}
	changed, err := rewriteTimes(top, orderTimes, "data.")
	if err != nil {
		return nil, err
	}
	var items []json.RawMessage
	if raw, ok := top["orderItems"]; ok && json.Unmarshal(raw, &items) == nil {
		itemsChanged := false
		for i, raw := range items {
			var item map[string]json.RawMessage
			if json.Unmarshal(raw, &item) != nil {
				continue
			}
			c, err := rewriteTimes(item, itemTimes, fmt.Sprintf("data.orderItems.%d.", i))
			if err != nil {
				return nil, err
			}
			if c {
				if items[i], err = marshal(item); err != nil {
					return nil, err
				}
				itemsChanged = true
			}
		}
		if itemsChanged {
			if top["orderItems"], err = marshal(items); err != nil {
				return nil, err
			}
			changed = true
		}
	}
	if !changed {
		return data, nil
	}
	return marshal(top)
}

// rewriteTimes rewrites the named time fields of obj in the vendor's form and
// reports whether any changed.
func rewriteTimes(obj map[string]json.RawMessage, fields []string, prefix string) (bool, error) {
	changed := false
	for _, name := range fields {
		raw, ok := obj[name]
		if !ok {
			continue
		}
		var v string
		if json.Unmarshal(raw, &v) != nil {
			continue // not a string: the schema has said what it allows
		}
		t, vendorForm, err := parseTime(v)
		if err != nil {
			return false, bus.Reject(prefix+name, "must be RFC 3339 with an offset or yyyy-MM-dd HH:mm:ss, got %q", v)
		}
		if vendorForm {
			continue
		}
		b, err := json.Marshal(t.In(shuyun.ChinaStandardTime).Format(shuyun.RequestLayout))
		if err != nil {
			return false, fmt.Errorf("encode %s%s: %w", prefix, name, err)
		}
		obj[name] = b
		changed = true
	}
	return changed, nil
}

// parseTime reads the vendor's yyyy-MM-dd HH:mm:ss (vendorForm true) or an
// RFC 3339 time; a time without an offset is read in Asia/Shanghai.
func parseTime(s string) (t time.Time, vendorForm bool, err error) {
	if t, err := time.ParseInLocation(shuyun.RequestLayout, s, shuyun.ChinaStandardTime); err == nil {
		return t, true, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, false, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.ParseInLocation(layout, s, shuyun.ChinaStandardTime); err == nil {
			return t, false, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("unrecognised time %q", s)
}

// eventTime is a vendor time as RFC 3339 in Asia/Shanghai, or "" for none.
func eventTime(s string) string {
	if s == "" {
		return ""
	}
	t, _, err := parseTime(s)
	if err != nil {
		return ""
	}
	return t.In(shuyun.ChinaStandardTime).Format(time.RFC3339)
}

// marshal encodes v compactly, keeping <, > and & as they are.
func marshal(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode order: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
