package wixtartest

import "time"

// RevokeTokens invalidates every token issued so far; the next API call with
// one gets 401.
func (s *Simulator) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// TokensIssued returns how many tokens the token endpoint has issued.
func (s *Simulator) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// FailNext makes the next n API requests (not token requests) fail with
// httpStatus before the token is checked. 429 and 503 carry Retry-After: 1.
func (s *Simulator) FailNext(n, httpStatus int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failNext = append(s.failNext, httpStatus)
	}
}

// Delay holds every following answer back by d, until Delay(0). A request
// whose client gives up meanwhile gets no answer.
func (s *Simulator) Delay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
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
