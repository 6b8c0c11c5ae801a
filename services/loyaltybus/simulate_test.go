package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/shuyun/shuyuntest"
)

// TestSimulateServesTheLedgerAndTakesFaults runs "loyaltybus simulate shuyun"
// without dedup: a repeated token is applied twice and the ledger served on
// /_sim/effects says so; an injected fault answers the next call.
func TestSimulateServesTheLedgerAndTakesFaults(t *testing.T) {
	var stdout syncBuffer
	var stderr bytes.Buffer
	done := make(chan error, 1)
	ctx := t.Context()
	go func() {
		done <- run(ctx, []string{"simulate", "shuyun", "--replay-mode", "no-dedup"}, func(string) string { return "" }, &stdout, &stderr)
	}()
	t.Cleanup(func() { assert.NoError(t, <-done, "the simulator stops cleanly") })
	require.Eventually(t, func() bool { return strings.HasSuffix(stdout.String(), "\n") }, 5*time.Second, 5*time.Millisecond)
	base := strings.TrimSpace(stdout.String())
	require.True(t, strings.HasPrefix(base, "http://127.0.0.1:"), base)

	freeze := func() int {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/member/freezePoint",
			strings.NewReader(`{"memberId":"m1","memberType":"shuyun","channelType":"POS","point":5}`))
		require.NoError(t, err)
		req.Header["client_id"] = []string{shuyuntest.DefaultClientID}
		req.Header["client_secret"] = []string{shuyuntest.DefaultClientSecret}
		req.Header.Set("X-Business-Token", "tok-1")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	get := func(path string, v any) {
		resp, err := http.Get(base + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
	}
	assert.Equal(t, http.StatusNoContent, freeze())
	assert.Equal(t, http.StatusNoContent, freeze())
	var effects []shuyuntest.Effect
	get("/_sim/effects", &effects)
	assert.Equal(t, []shuyuntest.Effect{{Op: "/member/freezePoint", Token: "tok-1", Count: 2}}, effects, "no-dedup applies a repeated token again")
	var calls []simCall
	get("/_sim/calls?path=/member/freezePoint", &calls)
	assert.Len(t, calls, 2)
	var stats shuyuntest.Stats
	get("/_sim/stats", &stats)
	assert.Equal(t, 2, stats.Requests)

	resp, err := http.Post(base+"/_sim/faults", "application/json", strings.NewReader(`{"kind":"fail","n":1,"status":503}`))
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Equal(t, http.StatusServiceUnavailable, freeze())
	assert.Equal(t, http.StatusNoContent, freeze())

	resp, err = http.Post(base+"/_sim/faults", "application/json", strings.NewReader(`{"kind":"melt"}`))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, string(body), "melt")
}

func TestSimulateUsage(t *testing.T) {
	for _, args := range [][]string{{"simulate"}, {"simulate", "pospal"}, {"simulate", "shuyun", "--replay-mode", "maybe"}} {
		err := run(t.Context(), args, func(string) string { return "" }, io.Discard, io.Discard)
		require.Error(t, err, "%v", args)
		assert.Equal(t, exitUsage, exitCode(err), "%v", args)
	}
}
