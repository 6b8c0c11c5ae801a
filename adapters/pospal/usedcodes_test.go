package pospal_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/pospal"
	"github.com/loyaltybus/loyaltybus/adapters/pospal/pospaltest"
)

// usedWindow is a two-hour window of use times.
var usedWindow = pospal.UsedCodeQuery{StartTime: shanghai(2026, 11, 1, 10, 0, 0), ExcludeEndTime: shanghai(2026, 11, 1, 12, 0, 0)}

// walkUsed collects all pages of a used-codes query.
func walkUsed(t testing.TB, c *pospal.Client, q pospal.UsedCodeQuery) ([]pospal.UsedCodePage, error) {
	t.Helper()
	var pages []pospal.UsedCodePage
	err := c.QueryUsedPromotionCodes(t.Context(), q, func(p pospal.UsedCodePage) error {
		pages = append(pages, p)
		return nil
	})
	return pages, err
}

// usedCodes returns the codes of the pages in order.
func usedCodes(pages []pospal.UsedCodePage) []string {
	var out []string
	for _, p := range pages {
		for _, u := range p.Codes {
			out = append(out, u.Code)
		}
	}
	return out
}

// useAt adds code to the rule and uses it at the given time, through c.
func useAt(t testing.TB, c *pospal.Client, code string, at time.Time) {
	t.Helper()
	require.NoError(t, c.AddCouponCode(t.Context(), pospal.AddCouponCodeRequest{PromotionCouponUID: ruleUID, Code: code}))
	require.NoError(t, c.UseCouponCode(t.Context(), pospal.UseCouponCodeRequest{Code: code, CustomerUID: memberUID, UseDateTime: at}))
}

func TestQueryUsedPromotionCodes(t *testing.T) {
	t.Parallel()
	srv := pospaltest.NewServer(t, pospaltest.Options{Apps: map[string]string{"other-store": "other-key"}})
	srv.AddPromotion(ruleUID, "新客券")
	own := newClient(t, srv, nil)
	other := newClient(t, srv, func(c *pospal.Config) { c.AppID, c.AppKey = "other-store", "other-key" })
	useAt(t, own, "START", shanghai(2026, 11, 1, 10, 0, 0))    // the first second: in
	useAt(t, own, "LATE", shanghai(2026, 11, 1, 11, 59, 59))   // the last second: in
	useAt(t, own, "END", shanghai(2026, 11, 1, 12, 0, 0))      // excludeEndTime: out
	useAt(t, own, "EARLY", shanghai(2026, 11, 1, 9, 59, 59))   // before startTime: out
	useAt(t, other, "OTHER", shanghai(2026, 11, 1, 10, 30, 0)) // another store's: in
	require.NoError(t, own.AddCouponCode(t.Context(), pospal.AddCouponCodeRequest{PromotionCouponUID: ruleUID, Code: "UNUSED"}))
	c := newClient(t, srv, nil)

	pages, err := walkUsed(t, c, usedWindow)

	require.NoError(t, err)
	assert.Equal(t, []string{"OTHER", "LATE", "START"}, usedCodes(pages), "most recent use first")
	require.Len(t, pages, 2, "no pageSize in the answer: the walk ends with an empty page")
	assert.Equal(t, []bool{false, true}, []bool{pages[0].Last, pages[1].Last})
	assert.Zero(t, pages[0].PageSize)
	assert.Empty(t, pages[1].Codes)
	byCode := map[string]pospal.UsedCode{}
	for _, u := range pages[0].Codes {
		byCode[u.Code] = u
	}
	start := byCode["START"]
	assert.Equal(t, ruleUID, start.PromotionCouponUID, "the uid above 2^53 is exact")
	assert.Equal(t, "新客券", start.PromotionCouponName)
	assert.True(t, shanghai(2026, 11, 1, 10, 0, 0).Equal(start.UsedDateTime.Time), "%v", start.UsedDateTime)
	assert.Equal(t, pospaltest.DefaultAppID, start.UsedByUserAppID)
	assert.Equal(t, pospaltest.DefaultAppID, start.CreatedByUserAppID)
	assert.False(t, start.CreatedDateTime.IsZero())
	assert.Empty(t, start.UsedByTicketUID)
	assert.Empty(t, start.UsedByProductOrderID, "null")
	assert.NotEmpty(t, start.Raw)
	assert.Equal(t, "other-store", byCode["OTHER"].UsedByUserAppID, "any appId lists every store's codes")

	calls := srv.Calls("queryUsedPromotionCode")
	require.Len(t, calls, 2)
	assert.Equal(t, "/pospal-api2/openapi/v1/promotionOpenApi/queryUsedPromotionCode", calls[0].Path)
	assert.JSONEq(t, `{"appId":"pospal-sim-app","startTime":"2026-11-01 10:00:00","excludeEndTime":"2026-11-01 12:00:00"}`, string(calls[0].Body))
	assert.Equal(t, string(pages[0].Next), string(postBackOf(t, calls[1])), "the second page echoes the parameter")
	used, _, _ := c.Quota()
	assert.Equal(t, 2, used, "each page is a call of the daily quota")
}

