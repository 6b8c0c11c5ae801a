package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/loyaltybus/loyaltybus/adapters/shuyun"
	"github.com/loyaltybus/loyaltybus/events/points"
)

// Message is a command ready to publish.
type Message struct {
	Command Command
	Msg     *nats.Msg
}

// Workload builds points commands for members, each member's commands a
// life-cycle in which order matters: freeze, adjust, freeze, consume the
// first open freeze, unfreeze the next, and again. A consume or unfreeze
// applied before its freeze is refused by the vendor, so reordering shows in
// the results as well as in the effect ledger.
type Workload struct {
	prefix  string
	members int
	next    int
	perM    map[string]*memberState
}

type memberState struct {
	index int
	open  []string // freeze ids not yet settled, oldest first
}

// NewWorkload returns a workload whose command ids start with prefix and
// whose commands are spread round robin over members members.
func NewWorkload(prefix string, members int) *Workload {
	return &Workload{prefix: prefix, members: max(1, members), perM: map[string]*memberState{}}
}

// Next builds n more commands.
func (w *Workload) Next(n int) ([]Message, error) {
	// lifecycle is the order of kinds each member goes through.
	lifecycle := [...]string{"freeze", "adjust", "freeze", "consume", "unfreeze"}
	out := make([]Message, 0, n)
	for range n {
		i := w.next
		w.next++
		member := fmt.Sprintf("%s-m%03d", w.prefix, i%w.members)
		st := w.perM[member]
		if st == nil {
			st = &memberState{}
			w.perM[member] = st
		}
		kind := lifecycle[st.index%len(lifecycle)]
		if (kind == "consume" || kind == "unfreeze") && len(st.open) == 0 {
			kind = "freeze"
		}
		id := fmt.Sprintf("%s-%06d", w.prefix, i)
		c := Command{ID: id, Member: member, Kind: kind, Index: st.index}
		st.index++
		var subject, typ string
		var data any
		switch kind {
		case "freeze":
			subject, typ = points.SubjectFreeze, points.TypeFreeze
			data = points.Freeze{MemberID: member, MemberType: "shuyun", ChannelType: "POS", Points: int64(1 + i%5)}
			c.Op, c.Token = shuyun.PathFreezePoints, id
			st.open = append(st.open, id)
		case "adjust":
			subject, typ = points.SubjectAdjust, points.TypeAdjust
			data = points.Adjust{MemberID: member, MemberType: "shuyun", ChannelType: "POS", ChangeType: points.ChangeSend, Points: 1, EventCode: "CHAOS"}
			c.Op, c.Token = shuyun.PathChangePoints, id
		case "consume", "unfreeze":
			freezeID := st.open[0]
			st.open = st.open[1:]
			c.FreezeID = freezeID
			d := points.Unfreeze{FreezeID: freezeID, MemberID: member, MemberType: "shuyun", ChannelType: "POS"}
			data = d
			subject, typ = points.SubjectUnfreeze, points.TypeUnfreeze
			c.Op, c.Token = shuyun.PathUnfreezePoints, freezeID
			if kind == "consume" {
				subject, typ = points.SubjectConsume, points.TypeConsume
				data = points.Consume(d)
				c.Op = shuyun.PathDeductFrozenPoints
			}
		}
		m, err := commandMsg(subject, typ, id, data)
		if err != nil {
			return nil, err
		}
		out = append(out, Message{Command: c, Msg: m})
	}
	return out, nil
}

// commandMsg encodes a binary-mode CloudEvent command with Nats-Msg-Id set to
// its id, as the contract asks publishers to.
func commandMsg(subject, typ, id string, data any) (*nats.Msg, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode command %s: %w", id, err)
	}
	m := nats.NewMsg(subject)
	m.Header.Set("ce-specversion", "1.0")
	m.Header.Set("ce-id", id)
	m.Header.Set("ce-source", "chaos")
	m.Header.Set("ce-type", typ)
	m.Header.Set("Content-Type", "application/json")
	m.Header.Set(nats.MsgIdHdr, id)
	m.Data = b
	return m, nil
}

