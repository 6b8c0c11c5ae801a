package shuyun_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/shuyun"
	"github.com/loyaltybus/loyaltybus/adapters/shuyun/shuyuntest"
)

// grantFromFixture is the doc's 7.3 grant request.
func grantFromFixture(t testing.TB) shuyun.GrantRequest {
	t.Helper()
	var r shuyun.GrantRequest
	require.NoError(t, json.Unmarshal(fixture(t, "grant_request.json"), &r))
	return r
}

func TestCouponOpPaths(t *testing.T) {
	want := map[shuyun.CouponOp]string{
		shuyun.CouponRedeem:     "/offer/coupon/use",
		shuyun.CouponFreeze:     "/offer/coupon/frozen",
		shuyun.CouponThaw:       "/offer/coupon/thaw",
		shuyun.CouponWriteOff:   "/offer/coupon/writeoff",
		shuyun.CouponReverse:    "/offer/coupon/anticounting",
		shuyun.CouponInvalidate: "/offer/coupon/invalid",
		shuyun.CouponReinstate:  "/offer/coupon/effective",
	}
	require.Len(t, shuyun.CouponOps(), len(want))
	for _, op := range shuyun.CouponOps() {
		assert.Equal(t, want[op], op.Path(), string(op))
		assert.True(t, op.Valid())
	}
	assert.False(t, shuyun.CouponOp("use").Valid(), "ops are named by action, not by path")
}

func TestGrantCoupon(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 123e6, time.UTC)
	srv := shuyuntest.NewServer(t, shuyuntest.Options{Now: func() time.Time { return now }})
	c := newClient(t, srv)
	req := grantFromFixture(t)

	got, err := c.GrantCoupon(t.Context(), "seq-1", req)
	require.NoError(t, err)
	assert.NotEmpty(t, got.InstanceID)
	assert.NotEmpty(t, got.CouponCode)
	assert.Equal(t, "1001", got.ProjectID)
	assert.Equal(t, "GRANTED", got.Status)
	assert.Equal(t, got.InstanceID, got.InstanceIDs)
	assert.True(t, now.Equal(got.GrantTime.Time), "grant time %v", got.GrantTime)
	require.Len(t, got.Instances, 1)

	calls := srv.Calls(shuyun.PathGrantCoupon)
	require.Len(t, calls, 1)
	assert.Equal(t, []string{"seq-1"}, calls[0].Header["X-Request-Sequence"])
	assert.JSONEq(t, string(fixture(t, "grant_request.json")), string(calls[0].Body), "params pass through")

	again, err := c.GrantCoupon(t.Context(), "seq-1", req)
	require.NoError(t, err)
	assert.Equal(t, got, again, "a replayed sequence answers the same coupon")
	assert.Len(t, srv.Coupons(req.MemberID), 1)
	assert.Equal(t, 1, srv.EffectCount(shuyun.PathGrantCoupon, "seq-1"))

	other, err := c.GrantCoupon(t.Context(), "seq-2", req)
	require.NoError(t, err)
	assert.NotEqual(t, got.CouponCode, other.CouponCode)
}

func TestGrantDecodesDocAnswer(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(fixture(t, "grant_response.json"))
	}))
	t.Cleanup(ts.Close)
	c, err := shuyun.New(shuyun.Config{BaseURL: ts.URL, ClientID: "id", ClientSecret: "test-secret-value"})
	require.NoError(t, err)

	got, err := c.GrantCoupon(t.Context(), "seq", grantFromFixture(t))
	require.NoError(t, err)
	assert.Equal(t, "001", got.InstanceID)
	assert.Equal(t, "SDSDSZ1", got.CouponCode)
	assert.Equal(t, "1001", got.ProjectID)
	assert.Equal(t, "GRANTED", got.Status)
	assert.Equal(t, "11,22", got.InstanceIDs)
	assert.Equal(t, "xxx", got.Msg)
	assert.True(t, time.Date(2021, 12, 15, 17, 10, 1, 218e6, shuyun.ChinaStandardTime).Equal(got.GrantTime.Time))
}

