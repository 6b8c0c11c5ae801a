package points_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/shuyun"
	"github.com/loyaltybus/loyaltybus/adapters/shuyun/shuyuntest"
	eventspoints "github.com/loyaltybus/loyaltybus/events/points"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/pkg/bus/bustest"
	"github.com/loyaltybus/loyaltybus/pkg/resilience"
	"github.com/loyaltybus/loyaltybus/pkg/telemetry"
	"github.com/loyaltybus/loyaltybus/services/points"
)

const member = "0040a85608844820900558fc2671cb7c"

type harness struct {
	js   jetstream.JetStream
	url  string
	sim  *shuyuntest.Simulator
	base string // vendor base URL the service calls
}

func newHarness(t *testing.T, topo bus.Topology) *harness {
	t.Helper()
	srv := bustest.NewServer(t)
	_, js := bustest.Connect(t, srv.ClientURL())
	require.NoError(t, bus.Provision(t.Context(), js, topo))
	sim := shuyuntest.NewServer(t)
	return &harness{js: js, url: srv.ClientURL(), sim: sim.Simulator, base: sim.URL}
}

func (h *harness) start(t *testing.T, cfg bus.Config) (stop func()) {
	t.Helper()
	client, err := shuyun.New(shuyun.Config{BaseURL: h.base, ClientID: shuyuntest.DefaultClientID, ClientSecret: shuyuntest.DefaultClientSecret})
	require.NoError(t, err)
	cfg.Name = points.Name
	cfg.SkipProvision = true
	if cfg.Backoff.Initial == 0 {
		cfg.Backoff = bus.Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond}
	}
	return bustest.Start(t, h.url, cfg, points.New(client).Routes()...)
}

func (h *harness) publish(t *testing.T, subject string, id, typ string, data any, mode bus.Mode, header ...string) *jetstream.PubAck {
	t.Helper()
	return bustest.Publish(t, h.js, subject, bustest.Command(t, id, typ, data), mode, header...)
}

func (h *harness) result(t *testing.T, subject string, n int) []bustest.Output {
	t.Helper()
	return bustest.WaitMessages(t, h.js, "LOYALTY_RESULTS", subject, n)
}

func freeze(pts int64) eventspoints.Freeze {
	return eventspoints.Freeze{MemberID: member, MemberType: "shuyun", ChannelType: "POS", Points: pts, Description: "双十一冻结 заморозка", ShopCode: "10001"}
}

func TestFreezeHappyPathBothModes(t *testing.T) {
	for _, mode := range []bus.Mode{bus.Binary, bus.Structured} {
		t.Run(mode.String(), func(t *testing.T) {
			h := newHarness(t, bus.Topology{})
			h.start(t, bus.Config{})
			id := uuid.NewString()
			h.publish(t, eventspoints.SubjectFreeze, id, eventspoints.TypeFreeze, freeze(30), mode)

			res := h.result(t, "loyalty.result.points.freeze", 1)[0]
			r := res.Result(t)
			assert.Equal(t, "succeeded", r.Status)
			assert.Equal(t, id, res.Ext("causationid"))
			assert.Equal(t, "loyalty.points.freeze.result.v1", res.Event.Type())
			assert.Equal(t, id, r.Output["freezeId"])

			ev := bustest.WaitMessages(t, h.js, "LOYALTY_EVENTS", eventspoints.SubjectFrozen, 1)[0]
			assert.Equal(t, eventspoints.TypeFrozen, ev.Event.Type())
			var frozen eventspoints.Frozen
			require.NoError(t, ev.Event.DataAs(&frozen))
			assert.Equal(t, eventspoints.Frozen{FreezeID: id, MemberID: member, MemberType: "shuyun", ChannelType: "POS", Points: 30, Description: "双十一冻结 заморозка", ShopCode: "10001"}, frozen)

			calls := h.sim.Calls(shuyun.PathFreezePoints)
			require.Len(t, calls, 1)
			assert.Equal(t, id, calls[0].Token)
			assert.Contains(t, string(calls[0].Body), "双十一冻结 заморозка", "Chinese and Cyrillic text reach the vendor intact")
			require.True(t, calls[0].RawHeaderCase)
			assert.Equal(t, []string{shuyuntest.DefaultClientID}, calls[0].Header["client_id"])
			assert.Equal(t, []string{shuyuntest.DefaultClientSecret}, calls[0].Header["client_secret"])
			avail, frozenPts := h.sim.Balance(member)
			assert.Equal(t, int64(shuyuntest.DefaultBalance-30), avail)
			assert.Equal(t, int64(30), frozenPts)
		})
	}
}

