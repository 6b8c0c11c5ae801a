package bus_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
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
