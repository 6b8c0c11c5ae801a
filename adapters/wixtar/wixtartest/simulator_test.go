package wixtartest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/wixtar"
	"github.com/loyaltybus/loyaltybus/adapters/wixtar/wixtartest"
)

func postToken(t *testing.T, srv *wixtartest.Server, form url.Values) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.TokenURL, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, req)
}

func getUsage(t *testing.T, srv *wixtartest.Server, token, rawQuery string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+wixtar.PathPointsUsageRecords+"?"+rawQuery, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out), string(b))
	return resp.StatusCode, out
}

func validForm() url.Values {
	return url.Values{
		"client_id":     {wixtartest.DefaultClientID},
		"client_secret": {wixtartest.DefaultClientSecret},
		"grant_type":    {"client_credentials"},
		"scope":         {"api"},
	}
}

func TestSimulator_tokenEndpoint(t *testing.T) {
	tests := []struct {
		name       string
		change     func(url.Values)
		wantStatus int
		wantError  string
	}{
		{name: "valid", change: func(url.Values) {}, wantStatus: 200},
		{name: "no scope", change: func(f url.Values) { f.Del("scope") }, wantStatus: 200},
		{name: "wrong secret", change: func(f url.Values) { f.Set("client_secret", "x") }, wantStatus: 401, wantError: "invalid_client"},
		{name: "wrong grant", change: func(f url.Values) { f.Set("grant_type", "password") }, wantStatus: 400, wantError: "unsupported_grant_type"},
		{name: "no grant", change: func(f url.Values) { f.Del("grant_type") }, wantStatus: 400, wantError: "invalid_request"},
		{name: "wrong scope", change: func(f url.Values) { f.Set("scope", "admin") }, wantStatus: 400, wantError: "invalid_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := wixtartest.NewServer(t, wixtartest.Options{})
			form := validForm()
			tt.change(form)
			status, body := postToken(t, srv, form)
			assert.Equal(t, tt.wantStatus, status)
			if tt.wantError != "" {
				assert.Equal(t, tt.wantError, body["error"])
				assert.Equal(t, 0, srv.TokensIssued())
				return
			}
			assert.Equal(t, "Bearer", body["token_type"])
			assert.EqualValues(t, 2592000, body["expires_in"])
			assert.NotEmpty(t, body["access_token"])
			assert.Equal(t, 1, srv.TokensIssued())
		})
	}
}

func TestSimulator_usageValidation(t *testing.T) {
	srv := wixtartest.NewServer(t, wixtartest.Options{})
	_, tok := postToken(t, srv, validForm())
	token := tok["access_token"].(string)
	good := "start_date=2020-06-04%2012%3A12%3A12&end_date=2020-09-04%2023%3A12%3A12"

	tests := []struct {
		name       string
		token      string
		query      string
		wantStatus int
	}{
		{name: "ok", token: token, query: good, wantStatus: 200},
		{name: "plus for space also decodes", token: token, query: "start_date=2020-06-04+12:12:12&end_date=2020-09-04+23:12:12", wantStatus: 200},
		{name: "no token", query: good, wantStatus: 401},
		{name: "unknown token", token: "nope", query: good, wantStatus: 401},
		{name: "missing end", token: token, query: "start_date=2020-06-04%2012%3A12%3A12", wantStatus: 400},
		{name: "RFC 3339 date", token: token, query: "start_date=2020-06-04T12:12:12%2B08:00&end_date=2020-09-04%2023%3A12%3A12", wantStatus: 400},
		{name: "end before start", token: token, query: "start_date=2020-09-04%2012%3A12%3A12&end_date=2020-06-04%2023%3A12%3A12", wantStatus: 400},
		{name: "bad time_sort", token: token, query: good + "&time_sort=NEWEST", wantStatus: 400},
		{name: "lower-case time_sort", token: token, query: good + "&time_sort=desc", wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := getUsage(t, srv, tt.token, tt.query)
			assert.Equal(t, tt.wantStatus, status, body)
			if status == 200 {
				assert.Contains(t, body, "logs")
				assert.Contains(t, body, "points_expire")
			}
		})
	}
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestSimulator_tokenExpiresByClock(t *testing.T) {
	clk := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	srv := wixtartest.NewServer(t, wixtartest.Options{TokenTTL: time.Minute, Now: clk.Now})
	status, tok := postToken(t, srv, validForm())
	require.Equal(t, 200, status)
	assert.EqualValues(t, 60, tok["expires_in"])
	q := "start_date=2020-06-04%2012%3A12%3A12&end_date=2020-09-04%2023%3A12%3A12"

	status, _ = getUsage(t, srv, tok["access_token"].(string), q)
	assert.Equal(t, 200, status)
	clk.Advance(time.Minute)
	status, body := getUsage(t, srv, tok["access_token"].(string), q)
	assert.Equal(t, 401, status)
	assert.Equal(t, "invalid_token", body["error"])
}

