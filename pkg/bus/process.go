package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/codes"

	"github.com/loyaltybus/loyaltybus/pkg/pii"
	"go.opentelemetry.io/otel/trace"
)

// Outcome labels used in logs and the result.
const (
	outcomeSucceeded   = stateSucceeded
	outcomeFailed      = stateFailed
	outcomeRejected    = stateRejected
	outcomeRetry       = "retry"
	outcomeDuplicate   = "duplicate"
	outcomeConflict    = "conflict"
	outcomeInvalid     = "invalid"
	outcomeDeferred    = "deferred"
	outcomeInterrupted = "interrupted"
	outcomeRepublished = "republished"
)

// infraRetry is the redelivery delay after a failure of the bus itself
// (KV or publish); the command is retried without counting an attempt.
const infraRetry = time.Second

// claimed is a command that passed admission and holds its claim: what it
// needs to run its handler and settle.
type claimed struct {
	ctx   context.Context
	span  trace.Span
	start time.Time
	rec   *record
	rev   uint64
}

// prepare takes a message as far as it goes without a worker slot: decoding
// failures and rejections are settled here, duplicates answered, and a valid
// command claims its id. It returns the claimed command whose handler is to
// run, or nil when the message is done with (or went back for redelivery).
func (s *Service) prepare(ctx context.Context, j *job) *claimed {
	start := s.cfg.Now()
	ctx, span := s.startSpan(ctx, j)
	if j.decodeErr != nil || j.ev == nil || j.ev.ID() == "" {
		reason := "no CloudEvent id"
		if j.decodeErr != nil {
			reason = j.decodeErr.Error()
		}
		s.deadLetterInvalid(ctx, j, reason)
		span.End()
		return nil
	}
	if !validID(j.ev.ID()) {
		// Not a usable key for the idempotency record: reject without one.
		rej := &RejectionError{Field: "id", Rule: "must be 1-64 characters of A-Z a-z 0-9 . _ : -"}
		rec := &record{State: stateRejected, Attempts: 0}
		rec.Outputs = s.outputs(j, rec, nil, rej, start)
		s.settle(ctx, j, rec, noRecord, start, rej)
		span.End()
		return nil
	}
	rejection := j.rejection
	next, rev, ok := s.admit(ctx, j, rejection, start)
	if !ok {
		span.End()
		return nil
	}
	if rejection != nil {
		next.State = stateRejected
		next.Lease = 0
		next.Outputs = s.outputs(j, next, nil, rejection, start)
		s.settle(ctx, j, next, rev, start, rejection)
		span.End()
		return nil
	}
	return &claimed{ctx: ctx, span: span, start: start, rec: next, rev: rev}
}

// unclaim gives back the claim of a command handed back at shutdown before
// its handler ran: the attempt the claim counted did not happen, and the
// command's redelivery, here or on another replica, may run it at once. If
// the write fails, the claim stays: the redelivery of this message still
// takes it over (its own sequence), only counting one attempt more.
func (s *Service) unclaim(j *job, c *claimed) {
	defer c.span.End()
	c.rec.Attempts--
	c.rec.GenAttempts--
	c.rec.Lease = 0
	if _, err := s.idem.put(c.ctx, j.ev.ID(), c.rec, c.rev); err != nil {
		s.log.Debug("give back claim", "event_id", j.ev.ID(), "err", err)
	}
}

