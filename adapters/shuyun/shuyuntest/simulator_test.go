package shuyuntest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/shuyun/shuyuntest"
)

// answer is a decoded simulator response.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// send makes one raw request; headers are assigned as given, keeping their case.
func send(t testing.TB, baseURL, method, path string, headers map[string]string, body []byte) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, baseURL+path, bytes.NewReader(body))
	require.NoError(t, err)
	for k, v := range headers {
		req.Header[k] = []string{v}
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// auth returns the credentials of s plus extra headers.
func auth(s *shuyuntest.Server, extra ...string) map[string]string {
	h := map[string]string{"client_id": s.ClientID(), "client_secret": s.ClientSecret(), "Content-Type": "application/json"}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i] != "" {
			h[extra[i]] = extra[i+1]
		}
	}
	return h
}

// fixture reads a repaired doc example from the client package's testdata.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	require.NoError(t, err)
	return b
}

// businessCode decodes the vendor error body and returns its code.
func businessCode(t testing.TB, a answer) string {
	t.Helper()
	var e struct{ Module, Service, Code, Desc, URI string }
	require.NoError(t, json.Unmarshal(a.body, &e), "body %s", a.body)
	assert.Equal(t, "Solution Package", e.Module)
	assert.Equal(t, "openapi", e.Service)
	assert.NotEmpty(t, e.Desc)
	return e.Code
}

func TestGateway(t *testing.T) {
	srv := shuyuntest.NewServer(t)
	tests := []struct {
		name      string
		headers   map[string]string
		wantError string
	}{
		{"missing client_id", map[string]string{"client_secret": srv.ClientSecret()}, "missing_client"},
		{"missing client_secret", map[string]string{"client_id": srv.ClientID()}, "missing_client"},
		{"wrong secret", map[string]string{"client_id": srv.ClientID(), "client_secret": "nope"}, "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := send(t, srv.URL, "POST", "/member/freezePoint", tt.headers, fixture(t, "freeze_points.json"))
			assert.Equal(t, http.StatusUnauthorized, a.status)
			var body struct{ Error, Description string }
			require.NoError(t, json.Unmarshal(a.body, &body))
			assert.Equal(t, tt.wantError, body.Error)
			assert.NotEmpty(t, body.Description)
		})
	}
	t.Run("canonical key spelling is accepted", func(t *testing.T) {
		a := send(t, srv.URL, "POST", "/member/freezePoint",
			map[string]string{"Client_id": srv.ClientID(), "Client_secret": srv.ClientSecret(), "X-Business-Token": "t"},
			fixture(t, "freeze_points.json"))
		assert.Equal(t, http.StatusNoContent, a.status)
	})
	t.Run("unknown path and wrong method", func(t *testing.T) {
		assert.Equal(t, http.StatusNotFound, send(t, srv.URL, "POST", "/member/nope", auth(srv), nil).status)
		a := send(t, srv.URL, "GET", "/member/freezePoint", auth(srv), nil)
		assert.Equal(t, http.StatusMethodNotAllowed, a.status)
		assert.Equal(t, "POST", a.header.Get("Allow"))
	})
}

func TestDocExamplesAreAccepted(t *testing.T) {
	srv := shuyuntest.NewServer(t)
	tests := []struct {
		name, method, path, fixture, token string
		wantStatus                         int
	}{
		{"points change", "PUT", "/member/point", "points_change.json", "X-Business-Token", 204},
		{"freeze", "POST", "/member/freezePoint", "freeze_points.json", "X-Business-Token", 204},
		{"unfreeze", "POST", "/member/unfreezePoint", "unfreeze_points.json", "X-Business-Token", 204},
		{"grant", "POST", "/offer/instance/grant", "grant_request.json", "X-Request-Sequence", 200},
		{"order save", "POST", "/order/save", "order_save.json", "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := send(t, srv.URL, tt.method, tt.path, auth(srv, tt.token, "doc-token"), fixture(t, tt.fixture))
			assert.Equal(t, tt.wantStatus, a.status, "body %s", a.body)
			if tt.wantStatus == http.StatusNoContent {
				assert.Empty(t, a.body, "204 has an empty body")
			}
		})
	}
	avail, frozen := srv.Balance("0040a85608844820900558fc2671cb7c")
	assert.Equal(t, int64(shuyuntest.DefaultBalance+20), avail, "sent 20, froze 20, unfroze 20")
	assert.Zero(t, frozen)
}