func TestUsedCodesWalkAllPages(t *testing.T) {
	t.Parallel()
	srv := pospaltest.NewServer(t, pospaltest.Options{PageSize: 2})
	srv.AddPromotion(ruleUID, "新客券")
	own := newClient(t, srv, nil)
	var want []string
	for i := range 5 {
		code := fmt.Sprintf("C%d", i)
		useAt(t, own, code, usedWindow.StartTime.Add(time.Duration(i)*time.Minute))
		want = append([]string{code}, want...)
	}
	c := newClient(t, srv, nil)

	pages, err := walkUsed(t, c, usedWindow)

	require.NoError(t, err)
	assert.Equal(t, want, usedCodes(pages))
	var sizes []int
	for _, p := range pages {
		sizes = append(sizes, len(p.Codes))
	}
	assert.Equal(t, []int{2, 2, 1, 0}, sizes)
	assert.Equal(t, []int{1, 2, 3, 4}, []int{pages[0].Number, pages[1].Number, pages[2].Number, pages[3].Number})
	calls := srv.Calls("queryUsedPromotionCode")
	require.Len(t, calls, 4)
	assert.Nil(t, postBackOf(t, calls[0]), "the first page is asked without postBackParameter")
	for i := 1; i < 4; i++ {
		assert.Equal(t, string(pages[i-1].Next), string(postBackOf(t, calls[i])), "page %d echoes the parameter byte for byte", i+1)
		assert.Equal(t, string(pages[i-1].Next), string(pages[i].Request))
	}
	used, _, _ := c.Quota()
	assert.Equal(t, 4, used)
}

func TestUsedCodesStopAndResume(t *testing.T) {
	t.Parallel()
	srv := pospaltest.NewServer(t, pospaltest.Options{PageSize: 2})
	srv.AddPromotion(ruleUID, "新客券")
	own := newClient(t, srv, nil)
	for i := range 3 {
		useAt(t, own, fmt.Sprintf("C%d", i), usedWindow.StartTime.Add(time.Duration(i)*time.Minute))
	}
	c := newClient(t, srv, nil)
	errFound := errors.New("found what we looked for")

	var first []pospal.UsedCodePage
	err := c.QueryUsedPromotionCodes(t.Context(), usedWindow, func(p pospal.UsedCodePage) error {
		first = append(first, p)
		return errFound
	})
	require.ErrorIs(t, err, errFound, "the callback's error comes back unchanged")
	require.Len(t, srv.Calls("queryUsedPromotionCode"), 1, "no page is fetched after the callback stops the walk")

	q := usedWindow
	q.Resume = first[0].Next
	rest, err := walkUsed(t, c, q)

	require.NoError(t, err)
	assert.Equal(t, []string{"C2", "C1", "C0"}, usedCodes(append(first, rest...)), "no code lost or repeated")
	assert.Equal(t, string(first[0].Next), string(rest[0].Request))
}

func TestUsedCodesRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		query   func(q *pospal.UsedCodeQuery)
		wantErr error
	}{
		{
			name: "window of 5 days and a second is refused before sending",
			query: func(q *pospal.UsedCodeQuery) {
				q.ExcludeEndTime = q.StartTime.Add(pospal.MaxUsedCodeWindow + time.Second)
			},
			wantErr: &pospal.ValidationError{},
		},
		{
			name:    "empty window is refused before sending",
			query:   func(q *pospal.UsedCodeQuery) { q.ExcludeEndTime = q.StartTime.Add(999 * time.Millisecond) },
			wantErr: &pospal.ValidationError{},
		},
		{
			name:    "missing startTime is refused before sending",
			query:   func(q *pospal.UsedCodeQuery) { q.StartTime = time.Time{} },
			wantErr: &pospal.ValidationError{},
		},
		{
			name:    "resume value that is not JSON is refused before sending",
			query:   func(q *pospal.UsedCodeQuery) { q.Resume = json.RawMessage(`{"parameterType":`) },
			wantErr: &pospal.ValidationError{},
		},
		{
			name: "tampered parameterValue is 9003",
			query: func(q *pospal.UsedCodeQuery) {
				q.Resume = json.RawMessage(`{"parameterType":"LAST_RESULT_MIN_ID","parameterValue":"123"}`)
			},
			wantErr: pospal.ErrBadRequest,
		},
		{
			name: "changed parameterType is 9003",
			query: func(q *pospal.UsedCodeQuery) {
				q.Resume = json.RawMessage(`{"parameterType":"LAST_RESULT_MAX_ID","parameterValue":"9007199254740993"}`)
			},
			wantErr: pospal.ErrBadRequest,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := pospaltest.NewServer(t, pospaltest.Options{})
			srv.AddPromotion(ruleUID, "新客券")
			useAt(t, newClient(t, srv, nil), "C1", usedWindow.StartTime)
			c := newClient(t, srv, nil)
			q := usedWindow
			tt.query(&q)

			pages, err := walkUsed(t, c, q)

			assert.Empty(t, pages)
			ce := requireClassified(t, err)
			assert.False(t, ce.Temporary())
			if ve, ok := tt.wantErr.(*pospal.ValidationError); ok {
				assert.ErrorAs(t, err, &ve)
				assert.Empty(t, srv.Calls("queryUsedPromotionCode"))
				used, _, _ := c.Quota()
				assert.Zero(t, used, "no quota spent")
				return
			}
			assert.ErrorIs(t, err, tt.wantErr)
			_, _, code, msg := ce.VendorDetail()
			assert.Equal(t, "9003", code)
			assert.Equal(t, "请求参数错误", msg)
		})
	}
}

