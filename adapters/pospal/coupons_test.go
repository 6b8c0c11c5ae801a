package pospal_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/pospal"
	"github.com/loyaltybus/loyaltybus/adapters/pospal/pospaltest"
)

const (
	ruleUID     int64 = 832101480292930001
	memberUID   int64 = 886263699231969848
	strangerUID int64 = 886263699231960000
)

func TestAddCouponCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		setup     func(testing.TB, *pospaltest.Server)
		req       pospal.AddCouponCodeRequest
		wantErr   error
		wantCalls int
		wantAdded int
	}{
		{
			name:      "added to a member",
			req:       pospal.AddCouponCodeRequest{PromotionCouponUID: ruleUID, CustomerUID: memberUID, Code: "LB1"},
			wantCalls: 1, wantAdded: 1,
		},
		{
			name:      "added without a member",
			req:       pospal.AddCouponCodeRequest{PromotionCouponUID: ruleUID, Code: "LB1"},
			wantCalls: 1, wantAdded: 1,
		},
		{
			name: "existing code is 3004",
			setup: func(t testing.TB, s *pospaltest.Server) {
				s.AddPromotion(ruleUID+1, "other")
				addDirect(t, s, ruleUID+1, "LB1")
			},
			req:       pospal.AddCouponCodeRequest{PromotionCouponUID: ruleUID, Code: "LB1"},
			wantErr:   pospal.ErrCodeExists,
			wantCalls: 2, wantAdded: 1,
		},
		{
			name:      "unknown rule is 3001",
			req:       pospal.AddCouponCodeRequest{PromotionCouponUID: 42, Code: "LB1"},
			wantErr:   pospal.ErrCouponInvalid,
			wantCalls: 1,
		},
		{
			name:      "disabled rule is 3002",
			setup:     func(t testing.TB, s *pospaltest.Server) { s.SetPromotionEnabled(ruleUID, false) },
			req:       pospal.AddCouponCodeRequest{PromotionCouponUID: ruleUID, Code: "LB1"},
			wantErr:   pospal.ErrCouponDisabled,
			wantCalls: 1,
		},
		{
			name:      "no codes left is 3003",
			setup:     func(t testing.TB, s *pospaltest.Server) { s.AddPromotion(ruleUID, "empty", pospaltest.CodesLeft(0)) },
			req:       pospal.AddCouponCodeRequest{PromotionCouponUID: ruleUID, Code: "LB1"},
			wantErr:   pospal.ErrNoCodesLeft,
			wantCalls: 1,
		},
		{
			name:      "unknown member is 2015",
			req:       pospal.AddCouponCodeRequest{PromotionCouponUID: ruleUID, CustomerUID: strangerUID, Code: "LB1"},
			wantErr:   pospal.ErrCustomerNotFound,
			wantCalls: 1,
		},
		{
			name:    "code with a hyphen is refused before sending",
			req:     pospal.AddCouponCodeRequest{PromotionCouponUID: ruleUID, Code: "LB-1"},
			wantErr: &pospal.ValidationError{},
		},
		{
			name:    "code longer than 50 is refused before sending",
			req:     pospal.AddCouponCodeRequest{PromotionCouponUID: ruleUID, Code: "A123456789012345678901234567890123456789012345678901"},
			wantErr: &pospal.ValidationError{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := pospaltest.NewServer(t, pospaltest.Options{})
			srv.AddPromotion(ruleUID, "新客券")
			srv.AddCustomer(memberUID)
			if tt.setup != nil {
				tt.setup(t, srv)
			}
			c := newClient(t, srv, nil)

			err := c.AddCouponCode(t.Context(), tt.req)

			switch want := tt.wantErr.(type) {
			case nil:
				require.NoError(t, err)
				got, ok := srv.CouponCode(tt.req.Code)
				require.True(t, ok)
				assert.Equal(t, tt.req.CustomerUID, got.CustomerUID)
				assert.Equal(t, tt.req.PromotionCouponUID, got.PromotionCouponUID)
			case *pospal.ValidationError:
				assert.ErrorAs(t, err, &want)
				assert.False(t, requireClassified(t, err).Temporary())
			default:
				assert.ErrorIs(t, err, want)
				assert.False(t, requireClassified(t, err).Temporary(), "business refusals are permanent")
			}
			assert.Len(t, srv.Calls("addCouponcode"), tt.wantCalls)
			assert.Equal(t, tt.wantAdded, srv.CodesAdded())
		})
	}
}

