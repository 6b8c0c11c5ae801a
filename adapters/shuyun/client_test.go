package shuyun_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/shuyun"
	"github.com/loyaltybus/loyaltybus/adapters/shuyun/shuyuntest"
)

// classifier is what a consumer of the adapter sees, without importing its types.
type classifier interface {
	Temporary() bool
	VendorDetail() (vendor string, httpStatus int, code, message string)
}

// newClient returns a client for srv; mods adjust the configuration.
func newClient(t testing.TB, srv *shuyuntest.Server, mods ...func(*shuyun.Config)) *shuyun.Client {
	t.Helper()
	cfg := shuyun.Config{
		BaseURL:      srv.URL,
		ClientID:     srv.ClientID(),
		ClientSecret: srv.ClientSecret(),
	}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := shuyun.New(cfg)
	require.NoError(t, err)
	return c
}

// fixture reads testdata/name.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// classify asserts that err carries the classification interface and returns it.
func classify(t testing.TB, err error) classifier {
	t.Helper()
	require.Error(t, err)
	var c classifier
	require.True(t, errors.As(err, &c), "error %T %v has no Temporary/VendorDetail", err, err)
	return c
}

func TestConfigValidate(t *testing.T) {
	valid := shuyun.Config{BaseURL: "https://schm-api-test.shiseido.cn/schm-shuyun-crm-papi", ClientID: "id", ClientSecret: "test-secret-value"}
	tests := []struct {
		name    string
		mod     func(*shuyun.Config)
		wantErr string
	}{
		{name: "valid", mod: func(*shuyun.Config) {}},
		{name: "no base url", mod: func(c *shuyun.Config) { c.BaseURL = "" }, wantErr: "BaseURL is required"},
		{name: "bad scheme", mod: func(c *shuyun.Config) { c.BaseURL = "ftp://x" }, wantErr: "scheme"},
		{name: "no host", mod: func(c *shuyun.Config) { c.BaseURL = "http:///x" }, wantErr: "no host"},
		{name: "query", mod: func(c *shuyun.Config) { c.BaseURL = "http://x/?a=b" }, wantErr: "query"},
		{name: "no client id", mod: func(c *shuyun.Config) { c.ClientID = "" }, wantErr: "ClientID"},
		{name: "no client secret", mod: func(c *shuyun.Config) { c.ClientSecret = "" }, wantErr: "ClientSecret"},
		{name: "negative timeout", mod: func(c *shuyun.Config) { c.Timeout = -time.Second }, wantErr: "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.mod(&cfg)
			err := cfg.Validate()
			c, newErr := shuyun.New(cfg)
			if tt.wantErr == "" {
				assert.NoError(t, err)
				assert.NoError(t, newErr)
				assert.NotNil(t, c)
				return
			}
			assert.ErrorContains(t, err, tt.wantErr)
			assert.ErrorContains(t, newErr, tt.wantErr)
			assert.Nil(t, c)
		})
	}
}

