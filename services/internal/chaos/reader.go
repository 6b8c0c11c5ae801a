package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Stream names of the public contract.
const (
	streamCommands = "LOYALTY_COMMANDS"
	streamResults  = "LOYALTY_RESULTS"
	streamDLQ      = "LOYALTY_DLQ"
)

// readStream reads every message stored in stream with an ordered consumer
// of its own: an independent reader that shares nothing with the services.
func readStream(ctx context.Context, js jetstream.JetStream, stream string, each func(jetstream.Msg, *jetstream.MsgMetadata) error) error {
	// Right after a cluster lost and regained quorum the JetStream API may
	// answer "no responders" for a moment although every stream has a
	// leader again: retry setting up the reader for a while.
	var (
		want uint64
		c    jetstream.Consumer
		last error
	)
	err := poll(ctx, 30*time.Second, 200*time.Millisecond, "reader of "+stream, func() (bool, error) {
		s, err := js.Stream(ctx, stream)
		if err == nil {
			var info *jetstream.StreamInfo
			if info, err = s.Info(ctx); err == nil {
				if want = info.State.Msgs; want == 0 {
					return true, nil
				}
				c, err = s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
			}
		}
		if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
			last = err
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		return fmt.Errorf("read %s: %w (last: %v)", stream, err, last)
	}
	if want == 0 {
		return nil
	}
	var got uint64
	for got < want {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("read %s: %d of %d messages: %w", stream, got, want, err)
		}
		batch, err := c.Fetch(min(int(want-got), 1000), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return fmt.Errorf("read %s: %w", stream, err)
		}
		for m := range batch.Messages() {
			md, err := m.Metadata()
			if err != nil {
				return fmt.Errorf("read %s: %w", stream, err)
			}
			if err := each(m, md); err != nil {
				return err
			}
			got++
		}
		if err := batch.Error(); err != nil {
			return fmt.Errorf("read %s: %w", stream, err)
		}
	}
	return nil
}

// ReadResults reads every result event in LOYALTY_RESULTS.
func ReadResults(ctx context.Context, js jetstream.JetStream) ([]Result, error) {
	var out []Result
	err := readStream(ctx, js, streamResults, func(m jetstream.Msg, md *jetstream.MsgMetadata) error {
		var data struct {
			CommandID string `json:"commandId"`
			Status    string `json:"status"`
		}
		if err := json.Unmarshal(m.Data(), &data); err != nil {
			return fmt.Errorf("result at seq %d: %w", md.Sequence.Stream, err)
		}
		h := m.Headers()
		cmd := h.Get("ce-causationid")
		if cmd == "" {
			cmd = data.CommandID
		}
		out = append(out, Result{EventID: h.Get("ce-id"), CommandID: cmd, Status: data.Status,
			Seq: md.Sequence.Stream, Stored: md.Timestamp})
		return nil
	})
	return out, err
}

// ReadDeadLetters reads every copy in LOYALTY_DLQ.
func ReadDeadLetters(ctx context.Context, js jetstream.JetStream) ([]DeadLetter, error) {
	var out []DeadLetter
	err := readStream(ctx, js, streamDLQ, func(m jetstream.Msg, _ *jetstream.MsgMetadata) error {
		h := m.Headers()
		var data struct {
			MemberID string `json:"memberId"`
		}
		_ = json.Unmarshal(m.Data(), &data) // binary mode: the data is the command's
		out = append(out, DeadLetter{CommandID: h.Get("ce-id"), Reason: h.Get("Loyalty-Dlq-Reason"), Member: data.MemberID})
		return nil
	})
	return out, err
}
