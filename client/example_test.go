package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/loyaltybus/loyaltybus/client"
	"github.com/loyaltybus/loyaltybus/events/points"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/pkg/natsembed"
)

func ExampleClient_CloudEvent() {
	c, err := client.New(nopJS{}, client.WithSource("checkout"))
	if err != nil {
		log.Fatal(err)
	}
	ev, err := c.CloudEvent(points.Freeze{MemberID: "m-001", MemberType: "shuyun", ChannelType: "POS", Points: 20},
		client.WithID("order-7-freeze"), client.WithTime(time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ev.Type(), ev.ID(), ev.Source())
	fmt.Println(string(ev.Data()))

	// Data that breaks the command's schema is refused before sending.
	_, err = c.CloudEvent(points.Freeze{MemberID: "m-001", MemberType: "shuyun", ChannelType: "POS"})
	fmt.Println(err)
	// Output:
	// loyalty.points.freeze.v1 order-7-freeze checkout
	// {"memberId":"m-001","memberType":"shuyun","channelType":"POS","points":20}
	// invalid loyalty.points.freeze.v1: data.points: must be greater than 0 (got 0)
}

func ExampleClient_Publish() {
	url, stop := demoBus() // in production: os.Getenv("LOYALTY_NATS_URL")
	defer stop()
	nc, err := nats.Connect(url)
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		log.Fatal(err)
	}
	c, err := client.New(js, client.WithSource("checkout"))
	if err != nil {
		log.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var r client.Receipt
	id, err := c.Publish(ctx, points.Freeze{MemberID: "m-001", MemberType: "shuyun", ChannelType: "POS", Points: 20},
		client.CaptureReceipt(&r))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("stored:", r.Stream, r.Subject, id == r.ID)
	// Output:
	// stored: LOYALTY_COMMANDS loyalty.cmd.points.freeze true
}

func ExampleClient_PublishAndWait() {
	url, stop := demoBus()
	defer stop()
	nc, err := nats.Connect(url)
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		log.Fatal(err)
	}
	c, err := client.New(js, client.WithSource("checkout"))
	if err != nil {
		log.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.PublishAndWait(ctx, points.Freeze{MemberID: "m-001", MemberType: "shuyun", ChannelType: "POS", Points: 20})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Status, res.Output["points"])

	_, err = c.PublishAndWait(ctx, points.Freeze{MemberID: "m-001", MemberType: "shuyun", ChannelType: "POS", Points: 5000})
	switch {
	case errors.Is(err, client.ErrFailed), errors.Is(err, client.ErrRejected):
		var ce *client.CommandError
		errors.As(err, &ce)
		fmt.Println(ce.Result.Status, ce.Result.Error.Message)
	case errors.Is(err, client.ErrNoResult):
		fmt.Println("no result in time; the command may still be processed")
	case err != nil:
		log.Fatal(err)
	}
	// Output:
	// succeeded 20
	// failed insufficient points
}

func ExampleSubscribe() {
	url, stop := demoBus()
	defer stop()
	nc, err := nats.Connect(url)
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		log.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	frozen := make(chan points.Frozen)
	sub, err := client.Subscribe(ctx, js, points.FrozenChange, func(ctx context.Context, ev client.Event[points.Frozen]) error {
		frozen <- ev.Data // e.g. update the loyalty balance shown at the till
		return nil
	}, client.Durable("till-display"))
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Stop()

	c, err := client.New(js)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Publish(ctx, points.Freeze{MemberID: "m-001", MemberType: "shuyun", ChannelType: "POS", Points: 20}); err != nil {
		log.Fatal(err)
	}
	ev := <-frozen
	fmt.Println(ev.MemberID, ev.Points)
	// Output:
	// m-001 20
}

// demoBus runs an embedded JetStream with a points service that freezes up
// to 1000 points without a vendor, standing in for a loyaltybus deployment.
func demoBus() (url string, stop func()) {
	dir, err := os.MkdirTemp("", "loyaltybus-example-")
	if err != nil {
		log.Fatal(err)
	}
	srv, err := natsembed.Start(natsembed.Config{StoreDir: dir})
	if err != nil {
		log.Fatal(err)
	}
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		log.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		log.Fatal(err)
	}
	svc, err := bus.New(js, bus.Config{Name: "points"})
	if err != nil {
		log.Fatal(err)
	}
	c := points.FreezeCommand
	err = svc.Handle(bus.Route{Type: c.Type, Subject: c.Subject, Schema: c.Schema, PartitionKey: c.PartitionKey,
		Handler: func(_ context.Context, cmd *bus.Command) (*bus.Outcome, error) {
			var d points.Freeze
			if err := cmd.Decode(&d); err != nil {
				return nil, err
			}
			if d.Points > 1000 {
				return nil, bus.Permanent(errors.New("insufficient points"))
			}
			return &bus.Outcome{
				Output: map[string]any{"freezeId": cmd.ID, "points": d.Points},
				Changes: []bus.Change{{Type: points.TypeFrozen, Subject: points.SubjectFrozen,
					Data: points.Frozen{FreezeID: cmd.ID, MemberID: d.MemberID, MemberType: d.MemberType, ChannelType: d.ChannelType, Points: d.Points}}},
			}, nil
		}})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	select {
	case <-svc.Ready():
	case err := <-done:
		log.Fatal(err)
	}
	return srv.ClientURL(), func() {
		cancel()
		<-done
		nc.Close()
		srv.Shutdown()
		_ = os.RemoveAll(dir)
	}
}
