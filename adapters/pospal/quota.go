package pospal

import (
	"sync"
	"time"
)

// Shanghai is the vendor's time zone, China Standard Time. China has kept
// UTC+8 without daylight saving since 1991, so a fixed zone is exact for the
// API's dates and needs no tzdata.
var Shanghai = time.FixedZone("CST", 8*60*60)

// NextMidnight returns the first midnight in Asia/Shanghai strictly after t,
// when Pospal's daily quota resets.
func NextMidnight(t time.Time) time.Time {
	s := t.In(Shanghai)
	return time.Date(s.Year(), s.Month(), s.Day()+1, 0, 0, 0, 0, Shanghai)
}

// quota counts calls of one appId per Shanghai day. It is safe for concurrent
// use.
type quota struct {
	limit int
	now   func() time.Time

	mu    sync.Mutex
	reset time.Time // the midnight that ends the counted day
	used  int
}

// roll starts a new day when the counted one is over. Callers hold mu.
func (q *quota) roll(now time.Time) {
	if !now.Before(q.reset) {
		q.reset = NextMidnight(now)
		q.used = 0
	}
}

// take counts one call. It returns false, with the reset time, when the limit
// is already reached; then the call must not be made.
func (q *quota) take() (ok bool, used int, resetAt, now time.Time) {
	now = q.now()
	q.mu.Lock()
	defer q.mu.Unlock()
	q.roll(now)
	if q.used >= q.limit {
		return false, q.used, q.reset, now
	}
	q.used++
	return true, q.used, q.reset, now
}

// exhaust records that the vendor said the quota is used up and returns the
// reset time.
func (q *quota) exhaust() (resetAt, now time.Time) {
	now = q.now()
	q.mu.Lock()
	defer q.mu.Unlock()
	q.roll(now)
	q.used = q.limit
	return q.reset, now
}

// state returns the counter as of now.
func (q *quota) state() (used, limit int, resetAt time.Time) {
	now := q.now()
	q.mu.Lock()
	defer q.mu.Unlock()
	q.roll(now)
	return q.used, q.limit, q.reset
}
