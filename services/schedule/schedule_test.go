package schedule_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/events/cheques"
	"github.com/loyaltybus/loyaltybus/events/tickets"
	"github.com/loyaltybus/loyaltybus/events/usage"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/pkg/bus/bustest"
	"github.com/loyaltybus/loyaltybus/services/internal/schematest"
	"github.com/loyaltybus/loyaltybus/services/schedule"
)

// fakeClock is moved by hand; Wait returns once Advance reaches its time.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at   time.Time
	done chan struct{}
}

func newClock(t time.Time) *fakeClock { return &fakeClock{now: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Wait(ctx context.Context, t time.Time) error {
	c.mu.Lock()
	if !c.now.Before(t) {
		c.mu.Unlock()
		return nil
	}
	w := waiter{at: t, done: make(chan struct{})}
	c.waiters = append(c.waiters, w)
	c.mu.Unlock()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if c.now.Before(w.at) {
			kept = append(kept, w)
			continue
		}
		close(w.done)
	}
	c.waiters = kept
}

const member int64 = 886263699231969848

// t0 is 10:02:30 UTC: the 1m schedule last ticked at 10:02, the 5m ones at 10:00.
var t0 = time.Date(2026, 11, 1, 10, 2, 30, 0, time.UTC)

func schedules() []schedule.Schedule {
	return []schedule.Schedule{
		schedule.Cheques("default", time.Minute),
		schedule.Tickets(member, true, 5*time.Minute, time.Minute),
		schedule.Usage("", 5*time.Minute, time.Minute),
	}
}

func newJetStream(t *testing.T) jetstream.JetStream {
	t.Helper()
	srv := bustest.NewServer(t)
	_, js := bustest.Connect(t, srv.ClientURL())
	require.NoError(t, bus.Provision(t.Context(), js, bus.Topology{}))
	return js
}

func newScheduler(t *testing.T, js jetstream.JetStream, clk schedule.Clock, cfg schedule.Config) *schedule.Scheduler {
	t.Helper()
	if cfg.Schedules == nil {
		cfg.Schedules = schedules()
	}
	cfg.Clock = clk
	s, err := schedule.New(js, cfg)
	require.NoError(t, err)
	return s
}

func commands(t *testing.T, js jetstream.JetStream, subject string) []bustest.Output {
	t.Helper()
	return bustest.Messages(t, js, "LOYALTY_COMMANDS", subject)
}

func TestTickPublishesOrdinaryCommandsWithDeterministicIDs(t *testing.T) {
	t.Parallel()
	js := newJetStream(t)
	s := newScheduler(t, js, newClock(t0), schedule.Config{})
	n, err := s.Tick(t.Context(), t0)
	require.NoError(t, err)
	assert.Equal(t, 3, n)

	ch := commands(t, js, cheques.SubjectFetch)
	require.Len(t, ch, 1)
	assert.Equal(t, "sched:cheques.default:20261101T100200Z", ch[0].Event.ID())
	assert.Equal(t, ch[0].Event.ID(), ch[0].Header.Get("Nats-Msg-Id"))
	assert.Equal(t, cheques.TypeFetch, ch[0].Event.Type())
	assert.Equal(t, schedule.Source, ch[0].Event.Source())
	assert.Equal(t, "default", ch[0].Ext("partitionkey"))
	assert.Equal(t, t0.Truncate(time.Minute), ch[0].Event.Time().UTC())
	assert.JSONEq(t, `{"register":"default"}`, string(ch[0].Event.Data()))

	tk := commands(t, js, tickets.SubjectFetch)
	require.Len(t, tk, 1)
	assert.Equal(t, "sched:tickets.886263699231969848:20261101T100000Z", tk[0].Event.ID())
	assert.Equal(t, "886263699231969848", tk[0].Ext("partitionkey"))
	schematest.Validate(t, tickets.FetchCommand.Schema, tk[0].Event.Data())
	assert.JSONEq(t, `{"customerUid":886263699231969848,"startTime":"2026-11-01T17:54:00+08:00","endTime":"2026-11-01T18:00:00+08:00","queryAllStoreConsume":true}`,
		string(tk[0].Event.Data()), "window [tick − 5m − 1m overlap, tick] in Shanghai time")

	us := commands(t, js, usage.SubjectFetch)
	require.Len(t, us, 1)
	schematest.Validate(t, usage.FetchCommand.Schema, us[0].Event.Data())
	assert.JSONEq(t, `{"startDate":"2026-11-01T17:54:00+08:00","endDate":"2026-11-01T18:00:00+08:00","timeSort":"ASC"}`, string(us[0].Event.Data()))
	schematest.Validate(t, cheques.FetchCommand.Schema, ch[0].Event.Data())

	// The same time again, or a moment later within the same ticks: nothing.
	n, err = s.Tick(t.Context(), t0.Add(20*time.Second))
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Equal(t, 3, bustest.Count(t, js, "LOYALTY_COMMANDS", "loyalty.cmd.>"))
}

func TestRestartCatchesUpMissedTicks(t *testing.T) {
	t.Parallel()
	js := newJetStream(t)
	first := newScheduler(t, js, newClock(t0), schedule.Config{})
	_, err := first.Tick(t.Context(), t0)
	require.NoError(t, err)

	// Down for 17 minutes; a new instance takes over.
	later := t0.Add(17 * time.Minute) // 10:19:30
	second := newScheduler(t, js, newClock(later), schedule.Config{})
	n, err := second.Tick(t.Context(), later)
	require.NoError(t, err)
	assert.Equal(t, 1+3+3, n, "cheques: the latest tick only; windowed: 10:05, 10:10, 10:15")

	ch := commands(t, js, cheques.SubjectFetch)
	require.Len(t, ch, 2)
	assert.Equal(t, "sched:cheques.default:20261101T101900Z", ch[1].Event.ID())

	tk := commands(t, js, tickets.SubjectFetch)
	require.Len(t, tk, 4)
	var prevEnd time.Time
	for i, o := range tk {
		var d tickets.Fetch
		require.NoError(t, json.Unmarshal(o.Event.Data(), &d))
		start, err := time.Parse(time.RFC3339, d.StartTime)
		require.NoError(t, err)
		end, err := time.Parse(time.RFC3339, d.EndTime)
		require.NoError(t, err)
		assert.Equal(t, time.Date(2026, 11, 1, 10, 5*i, 0, 0, time.UTC), end.UTC(), "ticks in order")
		if i > 0 {
			assert.Equal(t, prevEnd.Add(-time.Minute), start, "windows overlap by one minute, no gap")
		}
		prevEnd = end
	}
	assert.Len(t, commands(t, js, usage.SubjectFetch), 4)
}

func TestRepublishedTickIsDroppedByTheStream(t *testing.T) {
	t.Parallel()
	js := newJetStream(t)
	s := newScheduler(t, js, newClock(t0), schedule.Config{})
	_, err := s.Tick(t.Context(), t0)
	require.NoError(t, err)

	// A crash between publishing and remembering (or a second instance
	// without the record) publishes the same ticks again.
	kv, err := js.KeyValue(t.Context(), schedule.Bucket)
	require.NoError(t, err)
	for _, sc := range schedules() {
		require.NoError(t, kv.Delete(t.Context(), sc.Name))
	}
	other := newScheduler(t, js, newClock(t0), schedule.Config{})
	n, err := other.Tick(t.Context(), t0)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, 3, bustest.Count(t, js, "LOYALTY_COMMANDS", "loyalty.cmd.>"), "same ids, dropped as duplicates")
}