func TestHeadersAreExact(t *testing.T) {
	srv := shuyuntest.NewServer(t)
	c := newClient(t, srv, func(cfg *shuyun.Config) {
		cfg.Header = func(ctx context.Context) http.Header {
			return http.Header{
				"traceparent":   {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
				"client_secret": {"hijack"}, // reserved: ignored
			}
		}
	})
	err := c.FreezePoints(t.Context(), "tok-1", shuyun.FreezeRequest{
		MemberID: "m1", MemberType: "shuyun", ChannelType: "POS", Point: 5,
	})
	require.NoError(t, err)

	calls := srv.Calls(shuyun.PathFreezePoints)
	require.Len(t, calls, 1)
	got := calls[0]
	require.True(t, got.RawHeaderCase, "NewServer records the raw header spelling")
	assert.Equal(t, []string{srv.ClientID()}, got.Header["client_id"])
	assert.Equal(t, []string{srv.ClientSecret()}, got.Header["client_secret"])
	assert.NotContains(t, got.Header, "Client_id")
	assert.Equal(t, []string{"application/json"}, got.Header["Content-Type"])
	assert.Equal(t, []string{"tok-1"}, got.Header["X-Business-Token"])
	assert.Equal(t, []string{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, got.Header["traceparent"])
	assert.Equal(t, "tok-1", got.Token)
	assert.JSONEq(t, `{"memberId":"m1","memberType":"shuyun","channelType":"POS","point":5,"description":"","idempotentMode":0}`, string(got.Body))
}

func TestEmptyTokenIsRefusedLocally(t *testing.T) {
	srv := shuyuntest.NewServer(t)
	c := newClient(t, srv)
	err := c.FreezePoints(t.Context(), "", shuyun.FreezeRequest{MemberID: "m1", MemberType: "shuyun", ChannelType: "POS", Point: 1})
	assert.ErrorIs(t, err, shuyun.ErrEmptyToken)
	_, err = c.GrantCoupon(t.Context(), "", shuyun.GrantRequest{MemberID: "m1"})
	assert.ErrorIs(t, err, shuyun.ErrEmptyToken)
	assert.Empty(t, srv.Calls(""), "nothing is sent")
}

func TestTransportErrors(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		c, err := shuyun.New(shuyun.Config{BaseURL: "http://" + addr, ClientID: "id", ClientSecret: "s3cret"})
		require.NoError(t, err)

		err = c.ChangePoints(t.Context(), "tok", shuyun.PointChange{MemberID: "m"})
		cl := classify(t, err)
		assert.True(t, cl.Temporary())
		var te *shuyun.TransportError
		require.ErrorAs(t, err, &te)
		vendor, status, code, msg := cl.VendorDetail()
		assert.Equal(t, "shuyun", vendor)
		assert.Zero(t, status)
		assert.Empty(t, code)
		assert.NotEmpty(t, msg)
		assert.NotContains(t, err.Error(), "s3cret")
	})

	t.Run("per-call timeout", func(t *testing.T) {
		srv := shuyuntest.NewServer(t)
		srv.Delay(time.Minute)
		c := newClient(t, srv, func(cfg *shuyun.Config) { cfg.Timeout = 50 * time.Millisecond })
		err := c.FreezePoints(t.Context(), "tok", shuyun.FreezeRequest{MemberID: "m1", MemberType: "shuyun", ChannelType: "POS", Point: 1})
		cl := classify(t, err)
		assert.True(t, cl.Temporary())
		var te *shuyun.TransportError
		require.ErrorAs(t, err, &te)
		assert.True(t, te.Timeout())
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 0, srv.EffectCount(shuyun.PathFreezePoints, "tok"), "the simulator drops a request its client gave up on")
	})

	t.Run("caller cancels", func(t *testing.T) {
		srv := shuyuntest.NewServer(t)
		srv.Delay(time.Minute)
		c := newClient(t, srv)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		errc := make(chan error, 1)
		go func() {
			errc <- c.FreezePoints(ctx, "tok", shuyun.FreezeRequest{MemberID: "m1", MemberType: "shuyun", ChannelType: "POS", Point: 1})
		}()
		require.Eventually(t, func() bool { return len(srv.Calls(shuyun.PathFreezePoints)) == 1 }, 5*time.Second, time.Millisecond)
		cancel()
		err := <-errc
		assert.ErrorIs(t, err, context.Canceled)
		assert.True(t, classify(t, err).Temporary())
	})
}

func TestCommitThenDrop(t *testing.T) {
	srv := shuyuntest.NewServer(t)
	srv.SetBalance("m1", 100)
	c := newClient(t, srv)
	req := shuyun.FreezeRequest{MemberID: "m1", MemberType: "shuyun", ChannelType: "POS", Point: 30}
	srv.CommitThenDrop(1, shuyuntest.OnPath(shuyun.PathFreezePoints))

	err := c.FreezePoints(t.Context(), "freeze-1", req)
	var te *shuyun.TransportError
	require.ErrorAs(t, err, &te)
	assert.True(t, classify(t, err).Temporary())
	assert.Equal(t, 1, srv.EffectCount(shuyun.PathFreezePoints, "freeze-1"), "the effect was applied")

	require.NoError(t, c.FreezePoints(t.Context(), "freeze-1", req), "the retry replays the success")
	assert.Equal(t, 1, srv.EffectCount(shuyun.PathFreezePoints, "freeze-1"), "no second effect")
	avail, frozen := srv.Balance("m1")
	assert.Equal(t, int64(70), avail)
	assert.Equal(t, int64(30), frozen)
}

func TestSuccessStatuses(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
	}{
		{name: "204 empty", status: http.StatusNoContent},
		{name: "200 empty", status: http.StatusOK},
		{name: "201 empty", status: http.StatusCreated},
		{name: "200 whitespace", status: http.StatusOK, body: " \n"},
		{name: "200 coupon answer", status: http.StatusOK, body: `{"msg":"","success":true}`},
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

			assert.NoError(t, c.UnfreezePoints(t.Context(), "tok", shuyun.UnfreezeRequest{MemberID: "m"}))
			_, err = c.CouponOperation(t.Context(), shuyun.CouponRedeem, shuyun.CouponRequest{CouponCode: "c"})
			assert.NoError(t, err)
			_, err = c.SaveOrder(t.Context(), json.RawMessage(`{"orderId":"o"}`))
			assert.NoError(t, err)
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	srv := shuyuntest.NewServer(t)
	srv.SetBalance("m1", 1000)
	c := newClient(t, srv)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			err := c.FreezePoints(t.Context(), "tok-"+strings.Repeat("x", i), shuyun.FreezeRequest{
				MemberID: "m1", MemberType: "shuyun", ChannelType: "POS", Point: 10,
			})
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	avail, frozen := srv.Balance("m1")
	assert.Equal(t, int64(800), avail)
	assert.Equal(t, int64(200), frozen)
}
