package coupon

import "encoding/json"

// Granted is the data of a coupon.granted event: one per coupon instance the
// vendor reported.
type Granted struct {
	// Provider is "shuyun" or "pospal".
	Provider string `json:"provider"`
	// CouponCode is the code the member presents (Pospal: the code added),
	// present whenever the vendor reported one.
	CouponCode string `json:"couponCode,omitempty"`
	// MemberID, MemberType, ChannelType and ProjectID are the Shuyun grant's.
	MemberID    string `json:"memberId,omitempty"`
	MemberType  string `json:"memberType,omitempty"`
	ChannelType string `json:"channelType,omitempty"`
	ProjectID   string `json:"projectId,omitempty"`
	// InstanceID is the Shuyun coupon instance id.
	InstanceID string `json:"instanceId,omitempty"`
	// Status is the Shuyun instance state after the grant, e.g. GRANTED.
	Status string `json:"status,omitempty"`
	// GrantTime is when Shuyun granted the coupon, RFC 3339.
	GrantTime string `json:"grantTime,omitempty"`
	// Params are the Shuyun grant's extension attributes as sent.
	Params json.RawMessage `json:"params,omitempty"`
	// PromotionCouponUID and CustomerUID are the Pospal grant's.
	PromotionCouponUID UID `json:"promotionCouponUid,omitempty"`
	CustomerUID        UID `json:"customerUid,omitempty"`
}

// StateChange is the data of the coupon state events other than redeemed:
// the operation the vendor confirmed on one coupon.
type StateChange struct {
	// Provider is "shuyun".
	Provider string `json:"provider"`
	// CouponCode is the coupon operated on.
	CouponCode string `json:"couponCode"`
	// Status is the Shuyun state the coupon is in after the operation:
	// FROZEN, VALID, USED or EXPIRED.
	Status string `json:"status,omitempty"`
	// MemberID is the holder, when the command named one.
	MemberID    string `json:"memberId,omitempty"`
	MemberType  string `json:"memberType,omitempty"`
	ChannelType string `json:"channelType,omitempty"`
	// Params are the operation's extension attributes as sent.
	Params json.RawMessage `json:"params,omitempty"`
}

// Redeemed is the data of a coupon.redeemed event.
type Redeemed struct {
	// Provider is "shuyun" or "pospal".
	Provider   string `json:"provider"`
	CouponCode string `json:"couponCode"`
	// Status is the Shuyun state after redemption, USED; empty for Pospal.
	Status      string          `json:"status,omitempty"`
	MemberID    string          `json:"memberId,omitempty"`
	MemberType  string          `json:"memberType,omitempty"`
	ChannelType string          `json:"channelType,omitempty"`
	Params      json.RawMessage `json:"params,omitempty"`
	// CustomerUID is the Pospal member who redeemed the code, when given.
	CustomerUID UID `json:"customerUid,omitempty"`
	// UseDateTime is when the Pospal code was used, RFC 3339, when the
	// command gave it (otherwise the vendor used its own clock).
	UseDateTime string `json:"useDateTime,omitempty"`
}

// Frozen is the data of a coupon.frozen event.
type Frozen StateChange

// Thawed is the data of a coupon.thawed event.
type Thawed StateChange

// WrittenOff is the data of a coupon.writtenoff event: a frozen coupon was
// redeemed.
type WrittenOff StateChange

// Reversed is the data of a coupon.reversed event: a redemption was undone.
type Reversed StateChange

// Invalidated is the data of a coupon.invalidated event.
type Invalidated StateChange

// Reinstated is the data of a coupon.reinstated event.
type Reinstated StateChange
