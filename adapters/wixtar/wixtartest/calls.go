package wixtartest

import (
	"net/url"
	"time"

	"github.com/loyaltybus/loyaltybus/adapters/internal/journal"
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
	for _, c := range journal.Recent(s.calls, s.opts.MaxCalls) {
		if path == "" || c.Path == path {
			out = append(out, c)
		}
	}
	return out
}
