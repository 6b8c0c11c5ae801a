package smartxtest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/loyaltybus/loyaltybus/adapters/smartx"
)

// HTTPStatusMode says which HTTP status accompanies an answer. Whether the
// real register mirrors resultCode in the status line is not documented.
type HTTPStatusMode int

const (
	// MirrorResultCode sends resultCode as the HTTP status (200, 401, 488 …).
	// It is the default, consistent with a public client that re-authenticates
	// on HTTP 401.
	MirrorResultCode HTTPStatusMode = iota
	// Always200 sends HTTP 200 whatever the resultCode.
	Always200
)

// Options configures a Simulator. The zero value is usable: no PIN, so no
// token is required, and the HTTP status mirrors resultCode.
type Options struct {
	// PIN is the cashier PIN AUTH accepts. When set, every intent other than
	// AUTH needs a valid Auth-token. When empty, AUTH accepts any PIN and
	// tokens are optional, like a till that is already logged in.
	PIN string
	// HTTPStatusMode chooses the HTTP status of answers.
	HTTPStatusMode HTTPStatusMode
	// UnknownIntentCode is the resultCode for an unknown intent; zero means
	// 399. A missing intent is always 413.
	UnknownIntentCode int
	// LenientHeaderCase accepts INTENT_OPERATION_TYPE in any case. By default
	// a Server, which sees the raw header keys, treats a key that is not
	// exactly upper case as missing, like the real register. A Simulator
	// mounted elsewhere cannot see the raw case and is always lenient.
	LenientHeaderCase bool
	// Now is the clock for call records; nil means time.Now.
	Now func() time.Time
	// MaxCalls bounds the call journal (Calls) to the most recent MaxCalls
	// requests, so a long-running simulator holds bounded memory; zero (or
	// less) keeps every call, as tests want. Cheques and tokens are not
	// affected.
	MaxCalls int
}

// Simulator is an in-memory SmartX register. It is an http.Handler and safe
// for concurrent use.
type Simulator struct {
	opts Options

	mu          sync.Mutex
	tokens      map[string]bool
	chequeOrder []string
	cheques     map[string]json.RawMessage
	calls       []Call
	failNext    []int // HTTP statuses for the next requests
	codeNext    []injected
	delay       time.Duration
	hangUp      bool
}

type injected struct {
	code    int
	message string
}

// NewSimulator returns a Simulator with no cheques.
func NewSimulator(opts Options) *Simulator {
	if opts.UnknownIntentCode == 0 {
		opts.UnknownIntentCode = 399
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Simulator{
		opts:    opts,
		tokens:  map[string]bool{},
		cheques: map[string]json.RawMessage{},
	}
}

// Result codes and messages the simulator answers with, from the vendor's
// table.
const (
	codeOK             = 200
	codeGeneral        = 399
	codeAuthRequired   = 401
	codeTokenError     = 405
	codeBadRequest     = 413
	codeChequeNotFound = 488
)

// answer is the BaseResponse every intent returns, plus intent fields.
type answer struct {
	MessageDetail string            `json:"messageDetail"`
	MessageTitle  string            `json:"messageTitle"`
	ResultCode    int               `json:"resultCode"`
	Type          string            `json:"type"`
	Token         string            `json:"token,omitempty"`
	Cheques       []json.RawMessage `json:"cheques,omitzero"`
}

func failure(intent string, code int, detail string) answer {
	return answer{MessageDetail: detail, MessageTitle: "Ошибка", ResultCode: code, Type: intent}
}

// ServeHTTP answers one request to /v1.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	call := s.newCall(r, body)

	s.mu.Lock()
	hangUp, delay := s.hangUp, s.delay
	s.mu.Unlock()
	if hangUp {
		s.record(call)
		hangUpOn(w)
		return
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			call.HTTPStatus = 0
			s.record(call)
			return
		}
	}
	if status, ok := s.takeFailure(); ok {
		call.HTTPStatus = status
		s.record(call)
		http.Error(w, "simulated failure", status)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1" {
		call.HTTPStatus = http.StatusNotFound
		s.record(call)
		http.NotFound(w, r)
		return
	}

	a := s.dispatch(call, body)
	call.ResultCode = a.ResultCode
	status := http.StatusOK
	if s.opts.HTTPStatusMode == MirrorResultCode && a.ResultCode >= 100 && a.ResultCode <= 999 {
		status = a.ResultCode
	}
	call.HTTPStatus = status
	s.record(call)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(a)
}

