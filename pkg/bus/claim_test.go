package bus_test

import (
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/pkg/bus/bustest"
)

// blockA makes the handler of command "a" wait until the returned release
// is called; started is closed once it waits. Tests defer release, so it
// runs before the service's stop (a test cleanup) waits for the handler.
func blockA(e *env) (started <-chan struct{}, release func()) {
	s, r := make(chan struct{}), make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(r) }) }
	e.led.fail = func(id string, call int) error {
		if id == "a" && call == 1 {
			close(s)
			<-r
		}
		return nil
	}
	return s, release
}

// waitClaimed waits until the idempotency record of id exists, and returns
// its revision.
func waitClaimed(t *testing.T, kv jetstream.KeyValue, id string, after uint64) uint64 {
	t.Helper()
	var rev uint64
	require.Eventually(t, func() bool {
		e, err := kv.Get(t.Context(), id)
		if err == nil && e.Revision() > after {
			rev = e.Revision()
			return true
		}
		return false
	}, 10*time.Second, 5*time.Millisecond, "no record of %s written", id)
	return rev
}

// TestClaimsWhileWorkersAreBusy checks a command claims its id while it
// waits for a worker, so the claim's round trip is not spent inside a worker
// slot, and that it still waits for the worker before calling the vendor.
func TestClaimsWhileWorkersAreBusy(t *testing.T) {
	e := newEnv(t, bus.Topology{})
	started, release := blockA(e)
	defer release()
	e.start(t, bus.Config{Concurrency: 1})
	kv, err := e.js.KeyValue(t.Context(), bus.IdempotencyBucket)
	require.NoError(t, err)

	bustest.Publish(t, e.js, subjectDo, bustest.Command(t, "a", typeDo, doData{MemberID: "m1", N: 1}), bus.Binary)
	<-started
	bustest.Publish(t, e.js, subjectDo, bustest.Command(t, "b", typeDo, doData{MemberID: "m2", N: 2}), bus.Binary)
	waitClaimed(t, kv, "b", 0)
	assert.Zero(t, e.led.get(e.led.calls, "b"), "b called the vendor beside a: more than Concurrency calls")

	release()
	results := bustest.WaitMessages(t, e.js, "LOYALTY_RESULTS", "loyalty.result.>", 2)
	for _, r := range results {
		assert.Equal(t, 1, r.Result(t).Attempts, r.Result(t).CommandID)
	}
	assert.Equal(t, 1, e.led.get(e.led.calls, "b"))
}

// TestStopGivesBackUnusedClaim checks a command claimed but still waiting
// for a worker at shutdown is handed back with its claim given back: the next
// process runs it at once, once, as its first attempt.
func TestStopGivesBackUnusedClaim(t *testing.T) {
	e := newEnv(t, bus.Topology{})
	started, release := blockA(e)
	defer release()
	stop := e.start(t, bus.Config{Concurrency: 1})
	kv, err := e.js.KeyValue(t.Context(), bus.IdempotencyBucket)
	require.NoError(t, err)

	bustest.Publish(t, e.js, subjectDo, bustest.Command(t, "a", typeDo, doData{MemberID: "m1", N: 1}), bus.Binary)
	<-started
	bustest.Publish(t, e.js, subjectDo, bustest.Command(t, "b", typeDo, doData{MemberID: "m2", N: 2}), bus.Binary)
	claim := waitClaimed(t, kv, "b", 0)

	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	waitClaimed(t, kv, "b", claim) // given back while a still runs
	release()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("service did not stop")
	}
	require.Zero(t, e.led.get(e.led.calls, "b"))

	e.start(t, bus.Config{Concurrency: 1})
	for _, r := range bustest.WaitMessages(t, e.js, "LOYALTY_RESULTS", "loyalty.result.>", 2) {
		res := r.Result(t)
		assert.Equal(t, "succeeded", res.Status, res.CommandID)
		assert.Equal(t, 1, res.Attempts, "%s: the unused claim counted as an attempt", res.CommandID)
	}
	assert.Equal(t, 1, e.led.get(e.led.calls, "b"))
}
