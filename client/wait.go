package client

import (
	"context"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/loyaltybus/loyaltybus/events"
)

// watcher waits for the result of one command on its result subject. It
// listens twice: with an ordered consumer on LOYALTY_RESULTS from "now",
// which survives reconnects, and with a plain subscription, which also sees a
// result republished under its original id that the stream drops as a
// duplicate (a command id published again after the commands stream forgot
// it, but while the results stream still remembers its result).
type watcher struct {
	id    string
	once  sync.Once
	found chan struct{}
	res   Event[events.Result]
	cc    jetstream.ConsumeContext
	sub   *nats.Subscription
}

// watch starts listening for results of command id on subject.
func (c *Client) watch(ctx context.Context, subject, id string) (*watcher, error) {
	w := &watcher{id: id, found: make(chan struct{})}
	st, err := c.js.Stream(ctx, events.StreamResults)
	if err != nil {
		return nil, fmt.Errorf("watch %s for results (is loyaltybus provisioned?): %w", events.StreamResults, err)
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subject},
		DeliverPolicy:  jetstream.DeliverNewPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", subject, err)
	}
	w.cc, err = cons.Consume(func(m jetstream.Msg) { w.offer(m.Subject(), m.Headers(), m.Data(), meta(m)) })
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", subject, err)
	}
	w.sub, err = c.js.Conn().Subscribe(subject, func(m *nats.Msg) { w.offer(m.Subject, m.Header, m.Data, nil) })
	if err != nil {
		w.cc.Stop()
		return nil, fmt.Errorf("subscribe %s: %w", subject, err)
	}
	// The subscription must be registered with the server before the
	// command is published.
	if err := c.js.Conn().FlushWithContext(ctx); err != nil {
		w.stop()
		return nil, fmt.Errorf("subscribe %s: %w", subject, err)
	}
	return w, nil
}

// offer takes a candidate message; the first result of the command wins.
func (w *watcher) offer(subject string, h nats.Header, data []byte, md *jetstream.MsgMetadata) {
	ev, err := decodeEvent[events.Result](subject, h, data, md)
	if err != nil || ev.CausationID != w.id {
		return
	}
	w.once.Do(func() {
		w.res = ev
		close(w.found)
	})
}

// lookBack finds the latest result of the command published earlier at
// sequence seq of the commands stream, reading results stored since then.
func (w *watcher) lookBack(ctx context.Context, js jetstream.JetStream, stream string, seq uint64) error {
	cmds, err := js.Stream(ctx, stream)
	if err != nil {
		return fmt.Errorf("look up earlier command %s: %w", w.id, err)
	}
	orig, err := cmds.GetMsg(ctx, seq)
	if err != nil {
		return fmt.Errorf("look up earlier command %s at %s seq %d: %w", w.id, stream, seq, err)
	}
	results, err := js.Stream(ctx, events.StreamResults)
	if err != nil {
		return fmt.Errorf("look up result of %s: %w", w.id, err)
	}
	start := orig.Time
	cons, err := results.CreateConsumer(ctx, jetstream.ConsumerConfig{
		FilterSubject: events.ResultSubject(orig.Subject),
		DeliverPolicy: jetstream.DeliverByStartTimePolicy,
		OptStartTime:  &start,
		AckPolicy:     jetstream.AckNonePolicy,
		MemoryStorage: true,
	})
	if err != nil {
		return fmt.Errorf("look up result of %s: %w", w.id, err)
	}
	defer func() { _ = results.DeleteConsumer(context.WithoutCancel(ctx), cons.CachedInfo().Name) }()
	var last *Event[events.Result]
	err = readN(ctx, cons, cons.CachedInfo().NumPending, func(m jetstream.Msg) {
		ev, err := decodeEvent[events.Result](m.Subject(), m.Headers(), m.Data(), meta(m))
		if err == nil && ev.CausationID == w.id {
			last = &ev
		}
	})
	if err != nil {
		return fmt.Errorf("look up result of %s: %w", w.id, err)
	}
	if last != nil {
		w.once.Do(func() {
			w.res = *last
			close(w.found)
		})
	}
	return nil
}

// wait returns the result, or ErrNoResult when ctx ends first.
func (w *watcher) wait(ctx context.Context) (Event[events.Result], error) {
	select {
	case <-w.found:
		return w.res, nil
	case <-ctx.Done():
		return Event[events.Result]{}, fmt.Errorf("%w for command %s: %w", ErrNoResult, w.id, ctx.Err())
	}
}

func (w *watcher) stop() {
	if w.cc != nil {
		w.cc.Stop()
	}
	if w.sub != nil {
		_ = w.sub.Unsubscribe()
	}
}

// readN reads the n messages pending on a consumer created for a bounded
// read. It stops early when a fetch comes back empty (messages removed by
// retention meanwhile).
func readN(ctx context.Context, cons jetstream.Consumer, n uint64, fn func(jetstream.Msg)) error {
	for n > 0 {
		msgs, err := cons.Fetch(int(min(n, 256)), jetstream.FetchContext(ctx))
		if err != nil {
			return err
		}
		got := 0
		for m := range msgs.Messages() {
			fn(m)
			got++
		}
		if err := msgs.Error(); err != nil {
			return err
		}
		if got == 0 {
			return nil
		}
		n -= uint64(min(uint64(got), n))
	}
	return nil
}

func meta(m jetstream.Msg) *jetstream.MsgMetadata {
	md, err := m.Metadata()
	if err != nil {
		return nil
	}
	return md
}
