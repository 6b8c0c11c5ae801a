package usage

import "encoding/json"

// Used is the data of a points.used event: one Wixtar points usage record
// (異動紀錄), announced once per Key. Field names are the vendor's in
// camelCase (order_id → orderId, bonuspt_point → bonusPoints, store_name or
// shop_name → storeName).
type Used struct {
	// Key identifies the record: order_id, date_time (Asia/Taipei,
	// 2006-01-02T15:04:05) and the lower-cased point_type joined by "|".
	Key     string `json:"key"`
	OrderID string `json:"orderId"`
	// DateTime is when it happened, RFC 3339 with +08:00.
	DateTime string `json:"dateTime"`
	// PointType is the vendor's point_type verbatim (an open set, e.g.
	// new_consumption, exchange_goods).
	PointType string `json:"pointType"`
	// BonusPoints is bonuspt_point, the vendor's number verbatim.
	BonusPoints json.Number `json:"bonusPoints"`
	// OrderAmount is order_amount as a decimal string.
	OrderAmount          string `json:"orderAmount"`
	GiftGive             bool   `json:"giftGive"`
	MemberName           string `json:"memberName,omitempty"`
	StoreName            string `json:"storeName,omitempty"`
	PointMemo            string `json:"pointMemo,omitempty"`
	UsePointInstructions string `json:"usePointInstructions,omitempty"`
}
