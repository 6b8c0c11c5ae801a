package shuyun

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// PathGrantCoupon is the coupon grant endpoint (doc 7.3).
const PathGrantCoupon = "/offer/instance/grant"

// GrantRequest is the body of POST /offer/instance/grant (doc 7.3).
type GrantRequest struct {
	// MemberID is the Shuyun member id. Required.
	MemberID string `json:"memberId"`
	// MemberType is the member type. Required.
	MemberType string `json:"memberType"`
	// ChannelType is the channel, e.g. "KYLIN_GUIDE". Required.
	ChannelType string `json:"channelType"`
	// ProjectID is the coupon project (卡券项目) id. Required.
	ProjectID string `json:"projectId"`
	// Params holds the grant's extension attributes (campaignId, selectShopCode, orderId,
	// sharedBy, sharedCouponCode …) as a JSON object, sent verbatim. Empty leaves it out.
	Params json.RawMessage `json:"params,omitempty"`
}

// CouponInstance is one granted coupon, as in the grant answer's instanceInfos.
type CouponInstance struct {
	// InstanceID is the coupon instance id.
	InstanceID string `json:"instanceId"`
	// CouponCode is the code the member presents.
	CouponCode string `json:"couponCode"`
	// ProjectID is the coupon project id.
	ProjectID string `json:"projectId"`
	// Status is the instance state: GRANTED, VALID, FROZEN, USED or EXPIRED.
	Status string `json:"status"`
	// GrantTime is when the coupon was granted.
	GrantTime Time `json:"grantTime,omitzero"`
}

