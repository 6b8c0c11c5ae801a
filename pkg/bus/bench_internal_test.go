package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/loyaltybus/loyaltybus/pkg/natsembed"
)

// freezeSchema has the shape of the points.freeze schema: the hot path's
// usual validation.
const freezeSchema = `{"type":"object","required":["memberId","memberType","channelType","points"],
"properties":{"memberId":{"type":"string","minLength":1,"maxLength":32},"memberType":{"type":"string","minLength":1,"maxLength":20},
"channelType":{"type":"string","minLength":1,"maxLength":20},"points":{"type":"integer","exclusiveMinimum":0},
"description":{"type":"string","maxLength":255},"shopCode":{"type":"string","maxLength":32}}}`

var freezeData = []byte(`{"memberId":"0040a85608844820900558fc2671cb7c","memberType":"shuyun","channelType":"POS","points":20,"description":"双十一冻结","shopCode":"10001"}`)

// BenchmarkValidate measures parsing command data once and validating it.
func BenchmarkValidate(b *testing.B) {
	v, err := compileSchema("freeze", []byte(freezeSchema))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := v.validate(freezeData); err != nil {
			b.Fatal(err)
		}
	}
}

// benchRecord is a settled record with a result and a change event, as the
// points service stores it.
func benchRecord() *record {
	hdr := map[string][]string{
		"Ce-Specversion": {"1.0"}, "Ce-Id": {"5f0c3a0e-6d1f-5e55-9a3e-2b8f7f0c1d2e"}, "Ce-Source": {"loyaltybus/points"},
		"Ce-Type": {"loyalty.points.freeze.result.v1"}, "Ce-Time": {"2026-11-11T00:00:00Z"}, "Content-Type": {"application/json"},
		"Nats-Msg-Id": {"5f0c3a0e-6d1f-5e55-9a3e-2b8f7f0c1d2e"}, "Ce-Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
	}
	return &record{State: stateSucceeded, Hash: "0f1e2d3c4b5a69788796a5b4c3d2e1f0", Seq: 123456, Attempts: 1, GenAttempts: 1,
		Outputs: []storedMsg{
			{Subject: "loyalty.result.points.freeze", Header: hdr, Data: []byte(`{"commandId":"c-1","outcome":"succeeded","output":{"freezeId":"c-1"}}`), Result: true},
			{Subject: "loyalty.event.points.frozen", Header: hdr, Data: freezeData},
		}}
}

