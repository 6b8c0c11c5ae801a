package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/loyaltybus/loyaltybus/events"
)

// SubscribeOption configures Subscribe.
type SubscribeOption func(*subscribeOptions) error

type subscribeOptions struct {
	durable    string
	deliver    jetstream.DeliverPolicy
	deliverSet bool
	startSeq   uint64
	startTime  time.Time
	retryDelay time.Duration
	onError    func(error)
}

// Durable names a durable consumer on LOYALTY_EVENTS: events are delivered at
// least once, a handler error redelivers the event after the retry delay, and
// a restarted subscriber resumes where it stopped. A new durable starts with
// the oldest stored event unless a start option says otherwise; an existing
// one keeps its position (start options apply only when it is created).
// Without Durable, the subscription is an ordered, ephemeral consumer that
// starts with new events and forgets its position when it stops.
func Durable(name string) SubscribeOption {
	return func(o *subscribeOptions) error {
		if name == "" {
			return errors.New("client: empty durable name")
		}
		o.durable = name
		return nil
	}
}

// DeliverAll starts with the oldest stored event.
func DeliverAll() SubscribeOption {
	return func(o *subscribeOptions) error {
		o.deliver, o.deliverSet = jetstream.DeliverAllPolicy, true
		return nil
	}
}

// DeliverNew starts with events published after the subscription began.
func DeliverNew() SubscribeOption {
	return func(o *subscribeOptions) error {
		o.deliver, o.deliverSet = jetstream.DeliverNewPolicy, true
		return nil
	}
}

// StartSequence starts with the event stored at sequence seq of LOYALTY_EVENTS.
func StartSequence(seq uint64) SubscribeOption {
	return func(o *subscribeOptions) error {
		if seq == 0 {
			return errors.New("client: start sequence must be at least 1")
		}
		o.deliver, o.deliverSet, o.startSeq = jetstream.DeliverByStartSequencePolicy, true, seq
		return nil
	}
}

// StartTime starts with the first event stored at or after t.
func StartTime(t time.Time) SubscribeOption {
	return func(o *subscribeOptions) error {
		if t.IsZero() {
			return errors.New("client: zero start time")
		}
		o.deliver, o.deliverSet, o.startTime = jetstream.DeliverByStartTimePolicy, true, t
		return nil
	}
}

// RetryDelay sets how long a durable subscription waits before an event whose
// handler returned an error is delivered again (default 5s).
func RetryDelay(d time.Duration) SubscribeOption {
	return func(o *subscribeOptions) error {
		if d <= 0 {
			return errors.New("client: retry delay must be positive")
		}
		o.retryDelay = d
		return nil
	}
}

// OnError receives the errors of the handler and of decoding (an event whose
// data does not decode into T), e.g. to log them. A durable subscription
// redelivers after a handler error and terminates an undecodable event; an
// ephemeral one moves on in both cases.
func OnError(fn func(error)) SubscribeOption {
	return func(o *subscribeOptions) error { o.onError = fn; return nil }
}

// Subscription is a running Subscribe.
type Subscription struct {
	cc jetstream.ConsumeContext
}

// Stop ends the subscription. Events being handled finish; no new ones start.
func (s *Subscription) Stop() { s.cc.Stop() }

// Closed is closed when the subscription has stopped (Stop, or ctx ended).
func (s *Subscription) Closed() <-chan struct{} { return s.cc.Closed() }

// Subscribe delivers the change events of one kind (e.g. points.FrozenChange)
// to fn, with data decoded as T (e.g. points.Frozen), one at a time and in
// stream order, until ctx ends or Stop is called:
//
//	sub, err := client.Subscribe(ctx, js, points.FrozenChange,
//		func(ctx context.Context, ev client.Event[points.Frozen]) error { … },
//		client.Durable("crm-sync"))
//
// Both content modes are decoded. See Durable for delivery guarantees.
func Subscribe[T any](ctx context.Context, js jetstream.JetStream, change events.Change, fn func(context.Context, Event[T]) error, opts ...SubscribeOption) (*Subscription, error) {
	if js == nil || fn == nil {
		return nil, errors.New("client: Subscribe needs a JetStream and a handler")
	}
	if change.Subject == "" {
		return nil, errors.New("client: change event without subject")
	}
	o := &subscribeOptions{retryDelay: 5 * time.Second}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	st, err := js.Stream(ctx, events.StreamEvents)
	if err != nil {
		return nil, fmt.Errorf("subscribe %s: stream %s: %w", change.Type, events.StreamEvents, err)
	}
	report := func(err error) {
		if o.onError != nil {
			o.onError(err)
		}
	}
	var cons jetstream.Consumer
	if o.durable != "" {
		cons, err = durableConsumer(ctx, st, change, o)
	} else {
		cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{change.Subject}, DeliverPolicy: jetstream.DeliverNewPolicy}
		if o.deliverSet {
			cfg.DeliverPolicy, cfg.OptStartSeq = o.deliver, o.startSeq
			if !o.startTime.IsZero() {
				cfg.OptStartTime = &o.startTime
			}
		}
		cons, err = st.OrderedConsumer(ctx, cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", change.Type, err)
	}
	durable := o.durable != ""
	cc, err := cons.Consume(func(m jetstream.Msg) {
		ev, err := DecodeMsg[T](m)
		if err != nil {
			report(err)
			if durable {
				_ = m.TermWithReason("undecodable: " + err.Error())
			}
			return
		}
		if err := fn(ctx, ev); err != nil {
			report(fmt.Errorf("handle %s event %s: %w", ev.Type, ev.ID, err))
			if durable {
				_ = m.NakWithDelay(o.retryDelay)
			}
			return
		}
		if durable {
			if err := m.DoubleAck(ctx); err != nil {
				report(fmt.Errorf("ack %s event %s: %w", ev.Type, ev.ID, err))
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", change.Type, err)
	}
	go func() { // stops with ctx; ends when the subscription does
		select {
		case <-ctx.Done():
			cc.Stop()
		case <-cc.Closed():
		}
	}()
	return &Subscription{cc: cc}, nil
}

// durableConsumer binds the named durable, creating it on first use.
func durableConsumer(ctx context.Context, st jetstream.Stream, change events.Change, o *subscribeOptions) (jetstream.Consumer, error) {
	cons, err := st.Consumer(ctx, o.durable)
	if err == nil {
		return cons, nil
	}
	if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, err
	}
	cfg := jetstream.ConsumerConfig{
		Durable:       o.durable,
		Description:   "loyaltybus subscriber of " + change.Type,
		FilterSubject: change.Subject,
		AckPolicy:     jetstream.AckExplicitPolicy,
		MaxDeliver:    -1,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
	if o.deliverSet {
		cfg.DeliverPolicy, cfg.OptStartSeq = o.deliver, o.startSeq
		if !o.startTime.IsZero() {
			cfg.OptStartTime = &o.startTime
		}
	}
	return st.CreateConsumer(ctx, cfg)
}
