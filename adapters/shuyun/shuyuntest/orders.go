package shuyuntest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
)

// orderKey identifies a saved order: the vendor upserts by orderId and orderType.
type orderKey struct{ orderID, orderType string }

// Order returns the order last saved with orderID (of either orderType), and whether one was.
func (s *Simulator) Order(orderID string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.lastOrder[orderID]
	if !ok {
		return nil, false
	}
	return slices.Clone(s.orders[k]), true
}

// OrderOfType returns the order saved with orderID and orderType (NORMAL or REFUND).
func (s *Simulator) OrderOfType(orderID, orderType string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[orderKey{orderID, orderType}]
	return slices.Clone(o), ok
}

// saveOrder handles POST /order/save.
func (s *Simulator) saveOrder(_ *http.Request, path string, body []byte) response {
	order := bytes.TrimSpace(body)
	// The doc's field table names a wrapper "Order" while its example is flat; accept both.
	var wrapped struct {
		Order json.RawMessage `json:"Order"`
	}
	if json.Unmarshal(order, &wrapped) == nil && len(wrapped.Order) > 0 {
		order = bytes.TrimSpace(wrapped.Order)
	}
	var o struct {
		OrderID       string       `json:"orderId"`
		MemberType    string       `json:"memberType"`
		ChannelType   string       `json:"channelType"`
		OrderType     string       `json:"orderType"`
		OrderStatus   string       `json:"orderStatus"`
		ShopCode      string       `json:"shopCode"`
		ShopName      string       `json:"shopName"`
		MemberID      string       `json:"memberId"`
		Payment       *json.Number `json:"payment"`
		TotalFee      *json.Number `json:"totalFee"`
		TotalQuantity *json.Number `json:"totalQuantity"`
	}
	dec := json.NewDecoder(bytes.NewReader(order))
	dec.UseNumber()
	if err := dec.Decode(&o); err != nil {
		return paramError(path, "body is not a valid order: "+err.Error())
	}
	reason := checkFields([]fieldCheck{
		{"orderId", o.OrderID, true, 32},
		{"memberType", o.MemberType, true, 20},
		{"channelType", o.ChannelType, true, 20},
		{"orderType", o.OrderType, true, 20},
		{"orderStatus", o.OrderStatus, true, 20},
		{"shopCode", o.ShopCode, true, 32},
		{"shopName", o.ShopName, true, 255},
		{"memberId", o.MemberID, false, 32},
	})
	switch {
	case reason != "":
	case o.OrderType != "NORMAL" && o.OrderType != "REFUND":
		reason = fmt.Sprintf("orderType %q is not NORMAL or REFUND", o.OrderType)
	case o.Payment == nil:
		reason = "payment is required"
	case o.TotalFee == nil:
		reason = "totalFee is required"
	case o.TotalQuantity == nil:
		reason = "totalQuantity is required"
	default:
		if _, err := o.TotalQuantity.Int64(); err != nil {
			reason = "totalQuantity is not an integer"
		}
	}
	if reason != "" {
		return paramError(path, reason)
	}

	var compact bytes.Buffer
	if err := json.Compact(&compact, order); err != nil {
		return paramError(path, "body is not valid JSON")
	}
	k := orderKey{o.OrderID, o.OrderType}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orders[k] = compact.Bytes()
	s.lastOrder[o.OrderID] = k
	s.applied(opKey{path, o.OrderID + ":" + o.OrderType})
	return response{status: http.StatusOK, header: http.Header{}}
}
