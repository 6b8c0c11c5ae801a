// Package shuyuntest is an in-memory simulator of the Shuyun CRM papi behind its MuleSoft
// gateway, in the spirit of net/http/httptest: a Simulator is an http.Handler holding vendor
// state (a points ledger, coupons, orders), and NewServer serves one on 127.0.0.1 for a test.
// The all-in-one binary mounts the same Simulator on a real listener.
//
// # What it simulates
//
// The gateway checks the headers client_id and client_secret (missing: 401
// {"error":"missing_client",…}; wrong: 401 {"error":"invalid_client",…}) and, when
// Options.RateLimit is set, answers 429 with Retry-After and X-Ratelimit-Limit, -Remaining and
// -Reset (milliseconds) headers. Behind it:
//
//   - PUT /member/point, POST /member/freezePoint, /member/unfreezePoint, /member/freezeDeductPoint
//     keep a ledger of available and frozen points per member and answer 204 with an empty body.
//     They require X-Business-Token. A repeated (path, token) is handled per Options.ReplayMode;
//     only successes are remembered, so a refused request may be retried with its token. The
//     token alone identifies the request: a replay's body is not compared with the original.
//     Unfreeze and deduct need the token of an open freeze of the same member.
//   - POST /offer/instance/grant requires X-Request-Sequence and de-duplicates on it like the
//     points calls. Coupons move GRANTED/VALID → FROZEN → USED, USED → VALID (anticounting),
//     GRANTED/VALID/FROZEN → EXPIRED (invalid), EXPIRED/GRANTED → VALID (effective); see
//     transitions in coupons.go. An illegal transition or an unknown code answers HTTP 200
//     {"success":false,"msg":"…"}.
//   - GET /offer/coupon/detail?couponCode=…&memberType=…&channelType=… answers the coupon's
//     instance (the doc's flat example shape), or success:false for an unknown code.
//     AddCoupon seeds a coupon with a chosen code and state, e.g. the doc's "96800081".
//   - POST /order/save upserts the Order object (flat, or wrapped as {"Order":{…}}) by orderId
//     and orderType and answers 200 with an empty body (the doc shows no answer body).
//
// Unknown paths answer 404 and wrong methods 405, with MuleSoft-style bodies.
//
// # Error codes
//
// Business errors use the vendor's body {"module":"Solution Package","service":"openapi",
// "code":…,"desc":…,"uri":<path>} with HTTP 400; the header X-Simulator-Reason explains the
// cause. Only 010407 comes from the vendor doc; the other codes are invented by the simulator
// (the real ones are unknown) and must not be relied on against the real vendor:
//
//	010407 参数异常          missing X-Business-Token or X-Request-Sequence, invalid JSON,
//	                        a missing required field, a field too long, point ≤ 0, bad changeType
//	019001 可用积分不足       freeze or DEDUCT of more points than available      (invented)
//	019002 冻结记录不存在     unfreeze or deduct with a token that froze nothing  (invented)
//	019003 冻结积分已处理     unfreeze or deduct of a freeze already settled      (invented)
//	019004 重复的业务请求     a repeated token when ReplayMode is TokenError      (invented)
//	019005 会员与冻结记录不符 unfreeze or deduct naming another member            (invented)
//
// Coupon refusals (HTTP 200, success:false) carry msg "券码不存在: <code>" for an unknown
// coupon and "卡券状态<STATE>不允许<path>" for an illegal transition.
//
// # Deviations from the doc
//
// description is documented as required but may be empty (loyaltybus commands make it
// optional); idempotentMode is accepted with any value; effectTime is not scheduled (points are
// available at once); the coupon list and extension endpoints are not simulated.
//
// # Recording and faults
//
// Every request is recorded (Calls; only the latest Options.MaxCalls when set), successful side effects are counted per (path, token)
// (Effects, EffectCount), requests in flight are counted (Stats: peak concurrency and duplicate
// in-flight calls of one token), and faults can be injected (FailNext, BusinessErrorNext,
// CommitThenDrop, Delay, DelayNext), also on a random share of requests with a seeded draw
// (SetChaos). A Simulator is safe for concurrent use.
package shuyuntest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/loyaltybus/loyaltybus/adapters/internal/journal"
)

// Default credentials and balance used when Options leaves them zero.
const (
	DefaultClientID     = "shuyuntest-client-id"
	DefaultClientSecret = "shuyuntest-client-secret"
	DefaultBalance      = 1000
)

