package pospal

import (
	"encoding/json"
	"strings"
)

// Ticket is a sales ticket (流水单) as returned by the ticket queries. Fields
// whose type the docs and public clients agree on are strict (uids are int64,
// never float64); amounts are json.Number, which accepts a number or a
// numeric string and keeps every digit. Raw keeps the ticket's JSON as
// received, including fields not declared here; it is not encoded.
type Ticket struct {
	// UID is the ticket's uid, the key of the paging order.
	UID int64 `json:"uid"`
	// SN is the ticket's serial number, unique per store.
	SN string `json:"sn"`
	// DateTime is when the sale happened (Asia/Shanghai).
	DateTime DateTime `json:"datetime"`
	// CashierUID is the cashier's uid.
	CashierUID int64 `json:"cashierUid,omitempty"`
	// Cashier is the cashier, when the vendor includes it.
	Cashier *Cashier `json:"cashier,omitempty"`
	// CustomerUID is the member; 0 means no member.
	CustomerUID int64 `json:"customerUid"`
	// TotalAmount is the amount paid.
	TotalAmount json.Number `json:"totalAmount"`
	// TotalProfit is the profit of the ticket.
	TotalProfit json.Number `json:"totalProfit,omitempty"`
	// Discount is a percentage: 100 means no discount.
	Discount json.Number `json:"discount,omitempty"`
	// Rounding is the amount rounded off.
	Rounding json.Number `json:"rounding,omitempty"`
	// TicketType is SELL or SELL_RETURN (any case).
	TicketType string `json:"ticketType"`
	// Invalid is 1 for a voided ticket.
	Invalid int `json:"invalid"`
	// ExternalOrderNo is the order number of an external payment.
	ExternalOrderNo string `json:"externalOrderNo,omitempty"`
	// WebOrderNo is set for orders of delivery platforms.
	WebOrderNo string `json:"webOrderNo,omitempty"`
	// Remark is the cashier's note.
	Remark string `json:"remark,omitempty"`
	// TaxFee is the tax, when present.
	TaxFee json.Number `json:"taxFee,omitempty"`
	// ServiceFee is the service fee, when present.
	ServiceFee json.Number `json:"serviceFee,omitempty"`
	// Payments are the payments by method code.
	Payments []Payment `json:"payments"`
	// Items are the sold products.
	Items []Item `json:"items"`
	// TicketStoreAppIDOrAccount names the store of the ticket.
	TicketStoreAppIDOrAccount string `json:"ticketStoreAppIdOrAccount,omitempty"`

	// Raw is the ticket's JSON as received; nil for a ticket built in code.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes the declared fields and keeps the input in Raw.
func (t *Ticket) UnmarshalJSON(b []byte) error {
	type plain Ticket
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*t = Ticket(p)
	t.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// Return reports whether the ticket is a refund (SELL_RETURN).
func (t *Ticket) Return() bool { return strings.EqualFold(t.TicketType, "SELL_RETURN") }

// Voided reports whether the ticket was voided (invalid = 1).
func (t *Ticket) Voided() bool { return t.Invalid == 1 }

// Cashier is the cashier of a ticket.
type Cashier struct {
	// UID is the cashier's uid.
	UID int64 `json:"uid"`
	// JobNumber is the cashier's job number.
	JobNumber string `json:"jobNumber,omitempty"`
	// Name is the cashier's name.
	Name string `json:"name,omitempty"`
}

// Payment is one payment of a ticket.
type Payment struct {
	// Code is the merchant's payment method code, e.g. "payCode_1".
	Code string `json:"code"`
	// Amount is the amount paid with this method.
	Amount json.Number `json:"amount"`
}

// Item is one product line of a ticket.
type Item struct {
	// Name is the product name.
	Name string `json:"name"`
	// ProductUID is the product's uid.
	ProductUID int64 `json:"productUid,omitempty"`
	// ProductBarcode is the product's barcode.
	ProductBarcode string `json:"productBarcode,omitempty"`
	// BuyPrice is the purchase price.
	BuyPrice json.Number `json:"buyPrice,omitempty"`
	// SellPrice is the list price.
	SellPrice json.Number `json:"sellPrice,omitempty"`
	// CustomerPrice is the member price.
	CustomerPrice json.Number `json:"customerPrice,omitempty"`
	// Quantity is the quantity sold (fractional for weighed goods).
	Quantity json.Number `json:"quantity"`
	// Discount is a percentage: 100 means none.
	Discount json.Number `json:"discount,omitempty"`
	// CustomerDiscount is the member discount percentage.
	CustomerDiscount json.Number `json:"customerDiscount,omitempty"`
	// IsCustomerDiscount is 1 when the member discount applied.
	IsCustomerDiscount int `json:"isCustomerDiscount,omitempty"`
	// TotalAmount is the line amount.
	TotalAmount json.Number `json:"totalAmount"`
	// TotalProfit is the line profit.
	TotalProfit json.Number `json:"totalProfit,omitempty"`
	// IsWeighing is 1 for weighed goods.
	IsWeighing int `json:"isWeighing,omitempty"`
	// Attributes are the line's options; the vendor's key is all lower case.
	Attributes []ItemAttribute `json:"ticketitemattributes,omitempty"`
	// DiscountDetails are kept as received; their shape varies.
	DiscountDetails []json.RawMessage `json:"discountDetails,omitempty"`
	// SaleGuiderList is kept as received.
	SaleGuiderList []json.RawMessage `json:"saleGuiderList,omitempty"`
}

// ItemAttribute is an option of an item, such as "Extra: one spoon".
type ItemAttribute struct {
	// AttributeName is the option's name.
	AttributeName string `json:"attributeName"`
	// AttributeValue is the chosen value.
	AttributeValue string `json:"attributeValue"`
}