// execute runs a claimed command's handler on a worker slot and settles the
// outcome, or returns the message for a delayed redelivery (recording when in
// j.until, so its key waits for it). It calls done once the handler has
// returned: settling needs no worker slot.
func (s *Service) execute(j *job, c *claimed, done func()) {
	ctx, start, next, rev, id := c.ctx, c.start, c.rec, c.rev, j.ev.ID()
	defer c.span.End()
	out, herr := s.call(ctx, j, next)
	done()
	now := s.cfg.Now()
	if herr != nil && isShutdown(ctx, herr) {
		// Stopping: leave the command to the redelivery of this same message.
		s.logOutcome(ctx, j, outcomeInterrupted, next.Attempts, start, herr)
		s.handBack(j)
		return
	}
	if herr != nil && classify(herr) == classTransient && !attempted(herr) {
		// The vendor was spared, not called: the attempt does not count.
		next.Attempts--
		next.GenAttempts--
	}
	if herr != nil && classify(herr) == classTransient && next.GenAttempts < s.cfg.MaxAttempts {
		delay := s.cfg.Backoff.delay(next.GenAttempts)
		if hint := retryAfter(herr); hint > delay {
			delay = hint
		}
		// Count the attempt, and keep other messages of this id away until
		// the retry has run.
		next.Lease = leaseUntil(now, delay+s.cfg.HandlerTimeout+s.cfg.AckWait)
		if _, err := s.idem.put(ctx, id, next, rev); err != nil && !errors.Is(err, errLostRace) {
			s.log.Warn("record attempt", "event_id", id, "err", err)
		}
		s.logOutcome(ctx, j, outcomeRetry, next.Attempts, start, herr, slog.Duration("retry_in", delay))
		_ = j.msg.NakWithDelay(delay)
		s.release(j)
		j.until = now.Add(delay)
		return
	}
	switch {
	case herr == nil:
		next.State = stateSucceeded
	case classify(herr) == classRejected:
		next.State = stateRejected
	default:
		next.State = stateFailed
	}
	next.Lease = 0
	next.Outputs = s.outputs(j, next, out, herr, now)
	if herr == nil {
		next.Memo = out.Memo
	}
	s.settle(ctx, j, next, rev, start, herr)
	return
}

// admit decides from the idempotency record whether this delivery runs the
// handler, and returns the record it will settle at revision rev (0: not
// stored yet). A valid command claims its id before any vendor call, so a
// second message of the same id waits, and one with another payload is a
// conflict even when the two race on different partition keys. (Skipping the
// claim where the vendor de-duplicates on the token saved a write, but let
// two payloads under one id both reach the vendor.)
func (s *Service) admit(ctx context.Context, j *job, rejection *RejectionError, start time.Time) (next *record, rev uint64, ok bool) {
	id := j.ev.ID()
	hash := payloadHash(j.ev.Type(), j.msg.Subject(), j.ev.Data())
	next = &record{State: stateClaimed, Hash: hash, Seq: j.seq(), Attempts: 1, GenAttempts: 1}
	claim := rejection == nil
	if claim {
		next.Lease = leaseUntil(start, claimLease(s.cfg))
		rev, err := s.idem.put(ctx, id, next, 0)
		if err == nil {
			return next, rev, true
		}
		if !errors.Is(err, errLostRace) {
			s.retryInfra(j, err, start)
			return nil, 0, false
		}
	}
	rec, rev, err := s.idem.get(ctx, id)
	if err != nil || (rec == nil && claim) {
		if err == nil {
			err = errLostRace // created and gone again: look once more later
		}
		s.retryInfra(j, err, start)
		return nil, 0, false
	}
	if rec == nil {
		return next, 0, true // a rejection, never claimed
	}
	reattempt := j.replay && (rec.State == stateFailed || rec.State == stateRejected) && rec.Seq != j.seq()
	switch {
	case reattempt:
	case rec.Hash != hash:
		s.conflict(ctx, j, rec, start)
		return nil, 0, false
	case rec.settled():
		s.republish(ctx, j, rec, start)
		return nil, 0, false
	case rec.Seq != j.seq() && start.UnixMilli() < rec.Lease:
		// Another message of this id holds a live claim; look again later.
		s.logOutcome(ctx, j, outcomeDeferred, 0, start, nil)
		s.deferJob(j, time.UnixMilli(rec.Lease).Sub(start))
		return nil, 0, false
	}
	next.Attempts = rec.Attempts + 1
	next.Gen = rec.Gen
	next.GenAttempts = rec.GenAttempts + 1
	if rec.settled() { // operator replay of a failed or rejected command
		next.Gen = rec.Gen + 1
		next.GenAttempts = 1
	}
	if claim {
		next.Lease = leaseUntil(start, claimLease(s.cfg))
		if rev, err = s.idem.put(ctx, id, next, rev); err != nil {
			s.retryInfra(j, err, start)
			return nil, 0, false
		}
	}
	return next, rev, true
}

