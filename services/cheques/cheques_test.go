package cheques_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/smartx"
	"github.com/loyaltybus/loyaltybus/adapters/smartx/smartxtest"
	eventscheques "github.com/loyaltybus/loyaltybus/events/cheques"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/pkg/bus/bustest"
	"github.com/loyaltybus/loyaltybus/services/cheques"
	"github.com/loyaltybus/loyaltybus/services/internal/schematest"
)

const pin = "4321"

const (
	uuidA = "9aa03f0c-d77c-40ae-8f4d-236c432054a8"
	uuidB = "bb074ac8-3661-4c56-818e-26686d5a7ec3"
)

func intp(n int) *int { return &n }

func postponed(uuid, total string) smartx.Cheque {
	return smartx.Cheque{
		Info:           smartx.ChequeInfo{UUID: uuid, Name: "Чек 1", ChequeType: smartx.ChequePostponed},
		Currency:       "BYN",
		ChequeDiscount: &smartx.Discount{IsPercent: true, Value: "5", Sum: "3.03"},
		SubTotal:       "60.5",
		Total:          smartx.Decimal(total),
		Items: []smartx.Item{
			{Price: "5", Quantity: "1", Sum: "5", Total: "5"},
			{Code: &smartx.ItemCode{Type: 0, Value: "4810000000017"}, Price: "5", Quantity: "3",
				Tax: &smartx.Tax{Rate: "10", Value: "1.23"}, Sum: "15", Total: "13.5"},
		},
	}
}

func order(uuid string) smartx.Cheque {
	return smartx.Cheque{
		Info:     smartx.ChequeInfo{UUID: uuid, Name: "Чек 2", ChequeType: smartx.ChequeOrder, Table: intp(2), Place: intp(3)},
		Currency: "BYN", SubTotal: "5", Total: "4.75",
		Items: []smartx.Item{{Name: "Чай", Price: "5", Quantity: "1", Sum: "5", Total: "5"}},
	}
}

type harness struct {
	js   jetstream.JetStream
	regs map[string]*smartxtest.Server
	n    int // results seen so far
}

// newHarness starts an embedded JetStream, one simulated register per name
// and the cheques service reading them.
func newHarness(t *testing.T, names ...string) *harness {
	t.Helper()
	srv := bustest.NewServer(t)
	_, js := bustest.Connect(t, srv.ClientURL())
	require.NoError(t, bus.Provision(t.Context(), js, bus.Topology{}))
	h := &harness{js: js, regs: map[string]*smartxtest.Server{}}
	clients := map[string]cheques.Register{}
	for _, name := range names {
		reg := smartxtest.NewServer(t, smartxtest.Options{PIN: pin})
		c, err := smartx.New(smartx.Config{Name: name, BaseURL: reg.URL, PIN: pin, Timeout: 5 * time.Second})
		require.NoError(t, err)
		h.regs[name], clients[name] = reg, c
	}
	svc, err := cheques.New(clients)
	require.NoError(t, err)
	bustest.Start(t, srv.ClientURL(), bus.Config{Name: cheques.Name, SkipProvision: true,
		Backoff: bus.Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond}}, svc.Routes()...)
	return h
}

// fetch publishes a cheques.fetch and returns its result.
func (h *harness) fetch(t *testing.T, d eventscheques.Fetch) bustest.ResultData {
	t.Helper()
	id := uuid.NewString()
	bustest.Publish(t, h.js, eventscheques.SubjectFetch, bustest.Command(t, id, eventscheques.TypeFetch, d), bus.Binary)
	h.n++
	for _, o := range bustest.WaitMessages(t, h.js, "LOYALTY_RESULTS", "loyalty.result.cheques.fetch", h.n) {
		if r := o.Result(t); r.CommandID == id {
			return r
		}
	}
	t.Fatalf("no result for %s", id)
	return bustest.ResultData{}
}

func (h *harness) events(t *testing.T, subject string) []bustest.Output {
	t.Helper()
	bustest.WaitIdle(t, h.js, cheques.Name)
	return bustest.Messages(t, h.js, "LOYALTY_EVENTS", subject)
}