func TestCatchUpIsBounded(t *testing.T) {
	t.Parallel()
	js := newJetStream(t)
	cfg := schedule.Config{Schedules: []schedule.Schedule{schedule.Usage("S01", time.Minute, 0)}, MaxCatchUp: 2}
	s := newScheduler(t, js, newClock(t0), cfg)
	_, err := s.Tick(t.Context(), t0)
	require.NoError(t, err)
	n, err := s.Tick(t.Context(), t0.Add(10*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	cmds := commands(t, js, usage.SubjectFetch)
	require.Len(t, cmds, 3)
	assert.Equal(t, "sched:usage.S01:20261101T101100Z", cmds[1].Event.ID(), "the latest ticks are kept")
	assert.Equal(t, "sched:usage.S01:20261101T101200Z", cmds[2].Event.ID())
}

// TestRunTicksAndCatchesUpAfterDowntime drives Run with a clock moved by
// hand: it publishes the current tick, the ticks missed while it was
// stopped, and then each tick as the clock reaches it.
func TestRunTicksAndCatchesUpAfterDowntime(t *testing.T) {
	t.Parallel()
	js := newJetStream(t)
	clk := newClock(t0)
	cfg := schedule.Config{Schedules: []schedule.Schedule{schedule.Tickets(member, false, 5*time.Minute, 0)}}
	const subject = tickets.SubjectFetch

	run := func() (stop func()) {
		s := newScheduler(t, js, clk, cfg)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		<-s.Ready()
		return func() {
			cancel()
			require.NoError(t, <-done)
		}
	}

	stop := run()
	bustest.WaitMessages(t, js, "LOYALTY_COMMANDS", subject, 1) // 10:00
	clk.Advance(5 * time.Minute)
	bustest.WaitMessages(t, js, "LOYALTY_COMMANDS", subject, 2) // 10:05, on time
	stop()

	clk.Advance(16 * time.Minute) // down over 10:10, 10:15 and 10:20
	stop = run()
	defer stop()
	got := bustest.WaitMessages(t, js, "LOYALTY_COMMANDS", subject, 5)
	var ids []string
	for _, o := range got {
		ids = append(ids, o.Event.ID())
	}
	assert.Equal(t, []string{
		"sched:tickets.886263699231969848:20261101T100000Z",
		"sched:tickets.886263699231969848:20261101T100500Z",
		"sched:tickets.886263699231969848:20261101T101000Z",
		"sched:tickets.886263699231969848:20261101T101500Z",
		"sched:tickets.886263699231969848:20261101T102000Z",
	}, ids, "no tick skipped, none twice")
	clk.Advance(5 * time.Minute)
	bustest.WaitMessages(t, js, "LOYALTY_COMMANDS", subject, 6)
}

// TestScheduledCommandsAreServed runs the published commands through the
// runtime: they pass the contract's validation like any other command.
func TestScheduledCommandsAreServed(t *testing.T) {
	t.Parallel()
	srv := bustest.NewServer(t)
	_, js := bustest.Connect(t, srv.ClientURL())
	require.NoError(t, bus.Provision(t.Context(), js, bus.Topology{}))
	var mu sync.Mutex
	keys := map[string]string{}
	ok := func(_ context.Context, cmd *bus.Command) (*bus.Outcome, error) {
		mu.Lock()
		defer mu.Unlock()
		keys[cmd.Type] = cmd.PartitionKey
		return &bus.Outcome{}, nil
	}
	var routes []bus.Route
	for _, c := range []struct {
		typ, subject string
		schema       []byte
	}{
		{cheques.TypeFetch, cheques.SubjectFetch, cheques.FetchCommand.Schema},
		{tickets.TypeFetch, tickets.SubjectFetch, tickets.FetchCommand.Schema},
		{usage.TypeFetch, usage.SubjectFetch, usage.FetchCommand.Schema},
	} {
		routes = append(routes, bus.Route{Type: c.typ, Subject: c.subject, Schema: c.schema, Handler: ok})
	}
	bustest.Start(t, srv.ClientURL(), bus.Config{Name: "fetchers", SkipProvision: true}, routes...)

	s := newScheduler(t, js, newClock(t0), schedule.Config{})
	_, err := s.Tick(t.Context(), t0)
	require.NoError(t, err)
	for _, o := range bustest.WaitMessages(t, js, "LOYALTY_RESULTS", "loyalty.result.>", 3) {
		assert.Equal(t, "succeeded", o.Result(t).Status, "%s", o.Subject)
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, "default", keys[cheques.TypeFetch])
	assert.Equal(t, "886263699231969848", keys[tickets.TypeFetch], "fetches of one member are ordered")
}

func TestNewRejectsBadSchedules(t *testing.T) {
	js := newJetStream(t)
	bad := []schedule.Schedule{
		schedule.Cheques("bar 1", time.Minute),
		schedule.Cheques("default", 500*time.Millisecond),
		schedule.Cheques("default", 90*time.Second+time.Millisecond),
		schedule.Cheques("a-register-name-far-longer-than-forty-chars", time.Minute),
	}
	for _, sc := range bad {
		_, err := schedule.New(js, schedule.Config{Schedules: []schedule.Schedule{sc}})
		assert.Error(t, err, sc.Name)
	}
	_, err := schedule.New(js, schedule.Config{Schedules: []schedule.Schedule{schedule.Cheques("a", time.Minute), schedule.Cheques("a", time.Hour)}})
	assert.ErrorContains(t, err, "twice")
}

func TestRunWithoutSchedulesIdles(t *testing.T) {
	js := newJetStream(t)
	s, err := schedule.New(js, schedule.Config{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-s.Ready()
	cancel()
	require.NoError(t, <-done)
	_, err = js.KeyValue(t.Context(), schedule.Bucket)
	assert.ErrorIs(t, err, jetstream.ErrBucketNotFound, "nothing provisioned for nothing")
}
