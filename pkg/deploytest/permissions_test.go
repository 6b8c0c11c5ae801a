package deploytest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/pkg/bus/bustest"
	"github.com/loyaltybus/loyaltybus/pkg/telemetry"
)

// TestCluster starts the 3-node cluster from deploy/nats, provisions it as
// the operator, runs every service as its own user and proves, role by role,
// that the permissions are sufficient (everything each role needs works end
// to end) and restrictive (what it must not do is refused by the server).
func TestCluster(t *testing.T) {
	cfg := newNATSConfig(t)
	c := startCluster(t, cfg)

	op := c.connect(t, "operator")
	provision(t, op)

	pub := c.connect(t, "publisher")
	sub := c.connect(t, "subscriber")
	sched := c.connect(t, "schedule")
	stopWatch, err := telemetry.WatchQuorum(sched.nc, prometheus.NewRegistry())
	require.NoError(t, err)
	t.Cleanup(stopWatch)

	// Readers first, so they see every output.
	results := readResults(t, pub)
	events := readEvents(t, sub)

	svcConns := map[string]*conn{}
	for _, s := range services {
		svcConns[s.name] = runService(t, c, s)
	}

	t.Run("services settle commands as their own users", func(t *testing.T) {
		want, wantEvents := publishCommands(t, pub)
		scheduledWant, scheduledEvents := publishScheduled(t, sched)
		for id, status := range scheduledWant {
			want[id] = status
		}
		wantEvents = append(wantEvents, scheduledEvents...)
		sort.Strings(wantEvents)

		got := results.wait(t, len(want))
		assert.Equal(t, want, got, "one result per command, succeeded or failed as the vendor decided")
		assert.Equal(t, wantEvents, events.wait(t, len(wantEvents)), "every change event, read by the subscriber")

		wantDLQ := map[string]uint64{dlqInvalid: uint64(len(services))}
		for _, s := range services {
			for _, cmd := range s.commands {
				wantDLQ[cmd.dlq()] = 1
			}
		}
		require.EventuallyWithT(t, func(ct *assert.CollectT) {
			got, err := countBySubject(context.Background(), op, "LOYALTY_DLQ")
			if assert.NoError(ct, err) {
				assert.Equal(ct, wantDLQ, got, "dead letters as the operator reads them")
			}
		}, waitFor, 20*time.Millisecond)

		for _, s := range services {
			svcConns[s.name].noViolations(t)
		}
		pub.noViolations(t)
		sub.noViolations(t)
		sched.noViolations(t)
	})

	// The refusals below are shown on connections of their own, so the
	// connections above stay free of violations.

	t.Run("a service user is confined to its own subjects", func(t *testing.T) {
		probes := map[string]*conn{}
		for _, s := range services {
			probes[s.name] = c.connect(t, s.name)
		}
		for _, s := range services {
			cn := probes[s.name]
			for _, o := range services {
				if o.name == s.name {
					continue
				}
				cn.denyPublish(t, o.firstEvent())
				cn.denyPublish(t, o.commands[0].result())
				cn.denyPublish(t, o.commands[0].dlq())
				cn.denySubscribe(t, o.commands[0].subject())
				cn.denyPublish(t, "$JS.API.CONSUMER.MSG.NEXT.LOYALTY_COMMANDS."+o.name)
				cn.denyPublish(t, "$KV.LOYALTY_MEMO."+o.name+".checkpoint")
				cn.denySubscribe(t, inboxPrefix(o.name)+".>")
			}
			cn.denyPublish(t, scheduled[0])
			cn.denyPublish(t, "$KV.LOYALTY_SCHEDULES.tick")
		}

		points := probes["points"]
		// The points domain is shared with feeds (points.usage.fetch, points.used).
		points.denyPublish(t, "loyalty.event.points.used")
		points.denyPublish(t, "loyalty.result.points.usage.fetch")
		points.denySubscribe(t, "loyalty.cmd.points.usage.fetch")
		points.denyPublish(t, "loyalty.cmd.points.freeze")
		points.denySubscribe(t, "loyalty.cmd.>")
		points.denySubscribe(t, "loyalty.event.>")
		points.denySubscribe(t, "_INBOX.>")

		// Through JetStream as well: the publish is refused, nothing is stored.
		before := subjectCounts(t, op, "LOYALTY_EVENTS")
		points.denyAPI(t, "loyalty.event.coupon.granted", func(ctx context.Context) error {
			_, err := points.js.Publish(ctx, "loyalty.event.coupon.granted", []byte("{}"))
			return err
		})
		assert.Equal(t, before, subjectCounts(t, op, "LOYALTY_EVENTS"), "the forged event is not in the stream")

		points.denyAPI(t, "$JS.API.CONSUMER.INFO.LOYALTY_COMMANDS.coupons", func(ctx context.Context) error {
			_, err := points.js.Consumer(ctx, "LOYALTY_COMMANDS", "coupons")
			return err
		})
		points.denyAPI(t, "$JS.API.CONSUMER.CREATE.LOYALTY_COMMANDS.sneaky.loyalty.cmd.coupon.grant", func(ctx context.Context) error {
			_, err := points.js.CreateConsumer(ctx, "LOYALTY_COMMANDS", jetstream.ConsumerConfig{
				Durable: "sneaky", FilterSubject: "loyalty.cmd.coupon.grant", AckPolicy: jetstream.AckExplicitPolicy,
			})
			return err
		})
		points.denyAPI(t, "$JS.API.CONSUMER.DELETE.LOYALTY_COMMANDS.coupons", func(ctx context.Context) error {
			return points.js.DeleteConsumer(ctx, "LOYALTY_COMMANDS", "coupons")
		})
		commands, err := points.js.Stream(t.Context(), "LOYALTY_COMMANDS") // stream info is allowed
		require.NoError(t, err)
		points.denyAPI(t, "$JS.API.STREAM.MSG.GET.LOYALTY_COMMANDS", func(ctx context.Context) error {
			_, err := commands.GetMsg(ctx, 1)
			return err
		})
		points.denyPublish(t, "$JS.API.DIRECT.GET.LOYALTY_COMMANDS")
		points.denyAPI(t, "$JS.API.STREAM.PURGE.LOYALTY_COMMANDS", func(ctx context.Context) error {
			return commands.Purge(ctx)
		})
		points.denyAPI(t, "$JS.API.STREAM.UPDATE.LOYALTY_COMMANDS", func(ctx context.Context) error {
			cfg := commands.CachedInfo().Config
			cfg.MaxAge = time.Second
			_, err := points.js.UpdateStream(ctx, cfg)
			return err
		})
		points.denyAPI(t, "$JS.API.STREAM.DELETE.LOYALTY_COMMANDS", func(ctx context.Context) error {
			return points.js.DeleteStream(ctx, "LOYALTY_COMMANDS")
		})
		points.denyAPI(t, "$JS.API.STREAM.DELETE.KV_LOYALTY_IDEMPOTENCY", func(ctx context.Context) error {
			return points.js.DeleteKeyValue(ctx, bus.IdempotencyBucket)
		})
		memo, err := points.js.KeyValue(t.Context(), bus.MemoBucket)
		require.NoError(t, err)
		points.denyAPI(t, "$JS.API.DIRECT.GET.KV_LOYALTY_MEMO.$KV.LOYALTY_MEMO.coupons.checkpoint", func(ctx context.Context) error {
			_, err := memo.Get(ctx, "coupons.checkpoint")
			return err
		})
		points.denyAPI(t, "$KV.LOYALTY_MEMO.coupons.checkpoint", func(ctx context.Context) error {
			_, err := memo.Put(ctx, "coupons.checkpoint", []byte("x"))
			return err
		})
	})

	t.Run("the scheduler publishes fetch commands only", func(t *testing.T) {
		sched := c.connect(t, "schedule")
		for _, subj := range []string{"loyalty.cmd.points.freeze", "loyalty.cmd.coupon.grant", "loyalty.result.cheques.fetch",
			"loyalty.event.cheque.recorded", "loyalty.dlq.cheques.fetch", "$KV.LOYALTY_IDEMPOTENCY.x", "$KV.LOYALTY_MEMO.cheques.x"} {
			sched.denyPublish(t, subj)
		}
		for _, subj := range []string{"loyalty.cmd.>", "loyalty.result.>", "loyalty.event.>", "_INBOX_cheques.>"} {
			sched.denySubscribe(t, subj)
		}
		sched.denyAPI(t, "$JS.API.STREAM.DELETE.KV_LOYALTY_SCHEDULES", func(ctx context.Context) error {
			return sched.js.DeleteKeyValue(ctx, scheduleBucket)
		})
		sched.denyAPI(t, "$JS.API.CONSUMER.CREATE.LOYALTY_COMMANDS.snoop.loyalty.cmd.>", func(ctx context.Context) error {
			_, err := sched.js.CreateConsumer(ctx, "LOYALTY_COMMANDS", jetstream.ConsumerConfig{Durable: "snoop", FilterSubject: "loyalty.cmd.>"})
			return err
		})
	})

	t.Run("the publisher publishes commands and reads results only", func(t *testing.T) {
		pub := c.connect(t, "publisher")
		for _, subj := range []string{"loyalty.cmd.>", "loyalty.cmd.points.freeze", "loyalty.event.>", "loyalty.dlq.>", "_INBOX.>", "_INBOX_points.>", "$KV.>"} {
			pub.denySubscribe(t, subj)
		}
		for _, subj := range []string{"loyalty.result.points.freeze", "loyalty.event.points.frozen", "loyalty.dlq.invalid", "$KV.LOYALTY_IDEMPOTENCY.x", "$JS.API.CONSUMER.MSG.NEXT.LOYALTY_COMMANDS.points"} {
			pub.denyPublish(t, subj)
		}
		pub.denyAPI(t, "$JS.API.CONSUMER.CREATE.LOYALTY_COMMANDS.snoop.loyalty.cmd.>", func(ctx context.Context) error {
			_, err := pub.js.CreateConsumer(ctx, "LOYALTY_COMMANDS", jetstream.ConsumerConfig{Durable: "snoop", FilterSubject: "loyalty.cmd.>"})
			return err
		})
		pub.denyAPI(t, "$JS.API.STREAM.DELETE.LOYALTY_COMMANDS", func(ctx context.Context) error {
			return pub.js.DeleteStream(ctx, "LOYALTY_COMMANDS")
		})
		pub.denyAPI(t, "$JS.API.STREAM.DELETE.LOYALTY_RESULTS", func(ctx context.Context) error {
			return pub.js.DeleteStream(ctx, "LOYALTY_RESULTS")
		})
		results, err := pub.js.Stream(t.Context(), "LOYALTY_RESULTS")
		require.NoError(t, err)
		pub.denyAPI(t, "$JS.API.STREAM.PURGE.LOYALTY_RESULTS", func(ctx context.Context) error {
			return results.Purge(ctx)
		})
		pub.denyAPI(t, "$JS.API.STREAM.CREATE.SNOOP", func(ctx context.Context) error {
			_, err := pub.js.CreateStream(ctx, jetstream.StreamConfig{Name: "SNOOP", Subjects: []string{"snoop.>"}})
			return err
		})
		pub.denyAPI(t, "$JS.API.CONSUMER.DELETE.LOYALTY_COMMANDS.points", func(ctx context.Context) error {
			return pub.js.DeleteConsumer(ctx, "LOYALTY_COMMANDS", "points")
		})
		for _, name := range []string{"LOYALTY_COMMANDS", "LOYALTY_RESULTS"} {
			_, err := op.js.Stream(t.Context(), name)
			require.NoError(t, err, "%s still exists", name)
		}
	})

	t.Run("the subscriber reads events only", func(t *testing.T) {
		sub := c.connect(t, "subscriber")
		for _, subj := range []string{"loyalty.cmd.>", "loyalty.result.>", "loyalty.dlq.>", "_INBOX_publisher.>"} {
			sub.denySubscribe(t, subj)
		}
		for _, subj := range []string{"loyalty.cmd.points.freeze", "loyalty.event.points.frozen"} {
			sub.denyPublish(t, subj)
		}
		sub.denyAPI(t, "$JS.API.CONSUMER.CREATE.LOYALTY_RESULTS.snoop.loyalty.result.>", func(ctx context.Context) error {
			_, err := sub.js.CreateConsumer(ctx, "LOYALTY_RESULTS", jetstream.ConsumerConfig{Durable: "snoop", FilterSubject: "loyalty.result.>"})
			return err
		})
		evs, err := sub.js.Stream(t.Context(), "LOYALTY_EVENTS")
		require.NoError(t, err)
		sub.denyAPI(t, "$JS.API.STREAM.PURGE.LOYALTY_EVENTS", func(ctx context.Context) error {
			return evs.Purge(ctx)
		})
		sub.denyAPI(t, "$JS.API.STREAM.DELETE.LOYALTY_EVENTS", func(ctx context.Context) error {
			return sub.js.DeleteStream(ctx, "LOYALTY_EVENTS")
		})
	})

	t.Run("clients must use TLS and a valid user", func(t *testing.T) {
		plaintextRefused(t, c.servers[0].Addr().String(), "operator", cfg.Passwords["operator"])

		opts := []nats.Option{nats.RootCAs(cfg.PKI.CA), nats.Timeout(waitFor), nats.NoReconnect()}
		_, err := nats.Connect(c.urls, opts...)
		require.ErrorIs(t, err, nats.ErrAuthorization, "an anonymous client is refused")
		_, err = nats.Connect(c.urls, append(opts, nats.UserInfo("points", cfg.Passwords["publisher"]))...)
		require.ErrorIs(t, err, nats.ErrAuthorization, "a wrong password is refused")
	})
}

