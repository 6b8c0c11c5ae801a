package wixtar_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/wixtar"
	"github.com/loyaltybus/loyaltybus/adapters/wixtar/wixtartest"
)

// clock is a fake clock shared by the client and the simulator.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newClient(t testing.TB, srv *wixtartest.Server, now func() time.Time) *wixtar.Client {
	t.Helper()
	c, err := wixtar.New(wixtar.Config{
		BaseURL:      srv.URL,
		TokenURL:     srv.TokenURL,
		ClientID:     wixtartest.DefaultClientID,
		ClientSecret: wixtartest.DefaultClientSecret,
		Timeout:      5 * time.Second,
		Now:          now,
	})
	require.NoError(t, err)
	return c
}

func taipei(y int, m time.Month, d, hh, mm, ss int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, 0, wixtar.Location())
}

// window covers all test records.
var window = wixtar.UsageQuery{Start: taipei(2020, 6, 4, 12, 12, 12), End: taipei(2020, 9, 4, 23, 12, 12)}

func seed(t testing.TB, srv *wixtartest.Server) {
	t.Helper()
	require.NoError(t, srv.AddRecords(
		wixtartest.Record{
			StoreID: "S01", OrderID: "MCSF0220090400024", DateTime: taipei(2020, 9, 1, 10, 17, 59),
			PointType: "exchange_goods", BonusPoints: 50, OrderAmount: "200", MemberName: "ming",
			StoreName: "左營文天", NameKey: wixtartest.ShopNameKey, PointMemo: "測試", UsePointInstructions: "使用點數說明",
		},
		wixtartest.Record{
			StoreID: "S01", OrderID: "MCSF0220090400024", DateTime: taipei(2020, 9, 1, 10, 16, 0),
			PointType: "exchange_goods_sell_back", BonusPoints: 50, OrderAmount: "200.50", AmountAsNumber: true,
			MemberName: "ming", StoreName: "左營文天", NameKey: wixtartest.StoreNameKey,
		},
		wixtartest.Record{
			StoreID: "S02", OrderID: "X1", DateTime: taipei(2020, 7, 1, 8, 0, 0),
			PointType: "Lucky_Draw", BonusPoints: 5, OrderAmount: "0", StoreName: "台北", GiftGive: true,
		},
	))
	srv.SetPointsExpire(wixtartest.ExpiringPoints{DeadLine: taipei(2022, 5, 2, 23, 59, 59), Points: 201})
}

func TestPointsUsageRecords_decodesVendorShapes(t *testing.T) {
	srv := wixtartest.NewServer(t, wixtartest.Options{})
	seed(t, srv)
	c := newClient(t, srv, nil)

	got, err := c.PointsUsageRecords(t.Context(), window)
	require.NoError(t, err)
	require.Len(t, got.Logs, 3)

	first, second, third := got.Logs[0], got.Logs[1], got.Logs[2]
	assert.Equal(t, "左營文天", first.StoreName, "from shop_name")
	assert.Equal(t, "左營文天", second.StoreName, "from store_name")
	assert.Contains(t, string(first.Raw), `"shop_name":"左營文天"`)
	assert.Equal(t, json.Number("200"), first.OrderAmount, "string amount")
	assert.Equal(t, json.Number("200.50"), second.OrderAmount, "number amount kept exactly")
	assert.Equal(t, json.Number("50"), first.BonusPoints)

	assert.Equal(t, wixtar.PointType("Lucky_Draw"), third.PointType, "unknown type kept verbatim")
	assert.Equal(t, wixtar.PointType("lucky_draw"), third.PointType.Normalized())
	assert.False(t, third.PointType.Known())
	assert.True(t, third.GiftGive)

	_, offset := first.DateTime.Zone()
	assert.Equal(t, 8*3600, offset, "zone-less time read as +08:00")
	assert.Equal(t, "2020-09-01T10:17:59+08:00", first.DateTime.Format(time.RFC3339))
	assert.Equal(t, "MCSF0220090400024|2020-09-01T10:17:59|exchange_goods", first.Key())
	assert.NotEqual(t, first.Key(), second.Key())

	require.Len(t, got.PointsExpire, 1)
	assert.Equal(t, "2022-05-02T23:59:59+08:00", got.PointsExpire[0].DeadLine.Format(time.RFC3339))
	assert.Equal(t, json.Number("201"), got.PointsExpire[0].ExpiredPoint)
}

