package cheques

import "encoding/json"

// Recorded is the data of a cheque.recorded event: a cheque uuid seen on a
// register for the first time. The cheque's own fields follow the ids.
type Recorded struct {
	// Register is the configured name of the cash register.
	Register string `json:"register"`
	// UUID is the cheque's uuid (info.uuid).
	UUID string `json:"uuid"`
	// Revision counts the contents announced for this cheque: 1 here.
	Revision int `json:"revision"`
	// ContentHash is the hex SHA-256 of the cheque's canonical JSON as the
	// register sent it (object keys sorted, numbers verbatim).
	ContentHash string `json:"contentHash"`
	Cheque
}

// Updated is the data of a cheque.updated event: the cheque's content
// changed since it was last seen.
type Updated struct {
	Register string `json:"register"`
	UUID     string `json:"uuid"`
	// Revision counts the contents announced for this cheque: 2 for the
	// first update, and so on. A cheque changed back to an earlier content
	// is a new revision.
	Revision    int    `json:"revision"`
	ContentHash string `json:"contentHash"`
	// PreviousHash is the ContentHash of the revision before.
	PreviousHash string `json:"previousHash"`
	Cheque
}

// Cheque is a parked cheque in the register's terms. Money, quantities and
// rates are decimal strings exactly as the register wrote them.
type Cheque struct {
	Info           ChequeInfo `json:"info"`
	Currency       string     `json:"currency,omitempty"`
	ChequeDiscount *Discount  `json:"chequeDiscount,omitempty"`
	SubTotal       string     `json:"subTotal,omitempty"`
	Total          string     `json:"total,omitempty"`
	Items          []Item     `json:"items"`
	Payments       []Payment  `json:"payments"`
}

// ChequeInfo identifies a cheque.
type ChequeInfo struct {
	UUID string `json:"uuid"`
	Name string `json:"name,omitempty"`
	// ChequeType is ChequePostponed or ChequeOrder.
	ChequeType string `json:"chequeType"`
	// Table and Place are set for Order cheques only.
	Table *int `json:"table,omitempty"`
	Place *int `json:"place,omitempty"`
}

// Item is a line of a cheque.
type Item struct {
	Name     string    `json:"name,omitempty"`
	Code     *ItemCode `json:"code,omitempty"`
	Price    string    `json:"price"`
	Quantity string    `json:"quantity"`
	Discount *Discount `json:"discount,omitempty"`
	Tax      *Tax      `json:"tax,omitempty"`
	Sum      string    `json:"sum"`
	Total    string    `json:"total"`
}

// ItemCode is an item's code; Value is the register's JSON number verbatim.
type ItemCode struct {
	Type  int         `json:"type"`
	Value json.Number `json:"value"`
}

// Discount is a discount of a cheque or an item; Value is a percentage when
// IsPercent, and Sum the computed amount.
type Discount struct {
	IsPercent bool   `json:"isPercent"`
	Value     string `json:"value"`
	Sum       string `json:"sum,omitempty"`
}

// Tax is the tax of an item.
type Tax struct {
	Rate  string `json:"rate"`
	Value string `json:"value"`
}

// Payment is a payment of a cheque; Type is kept as the register sent it.
type Payment struct {
	Type json.RawMessage `json:"type,omitempty"`
	Sum  string          `json:"sum"`
}
