package bus_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
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

// TestReplicasKeepPartitionOrder runs two replicas of one service: one is
// pinned and works, the other stands by; when the active one dies without a
// word, the standby takes over and per-member order still holds.
func TestReplicasKeepPartitionOrder(t *testing.T) {
	e := newEnv(t, bus.Topology{})
	cfg := bus.Config{Name: "test", SkipProvision: true, PinnedTTL: 500 * time.Millisecond, AckWait: time.Second,
		Backoff: bus.Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond}}
	route := func(l *ledger) bus.Route {
		return bus.Route{Type: typeDo, Subject: subjectDo, Schema: []byte(schemaDo), PartitionKey: "memberId", Handler: l.handle}
	}
	// A runs on a connection the test cuts; B is an ordinary replica.
	nc, err := nats.Connect(e.url)
	require.NoError(t, err)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ledgerA, ledgerB := newLedger(), newLedger()
	svcA, err := bus.New(js, cfg)
	require.NoError(t, err)
	require.NoError(t, svcA.Handle(route(ledgerA)))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() { _ = svcA.Run(ctx) }()
	<-svcA.Ready()
	bustest.Start(t, e.url, cfg, route(ledgerB))

	publish := func(from, to int) {
		for i := from; i < to; i++ {
			bustest.Publish(t, e.js, subjectDo, bustest.Command(t, fmt.Sprintf("r-%d", i), typeDo, doData{MemberID: fmt.Sprintf("m%d", i%5), N: i}), bus.Binary)
		}
	}
	publish(0, 50)
	bustest.WaitMessages(t, e.js, "LOYALTY_RESULTS", "loyalty.result.>", 50)
	callsA, callsB := len(ledgerA.calls), len(ledgerB.calls)
	assert.True(t, (callsA == 50 && callsB == 0) || (callsA == 0 && callsB == 50), "one replica works at a time: A %d, B %d", callsA, callsB)

	if callsA == 50 {
		nc.Close() // the active replica dies without unpinning
	}
	publish(50, 100)
	bustest.WaitMessages(t, e.js, "LOYALTY_RESULTS", "loyalty.result.>", 100)
	for m := 0; m < 5; m++ {
		var got []int
		for _, l := range []*ledger{ledgerA, ledgerB} {
			l.mu.Lock()
			got = append(got, l.order[fmt.Sprintf("m%d", m)]...)
			l.mu.Unlock()
		}
		var want []int
		for i := m; i < 100; i += 5 {
			want = append(want, i)
		}
		assert.Equal(t, want, got, "member m%d", m)
	}
}

type retryIn time.Duration

func (r retryIn) Error() string             { return "vendor busy" }
func (r retryIn) RetryAfter() time.Duration { return time.Duration(r) }

// TestOwnRetriesDoNotHoldNewWork checks the take-over guard does not take
// this service's own delayed retries for another instance's orphans: with
// a command waiting for its retry, a new one after a quiet spell is not held.
func TestOwnRetriesDoNotHoldNewWork(t *testing.T) {
	e := newEnv(t, bus.Topology{})
	e.led.fail = func(id string, call int) error {
		if id == "waits" && call == 1 {
			return retryIn(time.Second)
		}
		return nil
	}
	var logs lockedLog
	e.start(t, bus.Config{AckWait: 5 * time.Second, PinnedTTL: time.Millisecond, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	bustest.Publish(t, e.js, subjectDo, bustest.Command(t, "waits", typeDo, doData{MemberID: "a"}), bus.Binary)
	require.Eventually(t, func() bool { return e.led.get(e.led.calls, "waits") == 1 }, 5*time.Second, time.Millisecond)
	bustest.Publish(t, e.js, subjectDo, bustest.Command(t, "fresh", typeDo, doData{MemberID: "b"}), bus.Binary)
	bustest.WaitMessages(t, e.js, "LOYALTY_RESULTS", "loyalty.result.>", 2)
	assert.NotContains(t, logs.String(), "holding commands", "the service held new work behind its own retry")
}

type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// heldObserver records the most messages the service held at once.
type heldObserver struct{ max atomic.Int64 }

func (o *heldObserver) Outcome(bus.Observation)                           {}
func (o *heldObserver) HandlerDone(string, string, time.Duration, string) {}
func (o *heldObserver) Held(_ string, n int) {
	for cur := o.max.Load(); int64(n) > cur && !o.max.CompareAndSwap(cur, int64(n)); cur = o.max.Load() {
	}
}

// TestRetriedHeadRedeliveredWhileRunning covers what a paused or restarted
// broker does: the ack deadline of a running command passes (its in-progress
// acks were lost), so a copy of it is delivered and queued behind it on its
// key. When the running command then goes back for a retry, the copy must
// not stay in the queue (kept pending by heartbeats, so the command never
// comes back) and the command behind it must not run first.
func TestRetriedHeadRedeliveredWhileRunning(t *testing.T) {
	e := newEnv(t, bus.Topology{})
	// The clock steps back an hour once "a" runs: the heartbeat then sees
	// the messages received so far as fresh and keeps quiet, as if its
	// in-progress acks were lost, so the server redelivers them.
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(-time.Duration(offset.Load())) }
	obs := &heldObserver{}
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	releaseA := func() { once.Do(func() { close(release) }) }
	defer releaseA() // before the service stops, even if the test fails
	e.led.fail = func(id string, call int) error {
		if id == "a" && call == 1 {
			// Step back once b is held too, so both miss their heartbeats.
			for obs.max.Load() < 2 {
				select {
				case <-release:
					return nil
				case <-time.After(time.Millisecond):
				}
			}
			offset.Store(int64(time.Hour))
			close(started)
			<-release
			return retryIn(0)
		}
		return nil
	}
	e.start(t, bus.Config{AckWait: time.Second, Now: now, Observer: obs})
	bustest.Publish(t, e.js, subjectDo, bustest.Command(t, "a", typeDo, doData{MemberID: "m", N: 1}), bus.Binary)
	bustest.Publish(t, e.js, subjectDo, bustest.Command(t, "b", typeDo, doData{MemberID: "m", N: 2}), bus.Binary)
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("a never ran")
	}
	// a and b, then their copies once the ack deadline passed.
	require.Eventually(t, func() bool { return obs.max.Load() >= 4 }, 10*time.Second, 5*time.Millisecond)
	releaseA()
	bustest.WaitMessages(t, e.js, "LOYALTY_RESULTS", "loyalty.result.>", 2)
	e.led.mu.Lock()
	defer e.led.mu.Unlock()
	assert.Equal(t, []int{1, 2}, e.led.order["m"], "b ran before the retried a")
}