func TestUnfreezeAndConsumeUseTheFreezeToken(t *testing.T) {
	h := newHarness(t, bus.Topology{})
	h.start(t, bus.Config{})
	f1, f2 := uuid.NewString(), uuid.NewString()
	h.publish(t, eventspoints.SubjectFreeze, f1, eventspoints.TypeFreeze, freeze(10), bus.Binary)
	h.publish(t, eventspoints.SubjectFreeze, f2, eventspoints.TypeFreeze, freeze(20), bus.Binary)
	settle := eventspoints.Unfreeze{MemberID: member, MemberType: "shuyun", ChannelType: "POS"}
	settle.FreezeID = f1
	unfreezeID := uuid.NewString()
	h.publish(t, eventspoints.SubjectUnfreeze, unfreezeID, eventspoints.TypeUnfreeze, settle, bus.Binary)
	settle.FreezeID = f2
	h.publish(t, eventspoints.SubjectConsume, uuid.NewString(), eventspoints.TypeConsume, eventspoints.Consume(settle), bus.Binary)
	// Consuming the freeze that was already released must fail cleanly.
	settle.FreezeID = f1
	lateID := uuid.NewString()
	h.publish(t, eventspoints.SubjectConsume, lateID, eventspoints.TypeConsume, eventspoints.Consume(settle), bus.Binary)

	all := h.result(t, "loyalty.result.points.>", 5)
	byID := map[string]bustest.ResultData{}
	for _, o := range all {
		r := o.Result(t)
		byID[r.CommandID] = r
	}
	assert.Equal(t, "succeeded", byID[unfreezeID].Status)
	late := byID[lateID]
	assert.Equal(t, "failed", late.Status)
	require.NotNil(t, late.Error)
	require.NotNil(t, late.Error.Vendor)
	assert.Equal(t, "shuyun", late.Error.Vendor.Name)
	assert.Equal(t, shuyuntest.CodeFreezeSettled, late.Error.Vendor.Code)

	unfreezes := h.sim.Calls(shuyun.PathUnfreezePoints)
	require.Len(t, unfreezes, 1)
	assert.Equal(t, f1, unfreezes[0].Token, "unfreeze sends the freeze's token, not its own id")
	deducts := h.sim.Calls(shuyun.PathDeductFrozenPoints)
	require.Len(t, deducts, 2)
	assert.ElementsMatch(t, []string{f1, f2}, []string{deducts[0].Token, deducts[1].Token})
	avail, frozen := h.sim.Balance(member)
	assert.Equal(t, int64(shuyuntest.DefaultBalance-20), avail)
	assert.Zero(t, frozen)
	bustest.WaitMessages(t, h.js, "LOYALTY_EVENTS", eventspoints.SubjectUnfrozen, 1)
	bustest.WaitMessages(t, h.js, "LOYALTY_EVENTS", eventspoints.SubjectConsumed, 1)
	bustest.WaitIdle(t, h.js, points.Name)
	assert.Equal(t, 1, bustest.Count(t, h.js, "LOYALTY_EVENTS", eventspoints.SubjectConsumed), "the failed consume emits no event")
}

func TestSameCommandThreeTimesIsOneEffectOneResult(t *testing.T) {
	// A dedup window this short lets a later publish through as a new message.
	h := newHarness(t, bus.Topology{DuplicatesWindow: 100 * time.Millisecond})
	h.start(t, bus.Config{})
	id := uuid.NewString()
	// First and second inside the window: the stream drops the second.
	h.publish(t, eventspoints.SubjectFreeze, id, eventspoints.TypeFreeze, freeze(5), bus.Binary)
	h.publish(t, eventspoints.SubjectFreeze, id, eventspoints.TypeFreeze, freeze(5), bus.Binary)
	bustest.WaitIdle(t, h.js, points.Name)
	// Third outside it: wait until the stream forgot the id, on the stream's own state.
	require.Eventually(t, func() bool {
		ack, err := h.js.PublishMsg(t.Context(), probe(t, id))
		return err == nil && !ack.Duplicate
	}, 10*time.Second, 20*time.Millisecond)
	bustest.WaitIdle(t, h.js, points.Name)

	assert.Equal(t, 2, bustest.Count(t, h.js, "LOYALTY_COMMANDS", eventspoints.SubjectFreeze), "one copy deduplicated by the stream, one by the record")
	assert.Equal(t, 1, h.sim.EffectCount(shuyun.PathFreezePoints, id))
	assert.Len(t, h.sim.Calls(shuyun.PathFreezePoints), 1)
	assert.Equal(t, 1, bustest.Count(t, h.js, "LOYALTY_RESULTS", "loyalty.result.>"))
	assert.Equal(t, 1, bustest.Count(t, h.js, "LOYALTY_EVENTS", "loyalty.event.>"))
}

