package pospaltest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/loyaltybus/loyaltybus/adapters/internal/journal"
	"github.com/loyaltybus/loyaltybus/adapters/pospal"
)

// Credentials of the default account of a simulator.
const (
	DefaultAppID  = "pospal-sim-app"
	DefaultAppKey = "pospal-sim-key"
)

// DefaultQuotaErrorMessage is the message of a quota answer unless
// Options.QuotaErrorMessage is set. The real one is not public.
const DefaultQuotaErrorMessage = "今日接口访问次数已达上限"

// Options configures a [Simulator]. Zero values mean the documented defaults.
type Options struct {
	// AppID and AppKey are the account's credentials; empty means
	// DefaultAppID and DefaultAppKey.
	AppID, AppKey string
	// Apps adds more accounts, appId → appKey, each with its own quota.
	Apps map[string]string
	// PageSize is the page size of the ticket and used-code queries; 0
	// means 100.
	PageSize int
	// DailyQuota is the number of calls per appId and day (midnight
	// Asia/Shanghai); 0 means 300.
	DailyQuota int
	// QuotaErrorCode and QuotaErrorMessage form the answer past the quota;
	// 0 and "" mean pospal.DefaultQuotaErrorCode and DefaultQuotaErrorMessage.
	QuotaErrorCode    int
	QuotaErrorMessage string
	// MaxTicketWindow is the widest endTime − startTime the ticket query
	// accepts (wider: 9003); 0 means no limit (the real one is unknown).
	MaxTicketWindow time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// MaxCalls bounds the call journal (Calls) to the most recent MaxCalls
	// requests, so a long-running simulator holds bounded memory; zero (or
	// less) keeps every call, as tests want. Vendor state and quotas are not
	// affected.
	MaxCalls int
}

// Call is a request the simulator received.
type Call struct {
	// Path is the request path as sent.
	Path string
	// Header is a copy of the request header.
	Header http.Header
	// Body is the raw request body.
	Body []byte
}

// Simulator is an in-memory Pospal open API V1. It is an http.Handler and is
// safe for concurrent use.
type Simulator struct {
	opts Options
	apps map[string]string // appId → appKey; read-only after NewSimulator

	mu           sync.Mutex
	calls        []Call
	quota        map[string]*dayCounter
	faults       []*fault
	delay        time.Duration
	delayMethods []string
	promotions   map[int64]*promotion
	codes        map[string]*CodeState
	codesAdded   int
	codesUsed    int
	customers    map[int64]bool
	tickets      map[int64][]pospal.Ticket // by customer, uid descending
	nextUID      int64
}

// NewSimulator returns a Simulator with no coupon rules, members or tickets.
func NewSimulator(opts Options) *Simulator {
	if opts.AppID == "" {
		opts.AppID = DefaultAppID
	}
	if opts.AppKey == "" {
		opts.AppKey = DefaultAppKey
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 100
	}
	if opts.DailyQuota <= 0 {
		opts.DailyQuota = pospal.DefaultDailyQuota
	}
	if opts.QuotaErrorCode == 0 {
		opts.QuotaErrorCode = pospal.DefaultQuotaErrorCode
	}
	if opts.QuotaErrorMessage == "" {
		opts.QuotaErrorMessage = DefaultQuotaErrorMessage
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	apps := map[string]string{opts.AppID: opts.AppKey}
	for id, key := range opts.Apps {
		apps[id] = key
	}
	return &Simulator{
		opts:       opts,
		apps:       apps,
		quota:      map[string]*dayCounter{},
		promotions: map[int64]*promotion{},
		codes:      map[string]*CodeState{},
		customers:  map[int64]bool{},
		tickets:    map[int64][]pospal.Ticket{},
		nextUID:    FirstTicketUID,
	}
}

// Calls returns copies of the requests received for method (the endpoint's
// last path segment such as "use", or module/method, in any case), or all
// requests for "", in arrival order. Requests refused by FailNext are
// included; requests a client never sent are not. With Options.MaxCalls set,
// only the most recent MaxCalls requests (of any method) are kept, so only
// those are seen.
func (s *Simulator) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range journal.Recent(s.calls, s.opts.MaxCalls) {
		if method == "" || methodIs(method, restOf(c.Path)) {
			out = append(out, Call{Path: c.Path, Header: c.Header.Clone(), Body: bytes.Clone(c.Body)})
		}
	}
	return out
}

// vendorError is a business error answer.
type vendorError struct {
	code int
	msg  string
}

// Error codes and messages the simulator answers (VENDOR-NOTES §1(e)).
var (
	errNoSignature  = &vendorError{1031, "请求头中没传消息签名"}
	errSignature    = &vendorError{1032, "消息体与消息签名不匹配"}
	errAppID        = &vendorError{1034, "appId错误，根据所传的appId找不到对应的用户"}
	errCustomer     = &vendorError{2015, "会员不存在"}
	errCoupon       = &vendorError{3001, "优惠券无效"}
	errCouponOff    = &vendorError{3002, "优惠券已停用"}
	errNoCodesLeft  = &vendorError{3003, "优惠券号不足"}
	errCodeExists   = &vendorError{3004, "优惠券号已经存在"}
	errBadParameter = &vendorError{9003, "请求参数错误"}
)

// endpoint handles one API method. body holds the request's top-level fields.
type endpoint func(s *Simulator, appID string, body map[string]json.RawMessage, rest string) (any, *vendorError)

