package shuyuntest

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// FaultOption refines an injected fault.
type FaultOption func(*fault)

// OnPath limits a fault to requests for path (without the prefix, e.g. "/member/freezePoint").
// Without it a fault applies to any authenticated request.
func OnPath(path string) FaultOption { return func(f *fault) { f.path = path } }

// WithRetryAfter sets the wait FailNext announces with Retry-After and X-Ratelimit-Reset.
// The default is one second for 429 and nothing for other statuses.
func WithRetryAfter(d time.Duration) FaultOption { return func(f *fault) { f.retryAfter = d } }

// WithStatus sets the HTTP status of BusinessErrorNext answers (default 400), e.g. 500.
func WithStatus(status int) FaultOption { return func(f *fault) { f.status = status } }

type faultKind int

const (
	faultFail faultKind = iota
	faultBusiness
	faultDrop
	faultDelay
)

// fault is one injected failure, applied to the next remaining matching requests
// (remaining < 0: every matching request until Reset).
type fault struct {
	kind       faultKind
	remaining  int
	path       string
	status     int
	code, desc string
	retryAfter time.Duration
	delay      time.Duration
}

// failResponse is the gateway answer of a FailNext fault.
func (f *fault) failResponse() response {
	kind := strings.ReplaceAll(strings.ToLower(http.StatusText(f.status)), " ", "_")
	desc := http.StatusText(f.status)
	switch f.status {
	case http.StatusTooManyRequests:
		kind, desc = "quota_exceeded", "Quota has been exceeded"
	case http.StatusBadGateway:
		desc = "The upstream server returned an invalid response"
	case http.StatusServiceUnavailable:
		desc = "The service is temporarily unavailable"
	case http.StatusGatewayTimeout:
		desc = "The upstream server did not respond in time"
	}
	if kind == "" {
		kind = "error"
	}
	resp := gatewayError(f.status, kind, desc)
	retry := f.retryAfter
	if retry == 0 && f.status == http.StatusTooManyRequests {
		retry = defaultRetryAfter
	}
	if retry > 0 {
		setRateHeaders(resp.header, 1, 0, retry)
		if f.status != http.StatusTooManyRequests {
			resp.header.Del("X-Ratelimit-Limit")
			resp.header.Del("X-Ratelimit-Remaining")
			resp.header.Del("X-Ratelimit-Reset")
		}
	}
	return resp
}

// faultSet holds the pending faults.
type faultSet struct {
	mu     sync.Mutex
	faults []*fault
}

// applied is what take found for one request.
type applied struct {
	delay    time.Duration
	fail     *fault
	business *fault
	drop     bool
}

// take consumes, for each kind, the first fault matching path.
func (fs *faultSet) take(path string) applied {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var a applied
	seen := map[faultKind]bool{}
	kept := fs.faults[:0]
	for _, f := range fs.faults {
		if !seen[f.kind] && (f.path == "" || f.path == path) {
			seen[f.kind] = true
			switch f.kind {
			case faultFail:
				a.fail = f
			case faultBusiness:
				a.business = f
			case faultDrop:
				a.drop = true
			case faultDelay:
				a.delay = f.delay
			}
			if f.remaining > 0 {
				f.remaining--
			}
		}
		if f.remaining != 0 {
			kept = append(kept, f)
		}
	}
	clear(fs.faults[len(kept):])
	fs.faults = kept
	return a
}

func (fs *faultSet) add(f *fault, opts []FaultOption) {
	for _, o := range opts {
		o(f)
	}
	if f.remaining == 0 {
		return
	}
	fs.mu.Lock()
	fs.faults = append(fs.faults, f)
	fs.mu.Unlock()
}

// FailNext makes the next n matching requests fail at the gateway with status (typically 429,
// 500, 502, 503 or 504) and a MuleSoft-style body, without reaching Shuyun. A 429 carries
// Retry-After and X-Ratelimit-* headers (one second unless WithRetryAfter says otherwise);
// other statuses carry Retry-After only with WithRetryAfter.
func (s *Simulator) FailNext(n, status int, opts ...FaultOption) {
	s.faults.add(&fault{kind: faultFail, remaining: max(n, 0), status: status}, opts)
}

// BusinessErrorNext makes the next n matching requests answer the vendor's error body with
// code and desc (status 400 unless WithStatus says otherwise) without applying any effect.
func (s *Simulator) BusinessErrorNext(n int, code, desc string, opts ...FaultOption) {
	s.faults.add(&fault{kind: faultBusiness, remaining: max(n, 0), status: http.StatusBadRequest,
		code: code, desc: desc}, opts)
}

// CommitThenDrop makes the next n matching requests apply their effect and then close the
// connection without any response, like a timeout after commit. The client sees a transport
// error; a retry with the same token then meets the ReplayMode.
func (s *Simulator) CommitThenDrop(n int, opts ...FaultOption) {
	s.faults.add(&fault{kind: faultDrop, remaining: max(n, 0)}, opts)
}

// Delay holds every matching request for d before handling it, until Reset. A request whose
// client gives up during the delay is dropped without effect.
func (s *Simulator) Delay(d time.Duration, opts ...FaultOption) {
	s.faults.add(&fault{kind: faultDelay, remaining: -1, delay: d}, opts)
}

// DelayNext holds the next n matching requests for d before handling them, like Delay.
func (s *Simulator) DelayNext(n int, d time.Duration, opts ...FaultOption) {
	s.faults.add(&fault{kind: faultDelay, remaining: max(n, 0), delay: d}, opts)
}

// Reset removes every pending fault. Vendor state and recorded calls are kept.
func (s *Simulator) Reset() {
	s.faults.mu.Lock()
	s.faults.faults = nil
	s.faults.mu.Unlock()
}

// drop closes the connection without writing a response.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