// DefaultTimeLayout is the layout of times in answers: yyyy-MM-dd'T'HH:mm:ss.SSSXXX in +08:00.
const DefaultTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// ReplayMode says what a repeated (operation, token) does.
type ReplayMode int

// Replay modes.
const (
	// TokenReplay answers the original success again without a second effect (the default).
	TokenReplay ReplayMode = iota
	// TokenError answers a business error, code 019004.
	TokenError
	// NoDedup applies the effect again, for chaos tests that must detect double effects. A
	// repeated freeze freezes more under the same token; a repeated unfreeze or deduct meets
	// the settled freeze and answers 019003.
	NoDedup
)

// Options configures a Simulator. The zero value is usable.
type Options struct {
	// ClientID and ClientSecret are the credentials the gateway accepts. Empty means
	// DefaultClientID and DefaultClientSecret.
	ClientID, ClientSecret string
	// PathPrefix is stripped from request paths, e.g. "/schm-shuyun-crm-papi". Empty: the
	// endpoints are served at the root. Requests outside the prefix answer 404.
	PathPrefix string
	// ReplayMode says what a repeated token does; the zero value is TokenReplay.
	ReplayMode ReplayMode
	// DefaultBalance is the available balance of members the ledger has not seen. Zero means
	// DefaultBalance (1000); a negative value means members start with 0.
	DefaultBalance int64
	// RateLimit is the number of requests the gateway accepts per RateWindow; zero means no limit.
	RateLimit int
	// RateWindow is the rate-limit window; zero means one second.
	RateWindow time.Duration
	// TimeLayout formats times in answers (grantTime); empty means DefaultTimeLayout.
	TimeLayout string
	// Now is the simulator's clock; nil means time.Now.
	Now func() time.Time
	// MaxCalls bounds the call journal (Calls) to the most recent MaxCalls requests, so a
	// long-running simulator holds bounded memory; zero (or less) keeps every call, as tests
	// want. Vendor state, effects and Stats are not affected.
	MaxCalls int
}

// Call is one recorded request.
type Call struct {
	// Method is the HTTP method.
	Method string
	// Path is the request path with Options.PathPrefix removed.
	Path string
	// Header holds the request headers. When RawHeaderCase is true the keys are spelled as
	// the client sent them (e.g. "client_id"): the request came through a listener wrapped by
	// WrapListener, as NewServer does. Otherwise they are canonical ("Client_id"), because
	// net/http canonicalises header keys before a handler sees them. Use http.Header.Get only
	// with canonical keys; with raw keys index the map directly.
	Header http.Header
	// RawHeaderCase reports whether Header keys keep the client's spelling.
	RawHeaderCase bool
	// Body is the request body.
	Body []byte
	// Token is the X-Business-Token or X-Request-Sequence header, if any.
	Token string
	// Time is when the simulator received the request.
	Time time.Time
}

// Effect counts the applied side effects of one (operation, token). Op is the endpoint path
// (e.g. "/member/freezePoint"); Token is the X-Business-Token or X-Request-Sequence, the
// coupon code for coupon operations, and "<orderId>:<orderType>" for order saves.
type Effect struct {
	Op    string
	Token string
	Count int
}

// opKey names an idempotent operation.
type opKey struct{ op, token string }

// response is an answer, written by ServeHTTP.
type response struct {
	status int
	header http.Header
	body   []byte
}

// Simulator is an in-memory Shuyun papi behind a MuleSoft gateway. Create it with
// NewSimulator; it is an http.Handler and safe for concurrent use.
type Simulator struct {
	opts   Options
	raw    rawCapture
	faults faultSet
	chaos  chaosState
	flight flight

	mu          sync.Mutex
	accounts    map[string]*account
	freezes     map[string]*freeze
	done        map[opKey]response
	effects     map[opKey]int
	effectOrder []opKey
	coupons     map[string]*coupon
	couponOrder []string
	orders      map[orderKey]json.RawMessage
	lastOrder   map[string]orderKey
	calls       []Call
	nextID      int64
	window      time.Time
	windowCount int
}