// TestDocCouponExamplesAreAccepted sends the doc's coupon operation examples, which all name
// coupon "96800081", to a seeded coupon in the state each operation needs.
func TestDocCouponExamplesAreAccepted(t *testing.T) {
	tests := []struct {
		name, path, fixture, from, want string
	}{
		{"use (7.8)", "/offer/coupon/use", "coupon_use.json", shuyuntest.StateValid, shuyuntest.StateUsed},
		{"writeoff (7.4)", "/offer/coupon/writeoff", "coupon_writeoff.json", shuyuntest.StateFrozen, shuyuntest.StateUsed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := shuyuntest.NewServer(t)
			srv.AddCoupon(shuyuntest.CouponInstance{CouponCode: "96800081", ProjectID: "1001", MemberID: "10001", State: tt.from})
			a := send(t, srv.URL, "POST", tt.path, auth(srv), fixture(t, tt.fixture))
			assert.Equal(t, http.StatusOK, a.status)
			assert.JSONEq(t, `{"success":true,"msg":""}`, string(a.body))
			state, ok := srv.Coupon("96800081")
			require.True(t, ok)
			assert.Equal(t, tt.want, state)

			detail := send(t, srv.URL, "GET", "/offer/coupon/detail?couponCode=96800081&memberType=shuyun&channelType=KYLIN_GUIDE", auth(srv), nil)
			assert.Equal(t, http.StatusOK, detail.status)
			var d struct{ InstanceID, Status, CouponCode, MemberID, UseTime string }
			require.NoError(t, json.Unmarshal(detail.body, &d))
			assert.Equal(t, tt.want, d.Status)
			assert.Equal(t, "96800081", d.CouponCode)
			assert.Equal(t, "10001", d.MemberID)
			assert.NotEmpty(t, d.InstanceID)
			assert.NotEmpty(t, d.UseTime)
		})
	}
	t.Run("detail needs its query parameters", func(t *testing.T) {
		srv := shuyuntest.NewServer(t)
		a := send(t, srv.URL, "GET", "/offer/coupon/detail?couponCode=96800081", auth(srv), nil)
		assert.Equal(t, http.StatusBadRequest, a.status)
		assert.Equal(t, shuyuntest.CodeParam, businessCode(t, a))
		assert.Equal(t, http.StatusMethodNotAllowed, send(t, srv.URL, "POST", "/offer/coupon/detail", auth(srv), nil).status)
	})
}

