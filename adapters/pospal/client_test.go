package pospal_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/pospal"
	"github.com/loyaltybus/loyaltybus/adapters/pospal/pospaltest"
)

func TestSign(t *testing.T) {
	t.Parallel()
	// Known answers computed with Python's hashlib over the UTF-8 bytes.
	tests := []struct {
		name, key, body, want string
	}{
		{"ascii", "key", `{}`, "3404A6F9C23CB7445C09C728551DB5C9"},
		{"utf-8 key and body", "密钥", `{"appId":"a","name":"新客券"}`, "694B9B849D7757C33160982CB54ABA16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, pospal.Sign(tt.key, []byte(tt.body)))
		})
	}
}

func TestRequestIsSignedOverTheBytesSent(t *testing.T) {
	t.Parallel()
	srv := pospaltest.NewServer(t, pospaltest.Options{})
	srv.AddPromotion(832101480292930001, "新客券")
	c := newClient(t, srv, nil)

	require.NoError(t, c.AddCouponCode(t.Context(), pospal.AddCouponCodeRequest{
		PromotionCouponUID: 832101480292930001,
		CustomerUID:        886263699231969848,
		Code:               "LB0a1b2c3d",
	}))

	calls := srv.Calls("addCouponcode")
	require.Len(t, calls, 1)
	call := calls[0]
	assert.Equal(t, "/pospal-api2/openapi/v1/promotionOpenApi/promotion/addCouponcode", call.Path)
	want := `{"appId":"pospal-sim-app","promotionCouponUid":832101480292930001,"customerUid":886263699231969848,"code":"LB0a1b2c3d"}`
	assert.Equal(t, want, string(call.Body))
	assert.Equal(t, pospal.Sign(pospaltest.DefaultAppKey, call.Body), call.Header.Get("data-signature"))
	assert.Equal(t, "openApi", call.Header.Get("User-Agent"))
	assert.Equal(t, "application/json; charset=utf-8", call.Header.Get("Content-Type"))
	assert.Equal(t, "gzip", call.Header.Get("Accept-Encoding"), "Go's Transport negotiates gzip")
	ms, err := strconv.ParseInt(call.Header.Get("time-stamp"), 10, 64)
	require.NoError(t, err)
	assert.InDelta(t, time.Now().UnixMilli(), ms, float64(time.Minute.Milliseconds()))
}

func TestGzipAnswersDecode(t *testing.T) {
	t.Parallel()
	srv := pospaltest.NewServer(t, pospaltest.Options{})
	want := srv.GenerateTickets(886263699231969848, 3, shanghai(2026, 11, 1, 9, 0, 0))
	rec := &recorder{}
	c := newClient(t, srv, func(cfg *pospal.Config) { cfg.HTTPClient = &http.Client{Transport: rec} })

	var got []pospal.Ticket
	err := c.QueryCustomerHistoryTickets(t.Context(), pospal.TicketQuery{
		CustomerUID: 886263699231969848,
		StartTime:   shanghai(2026, 11, 1, 0, 0, 0),
		EndTime:     shanghai(2026, 11, 1, 23, 59, 59),
	}, func(p pospal.TicketPage) error { got = append(got, p.Tickets...); return nil })

	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.Equal(t, want[2].UID, got[0].UID)
	assert.Equal(t, []bool{true}, rec.uncompressed, "the answer came gzip-compressed")
}

