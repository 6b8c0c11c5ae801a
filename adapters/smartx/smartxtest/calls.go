package smartxtest

import (
	"net/http"
	"strings"
	"time"

	"github.com/loyaltybus/loyaltybus/adapters/internal/journal"
	"github.com/loyaltybus/loyaltybus/adapters/smartx"
)

// Call is one request the Simulator received.
type Call struct {
	// Time is when the request arrived, by Options.Now.
	Time time.Time
	// Intent is the INTENT_OPERATION_TYPE value as sent ("" if missing).
	Intent string
	// IntentKey is the header key that carried Intent, in the case the client
	// sent it when RawKeys is true, otherwise as net/http canonicalised it
	// (Intent_operation_type). "" if the header was missing.
	IntentKey string
	// AuthToken is the Auth-token value sent, if any.
	AuthToken string
	// AuthTokenKey is the key that carried AuthToken, like IntentKey.
	AuthTokenKey string
	// RawKeys reports whether the keys above are exactly as sent. It is true
	// for requests that came through a Server.
	RawKeys bool
	// Body is the request body.
	Body []byte
	// ResultCode is the answer's resultCode, 0 if there was no BaseResponse.
	ResultCode int
	// HTTPStatus is the answer's HTTP status, 0 if none was sent.
	HTTPStatus int
}

// Calls returns the recorded requests of intent (any case), or all of them
// when intent is "", oldest first. With Options.MaxCalls set, only the most
// recent MaxCalls requests (of any intent) are kept, so only those are seen.
func (s *Simulator) Calls(intent string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range journal.Recent(s.calls, s.opts.MaxCalls) {
		if intent == "" || strings.EqualFold(c.Intent, intent) {
			out = append(out, c)
		}
	}
	return out
}

// newCall extracts what the simulator checks from r, honouring the raw key
// case when it is known.
func (s *Simulator) newCall(r *http.Request, body []byte) Call {
	c := Call{Time: s.opts.Now(), Body: body}
	raw := rawHeaderKeys(r)
	c.RawKeys = raw != nil
	if !c.RawKeys {
		if v, ok := r.Header[http.CanonicalHeaderKey(smartx.HeaderIntent)]; ok && len(v) > 0 {
			c.IntentKey, c.Intent = http.CanonicalHeaderKey(smartx.HeaderIntent), v[0]
		}
		if v, ok := r.Header[http.CanonicalHeaderKey(smartx.HeaderAuthToken)]; ok && len(v) > 0 {
			c.AuthTokenKey, c.AuthToken = http.CanonicalHeaderKey(smartx.HeaderAuthToken), v[0]
		}
		return c
	}
	for _, k := range raw {
		switch {
		case strings.EqualFold(k, smartx.HeaderIntent):
			c.IntentKey = k
			if k == smartx.HeaderIntent || s.opts.LenientHeaderCase {
				c.Intent = r.Header.Get(smartx.HeaderIntent)
			}
		case strings.EqualFold(k, smartx.HeaderAuthToken):
			c.AuthTokenKey = k
			c.AuthToken = r.Header.Get(smartx.HeaderAuthToken)
		}
	}
	return c
}

// record adds c to the call journal.
func (s *Simulator) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = journal.Append(s.calls, c, s.opts.MaxCalls)
}
