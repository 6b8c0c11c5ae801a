package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"

	"github.com/loyaltybus/loyaltybus/events"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
)

const (
	cmdPrefix = "loyalty.cmd."
	dlqPrefix = "Loyalty-Dlq-"
)

// Replay republishes a stored command (its subject, headers and bytes, as read
// from LOYALTY_COMMANDS or from a dead letter of LOYALTY_DLQ) as an operator
// replay or redrive (CONTRACT §5): the CloudEvent id and content stay, the
// Loyalty-Dlq-* headers go, the header Loyalty-Replay: true is added and the
// message gets a fresh Nats-Msg-Id (<id>.replay.<unix-nanos> unless WithMsgID
// says otherwise), so the stream's duplicate window does not drop it.
//
// The services re-attempt a command whose stored outcome is failed or
// rejected, publishing a new result, and answer a command that succeeded from
// their idempotency record without calling the vendor again.
//
// A dead letter's subject (loyalty.dlq.<domain>.<action>) is mapped back to
// the command subject. The data is not validated: use ReplaceData and
// Validate to fix a rejected command first. It returns the command id.
func (c *Client) Replay(ctx context.Context, m *nats.Msg, opts ...PublishOption) (string, error) {
	o, err := collect(opts)
	if err != nil {
		return "", err
	}
	rm, id, err := c.replayMsg(m, o)
	if err != nil {
		return "", err
	}
	if _, err := c.send(ctx, rm, id, o, false); err != nil {
		return "", err
	}
	return id, nil
}

// ReplayAndWait is Replay that waits for the result of the re-attempt (or the
// stored result a service answers with), like PublishAndWait.
func (c *Client) ReplayAndWait(ctx context.Context, m *nats.Msg, opts ...PublishOption) (events.Result, error) {
	o, err := collect(opts)
	if err != nil {
		return events.Result{}, err
	}
	rm, id, err := c.replayMsg(m, o)
	if err != nil {
		return events.Result{}, err
	}
	return c.send(ctx, rm, id, o, true)
}

func (c *Client) replayMsg(m *nats.Msg, o *publishOptions) (*nats.Msg, string, error) {
	if m == nil {
		return nil, "", errors.New("client: nil message to replay")
	}
	subject, err := CommandSubject(m.Subject)
	if err != nil {
		return nil, "", err
	}
	ev, _, err := bus.Decode(m.Header, m.Data)
	if err != nil {
		return nil, "", fmt.Errorf("replay message on %s: %w", m.Subject, err)
	}
	id := ev.ID()
	if !bus.ValidID(id) {
		return nil, "", fmt.Errorf("replay message on %s: no usable command id (%q)", m.Subject, id)
	}
	h := nats.Header{}
	for k, v := range m.Header {
		if len(k) >= len(dlqPrefix) && strings.EqualFold(k[:len(dlqPrefix)], dlqPrefix) {
			continue
		}
		h[k] = append([]string(nil), v...)
	}
	h.Set(events.HeaderReplay, "true")
	msgID := o.msgID
	if msgID == "" {
		msgID = id + ".replay." + strconv.FormatInt(c.now().UnixNano(), 10)
	}
	h.Set(nats.MsgIdHdr, msgID)
	o.msgID = msgID
	return &nats.Msg{Subject: subject, Header: h, Data: m.Data}, id, nil
}

// CommandSubject maps a dead letter's subject back to its command subject
// (loyalty.dlq.points.freeze → loyalty.cmd.points.freeze); a command subject
// is returned as it is. loyalty.dlq.invalid has no command subject: its
// messages had no usable id.
func CommandSubject(subject string) (string, error) {
	if strings.HasPrefix(subject, cmdPrefix) && len(subject) > len(cmdPrefix) {
		return subject, nil
	}
	tail, ok := strings.CutPrefix(subject, "loyalty.dlq.")
	if !ok || tail == "" {
		return "", fmt.Errorf("%s is not a command or dead-letter subject", subject)
	}
	if subject == events.SubjectDLQInvalid {
		return "", fmt.Errorf("%s holds messages without a usable command id; publish a corrected command instead", subject)
	}
	return cmdPrefix + tail, nil
}

// ReplaceData returns a copy of the stored command m with its data replaced
// by data (a JSON document), in m's content mode, keeping its id and every
// other attribute and header: the way to fix a rejected command by hand
// before replaying it. Check the new data with Validate.
func ReplaceData(m *nats.Msg, data []byte) (*nats.Msg, error) {
	if m == nil {
		return nil, errors.New("client: nil message")
	}
	if !json.Valid(data) {
		return nil, errors.New("replacement data is not a JSON document")
	}
	ev, mode, err := bus.Decode(m.Header, m.Data)
	if err != nil {
		return nil, fmt.Errorf("decode message on %s: %w", m.Subject, err)
	}
	if err := ev.SetData(event.ApplicationJSON, json.RawMessage(data)); err != nil {
		return nil, fmt.Errorf("replace data of %s: %w", ev.ID(), err)
	}
	out, err := bus.Encode(m.Subject, ev, mode)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", ev.ID(), err)
	}
	// Keep the headers that are not part of the event's encoding (the DLQ
	// reason, tracing, the original Nats-Msg-Id …).
	for k, v := range m.Header {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "ce-") || lk == "content-type" {
			continue
		}
		out.Header[k] = append([]string(nil), v...)
	}
	return out, nil
}
