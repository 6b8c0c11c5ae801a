package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"

	"github.com/loyaltybus/loyaltybus/events"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
)

// PublishOption refines one publish (or replay).
type PublishOption func(*publishOptions) error

type publishOptions struct {
	id, subject, correlationID, partitionKey, traceparent string
	time                                                  time.Time
	msgID                                                 string
	receipt                                               *Receipt
	result                                                *Event[events.Result]
}

// WithID sets the command's CloudEvent id instead of a new UUIDv7. The id is
// the command's idempotency key: publishing the same id again never causes a
// second vendor effect. It must be 1–64 characters of A-Z a-z 0-9 . _ : -.
func WithID(id string) PublishOption {
	return func(o *publishOptions) error {
		if !bus.ValidID(id) {
			return &ValidationError{Field: "id", Rule: fmt.Sprintf("%q must be 1-64 characters of A-Z a-z 0-9 . _ : -", id)}
		}
		o.id = id
		return nil
	}
}

// WithSubject sets the CloudEvent subject attribute (not the NATS subject),
// e.g. an order number the command is about.
func WithSubject(subject string) PublishOption {
	return func(o *publishOptions) error { o.subject = subject; return nil }
}

// WithCorrelationID sets the correlationid carried over to every output
// (default: the outputs use the command id).
func WithCorrelationID(id string) PublishOption {
	return func(o *publishOptions) error { o.correlationID = id; return nil }
}

// WithPartitionKey sets the partitionkey: commands of one key are processed
// in publish order (default: the data's memberId, where it has one).
func WithPartitionKey(key string) PublishOption {
	return func(o *publishOptions) error { o.partitionKey = key; return nil }
}

// WithTraceparent sets the W3C traceparent the services carry over.
func WithTraceparent(tp string) PublishOption {
	return func(o *publishOptions) error { o.traceparent = tp; return nil }
}

// WithTime sets the CloudEvent time (default: the client's clock).
func WithTime(t time.Time) PublishOption {
	return func(o *publishOptions) error { o.time = t; return nil }
}

// WithMsgID sets the Nats-Msg-Id header, by default the command id on a
// publish and a fresh id on a replay. Only a replay has reason to set it.
func WithMsgID(id string) PublishOption {
	return func(o *publishOptions) error {
		if id == "" {
			return errors.New("client: empty Nats-Msg-Id")
		}
		o.msgID = id
		return nil
	}
}

// CaptureReceipt stores where the command was published into r, once the
// stream acknowledged it.
func CaptureReceipt(r *Receipt) PublishOption {
	return func(o *publishOptions) error { o.receipt = r; return nil }
}

// CaptureResult stores the whole result event (attributes and stream
// position) into ev when PublishAndWait or ReplayAndWait receives it.
func CaptureResult(ev *Event[events.Result]) PublishOption {
	return func(o *publishOptions) error { o.result = ev; return nil }
}