func TestPointsUsageRecords_query(t *testing.T) {
	srv := wixtartest.NewServer(t, wixtartest.Options{})
	seed(t, srv)
	c := newClient(t, srv, nil)

	q := window
	q.Start = q.Start.UTC() // any zone in, Taipei out
	q.StoreID = "S01"
	q.TimeSort = wixtar.TimeSortAsc
	got, err := c.PointsUsageRecords(t.Context(), q)
	require.NoError(t, err)
	require.Len(t, got.Logs, 2)
	assert.True(t, got.Logs[0].DateTime.Before(got.Logs[1].DateTime), "ASC")

	q.TimeSort = wixtar.TimeSortDesc
	got, err = c.PointsUsageRecords(t.Context(), q)
	require.NoError(t, err)
	require.Len(t, got.Logs, 2)
	assert.True(t, got.Logs[0].DateTime.After(got.Logs[1].DateTime), "DESC")

	calls := srv.Calls(wixtar.PathPointsUsageRecords)
	require.NotEmpty(t, calls)
	raw := calls[0].RawQuery
	assert.Contains(t, raw, "start_date=2020-06-04%2012%3A12%3A12")
	assert.Contains(t, raw, "end_date=2020-09-04%2023%3A12%3A12")
	assert.Contains(t, raw, "store_id=S01")
	assert.Contains(t, raw, "time_sort=ASC")
	assert.NotContains(t, raw, " ")
	assert.NotContains(t, raw, "+")
	assert.Regexp(t, `^Bearer \S+$`, calls[0].Authorization)
}

func TestPointsUsageRecords_tokenIsCached(t *testing.T) {
	srv := wixtartest.NewServer(t, wixtartest.Options{})
	c := newClient(t, srv, nil)
	for range 3 {
		_, err := c.PointsUsageRecords(t.Context(), window)
		require.NoError(t, err)
	}
	assert.Equal(t, 1, srv.TokensIssued())
}

func TestPointsUsageRecords_tokenRefreshedBeforeExpiry(t *testing.T) {
	clk := newClock()
	srv := wixtartest.NewServer(t, wixtartest.Options{TokenTTL: 100 * time.Second, Now: clk.Now})
	c := newClient(t, srv, clk.Now)

	_, err := c.PointsUsageRecords(t.Context(), window)
	require.NoError(t, err)
	clk.Advance(85 * time.Second) // margin is 10% of 100 s
	_, err = c.PointsUsageRecords(t.Context(), window)
	require.NoError(t, err)
	assert.Equal(t, 1, srv.TokensIssued(), "still fresh")

	clk.Advance(6 * time.Second) // 91 s: within the margin
	_, err = c.PointsUsageRecords(t.Context(), window)
	require.NoError(t, err)
	assert.Equal(t, 2, srv.TokensIssued(), "refreshed ahead of expiry")
	for _, call := range srv.Calls(wixtar.PathPointsUsageRecords) {
		assert.Equal(t, 200, call.Status, "no request was rejected")
	}
}

func TestPointsUsageRecords_longTokenUsesSixtySecondMargin(t *testing.T) {
	clk := newClock()
	srv := wixtartest.NewServer(t, wixtartest.Options{Now: clk.Now}) // 30 days
	c := newClient(t, srv, clk.Now)
	_, err := c.PointsUsageRecords(t.Context(), window)
	require.NoError(t, err)
	clk.Advance(wixtartest.DefaultTokenTTL - 61*time.Second)
	_, err = c.PointsUsageRecords(t.Context(), window)
	require.NoError(t, err)
	assert.Equal(t, 1, srv.TokensIssued())
	clk.Advance(2 * time.Second)
	_, err = c.PointsUsageRecords(t.Context(), window)
	require.NoError(t, err)
	assert.Equal(t, 2, srv.TokensIssued())
}

func TestPointsUsageRecords_revokedTokenRefreshedOnce(t *testing.T) {
	srv := wixtartest.NewServer(t, wixtartest.Options{})
	c := newClient(t, srv, nil)
	_, err := c.PointsUsageRecords(t.Context(), window)
	require.NoError(t, err)

	srv.RevokeTokens()
	_, err = c.PointsUsageRecords(t.Context(), window)
	require.NoError(t, err)
	assert.Equal(t, 2, srv.TokensIssued())

	var statuses []int
	for _, call := range srv.Calls(wixtar.PathPointsUsageRecords) {
		statuses = append(statuses, call.Status)
	}
	assert.Equal(t, []int{200, 401, 200}, statuses)
}

