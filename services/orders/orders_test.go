package orders_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/shuyun"
	"github.com/loyaltybus/loyaltybus/adapters/shuyun/shuyuntest"
	"github.com/loyaltybus/loyaltybus/events"
	"github.com/loyaltybus/loyaltybus/events/order"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/pkg/bus/bustest"
	"github.com/loyaltybus/loyaltybus/services/orders"
)

// docOrderID is the orderId of the doc's Order example.
const docOrderID = "087989aaf6af4e58897794d18axxxxx"

type harness struct {
	js  jetstream.JetStream
	sim *shuyuntest.Server
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	srv := bustest.NewServer(t)
	_, js := bustest.Connect(t, srv.ClientURL())
	require.NoError(t, bus.Provision(t.Context(), js, bus.Topology{}))
	sim := shuyuntest.NewServer(t)
	client, err := shuyun.New(shuyun.Config{BaseURL: sim.URL, ClientID: sim.ClientID(), ClientSecret: sim.ClientSecret()})
	require.NoError(t, err)
	bustest.Start(t, srv.ClientURL(), bus.Config{
		Name: orders.Name, SkipProvision: true,
		Backoff: bus.Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond},
	}, orders.New(client).Routes()...)
	return &harness{js: js, sim: sim}
}

// save publishes an order.save command whose data is exactly data.
func (h *harness) save(t *testing.T, id string, data []byte, mode bus.Mode) {
	t.Helper()
	bustest.Publish(t, h.js, order.SubjectSave, bustest.Command(t, id, order.TypeSave, data), mode)
}

func (h *harness) results(t *testing.T, n int) map[string]bustest.ResultData {
	t.Helper()
	out := map[string]bustest.ResultData{}
	for _, o := range bustest.WaitMessages(t, h.js, events.StreamResults, "loyalty.result.order.save", n) {
		r := o.Result(t)
		out[r.CommandID] = r
	}
	return out
}

// docOrder is the doc's Order example (repaired), as the adapter's fixture has it.
func docOrder(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "adapters", "shuyun", "testdata", "order_save.json"))
	require.NoError(t, err)
	return b
}

// with returns the doc's order with fields replaced (nil deletes).
func with(t testing.TB, fields map[string]any) []byte {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(docOrder(t)))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&m))
	for k, v := range fields {
		if v == nil {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(m))
	return buf.Bytes()
}

func TestDocOrderIsSavedVerbatim(t *testing.T) {
	t.Parallel()
	for _, mode := range []bus.Mode{bus.Binary, bus.Structured} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			id := uuid.NewString()
			doc := docOrder(t)
			h.save(t, id, doc, mode)

			r := h.results(t, 1)[id]
			require.Equal(t, "succeeded", r.Status, "%+v", r.Error)
			assert.Equal(t, map[string]any{"orderId": docOrderID, "orderType": "NORMAL", "orderStatus": "FINISHED",
				"memberId": "1c25f18ad274493882d01660e3exxxxx"}, r.Output)

			calls := h.sim.Calls(shuyun.PathSaveOrder)
			require.Len(t, calls, 1)
			assert.JSONEq(t, string(doc), string(calls[0].Body), "every field reaches the vendor, customizedProperties included")
			if mode == bus.Binary {
				assert.Equal(t, string(bytes.TrimSpace(doc)), string(calls[0].Body), "byte for byte (the client trims surrounding space)")
			}
			saved, ok := h.sim.Order(docOrderID)
			require.True(t, ok)
			assert.JSONEq(t, string(doc), string(saved))

			ev := bustest.WaitMessages(t, h.js, events.StreamEvents, order.SubjectSaved, 1)[0]
			assert.Equal(t, order.TypeSaved, ev.Event.Type())
			assert.Equal(t, docOrderID, ev.Ext(events.AttrPartitionKey), "saves are ordered by order")
			conforms(t, order.SavedChange.Schema, ev.Event.Data())
			golden, err := os.ReadFile(filepath.Join("..", "..", "events", "order", "testdata", "saved.json"))
			require.NoError(t, err)
			assert.JSONEq(t, string(golden), string(ev.Event.Data()), "the event is the contract's golden order.saved")
			assert.NotContains(t, string(ev.Event.Data()), "receiver", "no personal data in the event")
		})
	}
}

