package pospal_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/pospal"
	"github.com/loyaltybus/loyaltybus/adapters/pospal/pospaltest"
)

func TestNextMidnight(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		at   time.Time
		want time.Time
	}{
		{"evening in Shanghai", shanghai(2026, 11, 1, 23, 30, 0), shanghai(2026, 11, 2, 0, 0, 0)},
		{"exactly midnight starts a new day", shanghai(2026, 11, 2, 0, 0, 0), shanghai(2026, 11, 3, 0, 0, 0)},
		{"UTC afternoon is already tomorrow in Shanghai", time.Date(2026, 12, 31, 17, 0, 0, 0, time.UTC), shanghai(2027, 1, 2, 0, 0, 0)},
		{"UTC morning", time.Date(2026, 12, 31, 15, 59, 59, 0, time.UTC), shanghai(2027, 1, 1, 0, 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.True(t, tt.want.Equal(pospal.NextMidnight(tt.at)), "got %v", pospal.NextMidnight(tt.at))
		})
	}
}

func TestClientQuotaStopsBeforeCalling(t *testing.T) {
	t.Parallel()
	clk := newClock(shanghai(2026, 11, 1, 23, 30, 0))
	srv := pospaltest.NewServer(t, pospaltest.Options{Now: clk.Now})
	srv.AddPromotion(ruleUID, "新客券")
	c := newClient(t, srv, func(cfg *pospal.Config) { cfg.DailyQuota = 3 })
	add := func(code string) error {
		return c.AddCouponCode(t.Context(), pospal.AddCouponCodeRequest{PromotionCouponUID: ruleUID, Code: code})
	}
	require.NoError(t, add("A1"))
	require.NoError(t, add("A2"))
	require.ErrorIs(t, add("A2"), pospal.ErrCodeExists, "refused calls count too")
	callsBefore := len(srv.Calls(""))

	err := add("A3")

	var qe *pospal.QuotaError
	require.ErrorAs(t, err, &qe)
	assert.ErrorIs(t, err, pospal.ErrQuotaExceeded)
	ce := requireClassified(t, err)
	assert.True(t, ce.Temporary())
	assert.Equal(t, 30*time.Minute, ce.RetryAfter(), "until midnight in Shanghai")
	assert.Equal(t, callsBefore, len(srv.Calls("")), "no HTTP call made")
	assert.Equal(t, 3, srv.Used(pospaltest.DefaultAppID))
	used, limit, resetAt := c.Quota()
	assert.Equal(t, 3, used)
	assert.Equal(t, 3, limit)
	assert.True(t, shanghai(2026, 11, 2, 0, 0, 0).Equal(resetAt))

	clk.Add(30 * time.Minute)
	require.NoError(t, add("A3"), "a new day in Shanghai")
	used, _, _ = c.Quota()
	assert.Equal(t, 1, used)
	assert.Equal(t, 1, srv.Used(pospaltest.DefaultAppID))
}

func TestVendorQuotaAnswer(t *testing.T) {
	t.Parallel()
	clk := newClock(shanghai(2026, 11, 1, 20, 0, 0))
	srv := pospaltest.NewServer(t, pospaltest.Options{Now: clk.Now, DailyQuota: 2, QuotaErrorCode: 5001, QuotaErrorMessage: "访问次数超限"})
	srv.AddPromotion(ruleUID, "新客券")
	c := newClient(t, srv, func(cfg *pospal.Config) { cfg.QuotaErrorCodes = []int{5001} })
	add := func(code string) error {
		return c.AddCouponCode(t.Context(), pospal.AddCouponCodeRequest{PromotionCouponUID: ruleUID, Code: code})
	}
	srv.SetUsed(pospaltest.DefaultAppID, 2) // another process of the same appId spent it

	err := add("B1")

	var apiErr *pospal.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 5001, apiErr.ErrorCode)
	assert.ErrorIs(t, err, pospal.ErrQuotaExceeded)
	assert.True(t, apiErr.Temporary())
	assert.Equal(t, 4*time.Hour, apiErr.RetryAfter())
	_, _, code, msg := apiErr.VendorDetail()
	assert.Equal(t, "5001", code)
	assert.Equal(t, "访问次数超限", msg)
	used, limit, _ := c.Quota()
	assert.Equal(t, limit, used, "the vendor's word sets the counter to the limit")

	err = add("B2")
	assert.ErrorAs(t, err, new(*pospal.QuotaError))
	assert.Len(t, srv.Calls(""), 1, "no further HTTP call today")
	assert.Equal(t, 3, srv.Used(pospaltest.DefaultAppID))
}

func TestQuotaUnderConcurrentCalls(t *testing.T) {
	t.Parallel()
	srv := pospaltest.NewServer(t, pospaltest.Options{})
	srv.AddPromotion(ruleUID, "新客券")
	c := newClient(t, srv, func(cfg *pospal.Config) { cfg.DailyQuota = 10 })

	errs := make(chan error, 20)
	for i := range 20 {
		go func() {
			errs <- c.AddCouponCode(t.Context(), pospal.AddCouponCodeRequest{PromotionCouponUID: ruleUID, Code: fmt.Sprintf("P%d", i)})
		}()
	}
	var ok, refused int
	for range 20 {
		err := <-errs
		switch {
		case err == nil:
			ok++
		case errors.Is(err, pospal.ErrQuotaExceeded):
			refused++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}

	assert.Equal(t, 10, ok)
	assert.Equal(t, 10, refused)
	assert.Equal(t, 10, srv.Used(pospaltest.DefaultAppID))
}

func TestConfigRedactsAppKey(t *testing.T) {
	t.Parallel()
	cfg := pospal.Config{BaseURL: "https://area9-win.pospal.cn", AppID: "id", AppKey: "s3cr3t"}
	assert.NotContains(t, fmt.Sprint(cfg), "s3cr3t")
	assert.NotContains(t, fmt.Sprintf("%+v", cfg), "s3cr3t")
	assert.NotContains(t, cfg.LogValue().String(), "s3cr3t")
}
