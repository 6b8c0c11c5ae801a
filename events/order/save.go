package order

import (
	"encoding/json"

	"github.com/loyaltybus/loyaltybus/events"
)

// Save is the data of an order.save command: the Shuyun Order object (doc 003
// §6.3), field for field. OrderID, MemberType, ChannelType, OrderType,
// OrderStatus, Payment, TotalFee, TotalQuantity, ShopCode and ShopName are
// required. Amounts are json.Number so they pass through exactly; times are
// yyyy-MM-dd HH:mm:ss in Asia/Shanghai or RFC 3339 with an offset.
//
// The struct is a convenience for Go publishers: the bus forwards the data as
// published, so keys this struct does not know are sent to the vendor too.
type Save struct {
	MemberType        string      `json:"memberType"`
	OrderID           string      `json:"orderId"`
	OriginOrderID     string      `json:"originOrderId,omitempty"` // the original order of a refund
	CustomerNo        string      `json:"customerNo,omitempty"`
	ShopCode          string      `json:"shopCode"`
	ShopName          string      `json:"shopName"`
	MemberID          string      `json:"memberId,omitempty"`
	ShopTypeCode      string      `json:"shopTypeCode,omitempty"`
	OrderType         string      `json:"orderType"` // NORMAL or REFUND
	OrderStatus       string      `json:"orderStatus"`
	ChannelType       string      `json:"channelType"`
	TotalQuantity     json.Number `json:"totalQuantity"` // an integer
	TotalFee          json.Number `json:"totalFee"`      // 应付金额
	Payment           json.Number `json:"payment"`       // 实付金额
	Freight           json.Number `json:"freight,omitempty"`
	DiscountRate      json.Number `json:"discountRate,omitempty"` // ≤ 1
	DiscountFee       json.Number `json:"discountFee,omitempty"`
	ReceiverName      string      `json:"receiverName,omitempty"`
	ReceiverMobile    string      `json:"receiverMobile,omitempty"`
	ReceiverTelephone string      `json:"receiverTelephone,omitempty"`
	ReceiverProvince  string      `json:"receiverProvince,omitempty"`
	ReceiverCity      string      `json:"receiverCity,omitempty"`
	ReceiverDistrict  string      `json:"receiverDistrict,omitempty"`
	ReceiverAddress   string      `json:"receiverAddress,omitempty"`
	ReceiverZipCode   string      `json:"receiverZipCode,omitempty"`
	CouponNo          string      `json:"couponNo,omitempty"`
	CouponFee         json.Number `json:"couponFee,omitempty"`
	GuideCode         string      `json:"guideCode,omitempty"`
	Description       string      `json:"description,omitempty"`
	OrderTime         string      `json:"orderTime,omitempty"`
	PayTime           string      `json:"payTime,omitempty"`
	FinishTime        string      `json:"finishTime,omitempty"`
	ReceiveTime       string      `json:"receiveTime,omitempty"`
	ShippingTime      string      `json:"shippingTime,omitempty"`
	ExchangeTime      string      `json:"exchangeTime,omitempty"`
	RefundTime        string      `json:"refundTime,omitempty"`
	// PointFlag is 1 to compute points for the order, 0 not to.
	PointFlag  json.Number `json:"pointFlag,omitempty"`
	OrderItems []Item      `json:"orderItems,omitempty"`
	// CustomizedProperties are the order's extension fields: ticketNum,
	// salesMode, presaleFlag, presaleStoreId, presalePosId, presaleBillNo,
	// presaleReturnStoreId, presaleReturnPosId, presaleReturnBillNo,
	// orderSource, and others.
	CustomizedProperties map[string]string `json:"customizedProperties,omitempty"`
}

// Item is one line (子订单) of an order, as in the doc's example.
type Item struct {
	OrderItemID          string            `json:"orderItemId,omitempty"`
	OriginOrderItemID    string            `json:"originOrderItemId,omitempty"`
	ProductCode          string            `json:"productCode,omitempty"`
	ProductName          string            `json:"productName,omitempty"`
	TotalFee             json.Number       `json:"totalFee,omitempty"`
	Payment              json.Number       `json:"payment,omitempty"`
	Quantity             json.Number       `json:"quantity,omitempty"`
	ChannelType          string            `json:"channelType,omitempty"`
	Status               string            `json:"status,omitempty"`
	SkuID                string            `json:"skuId,omitempty"`
	ShopTypeCode         string            `json:"shopTypeCode,omitempty"`
	TagPrice             json.Number       `json:"tagPrice,omitempty"`
	RetailPrice          json.Number       `json:"retailPrice,omitempty"`
	DiscountRate         json.Number       `json:"discountRate,omitempty"`
	DiscountFee          json.Number       `json:"discountFee,omitempty"`
	OrderType            string            `json:"orderType,omitempty"`
	FinishTime           string            `json:"finishTime,omitempty"`
	PayTime              string            `json:"payTime,omitempty"`
	OrderTime            string            `json:"orderTime,omitempty"`
	Picture              []string          `json:"picture,omitempty"`
	CustomizedProperties map[string]string `json:"customizedProperties,omitempty"`
}

// Command reports the command this data belongs to.
func (Save) Command() events.Command { return SaveCommand }

// Saved is the data of an order.saved event: the vendor accepted the order.
// It carries the order's identity, state and amounts, not its receiver
// (personal data) or lines; the full order is the command (causationid).
type Saved struct {
	OrderID       string      `json:"orderId"`
	OrderType     string      `json:"orderType"`
	OrderStatus   string      `json:"orderStatus"`
	OriginOrderID string      `json:"originOrderId,omitempty"`
	MemberID      string      `json:"memberId,omitempty"`
	MemberType    string      `json:"memberType"`
	ChannelType   string      `json:"channelType"`
	CustomerNo    string      `json:"customerNo,omitempty"`
	ShopCode      string      `json:"shopCode"`
	ShopName      string      `json:"shopName"`
	TotalQuantity json.Number `json:"totalQuantity"`
	TotalFee      json.Number `json:"totalFee"`
	Payment       json.Number `json:"payment"`
	CouponNo      string      `json:"couponNo,omitempty"`
	// TicketNum is customizedProperties.ticketNum, the POS receipt number.
	TicketNum string `json:"ticketNum,omitempty"`
	// OrderTime and PayTime are RFC 3339 (the vendor's times read in
	// Asia/Shanghai).
	OrderTime string `json:"orderTime,omitempty"`
	PayTime   string `json:"payTime,omitempty"`
	// ItemCount is the number of order lines sent.
	ItemCount int `json:"itemCount"`
}
