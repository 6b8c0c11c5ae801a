package pospal_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/pospal"
)

// serveFixture returns a client whose vendor answers every call with the
// file's bytes, unsigned.
func serveFixture(t testing.TB, file string) *pospal.Client {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", file))
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	c, err := pospal.New(pospal.Config{BaseURL: srv.URL, AppID: "abcdefghijklmn", AppKey: "key"})
	require.NoError(t, err)
	return c
}

func TestFixturesAreValidJSON(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.True(t, json.Valid(b), f)
	}
}

func TestDoc000AnswerDecodes(t *testing.T) {
	t.Parallel()
	c := serveFixture(t, "doc000_answer.json")

	var pages []pospal.TicketPage
	err := c.QueryCustomerHistoryTickets(t.Context(), pospal.TicketQuery{
		CustomerUID: 886263699231969848,
		StartTime:   shanghai(2015, 11, 12, 1, 59, 59),
		EndTime:     shanghai(2015, 11, 12, 23, 59, 59),
	}, func(p pospal.TicketPage) error { pages = append(pages, p); return nil })

	require.NoError(t, err)
	require.Len(t, pages, 1, "1 result < pageSize 100: last page")
	p := pages[0]
	assert.Equal(t, 100, p.PageSize)
	assert.True(t, p.Last)
	assert.JSONEq(t, `{"parameterType":"LAST_RESULT_MIN_ID","parameterValue":"3764404"}`, string(p.Next))
	require.Len(t, p.Tickets, 1)
	tk := p.Tickets[0]
	assert.Equal(t, int64(832101480292933201), tk.CashierUID)
	assert.Equal(t, "201511121602084680006", tk.SN)
	assert.True(t, shanghai(2015, 11, 12, 16, 2, 12).Equal(tk.DateTime.Time))
	assert.Equal(t, json.Number("72"), tk.TotalAmount)
	assert.Equal(t, json.Number("100"), tk.Discount)
	assert.Equal(t, []pospal.Payment{{Code: "payCode_1", Amount: "9.42"}}, tk.Payments)
	require.Len(t, tk.Items, 1)
	assert.Equal(t, int64(379659791803681560), tk.Items[0].ProductUID)
	assert.Equal(t, []pospal.ItemAttribute{{AttributeName: "Extra", AttributeValue: "one spoon"}}, tk.Items[0].Attributes)
	assert.Equal(t, "87EB2C555BBF382E7F6C7B275B0C502A", tk.TicketStoreAppIDOrAccount)
	assert.NotEmpty(t, tk.Raw)
}

func TestDoc000RequestHasTheClientsKeys(t *testing.T) {
	t.Parallel()
	var doc map[string]json.RawMessage
	b, err := os.ReadFile("testdata/doc000_request.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &doc))

	sent := make(chan []byte, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := readBody(r)
		sent <- b
		w.Write([]byte(`{"status":"success","messages":[],"data":{"result":[],"pageSize":100}}`))
	}))
	t.Cleanup(srv.Close)
	c, err := pospal.New(pospal.Config{BaseURL: srv.URL, AppID: "abcdefghijklmn", AppKey: "key"})
	require.NoError(t, err)
	require.NoError(t, c.QueryCustomerHistoryTickets(t.Context(), pospal.TicketQuery{
		CustomerUID:          886263699231969848,
		StartTime:            shanghai(2015, 11, 12, 1, 59, 59),
		EndTime:              shanghai(2015, 11, 12, 23, 59, 59),
		QueryAllStoreConsume: true,
		Resume:               doc["postBackParameter"],
	}, func(pospal.TicketPage) error { return nil }))

	var got map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(<-sent, &got))
	wantKeys, gotKeys := keys(doc), keys(got)
	assert.Equal(t, wantKeys, gotKeys)
	for k, v := range doc {
		assert.JSONEq(t, string(v), string(got[k]), k)
	}
}

func TestSignatureErrorFixture(t *testing.T) {
	t.Parallel()
	c := serveFixture(t, "error_1032.json")

	err := c.UseCouponCode(t.Context(), pospal.UseCouponCodeRequest{Code: "X"})

	var apiErr *pospal.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.ErrorIs(t, err, pospal.ErrSignature)
	assert.False(t, apiErr.Temporary())
	assert.Equal(t, "pospal promotionOpenApi/promotioncouponcode/use: error 1032: 消息体与消息签名不匹配", err.Error())
}

func TestAddCouponCodeFixture(t *testing.T) {
	t.Parallel()
	c := serveFixture(t, "add_coupon_code_answer.json")

	err := c.AddCouponCode(t.Context(), pospal.AddCouponCodeRequest{PromotionCouponUID: 1, Code: "X"})

	assert.NoError(t, err)
}

func TestUsedCodesFixture(t *testing.T) {
	t.Parallel()
	c := serveFixture(t, "used_promotion_code_answer.json")

	pages, err := walkUsed(t, c, usedWindow)

	require.NoError(t, err)
	require.Len(t, pages, 1, "1 code < pageSize 100: last page")
	assert.Equal(t, 100, pages[0].PageSize)
	require.Len(t, pages[0].Codes, 1)
	u := pages[0].Codes[0]
	assert.Equal(t, "A1B2C3D4", u.Code)
	assert.Equal(t, int64(832101480292930001), u.PromotionCouponUID)
	assert.Equal(t, pospal.NumberOrString("832101480292933201"), u.UsedByTicketUID, "a bare number keeps its digits")
	assert.Empty(t, u.UsedByProductOrderID)
	assert.Equal(t, pospal.NumberOrString("6"), u.PromotionCouponAppID)
	assert.Equal(t, "abcdefghijklmn", u.UsedByUserAppID)
	assert.True(t, shanghai(2026, 11, 1, 10, 30, 0).Equal(u.UsedDateTime.Time))
	assert.True(t, u.ExpiredDate.IsZero())
}

// keys returns m's keys, sorted.
func keys(m map[string]json.RawMessage) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// readBody reads a request body.
func readBody(r *http.Request) ([]byte, error) {
	defer r.Body.Close()
	return io.ReadAll(r.Body)
}
