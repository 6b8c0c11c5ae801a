package smartx_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/smartx"
	"github.com/loyaltybus/loyaltybus/adapters/smartx/smartxtest"
)

const testPIN = "1234"

// docMalformedUUID is the uuid of the vendor's 488 example; it is not a
// valid UUID and must still be sent and answered with 488.
const docMalformedUUID = "12345-6789-4c56-818e-26686d5a7ec3"

func newClient(t testing.TB, url string, pin smartx.Secret) *smartx.Client {
	t.Helper()
	c, err := smartx.New(smartx.Config{Name: "till-1", BaseURL: url, PIN: pin, Timeout: 5 * time.Second})
	require.NoError(t, err)
	return c
}

func intp(n int) *int { return &n }

func postponed(uuid string) smartx.Cheque {
	return smartx.Cheque{
		Info:           smartx.ChequeInfo{UUID: uuid, Name: "Чек 1", ChequeType: smartx.ChequePostponed},
		Currency:       "BYN",
		ChequeDiscount: &smartx.Discount{IsPercent: true, Value: "5", Sum: "3.03"},
		SubTotal:       "60.5",
		Total:          "57.47",
		Items: []smartx.Item{
			{Price: "5", Quantity: "1", Sum: "5", Total: "5"},
			{
				Code:     &smartx.ItemCode{Type: 0, Value: "10"},
				Price:    "5",
				Quantity: "3",
				Discount: &smartx.Discount{IsPercent: true, Value: "10", Sum: "1.5"},
				Tax:      &smartx.Tax{Rate: "10", Value: "1.23"},
				Sum:      "15",
				Total:    "13.5",
			},
		},
	}
}

func order(uuid string) smartx.Cheque {
	return smartx.Cheque{
		Info:     smartx.ChequeInfo{UUID: uuid, Name: "Чек 2", ChequeType: smartx.ChequeOrder, Table: intp(2), Place: intp(3)},
		Currency: "BYN",
		SubTotal: "5",
		Total:    "4.75",
		Items:    []smartx.Item{{Name: "Чай", Price: "5", Quantity: "1", Sum: "5", Total: "5"}},
	}
}

func TestGetCheques_authenticatesThenFetches(t *testing.T) {
	srv := smartxtest.NewServer(t, smartxtest.Options{PIN: testPIN})
	require.NoError(t, srv.PutCheque(postponed("9aa03f0c-d77c-40ae-8f4d-236c432054a8")))
	require.NoError(t, srv.PutCheque(order("bb074ac8-3661-4c56-818e-26686d5a7ec3")))
	c := newClient(t, srv.URL, testPIN)

	got, err := c.GetCheques(t.Context(), nil)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, "9aa03f0c-d77c-40ae-8f4d-236c432054a8", got[0].Info.UUID)
	assert.Equal(t, smartx.ChequeOrder, got[1].Info.ChequeType)
	require.NotNil(t, got[1].Info.Table)
	assert.Equal(t, 2, *got[1].Info.Table)
	assert.Equal(t, 3, *got[1].Info.Place)

	calls := srv.Calls("")
	require.Len(t, calls, 2)
	auth, get := calls[0], calls[1]
	assert.Equal(t, smartx.IntentAuth, auth.Intent)
	assert.True(t, auth.RawKeys)
	assert.Equal(t, "INTENT_OPERATION_TYPE", auth.IntentKey)
	assert.JSONEq(t, `{"pin":"1234","rememberPin":true,"returnToken":true}`, string(auth.Body))
	assert.Equal(t, smartx.IntentGetCheques, get.Intent)
	assert.Equal(t, "INTENT_OPERATION_TYPE", get.IntentKey)
	assert.Equal(t, "Auth-token", get.AuthTokenKey)
	assert.NotEmpty(t, get.AuthToken)
	assert.JSONEq(t, `{"uuids":[]}`, string(get.Body))
	assert.Equal(t, 200, get.ResultCode)

	// The token is reused.
	_, err = c.GetCheques(t.Context(), []string{"bb074ac8-3661-4c56-818e-26686d5a7ec3"})
	require.NoError(t, err)
	assert.Len(t, srv.Calls(smartx.IntentAuth), 1)
}