// plaintextRefused speaks the NATS protocol without TLS, with valid
// credentials, and shows that the server never accepts the connection.
func plaintextRefused(t testing.TB, addr, user, password string) {
	t.Helper()
	d := net.Dialer{Timeout: waitFor}
	nc, err := d.DialContext(t.Context(), "tcp", addr)
	require.NoError(t, err)
	defer nc.Close()
	require.NoError(t, nc.SetDeadline(time.Now().Add(waitFor)))
	r := bufio.NewReader(nc)
	info, err := r.ReadString('\n')
	require.NoError(t, err)
	require.Contains(t, info, `"tls_required":true`, "the server announces that TLS is required")

	connect, err := json.Marshal(map[string]any{"user": user, "pass": password, "verbose": false, "tls_required": false})
	require.NoError(t, err)
	_, err = fmt.Fprintf(nc, "CONNECT %s\r\nPING\r\n", connect)
	if err != nil {
		return // closed already: refused
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return // closed without a PONG: refused
		}
		require.NotContains(t, line, "PONG", "a plaintext client was accepted")
		if strings.HasPrefix(line, "-ERR") {
			assert.Contains(t, strings.ToLower(line), "tls required")
			return
		}
	}
}

// subjectCounts counts the messages of a stream by subject.
func subjectCounts(t testing.TB, op *conn, name string) map[string]uint64 {
	t.Helper()
	counts, err := countBySubject(t.Context(), op, name)
	require.NoError(t, err)
	return counts
}