// claimLease is how long a claim keeps other messages of its id away. A
// command claims before it waits for a worker slot; the slots ahead of it
// free within one handler timeout (at most Concurrency commands wait, in
// order), and its own handler takes at most one more.
func claimLease(cfg Config) time.Duration { return 2*cfg.HandlerTimeout + cfg.AckWait }

// call runs the handler with a timeout and turns a panic into a permanent error.
func (s *Service) call(ctx context.Context, j *job, rec *record) (out *Outcome, err error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.HandlerTimeout)
	defer cancel()
	j.vendor = &vendorNote{}
	ctx = context.WithValue(ctx, vendorNoteKey{}, j.vendor)
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("handler panic", "event_id", j.ev.ID(), "panic", p, "stack", string(debug.Stack()))
			err = Permanent(fmt.Errorf("handler panic: %v", p))
		}
	}()
	cmd := &Command{
		ID:           j.ev.ID(),
		Type:         j.ev.Type(),
		Source:       j.ev.Source(),
		Subject:      j.ev.Subject(),
		Time:         j.ev.Time(),
		PartitionKey: j.key,
		Data:         j.ev.Data(),
		Attempt:      rec.Attempts,
		Replay:       j.replay,
		run:          &commandRun{svc: s, job: j},
	}
	cmd.CorrelationID, _ = j.ev.Extensions()["correlationid"].(string)
	cmd.Traceparent = j.traceparent
	began := s.cfg.Now()
	defer func() {
		class := ""
		if err != nil {
			class = [...]string{"transient", "permanent", "rejected"}[classify(err)]
		}
		s.obs.HandlerDone(s.cfg.Name, cmd.Type, s.cfg.Now().Sub(began), class)
	}()
	out, err = j.route.Handler(ctx, cmd)
	if err == nil && out == nil {
		out = &Outcome{}
	}
	return out, err
}

// checkCommand applies the envelope and data rules; nil means valid.
func (s *Service) checkCommand(j *job) *RejectionError {
	ev := j.ev
	switch {
	case ev.SpecVersion() != event.CloudEventsVersionV1:
		return &RejectionError{Field: "specversion", Rule: "must be 1.0"}
	case ev.Source() == "":
		return &RejectionError{Field: "source", Rule: "is required"}
	case ev.Type() == "":
		return &RejectionError{Field: "type", Rule: "is required"}
	case j.route == nil:
		return &RejectionError{Field: "subject", Rule: fmt.Sprintf("no command is published on %s", j.msg.Subject())}
	case ev.Type() != j.route.Type:
		return &RejectionError{Field: "type", Rule: fmt.Sprintf("%q does not match subject %s (want %q)", ev.Type(), j.msg.Subject(), j.route.Type)}
	}
	if ct := ev.DataContentType(); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return &RejectionError{Field: "datacontenttype", Rule: fmt.Sprintf("must be application/json, got %q", ct)}
	}
	if len(ev.Data()) == 0 {
		return &RejectionError{Field: "data", Rule: "is required"}
	}
	data, err := j.parsedData()
	if err == nil {
		err = j.route.validator.validateInstance(data)
	}
	if err != nil {
		var rej *RejectionError
		if errors.As(err, &rej) {
			return rej
		}
		return &RejectionError{Field: "data", Rule: err.Error()}
	}
	return nil
}

// retryInfra returns the message for a prompt redelivery after a failure of
// the bus itself. No attempt is counted and nothing is settled.
func (s *Service) retryInfra(j *job, err error, start time.Time) {
	if errors.Is(err, errLostRace) {
		s.logOutcome(context.Background(), j, outcomeDeferred, 0, start, err)
	} else {
		s.log.Warn("bus unavailable; command will be redelivered", "event_id", j.ev.ID(), "err", err)
	}
	s.deferJob(j, infraRetry)
}

// noRecord tells settle not to store a record (an id unusable as a key).
const noRecord = ^uint64(0)