func TestGetCheques_reauthenticatesOnceWhenTokenExpires(t *testing.T) {
	for _, mode := range []smartxtest.HTTPStatusMode{smartxtest.MirrorResultCode, smartxtest.Always200} {
		srv := smartxtest.NewServer(t, smartxtest.Options{PIN: testPIN, HTTPStatusMode: mode})
		require.NoError(t, srv.PutCheque(order("a")))
		c := newClient(t, srv.URL, testPIN)
		_, err := c.GetCheques(t.Context(), nil)
		require.NoError(t, err)

		srv.ExpireToken()
		got, err := c.GetCheques(t.Context(), nil)
		require.NoError(t, err)
		assert.Len(t, got, 1)

		assert.Len(t, srv.Calls(smartx.IntentAuth), 2, "mode %d", mode)
		gets := srv.Calls(smartx.IntentGetCheques)
		require.Len(t, gets, 3)
		assert.Equal(t, 405, gets[1].ResultCode)
		assert.Equal(t, 200, gets[2].ResultCode)
	}
}

func TestGetCheques_reauthenticatesOnHTTP401WithoutBody(t *testing.T) {
	srv := smartxtest.NewServer(t, smartxtest.Options{PIN: testPIN})
	c := newClient(t, srv.URL, testPIN)
	require.NoError(t, c.Authenticate(t.Context()))
	srv.FailNext(1, 401)
	_, err := c.GetCheques(t.Context(), nil)
	require.NoError(t, err)
	assert.Len(t, srv.Calls(smartx.IntentAuth), 2)
}

func TestGetCheques_authFailuresArePermanent(t *testing.T) {
	tests := []struct {
		name     string
		pin      smartx.Secret
		wantCode string
	}{
		{name: "wrong PIN", pin: "0000", wantCode: "401"},
		{name: "no PIN configured", pin: "", wantCode: "401"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smartxtest.NewServer(t, smartxtest.Options{PIN: testPIN})
			c := newClient(t, srv.URL, tt.pin)
			_, err := c.GetCheques(t.Context(), nil)
			var apiErr *smartx.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.wantCode, apiErr.Code)
			assert.ErrorIs(t, err, smartx.ErrAuthRequired)
			assert.False(t, apiErr.Temporary())
		})
	}
}

func TestGetCheques_unknownUUIDIsPermanent488(t *testing.T) {
	for _, mode := range []smartxtest.HTTPStatusMode{smartxtest.MirrorResultCode, smartxtest.Always200} {
		for _, uuid := range []string{docMalformedUUID, "00000000-0000-4000-8000-000000000000"} {
			srv := smartxtest.NewServer(t, smartxtest.Options{PIN: testPIN, HTTPStatusMode: mode})
			require.NoError(t, srv.PutCheque(order("bb074ac8-3661-4c56-818e-26686d5a7ec3")))
			c := newClient(t, srv.URL, testPIN)

			_, err := c.GetCheques(t.Context(), []string{"bb074ac8-3661-4c56-818e-26686d5a7ec3", uuid})
			require.Error(t, err)
			assert.ErrorIs(t, err, smartx.ErrChequesNotFound)
			var apiErr *smartx.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, "488", apiErr.Code)
			assert.Equal(t, 488, apiErr.ResultCode())
			assert.False(t, apiErr.Temporary())
			vendor, status, code, msg := apiErr.VendorDetail()
			assert.Equal(t, "smartx", vendor)
			wantStatus := 488
			if mode == smartxtest.Always200 {
				wantStatus = 200
			}
			assert.Equal(t, wantStatus, status)
			assert.Equal(t, "488", code)
			assert.Equal(t, "Один или несколько чеков не найдены", msg)

			gets := srv.Calls(smartx.IntentGetCheques)
			require.Len(t, gets, 1)
			assert.Contains(t, string(gets[0].Body), uuid, "uuid sent unchanged")
		}
	}
}

