package feeds_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/pospal"
	"github.com/loyaltybus/loyaltybus/adapters/pospal/pospaltest"
	"github.com/loyaltybus/loyaltybus/adapters/wixtar"
	"github.com/loyaltybus/loyaltybus/adapters/wixtar/wixtartest"
	"github.com/loyaltybus/loyaltybus/events/tickets"
	"github.com/loyaltybus/loyaltybus/events/usage"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/pkg/bus/bustest"
	"github.com/loyaltybus/loyaltybus/services/feeds"
	"github.com/loyaltybus/loyaltybus/services/internal/schematest"
)

// member is a Pospal customer uid above 2^53.
const member int64 = 886263699231969848

// day is the window the generated tickets fall in.
var day = time.Date(2026, 11, 1, 9, 0, 0, 0, pospal.Shanghai)

var ticketWindow = tickets.Fetch{CustomerUID: member, StartTime: "2026-11-01T00:00:00+08:00", EndTime: "2026-11-01 23:59:59"}

const ticketMethod = "queryCustomerHistoryTicketsByUid"

type harness struct {
	url    string
	js     jetstream.JetStream
	pospal *pospaltest.Simulator
	wixtar *wixtartest.Server
	n      map[string]int // results seen per subject
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	srv := bustest.NewServer(t)
	_, js := bustest.Connect(t, srv.ClientURL())
	require.NoError(t, bus.Provision(t.Context(), js, bus.Topology{}))
	return &harness{
		url: srv.ClientURL(), js: js,
		pospal: pospaltest.NewSimulator(pospaltest.Options{}),
		wixtar: wixtartest.NewServer(t, wixtartest.Options{}),
		n:      map[string]int{},
	}
}

// service builds the feeds service with Pospal reached at pospalURL.
func (h *harness) service(t *testing.T, pospalURL string) *feeds.Service {
	t.Helper()
	pc, err := pospal.New(pospal.Config{BaseURL: pospalURL, AppID: pospaltest.DefaultAppID, AppKey: pospaltest.DefaultAppKey, Timeout: 5 * time.Second})
	require.NoError(t, err)
	wc, err := wixtar.New(wixtar.Config{BaseURL: h.wixtar.URL, TokenURL: h.wixtar.TokenURL,
		ClientID: wixtartest.DefaultClientID, ClientSecret: wixtartest.DefaultClientSecret, Timeout: 5 * time.Second})
	require.NoError(t, err)
	svc, err := feeds.New(pc, pospaltest.DefaultAppID, wc)
	require.NoError(t, err)
	return svc
}

func config() bus.Config {
	return bus.Config{Name: feeds.Name, SkipProvision: true, Backoff: bus.Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond}}
}

// start runs the service against the plain simulators.
func (h *harness) start(t *testing.T) {
	t.Helper()
	vendor := httptest.NewServer(h.pospal)
	t.Cleanup(vendor.Close)
	bustest.Start(t, h.url, config(), h.service(t, vendor.URL).Routes()...)
}

// fetch publishes a command and returns its result.
func (h *harness) fetch(t *testing.T, subject, typ string, data any) result {
	t.Helper()
	id := uuid.NewString()
	bustest.Publish(t, h.js, subject, bustest.Command(t, id, typ, data), bus.Binary)
	subj := "loyalty.result." + subject[len("loyalty.cmd."):]
	h.n[subj]++
	for _, o := range bustest.WaitMessages(t, h.js, "LOYALTY_RESULTS", subj, h.n[subj]) {
		if r := o.Result(t); r.CommandID == id {
			return result{ResultData: r, raw: o.Event.Data()}
		}
	}
	t.Fatalf("no result for %s", id)
	return result{}
}

// result is a result with its raw data, whose output holds integers beyond
// 2^53 that ResultData's map would round.
type result struct {
	bustest.ResultData
	raw []byte
}

