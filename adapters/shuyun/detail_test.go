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

func TestCouponOpTargets(t *testing.T) {
	want := map[shuyun.CouponOp]string{
		shuyun.CouponRedeem:     shuyuntest.StateUsed,
		shuyun.CouponFreeze:     shuyuntest.StateFrozen,
		shuyun.CouponThaw:       shuyuntest.StateValid,
		shuyun.CouponWriteOff:   shuyuntest.StateUsed,
		shuyun.CouponReverse:    shuyuntest.StateValid,
		shuyun.CouponInvalidate: shuyuntest.StateExpired,
		shuyun.CouponReinstate:  shuyuntest.StateValid,
	}
	for _, op := range shuyun.CouponOps() {
		assert.Equal(t, want[op], op.Target(), string(op))
	}
	assert.Empty(t, shuyun.CouponOp("use").Target())
}

func TestCouponDetailFollowsTheSimulatorState(t *testing.T) {
	srv := shuyuntest.NewServer(t)
	c := newClient(t, srv)
	g, err := c.GrantCoupon(t.Context(), "seq", grantFromFixture(t))
	require.NoError(t, err)
	req := shuyun.CouponDetailRequest{CouponCode: g.CouponCode, MemberType: "shuyun", ChannelType: "KYLIN_GUIDE"}

	d, err := c.CouponDetail(t.Context(), req)
	require.NoError(t, err)
	assert.Equal(t, g.InstanceID, d.InstanceID)
	assert.Equal(t, g.CouponCode, d.CouponCode)
	assert.Equal(t, "10001", d.MemberID)
	assert.Equal(t, "1001", d.ProjectID)
	assert.Equal(t, shuyun.StatusGranted, d.Status)
	assert.True(t, g.GrantTime.Equal(d.GrantTime.Time))
	assert.True(t, d.UseTime.IsZero())
	assert.JSONEq(t, `{"campaignId":"100001","selectShopCode":"100001","orderId":"100001","sharedBy":"100001","sharedCouponCode":"100001"}`,
		string(d.PresetOrCustomField), "the grant's params")

	_, err = c.CouponOperation(t.Context(), shuyun.CouponRedeem, shuyun.CouponRequest{CouponCode: g.CouponCode, MemberType: "shuyun", ChannelType: "KYLIN_GUIDE"})
	require.NoError(t, err)
	d, err = c.CouponDetail(t.Context(), req)
	require.NoError(t, err)
	assert.Equal(t, shuyun.StatusUsed, d.Status)
	assert.False(t, d.UseTime.IsZero())

	calls := srv.Calls(shuyun.PathCouponDetail)
	require.Len(t, calls, 2)
	assert.Equal(t, http.MethodGet, calls[0].Method)
	assert.Empty(t, calls[0].Body)
}

func TestCouponDetailRefusals(t *testing.T) {
	srv := shuyuntest.NewServer(t)
	c := newClient(t, srv)
	_, err := c.CouponDetail(t.Context(), shuyun.CouponDetailRequest{CouponCode: "missing", MemberType: "shuyun", ChannelType: "POS"})
	var apiErr *shuyun.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Contains(t, apiErr.Msg, "missing")
	assert.False(t, apiErr.Temporary())

	_, err = c.CouponDetail(t.Context(), shuyun.CouponDetailRequest{CouponCode: "x"})
	assert.ErrorContains(t, err, "required")
	assert.Len(t, srv.Calls(shuyun.PathCouponDetail), 1, "nothing is sent without the required fields")
}

func TestCouponDetailDecodesDocShapes(t *testing.T) {
	flat := fixture(t, "coupon_detail.json")
	wrapped := []byte(`{"instanceInfoData":` + string(flat) + `}`)
	for name, body := range map[string][]byte{"flat example": flat, "instanceInfoData wrapper": wrapped} {
		t.Run(name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				assert.Equal(t, "96800081", r.URL.Query().Get("couponCode"))
				assert.Equal(t, "shuyun", r.URL.Query().Get("memberType"))
				assert.Equal(t, "KYLIN_GUIDE", r.URL.Query().Get("channelType"))
				_, _ = w.Write(body)
			}))
			t.Cleanup(ts.Close)
			c, err := shuyun.New(shuyun.Config{BaseURL: ts.URL, ClientID: "id", ClientSecret: "secret"})
			require.NoError(t, err)
			d, err := c.CouponDetail(t.Context(), shuyun.CouponDetailRequest{CouponCode: "96800081", MemberType: "shuyun", ChannelType: "KYLIN_GUIDE"})
			require.NoError(t, err)
			assert.Equal(t, "001", d.InstanceID)
			assert.Equal(t, "VALID", d.Status)
			assert.Equal(t, "32345464545", d.MemberID)
			assert.Equal(t, "新会员券", d.ProjectName)
			assert.True(t, time.Date(2022, 5, 30, 3, 25, 56, 873e6, time.UTC).Equal(d.UseTime.Time))
			var preset map[string]string
			require.NoError(t, json.Unmarshal(d.PresetOrCustomField, &preset))
			assert.Equal(t, "100001", preset["shopCode"])
		})
	}
}