// UnmarshalJSON decodes leniently: ids may be strings or numbers.
func (ci *CouponInstance) UnmarshalJSON(b []byte) error {
	var w struct {
		InstanceID flexString `json:"instanceId"`
		CouponCode flexString `json:"couponCode"`
		ProjectID  flexString `json:"projectId"`
		Status     string     `json:"status"`
		GrantTime  Time       `json:"grantTime"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*ci = CouponInstance{
		InstanceID: string(w.InstanceID),
		CouponCode: string(w.CouponCode),
		ProjectID:  string(w.ProjectID),
		Status:     w.Status,
		GrantTime:  w.GrantTime,
	}
	return nil
}

// GrantResult is the answer to a successful grant. The first instance's fields are copied to the
// top level for convenience.
type GrantResult struct {
	// InstanceID, CouponCode, ProjectID, Status and GrantTime are those of the first instance.
	InstanceID string `json:"instanceId"`
	CouponCode string `json:"couponCode"`
	ProjectID  string `json:"projectId"`
	Status     string `json:"status"`
	GrantTime  Time   `json:"grantTime,omitzero"`
	// InstanceIDs is the vendor's comma-joined instance id list, e.g. "11,22" (in the doc's
	// example, not in its field table).
	InstanceIDs string `json:"instanceIds,omitempty"`
	// Instances are all instances the vendor reported.
	Instances []CouponInstance `json:"instances,omitempty"`
	// Msg is the vendor's msg, documented empty on success but "xxx" in the doc's example.
	Msg string `json:"msg,omitempty"`
}

// couponAnswer is the body every coupon endpoint answers with.
type couponAnswer struct {
	Success       flexBool         `json:"success"`
	Msg           string           `json:"msg"`
	InstanceIDs   flexString       `json:"instanceIds"`
	InstanceInfos []CouponInstance `json:"instanceInfos"`
}

// GrantCoupon grants one coupon of r.ProjectID to a member (POST /offer/instance/grant) with
// X-Request-Sequence set to sequence, which must be the same on every retry of the grant.
// An answer with success:false is returned as a permanent *APIError carrying Msg.
func (c *Client) GrantCoupon(ctx context.Context, sequence string, r GrantRequest) (GrantResult, error) {
	const op = "grant coupon"
	if sequence == "" {
		return GrantResult{}, fmt.Errorf("shuyun: %s: X-Request-Sequence: %w", op, ErrEmptyToken)
	}
	if err := checkParams(r.Params); err != nil {
		return GrantResult{}, fmt.Errorf("shuyun: %s: %w", op, err)
	}
	body, err := json.Marshal(r)
	if err != nil {
		return GrantResult{}, fmt.Errorf("shuyun: %s: encode request: %w", op, err)
	}
	rep, err := c.do(ctx, request{
		op:     op,
		method: http.MethodPost,
		path:   PathGrantCoupon,
		header: map[string]string{headerRequestSequence: sequence},
		body:   body,
	})
	if err != nil {
		return GrantResult{}, err
	}
	ans, err := decodeCouponAnswer(op, rep)
	if err != nil {
		return GrantResult{}, err
	}
	res := GrantResult{
		InstanceIDs: string(ans.InstanceIDs),
		Instances:   ans.InstanceInfos,
		Msg:         ans.Msg,
	}
	if len(ans.InstanceInfos) > 0 {
		first := ans.InstanceInfos[0]
		res.InstanceID, res.CouponCode, res.ProjectID = first.InstanceID, first.CouponCode, first.ProjectID
		res.Status, res.GrantTime = first.Status, first.GrantTime
	} else if res.InstanceIDs != "" {
		res.InstanceID, _, _ = strings.Cut(res.InstanceIDs, ",")
	}
	return res, nil
}

// CouponOp is a coupon state operation. Its value is the loyaltybus command action
// (coupon.redeem …); Path gives the vendor endpoint. The doc's English titles are ambiguous
// (four of them say "cancellation"), so the mapping follows the paths.
type CouponOp string

// Coupon operations.
const (
	CouponRedeem     CouponOp = "redeem"     // /offer/coupon/use: 核销, redeem a coupon
	CouponFreeze     CouponOp = "freeze"     // /offer/coupon/frozen: freeze a coupon
	CouponThaw       CouponOp = "thaw"       // /offer/coupon/thaw: unfreeze a frozen coupon
	CouponWriteOff   CouponOp = "writeoff"   // /offer/coupon/writeoff: redeem a frozen coupon
	CouponReverse    CouponOp = "reverse"    // /offer/coupon/anticounting: 反核销, undo a redemption
	CouponInvalidate CouponOp = "invalidate" // /offer/coupon/invalid: make a coupon invalid
	CouponReinstate  CouponOp = "reinstate"  // /offer/coupon/effective: make a coupon valid again
)

var couponPaths = map[CouponOp]string{
	CouponRedeem:     "/offer/coupon/use",
	CouponFreeze:     "/offer/coupon/frozen",
	CouponThaw:       "/offer/coupon/thaw",
	CouponWriteOff:   "/offer/coupon/writeoff",
	CouponReverse:    "/offer/coupon/anticounting",
	CouponInvalidate: "/offer/coupon/invalid",
	CouponReinstate:  "/offer/coupon/effective",
}

// CouponOps lists every coupon operation.
func CouponOps() []CouponOp {
	return []CouponOp{CouponRedeem, CouponFreeze, CouponThaw, CouponWriteOff, CouponReverse,
		CouponInvalidate, CouponReinstate}
}

// Path returns the endpoint path of op, or "" for an unknown op.
func (op CouponOp) Path() string { return couponPaths[op] }

// Valid reports whether op is one of the coupon operations.
func (op CouponOp) Valid() bool { return couponPaths[op] != "" }

// CouponRequest is the body of the coupon state operations (doc 7.4–7.8, 7.11, 7.12).
type CouponRequest struct {
	// CouponCode is the coupon code, at most 100 characters. Required.
	CouponCode string `json:"couponCode"`
	// MemberType is the member type. Required.
	MemberType string `json:"memberType"`
	// ChannelType is the channel. Required.
	ChannelType string `json:"channelType"`
	// Params holds the extension attributes (shopCode, employeeId, counterId, ticketNum,
	// recordId, productCode …) as a JSON object, sent verbatim. Empty leaves it out.
	Params json.RawMessage `json:"params,omitempty"`
}

// CouponResult is the answer to a successful coupon operation.
type CouponResult struct {
	// Msg is the vendor's msg, normally empty on success.
	Msg string `json:"msg,omitempty"`
}

// CouponOperation applies op to the coupon r.CouponCode. These calls carry no idempotency
// token: a repeated transition is refused by the vendor with success:false. A success:false
// answer is returned as a permanent *APIError carrying Msg.
func (c *Client) CouponOperation(ctx context.Context, op CouponOp, r CouponRequest) (CouponResult, error) {
	path := op.Path()
	name := "coupon " + string(op)
	if path == "" {
		return CouponResult{}, fmt.Errorf("shuyun: unknown coupon operation %q", string(op))
	}
	if err := checkParams(r.Params); err != nil {
		return CouponResult{}, fmt.Errorf("shuyun: %s: %w", name, err)
	}
	body, err := json.Marshal(r)
	if err != nil {
		return CouponResult{}, fmt.Errorf("shuyun: %s: encode request: %w", name, err)
	}
	rep, err := c.do(ctx, request{op: name, method: http.MethodPost, path: path, body: body})
	if err != nil {
		return CouponResult{}, err
	}
	ans, err := decodeCouponAnswer(name, rep)
	if err != nil {
		return CouponResult{}, err
	}
	return CouponResult{Msg: ans.Msg}, nil
}

// decodeCouponAnswer decodes a coupon answer; an empty body is a success with no details.
func decodeCouponAnswer(op string, rep reply) (couponAnswer, error) {
	var ans couponAnswer
	body := bytes.TrimSpace(rep.body)
	if len(body) == 0 {
		return ans, nil
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		return ans, &APIError{Op: op, HTTPStatus: rep.status,
			Desc: "undecodable answer: " + err.Error() + ": " + excerpt(body)}
	}
	if ans.Success.set && !ans.Success.value {
		msg := ans.Msg
		if msg == "" {
			msg = "success is false"
		}
		return ans, &APIError{Op: op, HTTPStatus: rep.status, Msg: msg}
	}
	return ans, nil
}

// checkParams rejects params that are not a JSON object (or null).
func checkParams(p json.RawMessage) error {
	p = bytes.TrimSpace(p)
	if len(p) == 0 || string(p) == "null" {
		return nil
	}
	if p[0] != '{' || !json.Valid(p) {
		return fmt.Errorf("params is not a JSON object")
	}
	return nil
}