func (h *harness) events(t *testing.T, subject string) []bustest.Output {
	t.Helper()
	bustest.WaitIdle(t, h.js, feeds.Name)
	return bustest.Messages(t, h.js, "LOYALTY_EVENTS", subject)
}

func decodeOutput[T any](t *testing.T, r result) T {
	t.Helper()
	require.Equal(t, "succeeded", r.Status, "error: %+v", r.Error)
	var data struct {
		Output T `json:"output"`
	}
	require.NoError(t, json.Unmarshal(r.raw, &data))
	return data.Output
}

// recordedUIDs decodes ticket.recorded events into their uids, checking each
// against the contract's schema and that no event id repeats.
func recordedUIDs(t *testing.T, evs []bustest.Output) map[int64]bool {
	t.Helper()
	uids := map[int64]bool{}
	ids := map[string]bool{}
	for _, ev := range evs {
		require.False(t, ids[ev.Event.ID()], "event id %s twice", ev.Event.ID())
		ids[ev.Event.ID()] = true
		var r tickets.Recorded
		require.NoError(t, json.Unmarshal(ev.Event.Data(), &r))
		uids[r.UID] = true
	}
	if len(evs) > 0 {
		schematest.Validate(t, tickets.RecordedChange.Schema, evs[0].Event.Data())
	}
	return uids
}

func wantUIDs(ts []pospal.Ticket) map[int64]bool {
	out := map[int64]bool{}
	for _, tk := range ts {
		out[tk.UID] = true
	}
	return out
}

func TestTicketsThreePagesAnnouncedOnceWithExactUIDs(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	generated := h.pospal.GenerateTickets(member, 250, day)
	h.pospal.GenerateTickets(member+1, 5, day) // another member's
	h.start(t)

	out := decodeOutput[tickets.FetchOutput](t, h.fetch(t, tickets.SubjectFetch, tickets.TypeFetch, ticketWindow))
	assert.Equal(t, tickets.FetchOutput{CustomerUID: member, Pages: 3, Tickets: 250, Recorded: 250}, out)
	evs := h.events(t, tickets.SubjectRecorded)
	require.Equal(t, 250, len(evs))
	assert.Equal(t, wantUIDs(generated), recordedUIDs(t, evs), "every uid exact, above 2^53")
	assert.Contains(t, string(evs[0].Event.Data()), `"uid":832101480292933450`, "uids are bare JSON integers")
	assert.Contains(t, string(evs[0].Event.Data()), `"customerUid":886263699231969848`)
	var first tickets.Recorded
	require.NoError(t, json.Unmarshal(evs[0].Event.Data(), &first))
	assert.Equal(t, "2026-11-01T13:09:00+08:00", first.DateTime)
	assert.Equal(t, generated[249].TotalAmount.String(), first.TotalAmount, "amounts are the vendor's decimal text")

	calls := h.pospal.Calls(ticketMethod)
	require.Len(t, calls, 3)
	assert.NotContains(t, string(calls[0].Body), "postBackParameter")
	assert.Contains(t, string(calls[1].Body), `"postBackParameter":{"parameterType":"LAST_RESULT_MIN_ID","parameterValue":"832101480292933351"}`, "passed back unchanged")
	assert.Contains(t, string(calls[0].Body), `"customerUid":"886263699231969848"`)

	// Refetch: the same three pages, nothing announced.
	out = decodeOutput[tickets.FetchOutput](t, h.fetch(t, tickets.SubjectFetch, tickets.TypeFetch, ticketWindow))
	assert.Equal(t, tickets.FetchOutput{CustomerUID: member, Pages: 3, Tickets: 250, Known: 250}, out)
	assert.Equal(t, 250, len(h.events(t, tickets.SubjectRecorded)))
	assert.Len(t, h.pospal.Calls(ticketMethod), 6)
}

