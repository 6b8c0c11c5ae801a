package pospaltest

import (
	"encoding/json"
	"time"

	"github.com/loyaltybus/loyaltybus/adapters/pospal"
)

// dayCounter counts one appId's calls of one Shanghai day.
type dayCounter struct {
	reset time.Time // the midnight that ends the day
	used  int
}

// counter returns appID's counter for the current day. Callers hold mu.
func (s *Simulator) counter(appID string) *dayCounter {
	now := s.opts.Now()
	c := s.quota[appID]
	if c == nil || !now.Before(c.reset) {
		c = &dayCounter{reset: pospal.NextMidnight(now)}
		s.quota[appID] = c
	}
	return c
}

// charge counts one call of appID and reports whether it is past the quota.
func (s *Simulator) charge(appID string) (over bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.counter(appID)
	c.used++
	return c.used > s.opts.DailyQuota
}

// Used returns the number of calls charged to appID today (Asia/Shanghai),
// failed and refused ones included.
func (s *Simulator) Used(appID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counter(appID).used
}

// SetUsed sets the number of calls charged to appID today, e.g. to start a
// test just below the quota.
func (s *Simulator) SetUsed(appID string, used int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counter(appID).used = used
}

// accessLog is a row of openApiLimitAccess/queryDailyAccessTimesLog; the
// vendor spells haveAcessTimes so.
type accessLog struct {
	AppID          string `json:"appId"`
	AccessDate     string `json:"accessDate"`
	HaveAcessTimes int    `json:"haveAcessTimes"`
	LimitTimes     int    `json:"limitTimes"`
}

// queryDailyAccessTimes serves openApiLimitAccess/queryDailyAccessTimesLog
// {beginDate, endDate} (yyyy-MM-dd, at most 7 days apart). Only the current
// day is known; the call itself is charged before it counts.
func (s *Simulator) queryDailyAccessTimes(appID string, body map[string]json.RawMessage, _ string) (any, *vendorError) {
	var begin, end string
	if json.Unmarshal(body["beginDate"], &begin) != nil || json.Unmarshal(body["endDate"], &end) != nil {
		return nil, errBadParameter
	}
	b, err1 := time.ParseInLocation(time.DateOnly, begin, pospal.Shanghai)
	e, err2 := time.ParseInLocation(time.DateOnly, end, pospal.Shanghai)
	if err1 != nil || err2 != nil || e.Before(b) || e.Sub(b) > 7*24*time.Hour {
		return nil, errBadParameter
	}
	today := s.opts.Now().In(pospal.Shanghai)
	day := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, pospal.Shanghai)
	rows := []accessLog{}
	if !day.Before(b) && !day.After(e) {
		rows = append(rows, accessLog{AppID: appID, AccessDate: day.Format(time.DateOnly), HaveAcessTimes: s.Used(appID), LimitTimes: s.opts.DailyQuota})
	}
	return rows, nil
}
