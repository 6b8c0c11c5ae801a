package bus_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/pkg/bus/bustest"
)

const (
	typeDo    = "loyalty.test.do.v1"
	subjectDo = "loyalty.cmd.test.do"
	schemaDo  = `{"type":"object","required":["memberId","n"],"properties":{"memberId":{"type":"string","maxLength":32},"n":{"type":"integer","minimum":0}}}`
)

type doData struct {
	MemberID string `json:"memberId"`
	N        int    `json:"n"`
}

// ledger is a handler double that records every call and applies an effect
// once per command id, as a vendor honouring an idempotency token would.
type ledger struct {
	mu      sync.Mutex
	calls   map[string]int
	effects map[string]int
	order   map[string][]int
	// fail decides the error of a call (nil: succeed).
	fail func(id string, call int) error
	// block, when set, is waited on before answering.
	block chan struct{}
}

func newLedger() *ledger {
	return &ledger{calls: map[string]int{}, effects: map[string]int{}, order: map[string][]int{}}
}

func (l *ledger) handle(ctx context.Context, cmd *bus.Command) (*bus.Outcome, error) {
	var d doData
	if err := cmd.Decode(&d); err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.calls[cmd.ID]++
	n := l.calls[cmd.ID]
	fail := l.fail
	block := l.block
	l.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if fail != nil {
		if err := fail(cmd.ID, n); err != nil {
			return nil, err
		}
	}
	l.mu.Lock()
	if l.effects[cmd.ID] == 0 {
		l.order[d.MemberID] = append(l.order[d.MemberID], d.N)
	}
	l.effects[cmd.ID]++
	l.mu.Unlock()
	return &bus.Outcome{
		Output:  map[string]any{"n": d.N},
		Changes: []bus.Change{{Type: "loyalty.test.done.v1", Subject: "loyalty.event.test.done", Data: d}},
	}, nil
}

func (l *ledger) get(m map[string]int, id string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return m[id]
}

type env struct {
	js  jetstream.JetStream
	url string
	led *ledger
}

func newEnv(t *testing.T, topo bus.Topology) *env {
	t.Helper()
	srv := bustest.NewServer(t)
	_, js := bustest.Connect(t, srv.ClientURL())
	require.NoError(t, bus.Provision(t.Context(), js, topo))
	return &env{js: js, url: srv.ClientURL(), led: newLedger()}
}

// start runs a service until the returned stop is called or the test ends.
func (e *env) start(t *testing.T, cfg bus.Config) (stop func()) {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "test"
	}
	cfg.SkipProvision = true
	if cfg.Backoff.Initial == 0 {
		cfg.Backoff = bus.Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond}
	}
	return bustest.Start(t, e.url, cfg, bus.Route{Type: typeDo, Subject: subjectDo, Schema: []byte(schemaDo), PartitionKey: "memberId",
		Handler: e.led.handle})
}

func results(t *testing.T, js jetstream.JetStream) []bustest.Output {
	return bustest.Messages(t, js, "LOYALTY_RESULTS", "loyalty.result.>")
}