// endpoints maps lower-cased module/method to its handler.
var endpoints = map[string]endpoint{
	strings.ToLower(pospal.OpAddCouponCode):               (*Simulator).addCouponCode,
	strings.ToLower(pospal.OpUseCouponCode):               (*Simulator).useCouponCode,
	strings.ToLower(pospal.OpQueryCustomerHistoryTickets): (*Simulator).queryTickets,
	strings.ToLower(pospal.OpQueryUsedPromotionCode):      (*Simulator).queryUsedCodes,
	"openapilimitaccess/querydailyaccesstimeslog":         (*Simulator).queryDailyAccessTimes,
}

// restOf returns the path after the API prefix (any case), or "".
func restOf(path string) string {
	p := pospal.APIPrefix
	if len(path) < len(p) || !strings.EqualFold(path[:len(p)], p) {
		return ""
	}
	return strings.Trim(path[len(p):], "/")
}

// answer is what ServeHTTP writes.
type answer struct {
	appKey string // signs the answer; "" leaves it unsigned
	err    *vendorError
	data   any
}

// ServeHTTP serves POST /pospal-api2/openapi/v1/{module}/{method}.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	rest := restOf(r.URL.Path)
	s.mu.Lock()
	s.calls = journal.Append(s.calls, Call{Path: r.URL.Path, Header: r.Header.Clone(), Body: body}, s.opts.MaxCalls)
	delay, delayMethods := s.delay, s.delayMethods
	s.mu.Unlock()

	ep, ok := endpoints[strings.ToLower(rest)]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	if f, ok := s.take(faultFail, rest); ok {
		http.Error(w, http.StatusText(f.status), f.status)
		return
	}
	if delay > 0 && matchMethod(delayMethods, rest) {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	a := s.process(r, body, rest, ep)
	s.write(w, r, rest, a)
}

// process authenticates, charges the quota and runs the endpoint.
func (s *Simulator) process(r *http.Request, body []byte, rest string, ep endpoint) answer {
	sig := r.Header.Get("data-signature")
	if sig == "" {
		return answer{err: errNoSignature}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return answer{err: errBadParameter}
	}
	var appID string
	if err := json.Unmarshal(fields["appId"], &appID); err != nil || appID == "" {
		return answer{err: errAppID}
	}
	key, ok := s.apps[appID]
	if !ok {
		return answer{err: errAppID}
	}
	over := s.charge(appID)
	if !strings.EqualFold(sig, pospal.Sign(key, body)) {
		return answer{appKey: key, err: errSignature}
	}
	if over {
		return answer{appKey: key, err: &vendorError{s.opts.QuotaErrorCode, s.opts.QuotaErrorMessage}}
	}
	data, verr := ep(s, appID, fields, rest)
	return answer{appKey: key, err: verr, data: data}
}

// envelope is the frame of every answer.
type envelope struct {
	Status    string   `json:"status"`
	Messages  []string `json:"messages"`
	ErrorCode int      `json:"errorCode,omitempty"`
	Data      any      `json:"data,omitempty"`
}

// write encodes, signs, compresses and sends an answer, applying the
// answer-side faults.
func (s *Simulator) write(w http.ResponseWriter, r *http.Request, rest string, a answer) {
	env := envelope{Status: "success", Messages: []string{}, Data: a.data}
	if a.err != nil {
		env = envelope{Status: "error", Messages: []string{a.err.msg}, ErrorCode: a.err.code}
		if _, ok := s.take(faultUpperCaseError, rest); ok {
			env.Status = "ERROR"
		}
	}
	body, err := pospal.Marshal(env)
	if err != nil {
		http.Error(w, "encode answer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json;charset=UTF-8")
	if a.appKey != "" {
		key := a.appKey
		if _, ok := s.take(faultBadSignature, rest); ok {
			key += "-wrong"
		}
		h.Set("data-signature", pospal.Sign(key, body))
	}
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(body)
		zw.Close()
		body = buf.Bytes()
		h.Set("Content-Encoding", "gzip")
		h.Set("Vary", "Accept-Encoding")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))

	if _, ok := s.take(faultCommitThenDrop, rest); ok {
		drop(w, nil)
		return
	}
	if _, ok := s.take(faultTruncate, rest); ok {
		var raw bytes.Buffer
		fmt.Fprintf(&raw, "HTTP/1.1 200 OK\r\n")
		h.Write(&raw)
		raw.WriteString("\r\n")
		raw.Write(body[:len(body)/2])
		drop(w, raw.Bytes())
		return
	}
	for k, v := range h {
		w.Header()[k] = v
	}
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// drop writes raw (if any) straight to the connection and closes it. Where
// the connection cannot be taken over (HTTP/2), the handler aborts instead.
func drop(w http.ResponseWriter, raw []byte) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	defer conn.Close()
	if len(raw) > 0 {
		buf.Write(raw)
		buf.Flush()
	}
}

// acceptsGzip reports whether an Accept-Encoding value allows gzip.
func acceptsGzip(v string) bool {
	for part := range strings.SplitSeq(v, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		q, found := strings.CutPrefix(strings.TrimSpace(params), "q=")
		if !found {
			return true
		}
		f, err := strconv.ParseFloat(q, 64)
		return err != nil || f > 0
	}
	return false
}