func TestSimulator_rendersVendorShapes(t *testing.T) {
	srv := wixtartest.NewServer(t, wixtartest.Options{})
	at := time.Date(2020, 9, 1, 10, 17, 59, 0, wixtar.Location())
	require.NoError(t, srv.AddRecords(
		wixtartest.Record{OrderID: "A", DateTime: at, PointType: "exchange_goods", OrderAmount: "200", StoreName: "左營文天", NameKey: wixtartest.ShopNameKey},
		wixtartest.Record{OrderID: "B", DateTime: at.UTC(), PointType: "ZERO", OrderAmount: "1.5", AmountAsNumber: true, StoreName: "x"},
	))
	assert.Error(t, srv.AddRecords(wixtartest.Record{OrderID: "C", DateTime: at, NameKey: "storeName"}))
	assert.Error(t, srv.AddRecords(wixtartest.Record{DateTime: at}))

	_, tok := postToken(t, srv, validForm())
	status, body := getUsage(t, srv, tok["access_token"].(string), "start_date=2020-09-01%2000%3A00%3A00&end_date=2020-09-01%2023%3A59%3A59")
	require.Equal(t, 200, status)
	logs := body["logs"].([]any)
	require.Len(t, logs, 2)
	a, b := logs[0].(map[string]any), logs[1].(map[string]any)
	assert.Equal(t, "左營文天", a["shop_name"])
	assert.NotContains(t, a, "store_name")
	assert.Equal(t, "200", a["order_amount"])
	assert.Equal(t, "2020-09-01T10:17:59", a["date_time"], "zone-less Taipei time")
	assert.Equal(t, "2020-09-01T10:17:59", b["date_time"], "UTC input rendered in Taipei")
	assert.Equal(t, 1.5, b["order_amount"])
	assert.Equal(t, "x", b["store_name"])
	assert.Equal(t, "ZERO", b["point_type"])
}

func TestSimulator_maxCalls(t *testing.T) {
	tests := []struct {
		name      string
		maxCalls  int
		wantPages []string
	}{
		{name: "keeps the most recent", maxCalls: 3, wantPages: []string{"5", "6", "7"}},
		{name: "zero keeps every call", maxCalls: 0, wantPages: []string{"1", "2", "3", "4", "5", "6", "7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := wixtartest.NewServer(t, wixtartest.Options{MaxCalls: tt.maxCalls})
			for i := 1; i <= 7; i++ { // past 2×3, so the journal is also compacted once
				status, _ := getUsage(t, srv, "", "page="+strconv.Itoa(i))
				require.Equal(t, http.StatusUnauthorized, status)
			}
			var got []string
			for _, c := range srv.Calls(wixtar.PathPointsUsageRecords) {
				got = append(got, c.Query.Get("page"))
			}
			assert.Equal(t, tt.wantPages, got)
			assert.Len(t, srv.Calls(""), len(tt.wantPages))
		})
	}
}
