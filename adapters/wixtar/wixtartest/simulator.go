package wixtartest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/loyaltybus/loyaltybus/adapters/internal/journal"
	"github.com/loyaltybus/loyaltybus/adapters/wixtar"
)

// Paths served by the Simulator.
const (
	PathToken = "/oauth/v1/token"
)

// Default client credentials, used when Options leaves them empty.
const (
	DefaultClientID     = "wixtar-test-client"
	DefaultClientSecret = "wixtar-test-secret"
)

// DefaultTokenTTL is the vendor's token lifetime (expires_in 2592000 s).
const DefaultTokenTTL = 30 * 24 * time.Hour

// Options configures a Simulator. The zero value is usable.
type Options struct {
	// ClientID and ClientSecret are the only credentials the token endpoint
	// accepts; empty means DefaultClientID and DefaultClientSecret.
	ClientID, ClientSecret string
	// TokenTTL is the expires_in of issued tokens; zero means
	// DefaultTokenTTL. Tests use short lifetimes with a fake Now.
	TokenTTL time.Duration
	// Now is the clock for token expiry and call records; nil means time.Now.
	Now func() time.Time
	// MaxCalls bounds the call journal (Calls) to the most recent MaxCalls
	// requests, so a long-running simulator holds bounded memory; zero (or
	// less) keeps every call, as tests want. Records and tokens are not
	// affected.
	MaxCalls int
}

// Simulator is an in-memory Wixtar Omni API. It is an http.Handler and safe
// for concurrent use.
type Simulator struct {
	opts Options

	mu       sync.Mutex
	tokens   map[string]time.Time // token → expiry
	issued   int
	records  []Record
	expiring []ExpiringPoints
	calls    []Call
	failNext []int
	delay    time.Duration
}

// NewSimulator returns a Simulator with no records.
func NewSimulator(opts Options) *Simulator {
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = DefaultClientSecret
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = DefaultTokenTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Simulator{opts: opts, tokens: map[string]time.Time{}}
}

// ServeHTTP answers one request.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	call := Call{
		Time:          s.opts.Now(),
		Method:        r.Method,
		Path:          r.URL.Path,
		RawQuery:      r.URL.RawQuery,
		Query:         r.URL.Query(),
		Authorization: r.Header.Get("Authorization"),
	}
	rec := &statusRecorder{ResponseWriter: w}
	defer func() {
		call.Status = rec.status
		s.mu.Lock()
		s.calls = journal.Append(s.calls, call, s.opts.MaxCalls)
		s.mu.Unlock()
	}()

	s.mu.Lock()
	delay := s.delay
	s.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}

	switch r.URL.Path {
	case PathToken:
		if r.Method != http.MethodPost {
			writeError(rec, http.StatusMethodNotAllowed, "method_not_allowed", "use POST")
			return
		}
		s.token(rec, r)
	case wixtar.PathPointsUsageRecords:
		if r.Method != http.MethodGet {
			writeError(rec, http.StatusMethodNotAllowed, "method_not_allowed", "use GET")
			return
		}
		if status, ok := s.takeFailure(); ok {
			if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
				rec.Header().Set("Retry-After", "1")
			}
			writeError(rec, status, "simulated_failure", http.StatusText(status))
			return
		}
		if !s.authorized(rec, r) {
			return
		}
		s.usage(rec, r)
	default:
		writeError(rec, http.StatusNotFound, "not_found", r.URL.Path)
	}
}

// token implements the client-credentials grant (RFC 6749 §4.4), with the
// credentials in the form or in HTTP Basic auth.
func (s *Simulator) token(w http.ResponseWriter, r *http.Request) {
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	switch {
	case r.PostForm.Get("grant_type") == "":
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "grant_type is required")
		return
	case r.PostForm.Get("grant_type") != "client_credentials":
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "only client_credentials is supported")
		return
	case id != s.opts.ClientID || secret != s.opts.ClientSecret:
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	if sc := r.PostForm.Get("scope"); sc != "" && !hasScope(sc, "api") {
		writeOAuthError(w, http.StatusBadRequest, "invalid_scope", "scope must be api")
		return
	}
	tok := newToken()
	s.mu.Lock()
	s.tokens[tok] = s.opts.Now().Add(s.opts.TokenTTL)
	s.issued++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok,
		"expires_in":   int64(s.opts.TokenTTL / time.Second),
		"token_type":   "Bearer",
		"scope":        "api",
	})
}

func hasScope(scopes, want string) bool {
	for _, sc := range strings.Fields(scopes) {
		if sc == want {
			return true
		}
	}
	return false
}

// authorized checks the Bearer token and answers 401 if it is not valid.
func (s *Simulator) authorized(w http.ResponseWriter, r *http.Request) bool {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="omni"`)
		writeError(w, http.StatusUnauthorized, "unauthorized", "Bearer token required")
		return false
	}
	s.mu.Lock()
	exp, ok := s.tokens[tok]
	valid := ok && s.opts.Now().Before(exp)
	s.mu.Unlock()
	if !valid {
		w.Header().Set("WWW-Authenticate", `Bearer realm="omni", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "invalid_token", "token is unknown, expired or revoked")
		return false
	}
	return true
}

// usage answers GET /v1/points_usage_records.
func (s *Simulator) usage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	start, err := parseQueryDate(q, "start_date")
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	end, err := parseQueryDate(q, "end_date")
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	if end.Before(start) {
		writeError(w, http.StatusBadRequest, "invalid_request", "end_date is before start_date")
		return
	}
	sortOrder := strings.ToUpper(q.Get("time_sort"))
	if sortOrder != "" && sortOrder != "ASC" && sortOrder != "DESC" {
		writeError(w, http.StatusBadRequest, "invalid_request", "time_sort must be ASC or DESC")
		return
	}
	store := q.Get("store_id")

	s.mu.Lock()
	var picked []Record
	for _, rec := range s.records {
		if rec.DateTime.Before(start) || rec.DateTime.After(end) {
			continue
		}
		if store != "" && rec.StoreID != store {
			continue
		}
		picked = append(picked, rec)
	}
	expiring := append([]ExpiringPoints(nil), s.expiring...)
	s.mu.Unlock()

	switch sortOrder {
	case "ASC":
		sort.SliceStable(picked, func(i, j int) bool { return picked[i].DateTime.Before(picked[j].DateTime) })
	case "DESC":
		sort.SliceStable(picked, func(i, j int) bool { return picked[i].DateTime.After(picked[j].DateTime) })
	}
	logs := make([]json.RawMessage, 0, len(picked))
	for _, rec := range picked {
		logs = append(logs, rec.render())
	}
	exp := make([]map[string]any, 0, len(expiring))
	for _, e := range expiring {
		exp = append(exp, map[string]any{
			"dead_line":     e.DeadLine.In(wixtar.Location()).Format(zonelessLayout),
			"expired_point": e.Points,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"logs": logs, "points_expire": exp})
}

func parseQueryDate(q url.Values, name string) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, fmt.Errorf("%s is required", name)
	}
	t, err := time.ParseInLocation(wixtar.QueryLayout, v, wixtar.Location())
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q is not YYYY-MM-DD HH:mm:ss", name, v)
	}
	return t, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]string{"error": code, "message": message})
}

func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

func newToken() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// statusRecorder remembers the status written.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

// WriteHeader records status and passes it on.
func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}