// TestTicketsFetchKilledMidWayResumes cuts the service's connection while it
// waits for page 3: the redelivered command resumes after page 2, the last
// page it announced, and every ticket is announced exactly once.
func TestTicketsFetchKilledMidWayResumes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	generated := h.pospal.GenerateTickets(member, 250, day)

	var mu sync.Mutex
	var bodies []string
	third := make(chan struct{})
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		bodies = append(bodies, string(body))
		n := len(bodies)
		mu.Unlock()
		if n == 3 { // page 3 of the first attempt never answers
			close(third)
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		h.pospal.ServeHTTP(w, r)
	}))
	t.Cleanup(vendor.Close)

	cfg := config()
	cfg.AckWait = time.Second
	cfg.ShutdownTimeout = 50 * time.Millisecond
	cfg.PinnedTTL = 500 * time.Millisecond // the crashed instance never unpins
	nc, err := nats.Connect(h.url)
	require.NoError(t, err)
	js1, err := jetstream.New(nc)
	require.NoError(t, err)
	svc, err := bus.New(js1, cfg)
	require.NoError(t, err)
	for _, r := range h.service(t, vendor.URL).Routes() {
		require.NoError(t, svc.Handle(r))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	<-svc.Ready()

	id := uuid.NewString()
	bustest.Publish(t, h.js, tickets.SubjectFetch, bustest.Command(t, id, tickets.TypeFetch, ticketWindow), bus.Binary)
	<-third
	nc.Close() // crash: no ack and no result can leave this instance
	cancel()
	require.NoError(t, <-done)
	assert.Equal(t, 200, bustest.Count(t, h.js, "LOYALTY_EVENTS", tickets.SubjectRecorded), "pages 1 and 2 were announced")
	assert.Zero(t, bustest.Count(t, h.js, "LOYALTY_RESULTS", "loyalty.result.>"))

	bustest.Start(t, h.url, cfg, h.service(t, vendor.URL).Routes()...)
	o := bustest.WaitMessages(t, h.js, "LOYALTY_RESULTS", "loyalty.result.tickets.fetch", 1)[0]
	r := result{ResultData: o.Result(t), raw: o.Event.Data()}
	assert.Equal(t, 2, r.Attempts)
	out := decodeOutput[tickets.FetchOutput](t, r)
	assert.Equal(t, tickets.FetchOutput{CustomerUID: member, Pages: 3, Tickets: 250, Recorded: 250}, out, "counts cover the whole walk")

	evs := h.events(t, tickets.SubjectRecorded)
	require.Equal(t, 250, len(evs), "no duplicate events")
	assert.Equal(t, wantUIDs(generated), recordedUIDs(t, evs))
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, bodies, 4, "pages 1 and 2 were not read again")
	assert.Contains(t, bodies[3], `"parameterValue":"832101480292933251"`, "resumed after page 2")
	assert.Equal(t, bodies[2], bodies[3], "the interrupted request, repeated")
}

func TestTicketsLoopGuardFailsAfterAnnouncingPagesBefore(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.pospal.GenerateTickets(member, 250, day)
	h.pospal.RepeatPostBackNext(1) // page 2 answers page 1's parameter again
	h.start(t)
	r := h.fetch(t, tickets.SubjectFetch, tickets.TypeFetch, ticketWindow)
	assert.Equal(t, "failed", r.Status)
	require.NotNil(t, r.Error)
	require.NotNil(t, r.Error.Vendor)
	assert.Equal(t, "pospal", r.Error.Vendor.Name)
	assert.Contains(t, r.Error.Message, "postBackParameter")
	assert.Len(t, h.pospal.Calls(ticketMethod), 2, "the loop is not followed")
	assert.Equal(t, 200, len(h.events(t, tickets.SubjectRecorded)), "pages 1 and 2 were announced; page 2 repeated page 1's parameter")
}

func TestTicketsStopOnEmptyPage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.pospal.GenerateTickets(member, 100, day) // exactly one full page, then an empty one
	h.start(t)
	out := decodeOutput[tickets.FetchOutput](t, h.fetch(t, tickets.SubjectFetch, tickets.TypeFetch, ticketWindow))
	assert.Equal(t, tickets.FetchOutput{CustomerUID: member, Pages: 2, Tickets: 100, Recorded: 100}, out)
	assert.Len(t, h.pospal.Calls(ticketMethod), 2)
}