// TestLateRetriedHeadKeepsItsKeyBlocked checks a key whose retried head is
// late (here: the clock says its wait is long over, as after a broker that
// was away) stays blocked while the head is still pending, rather than
// letting the next command of the key overtake it.
func TestLateRetriedHeadKeepsItsKeyBlocked(t *testing.T) {
	e := newEnv(t, bus.Topology{})
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(-time.Duration(offset.Load())) }
	e.led.fail = func(id string, call int) error {
		if id == "a" && call == 1 {
			offset.Store(int64(time.Hour))
			return retryIn(0)
		}
		return nil
	}
	e.start(t, bus.Config{AckWait: time.Second, Now: now})
	bustest.Publish(t, e.js, subjectDo, bustest.Command(t, "a", typeDo, doData{MemberID: "m", N: 1}), bus.Binary)
	bustest.Publish(t, e.js, subjectDo, bustest.Command(t, "b", typeDo, doData{MemberID: "m", N: 2}), bus.Binary)
	bustest.WaitMessages(t, e.js, "LOYALTY_RESULTS", "loyalty.result.>", 2)
	e.led.mu.Lock()
	defer e.led.mu.Unlock()
	assert.Equal(t, []int{1, 2}, e.led.order["m"], "b overtook the retried a")
}

// redeliveryObserver counts deliveries the server had made before.
type redeliveryObserver struct {
	heldObserver
	redelivered atomic.Int64
}

func (o *redeliveryObserver) Outcome(ob bus.Observation) {
	if ob.Redelivered {
		o.redelivered.Add(1)
	}
}

// TestBacklogWaitingForWorkersIsNotRedelivered checks messages fetched while
// every worker is busy are kept alive: with one worker and a slow vendor,
// each waits several ack waits' worth of work, yet none is redelivered.
func TestBacklogWaitingForWorkersIsNotRedelivered(t *testing.T) {
	e := newEnv(t, bus.Topology{})
	e.led.fail = func(string, int) error {
		time.Sleep(600 * time.Millisecond) // the vendor's latency
		return nil
	}
	obs := &redeliveryObserver{}
	e.start(t, bus.Config{AckWait: time.Second, Concurrency: 1, Observer: obs})
	const n = 6
	for i := range n {
		bustest.Publish(t, e.js, subjectDo, bustest.Command(t, fmt.Sprintf("w-%d", i), typeDo, doData{MemberID: fmt.Sprintf("m%d", i), N: i}), bus.Binary)
	}
	bustest.WaitMessages(t, e.js, "LOYALTY_RESULTS", "loyalty.result.>", n)
	assert.Zero(t, obs.redelivered.Load(), "deliveries redelivered while waiting for a worker")
}

// TestStopLeavesNothingPending checks the drain: once Run has returned,
// every settled command's ack is confirmed and the consumer holds nothing.
func TestStopLeavesNothingPending(t *testing.T) {
	e := newEnv(t, bus.Topology{})
	stop := e.start(t, bus.Config{Concurrency: 64})
	const n = 300
	for i := range n {
		bustest.Publish(t, e.js, subjectDo, bustest.Command(t, fmt.Sprintf("s-%d", i), typeDo, doData{MemberID: fmt.Sprintf("m%d", i), N: i}), bus.Binary)
	}
	bustest.WaitMessages(t, e.js, "LOYALTY_RESULTS", "loyalty.result.>", n)
	stop()
	cons, err := e.js.Consumer(t.Context(), "LOYALTY_COMMANDS", "test")
	require.NoError(t, err)
	info, err := cons.Info(t.Context())
	require.NoError(t, err)
	assert.Zero(t, info.NumAckPending, "unconfirmed acks after stop")
	assert.Equal(t, uint64(n), info.AckFloor.Stream)
}