// probe is the same freeze command again, published with its own id as Nats-Msg-Id.
func probe(t *testing.T, id string) *nats.Msg {
	m, err := bus.Encode(eventspoints.SubjectFreeze, bustest.Command(t, id, eventspoints.TypeFreeze, freeze(5)), bus.Binary)
	require.NoError(t, err)
	return m
}

func TestTransient503TwiceThenSuccess(t *testing.T) {
	h := newHarness(t, bus.Topology{})
	h.sim.FailNext(2, http.StatusServiceUnavailable, shuyuntest.OnPath(shuyun.PathFreezePoints))
	h.start(t, bus.Config{})
	id := uuid.NewString()
	h.publish(t, eventspoints.SubjectFreeze, id, eventspoints.TypeFreeze, freeze(7), bus.Binary)
	r := h.result(t, "loyalty.result.points.freeze", 1)[0].Result(t)
	assert.Equal(t, "succeeded", r.Status)
	assert.Equal(t, 3, r.Attempts)
	calls := h.sim.Calls(shuyun.PathFreezePoints)
	require.Len(t, calls, 3)
	for _, c := range calls {
		assert.Equal(t, id, c.Token, "the same token on every attempt")
	}
	assert.Equal(t, 1, h.sim.EffectCount(shuyun.PathFreezePoints, id))
	bustest.WaitIdle(t, h.js, points.Name)
	assert.Equal(t, 1, bustest.Count(t, h.js, "LOYALTY_RESULTS", "loyalty.result.>"))
}

func TestCommitThenDropIsOneEffectOneResult(t *testing.T) {
	h := newHarness(t, bus.Topology{})
	h.sim.CommitThenDrop(1, shuyuntest.OnPath(shuyun.PathFreezePoints))
	h.start(t, bus.Config{})
	id := uuid.NewString()
	h.publish(t, eventspoints.SubjectFreeze, id, eventspoints.TypeFreeze, freeze(9), bus.Binary)
	r := h.result(t, "loyalty.result.points.freeze", 1)[0].Result(t)
	assert.Equal(t, "succeeded", r.Status)
	assert.Equal(t, 2, r.Attempts)
	assert.Len(t, h.sim.Calls(shuyun.PathFreezePoints), 2)
	assert.Equal(t, 1, h.sim.EffectCount(shuyun.PathFreezePoints, id))
	_, frozen := h.sim.Balance(member)
	assert.Equal(t, int64(9), frozen)
	bustest.WaitIdle(t, h.js, points.Name)
	assert.Equal(t, 1, bustest.Count(t, h.js, "LOYALTY_RESULTS", "loyalty.result.>"))
}

