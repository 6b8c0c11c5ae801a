package shuyun_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/shuyun"
	"github.com/loyaltybus/loyaltybus/adapters/shuyun/shuyuntest"
)

func TestClassificationAgainstSimulator(t *testing.T) {
	tests := []struct {
		name           string
		inject         func(s *shuyuntest.Server)
		secret         string // default: the simulator's
		wantTemporary  bool
		wantStatus     int
		wantCode       string
		wantRetryAfter time.Duration
		wantIs         error
	}{
		{name: "503", inject: func(s *shuyuntest.Server) { s.FailNext(1, 503) }, wantTemporary: true, wantStatus: 503},
		{name: "503 with retry-after", inject: func(s *shuyuntest.Server) { s.FailNext(1, 503, shuyuntest.WithRetryAfter(7*time.Second)) },
			wantTemporary: true, wantStatus: 503, wantRetryAfter: 7 * time.Second},
		{name: "500", inject: func(s *shuyuntest.Server) { s.FailNext(1, 500) }, wantTemporary: true, wantStatus: 500},
		{name: "mulesoft 502", inject: func(s *shuyuntest.Server) { s.FailNext(1, 502) }, wantTemporary: true, wantStatus: 502},
		{name: "mulesoft 504", inject: func(s *shuyuntest.Server) { s.FailNext(1, 504) }, wantTemporary: true, wantStatus: 504},
		{name: "429", inject: func(s *shuyuntest.Server) { s.FailNext(1, 429, shuyuntest.WithRetryAfter(3*time.Second)) },
			wantTemporary: true, wantStatus: 429, wantRetryAfter: 3 * time.Second, wantIs: shuyun.ErrRateLimited},
		{name: "429 default retry-after", inject: func(s *shuyuntest.Server) { s.FailNext(1, 429) },
			wantTemporary: true, wantStatus: 429, wantRetryAfter: time.Second},
		{name: "business body 400", inject: func(s *shuyuntest.Server) { s.BusinessErrorNext(1, "010407", "参数异常") },
			wantStatus: 400, wantCode: "010407", wantIs: shuyun.ErrParam},
		{name: "business body 500 is still permanent", inject: func(s *shuyuntest.Server) {
			s.BusinessErrorNext(1, "010407", "参数异常", shuyuntest.WithStatus(500))
		}, wantStatus: 500, wantCode: "010407", wantIs: shuyun.ErrParam},
		{name: "wrong secret 401", secret: "wrong", wantStatus: 401, wantIs: shuyun.ErrUnauthorized},
		{name: "403", inject: func(s *shuyuntest.Server) { s.FailNext(1, 403) }, wantStatus: 403},
		{name: "404", inject: func(s *shuyuntest.Server) { s.FailNext(1, 404) }, wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := shuyuntest.NewServer(t)
			if tt.inject != nil {
				tt.inject(srv)
			}
			c := newClient(t, srv, func(cfg *shuyun.Config) {
				if tt.secret != "" {
					cfg.ClientSecret = tt.secret
				}
			})
			err := c.FreezePoints(t.Context(), "tok", freezeOf(1))
			cl := classify(t, err)
			assert.Equal(t, tt.wantTemporary, cl.Temporary())
			vendor, status, code, msg := cl.VendorDetail()
			assert.Equal(t, "shuyun", vendor)
			assert.Equal(t, tt.wantStatus, status)
			assert.Equal(t, tt.wantCode, code)
			assert.NotEmpty(t, msg)
			var ra interface{ RetryAfter() time.Duration }
			require.ErrorAs(t, err, &ra)
			assert.Equal(t, tt.wantRetryAfter, ra.RetryAfter())
			if tt.wantIs != nil {
				assert.ErrorIs(t, err, tt.wantIs)
			}
			assert.NotContains(t, err.Error(), srv.ClientSecret())
			assert.Equal(t, strings.ToLower(err.Error()[:10]), err.Error()[:10])
			assert.Equal(t, 0, srv.EffectCount(shuyun.PathFreezePoints, "tok"), "no effect")
		})
	}
}