func countBySubject(ctx context.Context, op *conn, name string) (map[string]uint64, error) {
	st, err := op.js.Stream(ctx, name)
	if err != nil {
		return nil, err
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(">"))
	if err != nil {
		return nil, err
	}
	return info.State.Subjects, nil
}

// runService runs a bus.Service for s as its own user, with the runtime's
// real consumer, idempotency, memo and output paths and a trivial vendor:
// data {"fail": true} is a permanent vendor refusal, anything else succeeds
// with the command's change events.
func runService(t *testing.T, c *cluster, s service) *conn {
	t.Helper()
	cn := c.connect(t, s.name)
	svc, err := bus.New(cn.js, bus.Config{
		Name:        s.name,
		Concurrency: 4,
		// A handler stuck on a refused request must not hold up the end
		// of a failing test.
		ShutdownTimeout: 2 * time.Second,
		SkipProvision:   true, // LOYALTY_PROVISION=false: the operator provisions
		Topology:        bus.Topology{Replicas: 3},
	})
	require.NoError(t, err)
	for _, cmd := range s.commands {
		require.NoError(t, svc.Handle(bus.Route{
			Type:    cmd.typ(),
			Subject: cmd.subject(),
			Schema:  []byte(`{"type":"object"}`),
			Handler: handler(s, cmd),
		}))
	}
	// The binary watches quorum-lost advisories on the same connection.
	stopWatch, err := telemetry.WatchQuorum(cn.nc, prometheus.NewRegistry())
	require.NoError(t, err)
	t.Cleanup(stopWatch)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("service %s: %v", s.name, err)
		}
		// Stopping needs permissions too (unpinning the priority group).
		cn.noViolations(t)
	})
	select {
	case <-svc.Ready():
	case err := <-done:
		t.Fatalf("service %s stopped before consuming: %v", s.name, err)
	case <-time.After(waitFor):
		t.Fatalf("service %s not consuming after %s", s.name, waitFor)
	}
	return cn
}