func TestFetchRejectsBadWindows(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.start(t)
	tests := []struct {
		name      string
		subject   string
		typ       string
		data      any
		wantField string
	}{
		{name: "tickets: unreadable start", subject: tickets.SubjectFetch, typ: tickets.TypeFetch,
			data: tickets.Fetch{CustomerUID: member, StartTime: "01/11/2026 00:00", EndTime: "2026-11-01 23:59:59"}, wantField: "data.startTime"},
		{name: "tickets: end before start", subject: tickets.SubjectFetch, typ: tickets.TypeFetch,
			data: tickets.Fetch{CustomerUID: member, StartTime: "2026-11-02 00:00:00", EndTime: "2026-11-01T23:59:59+08:00"}, wantField: "data.endTime"},
		{name: "tickets: no customer", subject: tickets.SubjectFetch, typ: tickets.TypeFetch,
			data: map[string]any{"startTime": "2026-11-01 00:00:00", "endTime": "2026-11-01 23:59:59"}, wantField: "data"},
		{name: "tickets: customer as text", subject: tickets.SubjectFetch, typ: tickets.TypeFetch,
			data: map[string]any{"customerUid": "886263699231969848", "startTime": "2026-11-01 00:00:00", "endTime": "2026-11-01 23:59:59"}, wantField: "data.customerUid"},
		{name: "usage: unreadable end", subject: usage.SubjectFetch, typ: usage.TypeFetch,
			data: usage.Fetch{StartDate: "2020-09-01 00:00:00", EndDate: "tomorrow-ish"}, wantField: "data.endDate"},
		{name: "usage: unknown sort", subject: usage.SubjectFetch, typ: usage.TypeFetch,
			data: usage.Fetch{StartDate: "2020-09-01 00:00:00", EndDate: "2020-09-02 00:00:00", TimeSort: "RANDOM"}, wantField: "data.timeSort"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.fetch(t, tt.subject, tt.typ, tt.data)
			assert.Equal(t, "rejected", r.Status)
			require.NotNil(t, r.Error)
			assert.Contains(t, r.Error.Message, tt.wantField)
		})
	}
	assert.Empty(t, h.pospal.Calls(ticketMethod))
	assert.Empty(t, h.wixtar.Calls(wixtar.PathPointsUsageRecords))
}

func taipei(y int, m time.Month, d, hh, mm, ss int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, 0, wixtar.Location())
}

var usageRecords = []wixtartest.Record{
	{StoreID: "S01", OrderID: "MCSF0220090400024", DateTime: taipei(2020, 9, 1, 10, 17, 59), PointType: "exchange_goods",
		BonusPoints: 50, OrderAmount: "200", MemberName: "ming", StoreName: "左營文天", NameKey: wixtartest.ShopNameKey, PointMemo: "測試"},
	{StoreID: "S01", OrderID: "MCSF0220090400024", DateTime: taipei(2020, 9, 1, 10, 16, 0), PointType: "exchange_goods_sell_back",
		BonusPoints: 50, OrderAmount: "200.50", AmountAsNumber: true, MemberName: "ming", StoreName: "左營文天"},
	{StoreID: "S02", OrderID: "X1", DateTime: taipei(2020, 9, 2, 8, 0, 0), PointType: "Lucky_Draw", BonusPoints: 5, OrderAmount: "0", GiftGive: true},
}

func TestUsageRecordsAnnouncedOncePerKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	require.NoError(t, h.wixtar.AddRecords(usageRecords...))
	h.start(t)

	firstDay := usage.Fetch{StartDate: "2020-09-01 00:00:00", EndDate: "2020-09-01T23:59:59+08:00", TimeSort: "asc"}
	out := decodeOutput[usage.FetchOutput](t, h.fetch(t, usage.SubjectFetch, usage.TypeFetch, firstDay))
	assert.Equal(t, usage.FetchOutput{Records: 2, Recorded: 2}, out)

	// An overlapping window announces only the record not seen before.
	twoDays := usage.Fetch{StartDate: "2020-09-01 00:00:00", EndDate: "2020-09-02 23:59:59"}
	out = decodeOutput[usage.FetchOutput](t, h.fetch(t, usage.SubjectFetch, usage.TypeFetch, twoDays))
	assert.Equal(t, usage.FetchOutput{Records: 3, Recorded: 1, Known: 2}, out)
	out = decodeOutput[usage.FetchOutput](t, h.fetch(t, usage.SubjectFetch, usage.TypeFetch, twoDays))
	assert.Equal(t, usage.FetchOutput{Records: 3, Known: 3}, out)

	evs := h.events(t, usage.SubjectUsed)
	require.Len(t, evs, 3)
	byKey := map[string]usage.Used{}
	for _, ev := range evs {
		assert.Equal(t, usage.TypeUsed, ev.Event.Type())
		schematest.Validate(t, usage.UsedChange.Schema, ev.Event.Data())
		var u usage.Used
		require.NoError(t, json.Unmarshal(ev.Event.Data(), &u))
		byKey[u.Key] = u
	}
	u := byKey["MCSF0220090400024|2020-09-01T10:16:00|exchange_goods_sell_back"]
	assert.Equal(t, "200.50", u.OrderAmount, "a number amount stays exact text")
	assert.Equal(t, "2020-09-01T10:16:00+08:00", u.DateTime)
	assert.Equal(t, "左營文天", byKey["MCSF0220090400024|2020-09-01T10:17:59|exchange_goods"].StoreName, "shop_name read as the store")
	assert.Equal(t, "Lucky_Draw", byKey["X1|2020-09-02T08:00:00|lucky_draw"].PointType, "point types kept verbatim")

	calls := h.wixtar.Calls(wixtar.PathPointsUsageRecords)
	require.Len(t, calls, 3)
	assert.Equal(t, "2020-09-01 23:59:59", calls[0].Query.Get("end_date"))
	assert.Equal(t, "ASC", calls[0].Query.Get("time_sort"))
}

func TestUsageTokenRevokedMidRunIsRenewed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	require.NoError(t, h.wixtar.AddRecords(usageRecords...))
	h.start(t)
	window := usage.Fetch{StartDate: "2020-09-01 00:00:00", EndDate: "2020-09-01 23:59:59"}
	decodeOutput[usage.FetchOutput](t, h.fetch(t, usage.SubjectFetch, usage.TypeFetch, window))
	h.wixtar.RevokeTokens()
	r := h.fetch(t, usage.SubjectFetch, usage.TypeFetch, window)
	assert.Equal(t, usage.FetchOutput{Records: 2, Known: 2}, decodeOutput[usage.FetchOutput](t, r))
	assert.Equal(t, 1, r.Attempts, "renewed inside the call, not by a retry")
	assert.Equal(t, 2, h.wixtar.TokensIssued())
}

func TestUsageVendorOutageIsRetried(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	require.NoError(t, h.wixtar.AddRecords(usageRecords...))
	h.wixtar.FailNext(2, http.StatusBadGateway)
	h.start(t)
	r := h.fetch(t, usage.SubjectFetch, usage.TypeFetch, usage.Fetch{StartDate: "2020-09-01 00:00:00", EndDate: "2020-09-03 00:00:00"})
	assert.Equal(t, 3, r.Attempts)
	assert.Equal(t, usage.FetchOutput{Records: 3, Recorded: 3}, decodeOutput[usage.FetchOutput](t, r))
	assert.Len(t, h.events(t, usage.SubjectUsed), 3)
}

func TestNewNeedsItsReaders(t *testing.T) {
	_, err := feeds.New(nil, "app", nil)
	assert.Error(t, err)
}