func TestSucceededResultAndChangeEvent(t *testing.T) {
	e := newEnv(t, bus.Topology{})
	e.start(t, bus.Config{})
	ev := bustest.Command(t, "cmd-1", typeDo, doData{MemberID: "m1", N: 1})
	ev.SetExtension("correlationid", "order-9")
	ev.SetExtension("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	bustest.Publish(t, e.js, subjectDo, ev, bus.Binary)

	res := bustest.WaitMessages(t, e.js, "LOYALTY_RESULTS", "loyalty.result.test.do", 1)[0]
	r := res.Result(t)
	assert.Equal(t, "succeeded", r.Status)
	assert.Equal(t, "cmd-1", r.CommandID)
	assert.Equal(t, 1, r.Attempts)
	assert.EqualValues(t, 1, r.Output["n"])
	assert.Equal(t, "loyalty.test.do.result.v1", res.Event.Type())
	assert.Equal(t, "loyaltybus/test", res.Event.Source())
	assert.Equal(t, "cmd-1", res.Ext("causationid"))
	assert.Equal(t, "order-9", res.Ext("correlationid"))
	assert.Equal(t, "m1", res.Ext("partitionkey"))
	assert.Contains(t, res.Ext("traceparent"), "4bf92f3577b34da6a3ce929d0e0e4736")
	assert.Equal(t, res.Event.ID(), res.Header.Get(nats.MsgIdHdr))

	changes := bustest.WaitMessages(t, e.js, "LOYALTY_EVENTS", "loyalty.event.test.done", 1)
	assert.Equal(t, "cmd-1", changes[0].Ext("causationid"))
	assert.Equal(t, 1, e.led.get(e.led.effects, "cmd-1"))
}

func TestStructuredOutputMode(t *testing.T) {
	e := newEnv(t, bus.Topology{})
	e.start(t, bus.Config{OutputMode: bus.Structured})
	bustest.Publish(t, e.js, subjectDo, bustest.Command(t, "cmd-s", typeDo, doData{MemberID: "m1"}), bus.Binary)
	res := bustest.WaitMessages(t, e.js, "LOYALTY_RESULTS", "loyalty.result.>", 1)[0]
	assert.Equal(t, "application/cloudevents+json", res.Header.Get("Content-Type"))
	assert.Equal(t, "succeeded", res.Result(t).Status)
}

func TestTransientRetriedWithBackoffThenSucceeds(t *testing.T) {
	e := newEnv(t, bus.Topology{})
	e.led.fail = func(_ string, call int) error {
		if call <= 2 {
			return errors.New("vendor 503")
		}
		return nil
	}
	e.start(t, bus.Config{})
	bustest.Publish(t, e.js, subjectDo, bustest.Command(t, "cmd-r", typeDo, doData{MemberID: "m1"}), bus.Binary)
	r := bustest.WaitMessages(t, e.js, "LOYALTY_RESULTS", "loyalty.result.>", 1)[0].Result(t)
	assert.Equal(t, "succeeded", r.Status)
	assert.Equal(t, 3, r.Attempts)
	assert.Equal(t, 3, e.led.get(e.led.calls, "cmd-r"))
	bustest.WaitIdle(t, e.js, "test")
	assert.Len(t, results(t, e.js), 1)
}

func TestTransientExhaustedFailsWithDLQCopy(t *testing.T) {
	e := newEnv(t, bus.Topology{})
	e.led.fail = func(string, int) error { return errors.New("connection refused") }
	e.start(t, bus.Config{MaxAttempts: 3})
	bustest.Publish(t, e.js, subjectDo, bustest.Command(t, "cmd-x", typeDo, doData{MemberID: "m1"}), bus.Binary)
	r := bustest.WaitMessages(t, e.js, "LOYALTY_RESULTS", "loyalty.result.>", 1)[0].Result(t)
	assert.Equal(t, "failed", r.Status)
	assert.Equal(t, 3, r.Attempts)
	require.NotNil(t, r.Error)
	assert.Equal(t, "retries_exhausted", r.Error.Code)
	assert.True(t, r.Error.Retryable)
	dl := bustest.WaitMessages(t, e.js, "LOYALTY_DLQ", "loyalty.dlq.test.do", 1)[0]
	assert.Equal(t, "3", dl.Header.Get("Loyalty-Dlq-Attempts"))
	assert.Equal(t, "LOYALTY_COMMANDS", dl.Header.Get("Loyalty-Dlq-Stream"))
}

type vendorRefusal struct{}

func (vendorRefusal) Error() string   { return "vendor said no" }
func (vendorRefusal) Temporary() bool { return false }
func (vendorRefusal) VendorDetail() (string, int, string, string) {
	return "acme", 400, "010407", "参数异常"
}

func TestPermanentFailureIsNotRetried(t *testing.T) {
	e := newEnv(t, bus.Topology{})
	e.led.fail = func(string, int) error { return fmt.Errorf("freeze: %w", vendorRefusal{}) }
	e.start(t, bus.Config{})
	pub := bustest.Publish(t, e.js, subjectDo, bustest.Command(t, "cmd-p", typeDo, doData{MemberID: "m1"}), bus.Binary)
	r := bustest.WaitMessages(t, e.js, "LOYALTY_RESULTS", "loyalty.result.>", 1)[0].Result(t)
	assert.Equal(t, "failed", r.Status)
	require.NotNil(t, r.Error)
	require.NotNil(t, r.Error.Vendor)
	assert.Equal(t, "010407", r.Error.Vendor.Code)
	assert.Equal(t, "参数异常", r.Error.Vendor.Message)
	assert.False(t, r.Error.Retryable)
	dl := bustest.WaitMessages(t, e.js, "LOYALTY_DLQ", "loyalty.dlq.test.do", 1)[0]
	assert.Equal(t, fmt.Sprint(pub.Sequence), dl.Header.Get("Loyalty-Dlq-Sequence"))
	assert.Contains(t, dl.Header.Get("Loyalty-Dlq-Reason"), "vendor said no")
	bustest.WaitIdle(t, e.js, "test")
	assert.Equal(t, 1, e.led.get(e.led.calls, "cmd-p"))
}

func TestBadInputIsRejectedOrDeadLettered(t *testing.T) {
	e := newEnv(t, bus.Topology{})
	e.start(t, bus.Config{})
	binary := func(id, typ string, data []byte) nats.Header {
		return nats.Header{"ce-specversion": {"1.0"}, "ce-id": {id}, "ce-source": {"t"}, "ce-type": {typ}, "Content-Type": {"application/json"}}
	}
	tests := []struct {
		name      string
		header    nats.Header
		data      []byte
		wantField string // "" means no result: dead-lettered as invalid
	}{
		{name: "not JSON", data: []byte("not json at all")},
		{name: "no id", header: binary("", typeDo, nil), data: []byte(`{"memberId":"m","n":1}`)},
		{name: "bad id characters", header: binary("bad id!", typeDo, nil), data: []byte(`{"memberId":"m","n":1}`), wantField: "id"},
		{name: "unknown type", header: binary("bad-type", "loyalty.test.nope.v1", nil), data: []byte(`{"memberId":"m","n":1}`), wantField: "type"},
		{name: "negative number", header: binary("bad-n", typeDo, nil), data: []byte(`{"memberId":"m","n":-1}`), wantField: "data.n"},
		{name: "memberId too long", header: binary("bad-member", typeDo, nil), data: []byte(`{"memberId":"012345678901234567890123456789012","n":1}`), wantField: "data.memberId"},
		{name: "missing field", header: binary("bad-missing", typeDo, nil), data: []byte(`{"n":1}`), wantField: "data.memberId"},
	}
	wantResults, wantInvalid := 0, 0
	for _, tt := range tests {
		bustest.PublishRaw(t, e.js, subjectDo, tt.header, tt.data)
		if tt.wantField == "" {
			wantInvalid++
		} else {
			wantResults++
		}
	}
	// A valid command after the bad ones proves the service kept running.
	bustest.Publish(t, e.js, subjectDo, bustest.Command(t, "good", typeDo, doData{MemberID: "m"}), bus.Binary)
	all := bustest.WaitMessages(t, e.js, "LOYALTY_RESULTS", "loyalty.result.>", wantResults+1)
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
			r, ok := byID[tt.header.Get("ce-id")]
			require.True(t, ok, "no result")
			assert.Equal(t, "rejected", r.Status)
			require.NotNil(t, r.Error)
			assert.Equal(t, "validation", r.Error.Code)
			assert.Contains(t, r.Error.Message, tt.wantField+":")
		})
	}
	assert.Equal(t, "succeeded", byID["good"].Status)
	assert.Len(t, bustest.WaitMessages(t, e.js, "LOYALTY_DLQ", "loyalty.dlq.invalid", wantInvalid), wantInvalid)
	assert.Len(t, bustest.WaitMessages(t, e.js, "LOYALTY_DLQ", "loyalty.dlq.test.do", wantResults), wantResults)
	assert.Zero(t, e.led.get(e.led.calls, "bad-n"), "a rejected command must not reach the handler")
}