// settle stores the decided outcome and publishes its memo writes and outputs
// in one pipelined batch, then acknowledges the message. Order across streams
// does not matter for safety: if any write fails, the message is redelivered
// and either finds the stored record (and republishes it) or decides again
// with the same token; either way the outputs keep their deterministic ids.
func (s *Service) settle(ctx context.Context, j *job, rec *record, rev uint64, start time.Time, herr error) {
	var extra []*nats.Msg
	if rev != noRecord {
		m, err := s.idem.msg(j.ev.ID(), rec, rev)
		if err != nil {
			s.retryInfra(j, err, start)
			return
		}
		extra = append(extra, m)
	}
	extra = append(extra, s.memo.msgs(rec.Memo)...)
	err := s.publish(ctx, rec.Outputs, false, extra...)
	if err != nil && !errors.Is(err, errLostRace) {
		s.log.Warn("settle; command will be redelivered", "event_id", j.ev.ID(), "err", err)
		s.deferJob(j, infraRetry)
		return
	}
	if errors.Is(err, errLostRace) {
		// Another message of this id settled first; its outputs carry the
		// same ids as ours, so the streams hold one of each.
		_ = j.msg.Ack()
		s.release(j)
		s.logOutcome(ctx, j, outcomeDuplicate, rec.Attempts, start, nil)
		return
	}
	s.ack(ctx, j, rec.State, herr)
	s.release(j)
	s.logOutcome(ctx, j, rec.State, rec.Attempts, start, herr)
}

// ack acknowledges a settled message: succeeded commands are acked and the
// ack confirmed, failed and rejected ones terminated with their reason.
func (s *Service) ack(ctx context.Context, j *job, state string, herr error) {
	if state == stateSucceeded {
		s.doubleAck(ctx, j)
		return
	}
	reason := state
	if herr != nil {
		reason += ": " + herr.Error()
	}
	_ = j.msg.TermWithReason(truncate(pii.MaskText(reason), 256))
}

// doubleAck acknowledges j and waits for the server's confirmation off the
// worker, so the key's next command (or the next key) does not wait a round
// trip for it. By now the outcome is stored and its outputs published: if the
// ack is lost, the redelivery only republishes them. Run waits for it.
func (s *Service) doubleAck(ctx context.Context, j *job) {
	s.wg.Add(1) // the caller's worker holds a count, so Run is still waiting
	go func() {
		defer s.wg.Done()
		if err := j.msg.DoubleAck(ctx); err != nil {
			s.log.Warn("ack", "event_id", j.ev.ID(), "err", err)
		}
	}()
}

// republish answers a command id seen again with its stored outcome. A
// redelivery of the message that decided it republishes every output (the
// crash may have come before any was published); another message of the same
// id gets the result only.
func (s *Service) republish(ctx context.Context, j *job, rec *record, start time.Time) {
	same := rec.Seq == j.seq()
	var memo []*nats.Msg
	if same {
		memo = s.memo.msgs(rec.Memo)
	}
	if err := s.publish(ctx, rec.Outputs, !same, memo...); err != nil {
		s.log.Warn("republish outputs; command will be redelivered", "event_id", j.ev.ID(), "err", err)
		s.deferJob(j, infraRetry)
		return
	}
	if same {
		s.ack(ctx, j, rec.State, nil)
	} else {
		s.doubleAck(ctx, j)
	}
	s.release(j)
	outcome := outcomeDuplicate
	if same { // a redelivery after a crash between record and ack
		outcome = outcomeRepublished
	}
	s.logOutcome(ctx, j, outcome, rec.Attempts, start, nil)
}

// conflict dead-letters a second, different payload under a used id. The
// first command's result stands; nothing else is published.
func (s *Service) conflict(ctx context.Context, j *job, rec *record, start time.Time) {
	reason := "conflict"
	hash := payloadHash(j.ev.Type(), j.msg.Subject(), j.ev.Data())
	dl := s.dlqCopy(j, dlqID(j.ev.ID(), rec.Gen, "conflict/"+hash), reason, rec.Attempts)
	if err := s.publish(ctx, []storedMsg{dl}, false); err != nil {
		s.log.Warn("dead-letter conflict; command will be redelivered", "event_id", j.ev.ID(), "err", err)
		s.deferJob(j, infraRetry)
		return
	}
	_ = j.msg.TermWithReason("conflict: command id reused with a different payload")
	s.release(j)
	s.logOutcome(ctx, j, outcomeConflict, rec.Attempts, start, errors.New("command id reused with a different payload"))
}

