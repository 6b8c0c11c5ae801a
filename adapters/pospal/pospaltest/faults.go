package pospaltest

import (
	"slices"
	"strings"
	"time"
)

// faultKind names an injected failure.
type faultKind int

const (
	faultFail faultKind = iota
	faultTruncate
	faultBadSignature
	faultUpperCaseError
	faultRepeatPostBack
	faultEmptyPage
	faultCommitThenDrop
)

// fault is a pending failure for the next n matching requests.
type fault struct {
	kind    faultKind
	n       int
	methods []string // empty: every method
	status  int      // faultFail
}

// matchMethod reports whether a fault filter applies to a request of path rest (the
// part after the API prefix, e.g. "promotionOpenApi/promotion/addCouponcode").
func matchMethod(methods []string, rest string) bool {
	if len(methods) == 0 {
		return true
	}
	for _, m := range methods {
		if methodIs(m, rest) {
			return true
		}
	}
	return false
}

// methodIs reports whether name denotes the endpoint rest: equal to rest or to
// its last segment, in any case.
func methodIs(name, rest string) bool {
	last := rest[strings.LastIndex(rest, "/")+1:]
	return strings.EqualFold(name, rest) || strings.EqualFold(name, last)
}

// add registers a fault.
func (s *Simulator) add(f fault) {
	if f.n <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// take consumes one pending fault of kind matching rest and returns it.
func (s *Simulator) take(kind faultKind, rest string) (fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.takeFault(kind, rest)
}

// takeLocked is take for callers that hold mu.
func (s *Simulator) takeLocked(kind faultKind, rest string) bool {
	_, ok := s.takeFault(kind, rest)
	return ok
}

// takeFault consumes a fault. Callers hold mu.
func (s *Simulator) takeFault(kind faultKind, rest string) (fault, bool) {
	for i, f := range s.faults {
		if f.kind != kind || !matchMethod(f.methods, rest) {
			continue
		}
		f.n--
		if f.n == 0 {
			s.faults = slices.Delete(s.faults, i, i+1)
		}
		return *f, true
	}
	return fault{}, false
}

// FailNext answers the next n requests (of the given methods, e.g.
// "addCouponcode"; none means all) with httpStatus and a plain-text body,
// before any processing: nothing is applied and no quota is charged, as when a
// gateway in front of the vendor fails.
func (s *Simulator) FailNext(n, httpStatus int, methods ...string) {
	s.add(fault{kind: faultFail, n: n, status: httpStatus, methods: methods})
}

// Delay holds every matching request for d before processing it, until Reset
// or Delay(0). A request whose context ends first (the client gave up) is
// dropped unprocessed.
func (s *Simulator) Delay(d time.Duration, methods ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay, s.delayMethods = d, methods
}

// TruncateNext processes the next n matching requests, then sends only half of
// the answer's bytes (gzip-compressed ones included) under a Content-Length of
// the whole and closes the connection.
func (s *Simulator) TruncateNext(n int, methods ...string) {
	s.add(fault{kind: faultTruncate, n: n, methods: methods})
}

// BadResponseSignatureNext signs the next n matching answers with a wrong key.
func (s *Simulator) BadResponseSignatureNext(n int, methods ...string) {
	s.add(fault{kind: faultBadSignature, n: n, methods: methods})
}

// UpperCaseErrorStatusNext sends status "ERROR" instead of "error" in the
// next n matching error answers (the status is case-insensitive).
func (s *Simulator) UpperCaseErrorStatusNext(n int, methods ...string) {
	s.add(fault{kind: faultUpperCaseError, n: n, methods: methods})
}

// RepeatPostBackNext makes the next n ticket pages requested with a
// postBackParameter answer that same parameter again instead of the next one,
// so a client that follows it loops.
func (s *Simulator) RepeatPostBackNext(n int) {
	s.add(fault{kind: faultRepeatPostBack, n: n})
}

// EmptyPageNext makes the next n ticket pages answer an empty result with a
// postBackParameter.
func (s *Simulator) EmptyPageNext(n int) {
	s.add(fault{kind: faultEmptyPage, n: n})
}

// CommitThenDrop processes the next n matching requests (a coupon code is
// added or used, the quota charged), then closes the connection without an
// answer.
func (s *Simulator) CommitThenDrop(n int, methods ...string) {
	s.add(fault{kind: faultCommitThenDrop, n: n, methods: methods})
}

// Reset removes every pending fault and the delay. Vendor state, quota
// counters and recorded calls stay.
func (s *Simulator) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	s.delay, s.delayMethods = 0, nil
}