func TestPointsUsageRecords_concurrentCallersShareOneToken(t *testing.T) {
	srv := wixtartest.NewServer(t, wixtartest.Options{})
	c := newClient(t, srv, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			_, err := c.PointsUsageRecords(t.Context(), window)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Equal(t, 1, srv.TokensIssued())

	// All of them hit a revoked token: still one refresh.
	srv.RevokeTokens()
	errs = make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			_, err := c.PointsUsageRecords(t.Context(), window)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Equal(t, 2, srv.TokensIssued())
}

func TestPointsUsageRecords_errors(t *testing.T) {
	t.Run("wrong credentials are permanent", func(t *testing.T) {
		srv := wixtartest.NewServer(t, wixtartest.Options{ClientSecret: "other"})
		c := newClient(t, srv, nil)
		_, err := c.PointsUsageRecords(t.Context(), window)
		var apiErr *wixtar.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.ErrorIs(t, err, wixtar.ErrInvalidClient)
		assert.ErrorIs(t, err, wixtar.ErrUnauthorized)
		assert.False(t, apiErr.Temporary())
		vendor, status, code, _ := apiErr.VendorDetail()
		assert.Equal(t, "wixtar", vendor)
		assert.Equal(t, 401, status)
		assert.Equal(t, "invalid_client", code)
	})
	t.Run("503 is temporary with Retry-After", func(t *testing.T) {
		srv := wixtartest.NewServer(t, wixtartest.Options{})
		c := newClient(t, srv, nil)
		srv.FailNext(1, 503)
		_, err := c.PointsUsageRecords(t.Context(), window)
		var apiErr *wixtar.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.True(t, apiErr.Temporary())
		assert.Equal(t, time.Second, apiErr.RetryAfter())
		assert.ErrorIs(t, err, &wixtar.APIError{HTTPStatus: 503})
	})
	t.Run("invalid query is not sent", func(t *testing.T) {
		srv := wixtartest.NewServer(t, wixtartest.Options{})
		c := newClient(t, srv, nil)
		_, err := c.PointsUsageRecords(t.Context(), wixtar.UsageQuery{Start: window.End, End: window.Start})
		assert.ErrorIs(t, err, wixtar.ErrInvalidQuery)
		assert.Empty(t, srv.Calls(""))
	})
	t.Run("timeout", func(t *testing.T) {
		srv := wixtartest.NewServer(t, wixtartest.Options{})
		srv.Delay(time.Minute)
		c, err := wixtar.New(wixtar.Config{
			BaseURL: srv.URL, TokenURL: srv.TokenURL,
			ClientID: wixtartest.DefaultClientID, ClientSecret: wixtartest.DefaultClientSecret,
			Timeout: 50 * time.Millisecond,
		})
		require.NoError(t, err)
		_, err = c.PointsUsageRecords(t.Context(), window)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		var te *wixtar.TransportError
		require.ErrorAs(t, err, &te)
		assert.True(t, te.Temporary())
	})
	t.Run("caller cancels", func(t *testing.T) {
		srv := wixtartest.NewServer(t, wixtartest.Options{})
		srv.Delay(time.Minute)
		c := newClient(t, srv, nil)
		ctx, cancel := context.WithCancel(t.Context())
		stop := time.AfterFunc(20*time.Millisecond, cancel)
		defer stop.Stop()
		_, err := c.PointsUsageRecords(ctx, window)
		assert.ErrorIs(t, err, context.Canceled)
	})
	t.Run("connection refused", func(t *testing.T) {
		srv, err := wixtartest.Start(wixtartest.Options{})
		require.NoError(t, err)
		c := newClient(t, srv, nil)
		srv.Close()
		_, err = c.PointsUsageRecords(t.Context(), window)
		var te *wixtar.TransportError
		require.ErrorAs(t, err, &te)
		assert.True(t, te.Temporary())
		assert.ErrorIs(t, err, &wixtar.TransportError{})
	})
}

func TestDecodeUsage_docExample(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "points_usage_records.response.json"))
	require.NoError(t, err)
	got, err := wixtar.DecodeUsage(b)
	require.NoError(t, err)
	require.Len(t, got.Logs, 2)
	for _, r := range got.Logs {
		assert.Equal(t, "左營文天", r.StoreName)
		assert.Equal(t, json.Number("200"), r.OrderAmount)
		assert.True(t, r.PointType.Known())
		_, off := r.DateTime.Zone()
		assert.Equal(t, 8*3600, off)
	}
	assert.Equal(t, wixtar.PointExchangeGoods, got.Logs[0].PointType)
	assert.Equal(t, wixtar.PointExchangeGoodsSellBack, got.Logs[1].PointType)
	assert.Equal(t, "MCSF0220090400024|2020-09-01T10:16:00|exchange_goods_sell_back", got.Logs[1].Key())
	require.Len(t, got.PointsExpire, 1)
	assert.Equal(t, json.Number("201"), got.PointsExpire[0].ExpiredPoint)

	// The doc's request example, encoded.
	assert.Equal(t, "end_date=2020-09-04%2023%3A12%3A12&start_date=2020-06-04%2012%3A12%3A12", window.Encode())
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr bool
	}{
		{name: "zone-less ISO", in: "2020-09-01T10:17:59", want: "2020-09-01T10:17:59+08:00"},
		{name: "zone-less with space", in: "2020-09-01 10:17:59", want: "2020-09-01T10:17:59+08:00"},
		{name: "fraction", in: "2020-09-01T10:17:59.5", want: "2020-09-01T10:17:59.5+08:00"},
		{name: "date only", in: "2022-05-02", want: "2022-05-02T00:00:00+08:00"},
		{name: "offset kept", in: "2020-09-01T02:17:59Z", want: "2020-09-01T02:17:59Z"},
		{name: "garbage", in: "yesterday", wantErr: true},
		{name: "empty", in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wixtar.ParseTime(tt.in)
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.Format(time.RFC3339Nano))
		})
	}
}

