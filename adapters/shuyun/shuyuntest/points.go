package shuyuntest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"
)

// account is one member's points.
type account struct {
	available, frozen int64
}

// freezeState is the life-cycle of a freeze.
type freezeState int

const (
	freezeOpen freezeState = iota
	freezeUnfrozen
	freezeDeducted
)

// freeze is the points frozen under one X-Business-Token.
type freeze struct {
	member string
	points int64
	state  freezeState
}

// SetBalance sets the available points of memberID; frozen points are kept.
func (s *Simulator) SetBalance(memberID string, points int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.account(memberID).available = points
}

// Balance returns the available and frozen points of memberID. A member the ledger has not
// seen has Options.DefaultBalance available.
func (s *Simulator) Balance(memberID string) (available, frozen int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.accounts[memberID]; ok {
		return a.available, a.frozen
	}
	return s.opts.DefaultBalance, 0
}

// account returns the account of member, opening it with the default balance; s.mu must be held.
func (s *Simulator) account(member string) *account {
	a, ok := s.accounts[member]
	if !ok {
		a = &account{available: s.opts.DefaultBalance}
		s.accounts[member] = a
	}
	return a
}

// pointsBody is the union of the points request bodies.
type pointsBody struct {
	MemberID       string          `json:"memberId"`
	MemberType     string          `json:"memberType"`
	ChannelType    string          `json:"channelType"`
	ChangeType     string          `json:"changeType"`
	Point          json.Number     `json:"point"`
	Description    string          `json:"description"`
	EffectTime     string          `json:"effectTime"`
	ExpiredTime    string          `json:"expiredTime"`
	ShopCode       string          `json:"shopCode"`
	KZZD1          string          `json:"KZZD1"`
	KZZD2          string          `json:"KZZD2"`
	KZZD3          string          `json:"KZZD3"`
	IdempotentMode json.RawMessage `json:"idempotentMode"` // undocumented; accepted as is
}

// decodePoints decodes and validates a points body. withPoint requires a positive integer
// point; change additionally checks the PUT /member/point fields.
func decodePoints(body []byte, withPoint, change bool) (pointsBody, int64, string) {
	var b pointsBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&b); err != nil {
		return b, 0, "body is not a valid JSON object: " + err.Error()
	}
	checks := []fieldCheck{
		{"memberId", b.MemberID, true, 32},
		{"memberType", b.MemberType, true, 20},
		{"channelType", b.ChannelType, true, 20},
		{"description", b.Description, false, 255},
		{"shopCode", b.ShopCode, false, 32},
	}
	if change {
		checks = append(checks,
			fieldCheck{"KZZD1", b.KZZD1, false, 255},
			fieldCheck{"KZZD2", b.KZZD2, false, 255},
			fieldCheck{"KZZD3", b.KZZD3, true, 255},
		)
	}
	if reason := checkFields(checks); reason != "" {
		return b, 0, reason
	}
	var points int64
	if withPoint {
		p, err := b.Point.Int64()
		if err != nil || p <= 0 {
			return b, 0, fmt.Sprintf("point %q is not a positive integer", b.Point.String())
		}
		points = p
	}
	if change {
		if b.ChangeType != "SEND" && b.ChangeType != "DEDUCT" {
			return b, 0, fmt.Sprintf("changeType %q is not SEND or DEDUCT", b.ChangeType)
		}
		for name, v := range map[string]string{"effectTime": b.EffectTime, "expiredTime": b.ExpiredTime} {
			if v == "" {
				continue
			}
			if _, err := time.Parse(time.DateTime, v); err != nil {
				return b, 0, fmt.Sprintf("%s %q is not yyyy-MM-dd HH:mm:ss", name, v)
			}
		}
	}
	return b, points, ""
}

// fieldCheck is the rule for one string field.
type fieldCheck struct {
	name     string
	value    string
	required bool
	maxLen   int
}

// checkFields returns why the first failing field fails, or "".
func checkFields(checks []fieldCheck) string {
	for _, c := range checks {
		switch {
		case c.required && c.value == "":
			return c.name + " is required"
		case utf8.RuneCountInString(c.value) > c.maxLen:
			return fmt.Sprintf("%s is longer than %d characters", c.name, c.maxLen)
		}
	}
	return ""
}

// businessToken returns the X-Business-Token or the 010407 answer.
func businessToken(r *http.Request, path string) (string, *response) {
	token := r.Header.Get("X-Business-Token")
	if token == "" {
		resp := paramError(path, "X-Business-Token header is missing")
		return "", &resp
	}
	return token, nil
}

// freezePoints handles POST /member/freezePoint.
func (s *Simulator) freezePoints(r *http.Request, path string, body []byte) response {
	token, errResp := businessToken(r, path)
	if errResp != nil {
		return *errResp
	}
	b, points, reason := decodePoints(body, true, false)
	if reason != "" {
		return paramError(path, reason)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := opKey{path, token}
	if resp, ok := s.replay(k); ok {
		return resp
	}
	a := s.account(b.MemberID)
	if a.available < points {
		return businessError(http.StatusBadRequest, path, CodeInsufficientPoints, descInsufficientPoints,
			fmt.Sprintf("member has %d points available, %d requested", a.available, points))
	}
	a.available -= points
	a.frozen += points
	f := s.freezes[token]
	if f == nil || f.state != freezeOpen {
		f = &freeze{member: b.MemberID}
		s.freezes[token] = f
	}
	f.points += points
	return s.succeeded(k, noContent())
}

// settleFreeze handles POST /member/unfreezePoint and /member/freezeDeductPoint.
func (s *Simulator) settleFreeze(r *http.Request, path string, body []byte) response {
	token, errResp := businessToken(r, path)
	if errResp != nil {
		return *errResp
	}
	b, _, reason := decodePoints(body, false, false)
	if reason != "" {
		return paramError(path, reason)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := opKey{path, token}
	if resp, ok := s.replay(k); ok {
		return resp
	}
	f := s.freezes[token]
	switch {
	case f == nil:
		return businessError(http.StatusBadRequest, path, CodeUnknownFreeze, descUnknownFreeze,
			"no freeze was made with this X-Business-Token")
	case f.member != b.MemberID:
		return businessError(http.StatusBadRequest, path, CodeFreezeMismatch, descFreezeMismatch,
			"the freeze of this token belongs to another member")
	case f.state != freezeOpen:
		return businessError(http.StatusBadRequest, path, CodeFreezeSettled, descFreezeSettled,
			"the freeze of this token was already unfrozen or deducted")
	}
	a := s.account(f.member)
	a.frozen -= f.points
	if path == "/member/unfreezePoint" {
		a.available += f.points
		f.state = freezeUnfrozen
	} else {
		f.state = freezeDeducted
	}
	return s.succeeded(k, noContent())
}

// changePoints handles PUT /member/point.
func (s *Simulator) changePoints(r *http.Request, path string, body []byte) response {
	token, errResp := businessToken(r, path)
	if errResp != nil {
		return *errResp
	}
	b, points, reason := decodePoints(body, true, true)
	if reason != "" {
		return paramError(path, reason)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := opKey{path, token}
	if resp, ok := s.replay(k); ok {
		return resp
	}
	a := s.account(b.MemberID)
	if b.ChangeType == "DEDUCT" {
		if a.available < points {
			return businessError(http.StatusBadRequest, path, CodeInsufficientPoints, descInsufficientPoints,
				fmt.Sprintf("member has %d points available, %d requested", a.available, points))
		}
		a.available -= points
	} else {
		a.available += points
	}
	return s.succeeded(k, noContent())
}