func handler(s service, cmd command) bus.Handler {
	return func(ctx context.Context, c *bus.Command) (*bus.Outcome, error) {
		var data struct {
			Fail bool `json:"fail"`
		}
		if err := c.Decode(&data); err != nil {
			return nil, err
		}
		if data.Fail {
			return nil, bus.Permanent(errors.New("refused by the test vendor"))
		}
		// The service's memo keys are readable and writable.
		if _, _, err := c.Memo(ctx, "checkpoint"); err != nil {
			return nil, err
		}
		var changes []bus.Change
		for _, e := range cmd.events {
			changes = append(changes, bus.Change{
				Type: eventType(e), Subject: eventSubject(e), Key: e, FactKey: c.ID + "/" + e,
				Data: map[string]string{"command": c.ID},
			})
		}
		if s.emits { // fetch services emit page by page and checkpoint
			err := c.Emit(ctx, changes, []bus.MemoWrite{{Key: "checkpoint", Value: []byte(c.ID)}})
			return &bus.Outcome{Output: map[string]string{"service": s.name}}, err
		}
		return &bus.Outcome{Output: map[string]string{"service": s.name}, Changes: changes}, nil
	}
}

// publishCommands publishes, as the publisher, every command twice (once to
// succeed, once to fail) and one message that is not a CloudEvent per
// service. It returns the status each command id must settle with and the
// change events the commands emit.
func publishCommands(t *testing.T, pub *conn) (map[string]string, []string) {
	t.Helper()
	want := map[string]string{}
	var events []string
	for _, s := range services {
		for i, cmd := range s.commands {
			for _, outcome := range []string{"succeeded", "failed"} {
				id := fmt.Sprintf("deploytest-%s-%d-%s", s.name, i, outcome)
				ev := bustest.Command(t, id, cmd.typ(), map[string]bool{"fail": outcome == "failed"})
				bustest.Publish(t, pub.js, cmd.subject(), ev, bus.Binary)
				want[id] = outcome
			}
			for _, e := range cmd.events {
				events = append(events, eventSubject(e))
			}
		}
		bustest.PublishRaw(t, pub.js, s.commands[0].subject(), nats.Header{}, []byte("not a CloudEvent"))
	}
	return want, events
}

