package smartxtest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/smartx"
	"github.com/loyaltybus/loyaltybus/adapters/smartx/smartxtest"
)

type baseResponse struct {
	ResultCode    int               `json:"resultCode"`
	MessageDetail string            `json:"messageDetail"`
	Type          string            `json:"type"`
	Token         string            `json:"token"`
	Cheques       []json.RawMessage `json:"cheques"`
}

// post sends body to url+"/v1" with the given raw header map.
func post(t *testing.T, url string, header map[string]string, body string) (int, baseResponse) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/v1", bytes.NewBufferString(body))
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = []string{v}
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out baseResponse
	require.NoError(t, json.Unmarshal(b, &out), string(b))
	return resp.StatusCode, out
}

func intp(n int) *int { return &n }

func TestSimulator_intentHeader(t *testing.T) {
	tests := []struct {
		name     string
		opts     smartxtest.Options
		header   map[string]string
		wantCode int
		wantKey  string
	}{
		{name: "upper-case key", header: map[string]string{"INTENT_OPERATION_TYPE": "GET_CHEQUES"}, wantCode: 200, wantKey: "INTENT_OPERATION_TYPE"},
		{name: "value is case-insensitive", header: map[string]string{"INTENT_OPERATION_TYPE": "get_cheques"}, wantCode: 200, wantKey: "INTENT_OPERATION_TYPE"},
		{name: "canonicalised key counts as missing", header: map[string]string{"Intent_operation_type": "GET_CHEQUES"}, wantCode: 413, wantKey: "Intent_operation_type"},
		{name: "canonicalised key accepted when lenient", opts: smartxtest.Options{LenientHeaderCase: true}, header: map[string]string{"Intent_operation_type": "GET_CHEQUES"}, wantCode: 200, wantKey: "Intent_operation_type"},
		{name: "missing", header: map[string]string{}, wantCode: 413},
		{name: "unknown", header: map[string]string{"INTENT_OPERATION_TYPE": "FLY"}, wantCode: 399, wantKey: "INTENT_OPERATION_TYPE"},
		{name: "unknown, configured code", opts: smartxtest.Options{UnknownIntentCode: 413}, header: map[string]string{"INTENT_OPERATION_TYPE": "FLY"}, wantCode: 413, wantKey: "INTENT_OPERATION_TYPE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smartxtest.NewServer(t, tt.opts)
			status, got := post(t, srv.URL, tt.header, `{"uuids":[]}`)
			assert.Equal(t, tt.wantCode, got.ResultCode)
			assert.Equal(t, tt.wantCode, status)
			calls := srv.Calls("")
			require.Len(t, calls, 1)
			assert.True(t, calls[0].RawKeys)
			assert.Equal(t, tt.wantKey, calls[0].IntentKey)
		})
	}
}

func TestSimulator_mountedElsewhereSeesCanonicalKeys(t *testing.T) {
	sim := smartxtest.NewSimulator(smartxtest.Options{})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	_, got := post(t, srv.URL, map[string]string{"INTENT_OPERATION_TYPE": "GET_CHEQUES"}, "")
	assert.Equal(t, 200, got.ResultCode)
	calls := sim.Calls(smartx.IntentGetCheques)
	require.Len(t, calls, 1)
	assert.False(t, calls[0].RawKeys)
	assert.Equal(t, "Intent_operation_type", calls[0].IntentKey)
}

func TestSimulator_authAndTokens(t *testing.T) {
	srv := smartxtest.NewServer(t, smartxtest.Options{PIN: "1234"})
	get := map[string]string{"INTENT_OPERATION_TYPE": "GET_CHEQUES"}

	_, got := post(t, srv.URL, get, "")
	assert.Equal(t, 401, got.ResultCode, "no token")

	_, got = post(t, srv.URL, map[string]string{"INTENT_OPERATION_TYPE": "AUTH"}, `{"pin":"9999","rememberPin":true,"returnToken":true}`)
	assert.Equal(t, 401, got.ResultCode, "wrong PIN")

	_, got = post(t, srv.URL, map[string]string{"INTENT_OPERATION_TYPE": "AUTH"}, `{"pin":"1234","rememberPin":true,"returnToken":true}`)
	require.Equal(t, 200, got.ResultCode)
	require.NotEmpty(t, got.Token)

	get["Auth-token"] = got.Token
	_, got = post(t, srv.URL, get, "")
	assert.Equal(t, 200, got.ResultCode)

	srv.ExpireToken()
	_, got = post(t, srv.URL, get, "")
	assert.Equal(t, 405, got.ResultCode, "expired token")
}

