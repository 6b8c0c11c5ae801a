package client_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/events/points"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/pkg/bus/bustest"
)

// fakePoints is a points service double: it freezes without a vendor, and
// refuses every freeze while down or whose description is "refuse".
type fakePoints struct {
	mu    sync.Mutex
	down  bool
	calls map[string]int
}

func (f *fakePoints) setDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

func (f *fakePoints) callsOf(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[id]
}

func (f *fakePoints) freeze(_ context.Context, cmd *bus.Command) (*bus.Outcome, error) {
	var d points.Freeze
	if err := cmd.Decode(&d); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.calls[cmd.ID]++
	down := f.down
	f.mu.Unlock()
	if down || d.Description == "refuse" {
		return nil, bus.Permanent(errors.New("vendor refused the freeze"))
	}
	return &bus.Outcome{
		Output: map[string]any{"freezeId": cmd.ID, "points": d.Points},
		Changes: []bus.Change{{Type: points.TypeFrozen, Subject: points.SubjectFrozen, Data: points.Frozen{
			FreezeID: cmd.ID, MemberID: d.MemberID, MemberType: d.MemberType, ChannelType: d.ChannelType, Points: d.Points,
		}}},
	}, nil
}

type env struct {
	js  jetstream.JetStream
	svc *fakePoints
}

// newEnv runs an embedded JetStream with the streams provisioned and the
// fake points service consuming.
func newEnv(t *testing.T, topo bus.Topology) *env {
	t.Helper()
	srv := bustest.NewServer(t)
	_, js := bustest.Connect(t, srv.ClientURL())
	require.NoError(t, bus.Provision(t.Context(), js, topo))
	svc := &fakePoints{calls: map[string]int{}}
	c := points.FreezeCommand
	bustest.Start(t, srv.ClientURL(), bus.Config{Name: "points", SkipProvision: true, Topology: topo},
		bus.Route{Type: c.Type, Subject: c.Subject, Schema: c.Schema, PartitionKey: c.PartitionKey, Handler: svc.freeze})
	return &env{js: js, svc: svc}
}

func freeze(pts int64) points.Freeze {
	return points.Freeze{MemberID: "m-001", MemberType: "shuyun", ChannelType: "POS", Points: pts}
}

func timeout(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// nopJS is a JetStream that refuses every publish: for tests where nothing
// may be sent.
type nopJS struct{ jetstream.JetStream }

func (nopJS) PublishMsg(context.Context, *nats.Msg, ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	return nil, errors.New("nopJS: nothing may be published")
}
