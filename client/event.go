package client

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/loyaltybus/loyaltybus/events"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
)

// Event is a CloudEvent received from the bus, in either content mode, with
// its data decoded into T (a change event's data type such as points.Frozen,
// events.Result, or json.RawMessage to keep the data as it came).
type Event[T any] struct {
	// CloudEvent attributes.
	ID, Source, Type, Subject string
	Time                      time.Time
	// CausationID is the id of the command that caused the event.
	CausationID string
	// CorrelationID is the command's correlationid, or else its id.
	CorrelationID string
	PartitionKey  string
	Traceparent   string
	// Data is the decoded data.
	Data T

	// NATSSubject is the subject the event was published on.
	NATSSubject string
	// Stream, Sequence and Stored locate the message in JetStream; they are
	// empty for an event that did not come from a stream.
	Stream   string
	Sequence uint64
	Stored   time.Time
	// Mode is the content mode the event arrived in.
	Mode Mode
	// CloudEvent is the decoded event with every attribute and the raw data.
	CloudEvent *event.Event
}

// DecodeEvent decodes a NATS message of the bus (headers and payload, either
// content mode) into an Event. The stream position is left empty.
func DecodeEvent[T any](subject string, h nats.Header, data []byte) (Event[T], error) {
	return decodeEvent[T](subject, h, data, nil)
}

// DecodeMsg decodes a message delivered by a JetStream consumer, with its
// stream position.
func DecodeMsg[T any](m jetstream.Msg) (Event[T], error) {
	return decodeEvent[T](m.Subject(), m.Headers(), m.Data(), meta(m))
}

func decodeEvent[T any](subject string, h nats.Header, data []byte, md *jetstream.MsgMetadata) (Event[T], error) {
	ce, mode, err := bus.Decode(h, data)
	if err != nil {
		return Event[T]{}, fmt.Errorf("decode CloudEvent on %s: %w", subject, err)
	}
	ext := func(name string) string {
		v, _ := ce.Extensions()[name].(string)
		return v
	}
	ev := Event[T]{
		ID: ce.ID(), Source: ce.Source(), Type: ce.Type(), Subject: ce.Subject(), Time: ce.Time(),
		CausationID: ext(events.AttrCausationID), CorrelationID: ext(events.AttrCorrelationID),
		PartitionKey: ext(events.AttrPartitionKey), Traceparent: ext(events.AttrTraceparent),
		NATSSubject: subject, Mode: mode, CloudEvent: ce,
	}
	if md != nil {
		ev.Stream, ev.Sequence, ev.Stored = md.Stream, md.Sequence.Stream, md.Timestamp
	}
	if raw := ce.Data(); len(raw) > 0 {
		if err := json.Unmarshal(raw, &ev.Data); err != nil {
			return ev, fmt.Errorf("decode data of %s event %s as %T: %w", ce.Type(), ce.ID(), ev.Data, err)
		}
	}
	return ev, nil
}
