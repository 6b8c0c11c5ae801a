package pospaltest

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/loyaltybus/loyaltybus/adapters/pospal"
)

// promotion is a coupon rule.
type promotion struct {
	uid       int64
	name      string
	disabled  bool
	limited   bool
	codesLeft int
	endDate   time.Time
}

// PromotionOption configures a coupon rule added with AddPromotion.
type PromotionOption func(*promotion)

// CodesLeft limits the rule to n more codes; past them addCouponcode answers
// 3003. Without it a rule has unlimited codes.
func CodesLeft(n int) PromotionOption {
	return func(p *promotion) { p.limited, p.codesLeft = true, n }
}

// Disabled adds the rule disabled: addCouponcode and use answer 3002.
func Disabled() PromotionOption {
	return func(p *promotion) { p.disabled = true }
}

// EndDate sets the rule's end, returned as codeExpiredDate.
func EndDate(t time.Time) PromotionOption {
	return func(p *promotion) { p.endDate = t }
}

// AddPromotion adds or replaces the coupon rule (优惠券规则) uid.
func (s *Simulator) AddPromotion(uid int64, name string, opts ...PromotionOption) {
	p := &promotion{uid: uid, name: name}
	for _, o := range opts {
		o(p)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.promotions[uid] = p
}

// SetPromotionEnabled enables or disables the coupon rule uid; it reports
// whether the rule exists.
func (s *Simulator) SetPromotionEnabled(uid int64, enabled bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.promotions[uid]
	if ok {
		p.disabled = !enabled
	}
	return ok
}

// AddCustomer registers members. Once any member is registered, a
// customerUid that is not answers 2015; before that every customerUid is
// accepted.
func (s *Simulator) AddCustomer(uids ...int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, uid := range uids {
		s.customers[uid] = true
	}
}

// CodeState is the simulator's record of one coupon code.
type CodeState struct {
	// Code is the coupon code.
	Code string
	// PromotionCouponUID is its coupon rule.
	PromotionCouponUID int64
	// CustomerUID is the member it is attached to, 0 for none.
	CustomerUID int64
	// Created is when it was added, CreatedByAppID by which account.
	Created        time.Time
	CreatedByAppID string
	// Used reports whether it was redeemed, UsedAt when (the use call's
	// useDateTime, or the simulator's clock), UsedBy by which member (0 when
	// none was given) and UsedByAppID through which account.
	Used        bool
	UsedAt      time.Time
	UsedBy      int64
	UsedByAppID string

	useID int64 // orders the used codes for paging; 0 while unused
}

// CouponCode returns the state of a coupon code (codes are unique across the
// simulator, as they are per store at the vendor).
func (s *Simulator) CouponCode(code string) (CodeState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.codes[code]
	if !ok {
		return CodeState{}, false
	}
	return *c, true
}

// CodesAdded returns how many coupon codes addCouponcode created.
func (s *Simulator) CodesAdded() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.codesAdded
}

// CodesUsed returns how many coupon codes promotioncouponcode/use redeemed:
// the uses the vendor applied, whatever happened to their answers.
func (s *Simulator) CodesUsed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.codesUsed
}

// addCouponCode serves promotionOpenApi/promotion/addCouponcode. Checks, in
// order: parameters (9003), rule unknown (3001) or disabled (3002), code
// exists (3004), member unknown (2015), no codes left (3003).
func (s *Simulator) addCouponCode(appID string, body map[string]json.RawMessage, _ string) (any, *vendorError) {
	ruleUID, ok, err := int64Field(body["promotionCouponUid"])
	if err != nil || !ok {
		return nil, errBadParameter
	}
	customerUID, _, err := int64Field(body["customerUid"])
	if err != nil {
		return nil, errBadParameter
	}
	var code string
	if json.Unmarshal(body["code"], &code) != nil || !pospal.ValidCode(code) {
		return nil, errBadParameter
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.promotions[ruleUID]
	switch {
	case !ok:
		return nil, errCoupon
	case p.disabled:
		return nil, errCouponOff
	case s.codes[code] != nil:
		return nil, errCodeExists
	case customerUID != 0 && len(s.customers) > 0 && !s.customers[customerUID]:
		return nil, errCustomer
	case p.limited && p.codesLeft <= 0:
		return nil, errNoCodesLeft
	}
	if p.limited {
		p.codesLeft--
	}
	s.codes[code] = &CodeState{Code: code, PromotionCouponUID: ruleUID, CustomerUID: customerUID, Created: s.opts.Now(), CreatedByAppID: appID}
	s.codesAdded++
	expires := ""
	if !p.endDate.IsZero() {
		expires = pospal.FormatDateTime(p.endDate)
	}
	return map[string]any{"codeExpiredDate": expires}, nil
}

// useCouponCode serves promotionOpenApi/promotioncouponcode/use: an unknown or
// used code, or one attached to another member, answers 3001; a code of a
// disabled rule 3002.
func (s *Simulator) useCouponCode(appID string, body map[string]json.RawMessage, _ string) (any, *vendorError) {
	var code string
	if json.Unmarshal(body["code"], &code) != nil || code == "" {
		return nil, errBadParameter
	}
	customerUID, _, err := int64Field(body["customerUid"])
	if err != nil {
		return nil, errBadParameter
	}
	usedAt := s.opts.Now()
	if raw, ok := body["useDateTime"]; ok && !bytes.Equal(raw, []byte("null")) {
		var v string
		if json.Unmarshal(raw, &v) != nil {
			return nil, errBadParameter
		}
		if v != "" {
			if usedAt, err = pospal.ParseDateTime(v); err != nil {
				return nil, errBadParameter
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.codes[code]
	switch {
	case !ok, c.Used:
		return nil, errCoupon
	case customerUID != 0 && c.CustomerUID != 0 && c.CustomerUID != customerUID:
		return nil, errCoupon
	}
	if p := s.promotions[c.PromotionCouponUID]; p == nil || p.disabled {
		return nil, errCouponOff
	}
	s.codesUsed++
	c.Used, c.UsedAt, c.UsedBy, c.UsedByAppID = true, usedAt.In(pospal.Shanghai).Truncate(time.Second), customerUID, appID
	c.useID = firstUseID + int64(s.codesUsed) - 1
	return nil, nil
}

// int64Field reads an optional integer given as a JSON number or a decimal
// string. ok is false when the field is absent or null.
func int64Field(raw json.RawMessage) (n int64, ok bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return 0, false, nil
	}
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, false, err
		}
	}
	n, err = strconv.ParseInt(s, 10, 64)
	return n, err == nil, err
}
