package coupon

import (
	"encoding/json"

	"github.com/loyaltybus/loyaltybus/events"
)

// Grant is the data of a coupon.grant command: one coupon for one member.
//
// For Shuyun (Provider empty or "shuyun") MemberID, MemberType, ChannelType
// and ProjectID are required and the command id is sent as X-Request-Sequence.
// For Pospal (Provider "pospal") PromotionCouponUID is required; Code, when
// empty, is DerivedCode(command id).
type Grant struct {
	// Provider is "pospal" for a Pospal grant; empty or "shuyun" means Shuyun.
	Provider string `json:"provider,omitempty"`

	// MemberID is the Shuyun member id (≤ 32 characters).
	MemberID string `json:"memberId,omitempty"`
	// MemberType is the Shuyun member type (≤ 20 characters).
	MemberType string `json:"memberType,omitempty"`
	// ChannelType is the Shuyun channel, e.g. KYLIN_GUIDE (≤ 20 characters).
	ChannelType string `json:"channelType,omitempty"`
	// ProjectID is the Shuyun coupon project (卡券项目) id (≤ 32 characters).
	ProjectID string `json:"projectId,omitempty"`
	// Params are Shuyun's grant extension attributes, a JSON object sent to
	// the vendor verbatim: the fields of GrantParams and any others.
	Params json.RawMessage `json:"params,omitempty"`

	// PromotionCouponUID is the Pospal coupon rule (优惠券规则) uid.
	PromotionCouponUID UID `json:"promotionCouponUid,omitempty"`
	// CustomerUID attaches the Pospal coupon code to a member; 0 leaves it
	// unattached.
	CustomerUID UID `json:"customerUid,omitempty"`
	// Code is the Pospal coupon code (核销码): 1–50 ASCII letters or digits,
	// unique per store. Empty: DerivedCode(command id).
	Code string `json:"code,omitempty"`
}

// GrantParams are the grant extension attributes Shuyun documents (doc 7.3).
// Marshal them into Grant.Params; other keys are allowed and passed on too.
type GrantParams struct {
	CampaignID       string `json:"campaignId,omitempty"`       // 活动ID, ≤ 100
	SelectShopCode   string `json:"selectShopCode,omitempty"`   // 选择门店编码, ≤ 32
	OrderID          string `json:"orderId,omitempty"`          // 订单ID, ≤ 32
	SharedBy         string `json:"sharedBy,omitempty"`         // 分享人ID, ≤ 32
	SharedCouponCode string `json:"sharedCouponCode,omitempty"` // 分享券ID, ≤ 32
}

// Operation is the data of the Shuyun coupon state commands (freeze, thaw,
// writeoff, reverse, invalidate, reinstate; redeem has its own type because
// it may also go to Pospal). CouponCode, MemberType and ChannelType are
// required.
type Operation struct {
	// CouponCode is the coupon code (≤ 100 characters); it orders the
	// operations on one coupon.
	CouponCode string `json:"couponCode"`
	// MemberType is the Shuyun member type.
	MemberType string `json:"memberType"`
	// ChannelType is the Shuyun channel.
	ChannelType string `json:"channelType"`
	// MemberID optionally names the coupon's holder. It is not sent to the
	// vendor; it is carried into the change event for subscribers.
	MemberID string `json:"memberId,omitempty"`
	// Params are the operation's extension attributes, a JSON object sent to
	// the vendor verbatim: the fields of OperationParams and any others.
	Params json.RawMessage `json:"params,omitempty"`
}

// OperationParams are the extension attributes Shuyun documents for coupon
// operations (doc 7.4). Marshal them into Params; other keys pass on too.
type OperationParams struct {
	ShopCode    string `json:"shopCode,omitempty"`    // 核销门店编码, ≤ 32
	EmployeeID  string `json:"employeeId,omitempty"`  // 核销员工号, ≤ 64
	CounterID   string `json:"counterId,omitempty"`   // 核销POS机号, ≤ 64
	TicketNum   string `json:"ticketNum,omitempty"`   // 核销小票号, ≤ 64
	RecordID    string `json:"recordId,omitempty"`    // 兑换记录ID, ≤ 32
	ProductCode string `json:"productCode,omitempty"` // 核销商品编码, ≤ 32
}

// Redeem is the data of a coupon.redeem command. For Shuyun (Provider empty
// or "shuyun", POST /offer/coupon/use) CouponCode, MemberType and ChannelType
// are required; for Pospal (Provider "pospal", promotionCouponCode/use) only
// CouponCode, the Pospal code.
type Redeem struct {
	// Provider is "pospal" for a Pospal code; empty or "shuyun" means Shuyun.
	Provider string `json:"provider,omitempty"`
	// CouponCode is the coupon code (Pospal: 1–50 ASCII letters or digits).
	CouponCode string `json:"couponCode"`
	// MemberType and ChannelType are Shuyun's; required for Shuyun.
	MemberType  string `json:"memberType,omitempty"`
	ChannelType string `json:"channelType,omitempty"`
	// MemberID optionally names the coupon's holder, for the change event.
	MemberID string `json:"memberId,omitempty"`
	// Params are Shuyun's extension attributes (OperationParams and others).
	Params json.RawMessage `json:"params,omitempty"`
	// CustomerUID is the Pospal member redeeming the code; 0 sends none.
	CustomerUID UID `json:"customerUid,omitempty"`
	// UseDateTime is when a Pospal code was used: RFC 3339 with an offset, or
	// yyyy-MM-dd HH:mm:ss in Asia/Shanghai. Empty: the vendor's clock.
	UseDateTime string `json:"useDateTime,omitempty"`
}

// Freeze is the data of a coupon.freeze command (Shuyun /offer/coupon/frozen).
type Freeze Operation

// Thaw is the data of a coupon.thaw command (Shuyun /offer/coupon/thaw).
type Thaw Operation

// WriteOff is the data of a coupon.writeoff command: redeem a frozen coupon
// (Shuyun /offer/coupon/writeoff).
type WriteOff Operation

// Reverse is the data of a coupon.reverse command: undo a redemption (Shuyun
// /offer/coupon/anticounting, 反核销).
type Reverse Operation

// Invalidate is the data of a coupon.invalidate command (Shuyun
// /offer/coupon/invalid).
type Invalidate Operation

// Reinstate is the data of a coupon.reinstate command: make an invalidated
// coupon valid again (Shuyun /offer/coupon/effective).
type Reinstate Operation

// Command reports the command this data belongs to.
func (Grant) Command() events.Command { return GrantCommand }

// Command reports the command this data belongs to.
func (Redeem) Command() events.Command { return RedeemCommand }

// Command reports the command this data belongs to.
func (Freeze) Command() events.Command { return FreezeCommand }

// Command reports the command this data belongs to.
func (Thaw) Command() events.Command { return ThawCommand }

// Command reports the command this data belongs to.
func (WriteOff) Command() events.Command { return WriteOffCommand }

// Command reports the command this data belongs to.
func (Reverse) Command() events.Command { return ReverseCommand }

// Command reports the command this data belongs to.
func (Invalidate) Command() events.Command { return InvalidateCommand }

// Command reports the command this data belongs to.
func (Reinstate) Command() events.Command { return ReinstateCommand }
