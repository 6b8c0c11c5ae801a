package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// MemoWrite sets (or, with Delete, removes) one memo key of the service.
type MemoWrite struct {
	Key    string `json:"key"`
	Value  []byte `json:"value,omitempty"`
	Delete bool   `json:"delete,omitempty"`
}

// memoStore is the service's view of the memo bucket: its keys live under
// "<service>." so services never read each other's memory.
type memoStore struct {
	kv     jetstream.KeyValue
	prefix string
}

// memoKey makes any key usable in KV: characters outside [-/_=.a-zA-Z0-9]
// are written as =XX, which is reversible and keeps keys readable.
func (m *memoStore) key(k string) string {
	var b strings.Builder
	b.WriteString(m.prefix)
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '/', c == '.':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	return b.String()
}

func (m *memoStore) get(ctx context.Context, k string) ([]byte, bool, error) {
	e, err := m.kv.Get(ctx, m.key(k))
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read memo %s: %w", k, err)
	}
	return e.Value(), true, nil
}

// msgs are memo writes as messages to publish with a command's outputs.
func (m *memoStore) msgs(writes []MemoWrite) []*nats.Msg {
	out := make([]*nats.Msg, 0, len(writes))
	for _, w := range writes {
		msg := nats.NewMsg("$KV." + MemoBucket + "." + m.key(w.Key))
		if w.Delete {
			msg.Header.Set("KV-Operation", "DEL")
		} else {
			msg.Data = w.Value
		}
		out = append(out, msg)
	}
	return out
}

func (m *memoStore) apply(ctx context.Context, writes []MemoWrite) error {
	for _, w := range writes {
		var err error
		if w.Delete {
			err = m.kv.Delete(ctx, m.key(w.Key))
			if errors.Is(err, jetstream.ErrKeyNotFound) {
				err = nil
			}
		} else {
			_, err = m.kv.Put(ctx, m.key(w.Key), w.Value)
		}
		if err != nil {
			return fmt.Errorf("write memo %s: %w", w.Key, err)
		}
	}
	return nil
}

// Memo reads a key the service remembered (a fact's content hash, a
// checkpoint). ok is false when nothing is remembered.
func (c *Command) Memo(ctx context.Context, key string) (value []byte, ok bool, err error) {
	if c.run == nil {
		return nil, false, errors.New("bus: Memo outside a running service")
	}
	return c.run.svc.memo.get(ctx, key)
}

// Emit publishes change events now, before the handler returns, and then
// applies memo writes. A long fetch emits page by page and checkpoints its
// position in the same call: after a crash the redelivered command resumes
// from the checkpoint, and a page emitted twice carries the same event ids
// (give each change a FactKey), which the events stream de-duplicates.
func (c *Command) Emit(ctx context.Context, changes []Change, memo []MemoWrite) error {
	if c.run == nil {
		return errors.New("bus: Emit outside a running service")
	}
	s, j := c.run.svc, c.run.job
	now := s.cfg.Now()
	outs := make([]storedMsg, 0, len(changes))
	for _, ch := range changes {
		m, err := s.encodeOutput(j, changeID(j.ev.ID(), ch.Type, ch.Key, ch.FactKey), ch.Type, ch.Subject, ch.Data, now)
		if err != nil {
			return fmt.Errorf("emit %s: %w", ch.Type, err)
		}
		outs = append(outs, m)
	}
	if err := s.publish(ctx, outs, false); err != nil {
		return fmt.Errorf("emit: %w", err)
	}
	return s.memo.apply(ctx, memo)
}