// dispatch runs the intent of call.
func (s *Simulator) dispatch(call Call, body []byte) answer {
	intent := strings.ToUpper(strings.TrimSpace(call.Intent))
	if intent == "" {
		return failure(call.Intent, codeBadRequest, "Неверное тело запроса: не указан INTENT_OPERATION_TYPE")
	}
	if intent != smartx.IntentAuth {
		if inj, ok := s.takeResultCode(); ok {
			return answer{MessageDetail: inj.message, MessageTitle: titleFor(inj.code), ResultCode: inj.code, Type: intent}
		}
	}
	switch intent {
	case smartx.IntentAuth:
		return s.auth(body)
	case smartx.IntentGetCheques:
		if a, ok := s.checkToken(intent, call.AuthToken); !ok {
			return a
		}
		return s.getCheques(body)
	default:
		if a, ok := s.checkToken(intent, call.AuthToken); !ok {
			return a
		}
		return failure(intent, s.opts.UnknownIntentCode, "Неизвестный тип операции: "+call.Intent)
	}
}

func titleFor(code int) string {
	if code == codeOK {
		return "Успех"
	}
	return "Ошибка"
}

func (s *Simulator) auth(body []byte) answer {
	var req struct {
		PIN         string `json:"pin"`
		ReturnToken bool   `json:"returnToken"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return failure(smartx.IntentAuth, codeBadRequest, "Неверное тело запроса")
	}
	if s.opts.PIN != "" && req.PIN != s.opts.PIN {
		return failure(smartx.IntentAuth, codeAuthRequired, "Неверный PIN")
	}
	a := answer{MessageDetail: "Авторизация прошла успешно", MessageTitle: "Успех", ResultCode: codeOK, Type: smartx.IntentAuth}
	if req.ReturnToken {
		a.Token = newToken()
		s.mu.Lock()
		s.tokens[a.Token] = true
		s.mu.Unlock()
	}
	return a
}

func (s *Simulator) checkToken(intent, token string) (answer, bool) {
	if s.opts.PIN == "" {
		return answer{}, true
	}
	if token == "" {
		return failure(intent, codeAuthRequired, "Требуется авторизация"), false
	}
	s.mu.Lock()
	valid := s.tokens[token]
	s.mu.Unlock()
	if !valid {
		return failure(intent, codeTokenError, "Ошибка токена"), false
	}
	return answer{}, true
}

func (s *Simulator) getCheques(body []byte) answer {
	var req struct {
		UUIDs []string `json:"uuids"`
	}
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return failure(smartx.IntentGetCheques, codeBadRequest, "Неверное тело запроса")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []json.RawMessage{}
	if len(req.UUIDs) == 0 {
		for _, id := range s.chequeOrder {
			out = append(out, s.cheques[id])
		}
	} else {
		for _, id := range req.UUIDs {
			c, ok := s.cheques[id]
			if !ok {
				return failure(smartx.IntentGetCheques, codeChequeNotFound, "Один или несколько чеков не найдены")
			}
			out = append(out, c)
		}
	}
	return answer{
		MessageDetail: "Чеки успешно получены",
		MessageTitle:  "Успех",
		ResultCode:    codeOK,
		Type:          smartx.IntentGetCheques,
		Cheques:       out,
	}
}

func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// hangUpOn closes the connection without an answer, as a register that was
// switched off mid-request would.
func hangUpOn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // net/http closes the connection quietly
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}
