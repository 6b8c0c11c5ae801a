package bus_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/pkg/bus/bustest"
)

func benchEvent(b *testing.B) *event.Event {
	ev := bustest.Command(b, "0193a8e2-7c1e-7b4e-9f51-3a2d5c6e7f80", typeDo, map[string]any{
		"memberId": "0040a85608844820900558fc2671cb7c", "memberType": "shuyun", "channelType": "POS", "points": 20,
		"description": "双十一冻结", "shopCode": "10001", "n": 1})
	ev.SetExtension("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	return ev
}

func BenchmarkDecode(b *testing.B) {
	for _, mode := range []bus.Mode{bus.Binary, bus.Structured} {
		b.Run(mode.String(), func(b *testing.B) {
			m, err := bus.Encode(subjectDo, benchEvent(b), mode)
			require.NoError(b, err)
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := bus.Decode(m.Header, m.Data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, mode := range []bus.Mode{bus.Binary, bus.Structured} {
		b.Run(mode.String(), func(b *testing.B) {
			ev := benchEvent(b)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bus.Encode(subjectDo, ev, mode); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCommand measures one command through the whole runtime (decode,
// validate, claim, handler, record, result and change event, ack) with a
// handler that answers at once: the runtime's own cost per command.
func BenchmarkCommand(b *testing.B) {
	for _, inFlight := range []int{1, 64} {
		b.Run(fmt.Sprintf("inflight=%d", inFlight), func(b *testing.B) {
			srv := bustest.NewServer(b)
			_, js := bustest.Connect(b, srv.ClientURL())
			require.NoError(b, bus.Provision(b.Context(), js, bus.Topology{}))
			done := make(chan struct{}, 1024)
			handler := func(_ context.Context, cmd *bus.Command) (*bus.Outcome, error) {
				return &bus.Outcome{Changes: []bus.Change{{Type: "loyalty.test.done.v1", Subject: "loyalty.event.test.done", Data: map[string]string{"id": cmd.ID}}}}, nil
			}
			cfg := bus.Config{Name: "bench", SkipProvision: true, Concurrency: inFlight}
			bustest.Start(b, srv.ClientURL(), cfg, bus.Route{Type: typeDo, Subject: subjectDo, Schema: []byte(schemaDo), PartitionKey: "memberId", Handler: handler})
			sub, err := js.Stream(b.Context(), "LOYALTY_RESULTS")
			require.NoError(b, err)
			cons, err := sub.OrderedConsumer(b.Context(), jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy})
			require.NoError(b, err)
			cc, err := cons.Consume(func(jetstream.Msg) { done <- struct{}{} })
			require.NoError(b, err)
			defer cc.Stop()

			// Commands are encoded before the clock starts: the publisher's
			// cost is not the runtime's.
			cmds := make([]*nats.Msg, b.N)
			for i := range cmds {
				ev := bustest.Command(b, fmt.Sprintf("bench-%d", i), typeDo, doData{MemberID: fmt.Sprintf("m%d", i%512), N: i})
				m, err := bus.Encode(subjectDo, ev, bus.Binary)
				require.NoError(b, err)
				cmds[i] = m
			}
			b.ReportAllocs()
			b.ResetTimer()
			for _, m := range cmds {
				if _, err := js.PublishMsgAsync(m); err != nil {
					b.Fatal(err)
				}
			}
			for range cmds {
				<-done
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cmds/s")
		})
	}
}
