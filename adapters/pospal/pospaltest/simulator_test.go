package pospaltest_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/pospal"
	"github.com/loyaltybus/loyaltybus/adapters/pospal/pospaltest"
)

// post sends body to path, signed with key unless key is "", and returns the
// answer's status, header and (decompressed) body.
func post(t testing.TB, srv *pospaltest.Server, path, key string, body []byte, hdr map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+path, bytes.NewReader(body))
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("data-signature", pospal.Sign(key, body))
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		require.NoError(t, err)
		r = zr
	}
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, b
}

const usePath = "/pospal-api2/openapi/v1/promotionOpenApi/promotioncouponcode/use"

func TestAuthentication(t *testing.T) {
	t.Parallel()
	body := []byte(`{"appId":"pospal-sim-app","code":"NOPE"}`)
	tests := []struct {
		name       string
		key        string
		body       []byte
		wantBody   string
		wantSigned bool
		wantUsed   int
	}{
		{"no signature", "", body, `{"status":"error","messages":["请求头中没传消息签名"],"errorCode":1031}`, false, 0},
		{"wrong key", "other", body, `{"status":"error","messages":["消息体与消息签名不匹配"],"errorCode":1032}`, true, 1},
		{"unknown appId", "k", []byte(`{"appId":"nobody","code":"NOPE"}`), `{"status":"error","messages":["appId错误，根据所传的appId找不到对应的用户"],"errorCode":1034}`, false, 0},
		{"not JSON", "k", []byte(`{"appId":`), `{"status":"error","messages":["请求参数错误"],"errorCode":9003}`, false, 0},
		{"authenticated", pospaltest.DefaultAppKey, body, `{"status":"error","messages":["优惠券无效"],"errorCode":3001}`, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := pospaltest.NewServer(t, pospaltest.Options{})

			status, hdr, got := post(t, srv, usePath, tt.key, tt.body, nil)

			assert.Equal(t, http.StatusOK, status)
			assert.Equal(t, tt.wantBody, string(got))
			if tt.wantSigned {
				assert.Equal(t, pospal.Sign(pospaltest.DefaultAppKey, got), hdr.Get("data-signature"))
			} else {
				assert.Empty(t, hdr.Get("data-signature"))
			}
			assert.Equal(t, tt.wantUsed, srv.Used(pospaltest.DefaultAppID))
		})
	}
}

func TestGzipWhenAsked(t *testing.T) {
	t.Parallel()
	srv := pospaltest.NewServer(t, pospaltest.Options{})
	body := []byte(`{"appId":"pospal-sim-app","code":"NOPE"}`)

	_, hdr, got := post(t, srv, usePath, pospaltest.DefaultAppKey, body, map[string]string{"Accept-Encoding": "gzip,deflate"})

	assert.Equal(t, "gzip", hdr.Get("Content-Encoding"))
	assert.Equal(t, pospal.Sign(pospaltest.DefaultAppKey, got), hdr.Get("data-signature"), "signed over the uncompressed body")
}

func TestQuotaCountsEveryCall(t *testing.T) {
	t.Parallel()
	srv := pospaltest.NewServer(t, pospaltest.Options{DailyQuota: 2})
	body := []byte(`{"appId":"pospal-sim-app","code":"NOPE"}`)

	post(t, srv, usePath, "wrong", body, nil)
	post(t, srv, usePath, pospaltest.DefaultAppKey, body, nil)
	_, _, got := post(t, srv, usePath, pospaltest.DefaultAppKey, body, nil)

	assert.JSONEq(t, `{"status":"error","messages":["今日接口访问次数已达上限"],"errorCode":9999}`, string(got))
	assert.Equal(t, 3, srv.Used(pospaltest.DefaultAppID))

	_, _, log := post(t, srv, "/pospal-api2/openapi/v1/openApiLimitAccess/queryDailyAccessTimesLog", pospaltest.DefaultAppKey,
		[]byte(`{"appId":"pospal-sim-app","beginDate":"2000-01-01","endDate":"2000-01-02"}`), nil)
	assert.JSONEq(t, `{"status":"error","messages":["今日接口访问次数已达上限"],"errorCode":9999}`, string(log), "the quota query is charged too")
}

func TestQueryDailyAccessTimes(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 1, 20, 0, 0, 0, time.UTC) // 2026-11-02 in Shanghai
	srv := pospaltest.NewServer(t, pospaltest.Options{Now: func() time.Time { return now }})

	_, _, got := post(t, srv, "/pospal-api2/openapi/v1/openApiLimitAccess/queryDailyAccessTimesLog", pospaltest.DefaultAppKey,
		[]byte(`{"appId":"pospal-sim-app","beginDate":"2026-11-01","endDate":"2026-11-02"}`), nil)

	assert.JSONEq(t, `{"status":"success","messages":[],"data":[{"appId":"pospal-sim-app","accessDate":"2026-11-02","haveAcessTimes":1,"limitTimes":300}]}`, string(got))
}