func TestErrors(t *testing.T) {
	t.Parallel()
	add := func(c *pospal.Client, ctx context.Context) error {
		return c.AddCouponCode(ctx, pospal.AddCouponCodeRequest{PromotionCouponUID: 1, Code: "C1"})
	}
	tests := []struct {
		name      string
		setup     func(*pospaltest.Server)
		config    func(*pospal.Config)
		ctx       func(testing.TB, context.Context, *pospaltest.Server) context.Context
		wantIs    []error
		wantTemp  bool
		wantCode  int // APIError code; -1: not an APIError
		wantMsg   string
		wantHTTP  int
		wantAdded int
	}{
		{
			name:     "wrong app key",
			config:   func(c *pospal.Config) { c.AppKey = "not-the-key" },
			wantIs:   []error{pospal.ErrSignature},
			wantCode: 1032, wantMsg: "消息体与消息签名不匹配", wantHTTP: 200,
		},
		{
			name:     "unknown app id",
			config:   func(c *pospal.Config) { c.AppID = "someone-else" },
			wantIs:   []error{pospal.ErrAppID},
			wantCode: 1034, wantMsg: "appId错误，根据所传的appId找不到对应的用户", wantHTTP: 200,
		},
		{
			name:     "upper-case ERROR status is an error",
			setup:    func(s *pospaltest.Server) { s.UpperCaseErrorStatusNext(1) },
			config:   func(c *pospal.Config) { c.AppKey = "not-the-key" },
			wantIs:   []error{pospal.ErrSignature},
			wantCode: 1032, wantMsg: "消息体与消息签名不匹配", wantHTTP: 200,
		},
		{
			name:     "502 from a gateway",
			setup:    func(s *pospaltest.Server) { s.FailNext(1, http.StatusBadGateway) },
			wantTemp: true, wantCode: -1, wantHTTP: 502,
		},
		{
			name:     "503 with a method filter",
			setup:    func(s *pospaltest.Server) { s.FailNext(1, http.StatusServiceUnavailable, "ADDCOUPONCODE") },
			wantTemp: true, wantCode: -1, wantHTTP: 503,
		},
		{
			name:     "404 is permanent",
			config:   func(c *pospal.Config) { c.BaseURL += "/wrong-prefix" },
			wantTemp: false, wantCode: -1, wantHTTP: 404,
		},
		{
			name:     "truncated answer",
			setup:    func(s *pospaltest.Server) { s.TruncateNext(1) },
			wantIs:   []error{io.ErrUnexpectedEOF},
			wantTemp: true, wantCode: -1, wantHTTP: 200, wantAdded: 1,
		},
		{
			name:     "wrong answer signature",
			setup:    func(s *pospaltest.Server) { s.BadResponseSignatureNext(1) },
			wantIs:   []error{pospal.ErrResponseSignature},
			wantTemp: true, wantCode: -1, wantHTTP: 200, wantAdded: 1,
		},
		{
			name:     "connection dropped after commit",
			setup:    func(s *pospaltest.Server) { s.CommitThenDrop(1) },
			wantTemp: true, wantCode: -1, wantAdded: 1,
		},
		{
			name:     "slow vendor hits the timeout",
			setup:    func(s *pospaltest.Server) { s.Delay(time.Minute) },
			config:   func(c *pospal.Config) { c.Timeout = 50 * time.Millisecond },
			wantIs:   []error{context.DeadlineExceeded},
			wantTemp: true, wantCode: -1,
		},
		{
			name:  "cancelled by the caller",
			setup: func(s *pospaltest.Server) { s.Delay(time.Minute) },
			ctx: func(t testing.TB, ctx context.Context, s *pospaltest.Server) context.Context {
				ctx, cancel := context.WithCancel(ctx)
				go func() { // cancel once the vendor holds the request
					defer cancel()
					assert.Eventually(t, func() bool { return len(s.Calls("")) == 1 }, 5*time.Second, time.Millisecond)
				}()
				return ctx
			},
			wantIs:   []error{context.Canceled},
			wantTemp: true, wantCode: -1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := pospaltest.NewServer(t, pospaltest.Options{})
			srv.AddPromotion(1, "rule")
			if tt.setup != nil {
				tt.setup(srv)
			}
			c := newClient(t, srv, tt.config)
			ctx := t.Context()
			if tt.ctx != nil {
				ctx = tt.ctx(t, ctx, srv)
			}

			err := add(c, ctx)

			ce := requireClassified(t, err)
			for _, target := range tt.wantIs {
				assert.ErrorIs(t, err, target)
			}
			assert.Equal(t, tt.wantTemp, ce.Temporary(), "Temporary: %v", err)
			vendor, httpStatus, code, msg := ce.VendorDetail()
			assert.Equal(t, "pospal", vendor)
			assert.Equal(t, tt.wantHTTP, httpStatus)
			var apiErr *pospal.APIError
			if tt.wantCode >= 0 {
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, tt.wantCode, apiErr.ErrorCode)
				assert.Equal(t, []string{tt.wantMsg}, apiErr.Messages)
				assert.Equal(t, strconv.Itoa(tt.wantCode), code)
				assert.Equal(t, tt.wantMsg, msg)
				assert.Equal(t, pospal.OpAddCouponCode, apiErr.Op)
			} else {
				assert.False(t, errors.As(err, &apiErr), "not an APIError: %v", err)
				var te *pospal.TransportError
				assert.ErrorAs(t, err, &te)
			}
			assert.Equal(t, tt.wantAdded, srv.CodesAdded())
		})
	}
}

