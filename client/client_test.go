package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/client"
	"github.com/loyaltybus/loyaltybus/events"
	"github.com/loyaltybus/loyaltybus/events/points"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/pkg/bus/bustest"
)

func TestCloudEventFollowsTheContract(t *testing.T) {
	now := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	c, err := client.New(nopJS{}, client.WithSource("checkout"), client.WithClock(func() time.Time { return now }))
	require.NoError(t, err)

	ev, err := c.CloudEvent(freeze(20), client.WithPartitionKey("k1"), client.WithCorrelationID("order-7"))
	require.NoError(t, err)
	id, err := uuid.Parse(ev.ID())
	require.NoError(t, err)
	assert.Equal(t, uuid.Version(7), id.Version(), "a new command gets a UUIDv7 id")
	assert.Equal(t, "1.0", ev.SpecVersion())
	assert.Equal(t, "checkout", ev.Source())
	assert.Equal(t, points.TypeFreeze, ev.Type())
	assert.Equal(t, now, ev.Time())
	assert.Equal(t, "application/json", ev.DataContentType())
	assert.Equal(t, "k1", ev.Extensions()[events.AttrPartitionKey])
	assert.Equal(t, "order-7", ev.Extensions()[events.AttrCorrelationID])
	assert.JSONEq(t, `{"memberId":"m-001","memberType":"shuyun","channelType":"POS","points":20}`, string(ev.Data()))
	require.NoError(t, ev.Validate())
}

func TestInvalidCommandsAreNotSent(t *testing.T) {
	c, err := client.New(nopJS{})
	require.NoError(t, err)
	tests := []struct {
		name      string
		cmd       events.CommandData
		opts      []client.PublishOption
		wantField string
	}{
		{name: "points not positive", cmd: freeze(0), wantField: "data.points"},
		{name: "missing member", cmd: points.Freeze{MemberType: "shuyun", ChannelType: "POS", Points: 1}, wantField: "data.memberId"},
		{name: "raw data of the wrong shape", cmd: client.Raw{Cmd: points.FreezeCommand, Data: json.RawMessage(`{"memberId":"m","memberType":"shuyun","channelType":"POS","points":"ten"}`)}, wantField: "data.points"},
		{name: "bad id", cmd: freeze(1), opts: []client.PublishOption{client.WithID("has spaces")}, wantField: "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Publish(t.Context(), tt.cmd, tt.opts...) // nopJS fails any publish
			var ve *client.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.wantField, ve.Field)
			assert.Equal(t, points.TypeFreeze, ve.Type)
		})
	}
}

func TestPublishAndWait(t *testing.T) {
	for _, mode := range []client.Mode{client.Binary, client.Structured} {
		t.Run(mode.String(), func(t *testing.T) {
			e := newEnv(t, bus.Topology{})
			c, err := client.New(e.js, client.WithContentMode(mode), client.WithSource("test"))
			require.NoError(t, err)

			var rcpt client.Receipt
			var ev client.Event[events.Result]
			res, err := c.PublishAndWait(timeout(t), freeze(20), client.CaptureReceipt(&rcpt), client.CaptureResult(&ev))
			require.NoError(t, err)
			assert.Equal(t, events.StatusSucceeded, res.Status)
			assert.Equal(t, rcpt.ID, res.CommandID)
			assert.Equal(t, rcpt.ID, rcpt.MsgID, "a publish carries its id as Nats-Msg-Id")
			assert.Equal(t, events.StreamCommands, rcpt.Stream)
			assert.Equal(t, points.SubjectFreeze, rcpt.Subject)
			assert.Equal(t, rcpt.ID, ev.CausationID)
			assert.Equal(t, "loyalty.points.freeze.result.v1", ev.Type)

			res, err = c.PublishAndWait(timeout(t), points.Freeze{MemberID: "m-001", MemberType: "shuyun", ChannelType: "POS", Points: 5, Description: "refuse"})
			require.ErrorIs(t, err, client.ErrFailed)
			var ce *client.CommandError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, events.StatusFailed, res.Status)
			assert.Equal(t, res, ce.Result)
		})
	}
}

func TestPublishAndWaitRejected(t *testing.T) {
	e := newEnv(t, bus.Topology{})
	c, err := client.New(e.js, client.WithoutValidation())
	require.NoError(t, err)
	res, err := c.PublishAndWait(timeout(t), freeze(-3))
	require.ErrorIs(t, err, client.ErrRejected)
	require.NotNil(t, res.Error)
	assert.Contains(t, res.Error.Message, "data.points")
}

func TestPublishAndWaitTimesOutWithoutAService(t *testing.T) {
	srv := bustest.NewServer(t)
	_, js := bustest.Connect(t, srv.ClientURL())
	require.NoError(t, bus.Provision(t.Context(), js, bus.Topology{}))
	c, err := client.New(js)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	var rcpt client.Receipt
	_, err = c.PublishAndWait(ctx, freeze(1), client.CaptureReceipt(&rcpt))
	require.ErrorIs(t, err, client.ErrNoResult)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotZero(t, rcpt.Sequence, "the command was published")
}