func TestDuplicatesOutsideDedupWindowAreAnsweredFromTheRecord(t *testing.T) {
	// A tiny commands dedup window lets the second and third publish reach the service.
	e := newEnv(t, bus.Topology{DuplicatesWindow: 100 * time.Millisecond})
	e.start(t, bus.Config{})
	ev := bustest.Command(t, "dup-1", typeDo, doData{MemberID: "m1", N: 7})
	for i := 0; i < 3; i++ {
		bustest.Publish(t, e.js, subjectDo, ev, bus.Structured, nats.MsgIdHdr, fmt.Sprintf("dup-1-%d", i))
	}
	bustest.WaitIdle(t, e.js, "test")
	assert.Equal(t, 3, bustest.Count(t, e.js, "LOYALTY_COMMANDS", subjectDo), "all three copies reached the stream")
	assert.Equal(t, 1, e.led.get(e.led.calls, "dup-1"))
	assert.Len(t, results(t, e.js), 1)
	assert.Equal(t, 1, bustest.Count(t, e.js, "LOYALTY_EVENTS", "loyalty.event.>"))
}

func TestConflictingPayloadIsDeadLettered(t *testing.T) {
	e := newEnv(t, bus.Topology{})
	e.start(t, bus.Config{})
	bustest.Publish(t, e.js, subjectDo, bustest.Command(t, "same-id", typeDo, doData{MemberID: "m1", N: 1}), bus.Binary)
	bustest.WaitMessages(t, e.js, "LOYALTY_RESULTS", "loyalty.result.>", 1)
	bustest.Publish(t, e.js, subjectDo, bustest.Command(t, "same-id", typeDo, doData{MemberID: "m1", N: 2}), bus.Binary, nats.MsgIdHdr, "other")
	dl := bustest.WaitMessages(t, e.js, "LOYALTY_DLQ", "loyalty.dlq.test.do", 1)[0]
	assert.Equal(t, "conflict", dl.Header.Get("Loyalty-Dlq-Reason"))
	bustest.WaitIdle(t, e.js, "test")
	assert.Equal(t, 1, e.led.get(e.led.calls, "same-id"))
	rs := results(t, e.js)
	require.Len(t, rs, 1)
	assert.EqualValues(t, 1, rs[0].Result(t).Output["n"], "the first command's result stands")
}

