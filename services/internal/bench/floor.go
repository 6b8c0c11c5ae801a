package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/loyaltybus/loyaltybus/adapters/shuyun"
	eventspoints "github.com/loyaltybus/loyaltybus/events/points"
)

// floor is the minimal hand-written pipeline the runtime is measured
// against: fetch → HTTP POST → two async publishes → ack. It has no
// validation, no idempotency record, no retries and no ordering.
func floor(ctx context.Context, js jetstream.JetStream, client *shuyun.Client, inFlight int) error {
	cons, err := js.CreateOrUpdateConsumer(ctx, "LOYALTY_COMMANDS", jetstream.ConsumerConfig{
		Durable: "floor", FilterSubject: eventspoints.SubjectFreeze, AckPolicy: jetstream.AckExplicitPolicy,
		MaxAckPending: 4 * inFlight, AckWait: 30 * time.Second,
	})
	if err != nil {
		return err
	}
	sem := make(chan struct{}, inFlight)
	cc, err := cons.Consume(func(m jetstream.Msg) {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			handle(ctx, js, client, m)
		}()
	}, jetstream.PullMaxMessages(2*inFlight))
	if err != nil {
		return err
	}
	<-ctx.Done()
	cc.Stop()
	for i := 0; i < inFlight; i++ {
		sem <- struct{}{}
	}
	return nil
}

func handle(ctx context.Context, js jetstream.JetStream, client *shuyun.Client, m jetstream.Msg) {
	var d eventspoints.Freeze
	if json.Unmarshal(m.Data(), &d) != nil {
		_ = m.Term()
		return
	}
	id := m.Headers().Get("ce-id")
	if err := client.FreezePoints(ctx, id, shuyun.FreezeRequest{MemberID: d.MemberID, MemberType: d.MemberType, ChannelType: d.ChannelType, Point: d.Points, Description: "bench"}); err != nil {
		retry(m, "vendor call", err)
		return
	}
	res := nats.NewMsg("loyalty.result.points.freeze")
	res.Header.Set(nats.MsgIdHdr, id+"/result")
	res.Header.Set("ce-causationid", id)
	res.Data = []byte(`{"commandId":"` + id + `","status":"succeeded","attempts":1}`)
	ev := nats.NewMsg("loyalty.event.points.frozen")
	ev.Header.Set(nats.MsgIdHdr, id+"/frozen")
	ev.Data = m.Data()
	f1, err1 := js.PublishMsgAsync(res)
	f2, err2 := js.PublishMsgAsync(ev)
	if err1 != nil || err2 != nil {
		retry(m, "publish", errors.Join(err1, err2))
		return
	}
	for _, f := range []jetstream.PubAckFuture{f1, f2} {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			retry(m, "publish ack", err)
			return
		}
	}
	_ = m.Ack()
}

// retry returns m for redelivery in a second and says why on stderr: a
// floor that retries runs slow, and its row is then no floor to compare with.
func retry(m jetstream.Msg, what string, err error) {
	fmt.Fprintf(os.Stderr, "floor: %s: %v; redelivering in 1s\n", what, err)
	_ = m.NakWithDelay(time.Second)
}