// deadLetterInvalid copies a message without a usable id to loyalty.dlq.invalid.
func (s *Service) deadLetterInvalid(ctx context.Context, j *job, reason string) {
	id := fmt.Sprintf("invalid-%s-%d", streamCommands, j.seq())
	dl := s.dlqCopy(j, id, "invalid: "+reason, 0)
	dl.Subject = "loyalty.dlq.invalid"
	if err := s.publish(ctx, []storedMsg{dl}, false); err != nil {
		s.log.Warn("dead-letter invalid message; will be redelivered", "stream_seq", j.seq(), "err", err)
		s.deferJob(j, infraRetry)
		return
	}
	_ = j.msg.TermWithReason(truncate("invalid: "+reason, 256))
	s.release(j)
	s.obs.Outcome(Observation{Service: s.cfg.Name, Outcome: outcomeInvalid, DeadLettered: true,
		Redelivered: numDelivered(j) > 1, Duration: s.cfg.Now().Sub(j.received)})
	s.log.LogAttrs(ctx, slog.LevelWarn, "command invalid",
		slog.String("subject", j.msg.Subject()), slog.Uint64("stream_seq", j.seq()),
		slog.String("outcome", outcomeInvalid), slog.String("reason", reason))
}

func (s *Service) logOutcome(ctx context.Context, j *job, outcome string, attempts int, start time.Time, err error, extra ...slog.Attr) {
	level := slog.LevelInfo
	if outcome == outcomeFailed || outcome == outcomeRejected || outcome == outcomeConflict {
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("event_id", j.ev.ID()),
		slog.String("event_type", j.ev.Type()),
		slog.String("subject", j.msg.Subject()),
		slog.Uint64("stream_seq", j.seq()),
		slog.Uint64("num_delivered", numDelivered(j)),
		slog.String("outcome", outcome),
		slog.Int("attempts", attempts),
		slog.Duration("duration", s.cfg.Now().Sub(start)),
	}
	var vendor *VendorDetail
	if err != nil {
		attrs = append(attrs, slog.String("err", err.Error()))
		if vendor = vendorOf(err); vendor != nil {
			attrs = append(attrs, slog.String("vendor", vendor.Name), slog.String("vendor_code", vendor.Code))
		}
	}
	if name := j.vendor.get(); vendor == nil && name != "" {
		attrs = append(attrs, slog.String("vendor", name))
	}
	s.log.LogAttrs(ctx, level, "command "+outcome, append(attrs, extra...)...)
	s.obs.Outcome(Observation{
		Service: s.cfg.Name, CommandType: j.ev.Type(), Outcome: outcome, Attempts: attempts,
		Redelivered:    numDelivered(j) > 1,
		DeadLettered:   outcome == outcomeFailed || outcome == outcomeRejected || outcome == outcomeConflict,
		IdempotencyHit: outcome == outcomeDuplicate || outcome == outcomeRepublished,
		Vendor:         vendor, Duration: s.cfg.Now().Sub(start),
	})
}

func numDelivered(j *job) uint64 {
	if j.meta == nil {
		return 0
	}
	return j.meta.NumDelivered
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// publish sends outputs asynchronously and waits for every ack, so the
// outputs of one command cost one round trip rather than one each.
func (s *Service) publish(ctx context.Context, outs []storedMsg, onlyResult bool, extra ...*nats.Msg) (err error) {
	ctx, span := s.tracer.Start(ctx, "loyaltybus publish", trace.WithSpanKind(trace.SpanKindProducer))
	defer func() {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}()
	ctx, cancel := context.WithTimeout(ctx, s.cfg.AckWait)
	defer cancel()
	var errs []error
	futs := make([]jetstream.PubAckFuture, 0, len(outs)+len(extra))
	for _, m := range extra {
		f, err := s.js.PublishMsgAsync(m)
		if err != nil {
			errs = append(errs, fmt.Errorf("publish %s: %w", m.Subject, err))
			continue
		}
		futs = append(futs, f)
	}
	for i := range outs {
		o := &outs[i]
		if onlyResult && !o.Result {
			continue
		}
		// The header maps are this publish's own: records are encoded
		// before publishing and decoded afresh for republishing.
		m := &nats.Msg{Subject: o.Subject, Header: nats.Header(o.Header), Data: o.Data}
		f, err := s.js.PublishMsgAsync(m)
		if err != nil {
			errs = append(errs, fmt.Errorf("publish %s: %w", o.Subject, err))
			continue
		}
		futs = append(futs, f)
	}
	for _, f := range futs {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			if isWrongLastSeq(err) {
				err = errLostRace
			}
			errs = append(errs, fmt.Errorf("publish %s: %w", f.Msg().Subject, err))
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("publish %s: %w", f.Msg().Subject, ctx.Err()))
		}
	}
	return errors.Join(errs...)
}