// Publisher publishes commands until the commands stream acknowledged each
// one, retrying through broker outages with the same Nats-Msg-Id (the
// stream's duplicate window makes a retry of a stored message harmless).
type Publisher struct {
	js jetstream.JetStream

	mu        sync.Mutex
	published []Command
	acked     int
}

// NewPublisher returns a publisher on js.
func NewPublisher(js jetstream.JetStream) *Publisher { return &Publisher{js: js} }

// window bounds the asynchronous publishes awaiting their ack.
const window = 256

// Publish publishes msgs in order, at most window at a time unacknowledged,
// and returns once every one was acknowledged or within passed. Each
// acknowledged command is recorded (Published).
func (p *Publisher) Publish(ctx context.Context, msgs []Message, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for start := 0; start < len(msgs); start += window {
		batch := msgs[start:min(start+window, len(msgs))]
		pending := batch
		for attempt := 0; len(pending) > 0; attempt++ {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("publish: %d of %d commands unacknowledged: %w", len(pending)+len(msgs)-start-len(batch), len(msgs), err)
			}
			if attempt > 0 {
				hold(ctx, 100*time.Millisecond) // the broker is away: do not spin
			}
			pending = p.publishBatch(ctx, pending)
		}
	}
	return nil
}

// publishBatch publishes msgs asynchronously and returns those not
// acknowledged.
func (p *Publisher) publishBatch(ctx context.Context, msgs []Message) []Message {
	type sent struct {
		m Message
		f jetstream.PubAckFuture
	}
	var futs []sent
	var failed []Message
	for _, m := range msgs {
		f, err := p.js.PublishMsgAsync(copyMsg(m.Msg))
		if err != nil {
			failed = append(failed, m)
			continue
		}
		futs = append(futs, sent{m, f})
	}
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for _, s := range futs {
		select {
		case ack := <-s.f.Ok():
			c := s.m.Command
			c.Seq = ack.Sequence
			p.record(c)
		case <-s.f.Err():
			failed = append(failed, s.m)
		case <-actx.Done():
			failed = append(failed, s.m)
		}
	}
	return failed
}

// copyMsg returns a fresh message with the same subject, headers and data (a
// nats.Msg must not be published twice).
func copyMsg(m *nats.Msg) *nats.Msg {
	c := nats.NewMsg(m.Subject)
	for k, v := range m.Header {
		c.Header[k] = append([]string(nil), v...)
	}
	c.Data = m.Data
	return c
}

func (p *Publisher) record(c Command) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.acked++
	if c.ID != "" { // a conflicting copy is no command of its own
		p.published = append(p.published, c)
	}
}

// Published returns the acknowledged commands, without repeats, in the order
// first acknowledged.
func (p *Publisher) Published() []Command {
	p.mu.Lock()
	defer p.mu.Unlock()
	seen := make(map[string]bool, len(p.published))
	out := make([]Command, 0, len(p.published))
	for _, c := range p.published {
		if !seen[c.ID] {
			seen[c.ID] = true
			out = append(out, c)
		}
	}
	return out
}

// InStreamOrder returns cmds with each member's Index set from the order of
// the commands stream. A publish retried after a broker outage may land
// after a later command of its member; the stream's order is then the
// publish order, and a consume or unfreeze that landed before its freeze is
// expected to be refused by the vendor (failed, no effect).
func InStreamOrder(cmds []Command) []Command {
	out := slices.Clone(cmds)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	next := map[string]int{}
	freezeSeq := map[string]uint64{}
	for i := range out {
		c := &out[i]
		c.Index = next[c.Member]
		next[c.Member]++
		if c.Kind == "freeze" {
			freezeSeq[c.ID] = c.Seq
		}
		if c.FreezeID != "" {
			if fs, ok := freezeSeq[c.FreezeID]; !ok || fs > c.Seq {
				c.Expect, c.Op, c.Token = "failed", "", ""
			}
		}
	}
	return out
}

// Acked counts acknowledgements so far.
func (p *Publisher) Acked() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.acked
}

// hold waits for d or until ctx ends. It holds a fault or paces a retry; it
// never stands in for waiting on an event.
func hold(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