func TestFaultsAreConsumedAndReset(t *testing.T) {
	t.Parallel()
	srv := pospaltest.NewServer(t, pospaltest.Options{})
	body := []byte(`{"appId":"pospal-sim-app","code":"NOPE"}`)
	srv.FailNext(2, http.StatusBadGateway, "use")
	srv.FailNext(5, http.StatusInternalServerError, "addCouponcode")

	first, _, _ := post(t, srv, usePath, pospaltest.DefaultAppKey, body, nil)
	second, _, _ := post(t, srv, usePath, pospaltest.DefaultAppKey, body, nil)
	third, _, _ := post(t, srv, usePath, pospaltest.DefaultAppKey, body, nil)
	srv.FailNext(1, http.StatusBadGateway)
	srv.Reset()
	fourth, _, _ := post(t, srv, usePath, pospaltest.DefaultAppKey, body, nil)

	assert.Equal(t, []int{502, 502, 200, 200}, []int{first, second, third, fourth})
	assert.Equal(t, 2, srv.Used(pospaltest.DefaultAppID), "gateway failures are not charged")
	assert.Len(t, srv.Calls("USE"), 4)
	assert.Empty(t, srv.Calls("addCouponcode"))
}

func TestTicketUIDsAreBareNumbers(t *testing.T) {
	t.Parallel()
	srv := pospaltest.NewServer(t, pospaltest.Options{PageSize: 2})
	srv.GenerateTickets(7, 3, time.Date(2026, 11, 1, 9, 0, 0, 0, pospal.Shanghai))
	body := []byte(`{"appId":"pospal-sim-app","customerUid":7,"startTime":"2026-11-01 00:00:00","endTime":"2026-11-01 23:59:59"}`)

	_, _, got := post(t, srv, "/pospal-api2/openapi/v1/ticketOpenApi/queryCustomerHistoryTicketsByUid", pospaltest.DefaultAppKey, body, nil)

	var env struct {
		Data struct {
			PostBackParameter json.RawMessage
			Result            []map[string]json.RawMessage
			PageSize          int
		}
	}
	require.NoError(t, json.Unmarshal(got, &env))
	require.Len(t, env.Data.Result, 2)
	assert.Equal(t, "832101480292933203", string(env.Data.Result[0]["uid"]))
	assert.Equal(t, "832101480292933202", string(env.Data.Result[1]["uid"]))
	assert.Equal(t, 2, env.Data.PageSize)
	assert.JSONEq(t, `{"parameterType":"LAST_RESULT_MIN_ID","parameterValue":"832101480292933202"}`, string(env.Data.PostBackParameter))
}