func output(t *testing.T, r bustest.ResultData) eventscheques.FetchOutput {
	t.Helper()
	require.Equal(t, "succeeded", r.Status, "error: %+v", r.Error)
	b, err := json.Marshal(r.Output)
	require.NoError(t, err)
	var out eventscheques.FetchOutput
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

func TestFetchAnnouncesNewChangedAndNothingElse(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "default")
	reg := h.regs["default"]
	require.NoError(t, reg.PutCheque(postponed(uuidA, "57.47")))
	require.NoError(t, reg.PutCheque(order(uuidB)))

	// Two new cheques: two cheque.recorded.
	assert.Equal(t, eventscheques.FetchOutput{Register: "default", Cheques: 2, Recorded: 2},
		output(t, h.fetch(t, eventscheques.Fetch{})), "register may be omitted with one configured")
	recorded := h.events(t, eventscheques.SubjectRecorded)
	require.Len(t, recorded, 2)
	byUUID := map[string]eventscheques.Recorded{}
	for _, ev := range recorded {
		assert.Equal(t, eventscheques.TypeRecorded, ev.Event.Type())
		schematest.Validate(t, eventscheques.RecordedChange.Schema, ev.Event.Data())
		var r eventscheques.Recorded
		require.NoError(t, ev.Event.DataAs(&r))
		byUUID[r.UUID] = r
	}
	a := byUUID[uuidA]
	assert.Equal(t, "default", a.Register)
	assert.Equal(t, 1, a.Revision)
	assert.Equal(t, "57.47", a.Total, "money stays a decimal string")
	assert.Equal(t, "4810000000017", a.Items[1].Code.Value.String(), "codes stay exact")
	assert.Equal(t, 2, *byUUID[uuidB].Info.Table)

	// Refetch, nothing changed: nothing announced.
	assert.Equal(t, eventscheques.FetchOutput{Register: "default", Cheques: 2, Unchanged: 2},
		output(t, h.fetch(t, eventscheques.Fetch{Register: "default"})))
	assert.Len(t, h.events(t, "loyalty.event.cheque.>"), 2)

	// One modified: one cheque.updated, revision 2.
	require.NoError(t, reg.PutCheque(postponed(uuidA, "60.50")))
	assert.Equal(t, eventscheques.FetchOutput{Register: "default", Cheques: 2, Updated: 1, Unchanged: 1},
		output(t, h.fetch(t, eventscheques.Fetch{})))
	updated := h.events(t, eventscheques.SubjectUpdated)
	require.Len(t, updated, 1)
	schematest.Validate(t, eventscheques.UpdatedChange.Schema, updated[0].Event.Data())
	var u eventscheques.Updated
	require.NoError(t, updated[0].Event.DataAs(&u))
	assert.Equal(t, uuidA, u.UUID)
	assert.Equal(t, 2, u.Revision)
	assert.Equal(t, "60.50", u.Total)
	assert.Equal(t, a.ContentHash, u.PreviousHash)
	assert.NotEqual(t, a.ContentHash, u.ContentHash)

	// Changed back to the first content: a new revision with a new id, not
	// a duplicate of the first announcement.
	require.NoError(t, reg.PutCheque(postponed(uuidA, "57.47")))
	output(t, h.fetch(t, eventscheques.Fetch{UUIDs: []string{uuidA}}))
	updated = h.events(t, eventscheques.SubjectUpdated)
	require.Len(t, updated, 2)
	var back eventscheques.Updated
	require.NoError(t, updated[1].Event.DataAs(&back))
	assert.Equal(t, 3, back.Revision)
	assert.Equal(t, a.ContentHash, back.ContentHash)
	assert.NotEqual(t, updated[0].Event.ID(), updated[1].Event.ID())
	assert.Len(t, h.events(t, eventscheques.SubjectRecorded), 2, "no second cheque.recorded")
}