func TestReplayReattemptsFailedButNotSucceeded(t *testing.T) {
	e := newEnv(t, bus.Topology{})
	var down atomic.Bool
	down.Store(true)
	e.led.fail = func(id string, _ int) error {
		if id == "will-fail" && down.Load() {
			return fmt.Errorf("outage: %w", vendorRefusal{})
		}
		return nil
	}
	e.start(t, bus.Config{})
	bustest.Publish(t, e.js, subjectDo, bustest.Command(t, "will-fail", typeDo, doData{MemberID: "a"}), bus.Binary)
	bustest.Publish(t, e.js, subjectDo, bustest.Command(t, "will-pass", typeDo, doData{MemberID: "b"}), bus.Binary)
	bustest.WaitMessages(t, e.js, "LOYALTY_RESULTS", "loyalty.result.>", 2)
	bustest.WaitIdle(t, e.js, "test")

	down.Store(false)
	for _, id := range []string{"will-fail", "will-pass"} {
		m := "a"
		if id == "will-pass" {
			m = "b"
		}
		bustest.Publish(t, e.js, subjectDo, bustest.Command(t, id, typeDo, doData{MemberID: m}), bus.Binary,
			nats.MsgIdHdr, "replay-"+id, "Loyalty-Replay", "true")
	}
	bustest.WaitMessages(t, e.js, "LOYALTY_RESULTS", "loyalty.result.>", 3)
	bustest.WaitIdle(t, e.js, "test")
	all := results(t, e.js)
	require.Len(t, all, 3, "one new result for the re-attempted command, none for the succeeded one")
	last := all[2].Result(t)
	assert.Equal(t, "will-fail", last.CommandID)
	assert.Equal(t, "succeeded", last.Status)
	assert.Equal(t, 2, last.Attempts)
	assert.NotEqual(t, all[0].Event.ID(), all[2].Event.ID())
	assert.Equal(t, 1, e.led.get(e.led.calls, "will-pass"))
}

func TestOrderPerPartitionKeySurvivesRetries(t *testing.T) {
	e := newEnv(t, bus.Topology{})
	// The first command of member m1 fails twice; its followers must wait.
	e.led.fail = func(id string, call int) error {
		if id == "o-0" && call <= 2 {
			return errors.New("vendor 503")
		}
		return nil
	}
	e.start(t, bus.Config{Concurrency: 8})
	const n = 20
	for i := 0; i < n; i++ {
		member := "m1"
		if i%2 == 1 {
			member = "m2"
		}
		bustest.Publish(t, e.js, subjectDo, bustest.Command(t, fmt.Sprintf("o-%d", i), typeDo, doData{MemberID: member, N: i}), bus.Binary)
	}
	bustest.WaitMessages(t, e.js, "LOYALTY_RESULTS", "loyalty.result.>", n)
	e.led.mu.Lock()
	defer e.led.mu.Unlock()
	assert.Equal(t, []int{0, 2, 4, 6, 8, 10, 12, 14, 16, 18}, e.led.order["m1"])
	assert.Equal(t, []int{1, 3, 5, 7, 9, 11, 13, 15, 17, 19}, e.led.order["m2"])
}