func TestRFC3339TimesAreSentInTheVendorsForm(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := uuid.NewString()
	var items []map[string]any
	require.NoError(t, json.Unmarshal(with(t, nil), &struct {
		Items *[]map[string]any `json:"orderItems"`
	}{&items}))
	items[0]["payTime"] = "2021-07-13T00:36:03Z"
	h.save(t, id, with(t, map[string]any{"orderTime": "2021-07-13T08:36:03+08:00", "payTime": "2021-07-13T01:36:03.5Z", "orderItems": items}), bus.Binary)

	require.Equal(t, "succeeded", h.results(t, 1)[id].Status)
	calls := h.sim.Calls(shuyun.PathSaveOrder)
	require.Len(t, calls, 1)
	var sent struct {
		OrderTime, PayTime, FinishTime string
		Items                          []struct{ PayTime, OrderTime string } `json:"orderItems"`
		Custom                         map[string]string                     `json:"customizedProperties"`
	}
	require.NoError(t, json.Unmarshal(calls[0].Body, &sent))
	assert.Equal(t, "2021-07-13 08:36:03", sent.OrderTime)
	assert.Equal(t, "2021-07-13 09:36:03", sent.PayTime, "UTC read as Asia/Shanghai")
	assert.Equal(t, "2021-07-13 08:36:03", sent.FinishTime, "the vendor's own form is kept")
	require.Len(t, sent.Items, 1)
	assert.Equal(t, "2021-07-13 08:36:03", sent.Items[0].PayTime)
	assert.Equal(t, "2021-07-13 08:36:03", sent.Items[0].OrderTime)
	assert.Equal(t, "10", sent.Custom["orderSource"], "everything else is kept")
	assert.Contains(t, string(calls[0].Body), "&token=", "no HTML escaping of the picture URL")

	var saved order.Saved
	require.NoError(t, json.Unmarshal(bustest.WaitMessages(t, h.js, events.StreamEvents, order.SubjectSaved, 1)[0].Event.Data(), &saved))
	assert.Equal(t, "2021-07-13T08:36:03+08:00", saved.OrderTime)
	assert.Equal(t, "2021-07-13T09:36:03+08:00", saved.PayTime)
}

// TestSavesOfOneOrderKeepTheirOrder: the vendor upserts, so the last save
// published must be the one that stays.
func TestSavesOfOneOrderKeepTheirOrder(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	statuses := []string{"CREATED", "PAID", "SHIPPED", "RECEIVED", "FINISHED"}
	for _, st := range statuses {
		// No memberId: ordering must not depend on it.
		h.save(t, uuid.NewString(), with(t, map[string]any{"orderStatus": st, "memberId": nil}), bus.Binary)
	}
	for _, r := range h.results(t, len(statuses)) {
		require.Equal(t, "succeeded", r.Status, "%+v", r.Error)
	}
	calls := h.sim.Calls(shuyun.PathSaveOrder)
	require.Len(t, calls, len(statuses))
	for i, c := range calls {
		assert.Contains(t, string(c.Body), `"orderStatus":"`+statuses[i]+`"`, "save %d", i)
	}
	saved, ok := h.sim.Order(docOrderID)
	require.True(t, ok)
	assert.Contains(t, string(saved), `"orderStatus":"FINISHED"`)
}

func TestVendorRefusalFails(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sim.BusinessErrorNext(1, shuyuntest.CodeParam, "参数异常", shuyuntest.OnPath(shuyun.PathSaveOrder))
	id := uuid.NewString()
	h.save(t, id, docOrder(t), bus.Binary)
	r := h.results(t, 1)[id]
	assert.Equal(t, "failed", r.Status)
	require.NotNil(t, r.Error)
	require.NotNil(t, r.Error.Vendor)
	assert.Equal(t, shuyuntest.CodeParam, r.Error.Vendor.Code)
	bustest.WaitMessages(t, h.js, events.StreamDLQ, "loyalty.dlq.order.save", 1)
	bustest.WaitIdle(t, h.js, orders.Name)
	assert.Zero(t, bustest.Count(t, h.js, events.StreamEvents, "loyalty.event.>"))
}