// NewSimulator returns a Simulator configured by opts.
func NewSimulator(opts Options) *Simulator {
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = DefaultClientSecret
	}
	switch {
	case opts.DefaultBalance == 0:
		opts.DefaultBalance = DefaultBalance
	case opts.DefaultBalance < 0:
		opts.DefaultBalance = 0
	}
	if opts.RateWindow <= 0 {
		opts.RateWindow = time.Second
	}
	if opts.TimeLayout == "" {
		opts.TimeLayout = DefaultTimeLayout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.PathPrefix = strings.TrimRight(opts.PathPrefix, "/")
	return &Simulator{
		opts:      opts,
		accounts:  map[string]*account{},
		freezes:   map[string]*freeze{},
		done:      map[opKey]response{},
		effects:   map[opKey]int{},
		coupons:   map[string]*coupon{},
		orders:    map[orderKey]json.RawMessage{},
		lastOrder: map[string]orderKey{},
	}
}

// ClientID returns the client_id the gateway accepts.
func (s *Simulator) ClientID() string { return s.opts.ClientID }

// ClientSecret returns the client_secret the gateway accepts.
func (s *Simulator) ClientSecret() string { return s.opts.ClientSecret }

// ServeHTTP answers one request as the gateway and Shuyun would.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		return // the client went away
	}
	path, inPrefix := strings.CutPrefix(r.URL.Path, s.opts.PathPrefix)
	if s.opts.PathPrefix == "" {
		path, inPrefix = r.URL.Path, true
	}
	s.record(r, path, body)
	token := r.Header.Get("X-Business-Token")
	if token == "" {
		token = r.Header.Get("X-Request-Sequence")
	}
	defer s.flight.begin(path, token)()

	if resp, ok := s.gateway(r); !ok {
		writeResponse(w, resp)
		return
	}
	if !inPrefix {
		writeResponse(w, gatewayError(http.StatusNotFound, "not_found", "no resource matches "+r.URL.Path))
		return
	}
	f := s.faults.take(path)
	c := s.chaos.draw(path)
	if f.delay == 0 {
		f.delay = c.delay
	}
	if f.fail == nil {
		f.fail = c.fail
	}
	f.drop = f.drop || c.drop
	if f.delay > 0 && !wait(r, f.delay) {
		return
	}
	if c.timeout > 0 {
		if wait(r, c.timeout) {
			writeResponse(w, (&fault{status: http.StatusGatewayTimeout}).failResponse())
		}
		return
	}
	switch {
	case f.fail != nil:
		writeResponse(w, f.fail.failResponse())
		return
	case f.business != nil:
		writeResponse(w, businessError(f.business.status, path, f.business.code, f.business.desc, "injected by BusinessErrorNext"))
		return
	}
	resp := s.route(r, path, body)
	if f.drop {
		drop(w)
		return
	}
	writeResponse(w, resp)
}