func TestPublishWithoutStreamsIsAnInfrastructureError(t *testing.T) {
	srv := bustest.NewServer(t)
	_, js := bustest.Connect(t, srv.ClientURL())
	c, err := client.New(js)
	require.NoError(t, err)
	_, err = c.Publish(timeout(t), freeze(1))
	require.Error(t, err)
	assert.NotErrorIs(t, err, client.ErrNoResult)
	var ve *client.ValidationError
	assert.False(t, errors.As(err, &ve))
}

// TestDuplicatePublishFindsTheEarlierResult publishes one id twice inside the
// duplicate window: the stream drops the second, whose result is the first's.
func TestDuplicatePublishFindsTheEarlierResult(t *testing.T) {
	e := newEnv(t, bus.Topology{})
	c, err := client.New(e.js)
	require.NoError(t, err)
	id := uuid.NewString()
	first, err := c.PublishAndWait(timeout(t), freeze(3), client.WithID(id))
	require.NoError(t, err)

	var rcpt client.Receipt
	again, err := c.PublishAndWait(timeout(t), freeze(3), client.WithID(id), client.CaptureReceipt(&rcpt))
	require.NoError(t, err)
	assert.True(t, rcpt.Duplicate)
	assert.Equal(t, first, again)
	assert.Equal(t, 1, e.svc.callsOf(id))
}

// TestResultRepublishedUnderItsIDIsSeen publishes an id again after the
// commands stream forgot it but while the results stream still remembers
// the result: the service republishes the stored result, which the results
// stream drops as a duplicate, and the waiter still sees it.
func TestResultRepublishedUnderItsIDIsSeen(t *testing.T) {
	e := newEnv(t, bus.Topology{DuplicatesWindow: 100 * time.Millisecond})
	c, err := client.New(e.js)
	require.NoError(t, err)
	id := uuid.NewString()
	_, err = c.PublishAndWait(timeout(t), freeze(4), client.WithID(id))
	require.NoError(t, err)

	require.Eventually(t, func() bool {
		var rcpt client.Receipt
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		res, err := c.PublishAndWait(ctx, freeze(4), client.WithID(id), client.CaptureReceipt(&rcpt))
		require.NoError(t, err)
		assert.Equal(t, events.StatusSucceeded, res.Status)
		return !rcpt.Duplicate
	}, 10*time.Second, 20*time.Millisecond)
	bustest.WaitIdle(t, e.js, "points")
	assert.Equal(t, 1, e.svc.callsOf(id), "answered from the idempotency record")
	assert.Equal(t, 1, bustest.Count(t, e.js, events.StreamResults, "loyalty.result.>"))
}

func TestReplayReattemptsAFailedCommand(t *testing.T) {
	e := newEnv(t, bus.Topology{})
	c, err := client.New(e.js)
	require.NoError(t, err)
	e.svc.setDown(true)
	var rcpt client.Receipt
	_, err = c.PublishAndWait(timeout(t), freeze(6), client.CaptureReceipt(&rcpt))
	require.ErrorIs(t, err, client.ErrFailed)
	dl := bustest.WaitMessages(t, e.js, events.StreamDLQ, "loyalty.dlq.points.freeze", 1)[0]
	e.svc.setDown(false)

	// Redrive the dead letter: its Loyalty-Dlq-* headers go, the id stays.
	var replayed client.Receipt
	res, err := c.ReplayAndWait(timeout(t), &nats.Msg{Subject: dl.Subject, Header: dl.Header, Data: dl.Raw}, client.CaptureReceipt(&replayed))
	require.NoError(t, err)
	assert.Equal(t, events.StatusSucceeded, res.Status)
	assert.Equal(t, 2, res.Attempts)
	assert.Equal(t, rcpt.ID, replayed.ID)
	assert.NotEqual(t, rcpt.ID, replayed.MsgID, "a fresh Nats-Msg-Id")
	stored := bustest.Messages(t, e.js, events.StreamCommands, points.SubjectFreeze)
	require.Len(t, stored, 2)
	assert.Equal(t, "true", stored[1].Header.Get(events.HeaderReplay))
	assert.Empty(t, stored[1].Header.Get(events.HeaderDLQReason))
	assert.Equal(t, dl.Raw, stored[1].Raw, "the original bytes")

	// Replaying the succeeded command again calls no vendor.
	res, err = c.ReplayAndWait(timeout(t), &nats.Msg{Subject: stored[0].Subject, Header: stored[0].Header, Data: stored[0].Raw})
	require.NoError(t, err)
	assert.Equal(t, events.StatusSucceeded, res.Status)
	bustest.WaitIdle(t, e.js, "points")
	assert.Equal(t, 2, e.svc.callsOf(rcpt.ID))
}