func TestPointsValidation(t *testing.T) {
	srv := shuyuntest.NewServer(t)
	valid := map[string]any{"memberId": "m1", "memberType": "shuyun", "channelType": "POS", "point": 5, "description": "d"}
	with := func(k string, v any) []byte {
		m := map[string]any{}
		for k2, v2 := range valid {
			m[k2] = v2
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		b, err := json.Marshal(m)
		require.NoError(t, err)
		return b
	}
	tests := []struct {
		name    string
		headers map[string]string
		body    []byte
	}{
		{"missing token", auth(srv), with("", nil)},
		{"member id too long", auth(srv, "X-Business-Token", "t"), with("memberId", strings.Repeat("a", 33))},
		{"member id missing", auth(srv, "X-Business-Token", "t"), with("memberId", nil)},
		{"member type missing", auth(srv, "X-Business-Token", "t"), with("memberType", nil)},
		{"point zero", auth(srv, "X-Business-Token", "t"), with("point", 0)},
		{"point fraction", auth(srv, "X-Business-Token", "t"), with("point", 1.5)},
		{"point not a number", auth(srv, "X-Business-Token", "t"), with("point", "five")},
		{"not json", auth(srv, "X-Business-Token", "t"), []byte(`{"memberId":`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := send(t, srv.URL, "POST", "/member/freezePoint", tt.headers, tt.body)
			assert.Equal(t, http.StatusBadRequest, a.status)
			assert.Equal(t, shuyuntest.CodeParam, businessCode(t, a))
			assert.NotEmpty(t, a.header.Get("X-Simulator-Reason"))
		})
	}
	t.Run("change needs KZZD3 and a known changeType", func(t *testing.T) {
		body := with("changeType", "END")
		a := send(t, srv.URL, "PUT", "/member/point", auth(srv, "X-Business-Token", "t"), body)
		assert.Equal(t, shuyuntest.CodeParam, businessCode(t, a))
		var m map[string]any
		require.NoError(t, json.Unmarshal(body, &m))
		m["changeType"] = "SEND"
		body, _ = json.Marshal(m)
		a = send(t, srv.URL, "PUT", "/member/point", auth(srv, "X-Business-Token", "t"), body)
		assert.Equal(t, shuyuntest.CodeParam, businessCode(t, a))
		assert.Contains(t, a.header.Get("X-Simulator-Reason"), "KZZD3")
	})
	assert.Empty(t, srv.Effects(), "nothing was applied")
}

func TestRateLimit(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	srv := shuyuntest.NewServer(t, shuyuntest.Options{RateLimit: 1, RateWindow: 2 * time.Second, Now: func() time.Time { return now }})
	first := send(t, srv.URL, "PUT", "/member/point", auth(srv), nil)
	assert.NotEqual(t, http.StatusTooManyRequests, first.status)
	a := send(t, srv.URL, "PUT", "/member/point", auth(srv), nil)
	assert.Equal(t, http.StatusTooManyRequests, a.status)
	assert.Equal(t, "2", a.header.Get("Retry-After"))
	assert.Equal(t, "1", a.header.Get("X-Ratelimit-Limit"))
	assert.Equal(t, "0", a.header.Get("X-Ratelimit-Remaining"))
	assert.Equal(t, "2000", a.header.Get("X-Ratelimit-Reset"))
}

func TestPathPrefixAndPlainHandler(t *testing.T) {
	sim := shuyuntest.NewSimulator(shuyuntest.Options{PathPrefix: "/schm-shuyun-crm-papi/"})
	ts := httptest.NewServer(sim) // mounted without NewServer, as the all-in-one does
	t.Cleanup(ts.Close)
	h := map[string]string{"client_id": sim.ClientID(), "client_secret": sim.ClientSecret(), "X-Business-Token": "t"}

	a := send(t, ts.URL, "POST", "/schm-shuyun-crm-papi/member/freezePoint", h, fixture(t, "freeze_points.json"))
	assert.Equal(t, http.StatusNoContent, a.status, "body %s", a.body)
	assert.Equal(t, http.StatusNotFound, send(t, ts.URL, "POST", "/other/member/freezePoint", h, nil).status)

	calls := sim.Calls("/member/freezePoint")
	require.Len(t, calls, 1)
	assert.False(t, calls[0].RawHeaderCase)
	assert.Equal(t, sim.ClientID(), calls[0].Header.Get("client_id"), "canonical keys without WrapListener")
	assert.Equal(t, "t", calls[0].Token)
}

func TestFaults(t *testing.T) {
	t.Run("fail next on one path only", func(t *testing.T) {
		srv := shuyuntest.NewServer(t)
		srv.FailNext(2, http.StatusBadGateway, shuyuntest.OnPath("/order/save"))
		freeze := send(t, srv.URL, "POST", "/member/freezePoint", auth(srv, "X-Business-Token", "t"), fixture(t, "freeze_points.json"))
		assert.Equal(t, http.StatusNoContent, freeze.status)
		for range 2 {
			a := send(t, srv.URL, "POST", "/order/save", auth(srv), fixture(t, "order_save.json"))
			assert.Equal(t, http.StatusBadGateway, a.status)
			assert.Contains(t, string(a.body), `"error"`)
		}
		a := send(t, srv.URL, "POST", "/order/save", auth(srv), fixture(t, "order_save.json"))
		assert.Equal(t, http.StatusOK, a.status)
	})
	t.Run("business error next applies nothing", func(t *testing.T) {
		srv := shuyuntest.NewServer(t)
		srv.BusinessErrorNext(1, "010407", "参数异常")
		a := send(t, srv.URL, "POST", "/member/freezePoint", auth(srv, "X-Business-Token", "t"), fixture(t, "freeze_points.json"))
		assert.Equal(t, http.StatusBadRequest, a.status)
		assert.Equal(t, "010407", businessCode(t, a))
		assert.Empty(t, srv.Effects())
	})
	t.Run("reset clears faults", func(t *testing.T) {
		srv := shuyuntest.NewServer(t)
		srv.FailNext(5, http.StatusServiceUnavailable)
		srv.Delay(time.Hour)
		srv.Reset()
		a := send(t, srv.URL, "POST", "/member/freezePoint", auth(srv, "X-Business-Token", "t"), fixture(t, "freeze_points.json"))
		assert.Equal(t, http.StatusNoContent, a.status)
	})
	t.Run("commit then drop", func(t *testing.T) {
		srv := shuyuntest.NewServer(t)
		srv.CommitThenDrop(1)
		req, err := http.NewRequestWithContext(t.Context(), "POST", srv.URL+"/member/freezePoint", bytes.NewReader(fixture(t, "freeze_points.json")))
		require.NoError(t, err)
		for k, v := range auth(srv, "X-Business-Token", "t") {
			req.Header[k] = []string{v}
		}
		_, err = srv.Client().Do(req)
		require.Error(t, err, "no response")
		assert.Equal(t, 1, srv.EffectCount("/member/freezePoint", "t"))
	})
}

func TestRecording(t *testing.T) {
	srv := shuyuntest.NewServer(t)
	send(t, srv.URL, "POST", "/offer/instance/grant", auth(srv, "X-Request-Sequence", "seq-9"), fixture(t, "grant_request.json"))
	send(t, srv.URL, "POST", "/offer/instance/grant", auth(srv, "X-Request-Sequence", "seq-9"), fixture(t, "grant_request.json"))
	calls := srv.Calls("/offer/instance/grant")
	require.Len(t, calls, 2)
	assert.True(t, calls[0].RawHeaderCase)
	assert.Contains(t, calls[0].Header, "client_id")
	assert.Equal(t, "seq-9", calls[0].Token)
	assert.Equal(t, fixture(t, "grant_request.json"), calls[0].Body)
	assert.Equal(t, []shuyuntest.Effect{{Op: "/offer/instance/grant", Token: "seq-9", Count: 1}}, srv.Effects())
	coupons := srv.Coupons("10001")
	require.Len(t, coupons, 1)
	assert.Equal(t, shuyuntest.StateGranted, coupons[0].State)
	assert.Len(t, srv.Calls(""), 2)
}

func TestChaos(t *testing.T) {
	// sendMany sends n freezes with distinct tokens and counts the answers by status
	// (0: no answer).
	sendMany := func(t *testing.T, srv *shuyuntest.Server, n int) map[int]int {
		t.Helper()
		got := map[int]int{}
		client := &http.Client{Timeout: 200 * time.Millisecond}
		for i := range n {
			req, err := http.NewRequestWithContext(t.Context(), "POST", srv.URL+"/member/freezePoint", bytes.NewReader(fixture(t, "freeze_points.json")))
			require.NoError(t, err)
			for k, v := range auth(srv, "X-Business-Token", fmt.Sprintf("t%d", i)) {
				req.Header[k] = []string{v}
			}
			resp, err := client.Do(req)
			if err != nil {
				got[0]++
				continue
			}
			_ = resp.Body.Close()
			got[resp.StatusCode]++
		}
		return got
	}
	t.Run("shares are drawn from the seed", func(t *testing.T) {
		run := func() (map[int]int, []shuyuntest.Effect) {
			srv := shuyuntest.NewServer(t, shuyuntest.Options{DefaultBalance: 1 << 30})
			srv.SetChaos(shuyuntest.Chaos{Seed: 7, DropShare: 0.2, FailShare: 0.3, FailStatuses: []int{http.StatusServiceUnavailable}})
			return sendMany(t, srv, 200), srv.Effects()
		}
		got, effects := run()
		assert.Equal(t, 200, got[0]+got[http.StatusNoContent]+got[http.StatusServiceUnavailable])
		assert.InDelta(t, 40, got[0], 20, "about a fifth dropped: %v", got)
		assert.InDelta(t, 60, got[http.StatusServiceUnavailable], 25, "about 30%% refused: %v", got)
		assert.Len(t, effects, got[0]+got[http.StatusNoContent], "dropped requests were applied, refused ones not")
		again, _ := run()
		assert.Equal(t, got, again, "the same seed draws the same faults")
	})
	t.Run("timeouts leave no effect and clear stops the chaos", func(t *testing.T) {
		srv := shuyuntest.NewServer(t)
		srv.SetChaos(shuyuntest.Chaos{TimeoutShare: 1, TimeoutAfter: time.Hour, Path: "/member/freezePoint"})
		got := sendMany(t, srv, 3)
		assert.Equal(t, map[int]int{0: 3}, got)
		assert.Empty(t, srv.Effects())
		srv.ClearChaos()
		assert.Equal(t, map[int]int{http.StatusNoContent: 2}, sendMany(t, srv, 2))
	})
	t.Run("stats count duplicate in-flight calls", func(t *testing.T) {
		srv := shuyuntest.NewServer(t)
		srv.DelayNext(1, 300*time.Millisecond)
		done := make(chan struct{})
		go func() {
			defer close(done)
			send(t, srv.URL, "POST", "/member/freezePoint", auth(srv, "X-Business-Token", "same"), fixture(t, "freeze_points.json"))
		}()
		require.Eventually(t, func() bool { return srv.Stats().InFlight == 1 }, 5*time.Second, 5*time.Millisecond)
		send(t, srv.URL, "POST", "/member/freezePoint", auth(srv, "X-Business-Token", "same"), fixture(t, "freeze_points.json"))
		<-done
		st := srv.Stats()
		assert.Equal(t, shuyuntest.Stats{Requests: 2, InFlight: 0, PeakInFlight: 2, Overlaps: 1}, st)
	})
}

func TestMaxCalls(t *testing.T) {
	tests := []struct {
		name       string
		maxCalls   int
		wantTokens []string
	}{
		{name: "keeps the most recent", maxCalls: 3, wantTokens: []string{"t5", "t6", "t7"}},
		{name: "zero keeps every call", maxCalls: 0, wantTokens: []string{"t1", "t2", "t3", "t4", "t5", "t6", "t7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := shuyuntest.NewServer(t, shuyuntest.Options{MaxCalls: tt.maxCalls})
			for i := 1; i <= 7; i++ { // past 2×3, so the journal is also compacted once
				a := send(t, srv.URL, "POST", "/member/freezePoint", auth(srv, "X-Business-Token", fmt.Sprintf("t%d", i)), fixture(t, "freeze_points.json"))
				require.Equal(t, http.StatusNoContent, a.status)
			}
			var got []string
			for _, c := range srv.Calls("") {
				got = append(got, c.Token)
			}
			assert.Equal(t, tt.wantTokens, got)
			assert.Len(t, srv.Calls("/member/freezePoint"), len(tt.wantTokens))
			assert.Len(t, srv.Effects(), 7, "effects are vendor state, never dropped")
		})
	}
}