func TestTransientFailuresAreRetried(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		fault        func(sim *shuyuntest.Server)
		wantAttempts int
	}{
		{"gateway timeouts", func(sim *shuyuntest.Server) {
			sim.FailNext(2, http.StatusGatewayTimeout, shuyuntest.OnPath(shuyun.PathSaveOrder))
		}, 3},
		{"answer lost after the save", func(sim *shuyuntest.Server) {
			sim.CommitThenDrop(1, shuyuntest.OnPath(shuyun.PathSaveOrder))
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			tt.fault(h.sim)
			id := uuid.NewString()
			h.save(t, id, docOrder(t), bus.Binary)
			r := h.results(t, 1)[id]
			require.Equal(t, "succeeded", r.Status, "%+v", r.Error)
			assert.Equal(t, tt.wantAttempts, r.Attempts)
			assert.Len(t, h.sim.Calls(shuyun.PathSaveOrder), tt.wantAttempts, "the upsert is simply repeated")
			saved, ok := h.sim.Order(docOrderID)
			require.True(t, ok)
			assert.JSONEq(t, string(docOrder(t)), string(saved))
			bustest.WaitIdle(t, h.js, orders.Name)
			assert.Equal(t, 1, bustest.Count(t, h.js, events.StreamEvents, order.SubjectSaved))
		})
	}
}

func TestBadOrdersAreRejected(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tests := []struct {
		name      string
		data      []byte
		wantField string
	}{
		{"no orderId", with(t, map[string]any{"orderId": nil}), "data.orderId"},
		{"no shopName", with(t, map[string]any{"shopName": nil}), "data.shopName"},
		{"no payment", with(t, map[string]any{"payment": nil}), "data.payment"},
		{"payment as text", with(t, map[string]any{"payment": "85"}), "data.payment"},
		{"fractional quantity", with(t, map[string]any{"totalQuantity": 1.5}), "data.totalQuantity"},
		{"unknown orderType", with(t, map[string]any{"orderType": "EXCHANGE"}), "data.orderType"},
		{"orderId too long", with(t, map[string]any{"orderId": strings.Repeat("x", 33)}), "data.orderId"},
		{"unreadable time", with(t, map[string]any{"payTime": "yesterday"}), "data.payTime"},
		{"impossible date", with(t, map[string]any{"orderTime": "2021-02-30 08:36:03"}), "data.orderTime"},
	}
	ids := make([]string, len(tests))
	for i, tt := range tests {
		ids[i] = uuid.NewString()
		h.save(t, ids[i], tt.data, bus.Binary)
	}
	results := h.results(t, len(tests))
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := results[ids[i]]
			require.Equal(t, "rejected", r.Status, "%+v", r.Error)
			assert.True(t, strings.HasPrefix(r.Error.Message, tt.wantField+":"), "message %q names %s", r.Error.Message, tt.wantField)
		})
	}
	assert.Empty(t, h.sim.Calls(""), "nothing reached the vendor")
}

// TestGoldenPayloadsFollowTheSchemas checks the contract's golden payloads
// (events/order/testdata) against the schemas the runtime validates with.
func TestGoldenPayloadsFollowTheSchemas(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "..", "events", "order", "testdata")
	for file, schema := range map[string][]byte{
		"save.json":           order.SaveCommand.Schema,
		"doc_order_save.json": order.SaveCommand.Schema,
		"saved.json":          order.SavedChange.Schema,
	} {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, file))
			require.NoError(t, err)
			conforms(t, schema, data)
		})
	}
}

// conforms checks data against a JSON Schema of the contract.
func conforms(t *testing.T, schema, data []byte) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("mem:///schema.json", doc))
	s, err := c.Compile("mem:///schema.json")
	require.NoError(t, err)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	require.NoError(t, err)
	assert.NoError(t, s.Validate(inst), "%s", data)
}