func TestUnknownUUIDFailsWithVendorCode488(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "default")
	require.NoError(t, h.regs["default"].PutCheque(order(uuidB)))
	r := h.fetch(t, eventscheques.Fetch{UUIDs: []string{uuidB, "12345-6789-4c56-818e-26686d5a7ec3"}})
	assert.Equal(t, "failed", r.Status)
	require.NotNil(t, r.Error)
	require.NotNil(t, r.Error.Vendor)
	assert.Equal(t, "smartx", r.Error.Vendor.Name)
	assert.Equal(t, "488", r.Error.Vendor.Code)
	assert.Equal(t, 1, r.Attempts, "a refusal is not retried")
	bustest.WaitMessages(t, h.js, "LOYALTY_DLQ", "loyalty.dlq.cheques.fetch", 1)
	assert.Empty(t, h.events(t, "loyalty.event.cheque.>"))
}

func TestRegisterIsChosenByName(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "bar-1", "bar-2")
	require.NoError(t, h.regs["bar-1"].PutCheque(order(uuidB)))
	require.NoError(t, h.regs["bar-2"].PutCheque(order(uuidB))) // same uuid on another register
	require.NoError(t, h.regs["bar-2"].PutCheque(postponed(uuidA, "1")))

	tests := []struct {
		name      string
		data      eventscheques.Fetch
		wantField string
		want      eventscheques.FetchOutput
	}{
		{name: "no register with two configured", data: eventscheques.Fetch{}, wantField: "data.register"},
		{name: "unknown register", data: eventscheques.Fetch{Register: "bar-9"}, wantField: "data.register"},
		{name: "bad register name", data: eventscheques.Fetch{Register: "bar 1"}, wantField: "data.register"},
		{name: "first", data: eventscheques.Fetch{Register: "bar-1"}, want: eventscheques.FetchOutput{Register: "bar-1", Cheques: 1, Recorded: 1}},
		{name: "second", data: eventscheques.Fetch{Register: "bar-2"}, want: eventscheques.FetchOutput{Register: "bar-2", Cheques: 2, Recorded: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.fetch(t, tt.data)
			if tt.wantField != "" {
				assert.Equal(t, "rejected", r.Status)
				require.NotNil(t, r.Error)
				assert.Contains(t, r.Error.Message, tt.wantField+":")
				return
			}
			assert.Equal(t, tt.want, output(t, r))
		})
	}
	assert.Len(t, h.events(t, eventscheques.SubjectRecorded), 3, "a uuid is a fact per register")
	assert.Len(t, h.regs["bar-1"].Calls(smartx.IntentGetCheques), 1)
	assert.Len(t, h.regs["bar-2"].Calls(smartx.IntentGetCheques), 1)
}

func TestExpiredTokenIsRenewedWithoutError(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "default")
	reg := h.regs["default"]
	require.NoError(t, reg.PutCheque(order(uuidB)))
	output(t, h.fetch(t, eventscheques.Fetch{}))
	reg.ExpireToken()
	r := h.fetch(t, eventscheques.Fetch{})
	assert.Equal(t, 1, r.Attempts, "renewed inside the call, not by a retry")
	assert.Equal(t, eventscheques.FetchOutput{Register: "default", Cheques: 1, Unchanged: 1}, output(t, r))
	assert.Len(t, reg.Calls(smartx.IntentAuth), 2)
	var codes []int
	for _, c := range reg.Calls(smartx.IntentGetCheques) {
		codes = append(codes, c.ResultCode)
	}
	assert.Equal(t, []int{200, 405, 200}, codes)
}

func TestManyChequesAreAnnouncedInBatches(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "default")
	const n = 230
	for i := range n {
		require.NoError(t, h.regs["default"].PutCheque(postponed(fmt.Sprintf("c-%03d", i), "1")))
	}
	assert.Equal(t, eventscheques.FetchOutput{Register: "default", Cheques: n, Recorded: n}, output(t, h.fetch(t, eventscheques.Fetch{})))
	ids := map[string]bool{}
	for _, ev := range h.events(t, eventscheques.SubjectRecorded) {
		ids[ev.Event.ID()] = true
	}
	assert.Len(t, ids, n)
}

func TestNewNeedsARegister(t *testing.T) {
	_, err := cheques.New(nil)
	assert.Error(t, err)
}
