package tickets

import "encoding/json"

// Recorded is the data of a ticket.recorded event: a Pospal ticket, announced
// once per sn. It is the ticket in the vendor's terms, with amounts as
// decimal strings exactly as the vendor wrote them and uids as exact JSON
// integers.
type Recorded struct {
	Ticket
}

// Ticket is a Pospal sales ticket (流水单).
type Ticket struct {
	// UID is the ticket's uid.
	UID int64 `json:"uid"`
	// SN is the ticket's serial number, the fact the event announces.
	SN string `json:"sn"`
	// DateTime is when the sale happened, RFC 3339 with +08:00.
	DateTime    string   `json:"datetime"`
	CashierUID  int64    `json:"cashierUid,omitempty"`
	Cashier     *Cashier `json:"cashier,omitempty"`
	CustomerUID int64    `json:"customerUid"`
	TotalAmount string   `json:"totalAmount"`
	TotalProfit string   `json:"totalProfit,omitempty"`
	// Discount is a percentage: "100" means none.
	Discount string `json:"discount,omitempty"`
	Rounding string `json:"rounding,omitempty"`
	// TicketType is SELL or SELL_RETURN.
	TicketType string `json:"ticketType"`
	// Invalid is 1 for a voided ticket.
	Invalid                   int       `json:"invalid"`
	ExternalOrderNo           string    `json:"externalOrderNo,omitempty"`
	WebOrderNo                string    `json:"webOrderNo,omitempty"`
	Remark                    string    `json:"remark,omitempty"`
	TaxFee                    string    `json:"taxFee,omitempty"`
	ServiceFee                string    `json:"serviceFee,omitempty"`
	Payments                  []Payment `json:"payments"`
	Items                     []Item    `json:"items"`
	TicketStoreAppIDOrAccount string    `json:"ticketStoreAppIdOrAccount,omitempty"`
}

// Cashier is the cashier of a ticket.
type Cashier struct {
	UID       int64  `json:"uid"`
	JobNumber string `json:"jobNumber,omitempty"`
	Name      string `json:"name,omitempty"`
}

// Payment is one payment of a ticket by the merchant's method code.
type Payment struct {
	Code   string `json:"code"`
	Amount string `json:"amount"`
}

// Item is one product line of a ticket.
type Item struct {
	Name               string            `json:"name"`
	ProductUID         int64             `json:"productUid,omitempty"`
	ProductBarcode     string            `json:"productBarcode,omitempty"`
	BuyPrice           string            `json:"buyPrice,omitempty"`
	SellPrice          string            `json:"sellPrice,omitempty"`
	CustomerPrice      string            `json:"customerPrice,omitempty"`
	Quantity           string            `json:"quantity"`
	Discount           string            `json:"discount,omitempty"`
	CustomerDiscount   string            `json:"customerDiscount,omitempty"`
	IsCustomerDiscount int               `json:"isCustomerDiscount,omitempty"`
	TotalAmount        string            `json:"totalAmount"`
	TotalProfit        string            `json:"totalProfit,omitempty"`
	IsWeighing         int               `json:"isWeighing,omitempty"`
	Attributes         []ItemAttribute   `json:"ticketitemattributes,omitempty"`
	DiscountDetails    []json.RawMessage `json:"discountDetails,omitempty"`
	SaleGuiderList     []json.RawMessage `json:"saleGuiderList,omitempty"`
}

// ItemAttribute is an option of an item; the vendor's key is all lower case.
type ItemAttribute struct {
	AttributeName  string `json:"attributeName"`
	AttributeValue string `json:"attributeValue"`
}