func TestGetCheques_decimalsStayExact(t *testing.T) {
	srv := smartxtest.NewServer(t, smartxtest.Options{})
	in := postponed("9aa03f0c-d77c-40ae-8f4d-236c432054a8")
	require.NoError(t, srv.PutCheque(in))
	c := newClient(t, srv.URL, "")

	got, err := c.GetCheques(t.Context(), []string{in.Info.UUID})
	require.NoError(t, err)
	require.Len(t, got, 1)
	ch := got[0]
	assert.Equal(t, smartx.Decimal("57.47"), ch.Total)
	assert.Equal(t, smartx.Decimal("60.5"), ch.SubTotal)
	assert.Equal(t, smartx.Decimal("3.03"), ch.ChequeDiscount.Sum)
	assert.Equal(t, smartx.Decimal("1.23"), ch.Items[1].Tax.Value)
	assert.Equal(t, json.Number("10"), ch.Items[1].Code.Value)
	assert.Contains(t, string(ch.Raw), `"total":"57.47"`)
	assert.Contains(t, string(ch.Raw), `"subTotal":"60.5"`)

	// Round trip through JSON keeps the text.
	b, err := json.Marshal(ch)
	require.NoError(t, err)
	var back smartx.Cheque
	require.NoError(t, json.Unmarshal(b, &back))
	back.Raw = ch.Raw
	assert.Equal(t, ch, back)
}

func TestGetCheques_servesDocExamples(t *testing.T) {
	srv := smartxtest.NewServer(t, smartxtest.Options{PIN: testPIN})
	var doc struct {
		Cheques []json.RawMessage `json:"cheques"`
	}
	require.NoError(t, json.Unmarshal(readFixture(t, "get_cheques_all.response.json"), &doc))
	for _, raw := range doc.Cheques {
		var info struct {
			Info struct{ UUID string } `json:"info"`
		}
		require.NoError(t, json.Unmarshal(raw, &info))
		require.NoError(t, srv.PutRawCheque(info.Info.UUID, raw))
	}
	c := newClient(t, srv.URL, testPIN)

	var req struct{ UUIDs []string }
	require.NoError(t, json.Unmarshal(readFixture(t, "get_cheques_one.request.json"), &req))
	got, err := c.GetCheques(t.Context(), req.UUIDs)
	require.NoError(t, err)
	want, err := smartx.DecodeCheques(readFixture(t, "get_cheques_one.response.json"))
	require.NoError(t, err)
	assert.Equal(t, want, got)

	require.NoError(t, json.Unmarshal(readFixture(t, "get_cheques_not_found.request.json"), &req))
	_, err = c.GetCheques(t.Context(), req.UUIDs)
	assert.ErrorIs(t, err, smartx.ErrChequesNotFound)
}

func TestGetCheques_resultCodeClassification(t *testing.T) {
	tests := []struct {
		name          string
		code          int
		wantTemporary bool
	}{
		{name: "general error", code: 399, wantTemporary: false},
		{name: "shift must be opened", code: 400, wantTemporary: true},
		{name: "negative total is not HTTP not found", code: 404, wantTemporary: false},
		{name: "certificate expired", code: 407, wantTemporary: false},
		{name: "till blocked", code: 409, wantTemporary: true},
		{name: "unfinished sale", code: 410, wantTemporary: false},
		{name: "shift over 24 h", code: 412, wantTemporary: true},
		{name: "bad body", code: 413, wantTemporary: false},
		{name: "undocumented 5xx", code: 503, wantTemporary: true},
	}
	srv := smartxtest.NewServer(t, smartxtest.Options{PIN: testPIN})
	c := newClient(t, srv.URL, testPIN)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResultCodeNext(1, tt.code, "injected")
			_, err := c.GetCheques(t.Context(), nil)
			var apiErr *smartx.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.code, apiErr.ResultCode())
			assert.Equal(t, tt.wantTemporary, apiErr.Temporary())
			assert.Equal(t, "injected", apiErr.Message)
		})
	}
}