func TestCrashMidCallRepeatsCallWithSameIDAndPublishesOneResult(t *testing.T) {
	e := newEnv(t, bus.Topology{})
	e.led.block = make(chan struct{})
	stop := e.start(t, bus.Config{AckWait: time.Second, ShutdownTimeout: 10 * time.Millisecond})
	bustest.Publish(t, e.js, subjectDo, bustest.Command(t, "crash-1", typeDo, doData{MemberID: "m1"}), bus.Binary)
	require.Eventually(t, func() bool { return e.led.get(e.led.calls, "crash-1") == 1 }, 10*time.Second, 5*time.Millisecond)
	stop() // the handler is cancelled mid-call: nothing is settled
	assert.Zero(t, bustest.Count(t, e.js, "LOYALTY_RESULTS", "loyalty.result.>"))

	close(e.led.block)
	e.start(t, bus.Config{AckWait: time.Second})
	r := bustest.WaitMessages(t, e.js, "LOYALTY_RESULTS", "loyalty.result.>", 1)[0].Result(t)
	assert.Equal(t, "succeeded", r.Status)
	assert.Equal(t, 2, r.Attempts)
	bustest.WaitIdle(t, e.js, "test")
	assert.Len(t, results(t, e.js), 1)
	assert.Equal(t, 1, e.led.get(e.led.effects, "crash-1"))
}

// TestSlowHandlerIsKeptAliveNotRedelivered runs a handler for 2.5 ack
// deadlines: in-progress acks keep the message, so it is called once.
func TestSlowHandlerIsKeptAliveNotRedelivered(t *testing.T) {
	e := newEnv(t, bus.Topology{})
	e.led.block = make(chan struct{})
	e.start(t, bus.Config{AckWait: 300 * time.Millisecond})
	bustest.Publish(t, e.js, subjectDo, bustest.Command(t, "slow-1", typeDo, doData{MemberID: "m1"}), bus.Binary)
	require.Eventually(t, func() bool { return e.led.get(e.led.calls, "slow-1") == 1 }, 5*time.Second, 5*time.Millisecond)
	c, err := e.js.Consumer(t.Context(), "LOYALTY_COMMANDS", "test")
	require.NoError(t, err)
	// Hold the call for 2.5 ack deadlines, watching the consumer the while.
	deadline := time.Now().Add(750 * time.Millisecond)
	for time.Now().Before(deadline) {
		info, err := c.Info(t.Context())
		require.NoError(t, err)
		require.Zero(t, info.NumRedelivered, "the running command was redelivered")
	}
	close(e.led.block)
	r := bustest.WaitMessages(t, e.js, "LOYALTY_RESULTS", "loyalty.result.>", 1)[0].Result(t)
	assert.Equal(t, "succeeded", r.Status)
	bustest.WaitIdle(t, e.js, "test")
	assert.Equal(t, 1, e.led.get(e.led.calls, "slow-1"), "one call: no duplicate in flight")
}

type keptBack struct{}

func (keptBack) Error() string             { return "rate limit reached" }
func (keptBack) Temporary() bool           { return true }
func (keptBack) Attempted() bool           { return false }
func (keptBack) RetryAfter() time.Duration { return 0 }

// TestKeptBackCallsDoNotUseUpAttempts hands a command back more often than
// MaxAttempts allows, as a limiter or open breaker would during an outage:
// it still succeeds once the vendor may be called.
func TestKeptBackCallsDoNotUseUpAttempts(t *testing.T) {
	e := newEnv(t, bus.Topology{})
	e.led.fail = func(_ string, call int) error {
		if call <= 5 {
			return keptBack{}
		}
		return nil
	}
	e.start(t, bus.Config{MaxAttempts: 2})
	bustest.Publish(t, e.js, subjectDo, bustest.Command(t, "kept-back", typeDo, doData{MemberID: "m1"}), bus.Binary)
	r := bustest.WaitMessages(t, e.js, "LOYALTY_RESULTS", "loyalty.result.>", 1)[0].Result(t)
	assert.Equal(t, "succeeded", r.Status)
	assert.Equal(t, 1, r.Attempts, "only the call that reached the vendor counts")
}
