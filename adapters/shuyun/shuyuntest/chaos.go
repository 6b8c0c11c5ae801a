package shuyuntest

import (
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Chaos injects faults into a share of the matching requests, drawn from a source seeded with
// Seed, so that a run is reproducible for a given seed and request order. Unlike FailNext and
// CommitThenDrop it does not count down: it applies until ClearChaos or the next SetChaos.
// Each request draws once: it is dropped after commit with probability DropShare, refused at the
// gateway with probability FailShare, timed out with probability TimeoutShare, and handled
// normally otherwise (the shares should add up to at most 1; any excess is ignored).
type Chaos struct {
	// Path limits the chaos to one endpoint (without the prefix); empty means every endpoint.
	Path string
	// DropShare is the share of requests whose effect is applied and whose connection is then
	// closed without an answer (commit-then-drop).
	DropShare float64
	// FailShare is the share of requests refused at the gateway, without effect, with a status
	// drawn from FailStatuses.
	FailShare float64
	// FailStatuses are the statuses of refused requests; empty means 500, 502, 503, 504 and 429
	// (a 429 carries Retry-After and X-Ratelimit-* headers of one second).
	FailStatuses []int
	// TimeoutShare is the share of requests held, without effect, until the client gives up or
	// TimeoutAfter passes, when they are answered 504.
	TimeoutShare float64
	// TimeoutAfter bounds how long a timed-out request is held (default 30s).
	TimeoutAfter time.Duration
	// Latency delays every matching request by Latency plus a uniform draw in [0, Jitter).
	// A client giving up during the delay leaves no effect.
	Latency, Jitter time.Duration
	// Seed seeds the draw (0 is a valid seed).
	Seed uint64
}

// chaosState is the active Chaos and its random source.
type chaosState struct {
	mu  sync.Mutex
	cfg *Chaos
	rnd *rand.Rand
}

// chaosDraw is what the chaos decided for one request.
type chaosDraw struct {
	delay   time.Duration
	fail    *fault
	drop    bool
	timeout time.Duration
}

// draw decides the fate of one request to path.
func (cs *chaosState) draw(path string) chaosDraw {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c := cs.cfg
	if c == nil || (c.Path != "" && c.Path != path) {
		return chaosDraw{}
	}
	var d chaosDraw
	d.delay = c.Latency
	if c.Jitter > 0 {
		d.delay += time.Duration(cs.rnd.Int64N(int64(c.Jitter)))
	}
	p := cs.rnd.Float64()
	switch {
	case p < c.DropShare:
		d.drop = true
	case p < c.DropShare+c.FailShare:
		statuses := c.FailStatuses
		if len(statuses) == 0 { // the gateway failures drawn by default
			statuses = []int{http.StatusInternalServerError, http.StatusBadGateway,
				http.StatusServiceUnavailable, http.StatusGatewayTimeout, http.StatusTooManyRequests}
		}
		d.fail = &fault{kind: faultFail, status: statuses[cs.rnd.IntN(len(statuses))]}
	case p < c.DropShare+c.FailShare+c.TimeoutShare:
		d.timeout = c.TimeoutAfter
		if d.timeout <= 0 {
			d.timeout = 30 * time.Second
		}
	}
	return d
}

// SetChaos replaces the active chaos with c.
func (s *Simulator) SetChaos(c Chaos) {
	s.chaos.mu.Lock()
	defer s.chaos.mu.Unlock()
	c.FailStatuses = append([]int(nil), c.FailStatuses...)
	s.chaos.cfg = &c
	s.chaos.rnd = rand.New(rand.NewPCG(c.Seed, c.Seed^0x9e3779b97f4a7c15))
}

// ClearChaos ends the active chaos. Vendor state and recorded calls are kept.
func (s *Simulator) ClearChaos() {
	s.chaos.mu.Lock()
	defer s.chaos.mu.Unlock()
	s.chaos.cfg = nil
}

// Stats are counters of the requests the simulator has seen.
type Stats struct {
	// Requests counts every request received.
	Requests int `json:"requests"`
	// InFlight is the number of requests being handled now; PeakInFlight the most at once.
	InFlight     int `json:"inFlight"`
	PeakInFlight int `json:"peakInFlight"`
	// Overlaps counts requests that arrived while another request with the same path and
	// token was still being handled: duplicate in-flight calls.
	Overlaps int `json:"overlaps"`
}

// flight tracks requests in progress, per (path, token).
type flight struct {
	mu      sync.Mutex
	stats   Stats
	byToken map[opKey]int
}

// begin counts a request in and returns the function counting it out.
func (f *flight) begin(path, token string) (end func()) {
	k := opKey{path, token}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.byToken == nil {
		f.byToken = map[opKey]int{}
	}
	f.stats.Requests++
	f.stats.InFlight++
	f.stats.PeakInFlight = max(f.stats.PeakInFlight, f.stats.InFlight)
	if token != "" {
		if f.byToken[k] > 0 {
			f.stats.Overlaps++
		}
		f.byToken[k]++
	}
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.stats.InFlight--
		if token != "" {
			if f.byToken[k]--; f.byToken[k] == 0 {
				delete(f.byToken, k)
			}
		}
	}
}

// Stats returns the request counters.
func (s *Simulator) Stats() Stats {
	s.flight.mu.Lock()
	defer s.flight.mu.Unlock()
	return s.flight.stats
}
