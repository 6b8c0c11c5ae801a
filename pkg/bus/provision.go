package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Stream and bucket names. They mirror the events module (the public
// contract); the runtime does not import it so that pkg stays independent.
const (
	streamCommands = "LOYALTY_COMMANDS"
	streamResults  = "LOYALTY_RESULTS"
	streamEvents   = "LOYALTY_EVENTS"
	streamDLQ      = "LOYALTY_DLQ"

	// IdempotencyBucket is the KV bucket holding one record per command id.
	IdempotencyBucket = "LOYALTY_IDEMPOTENCY"
	// MemoBucket holds what handlers remember between commands: facts
	// already announced (a cheque's content hash, a ticket sn) and fetch
	// checkpoints. Keys are prefixed with the service name.
	MemoBucket = "LOYALTY_MEMO"
)

// Topology describes the streams a deployment uses. The zero value is
// completed by Defaults.
type Topology struct {
	// Replicas of every stream and bucket: 1 on a single server, 3 on a cluster.
	Replicas int
	// Retention of each stream (CONTRACT §2 defaults).
	CommandsMaxAge, ResultsMaxAge, EventsMaxAge, DLQMaxAge time.Duration
	// DuplicatesWindow is the publish de-duplication window of the commands
	// stream (at least 10 minutes; tests shrink it).
	DuplicatesWindow time.Duration
	// OutputDuplicatesWindow is the window of the results, events and DLQ
	// streams, within which republished outputs are dropped by id.
	OutputDuplicatesWindow time.Duration
	// MemoMaxAge is how long handler memos live (default 400 days, longer
	// than the events stream keeps the facts they guard).
	MemoMaxAge time.Duration
}

// Defaults returns t with zero fields set to the contract's defaults.
func (t Topology) Defaults() Topology {
	if t.Replicas <= 0 {
		t.Replicas = 1
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&t.CommandsMaxAge, 7*24*time.Hour)
	def(&t.ResultsMaxAge, 7*24*time.Hour)
	def(&t.EventsMaxAge, 365*24*time.Hour)
	def(&t.DLQMaxAge, 30*24*time.Hour)
	def(&t.DuplicatesWindow, 10*time.Minute)
	def(&t.OutputDuplicatesWindow, 10*time.Minute)
	def(&t.MemoMaxAge, 400*24*time.Hour)
	return t
}

// idempotencyTTL keeps a record at least as long as the command it guards can
// be redelivered or replayed from the commands stream.
func (t Topology) idempotencyTTL() time.Duration { return t.CommandsMaxAge + 24*time.Hour }

// Provision creates or updates the four streams and the idempotency bucket.
// It is idempotent and safe to run from every service at start-up.
func Provision(ctx context.Context, js jetstream.JetStream, t Topology) error {
	t = t.Defaults()
	streams := []jetstream.StreamConfig{
		{Name: streamCommands, Subjects: []string{"loyalty.cmd.>"}, MaxAge: t.CommandsMaxAge, Duplicates: t.DuplicatesWindow},
		{Name: streamResults, Subjects: []string{"loyalty.result.>"}, MaxAge: t.ResultsMaxAge, Duplicates: t.OutputDuplicatesWindow},
		{Name: streamEvents, Subjects: []string{"loyalty.event.>"}, MaxAge: t.EventsMaxAge, Duplicates: t.OutputDuplicatesWindow},
		{Name: streamDLQ, Subjects: []string{"loyalty.dlq.>"}, MaxAge: t.DLQMaxAge, Duplicates: t.OutputDuplicatesWindow},
	}
	for _, sc := range streams {
		sc.Retention = jetstream.LimitsPolicy
		sc.Storage = jetstream.FileStorage
		sc.Replicas = t.Replicas
		sc.Discard = jetstream.DiscardOld
		if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("provision stream %s: %w", sc.Name, err)
		}
	}
	if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      IdempotencyBucket,
		Description: "one record per command id: claim, outcome and outputs to republish",
		TTL:         t.idempotencyTTL(),
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    t.Replicas,
	}); err != nil {
		return fmt.Errorf("provision bucket %s: %w", IdempotencyBucket, err)
	}
	if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      MemoBucket,
		Description: "what handlers remember between commands: announced facts and fetch checkpoints",
		TTL:         t.MemoMaxAge,
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    t.Replicas,
	}); err != nil {
		return fmt.Errorf("provision bucket %s: %w", MemoBucket, err)
	}
	return nil
}