// publishScheduled does what the scheduler does for each fetch command:
// read and record the schedule's last tick in its bucket, and publish the
// command.
func publishScheduled(t *testing.T, sched *conn) (map[string]string, []string) {
	t.Helper()
	ctx := t.Context()
	kv, err := sched.js.KeyValue(ctx, scheduleBucket)
	require.NoError(t, err)
	want := map[string]string{}
	var events []string
	for i, subject := range scheduled {
		cmd := commandOn(t, subject)
		key := fmt.Sprintf("deploytest-%d", i)
		_, err := kv.Get(ctx, key)
		require.ErrorIs(t, err, jetstream.ErrKeyNotFound)
		_, err = kv.Create(ctx, key, []byte(time.Now().UTC().Format(time.RFC3339Nano)))
		require.NoError(t, err)

		id := fmt.Sprintf("deploytest-schedule-%d", i)
		bustest.Publish(t, sched.js, subject, bustest.Command(t, id, cmd.typ(), map[string]bool{}), bus.Binary)
		want[id] = "succeeded"
		for _, e := range cmd.events {
			events = append(events, eventSubject(e))
		}
	}
	return want, events
}

// commandOn finds the command of the matrix published on subject.
func commandOn(t testing.TB, subject string) command {
	t.Helper()
	for _, s := range services {
		for _, c := range s.commands {
			if c.subject() == subject {
				return c
			}
		}
	}
	t.Fatalf("no service consumes %s", subject)
	return command{}
}