func TestRecord_lenientDecoding(t *testing.T) {
	var r wixtar.Record
	require.NoError(t, json.Unmarshal([]byte(`{
		"order_id": 123, "date_time": "2020-09-01T10:17:59", "point_type": "NEW_CONSUMPTION",
		"bonuspt_point": "7", "order_amount": 99.95, "gift_give": "true",
		"store_name": "", "shop_name": "中山"}`), &r))
	assert.Equal(t, "123", r.OrderID)
	assert.Equal(t, json.Number("7"), r.BonusPoints)
	assert.Equal(t, json.Number("99.95"), r.OrderAmount)
	assert.True(t, r.GiftGive)
	assert.Equal(t, "中山", r.StoreName, "empty store_name falls back to shop_name")
	assert.Equal(t, wixtar.PointNewConsumption, r.PointType.Normalized())
	assert.Equal(t, wixtar.PointType("NEW_CONSUMPTION"), r.PointType)

	assert.Error(t, json.Unmarshal([]byte(`{"date_time":"2020-09-01T10:17:59","order_amount":"12abc"}`), &r))
}

func TestConfig_Validate(t *testing.T) {
	ok := wixtar.Config{BaseURL: "https://omni.lafresh.com.tw", TokenURL: "https://login.lafresh.com.tw/oauth/v1/token", ClientID: "id", ClientSecret: "s"}
	tests := []struct {
		name    string
		mutate  func(*wixtar.Config)
		wantErr bool
	}{
		{name: "complete", mutate: func(*wixtar.Config) {}},
		{name: "no base URL", mutate: func(c *wixtar.Config) { c.BaseURL = "" }, wantErr: true},
		{name: "relative token URL", mutate: func(c *wixtar.Config) { c.TokenURL = "/oauth" }, wantErr: true},
		{name: "no client id", mutate: func(c *wixtar.Config) { c.ClientID = "" }, wantErr: true},
		{name: "no secret", mutate: func(c *wixtar.Config) { c.ClientSecret = "" }, wantErr: true},
		{name: "negative timeout", mutate: func(c *wixtar.Config) { c.Timeout = -time.Second }, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.mutate(&cfg)
			_, err := wixtar.New(cfg)
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			assert.NoError(t, err)
		})
	}
}

func FuzzDecodeUsage(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "points_usage_records.response.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"logs":[{"date_time":"2020-09-01 10:17:59","order_amount":12.5,"shop_name":"x"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		u, err := wixtar.DecodeUsage(body)
		if err != nil {
			return
		}
		for _, r := range u.Logs {
			if !json.Valid(r.Raw) {
				t.Fatalf("Raw is not JSON: %q", r.Raw)
			}
			_ = r.Key()
		}
	})
}
