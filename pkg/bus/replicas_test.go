package bus_test

import (
	"context"
	"fmt"
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
