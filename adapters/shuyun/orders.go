package shuyun

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
)

// PathSaveOrder is the order save-or-update endpoint (doc 6.3).
const PathSaveOrder = "/order/save"

// SaveOrder saves or updates an order (POST /order/save). order is the vendor's Order object
// (orderId, memberType, channelType, orderType, orderStatus, payment, totalFee, totalQuantity,
// shopCode, shopName, orderItems, customizedProperties …) and is sent verbatim. The vendor
// upserts by orderId and orderType, so a retry is harmless. It returns the answer's body, which
// is nil when the vendor sent none.
func (c *Client) SaveOrder(ctx context.Context, order json.RawMessage) (json.RawMessage, error) {
	const op = "save order"
	body := bytes.TrimSpace(order)
	if len(body) == 0 || body[0] != '{' || !json.Valid(body) {
		return nil, errors.New("shuyun: save order: order is not a JSON object")
	}
	rep, err := c.do(ctx, request{op: op, method: http.MethodPost, path: PathSaveOrder, body: body})
	if err != nil {
		return nil, err
	}
	out := bytes.TrimSpace(rep.body)
	if len(out) == 0 {
		return nil, nil
	}
	return json.RawMessage(out), nil
}
