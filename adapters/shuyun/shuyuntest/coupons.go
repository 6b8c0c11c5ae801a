package shuyuntest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Coupon instance states, as the vendor names them.
const (
	StateGranted = "GRANTED"
	StateValid   = "VALID"
	StateFrozen  = "FROZEN"
	StateUsed    = "USED"
	StateExpired = "EXPIRED"
)

// transition is the rule of one coupon operation: the states it accepts and the state it sets.
type transition struct {
	from []string
	to   string
}

// transitions maps each coupon operation path to its rule.
var transitions = map[string]transition{
	"/offer/coupon/use":          {[]string{StateGranted, StateValid}, StateUsed},
	"/offer/coupon/frozen":       {[]string{StateGranted, StateValid}, StateFrozen},
	"/offer/coupon/thaw":         {[]string{StateFrozen}, StateValid},
	"/offer/coupon/writeoff":     {[]string{StateFrozen}, StateUsed},
	"/offer/coupon/anticounting": {[]string{StateUsed}, StateValid},
	"/offer/coupon/invalid":      {[]string{StateGranted, StateValid, StateFrozen}, StateExpired},
	"/offer/coupon/effective":    {[]string{StateGranted, StateExpired}, StateValid},
}

// coupon is one granted coupon instance.
type coupon struct {
	CouponInstance
	params json.RawMessage
}

// CouponInstance is a coupon as the simulator holds it.
type CouponInstance struct {
	// InstanceID is the instance id the grant answered.
	InstanceID string
	// CouponCode is the coupon code the grant answered.
	CouponCode string
	// ProjectID is the coupon project id.
	ProjectID string
	// MemberID is the member the coupon was granted to.
	MemberID string
	// State is GRANTED, VALID, FROZEN, USED or EXPIRED.
	State string
	// GrantTime is when the coupon was granted.
	GrantTime time.Time
	// UseTime is when the coupon last became USED; zero if it never did.
	UseTime time.Time
}

// AddCoupon adds (or replaces) a coupon as if it had been granted, e.g. the doc's example code
// "96800081" in a given state. Empty fields take defaults: InstanceID a fresh id, State
// GRANTED, GrantTime now.
func (s *Simulator) AddCoupon(c CouponInstance) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.InstanceID == "" {
		s.nextID++
		c.InstanceID = strconv.FormatInt(s.nextID, 10)
	}
	if c.State == "" {
		c.State = StateGranted
	}
	if c.GrantTime.IsZero() {
		c.GrantTime = s.opts.Now()
	}
	if _, ok := s.coupons[c.CouponCode]; !ok {
		s.couponOrder = append(s.couponOrder, c.CouponCode)
	}
	s.coupons[c.CouponCode] = &coupon{CouponInstance: c}
}

// Coupon returns the state of the coupon with code, and whether it exists.
func (s *Simulator) Coupon(code string) (state string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.coupons[code]
	if !ok {
		return "", false
	}
	return c.State, true
}

// Coupons returns the coupons granted to memberID, oldest first.
func (s *Simulator) Coupons(memberID string) []CouponInstance {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CouponInstance
	for _, code := range s.couponOrder {
		if c := s.coupons[code]; c.MemberID == memberID {
			out = append(out, c.CouponInstance)
		}
	}
	return out
}

// SetCouponState forces the state of an existing coupon, e.g. to EXPIRED, and reports
// whether the coupon exists.
func (s *Simulator) SetCouponState(code, state string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.coupons[code]
	if ok {
		c.State = state
	}
	return ok
}

// couponAnswer is the body of every coupon endpoint.
type couponAnswer struct {
	Success       bool           `json:"success"`
	Msg           string         `json:"msg"`
	InstanceIDs   string         `json:"instanceIds,omitempty"`
	InstanceInfos []instanceInfo `json:"instanceInfos,omitempty"`
}

type instanceInfo struct {
	InstanceID string `json:"instanceId"`
	CouponCode string `json:"couponCode"`
	ProjectID  string `json:"projectId"`
	Status     string `json:"status"`
	GrantTime  string `json:"grantTime"`
}

// refused is a coupon business failure: HTTP 200 with success:false.
func refused(msg string) response {
	return jsonResponse(http.StatusOK, couponAnswer{Success: false, Msg: msg})
}

// checkParamsObject returns a reason when params is present and not a JSON object.
func checkParamsObject(params json.RawMessage) string {
	p := bytes.TrimSpace(params)
	if len(p) == 0 || string(p) == "null" || p[0] == '{' {
		return ""
	}
	return "params is not an object"
}