// wait holds a request for d; it reports false when the client gave up first.
func wait(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// route dispatches to the endpoint handlers.
func (s *Simulator) route(r *http.Request, path string, body []byte) response {
	type endpoint struct {
		method string
		handle func(r *http.Request, path string, body []byte) response
	}
	var ep endpoint
	switch path {
	case "/member/point":
		ep = endpoint{http.MethodPut, s.changePoints}
	case "/member/freezePoint":
		ep = endpoint{http.MethodPost, s.freezePoints}
	case "/member/unfreezePoint", "/member/freezeDeductPoint":
		ep = endpoint{http.MethodPost, s.settleFreeze}
	case "/offer/instance/grant":
		ep = endpoint{http.MethodPost, s.grantCoupon}
	case "/order/save":
		ep = endpoint{http.MethodPost, s.saveOrder}
	case "/offer/coupon/detail":
		ep = endpoint{http.MethodGet, s.couponDetail}
	default:
		if _, ok := transitions[path]; ok {
			ep = endpoint{http.MethodPost, s.couponOperation}
			break
		}
		return gatewayError(http.StatusNotFound, "not_found", "no resource matches "+r.URL.Path)
	}
	if r.Method != ep.method {
		resp := gatewayError(http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed on "+path)
		resp.header.Set("Allow", ep.method)
		return resp
	}
	return ep.handle(r, path, body)
}

// gateway applies the MuleSoft policies: client id enforcement, then rate limiting.
func (s *Simulator) gateway(r *http.Request) (response, bool) {
	id, secret := r.Header.Get("client_id"), r.Header.Get("client_secret")
	switch {
	case id == "":
		return gatewayError(http.StatusUnauthorized, "missing_client", "client_id is missing"), false
	case secret == "":
		return gatewayError(http.StatusUnauthorized, "missing_client", "client_secret is missing"), false
	case id != s.opts.ClientID || secret != s.opts.ClientSecret:
		return gatewayError(http.StatusUnauthorized, "invalid_client", "Invalid client id or secret"), false
	}
	if s.opts.RateLimit <= 0 {
		return response{}, true
	}
	now := s.opts.Now()
	s.mu.Lock()
	if now.Sub(s.window) >= s.opts.RateWindow || now.Before(s.window) {
		s.window, s.windowCount = now, 0
	}
	s.windowCount++
	count, reset := s.windowCount, s.window.Add(s.opts.RateWindow).Sub(now)
	s.mu.Unlock()
	if count <= s.opts.RateLimit {
		return response{}, true
	}
	resp := gatewayError(http.StatusTooManyRequests, "quota_exceeded", "Quota has been exceeded")
	setRateHeaders(resp.header, s.opts.RateLimit, 0, reset)
	return resp, false
}

// record stores the request in the call log.
func (s *Simulator) record(r *http.Request, path string, body []byte) {
	c := Call{
		Method: r.Method,
		Path:   path,
		Body:   body,
		Token:  r.Header.Get("X-Business-Token"),
		Time:   s.opts.Now(),
	}
	if c.Token == "" {
		c.Token = r.Header.Get("X-Request-Sequence")
	}
	if h, ok := s.raw.header(r); ok {
		c.Header, c.RawHeaderCase = h, true
	} else {
		c.Header = r.Header.Clone()
	}
	s.mu.Lock()
	s.calls = journal.Append(s.calls, c, s.opts.MaxCalls)
	s.mu.Unlock()
}

// Calls returns the recorded requests to path (without the prefix), oldest first; an empty
// path returns every request. With Options.MaxCalls set, only the most recent MaxCalls
// requests (of any path) are kept, so only those are seen.
func (s *Simulator) Calls(path string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range journal.Recent(s.calls, s.opts.MaxCalls) {
		if path == "" || c.Path == path {
			c.Header = c.Header.Clone()
			c.Body = slices.Clone(c.Body)
			out = append(out, c)
		}
	}
	return out
}

// Effects returns the applied side effects, in the order each (op, token) was first applied.
func (s *Simulator) Effects() []Effect {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Effect, 0, len(s.effectOrder))
	for _, k := range s.effectOrder {
		out = append(out, Effect{Op: k.op, Token: k.token, Count: s.effects[k]})
	}
	return out
}

// EffectCount returns how many times the effect of (op, token) was applied; op is the
// endpoint path, e.g. "/member/freezePoint".
func (s *Simulator) EffectCount(op, token string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.effects[opKey{op, token}]
}

// applied counts one effect; s.mu must be held.
func (s *Simulator) applied(k opKey) {
	if s.effects[k] == 0 {
		s.effectOrder = append(s.effectOrder, k)
	}
	s.effects[k]++
}

// replay looks up an earlier success of k; s.mu must be held. It returns the answer to give
// and true when the request must not be applied.
func (s *Simulator) replay(k opKey) (response, bool) {
	prev, ok := s.done[k]
	if !ok {
		return response{}, false
	}
	switch s.opts.ReplayMode {
	case TokenError:
		return businessError(http.StatusBadRequest, k.op, CodeDuplicateToken, descDuplicateToken,
			"token "+k.token+" was already used for "+k.op), true
	case NoDedup:
		return response{}, false
	default:
		return prev, true
	}
}

// succeeded remembers a success of k for replays and counts its effect; s.mu must be held.
func (s *Simulator) succeeded(k opKey, resp response) response {
	if _, ok := s.done[k]; !ok {
		s.done[k] = resp
	}
	s.applied(k)
	return resp
}

// writeResponse writes resp to w.
func writeResponse(w http.ResponseWriter, resp response) {
	for k, vs := range resp.header {
		w.Header()[k] = vs
	}
	if len(resp.body) > 0 && w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	}
	w.WriteHeader(resp.status)
	if len(resp.body) > 0 && resp.status != http.StatusNoContent {
		_, _ = w.Write(resp.body)
	}
}

// jsonResponse encodes v as a JSON answer.
func jsonResponse(status int, v any) response {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return response{status: status, header: http.Header{}, body: bytes.TrimSpace(buf.Bytes())}
}

// noContent is the points endpoints' success: 204 with an empty body.
func noContent() response { return response{status: http.StatusNoContent, header: http.Header{}} }