func TestGrantLenientNumbers(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"success":"true","instanceIds":11,"instanceInfos":[{"instanceId":11,"couponCode":96800081,"projectId":1001,"status":"GRANTED","grantTime":"2020-11-30T16:48:03+08:00"}]}`))
	}))
	t.Cleanup(ts.Close)
	c, err := shuyun.New(shuyun.Config{BaseURL: ts.URL, ClientID: "id", ClientSecret: "test-secret-value"})
	require.NoError(t, err)
	got, err := c.GrantCoupon(t.Context(), "seq", grantFromFixture(t))
	require.NoError(t, err)
	assert.Equal(t, "11", got.InstanceID)
	assert.Equal(t, "96800081", got.CouponCode)
	assert.Equal(t, "1001", got.ProjectID)
	assert.Equal(t, "11", got.InstanceIDs)
}

func TestCouponLifecycle(t *testing.T) {
	type step struct {
		op        shuyun.CouponOp
		wantState string // empty: the step is refused
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"redeem", []step{{shuyun.CouponRedeem, "USED"}}},
		{"redeem twice", []step{{shuyun.CouponRedeem, "USED"}, {shuyun.CouponRedeem, ""}}},
		{"freeze thaw redeem", []step{{shuyun.CouponFreeze, "FROZEN"}, {shuyun.CouponThaw, "VALID"}, {shuyun.CouponRedeem, "USED"}}},
		{"freeze writeoff", []step{{shuyun.CouponFreeze, "FROZEN"}, {shuyun.CouponWriteOff, "USED"}}},
		{"writeoff needs frozen", []step{{shuyun.CouponWriteOff, ""}}},
		{"redeem frozen", []step{{shuyun.CouponFreeze, "FROZEN"}, {shuyun.CouponRedeem, ""}}},
		{"reverse redemption", []step{{shuyun.CouponRedeem, "USED"}, {shuyun.CouponReverse, "VALID"}, {shuyun.CouponRedeem, "USED"}}},
		{"reverse unused", []step{{shuyun.CouponReverse, ""}}},
		{"invalidate reinstate", []step{{shuyun.CouponInvalidate, "EXPIRED"}, {shuyun.CouponInvalidate, ""}, {shuyun.CouponReinstate, "VALID"}}},
		{"invalidate used", []step{{shuyun.CouponRedeem, "USED"}, {shuyun.CouponInvalidate, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := shuyuntest.NewServer(t)
			c := newClient(t, srv)
			g, err := c.GrantCoupon(t.Context(), "seq", grantFromFixture(t))
			require.NoError(t, err)
			req := shuyun.CouponRequest{CouponCode: g.CouponCode, MemberType: "shuyun", ChannelType: "KYLIN_GUIDE",
				Params: json.RawMessage(`{"shopCode":"123"}`)}
			for i, s := range tt.steps {
				before, _ := srv.Coupon(g.CouponCode)
				_, err := c.CouponOperation(t.Context(), s.op, req)
				state, ok := srv.Coupon(g.CouponCode)
				require.True(t, ok)
				if s.wantState != "" {
					require.NoError(t, err, "step %d %s", i, s.op)
					assert.Equal(t, s.wantState, state, "step %d %s", i, s.op)
					continue
				}
				cl := classify(t, err)
				assert.False(t, cl.Temporary(), "a refusal is permanent")
				var apiErr *shuyun.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, http.StatusOK, apiErr.HTTPStatus)
				assert.NotEmpty(t, apiErr.Msg)
				_, _, code, msg := cl.VendorDetail()
				assert.Empty(t, code)
				assert.Equal(t, apiErr.Msg, msg)
				assert.Equal(t, before, state, "a refused step changes nothing")
			}
		})
	}
}

func TestCouponOperationBodies(t *testing.T) {
	srv := shuyuntest.NewServer(t)
	c := newClient(t, srv)
	g, err := c.GrantCoupon(t.Context(), "seq", grantFromFixture(t))
	require.NoError(t, err)
	_, err = c.CouponOperation(t.Context(), shuyun.CouponFreeze, shuyun.CouponRequest{CouponCode: g.CouponCode, MemberType: "shuyun", ChannelType: "KYLIN_GUIDE"})
	require.NoError(t, err)

	var req shuyun.CouponRequest
	want := fixture(t, "coupon_writeoff.json")
	require.NoError(t, json.Unmarshal(want, &req))
	req.CouponCode = g.CouponCode
	_, err = c.CouponOperation(t.Context(), shuyun.CouponWriteOff, req)
	require.NoError(t, err)

	calls := srv.Calls("/offer/coupon/writeoff")
	require.Len(t, calls, 1)
	var sent map[string]any
	require.NoError(t, json.Unmarshal(calls[0].Body, &sent))
	var doc map[string]any
	require.NoError(t, json.Unmarshal(want, &doc))
	doc["couponCode"] = g.CouponCode
	assert.Equal(t, doc, sent, "the doc's params reach the vendor unchanged")
}

func TestCouponUnknownOpAndCode(t *testing.T) {
	srv := shuyuntest.NewServer(t)
	c := newClient(t, srv)
	_, err := c.CouponOperation(t.Context(), "use", shuyun.CouponRequest{CouponCode: "x", MemberType: "shuyun", ChannelType: "POS"})
	assert.ErrorContains(t, err, "unknown coupon operation")

	_, err = c.CouponOperation(t.Context(), shuyun.CouponRedeem, shuyun.CouponRequest{CouponCode: "missing", MemberType: "shuyun", ChannelType: "POS"})
	var apiErr *shuyun.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Contains(t, apiErr.Msg, "missing")
	assert.False(t, apiErr.Temporary())

	_, err = c.CouponOperation(t.Context(), shuyun.CouponRedeem, shuyun.CouponRequest{CouponCode: "x", Params: json.RawMessage(`[1]`)})
	assert.ErrorContains(t, err, "params is not a JSON object")
}
