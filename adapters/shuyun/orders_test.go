package shuyun_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/shuyun"
	"github.com/loyaltybus/loyaltybus/adapters/shuyun/shuyuntest"
)

func TestSaveOrder(t *testing.T) {
	srv := shuyuntest.NewServer(t)
	c := newClient(t, srv)
	order := fixture(t, "order_save.json")

	out, err := c.SaveOrder(t.Context(), order)
	require.NoError(t, err)
	assert.Nil(t, out, "the simulator answers 200 with no body")

	calls := srv.Calls(shuyun.PathSaveOrder)
	require.Len(t, calls, 1)
	assert.JSONEq(t, string(order), string(calls[0].Body), "the order is sent verbatim")
	saved, ok := srv.Order("087989aaf6af4e58897794d18axxxxx")
	require.True(t, ok)
	assert.JSONEq(t, string(order), string(saved))

	// Saving again updates the same order.
	var m map[string]any
	require.NoError(t, json.Unmarshal(order, &m))
	m["orderStatus"] = "REFUNDED"
	updated, err := json.Marshal(m)
	require.NoError(t, err)
	_, err = c.SaveOrder(t.Context(), updated)
	require.NoError(t, err)
	saved, ok = srv.Order("087989aaf6af4e58897794d18axxxxx")
	require.True(t, ok)
	assert.JSONEq(t, string(updated), string(saved))
}

func TestSaveOrderRefusals(t *testing.T) {
	srv := shuyuntest.NewServer(t)
	c := newClient(t, srv)

	_, err := c.SaveOrder(t.Context(), json.RawMessage(`[1,2]`))
	assert.ErrorContains(t, err, "not a JSON object")
	assert.Empty(t, srv.Calls(""))

	_, err = c.SaveOrder(t.Context(), json.RawMessage(`{"orderId":"o1"}`))
	assert.ErrorIs(t, err, shuyun.ErrParam)
	assert.False(t, classify(t, err).Temporary())
}