func TestReplaceDataKeepsModeAndAttributes(t *testing.T) {
	c, err := client.New(nopJS{})
	require.NoError(t, err)
	for _, mode := range []client.Mode{client.Binary, client.Structured} {
		t.Run(mode.String(), func(t *testing.T) {
			ev, err := c.CloudEvent(freeze(1), client.WithID("fix-me"), client.WithSubject("订单-1"))
			require.NoError(t, err)
			m, err := bus.Encode(points.SubjectFreeze, ev, mode)
			require.NoError(t, err)
			m.Header.Set(events.HeaderDLQReason, "rejected: data.points: …")

			fixed, err := client.ReplaceData(m, []byte(`{"memberId":"m-001","memberType":"shuyun","channelType":"POS","points":9}`))
			require.NoError(t, err)
			got, err := client.DecodeEvent[points.Freeze](fixed.Subject, fixed.Header, fixed.Data)
			require.NoError(t, err)
			assert.Equal(t, mode, got.Mode)
			assert.Equal(t, "fix-me", got.ID)
			assert.Equal(t, "订单-1", got.Subject)
			assert.Equal(t, int64(9), got.Data.Points)
			assert.Equal(t, "rejected: data.points: …", fixed.Header.Get(events.HeaderDLQReason), "other headers stay")
		})
	}
	_, err = client.ReplaceData(&nats.Msg{Subject: points.SubjectFreeze}, []byte(`{`))
	require.Error(t, err)
}

func TestCommandSubject(t *testing.T) {
	for in, want := range map[string]string{
		"loyalty.dlq.points.freeze": "loyalty.cmd.points.freeze",
		"loyalty.cmd.points.adjust": "loyalty.cmd.points.adjust",
		"loyalty.dlq.invalid":       "",
		"loyalty.result.points.x":   "",
	} {
		got, err := client.CommandSubject(in)
		if want == "" {
			assert.Error(t, err, in)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
}

func TestSubscribe(t *testing.T) {
	e := newEnv(t, bus.Topology{})
	c, err := client.New(e.js)
	require.NoError(t, err)
	_, err = c.PublishAndWait(timeout(t), freeze(7)) // stored before the subscriptions
	require.NoError(t, err)

	durable := make(chan client.Event[points.Frozen], 10)
	sub, err := client.Subscribe(t.Context(), e.js, points.FrozenChange, func(_ context.Context, ev client.Event[points.Frozen]) error {
		durable <- ev
		return nil
	}, client.Durable("crm-sync"))
	require.NoError(t, err)
	defer sub.Stop()
	fresh := make(chan client.Event[points.Frozen], 10)
	var failures atomic.Int32
	sub2, err := client.Subscribe(t.Context(), e.js, points.FrozenChange, func(_ context.Context, ev client.Event[points.Frozen]) error {
		fresh <- ev
		return nil
	}, client.OnError(func(error) { failures.Add(1) }))
	require.NoError(t, err)
	defer sub2.Stop()

	old := <-durable
	assert.Equal(t, int64(7), old.Data.Points, "a new durable starts with the oldest event")
	assert.Equal(t, events.StreamEvents, old.Stream)
	assert.Equal(t, old.Data.FreezeID, old.CausationID)

	id, err := c.Publish(timeout(t), freeze(8))
	require.NoError(t, err)
	for _, ch := range []chan client.Event[points.Frozen]{durable, fresh} {
		select {
		case ev := <-ch:
			assert.Equal(t, id, ev.Data.FreezeID)
			assert.Equal(t, int64(8), ev.Data.Points)
			assert.Equal(t, points.TypeFrozen, ev.Type)
		case <-timeout(t).Done():
			t.Fatal("no event")
		}
	}
	assert.Zero(t, failures.Load())
	assert.Empty(t, fresh, "an ephemeral subscription starts with new events")
}

func TestSubscribeRedeliversAfterAnError(t *testing.T) {
	e := newEnv(t, bus.Topology{})
	c, err := client.New(e.js)
	require.NoError(t, err)
	got := make(chan client.Event[points.Frozen], 10)
	errs := make(chan error, 10)
	calls := 0
	sub, err := client.Subscribe(t.Context(), e.js, points.FrozenChange, func(_ context.Context, ev client.Event[points.Frozen]) error {
		calls++
		if calls == 1 {
			return errors.New("database down")
		}
		got <- ev
		return nil
	}, client.Durable("flaky"), client.RetryDelay(10*time.Millisecond), client.OnError(func(err error) { errs <- err }))
	require.NoError(t, err)
	defer sub.Stop()
	id, err := c.Publish(timeout(t), freeze(9))
	require.NoError(t, err)
	assert.ErrorContains(t, <-errs, "database down")
	assert.Equal(t, id, (<-got).Data.FreezeID)
}
