package pospal

import (
	"context"
	"time"
)

// Coupon endpoints, in the casing current SDKs use (VENDOR-NOTES §1(a), (g)):
// doc 001's scrape lower-cased them, and its legacy
// /pospal-api/api/auth/openapi/promotion/addcouponcode/ base is not used. Note
// "addCouponcode" (lower-case c in "code") and "promotioncouponcode/use" (all
// lower case) as the SDKs spell them; the server matches paths without regard
// to case.
const (
	// OpAddCouponCode adds a coupon code to a coupon rule.
	OpAddCouponCode = "promotionOpenApi/promotion/addCouponcode"
	// OpUseCouponCode redeems a coupon code.
	OpUseCouponCode = "promotionOpenApi/promotioncouponcode/use"
)

// maxCodeLen is the longest coupon code the vendor accepts.
const maxCodeLen = 50

// AddCouponCodeRequest adds one coupon code (核销码) to a coupon rule.
type AddCouponCodeRequest struct {
	// PromotionCouponUID is the coupon rule. Required.
	PromotionCouponUID int64 `json:"promotionCouponUid"`
	// CustomerUID attaches the code to a member; 0 leaves it unattached.
	CustomerUID int64 `json:"customerUid,omitempty"`
	// Code is the coupon code: 1–50 ASCII letters or digits, unique per store.
	// Required. Derive it from an idempotency key so a retry re-adds the same
	// code.
	Code string `json:"code"`
}

// AddCouponCode adds a coupon code to a coupon rule.
//
// A code that already exists answers errorCode 3004: errors.Is(err,
// ErrCodeExists) is true, and a caller that derived the code from its own
// idempotency key treats that as done. Other refusals: ErrCouponInvalid
// (unknown rule), ErrCouponDisabled, ErrNoCodesLeft, ErrCustomerNotFound.
func (c *Client) AddCouponCode(ctx context.Context, r AddCouponCodeRequest) error {
	if err := validateCode(OpAddCouponCode, r.Code); err != nil {
		return err
	}
	if r.PromotionCouponUID <= 0 {
		return &ValidationError{Op: OpAddCouponCode, Field: "promotionCouponUid", Rule: "must be a positive uid"}
	}
	if r.CustomerUID < 0 {
		return &ValidationError{Op: OpAddCouponCode, Field: "customerUid", Rule: "must not be negative"}
	}
	body := struct {
		AppID string `json:"appId"`
		AddCouponCodeRequest
	}{c.cfg.AppID, r}
	_, err := c.call(ctx, OpAddCouponCode, body)
	return err
}

// UseCouponCodeRequest redeems (核销) one coupon code.
type UseCouponCodeRequest struct {
	// Code is the coupon code. Required.
	Code string
	// CustomerUID is the member redeeming the code; 0 sends none.
	CustomerUID int64
	// UseDateTime is when the code was used; zero lets the vendor use its own
	// clock. Sent as yyyy-MM-dd HH:mm:ss in Asia/Shanghai.
	UseDateTime time.Time
}

// UseCouponCode redeems a coupon code. An unknown or already used code answers
// ErrCouponInvalid, a code of a disabled rule ErrCouponDisabled. The call
// takes no idempotency token: a retry after a lost answer may report
// ErrCouponInvalid for a code this call did use. [Client.QueryUsedPromotionCodes]
// then tells whether, when and through which store the code was used.
func (c *Client) UseCouponCode(ctx context.Context, r UseCouponCodeRequest) error {
	if err := validateCode(OpUseCouponCode, r.Code); err != nil {
		return err
	}
	if r.CustomerUID < 0 {
		return &ValidationError{Op: OpUseCouponCode, Field: "customerUid", Rule: "must not be negative"}
	}
	body := struct {
		AppID       string `json:"appId"`
		Code        string `json:"code"`
		CustomerUID int64  `json:"customerUid,omitempty"`
		UseDateTime string `json:"useDateTime,omitempty"`
	}{AppID: c.cfg.AppID, Code: r.Code, CustomerUID: r.CustomerUID}
	if !r.UseDateTime.IsZero() {
		body.UseDateTime = r.UseDateTime.In(Shanghai).Format(DateTimeLayout)
	}
	_, err := c.call(ctx, OpUseCouponCode, body)
	return err
}

// validateCode applies doc 001's rule: at most 50 ASCII letters or digits.
func validateCode(op, code string) error {
	if code == "" {
		return &ValidationError{Op: op, Field: "code", Rule: "is required"}
	}
	if len(code) > maxCodeLen {
		return &ValidationError{Op: op, Field: "code", Rule: "must be at most 50 characters"}
	}
	for _, r := range code {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return &ValidationError{Op: op, Field: "code", Rule: "must contain only ASCII letters and digits"}
		}
	}
	return nil
}

// ValidCode reports whether code is a coupon code the vendor accepts: 1–50
// ASCII letters or digits.
func ValidCode(code string) bool { return validateCode("", code) == nil }