func TestGetCheques_transportFailures(t *testing.T) {
	t.Run("HTTP 503 without BaseResponse", func(t *testing.T) {
		srv := smartxtest.NewServer(t, smartxtest.Options{})
		c := newClient(t, srv.URL, "")
		srv.FailNext(1, 503)
		_, err := c.GetCheques(t.Context(), nil)
		var te *smartx.TransportError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, 503, te.HTTPStatus)
		assert.True(t, te.Temporary())
		assert.ErrorIs(t, err, &smartx.TransportError{HTTPStatus: 503})
		assert.ErrorIs(t, err, &smartx.TransportError{})
	})
	t.Run("HTTP 404 without BaseResponse is permanent", func(t *testing.T) {
		srv := smartxtest.NewServer(t, smartxtest.Options{})
		c := newClient(t, srv.URL+"/wrong", "")
		_, err := c.GetCheques(t.Context(), nil)
		var te *smartx.TransportError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, 404, te.HTTPStatus)
		assert.False(t, te.Temporary())
	})
	t.Run("device off refuses connections", func(t *testing.T) {
		srv := smartxtest.NewServer(t, smartxtest.Options{})
		c := newClient(t, srv.URL, "")
		srv.DeviceOff()
		_, err := c.GetCheques(t.Context(), nil)
		var te *smartx.TransportError
		require.ErrorAs(t, err, &te)
		assert.True(t, te.Temporary())
		var opErr *net.OpError
		assert.ErrorAs(t, err, &opErr)
		assert.Empty(t, srv.Calls(""))

		require.NoError(t, srv.DeviceOn())
		_, err = c.GetCheques(t.Context(), nil)
		assert.NoError(t, err)
	})
	t.Run("hang up mid-request", func(t *testing.T) {
		srv := smartxtest.NewServer(t, smartxtest.Options{})
		c := newClient(t, srv.URL, "")
		srv.HangUp(true)
		_, err := c.GetCheques(t.Context(), nil)
		var te *smartx.TransportError
		require.ErrorAs(t, err, &te)
		assert.True(t, te.Temporary())
	})
	t.Run("per-call timeout", func(t *testing.T) {
		srv := smartxtest.NewServer(t, smartxtest.Options{})
		srv.Delay(time.Minute)
		c, err := smartx.New(smartx.Config{BaseURL: srv.URL, Timeout: 50 * time.Millisecond})
		require.NoError(t, err)
		_, err = c.GetCheques(t.Context(), nil)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		var te *smartx.TransportError
		require.ErrorAs(t, err, &te)
		assert.True(t, te.Temporary())
	})
	t.Run("caller cancels", func(t *testing.T) {
		srv := smartxtest.NewServer(t, smartxtest.Options{PIN: testPIN})
		srv.Delay(time.Minute)
		c := newClient(t, srv.URL, testPIN)
		ctx, cancel := context.WithCancel(t.Context())
		stop := time.AfterFunc(20*time.Millisecond, cancel)
		defer stop.Stop()
		_, err := c.GetCheques(ctx, nil)
		assert.ErrorIs(t, err, context.Canceled)
	})
}

func TestClient_concurrentCallsShareOneAuth(t *testing.T) {
	srv := smartxtest.NewServer(t, smartxtest.Options{PIN: testPIN})
	require.NoError(t, srv.PutCheque(order("a")))
	c := newClient(t, srv.URL, testPIN)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			_, err := c.GetCheques(t.Context(), nil)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Len(t, srv.Calls(smartx.IntentAuth), 1)
}

