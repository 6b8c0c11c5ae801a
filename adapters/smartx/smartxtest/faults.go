package smartxtest

import "time"

// ExpireToken invalidates every token issued so far: the next call with one
// gets resultCode 405 (token error), as after the register's token lifetime,
// which is undocumented, ran out.
func (s *Simulator) ExpireToken() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// FailNext makes the next n requests, of any intent, fail with httpStatus and
// a plain-text body that is not a BaseResponse, as a proxy or a crashing
// device would answer.
func (s *Simulator) FailNext(n, httpStatus int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failNext = append(s.failNext, httpStatus)
	}
}

// ResultCodeNext makes the next n requests other than AUTH answer with
// resultCode code and messageDetail message, before any other check.
func (s *Simulator) ResultCodeNext(n, code int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.codeNext = append(s.codeNext, injected{code: code, message: message})
	}
}

// Delay holds every following answer back by d, until Delay(0). A request
// whose client gives up meanwhile is dropped without an answer.
func (s *Simulator) Delay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// HangUp makes every following request end with the connection closed and
// no answer (on true) or restores normal answers (on false). It works
// wherever the Simulator is mounted; Server.DeviceOff refuses connections
// instead.
func (s *Simulator) HangUp(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hangUp = on
}

func (s *Simulator) takeFailure() (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failNext) == 0 {
		return 0, false
	}
	st := s.failNext[0]
	s.failNext = s.failNext[1:]
	return st, true
}

func (s *Simulator) takeResultCode() (injected, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.codeNext) == 0 {
		return injected{}, false
	}
	in := s.codeNext[0]
	s.codeNext = s.codeNext[1:]
	return in, true
}
