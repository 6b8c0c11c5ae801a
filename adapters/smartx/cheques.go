package smartx

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
)

// IntentGetCheques is the INTENT_OPERATION_TYPE that lists parked cheques.
const IntentGetCheques = "GET_CHEQUES"

// ChequeType says what kind of parked cheque it is. Values other than the
// constants below are kept verbatim.
type ChequeType string

// Cheque types documented for GET_CHEQUES.
const (
	// ChequePostponed is a cheque put aside (отложенный).
	ChequePostponed ChequeType = "Postponed"
	// ChequeOrder is a restaurant order with a table and a place.
	ChequeOrder ChequeType = "Order"
)

// Cheque is one open (parked) cheque as GET_CHEQUES returns it. Field names
// follow the vendor's JSON.
type Cheque struct {
	Info           ChequeInfo `json:"info"`
	Currency       string     `json:"currency,omitempty"`
	ChequeDiscount *Discount  `json:"chequeDiscount,omitempty"`
	// SubTotal is the sum of the items' totals before the cheque discount.
	SubTotal Decimal `json:"subTotal,omitempty"`
	// Total is what the customer pays.
	Total    Decimal   `json:"total,omitempty"`
	Items    []Item    `json:"items"`
	Payments []Payment `json:"payments"`

	// Raw is the cheque's JSON object as the register sent it, with
	// insignificant whitespace removed, for hashing and forwarding. It is
	// filled by GetCheques and never encoded.
	Raw json.RawMessage `json:"-"`
}

// ChequeInfo identifies a cheque.
type ChequeInfo struct {
	UUID       string     `json:"uuid"`
	Name       string     `json:"name,omitempty"`
	ChequeType ChequeType `json:"chequeType"`
	// Table and Place are set on Order cheques only.
	Table *int `json:"table,omitempty"`
	Place *int `json:"place,omitempty"`
}

// Item is one cheque line. Name, Code, Discount and Tax are optional.
type Item struct {
	Name     string    `json:"name,omitempty"`
	Code     *ItemCode `json:"code,omitempty"`
	Price    Decimal   `json:"price"`
	Quantity Decimal   `json:"quantity"`
	Discount *Discount `json:"discount,omitempty"`
	Tax      *Tax      `json:"tax,omitempty"`
	// Sum is price × quantity; Total is Sum less the discount.
	Sum   Decimal `json:"sum"`
	Total Decimal `json:"total"`
}

// ItemCode is a goods code: Type is an integer kind, Value a JSON number.
type ItemCode struct {
	Type  int         `json:"type"`
	Value json.Number `json:"value"`
}

// Discount is a line or cheque discount. Value is a percentage when
// IsPercent is true and an amount otherwise; Sum is the computed amount.
type Discount struct {
	IsPercent bool    `json:"isPercent"`
	Value     Decimal `json:"value"`
	Sum       Decimal `json:"sum,omitempty"`
}

// Tax is the VAT on a line: Rate in percent, Value the amount.
type Tax struct {
	Rate  Decimal `json:"rate"`
	Value Decimal `json:"value"`
}

// Payment is a payment recorded on a cheque. The GET_CHEQUES page shows only
// empty payment lists; the shape is the one SALE answers use
// (payments[{type, sum}]), and the cheque's Raw keeps whatever was sent.
type Payment struct {
	Type json.RawMessage `json:"type,omitempty"`
	Sum  Decimal         `json:"sum"`
}

type chequesRequest struct {
	UUIDs []string `json:"uuids"`
}

type chequesAnswer struct {
	Cheques []json.RawMessage `json:"cheques"`
}

// GetCheques returns the register's parked cheques: all of them when uuids
// is empty, otherwise the listed ones. UUID syntax is not checked; a uuid the
// register does not know fails the whole call with an *APIError matching
// ErrChequesNotFound (resultCode 488, permanent). The Raw field of each
// cheque is filled.
func (c *Client) GetCheques(ctx context.Context, uuids []string) ([]Cheque, error) {
	if uuids == nil {
		uuids = []string{}
	}
	status, body, err := c.do(ctx, IntentGetCheques, chequesRequest{UUIDs: uuids})
	if err != nil {
		return nil, err
	}
	cheques, err := DecodeCheques(body)
	if err != nil {
		return nil, c.transportError(IntentGetCheques, status, err)
	}
	return cheques, nil
}

// DecodeCheques decodes the cheques of a successful GET_CHEQUES answer body
// and fills their Raw fields. It does not look at resultCode. A missing or
// null cheques list yields no cheques.
func DecodeCheques(body []byte) ([]Cheque, error) {
	var a chequesAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, fmt.Errorf("decode GET_CHEQUES answer: %w", err)
	}
	out := make([]Cheque, 0, len(a.Cheques))
	for i, raw := range a.Cheques {
		var ch Cheque
		if err := json.Unmarshal(raw, &ch); err != nil {
			return nil, fmt.Errorf("decode cheque %d: %w", i, err)
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return nil, fmt.Errorf("compact cheque %d: %w", i, err)
		}
		ch.Raw = buf.Bytes()
		out = append(out, ch)
	}
	return out, nil
}