func cloneHeader(h map[string][]string) map[string][]string {
	c := make(map[string][]string, len(h))
	for k, v := range h {
		c[k] = v
	}
	return c
}

// outputs builds the result (and, on success, change events; on failure, a
// DLQ copy) of a decided outcome, encoded for storage and publishing.
func (s *Service) outputs(j *job, rec *record, out *Outcome, herr error, now time.Time) []storedMsg {
	id := j.ev.ID()
	res := resultData{CommandID: id, CommandType: j.ev.Type(), Status: rec.State, Attempts: rec.Attempts}
	if herr != nil {
		res.Error = errorData(herr)
	}
	if out != nil && out.Output != nil {
		b, err := json.Marshal(out.Output)
		if err == nil {
			res.Output = b
		}
	}
	resultType := resultTypeOf(j.ev.Type())
	resultSubject := "loyalty.result.unrouted"
	if j.route != nil {
		resultType, resultSubject = j.route.resultType, j.route.resultSubject
	} else if tail, ok := strings.CutPrefix(j.msg.Subject(), "loyalty.cmd."); ok {
		resultSubject = "loyalty.result." + tail
	}
	msgs := make([]storedMsg, 0, 2+len(out.changes()))
	if m, err := s.encodeOutput(j, resultID(id, rec.Gen), resultType, resultSubject, res, now); err == nil {
		m.Result = true
		msgs = append(msgs, m)
	} else {
		s.log.Error("encode result", "event_id", id, "err", err)
	}
	if rec.State == stateSucceeded {
		for _, c := range out.changes() {
			m, err := s.encodeOutput(j, changeID(id, c.Type, c.Key, c.FactKey), c.Type, c.Subject, c.Data, now)
			if err != nil {
				s.log.Error("encode change event", "event_id", id, "type", c.Type, "err", err)
				continue
			}
			msgs = append(msgs, m)
		}
		return msgs
	}
	reason := rec.State
	if herr != nil {
		reason += ": " + herr.Error()
	}
	msgs = append(msgs, s.dlqCopy(j, dlqID(id, rec.Gen, rec.State), reason, rec.Attempts))
	return msgs
}

func (o *Outcome) changes() []Change {
	if o == nil {
		return nil
	}
	return o.Changes
}

// encodeOutput builds an output CloudEvent carrying the command's lineage.
// It writes the binding directly rather than through an event.Event: this
// runs for every output of every command, and the result decodes the same
// (the codec tests and every end-to-end test read outputs with Decode).
func (s *Service) encodeOutput(j *job, id, typ, subject string, data any, now time.Time) (storedMsg, error) {
	var payload []byte
	switch d := data.(type) {
	case json.RawMessage:
		payload = d
	case []byte:
		payload = d
	default:
		b, err := json.Marshal(data)
		if err != nil {
			return storedMsg{}, fmt.Errorf("encode %s data: %w", typ, err)
		}
		payload = b
	}
	cmdID := j.ev.ID()
	ext := j.ev.Extensions()
	corr, _ := ext["correlationid"].(string)
	if corr == "" {
		corr = cmdID
	}
	pk, _ := ext["partitionkey"].(string)
	if pk == "" {
		pk = j.key
	}
	attrs := outputAttrs{
		SpecVersion: "1.0", ID: id, Source: s.source, Type: typ, Subject: j.ev.Subject(),
		Time: now.UTC().Format(time.RFC3339Nano), DataContentType: "application/json",
		CausationID: cmdID, CorrelationID: corr, PartitionKey: pk, Traceparent: j.traceparent,
	}
	if s.cfg.OutputMode == Structured {
		attrs.Data = payload
		b, err := json.Marshal(attrs)
		if err != nil {
			return storedMsg{}, fmt.Errorf("encode %s: %w", typ, err)
		}
		return storedMsg{Subject: subject, Data: b, Header: map[string][]string{
			nats.MsgIdHdr: {id}, headerContentType: {contentTypeCEJSON}}}, nil
	}
	// One backing array for every header value: this runs for every output
	// of every command, and a slice per value was a sixth of its allocations.
	vals := [...]string{
		id, attrs.DataContentType,
		percentEncode(attrs.SpecVersion), percentEncode(attrs.ID), percentEncode(attrs.Source), percentEncode(attrs.Type),
		percentEncode(attrs.Subject), percentEncode(attrs.Time), percentEncode(attrs.CausationID),
		percentEncode(attrs.CorrelationID), percentEncode(attrs.PartitionKey), percentEncode(attrs.Traceparent),
	}
	backing := vals[:]
	h := make(map[string][]string, len(outputHeaders))
	for i, name := range outputHeaders {
		if backing[i] != "" {
			h[name] = backing[i : i+1 : i+1]
		}
	}
	return storedMsg{Subject: subject, Header: h, Data: payload}, nil
}