// addDirect adds a code through a separate client, as an earlier attempt
// would have.
func addDirect(t testing.TB, srv *pospaltest.Server, rule int64, code string) {
	t.Helper()
	c := newClient(t, srv, nil)
	require.NoError(t, c.AddCouponCode(t.Context(), pospal.AddCouponCodeRequest{PromotionCouponUID: rule, Code: code}))
}

func TestAddCouponCodeRetryAfterLostAnswerIsDone(t *testing.T) {
	t.Parallel()
	srv := pospaltest.NewServer(t, pospaltest.Options{})
	srv.AddPromotion(ruleUID, "新客券")
	srv.CommitThenDrop(1, "addCouponcode")
	c := newClient(t, srv, nil)
	req := pospal.AddCouponCodeRequest{PromotionCouponUID: ruleUID, CustomerUID: memberUID, Code: "CMD0123456789abcdef"}

	first := c.AddCouponCode(t.Context(), req)
	require.True(t, requireClassified(t, first).Temporary(), "a lost answer is retried: %v", first)
	retry := c.AddCouponCode(t.Context(), req)

	assert.ErrorIs(t, retry, pospal.ErrCodeExists, "the retry learns the code exists: done")
	assert.Equal(t, 1, srv.CodesAdded())
}

func TestUseCouponCode(t *testing.T) {
	t.Parallel()
	usedAt := shanghai(2026, 11, 1, 10, 30, 0)
	tests := []struct {
		name    string
		setup   func(testing.TB, *pospaltest.Server)
		req     pospal.UseCouponCodeRequest
		wantErr error
	}{
		{
			name: "used",
			req:  pospal.UseCouponCodeRequest{Code: "LB1", CustomerUID: memberUID, UseDateTime: usedAt},
		},
		{
			name:    "unknown code is 3001",
			req:     pospal.UseCouponCodeRequest{Code: "NOPE"},
			wantErr: pospal.ErrCouponInvalid,
		},
		{
			name:    "used code is 3001",
			setup:   func(t testing.TB, s *pospaltest.Server) { useDirect(t, s, "LB1") },
			req:     pospal.UseCouponCodeRequest{Code: "LB1"},
			wantErr: pospal.ErrCouponInvalid,
		},
		{
			name:    "code of a disabled rule is 3002",
			setup:   func(t testing.TB, s *pospaltest.Server) { s.SetPromotionEnabled(ruleUID, false) },
			req:     pospal.UseCouponCodeRequest{Code: "LB1"},
			wantErr: pospal.ErrCouponDisabled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := pospaltest.NewServer(t, pospaltest.Options{})
			srv.AddPromotion(ruleUID, "新客券")
			addDirect(t, srv, ruleUID, "LB1")
			if tt.setup != nil {
				tt.setup(t, srv)
			}
			c := newClient(t, srv, nil)

			err := c.UseCouponCode(t.Context(), tt.req)

			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			got, ok := srv.CouponCode("LB1")
			require.True(t, ok)
			assert.True(t, got.Used)
			assert.True(t, usedAt.Equal(got.UsedAt), "useDateTime sent in Shanghai time: %v", got.UsedAt)
			calls := srv.Calls("use")
			require.Len(t, calls, 1)
			assert.Equal(t, "/pospal-api2/openapi/v1/promotionOpenApi/promotioncouponcode/use", calls[0].Path)
			assert.JSONEq(t, `{"appId":"pospal-sim-app","code":"LB1","customerUid":886263699231969848,"useDateTime":"2026-11-01 10:30:00"}`, string(calls[0].Body))
		})
	}
}

// useDirect redeems a code through a separate client.
func useDirect(t testing.TB, srv *pospaltest.Server, code string) {
	t.Helper()
	c := newClient(t, srv, nil)
	require.NoError(t, c.UseCouponCode(t.Context(), pospal.UseCouponCodeRequest{Code: code, UseDateTime: time.Now()}))
}