func TestDecodeCheques_docExamples(t *testing.T) {
	got, err := smartx.DecodeCheques(readFixture(t, "get_cheques_all.response.json"))
	require.NoError(t, err)
	require.Len(t, got, 2)

	first := got[0]
	assert.Equal(t, smartx.ChequePostponed, first.Info.ChequeType)
	assert.Nil(t, first.Info.Table)
	assert.Equal(t, smartx.Decimal("57.47"), first.Total)
	assert.Equal(t, smartx.Decimal("60.5"), first.SubTotal)
	require.Len(t, first.Items, 5)
	assert.Empty(t, first.Items[0].Name)
	assert.Nil(t, first.Items[0].Discount)
	assert.Equal(t, smartx.Decimal("1.5"), first.Items[2].Discount.Sum)
	assert.Equal(t, smartx.Decimal("1.23"), first.Items[3].Tax.Value)
	require.NotNil(t, first.Items[4].Code)
	assert.Equal(t, json.Number("10"), first.Items[4].Code.Value)
	assert.Empty(t, first.Payments)
	assert.True(t, json.Valid(first.Raw))

	second := got[1]
	assert.Equal(t, "Чай", second.Items[0].Name)
	assert.Equal(t, 2, *second.Info.Table)
	assert.Equal(t, smartx.Decimal("4.75"), second.Total)
}

func TestDecimal(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    smartx.Decimal
		wantErr bool
	}{
		{name: "string", in: `"57.47"`, want: "57.47"},
		{name: "scale kept", in: `"60.50"`, want: "60.50"},
		{name: "number kept literally", in: `60.5`, want: "60.5"},
		{name: "negative", in: `"-1.5"`, want: "-1.5"},
		{name: "empty", in: `""`, want: ""},
		{name: "null", in: `null`, want: ""},
		{name: "comma", in: `"1,5"`, wantErr: true},
		{name: "text", in: `"abc"`, wantErr: true},
		{name: "dangling point", in: `"1."`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got smartx.Decimal
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

func TestConfig_Validate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     smartx.Config
		wantErr bool
	}{
		{name: "minimal", cfg: smartx.Config{BaseURL: "http://192.168.1.2:37015"}},
		{name: "missing URL", cfg: smartx.Config{}, wantErr: true},
		{name: "relative URL", cfg: smartx.Config{BaseURL: "192.168.1.2:37015"}, wantErr: true},
		{name: "query", cfg: smartx.Config{BaseURL: "http://h/?x=1"}, wantErr: true},
		{name: "negative timeout", cfg: smartx.Config{BaseURL: "http://h", Timeout: -1}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			_, newErr := smartx.New(tt.cfg)
			if tt.wantErr {
				assert.Error(t, err)
				assert.Error(t, newErr)
				return
			}
			assert.NoError(t, err)
			assert.NoError(t, newErr)
		})
	}
}

func TestSecret_isRedacted(t *testing.T) {
	cfg := smartx.Config{BaseURL: "http://h", PIN: "4321"}
	b, err := json.Marshal(cfg)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "4321")
	assert.NotContains(t, cfg.PIN.String(), "4321")
}

func TestErrors_classifyWithoutAdapterTypes(t *testing.T) {
	type classified interface {
		Temporary() bool
		RetryAfter() time.Duration
		VendorDetail() (string, int, string, string)
	}
	var c classified
	assert.True(t, errors.As(error(&smartx.APIError{Code: "488"}), &c))
	assert.True(t, errors.As(error(&smartx.TransportError{}), &c))
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func FuzzDecodeCheques(f *testing.F) {
	for _, name := range []string{"get_cheques_all.response.json", "get_cheques_one.response.json", "get_cheques_not_found.response.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		cheques, err := smartx.DecodeCheques(body)
		if err != nil {
			return
		}
		for _, c := range cheques {
			if !json.Valid(c.Raw) {
				t.Fatalf("Raw is not JSON: %q", c.Raw)
			}
		}
	})
}