func TestMountedWithoutTestingTB(t *testing.T) {
	t.Parallel()
	sim := pospaltest.NewSimulator(pospaltest.Options{})
	sim.AddPromotion(1, "rule")
	mux := http.NewServeMux()
	mux.Handle("/pospal-api2/", sim)
	body := []byte(`{"appId":"pospal-sim-app","promotionCouponUid":1,"code":"M1"}`)
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/pospal-api2/openapi/v1/promotionOpenApi/promotion/addCouponcode", bytes.NewReader(body))
	req.Header.Set("data-signature", pospal.Sign(pospaltest.DefaultAppKey, body))
	rec := httptest.NewRecorder()

	mux.ServeHTTP(rec, req)

	assert.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"status":"success","messages":[],"data":{"codeExpiredDate":""}}`, rec.Body.String())
	assert.Equal(t, 1, sim.CodesAdded())

	srv := pospaltest.Start(pospaltest.Options{})
	defer srv.Close()
	c, err := pospal.New(srv.Config())
	require.NoError(t, err)
	assert.ErrorIs(t, c.UseCouponCode(t.Context(), pospal.UseCouponCodeRequest{Code: "M1"}), pospal.ErrCouponInvalid)
}

func TestMaxCalls(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		maxCalls  int
		wantCodes []string
	}{
		{name: "keeps the most recent", maxCalls: 3, wantCodes: []string{"C5", "C6", "C7"}},
		{name: "zero keeps every call", maxCalls: 0, wantCodes: []string{"C1", "C2", "C3", "C4", "C5", "C6", "C7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := pospaltest.NewServer(t, pospaltest.Options{MaxCalls: tt.maxCalls})
			for i := 1; i <= 7; i++ { // past 2×3, so the journal is also compacted once
				body := fmt.Appendf(nil, `{"appId":%q,"code":"C%d"}`, pospaltest.DefaultAppID, i)
				status, _, _ := post(t, srv, usePath, pospaltest.DefaultAppKey, body, nil)
				require.Equal(t, http.StatusOK, status)
			}
			var got []string
			for _, c := range srv.Calls("use") {
				var b struct{ Code string }
				require.NoError(t, json.Unmarshal(c.Body, &b))
				got = append(got, b.Code)
			}
			assert.Equal(t, tt.wantCodes, got)
			assert.Len(t, srv.Calls(""), len(tt.wantCodes))
			assert.Equal(t, 7, srv.Used(pospaltest.DefaultAppID), "the quota counts every call")
		})
	}
}

// TestUsedCodesWindow: the simulator enforces doc 001's rule itself
// (excludeEndTime − startTime ≤ 5 days), whatever a client checks first, and
// charges the refused call.
func TestUsedCodesWindow(t *testing.T) {
	t.Parallel()
	const path = "/pospal-api2/openapi/v1/promotionOpenApi/queryUsedPromotionCode"
	tests := []struct {
		name, start, end, want string
	}{
		{"5 days", "2026-11-01 00:00:00", "2026-11-06 00:00:00", `{"status":"success","messages":[],"data":{"postBackParameter":{"parameterType":"LAST_RESULT_MIN_ID","parameterValue":""},"result":[]}}`},
		{"5 days and a second", "2026-11-01 00:00:00", "2026-11-06 00:00:01", `{"status":"error","messages":["请求参数错误"],"errorCode":9003}`},
		{"end before start", "2026-11-01 00:00:01", "2026-11-01 00:00:00", `{"status":"error","messages":["请求参数错误"],"errorCode":9003}`},
		{"no end", "2026-11-01 00:00:00", "", `{"status":"error","messages":["请求参数错误"],"errorCode":9003}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := pospaltest.NewServer(t, pospaltest.Options{})
			body := fmt.Appendf(nil, `{"appId":%q,"startTime":%q,"excludeEndTime":%q}`, pospaltest.DefaultAppID, tt.start, tt.end)

			status, _, got := post(t, srv, path, pospaltest.DefaultAppKey, body, nil)

			assert.Equal(t, http.StatusOK, status)
			assert.JSONEq(t, tt.want, string(got))
			assert.Equal(t, 1, srv.Used(pospaltest.DefaultAppID), "charged either way")
		})
	}
}

// TestUsedCodesReflectUses: a use with useDateTime is listed at that second,
// one without at the simulator's clock, truncated to the second as the vendor
// stores it.
func TestUsedCodesReflectUses(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 1, 2, 30, 15, 700_000_000, time.UTC) // 10:30:15.7 in Shanghai
	srv := pospaltest.NewServer(t, pospaltest.Options{Now: func() time.Time { return now }})
	srv.AddPromotion(1, "rule")
	for _, b := range []string{
		`{"appId":"pospal-sim-app","promotionCouponUid":1,"code":"CLOCK"}`,
		`{"appId":"pospal-sim-app","promotionCouponUid":1,"code":"GIVEN"}`,
		`{"appId":"pospal-sim-app","code":"CLOCK"}`,
		`{"appId":"pospal-sim-app","code":"GIVEN","useDateTime":"2026-10-31 08:00:00"}`,
	} {
		path := usePath
		if bytes.Contains([]byte(b), []byte("promotionCouponUid")) {
			path = "/pospal-api2/openapi/v1/promotionOpenApi/promotion/addCouponcode"
		}
		_, _, got := post(t, srv, path, pospaltest.DefaultAppKey, []byte(b), nil)
		require.Contains(t, string(got), `"status":"success"`)
	}
	query := func(start, end string) string {
		_, _, got := post(t, srv, "/pospal-api2/openapi/v1/promotionOpenApi/queryUsedPromotionCode", pospaltest.DefaultAppKey,
			fmt.Appendf(nil, `{"appId":"pospal-sim-app","startTime":%q,"excludeEndTime":%q}`, start, end), nil)
		var env struct {
			Data struct{ Result []map[string]any }
		}
		require.NoError(t, json.Unmarshal(got, &env))
		var out string
		for _, r := range env.Data.Result {
			out += fmt.Sprintf("%s@%s ", r["code"], r["usedDateTime"])
		}
		return out
	}

	assert.Equal(t, "CLOCK@2026-11-01 10:30:15 ", query("2026-11-01 10:30:15", "2026-11-01 10:30:16"))
	assert.Equal(t, "GIVEN@2026-10-31 08:00:00 ", query("2026-10-31 08:00:00", "2026-10-31 08:00:01"))
	assert.Equal(t, "", query("2026-11-01 10:30:16", "2026-11-01 10:31:00"))
	assert.Equal(t, 2, srv.CodesUsed())
}
