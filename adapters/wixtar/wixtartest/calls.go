package wixtartest

import (
	"net/url"
	"time"
)

// Call is one request the Simulator received.
type Call struct {
	// Time is when it arrived, by Options.Now.
	Time   time.Time
	Method string
	Path   string
	// RawQuery is the query string exactly as sent; Query is it decoded.
	RawQuery string
	Query    url.Values
	// Authorization is the Authorization header as sent.
	Authorization string
	// Status is the HTTP status answered, 0 if the client gave up first.
	Status int
}

// Calls returns the recorded requests for path (e.g. PathToken or
// wixtar.PathPointsUsageRecords), or all of them when path is "", oldest
// first. With Options.MaxCalls set, only the most recent MaxCalls requests
// (of any path) are kept, so only those are seen.
func (s *Simulator) Calls(path string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range keptCalls(s.calls, s.opts.MaxCalls) {
		if path == "" || c.Path == path {
			out = append(out, c)
		}
	}
	return out
}

// appendCall appends c to calls and, when limit > 0, drops the oldest calls
// beyond limit. The slice grows to 2×limit before the newest limit calls are
// copied down, so a call costs O(1) amortised; keptCalls hides the older ones
// until then.
func appendCall(calls []Call, c Call, limit int) []Call {
	calls = append(calls, c)
	if limit > 0 && len(calls) >= 2*limit {
		n := copy(calls, calls[len(calls)-limit:])
		clear(calls[n:])
		calls = calls[:n]
	}
	return calls
}

// keptCalls returns the most recent limit calls, or all of them when
// limit ≤ 0.
func keptCalls(calls []Call, limit int) []Call {
	if limit > 0 && len(calls) > limit {
		return calls[len(calls)-limit:]
	}
	return calls
}