func collect(opts []PublishOption) (*publishOptions, error) {
	o := &publishOptions{}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// Receipt tells where a command was published.
type Receipt struct {
	// ID is the command's CloudEvent id.
	ID string
	// MsgID is the Nats-Msg-Id it was published with.
	MsgID string
	// Subject is the NATS subject, e.g. loyalty.cmd.points.freeze.
	Subject string
	// Stream and Sequence locate the stored command.
	Stream   string
	Sequence uint64
	// Duplicate is set when the stream already held a message with this
	// Nats-Msg-Id within its duplicate window and dropped this one; the
	// earlier message stands.
	Duplicate bool
}

// Raw is command data given as JSON, for tools that know a command by its
// catalogue entry rather than its Go type (the CLI publishes with it).
type Raw struct {
	// Cmd is the command, e.g. from catalog.CommandByType.
	Cmd events.Command
	// Data is the command's data as a JSON document.
	Data json.RawMessage
}

// Command reports the command the data belongs to.
func (r Raw) Command() events.Command { return r.Cmd }

// MarshalJSON returns Data.
func (r Raw) MarshalJSON() ([]byte, error) {
	if !json.Valid(r.Data) {
		return nil, errors.New("raw command data is not a JSON document")
	}
	return r.Data, nil
}

// Validate checks data against the JSON Schema of cmd exactly as a service
// does on arrival. A violation is a *ValidationError.
func Validate(cmd events.Command, data []byte) error {
	err := bus.ValidateData(cmd.Schema, data)
	var rej *bus.RejectionError
	if errors.As(err, &rej) {
		return &ValidationError{Type: cmd.Type, Field: rej.Field, Rule: rej.Rule}
	}
	if err != nil {
		return fmt.Errorf("schema of %s: %w", cmd.Type, err)
	}
	return nil
}

// CloudEvent builds the CloudEvent of a command: a new UUIDv7 id unless
// WithID is given, the client's source, the command's type, the data as JSON
// (application/json) and the attributes given as options. Unless the client
// was made WithoutValidation, the data is validated against the command's
// JSON Schema first and a violation is a *ValidationError.
func (c *Client) CloudEvent(cmd events.CommandData, opts ...PublishOption) (*event.Event, error) {
	o, err := collect(opts)
	if err != nil {
		return nil, c.typed(cmd, err)
	}
	return c.cloudEvent(cmd, o)
}

func (c *Client) typed(cmd events.CommandData, err error) error {
	var ve *ValidationError
	if errors.As(err, &ve) && ve.Type == "" && cmd != nil {
		ve.Type = cmd.Command().Type
	}
	return err
}

func (c *Client) cloudEvent(cmd events.CommandData, o *publishOptions) (*event.Event, error) {
	if cmd == nil {
		return nil, errors.New("client: nil command")
	}
	def := cmd.Command()
	if def.Type == "" || def.Subject == "" {
		return nil, fmt.Errorf("client: command %T names no type or subject", cmd)
	}
	data, err := json.Marshal(cmd)
	if err != nil {
		return nil, fmt.Errorf("encode %s data: %w", def.Type, err)
	}
	if c.validate {
		if err := Validate(def, data); err != nil {
			return nil, err
		}
	}
	id := o.id
	if id == "" {
		if id, err = newID(); err != nil {
			return nil, err
		}
	}
	ev := event.New()
	ev.SetID(id)
	ev.SetSource(c.source)
	ev.SetType(def.Type)
	t := o.time
	if t.IsZero() {
		t = c.now()
	}
	ev.SetTime(t)
	if o.subject != "" {
		ev.SetSubject(o.subject)
	}
	for name, v := range map[string]string{
		events.AttrCorrelationID: o.correlationID,
		events.AttrPartitionKey:  o.partitionKey,
		events.AttrTraceparent:   o.traceparent,
	} {
		if v != "" {
			ev.SetExtension(name, v)
		}
	}
	if err := ev.SetData(event.ApplicationJSON, json.RawMessage(data)); err != nil {
		return nil, fmt.Errorf("set %s data: %w", def.Type, err)
	}
	return &ev, nil
}

// Publish publishes a command and returns its id once the commands stream
// has stored it. The id is the command's CloudEvent id; its result arrives
// on the command's result subject with causationid set to it.
func (c *Client) Publish(ctx context.Context, cmd events.CommandData, opts ...PublishOption) (string, error) {
	o, err := collect(opts)
	if err != nil {
		return "", c.typed(cmd, err)
	}
	ev, err := c.cloudEvent(cmd, o)
	if err != nil {
		return "", err
	}
	m, err := bus.Encode(cmd.Command().Subject, ev, c.mode)
	if err != nil {
		return "", fmt.Errorf("encode command %s: %w", ev.ID(), err)
	}
	if _, err := c.send(ctx, m, ev.ID(), o, false); err != nil {
		return "", err
	}
	return ev.ID(), nil
}

// PublishAndWait publishes a command and waits until its result arrives or
// ctx ends (give ctx a deadline). It returns the result; a failed or rejected
// result also returns a *CommandError (errors.Is ErrFailed or ErrRejected).
// When ctx ends first, the error matches ErrNoResult and the context's error.
//
// It subscribes to the result subject before publishing, so the result cannot
// be missed; when the stream drops the publish as a duplicate of an earlier
// one, the earlier command's result is looked up in LOYALTY_RESULTS.
func (c *Client) PublishAndWait(ctx context.Context, cmd events.CommandData, opts ...PublishOption) (events.Result, error) {
	o, err := collect(opts)
	if err != nil {
		return events.Result{}, c.typed(cmd, err)
	}
	ev, err := c.cloudEvent(cmd, o)
	if err != nil {
		return events.Result{}, err
	}
	m, err := bus.Encode(cmd.Command().Subject, ev, c.mode)
	if err != nil {
		return events.Result{}, fmt.Errorf("encode command %s: %w", ev.ID(), err)
	}
	return c.send(ctx, m, ev.ID(), o, true)
}

// send publishes m (the command id) and, with wait, waits for its result.
func (c *Client) send(ctx context.Context, m *nats.Msg, id string, o *publishOptions, wait bool) (events.Result, error) {
	if o.msgID != "" {
		m.Header.Set(nats.MsgIdHdr, o.msgID)
	}
	var w *watcher
	if wait {
		var err error
		if w, err = c.watch(ctx, events.ResultSubject(m.Subject), id); err != nil {
			return events.Result{}, err
		}
		defer w.stop()
	}
	ack, err := c.js.PublishMsg(ctx, m)
	if err != nil {
		return events.Result{}, fmt.Errorf("publish command %s to %s: %w", id, m.Subject, err)
	}
	if o.receipt != nil {
		*o.receipt = Receipt{ID: id, MsgID: m.Header.Get(nats.MsgIdHdr), Subject: m.Subject, Stream: ack.Stream, Sequence: ack.Sequence, Duplicate: ack.Duplicate}
	}
	if !wait {
		return events.Result{}, nil
	}
	if ack.Duplicate {
		// The earlier message with this Nats-Msg-Id was processed already,
		// perhaps before the watch began: find its result.
		if err := w.lookBack(ctx, c.js, ack.Stream, ack.Sequence); err != nil {
			return events.Result{}, err
		}
	}
	res, err := w.wait(ctx)
	if err != nil {
		return events.Result{}, err
	}
	if o.result != nil {
		*o.result = res
	}
	if res.Data.Status != events.StatusSucceeded {
		return res.Data, &CommandError{Result: res.Data}
	}
	return res.Data, nil
}