func TestBusinessErrorFailsOnceWithDLQCopy(t *testing.T) {
	h := newHarness(t, bus.Topology{})
	h.sim.BusinessErrorNext(1, shuyuntest.CodeParam, "参数异常", shuyuntest.OnPath(shuyun.PathFreezePoints))
	h.start(t, bus.Config{})
	id := uuid.NewString()
	cmd := bustest.Command(t, id, eventspoints.TypeFreeze, freeze(11))
	pub := bustest.Publish(t, h.js, eventspoints.SubjectFreeze, cmd, bus.Binary)
	r := h.result(t, "loyalty.result.points.freeze", 1)[0].Result(t)
	assert.Equal(t, "failed", r.Status)
	require.NotNil(t, r.Error)
	require.NotNil(t, r.Error.Vendor)
	assert.Equal(t, shuyuntest.CodeParam, r.Error.Vendor.Code)
	assert.Equal(t, "参数异常", r.Error.Vendor.Message)

	dl := bustest.WaitMessages(t, h.js, "LOYALTY_DLQ", "loyalty.dlq.points.freeze", 1)[0]
	orig, err := bus.Encode(eventspoints.SubjectFreeze, cmd, bus.Binary)
	require.NoError(t, err)
	assert.Equal(t, orig.Data, dl.Raw, "the DLQ copy keeps the original bytes")
	assert.Equal(t, id, dl.Header.Get("ce-id"), "and the original headers")
	assert.Contains(t, dl.Header.Get("Loyalty-Dlq-Reason"), shuyuntest.CodeParam)
	assert.Equal(t, "1", dl.Header.Get("Loyalty-Dlq-Attempts"))
	assert.Equal(t, "LOYALTY_COMMANDS", dl.Header.Get("Loyalty-Dlq-Stream"))
	assert.Equal(t, fmt.Sprint(pub.Sequence), dl.Header.Get("Loyalty-Dlq-Sequence"))
	bustest.WaitIdle(t, h.js, points.Name)
	assert.Len(t, h.sim.Calls(shuyun.PathFreezePoints), 1, "exactly one vendor call")
}

func TestBadInputNeverReachesTheVendor(t *testing.T) {
	h := newHarness(t, bus.Topology{})
	h.start(t, bus.Config{})
	hdr := func(id, typ string) nats.Header {
		return nats.Header{"ce-specversion": {"1.0"}, "ce-id": {id}, "ce-source": {"test"}, "ce-type": {typ}, "Content-Type": {"application/json"}}
	}
	good := `{"memberId":"` + member + `","memberType":"shuyun","channelType":"POS","points":5}`
	tests := []struct {
		name      string
		header    nats.Header
		data      string
		wantField string
	}{
		{name: "not JSON", data: "{{{"},
		{name: "no id", header: hdr("", eventspoints.TypeFreeze), data: good},
		{name: "bad id characters", header: hdr("id with spaces", eventspoints.TypeFreeze), data: good, wantField: "id"},
		{name: "unknown type", header: hdr("unknown-type", "loyalty.points.melt.v1"), data: good, wantField: "type"},
		{name: "type and subject disagree", header: hdr("mismatch", eventspoints.TypeAdjust), data: good, wantField: "type"},
		{name: "negative points", header: hdr("negative", eventspoints.TypeFreeze), data: `{"memberId":"m","memberType":"shuyun","channelType":"POS","points":-5}`, wantField: "data.points"},
		{name: "memberId longer than 32", header: hdr("long-member", eventspoints.TypeFreeze), data: `{"memberId":"` + member + `X","memberType":"shuyun","channelType":"POS","points":5}`, wantField: "data.memberId"},
	}
	rejected := 0
	for _, tt := range tests {
		bustest.PublishRaw(t, h.js, eventspoints.SubjectFreeze, tt.header, []byte(tt.data))
		if tt.wantField != "" {
			rejected++
		}
	}
	goodID := uuid.NewString()
	h.publish(t, eventspoints.SubjectFreeze, goodID, eventspoints.TypeFreeze, freeze(5), bus.Binary)
	all := h.result(t, "loyalty.result.points.freeze", rejected+1)
	byID := map[string]bustest.ResultData{}
	for _, o := range all {
		r := o.Result(t)
		byID[r.CommandID] = r
	}
	for _, tt := range tests {
		if tt.wantField == "" {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			r := byID[tt.header.Get("ce-id")]
			assert.Equal(t, "rejected", r.Status)
			require.NotNil(t, r.Error)
			assert.Contains(t, r.Error.Message, tt.wantField+":")
		})
	}
	assert.Equal(t, "succeeded", byID[goodID].Status, "the service keeps running")
	bustest.WaitMessages(t, h.js, "LOYALTY_DLQ", "loyalty.dlq.invalid", 2)
	bustest.WaitMessages(t, h.js, "LOYALTY_DLQ", "loyalty.dlq.points.freeze", rejected)
	assert.Len(t, h.sim.Calls(shuyun.PathFreezePoints), 1, "only the good command reached the vendor")
}

