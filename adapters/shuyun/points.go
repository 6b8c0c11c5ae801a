package shuyun

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// Points endpoint paths (doc 3.7–3.10), appended to Config.BaseURL.
const (
	PathChangePoints       = "/member/point"
	PathFreezePoints       = "/member/freezePoint"
	PathUnfreezePoints     = "/member/unfreezePoint"
	PathDeductFrozenPoints = "/member/freezeDeductPoint"
)

// FreezeRequest is the body of POST /member/freezePoint (doc 3.8).
type FreezeRequest struct {
	// MemberID is the Shuyun member id, at most 32 characters. Required.
	MemberID string `json:"memberId"`
	// MemberType is the member type, e.g. "shuyun". Required.
	MemberType string `json:"memberType"`
	// ChannelType is the channel, e.g. "POS". Required.
	ChannelType string `json:"channelType"`
	// Point is the number of points to freeze, greater than zero. Required.
	Point int64 `json:"point"`
	// Description is a remark (the doc marks it required; it is always sent, possibly empty).
	Description string `json:"description"`
	// ShopCode is the shop code, at most 32 characters. Optional.
	ShopCode string `json:"shopCode,omitempty"`
}

// UnfreezeRequest is the body of POST /member/unfreezePoint and POST /member/freezeDeductPoint
// (doc 3.9, 3.10). The points are those of the freeze named by the token.
type UnfreezeRequest struct {
	// MemberID is the Shuyun member id, at most 32 characters. Required.
	MemberID string `json:"memberId"`
	// MemberType is the member type. Required.
	MemberType string `json:"memberType"`
	// ChannelType is the channel. Required.
	ChannelType string `json:"channelType"`
	// Description is a remark (always sent, possibly empty).
	Description string `json:"description"`
	// ShopCode is the shop code. Optional.
	ShopCode string `json:"shopCode,omitempty"`
}

// ChangeType is the direction of a points change.
type ChangeType string

// Change types accepted by PUT /member/point. (The doc's enum also lists "END", a typo of SEND.)
const (
	ChangeSend   ChangeType = "SEND"   // 立即发放: add points
	ChangeDeduct ChangeType = "DEDUCT" // 扣减: remove points
)

// PointChange is the body of PUT /member/point (doc 3.7).
type PointChange struct {
	// MemberID is the Shuyun member id, at most 32 characters. Required.
	MemberID string `json:"memberId"`
	// MemberType is the member type. Required.
	MemberType string `json:"memberType"`
	// ChannelType is the channel. Required.
	ChannelType string `json:"channelType"`
	// ChangeType is SEND or DEDUCT. Required.
	ChangeType ChangeType `json:"changeType"`
	// Point is the number of points, greater than zero. Required.
	Point int64 `json:"point"`
	// Description is a remark (always sent, possibly empty).
	Description string `json:"description"`
	// EffectTime is when the points take effect; zero means immediately.
	EffectTime Time `json:"effectTime,omitzero"`
	// ExpiredTime is when the points expire; zero leaves it to the vendor.
	ExpiredTime Time `json:"expiredTime,omitzero"`
	// ShopCode is the shop code. Optional.
	ShopCode string `json:"shopCode,omitempty"`
	// PointType is the vendor field KZZD1 (积分类型). Optional.
	PointType string `json:"KZZD1,omitempty"`
	// PointSource is the vendor field KZZD2 (积分来源). Optional.
	PointSource string `json:"KZZD2,omitempty"`
	// EventCode is the vendor field KZZD3 (变更事件类型编码). Required by the vendor.
	EventCode string `json:"KZZD3"`
}

// The doc's examples of freeze, unfreeze and deduct send "idempotentMode": 0, which no field
// table explains; it is sent as the examples do and treated as opaque.
type (
	freezeBody struct {
		FreezeRequest
		IdempotentMode int `json:"idempotentMode"`
	}
	settleBody struct {
		UnfreezeRequest
		IdempotentMode int `json:"idempotentMode"`
	}
)

// FreezePoints moves r.Point points of a member from available to frozen (POST
// /member/freezePoint) under the X-Business-Token token. The same token must be sent on every
// retry, and later to UnfreezePoints or DeductFrozenPoints to settle the freeze.
func (c *Client) FreezePoints(ctx context.Context, token string, r FreezeRequest) error {
	return c.pointsCall(ctx, "freeze points", http.MethodPost, PathFreezePoints, token,
		freezeBody{FreezeRequest: r})
}

// UnfreezePoints returns the points of the freeze made with token to the member's available
// balance (POST /member/unfreezePoint). token is the freeze's X-Business-Token.
func (c *Client) UnfreezePoints(ctx context.Context, token string, r UnfreezeRequest) error {
	return c.pointsCall(ctx, "unfreeze points", http.MethodPost, PathUnfreezePoints, token,
		settleBody{UnfreezeRequest: r})
}

// DeductFrozenPoints consumes the points of the freeze made with token (POST
// /member/freezeDeductPoint). token is the freeze's X-Business-Token.
func (c *Client) DeductFrozenPoints(ctx context.Context, token string, r UnfreezeRequest) error {
	return c.pointsCall(ctx, "deduct frozen points", http.MethodPost, PathDeductFrozenPoints, token,
		settleBody{UnfreezeRequest: r})
}

// ChangePoints adds (SEND) or removes (DEDUCT) points (PUT /member/point) under the
// X-Business-Token token.
func (c *Client) ChangePoints(ctx context.Context, token string, r PointChange) error {
	return c.pointsCall(ctx, "change points", http.MethodPut, PathChangePoints, token, r)
}

// pointsCall sends one points request; the vendor answers 204 with no body on success.
func (c *Client) pointsCall(ctx context.Context, op, method, path, token string, body any) error {
	if token == "" {
		return fmt.Errorf("shuyun: %s: X-Business-Token: %w", op, ErrEmptyToken)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("shuyun: %s: encode request: %w", op, err)
	}
	_, err = c.do(ctx, request{
		op:     op,
		method: method,
		path:   path,
		header: map[string]string{headerBusinessToken: token},
		body:   b,
	})
	return err
}
