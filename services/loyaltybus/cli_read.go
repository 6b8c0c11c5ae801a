package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// cursor reads the messages stored in a stream under some subjects from a
// starting point, in stream order. It knows how many messages were stored
// when it was opened, so a bounded read ends there ("caught up") without
// waiting, and can then go on following new messages.
type cursor struct {
	stream  jetstream.Stream
	name    string
	cons    jetstream.Consumer
	it      jetstream.MessagesContext
	pending uint64 // messages left before caught up
	head    jetstream.Msg
	headMD  *jetstream.MsgMetadata
}

// openCursor creates an ephemeral, unacknowledged consumer on stream from
// the point from (zero: the first stored message).
func openCursor(ctx context.Context, js jetstream.JetStream, stream string, subjects []string, from point) (*cursor, error) {
	st, err := js.Stream(ctx, stream)
	if err != nil {
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return nil, infraError(fmt.Errorf("stream %s not found: no loyaltybus service has provisioned this server yet", stream))
		}
		return nil, infraError(fmt.Errorf("stream %s: %w", stream, err))
	}
	cfg := jetstream.ConsumerConfig{
		AckPolicy:         jetstream.AckNonePolicy,
		DeliverPolicy:     jetstream.DeliverAllPolicy,
		InactiveThreshold: time.Minute,
		MemoryStorage:     true,
		Description:       "loyaltybus CLI reader",
	}
	if len(subjects) == 1 {
		cfg.FilterSubject = subjects[0]
	} else {
		cfg.FilterSubjects = subjects
	}
	switch {
	case from.seq > 0:
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from.seq
	case !from.time.IsZero():
		t := from.time
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &t
	}
	cons, err := st.CreateConsumer(ctx, cfg)
	if err != nil {
		return nil, infraError(fmt.Errorf("read %s: %w", stream, err))
	}
	return &cursor{stream: st, name: stream, cons: cons, pending: cons.CachedInfo().NumPending}, nil
}

// next returns the next message; follow makes it wait for new ones once
// caught up, otherwise it returns nil then.
func (c *cursor) next(ctx context.Context, follow bool) (jetstream.Msg, *jetstream.MsgMetadata, error) {
	if c.head != nil {
		m, md := c.head, c.headMD
		c.head, c.headMD = nil, nil
		return m, md, nil
	}
	if c.pending == 0 && !follow {
		return nil, nil, nil
	}
	if c.it == nil {
		it, err := c.cons.Messages()
		if err != nil {
			return nil, nil, infraError(fmt.Errorf("read %s: %w", c.name, err))
		}
		c.it = it
	}
	m, err := c.it.Next(jetstream.NextContext(ctx))
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, infraError(fmt.Errorf("read %s: %w", c.name, err))
	}
	md, err := m.Metadata()
	if err != nil {
		return nil, nil, infraError(fmt.Errorf("read %s: %w", c.name, err))
	}
	if c.pending > 0 {
		c.pending--
	}
	if md.NumPending == 0 {
		c.pending = 0 // messages removed by retention meanwhile
	}
	return m, md, nil
}

// peek returns the next message of a bounded read without consuming it.
func (c *cursor) peek(ctx context.Context) (jetstream.Msg, *jetstream.MsgMetadata, error) {
	if c.head == nil {
		m, md, err := c.next(ctx, false)
		if err != nil || m == nil {
			return nil, nil, err
		}
		c.head, c.headMD = m, md
	}
	return c.head, c.headMD, nil
}

// close stops reading and removes the consumer.
func (c *cursor) close() {
	if c.it != nil {
		c.it.Stop()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = c.stream.DeleteConsumer(ctx, c.cons.CachedInfo().Name)
}
