package shuyun

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// PathCouponDetail is the coupon detail endpoint (doc 7.10).
const PathCouponDetail = "/offer/coupon/detail"

// Coupon instance states as the vendor names them (doc 7.9, 7.10).
const (
	StatusGranted = "GRANTED" // 已发放
	StatusValid   = "VALID"   // 已生效
	StatusFrozen  = "FROZEN"  // 冻结中
	StatusUsed    = "USED"    // 已使用
	StatusExpired = "EXPIRED" // 已失效
)

var couponTargets = map[CouponOp]string{
	CouponRedeem:     StatusUsed,
	CouponFreeze:     StatusFrozen,
	CouponThaw:       StatusValid,
	CouponWriteOff:   StatusUsed,
	CouponReverse:    StatusValid,
	CouponInvalidate: StatusExpired,
	CouponReinstate:  StatusValid,
}

// Target returns the state a successful op leaves the coupon in (USED after a redeem or
// write-off, FROZEN after a freeze, VALID after a thaw, reverse or reinstate, EXPIRED after an
// invalidation), or "" for an unknown op. The doc names the states but not the transitions;
// these follow from what each operation means.
func (op CouponOp) Target() string { return couponTargets[op] }

// CouponDetailRequest names the coupon to look up (doc 7.10). All fields are required; they
// are sent as query parameters (the doc lists the inputs of its GET endpoints under "Request
// Body", VENDOR-NOTES §4(g)).
type CouponDetailRequest struct {
	// CouponCode is the coupon code, at most 100 characters.
	CouponCode string
	// MemberType is the member type.
	MemberType string
	// ChannelType is the channel.
	ChannelType string
}

// CouponDetail is one coupon instance as GET /offer/coupon/detail reports it (doc 7.10).
type CouponDetail struct {
	// InstanceID is the coupon instance id.
	InstanceID string `json:"instanceId"`
	// CouponCode is the coupon code.
	CouponCode string `json:"couponCode"`
	// MemberID is the member holding the coupon.
	MemberID string `json:"memberId"`
	// ProjectID, ProjectName and ProjectType describe the coupon project.
	ProjectID   string `json:"projectId"`
	ProjectName string `json:"projectName,omitempty"`
	ProjectType string `json:"projectType,omitempty"`
	// Status is GRANTED, VALID, FROZEN, USED or EXPIRED.
	Status string `json:"status"`
	// EffectText and RuleText are the vendor's descriptions of the coupon.
	EffectText string `json:"effectText,omitempty"`
	RuleText   string `json:"ruleText,omitempty"`
	// GrantTime, ValidTime, ExpireTime and UseTime are zero when the vendor sent none.
	GrantTime  Time `json:"grantTime,omitzero"`
	ValidTime  Time `json:"validTime,omitzero"`
	ExpireTime Time `json:"expireTime,omitzero"`
	UseTime    Time `json:"useTime,omitzero"`
	// PresetOrCustomField holds the grant and redemption attributes (campaignId, shopCode …),
	// SelectorRule and CustomizedProperties the project's rules, all as the vendor sent them.
	PresetOrCustomField  json.RawMessage `json:"presetOrCustomField,omitempty"`
	SelectorRule         json.RawMessage `json:"selectorRule,omitempty"`
	CustomizedProperties json.RawMessage `json:"customizedProperties,omitempty"`
}

// UnmarshalJSON decodes leniently: ids may be strings or numbers, times any layout Time reads.
func (d *CouponDetail) UnmarshalJSON(b []byte) error {
	var w struct {
		InstanceID           flexString      `json:"instanceId"`
		CouponCode           flexString      `json:"couponCode"`
		MemberID             flexString      `json:"memberId"`
		ProjectID            flexString      `json:"projectId"`
		ProjectName          string          `json:"projectName"`
		ProjectType          string          `json:"projectType"`
		Status               string          `json:"status"`
		EffectText           string          `json:"effectText"`
		RuleText             string          `json:"ruleText"`
		GrantTime            Time            `json:"grantTime"`
		ValidTime            Time            `json:"validTime"`
		ExpireTime           Time            `json:"expireTime"`
		UseTime              Time            `json:"useTime"`
		PresetOrCustomField  json.RawMessage `json:"presetOrCustomField"`
		SelectorRule         json.RawMessage `json:"selectorRule"`
		CustomizedProperties json.RawMessage `json:"customizedProperties"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*d = CouponDetail{
		InstanceID: string(w.InstanceID), CouponCode: string(w.CouponCode), MemberID: string(w.MemberID),
		ProjectID: string(w.ProjectID), ProjectName: w.ProjectName, ProjectType: w.ProjectType,
		Status: w.Status, EffectText: w.EffectText, RuleText: w.RuleText,
		GrantTime: w.GrantTime, ValidTime: w.ValidTime, ExpireTime: w.ExpireTime, UseTime: w.UseTime,
		PresetOrCustomField: w.PresetOrCustomField, SelectorRule: w.SelectorRule,
		CustomizedProperties: w.CustomizedProperties,
	}
	return nil
}

// CouponDetail looks up one coupon (GET /offer/coupon/detail). The doc's field table wraps the
// answer in instanceInfoData while its example is flat; both are read. A coupon the vendor
// does not know answers success:false, returned as a permanent *APIError carrying Msg, like the
// other coupon endpoints. The call is read only and safe to repeat.
func (c *Client) CouponDetail(ctx context.Context, r CouponDetailRequest) (CouponDetail, error) {
	const op = "coupon detail"
	if r.CouponCode == "" || r.MemberType == "" || r.ChannelType == "" {
		return CouponDetail{}, fmt.Errorf("shuyun: %s: couponCode, memberType and channelType are required", op)
	}
	q := url.Values{}
	q.Set("couponCode", r.CouponCode)
	q.Set("memberType", r.MemberType)
	q.Set("channelType", r.ChannelType)
	rep, err := c.do(ctx, request{op: op, method: http.MethodGet, path: PathCouponDetail + "?" + q.Encode()})
	if err != nil {
		return CouponDetail{}, err
	}
	body := bytes.TrimSpace(rep.body)
	if len(body) == 0 {
		return CouponDetail{}, &APIError{Op: op, HTTPStatus: rep.status, Desc: "empty answer"}
	}
	var w struct {
		Success          flexBool        `json:"success"`
		Msg              string          `json:"msg"`
		InstanceInfoData json.RawMessage `json:"instanceInfoData"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return CouponDetail{}, &APIError{Op: op, HTTPStatus: rep.status,
			Desc: "undecodable answer: " + err.Error() + ": " + excerpt(body)}
	}
	if w.Success.set && !w.Success.value {
		msg := w.Msg
		if msg == "" {
			msg = "success is false"
		}
		return CouponDetail{}, &APIError{Op: op, HTTPStatus: rep.status, Msg: msg}
	}
	inner := bytes.TrimSpace(w.InstanceInfoData)
	if len(inner) == 0 || string(inner) == "null" {
		inner = body
	}
	var d CouponDetail
	if err := json.Unmarshal(inner, &d); err != nil {
		return CouponDetail{}, &APIError{Op: op, HTTPStatus: rep.status,
			Desc: "undecodable answer: " + err.Error() + ": " + excerpt(body)}
	}
	return d, nil
}