func TestSimulator_cheques(t *testing.T) {
	srv := smartxtest.NewServer(t, smartxtest.Options{HTTPStatusMode: smartxtest.Always200})
	get := map[string]string{"INTENT_OPERATION_TYPE": "GET_CHEQUES"}

	require.NoError(t, srv.PutCheque(smartx.Cheque{Info: smartx.ChequeInfo{UUID: "a", ChequeType: smartx.ChequePostponed}, Total: "1"}))
	require.NoError(t, srv.PutCheque(smartx.Cheque{Info: smartx.ChequeInfo{UUID: "b", ChequeType: smartx.ChequeOrder, Table: intp(1), Place: intp(2)}}))
	require.NoError(t, srv.PutCheque(smartx.Cheque{Info: smartx.ChequeInfo{UUID: "a", ChequeType: smartx.ChequePostponed}, Total: "2.50"}))

	_, got := post(t, srv.URL, get, "")
	require.Equal(t, 200, got.ResultCode)
	require.Len(t, got.Cheques, 2)
	assert.Contains(t, string(got.Cheques[0]), `"total":"2.50"`, "modified in place")
	assert.Contains(t, string(got.Cheques[0]), `"items":[]`)
	assert.Contains(t, string(got.Cheques[1]), `"table":1`)

	status, got := post(t, srv.URL, get, `{"uuids":["b","nope"]}`)
	assert.Equal(t, 200, status, "Always200")
	assert.Equal(t, 488, got.ResultCode)
	assert.Equal(t, "GET_CHEQUES", got.Type)

	assert.True(t, srv.RemoveCheque("a"))
	assert.False(t, srv.RemoveCheque("a"))
	_, got = post(t, srv.URL, get, `{"uuids":[]}`)
	assert.Len(t, got.Cheques, 1)

	_, got = post(t, srv.URL, get, `{"uuids":`)
	assert.Equal(t, 413, got.ResultCode)
}

func TestSimulator_PutChequeValidates(t *testing.T) {
	sim := smartxtest.NewSimulator(smartxtest.Options{})
	tests := []struct {
		name string
		info smartx.ChequeInfo
	}{
		{name: "no uuid", info: smartx.ChequeInfo{ChequeType: smartx.ChequePostponed}},
		{name: "order without table", info: smartx.ChequeInfo{UUID: "x", ChequeType: smartx.ChequeOrder}},
		{name: "postponed with table", info: smartx.ChequeInfo{UUID: "x", ChequeType: smartx.ChequePostponed, Table: intp(1)}},
		{name: "unknown type", info: smartx.ChequeInfo{UUID: "x", ChequeType: "Fiscal"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Error(t, sim.PutCheque(smartx.Cheque{Info: tt.info}))
		})
	}
}

func TestStart_withoutTestingTB(t *testing.T) {
	srv, err := smartxtest.Start(smartxtest.Options{})
	require.NoError(t, err)
	_, got := post(t, srv.URL, map[string]string{"INTENT_OPERATION_TYPE": "GET_CHEQUES"}, "")
	assert.Equal(t, 200, got.ResultCode)
	srv.Close()
}

func TestSimulator_maxCalls(t *testing.T) {
	tests := []struct {
		name       string
		maxCalls   int
		wantBodies []string
	}{
		{name: "keeps the most recent", maxCalls: 3, wantBodies: []string{"5", "6", "7"}},
		{name: "zero keeps every call", maxCalls: 0, wantBodies: []string{"1", "2", "3", "4", "5", "6", "7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smartxtest.NewServer(t, smartxtest.Options{MaxCalls: tt.maxCalls})
			for i := 1; i <= 7; i++ { // past 2×3, so the journal is also compacted once
				_, got := post(t, srv.URL, map[string]string{"INTENT_OPERATION_TYPE": "FLY"}, strconv.Itoa(i))
				require.Equal(t, 399, got.ResultCode)
			}
			var got []string
			for _, c := range srv.Calls("FLY") {
				got = append(got, string(c.Body))
			}
			assert.Equal(t, tt.wantBodies, got)
			assert.Len(t, srv.Calls(""), len(tt.wantBodies))
		})
	}
}