// TestCrashBetweenVendorCallAndResult kills the service's connection after
// the vendor committed and before any result: the restarted service repeats
// the call with the same token, the vendor answers "already done", and one
// result is published.
func TestCrashBetweenVendorCallAndResult(t *testing.T) {
	srv := bustest.NewServer(t)
	_, js := bustest.Connect(t, srv.ClientURL())
	require.NoError(t, bus.Provision(t.Context(), js, bus.Topology{}))
	sim := shuyuntest.NewSimulator(shuyuntest.Options{})
	committed := make(chan struct{}, 1)
	hang := make(chan struct{})
	first := true
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, r)
		if first { // the vendor committed; its answer never arrives
			first = false
			committed <- struct{}{}
			select {
			case <-hang:
			case <-r.Context().Done():
			}
			return
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(vendor.Close)
	t.Cleanup(func() { close(hang) })
	client, err := shuyun.New(shuyun.Config{BaseURL: vendor.URL, ClientID: shuyuntest.DefaultClientID, ClientSecret: shuyuntest.DefaultClientSecret})
	require.NoError(t, err)
	cfg := bus.Config{Name: points.Name, SkipProvision: true, AckWait: time.Second, ShutdownTimeout: 50 * time.Millisecond, PinnedTTL: 500 * time.Millisecond}

	// The first instance runs on a connection the test can cut.
	nc, err := nats.Connect(srv.ClientURL())
	require.NoError(t, err)
	js1, err := jetstream.New(nc)
	require.NoError(t, err)
	svc, err := bus.New(js1, cfg)
	require.NoError(t, err)
	for _, r := range points.New(client).Routes() {
		require.NoError(t, svc.Handle(r))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	<-svc.Ready()

	id := uuid.NewString()
	bustest.Publish(t, js, eventspoints.SubjectFreeze, bustest.Command(t, id, eventspoints.TypeFreeze, freeze(13)), bus.Binary)
	<-committed
	nc.Close() // crash: no ack, no result can leave this instance
	cancel()
	<-done
	assert.Zero(t, bustest.Count(t, js, "LOYALTY_RESULTS", "loyalty.result.>"))

	bustest.Start(t, srv.ClientURL(), cfg, points.New(client).Routes()...)
	r := bustest.WaitMessages(t, js, "LOYALTY_RESULTS", "loyalty.result.points.freeze", 1)[0].Result(t)
	assert.Equal(t, "succeeded", r.Status)
	assert.Equal(t, 2, r.Attempts)
	bustest.WaitIdle(t, js, points.Name)
	assert.Equal(t, 1, sim.EffectCount(shuyun.PathFreezePoints, id), "one vendor effect")
	assert.Len(t, sim.Calls(shuyun.PathFreezePoints), 2, "the call was repeated with the same token")
	assert.Equal(t, 1, bustest.Count(t, js, "LOYALTY_RESULTS", "loyalty.result.>"), "one result")
	assert.Equal(t, 1, bustest.Count(t, js, "LOYALTY_EVENTS", "loyalty.event.>"))
}

// TestTraceparentReachesTheSimulator wires the Shuyun client as the binary
// does (resilience and telemetry transports) and follows a command's trace
// to the vendor request and the result.
func TestTraceparentReachesTheSimulator(t *testing.T) {
	h := newHarness(t, bus.Topology{})
	client, err := shuyun.New(shuyun.Config{BaseURL: h.base, ClientID: shuyuntest.DefaultClientID, ClientSecret: shuyuntest.DefaultClientSecret,
		HTTPClient: &http.Client{Transport: resilience.New(resilience.Config{Vendor: "shuyun", Next: &telemetry.Transport{Vendor: "shuyun"}})}})
	require.NoError(t, err)
	bustest.Start(t, h.url, bus.Config{Name: points.Name, SkipProvision: true}, points.New(client).Routes()...)

	const traceID = "0af7651916cd43dd8448eb211c80319c"
	ev := bustest.Command(t, uuid.NewString(), eventspoints.TypeFreeze, freeze(3))
	ev.SetExtension("traceparent", "00-"+traceID+"-b7ad6b7169203331-01")
	bustest.Publish(t, h.js, eventspoints.SubjectFreeze, ev, bus.Binary)
	res := h.result(t, "loyalty.result.points.freeze", 1)[0]
	calls := h.sim.Calls(shuyun.PathFreezePoints)
	require.Len(t, calls, 1)
	var tp string
	for k, v := range calls[0].Header {
		if strings.EqualFold(k, "traceparent") {
			tp = v[0]
		}
	}
	assert.Contains(t, tp, traceID, "the simulator saw the command's trace")
	assert.Contains(t, res.Ext("traceparent"), traceID)
}
