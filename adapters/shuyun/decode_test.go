package shuyun_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/shuyun"
)

func TestParseTime(t *testing.T) {
	cst := shuyun.ChinaStandardTime
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2021-12-15T17:10:01.218+08:00", time.Date(2021, 12, 15, 17, 10, 1, 218e6, cst)},
		{"2021-12-30T02:24:02.202Z", time.Date(2021, 12, 30, 2, 24, 2, 202e6, time.UTC)},
		{"2020-11-30T16:48:03+08:00", time.Date(2020, 11, 30, 16, 48, 3, 0, cst)},
		{"2021-07-13 08:36:03", time.Date(2021, 7, 13, 8, 36, 3, 0, cst)},
		{"2021-07-13 08:36:03.5", time.Date(2021, 7, 13, 8, 36, 3, 5e8, cst)},
		{"2021-07-13T08:36:03", time.Date(2021, 7, 13, 8, 36, 3, 0, cst)},
		{"2021-12-15T17:10:01.218+0800", time.Date(2021, 12, 15, 17, 10, 1, 218e6, cst)},
		{"2021-07-13", time.Date(2021, 7, 13, 0, 0, 0, 0, cst)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := shuyun.ParseTime(tt.in)
			require.NoError(t, err)
			assert.True(t, tt.want.Equal(got), "want %v, got %v", tt.want, got)
		})
	}
	_, err := shuyun.ParseTime("13/07/2021")
	assert.Error(t, err)
}

func TestTimeJSON(t *testing.T) {
	var v struct {
		A shuyun.Time `json:"a"`
		B shuyun.Time `json:"b"`
		C shuyun.Time `json:"c"`
		D shuyun.Time `json:"d"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"a":"2022-05-30T03:25:56.873Z","b":null,"c":"","d":1653881156873}`), &v))
	assert.True(t, time.Date(2022, 5, 30, 3, 25, 56, 873e6, time.UTC).Equal(v.A.Time))
	assert.True(t, v.B.IsZero())
	assert.True(t, v.C.IsZero())
	assert.True(t, v.A.Equal(v.D.Time))

	b, err := json.Marshal(struct {
		T shuyun.Time `json:"t"`
		Z shuyun.Time `json:"z,omitzero"`
	}{T: v.A})
	require.NoError(t, err)
	assert.JSONEq(t, `{"t":"2022-05-30 11:25:56"}`, string(b), "requests use yyyy-MM-dd HH:mm:ss in UTC+8")
}

func TestCouponInstanceDecodesDocDetail(t *testing.T) {
	var ci shuyun.CouponInstance
	require.NoError(t, json.Unmarshal(fixture(t, "coupon_detail.json"), &ci))
	assert.Equal(t, "001", ci.InstanceID)
	assert.Equal(t, "couponCode", ci.CouponCode)
	assert.Equal(t, "VALID", ci.Status)
	assert.True(t, time.Date(2022, 5, 30, 3, 25, 56, 873e6, time.UTC).Equal(ci.GrantTime.Time))
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2021-12-15T17:10:01.218+08:00", "2021-12-30T02:24:02.202Z", "2020-11-30T16:48:03+08:00", "2021-07-13 08:36:03", "2022-05-17T07:59:11.135Z", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := shuyun.ParseTime(s)
		if err != nil {
			return
		}
		// A parsed time survives the request format to the second.
		b, err := json.Marshal(shuyun.Time{Time: got})
		if y := got.In(shuyun.ChinaStandardTime).Year(); err != nil || y < 1 || y > 9999 {
			return
		}
		var back shuyun.Time
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("round trip of %q via %s: %v", s, b, err)
		}
		if !back.Equal(got.Truncate(time.Second)) {
			t.Fatalf("round trip of %q: got %v, want %v", s, back.Time, got.Truncate(time.Second))
		}
	})
}

func FuzzCouponInstance(f *testing.F) {
	f.Add([]byte(`{"instanceId":"001","couponCode":"SDSDSZ1","projectId":"1001","status":"GRANTED","grantTime":"2021-12-15T17:10:01.218+08:00"}`))
	f.Add([]byte(`{"instanceId":11,"couponCode":96800081,"projectId":1001,"grantTime":1653881156873}`))
	f.Add([]byte(`{"instanceId":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var ci shuyun.CouponInstance
		_ = json.Unmarshal(b, &ci) // must not panic
	})
}
