// Package bustest runs a real embedded JetStream server for tests and offers
// helpers to publish commands and read outputs, in the spirit of httptest.
package bustest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/pkg/natsembed"
)

// NewServer starts an embedded JetStream server on a random loopback port with
// its store in t.TempDir(), stopped when the test ends.
func NewServer(t testing.TB) *natsembed.Server {
	t.Helper()
	return NewServerAt(t, t.TempDir(), 0)
}

// NewServerAt starts a server on a given store directory and port (0: any),
// so a test can restart "the same" broker.
func NewServerAt(t testing.TB, dir string, port int) *natsembed.Server {
	t.Helper()
	s, err := natsembed.Start(natsembed.Config{StoreDir: dir, Port: port})
	require.NoError(t, err)
	t.Cleanup(s.Shutdown)
	return s
}

// Connect returns a JetStream context on url, closed when the test ends.
func Connect(t testing.TB, url string, opts ...nats.Option) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url, opts...)
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	return nc, js
}

// Command builds a command CloudEvent with data marshalled as JSON.
func Command(t testing.TB, id, typ string, data any) *event.Event {
	t.Helper()
	ev := event.New()
	ev.SetID(id)
	ev.SetSource("bustest")
	ev.SetType(typ)
	ev.SetTime(time.Now())
	require.NoError(t, ev.SetData(event.ApplicationJSON, data))
	return &ev
}

// Publish publishes ev on subject in mode, with Nats-Msg-Id = its id unless
// msgID is given (replays publish with a fresh one), and optional extra headers.
func Publish(t testing.TB, js jetstream.JetStream, subject string, ev *event.Event, mode bus.Mode, header ...string) *jetstream.PubAck {
	t.Helper()
	m, err := bus.Encode(subject, ev, mode)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		m.Header.Set(header[i], header[i+1])
	}
	ack, err := js.PublishMsg(t.Context(), m)
	require.NoError(t, err)
	return ack
}

// PublishRaw publishes arbitrary bytes and headers, for malformed input.
func PublishRaw(t testing.TB, js jetstream.JetStream, subject string, h nats.Header, data []byte) *jetstream.PubAck {
	t.Helper()
	ack, err := js.PublishMsg(t.Context(), &nats.Msg{Subject: subject, Header: h, Data: data})
	require.NoError(t, err)
	return ack
}

// Output is a decoded output message.
type Output struct {
	Subject string
	Seq     uint64
	Header  nats.Header
	Event   *event.Event
	Raw     []byte
}

// Result decodes the data of a result event.
func (o Output) Result(t testing.TB) ResultData {
	t.Helper()
	var r ResultData
	require.NoError(t, json.Unmarshal(o.Event.Data(), &r), "result data")
	return r
}

// Ext returns a string extension attribute.
func (o Output) Ext(name string) string {
	v, _ := o.Event.Extensions()[name].(string)
	return v
}

// ResultData is the result payload as a test reads it.
type ResultData struct {
	CommandID   string         `json:"commandId"`
	CommandType string         `json:"commandType"`
	Status      string         `json:"status"`
	Output      map[string]any `json:"output"`
	Error       *struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		Retryable bool   `json:"retryable"`
		Vendor    *struct {
			Name       string `json:"name"`
			HTTPStatus int    `json:"httpStatus"`
			Code       string `json:"code"`
			Message    string `json:"message"`
		} `json:"vendor"`
	} `json:"error"`
	Attempts int `json:"attempts"`
}

// Messages returns every message currently stored in stream under filter, in
// order. Raw messages that are not CloudEvents (DLQ copies of garbage) have a
// nil Event.
func Messages(t testing.TB, js jetstream.JetStream, stream, filter string) []Output {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	require.NoError(t, err)
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(filter))
	require.NoError(t, err)
	var want uint64
	for _, n := range info.State.Subjects {
		want += n
	}
	if want == 0 {
		return nil
	}
	c, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{filter}})
	require.NoError(t, err)
	var out []Output
	for uint64(len(out)) < want {
		batch, err := c.Fetch(int(want)-len(out), jetstream.FetchMaxWait(5*time.Second))
		require.NoError(t, err)
		for m := range batch.Messages() {
			md, err := m.Metadata()
			require.NoError(t, err)
			o := Output{Subject: m.Subject(), Seq: md.Sequence.Stream, Header: m.Headers(), Raw: m.Data()}
			if ev, _, err := bus.Decode(m.Headers(), m.Data()); err == nil {
				o.Event = ev
			}
			out = append(out, o)
		}
		require.NoError(t, batch.Error())
	}
	return out
}

// WaitMessages waits until stream holds at least n messages under filter and
// returns them all.
func WaitMessages(t testing.TB, js jetstream.JetStream, stream, filter string, n int) []Output {
	t.Helper()
	require.Eventually(t, func() bool { return Count(t, js, stream, filter) >= n },
		20*time.Second, 10*time.Millisecond, "waiting for %d messages on %s", n, filter)
	return Messages(t, js, stream, filter)
}

// Count returns the number of messages stored in stream under filter.
func Count(t testing.TB, js jetstream.JetStream, stream, filter string) int {
	t.Helper()
	s, err := js.Stream(t.Context(), stream)
	require.NoError(t, err)
	info, err := s.Info(t.Context(), jetstream.WithSubjectFilter(filter))
	require.NoError(t, err)
	var n uint64
	for _, c := range info.State.Subjects {
		n += c
	}
	return int(n)
}

// WaitIdle waits until the durable consumer has nothing pending and nothing
// awaiting acknowledgement: every published command has been settled.
func WaitIdle(t testing.TB, js jetstream.JetStream, consumer string) {
	t.Helper()
	require.Eventually(t, func() bool {
		c, err := js.Consumer(t.Context(), "LOYALTY_COMMANDS", consumer)
		if err != nil {
			return false
		}
		info, err := c.Info(t.Context())
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0 && info.NumRedelivered == 0
	}, 30*time.Second, 10*time.Millisecond, "consumer %s did not become idle", consumer)
}