func TestUsedCodesFiveDayWindowIsAccepted(t *testing.T) {
	t.Parallel()
	srv := pospaltest.NewServer(t, pospaltest.Options{})
	srv.AddPromotion(ruleUID, "新客券")
	start := shanghai(2026, 11, 1, 0, 0, 0)
	useAt(t, newClient(t, srv, nil), "C1", start.Add(pospal.MaxUsedCodeWindow-time.Second))
	c := newClient(t, srv, nil)

	pages, err := walkUsed(t, c, pospal.UsedCodeQuery{StartTime: start, ExcludeEndTime: start.Add(pospal.MaxUsedCodeWindow)})

	require.NoError(t, err)
	assert.Equal(t, []string{"C1"}, usedCodes(pages))
	assert.JSONEq(t, `{"appId":"pospal-sim-app","startTime":"2026-11-01 00:00:00","excludeEndTime":"2026-11-06 00:00:00"}`,
		string(srv.Calls("queryUsedPromotionCode")[0].Body))
}

func TestUsedCodesQuotaStopsTheWalk(t *testing.T) {
	t.Parallel()
	srv := pospaltest.NewServer(t, pospaltest.Options{PageSize: 1})
	srv.AddPromotion(ruleUID, "新客券")
	own := newClient(t, srv, nil)
	useAt(t, own, "C1", usedWindow.StartTime)
	useAt(t, own, "C2", usedWindow.StartTime)
	c := newClient(t, srv, func(c *pospal.Config) { c.DailyQuota = 1 })

	pages, err := walkUsed(t, c, usedWindow)

	assert.ErrorIs(t, err, pospal.ErrQuotaExceeded)
	assert.True(t, requireClassified(t, err).Temporary())
	assert.Len(t, pages, 1, "the page fetched before stays delivered")
	assert.Len(t, srv.Calls("queryUsedPromotionCode"), 1, "the second page was not asked")
}

// TestUsedCodeConfirmsLostUse is the reason for the query: a use whose answer
// was lost meets 3001 when repeated, and the used codes show it was applied,
// when and through which store.
func TestUsedCodeConfirmsLostUse(t *testing.T) {
	t.Parallel()
	srv := pospaltest.NewServer(t, pospaltest.Options{})
	srv.AddPromotion(ruleUID, "新客券")
	c := newClient(t, srv, nil)
	require.NoError(t, c.AddCouponCode(t.Context(), pospal.AddCouponCodeRequest{PromotionCouponUID: ruleUID, Code: "LOST1"}))
	srv.CommitThenDrop(1, "use")
	req := pospal.UseCouponCodeRequest{Code: "LOST1", CustomerUID: memberUID}
	before := time.Now().Truncate(time.Second)

	first := c.UseCouponCode(t.Context(), req)
	require.True(t, requireClassified(t, first).Temporary(), "a lost answer is retried: %v", first)
	retry := c.UseCouponCode(t.Context(), req)
	require.ErrorIs(t, retry, pospal.ErrCouponInvalid, "the repeat meets 3001")

	pages, err := walkUsed(t, c, pospal.UsedCodeQuery{StartTime: before, ExcludeEndTime: time.Now().Add(time.Second)})

	require.NoError(t, err)
	require.Equal(t, []string{"LOST1"}, usedCodes(pages))
	u := pages[0].Codes[0]
	assert.Equal(t, c.AppID(), u.UsedByUserAppID)
	assert.False(t, u.UsedDateTime.Before(before))
	assert.Equal(t, 1, srv.CodesUsed(), "applied once")
}

func TestNumberOrString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    pospal.NumberOrString
		wantErr bool
	}{
		{in: `832101480292933201`, want: "832101480292933201"},
		{in: `"832101480292933201"`, want: "832101480292933201"},
		{in: `""`, want: ""},
		{in: `null`, want: ""},
		{in: `12.5`, want: "12.5"},
		{in: `true`, wantErr: true},
		{in: `{}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			var got pospal.NumberOrString
			err := json.Unmarshal([]byte(tt.in), &got)
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestUsedCodesGatewayFailureIsTemporary: a 5xx before the vendor is retried.
func TestUsedCodesGatewayFailureIsTemporary(t *testing.T) {
	t.Parallel()
	srv := pospaltest.NewServer(t, pospaltest.Options{})
	srv.FailNext(1, http.StatusBadGateway, "queryUsedPromotionCode")
	c := newClient(t, srv, nil)

	_, err := walkUsed(t, c, usedWindow)

	assert.True(t, requireClassified(t, err).Temporary())
	pages, err := walkUsed(t, c, usedWindow)
	require.NoError(t, err)
	assert.Len(t, pages, 1)
}