// grantCoupon handles POST /offer/instance/grant.
func (s *Simulator) grantCoupon(r *http.Request, path string, body []byte) response {
	seq := r.Header.Get("X-Request-Sequence")
	if seq == "" {
		return paramError(path, "X-Request-Sequence header is missing")
	}
	var b struct {
		MemberID    string          `json:"memberId"`
		MemberType  string          `json:"memberType"`
		ChannelType string          `json:"channelType"`
		ProjectID   string          `json:"projectId"`
		Params      json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return paramError(path, "body is not a valid grant request: "+err.Error())
	}
	reason := checkFields([]fieldCheck{
		{"memberId", b.MemberID, true, 32},
		{"memberType", b.MemberType, true, 20},
		{"channelType", b.ChannelType, true, 20},
		{"projectId", b.ProjectID, true, 32},
	})
	if reason == "" {
		reason = checkParamsObject(b.Params)
	}
	if reason != "" {
		return paramError(path, reason)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	k := opKey{path, seq}
	if resp, ok := s.replay(k); ok {
		return resp
	}
	s.nextID++
	c := &coupon{
		CouponInstance: CouponInstance{
			InstanceID: strconv.FormatInt(s.nextID, 10),
			CouponCode: fmt.Sprintf("SIM%09d", s.nextID),
			ProjectID:  b.ProjectID,
			MemberID:   b.MemberID,
			State:      StateGranted,
			GrantTime:  s.opts.Now(),
		},
		params: b.Params,
	}
	s.coupons[c.CouponCode] = c
	s.couponOrder = append(s.couponOrder, c.CouponCode)
	resp := jsonResponse(http.StatusOK, couponAnswer{
		Success:     true,
		InstanceIDs: c.InstanceID,
		InstanceInfos: []instanceInfo{{
			InstanceID: c.InstanceID,
			CouponCode: c.CouponCode,
			ProjectID:  c.ProjectID,
			Status:     c.State,
			GrantTime:  c.GrantTime.In(chinaStandardTime).Format(s.opts.TimeLayout),
		}},
	})
	return s.succeeded(k, resp)
}

// chinaStandardTime is the vendor's zone, UTC+8.
var chinaStandardTime = time.FixedZone("CST", 8*60*60)

// couponOperation handles the coupon state operations.
func (s *Simulator) couponOperation(_ *http.Request, path string, body []byte) response {
	var b struct {
		CouponCode  string          `json:"couponCode"`
		MemberType  string          `json:"memberType"`
		ChannelType string          `json:"channelType"`
		Params      json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return paramError(path, "body is not a valid coupon request: "+err.Error())
	}
	reason := checkFields([]fieldCheck{
		{"couponCode", b.CouponCode, true, 100},
		{"memberType", b.MemberType, true, 20},
		{"channelType", b.ChannelType, true, 20},
	})
	if reason == "" {
		reason = checkParamsObject(b.Params)
	}
	if reason != "" {
		return paramError(path, reason)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.coupons[b.CouponCode]
	if !ok {
		return refused(couponUnknownMsgPrefix + b.CouponCode)
	}
	t := transitions[path]
	if !slices.Contains(t.from, c.State) {
		return refused(fmt.Sprintf(couponIllegalMsgPattern, c.State, path))
	}
	c.State = t.to
	if t.to == StateUsed {
		c.UseTime = s.opts.Now()
	}
	s.applied(opKey{path, c.CouponCode})
	return jsonResponse(http.StatusOK, couponAnswer{Success: true})
}

// couponDetail handles GET /offer/coupon/detail?couponCode=…&memberType=…&channelType=…. It
// answers the doc's flat example shape (not the instanceInfoData wrapper of its field table);
// presetOrCustomField holds the grant's params. An unknown code answers HTTP 200
// {"success":false,"msg":"券码不存在: <code>"} like the other coupon endpoints (the real
// answer is not documented).
func (s *Simulator) couponDetail(r *http.Request, path string, _ []byte) response {
	q := r.URL.Query()
	reason := checkFields([]fieldCheck{
		{"couponCode", q.Get("couponCode"), true, 100},
		{"memberType", q.Get("memberType"), true, 20},
		{"channelType", q.Get("channelType"), true, 20},
	})
	if reason != "" {
		return paramError(path, reason)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.coupons[q.Get("couponCode")]
	if !ok {
		return refused(couponUnknownMsgPrefix + q.Get("couponCode"))
	}
	type detail struct {
		InstanceID          string          `json:"instanceId"`
		Status              string          `json:"status"`
		MemberID            string          `json:"memberId"`
		ProjectID           string          `json:"projectId"`
		CouponCode          string          `json:"couponCode"`
		GrantTime           string          `json:"grantTime"`
		UseTime             string          `json:"useTime,omitempty"`
		PresetOrCustomField json.RawMessage `json:"presetOrCustomField,omitempty"`
	}
	d := detail{
		InstanceID: c.InstanceID, Status: c.State, MemberID: c.MemberID, ProjectID: c.ProjectID,
		CouponCode: c.CouponCode, GrantTime: c.GrantTime.In(chinaStandardTime).Format(s.opts.TimeLayout),
		PresetOrCustomField: c.params,
	}
	if !c.UseTime.IsZero() {
		d.UseTime = c.UseTime.In(chinaStandardTime).Format(s.opts.TimeLayout)
	}
	return jsonResponse(http.StatusOK, d)
}