func TestRetryAfterHeaders(t *testing.T) {
	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name    string
		status  int
		headers map[string]string
		wantMin time.Duration
		wantMax time.Duration
	}{
		{"seconds", 429, map[string]string{"Retry-After": "5"}, 5 * time.Second, 5 * time.Second},
		{"http date", 429, map[string]string{"Retry-After": date}, 80 * time.Second, 91 * time.Second},
		{"mulesoft reset in ms", 429, map[string]string{"X-Ratelimit-Reset": "1500"}, 1500 * time.Millisecond, 1500 * time.Millisecond},
		{"retry-after wins", 503, map[string]string{"Retry-After": "2", "X-Ratelimit-Reset": "9000"}, 2 * time.Second, 2 * time.Second},
		{"garbage", 429, map[string]string{"Retry-After": "soon"}, 0, 0},
		{"ignored on 400", 400, map[string]string{"Retry-After": "5"}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.headers {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
			}))
			t.Cleanup(ts.Close)
			c, err := shuyun.New(shuyun.Config{BaseURL: ts.URL, ClientID: "id", ClientSecret: "test-secret-value"})
			require.NoError(t, err)
			err = c.ChangePoints(t.Context(), "tok", shuyun.PointChange{})
			var apiErr *shuyun.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.GreaterOrEqual(t, apiErr.RetryAfter(), tt.wantMin)
			assert.LessOrEqual(t, apiErr.RetryAfter(), tt.wantMax)
		})
	}
}

func TestVendorErrorBodies(t *testing.T) {
	tests := []struct {
		name          string
		status        int
		body          string
		wantTemporary bool
		wantCode      string
		wantMessage   string
	}{
		{"doc error example", 400, string(fixture(t, "error.json")), false, "010407", "参数异常"},
		{"business body on 200", 200, string(fixture(t, "error.json")), false, "010407", "参数异常"},
		{"business body on 503", 503, string(fixture(t, "error.json")), false, "010407", "参数异常"},
		{"numeric code", 400, `{"module":"m","code":10407,"desc":"d"}`, false, "10407", "d"},
		{"mulesoft 401", 401, `{"error":"invalid_client","description":"Invalid client id or secret"}`, false, "", "invalid_client: Invalid client id or secret"},
		{"mulesoft 502 text", 502, `Bad Gateway`, true, "", "Bad Gateway"},
		{"empty 504", 504, ``, true, "", "gateway timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			t.Cleanup(ts.Close)
			c, err := shuyun.New(shuyun.Config{BaseURL: ts.URL, ClientID: "id", ClientSecret: "test-secret-value"})
			require.NoError(t, err)
			err = c.FreezePoints(t.Context(), "tok", freezeOf(1))
			cl := classify(t, err)
			assert.Equal(t, tt.wantTemporary, cl.Temporary())
			_, status, code, msg := cl.VendorDetail()
			assert.Equal(t, tt.status, status)
			assert.Equal(t, tt.wantCode, code)
			assert.Equal(t, tt.wantMessage, msg)
		})
	}
}

func TestAPIErrorIs(t *testing.T) {
	err := error(&shuyun.APIError{Op: "freeze points", HTTPStatus: 400, Code: "010407", Desc: "参数异常"})
	assert.ErrorIs(t, err, shuyun.ErrParam)
	assert.NotErrorIs(t, err, shuyun.ErrUnauthorized)
	assert.NotErrorIs(t, err, &shuyun.APIError{Code: "019001"})
	assert.NotErrorIs(t, err, &shuyun.APIError{})
	assert.NotErrorIs(t, err, errors.New("x"))
	assert.Equal(t, "shuyun: freeze points: http 400: code 010407: 参数异常", err.Error())
	assert.Equal(t, "shuyun: code 010407: 参数异常", shuyun.ErrParam.Error())
	refusal := &shuyun.APIError{Op: "coupon redeem", HTTPStatus: 200, Msg: "already used"}
	assert.Equal(t, "shuyun: coupon redeem: refused: already used", refusal.Error())
	assert.False(t, refusal.Temporary())
}
