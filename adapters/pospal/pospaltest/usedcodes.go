package pospaltest

import (
	"cmp"
	"encoding/json"
	"slices"

	"github.com/loyaltybus/loyaltybus/adapters/pospal"
)

// firstUseID orders the first use; later uses count up. Like ticket uids it
// is above 2^53.
const firstUseID int64 = 1<<53 + 1

// usedCode is a record of queryUsedPromotionCode, in the keys' real casing
// (doc 001 lower-cases them).
type usedCode struct {
	CreatedByUserAppID       string `json:"createdByUserAppId"`
	CreatedByUserAccount     string `json:"createdByUserAccount"`
	Code                     string `json:"code"`
	CreatedDateTime          string `json:"createdDateTime"`
	ExpiredDate              string `json:"expiredDate"`
	UsedByUserAppID          string `json:"usedByUserAppId"`
	UsedByUserAccount        string `json:"usedByUserAccount"`
	UsedDateTime             string `json:"usedDateTime"`
	UsedByTicketUID          string `json:"usedByTicketUid"`
	UsedByProductOrderID     *int64 `json:"usedByProductOrderId"`
	PromotionCouponUID       int64  `json:"promotionCouponUid"`
	PromotionCouponName      string `json:"promotionCouponName"`
	PromotionCouponAppID     string `json:"promotionCouponAppId"`
	PromotionCouponAccount   string `json:"promotionCouponAccount"`
	PromotionCouponStartDate string `json:"promotionCouponStartDate"`
	PromotionCouponEndDate   string `json:"promotionCouponEndDate"`
}

// queryUsedCodes serves promotionOpenApi/queryUsedPromotionCode: the codes
// used with startTime ≤ use time < excludeEndTime, of every account (doc 001:
// any store's appId lists all used codes), most recent use first, PageSize per
// page, keyset-paged by postBackParameter {parameterType: LAST_RESULT_MIN_ID,
// parameterValue: "<smallest use id so far>"}. As doc 001 lists, data holds
// postBackParameter and result only, no pageSize, and a postBackParameter is
// returned on every page, so a walk ends with an empty page.
//
// Missing or malformed times, excludeEndTime not after startTime, a window
// wider than pospal.MaxUsedCodeWindow (5 days), and a postBackParameter of
// another type or whose value is not the use id of a used code answer 9003.
// The codes are made by addCouponcode and used by promotioncouponcode/use;
// uses through an account record its appId as usedByUserAppId.
func (s *Simulator) queryUsedCodes(_ string, body map[string]json.RawMessage, _ string) (any, *vendorError) {
	var startS, endS string
	if json.Unmarshal(body["startTime"], &startS) != nil || json.Unmarshal(body["excludeEndTime"], &endS) != nil {
		return nil, errBadParameter
	}
	start, err1 := pospal.ParseDateTime(startS)
	end, err2 := pospal.ParseDateTime(endS)
	if err1 != nil || err2 != nil || !end.After(start) || end.Sub(start) > pospal.MaxUsedCodeWindow {
		return nil, errBadParameter
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var used []*CodeState
	for _, c := range s.codes {
		if c.Used {
			used = append(used, c)
		}
	}
	slices.SortFunc(used, func(a, b *CodeState) int { return cmp.Compare(b.useID, a.useID) })
	page, verr := parseKeyset(body["postBackParameter"], func(id int64) bool {
		return slices.ContainsFunc(used, func(c *CodeState) bool { return c.useID == id })
	})
	if verr != nil {
		return nil, verr
	}
	result := []usedCode{}
	last := int64(0)
	for _, c := range used {
		if len(result) == s.opts.PageSize {
			break
		}
		if page.skip(c.useID) || c.UsedAt.Before(start) || !c.UsedAt.Before(end) {
			continue
		}
		result = append(result, s.usedCodeRecord(c))
		last = c.useID
	}
	next := page.next(last, len(result) == 0)
	return struct {
		PostBackParameter json.RawMessage `json:"postBackParameter"`
		Result            []usedCode      `json:"result"`
	}{next, result}, nil
}

// usedCodeRecord describes a used code. Callers hold mu.
func (s *Simulator) usedCodeRecord(c *CodeState) usedCode {
	r := usedCode{
		CreatedByUserAppID: c.CreatedByAppID,
		Code:               c.Code,
		CreatedDateTime:    pospal.FormatDateTime(c.Created),
		UsedByUserAppID:    c.UsedByAppID,
		UsedDateTime:       pospal.FormatDateTime(c.UsedAt),
		PromotionCouponUID: c.PromotionCouponUID,
	}
	if p := s.promotions[c.PromotionCouponUID]; p != nil {
		r.PromotionCouponName = p.name
		if !p.endDate.IsZero() {
			r.PromotionCouponEndDate = pospal.FormatDateTime(p.endDate)
		}
	}
	return r
}