// collector gathers what a reader receives.
type collector struct {
	got  chan string
	seen []string
}

func (c *collector) wait(t testing.TB, n int) []string {
	t.Helper()
	timeout := time.NewTimer(waitFor)
	defer timeout.Stop()
	for len(c.seen) < n {
		select {
		case v := <-c.got:
			c.seen = append(c.seen, v)
		case <-timeout.C:
			t.Fatalf("received %d of %d: %v", len(c.seen), n, c.seen)
		}
	}
	out := append([]string(nil), c.seen...)
	sort.Strings(out)
	return out
}

// resultReader collects results by command id, as the publisher reads them
// (an ordered consumer on LOYALTY_RESULTS and a core subscription).
type resultReader struct {
	got  chan [2]string
	core chan string
}

func readResults(t *testing.T, pub *conn) *resultReader {
	t.Helper()
	r := &resultReader{got: make(chan [2]string, 256), core: make(chan string, 256)}
	decode := func(data []byte) ([2]string, bool) {
		var res struct {
			CommandID string `json:"commandId"`
			Status    string `json:"status"`
		}
		if json.Unmarshal(data, &res) != nil {
			return [2]string{}, false
		}
		return [2]string{res.CommandID, res.Status}, true
	}
	st, err := pub.js.Stream(t.Context(), "LOYALTY_RESULTS")
	require.NoError(t, err)
	cons, err := st.OrderedConsumer(t.Context(), jetstream.OrderedConsumerConfig{FilterSubjects: []string{"loyalty.result.>"}})
	require.NoError(t, err)
	cc, err := cons.Consume(func(m jetstream.Msg) {
		if v, ok := decode(m.Data()); ok {
			r.got <- v
		}
	})
	require.NoError(t, err)
	t.Cleanup(cc.Stop)
	sub, err := pub.nc.Subscribe("loyalty.result.>", func(m *nats.Msg) {
		if v, ok := decode(m.Data); ok {
			r.core <- v[0]
		}
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	require.NoError(t, pub.nc.Flush())
	return r
}

// wait returns the status of n distinct commands read from the stream, and
// checks that the core subscription receives results too (all of them, but
// core delivery is at most once, so one suffices to show the permission).
func (r *resultReader) wait(t testing.TB, n int) map[string]string {
	t.Helper()
	got, core := map[string]string{}, map[string]bool{}
	timeout := time.NewTimer(waitFor)
	defer timeout.Stop()
	for len(got) < n || len(core) == 0 {
		select {
		case v := <-r.got:
			got[v[0]] = v[1]
		case id := <-r.core:
			core[id] = true
		case <-timeout.C:
			t.Fatalf("results: %d of %d from the stream, %d on the core subscription: %v", len(got), n, len(core), got)
		}
	}
	return got
}

// readEvents reads change events as the subscriber does: a durable pull
// consumer it creates on LOYALTY_EVENTS, acknowledging each event.
func readEvents(t *testing.T, sub *conn) *collector {
	t.Helper()
	cons, err := sub.js.CreateOrUpdateConsumer(t.Context(), "LOYALTY_EVENTS", jetstream.ConsumerConfig{
		Durable: "deploytest", FilterSubject: "loyalty.event.>", AckPolicy: jetstream.AckExplicitPolicy,
	})
	require.NoError(t, err)
	c := &collector{got: make(chan string, 256)}
	// A pull sent while the new R3 consumer still elects its leader is
	// lost; a short expiry sends the next one soon, not after 30 s.
	cc, err := cons.Consume(func(m jetstream.Msg) {
		if err := m.DoubleAck(context.Background()); err == nil {
			c.got <- m.Subject()
		}
	}, jetstream.PullExpiry(time.Second))
	require.NoError(t, err)
	t.Cleanup(cc.Stop)
	return c
}