func TestSimulatorPathsMatchWithoutCase(t *testing.T) {
	t.Parallel()
	srv := pospaltest.NewServer(t, pospaltest.Options{})
	srv.AddPromotion(1, "rule")
	body, err := pospal.Marshal(map[string]any{"appId": pospaltest.DefaultAppID, "promotionCouponUid": 1, "code": "X1"})
	require.NoError(t, err)
	tests := []struct {
		name   string
		path   string
		sign   bool
		want   string
		status int
	}{
		{"lower-case path as doc 001 shows it", "/pospal-api2/openapi/v1/promotionopenapi/promotion/addcouponcode", true, `{"status":"success","messages":[],"data":{"codeExpiredDate":""}}`, 200},
		{"no signature header", "/pospal-api2/openapi/v1/promotionOpenApi/promotion/addCouponcode", false, `{"status":"error","messages":["请求头中没传消息签名"],"errorCode":1031}`, 200},
		{"unknown method", "/pospal-api2/openapi/v1/promotionOpenApi/nothing", true, "404 page not found\n", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+tt.path, bytesReader(body))
			require.NoError(t, err)
			if tt.sign {
				req.Header.Set("data-signature", pospal.Sign(pospaltest.DefaultAppKey, body))
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			got := readAll(t, resp)
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, tt.want, got)
			if tt.status == 200 && tt.sign {
				assert.Equal(t, pospal.Sign(pospaltest.DefaultAppKey, []byte(got)), resp.Header.Get("data-signature"))
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	valid := pospal.Config{BaseURL: "https://area9-win.pospal.cn:443", AppID: "id", AppKey: "key"}
	tests := []struct {
		name    string
		mod     func(*pospal.Config)
		wantErr string
	}{
		{"valid", func(*pospal.Config) {}, ""},
		{"no base URL", func(c *pospal.Config) { c.BaseURL = "" }, "BaseURL is required"},
		{"relative base URL", func(c *pospal.Config) { c.BaseURL = "area9-win.pospal.cn" }, "absolute http or https URL"},
		{"no app id", func(c *pospal.Config) { c.AppID = "" }, "AppID is required"},
		{"no app key", func(c *pospal.Config) { c.AppKey = "" }, "AppKey is required"},
		{"negative timeout", func(c *pospal.Config) { c.Timeout = -time.Second }, "Timeout"},
		{"negative quota", func(c *pospal.Config) { c.DailyQuota = -1 }, "DailyQuota"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.mod(&cfg)
			err := cfg.Validate()
			_, newErr := pospal.New(cfg)
			if tt.wantErr == "" {
				assert.NoError(t, err)
				assert.NoError(t, newErr)
				return
			}
			assert.ErrorContains(t, err, tt.wantErr)
			assert.ErrorContains(t, newErr, tt.wantErr)
		})
	}
}

func TestMarshalKeepsText(t *testing.T) {
	t.Parallel()
	got, err := pospal.Marshal(map[string]string{"name": "<新客> & co"})
	require.NoError(t, err)
	assert.Equal(t, `{"name":"<新客> & co"}`, string(got))
}