// BenchmarkRecordCodec measures encoding and decoding the idempotency record.
func BenchmarkRecordCodec(b *testing.B) {
	r := benchRecord()
	b.Run("marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := marshalRecord(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	buf, err := marshalRecord(r)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var got record
			if err := unmarshalRecord(buf, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchJetStream starts a file-backed server with the topology provisioned,
// for the length of the benchmark.
func benchJetStream(b *testing.B) jetstream.JetStream {
	srv, err := natsembed.Start(natsembed.Config{StoreDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Shutdown)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		b.Fatal(err)
	}
	if err := Provision(b.Context(), js, Topology{}); err != nil {
		b.Fatal(err)
	}
	return js
}

// BenchmarkIdempotency measures the two record writes of every command
// against a real server (file store): the claim before the vendor call, and
// the settled record (a pipelined write, here awaited on its own).
func BenchmarkIdempotency(b *testing.B) {
	js := benchJetStream(b)
	kv, err := js.KeyValue(b.Context(), IdempotencyBucket)
	if err != nil {
		b.Fatal(err)
	}
	store := &idemStore{kv: kv}
	claim := &record{State: stateClaimed, Hash: "0f1e2d3c4b5a69788796a5b4c3d2e1f0", Seq: 1, Lease: leaseUntil(time.Now(), time.Minute), Attempts: 1, GenAttempts: 1}
	settled := benchRecord()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		id := fmt.Sprintf("bench-%d", i)
		i++
		rev, err := store.put(b.Context(), id, claim, 0)
		if err != nil {
			b.Fatal(err)
		}
		m, err := store.msg(id, settled, rev)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := js.PublishMsg(b.Context(), m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSettle measures settling one succeeded command against a real
// server (file store): encoding its result and change event, the settled
// record, publishing all three with one wait, and the double ack (whose
// confirmation is awaited off the worker; the benchmark waits for all at
// the end). Each iteration settles a message really delivered to a consumer.
func BenchmarkSettle(b *testing.B) {
	js := benchJetStream(b)
	ctx := b.Context()
	const subject = "loyalty.cmd.bench.freeze"
	s, err := New(js, Config{Name: "bench", SkipProvision: true})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Handle(Route{Type: "loyalty.bench.freeze.v1", Subject: subject, Schema: []byte(freezeSchema), PartitionKey: "memberId",
		Handler: func(context.Context, *Command) (*Outcome, error) { return nil, nil }}); err != nil {
		b.Fatal(err)
	}
	idemKV, err := js.KeyValue(ctx, IdempotencyBucket)
	if err != nil {
		b.Fatal(err)
	}
	memoKV, err := js.KeyValue(ctx, MemoBucket)
	if err != nil {
		b.Fatal(err)
	}
	s.idem = &idemStore{kv: idemKV}
	s.memo = &memoStore{kv: memoKV, prefix: "bench."}
	cons, err := js.CreateConsumer(ctx, streamCommands, jetstream.ConsumerConfig{
		Durable: "bench", FilterSubject: subject, AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: -1})
	if err != nil {
		b.Fatal(err)
	}

	// Deliver b.N commands before the clock starts; b.N is only known here
	// with the classic loop.
	jobs := make([]*job, 0, b.N)
	for i := 0; i < b.N; i++ {
		m := nats.NewMsg(subject)
		m.Header.Set("ce-specversion", "1.0")
		m.Header.Set("ce-id", fmt.Sprintf("settle-%d", i))
		m.Header.Set("ce-source", "bench")
		m.Header.Set("ce-type", "loyalty.bench.freeze.v1")
		m.Header.Set("Content-Type", "application/json")
		m.Data = freezeData
		if _, err := js.PublishMsgAsync(m); err != nil {
			b.Fatal(err)
		}
	}
	<-js.PublishAsyncComplete()
	for len(jobs) < b.N {
		batch, err := cons.Fetch(min(b.N-len(jobs), 1000))
		if err != nil {
			b.Fatal(err)
		}
		for m := range batch.Messages() {
			j := s.newJob(m)
			if j.rejection != nil || j.decodeErr != nil {
				b.Fatalf("command not valid: %v %v", j.rejection, j.decodeErr)
			}
			jobs = append(jobs, j)
		}
	}
	out := &Outcome{Output: map[string]any{"freezeId": "f-1"}, Changes: []Change{{Type: "loyalty.bench.frozen.v1",
		Subject: "loyalty.event.bench.frozen", Key: "m", Data: json.RawMessage(freezeData)}}}

	b.ReportAllocs()
	b.ResetTimer()
	for _, j := range jobs {
		now := time.Now()
		rec := &record{State: stateSucceeded, Hash: "0f1e2d3c4b5a69788796a5b4c3d2e1f0", Seq: j.seq(), Attempts: 1, GenAttempts: 1}
		rec.Outputs = s.outputs(j, rec, out, nil, now)
		s.settle(ctx, j, rec, 0, now, nil)
	}
	s.wg.Wait() // the double acks' confirmations
	b.StopTimer()
	info, err := cons.Info(ctx)
	if err != nil {
		b.Fatal(err)
	}
	results, err := js.Stream(ctx, streamResults)
	if err != nil {
		b.Fatal(err)
	}
	rinfo, err := results.Info(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if info.NumAckPending != 0 || rinfo.State.Msgs != uint64(b.N) {
		b.Fatalf("after %d settles: %d unacknowledged, %d results", b.N, info.NumAckPending, rinfo.State.Msgs)
	}
}