// outputHeaders name, in order, the header values encodeOutput writes.
var outputHeaders = [...]string{
	nats.MsgIdHdr, headerContentType,
	headerPrefix + "specversion", headerPrefix + "id", headerPrefix + "source", headerPrefix + "type",
	headerPrefix + "subject", headerPrefix + "time", headerPrefix + "causationid",
	headerPrefix + "correlationid", headerPrefix + "partitionkey", headerPrefix + "traceparent",
}

// outputAttrs are the attributes of an output event; in structured mode they
// are the JSON event itself.
type outputAttrs struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject,omitempty"`
	Time            string          `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	CausationID     string          `json:"causationid"`
	CorrelationID   string          `json:"correlationid"`
	PartitionKey    string          `json:"partitionkey,omitempty"`
	Traceparent     string          `json:"traceparent,omitempty"`
	Data            json.RawMessage `json:"data,omitempty"`
}

// dlqCopy is the original message, headers and bytes, plus the reason headers.
func (s *Service) dlqCopy(j *job, id, reason string, attempts int) storedMsg {
	h := cloneHeader(j.msg.Headers())
	h["Loyalty-Dlq-Reason"] = []string{truncate(pii.MaskText(reason), 1024)}
	h["Loyalty-Dlq-Attempts"] = []string{strconv.Itoa(attempts)}
	h["Loyalty-Dlq-Stream"] = []string{streamCommands}
	h["Loyalty-Dlq-Sequence"] = []string{strconv.FormatUint(j.seq(), 10)}
	h[nats.MsgIdHdr] = []string{id}
	subject := "loyalty.dlq.invalid"
	if j.route != nil {
		subject = j.route.dlqSubject
	} else if tail, ok := strings.CutPrefix(j.msg.Subject(), "loyalty.cmd."); ok {
		subject = "loyalty.dlq." + tail
	}
	return storedMsg{Subject: subject, Header: h, Data: j.msg.Data()}
}

// resultData mirrors the contract's result payload (events.Result).
type resultData struct {
	CommandID   string          `json:"commandId"`
	CommandType string          `json:"commandType"`
	Status      string          `json:"status"`
	Output      json.RawMessage `json:"output,omitempty"`
	Error       *errorBody      `json:"error,omitempty"`
	Attempts    int             `json:"attempts"`
}

type errorBody struct {
	Code      string        `json:"code"`
	Message   string        `json:"message"`
	Retryable bool          `json:"retryable"`
	Vendor    *VendorDetail `json:"vendor,omitempty"`
}

func errorData(err error) *errorBody {
	// Results and dead letters leave the process: PII a vendor or a handler
	// quoted in an error is masked as in logs.
	e := &errorBody{Message: pii.MaskText(err.Error()), Vendor: vendorOf(err)}
	if e.Vendor != nil {
		e.Vendor.Message = pii.MaskText(e.Vendor.Message)
	}
	switch classify(err) {
	case classRejected:
		e.Code = "validation"
	case classPermanent:
		e.Code = "vendor"
		if e.Vendor == nil {
			e.Code = "failed"
		}
	default:
		e.Code = "retries_exhausted"
		e.Retryable = true
	}
	return e
}
