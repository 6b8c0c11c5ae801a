package bus

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"
)

// job is one delivered message on its way to settlement.
type job struct {
	msg       jetstream.Msg
	meta      *jetstream.MsgMetadata
	route     *route
	ev        *event.Event
	mode      Mode
	decodeErr error
	key       string
	replay    bool
	received  time.Time
	// traceparent is carried by the command's outputs.
	traceparent string
	// data is the command data parsed once, for the partition key and the
	// schema; dataErr says why it did not parse.
	data    any
	dataErr error
	parsed  bool
	// rejection is why the command breaks the envelope or data rules (nil:
	// valid), decided on delivery.
	rejection *RejectionError
	// vendor notes the vendor the handler called, for the log line.
	vendor *vendorNote
	// until is set when the message went back for a delayed redelivery:
	// later commands of its key wait for it (ordering survives retries and
	// failures of the bus alike).
	until time.Time
}

// parsedData parses the command data on first use.
func (j *job) parsedData() (any, error) {
	if !j.parsed {
		j.data, j.dataErr = parseData(j.ev.Data())
		j.parsed = true
	}
	return j.data, j.dataErr
}

func (j *job) seq() uint64 {
	if j.meta == nil {
		return 0
	}
	return j.meta.Sequence.Stream
}

// dispatch is the consume callback. It decodes just enough to find the
// partition key, then runs the job or queues it behind the command of the same
// key that is running or waiting for its retry, so commands of one key settle
// in stream order. It does not wait for a free worker: a message waiting
// here is held, so heartbeats keep it from being redelivered, where one left
// in the client's fetch buffer would not be. The consumer's MaxAckPending
// bounds how many are held.
func (s *Service) dispatch(ctx context.Context, m jetstream.Msg) {
	j := s.newJob(m)
	if s.guard(ctx, j) {
		return
	}
	s.enqueue(ctx, j)
}

// enqueue runs j, or queues it behind its key.
func (s *Service) enqueue(ctx context.Context, j *job) {
	s.mu.Lock()
	s.held[j] = struct{}{}
	s.obs.Held(s.cfg.Name, len(s.held))
	if j.key != "" {
		queue, busy := s.keys[j.key]
		b, blocked := s.blocked[j.key]
		switch {
		case blocked && b.seq == j.seq():
			// The retried head is back: it runs before the queue behind it.
			b.timer.Stop()
			delete(s.blocked, j.key)
		case busy:
			s.keys[j.key] = append(queue, j)
			s.mu.Unlock()
			return
		default:
			s.keys[j.key] = nil
		}
	}
	s.mu.Unlock()
	s.startWorker(ctx, j)
}

// startWorker runs j (and its key's queue) on a worker once a slot is free,
// without waiting for one.
func (s *Service) startWorker(ctx context.Context, j *job) {
	s.mu.Lock()
	if isClosed(s.stop) {
		s.mu.Unlock()
		s.handBack(j)
		return
	}
	s.wg.Add(1) // under mu, so it happens before Run starts waiting
	s.mu.Unlock()
	go s.runKey(ctx, j)
}

// runKey processes j and then the jobs queued behind it on the same key.
// A command claims its id before it waits for a worker slot, so the claim's
// round trip to the bus runs beside the calls ahead of it rather than inside
// a slot; claimSlots bounds how many wait claimed. Each command then holds a
// worker slot until its handler returns, so Concurrency bounds the vendor
// calls in flight; settling (another round trip) runs beside the next
// command's call. The key stays busy until the command settled.
func (s *Service) runKey(ctx context.Context, j *job) {
	defer s.wg.Done()
	for j != nil {
		select {
		case s.claimSlots <- struct{}{}:
		case <-s.stop:
			s.handBack(j)
			s.next(ctx, j, time.Time{}) // hands back the key's queue
			return
		}
		c := s.prepare(ctx, j)
		if c == nil {
			<-s.claimSlots
			j = s.next(ctx, j, j.until)
			continue
		}
		select {
		case s.sem <- struct{}{}:
			<-s.claimSlots
		case <-s.stop:
			<-s.claimSlots
			s.unclaim(j, c)
			s.handBack(j)
			s.next(ctx, j, time.Time{})
			return
		}
		slot := true
		free := func() {
			if slot {
				slot = false
				<-s.sem
			}
		}
		s.execute(j, c, free)
		free()
		j = s.next(ctx, j, j.until)
	}
}

// next settles the key bookkeeping after j and returns the key's next job.
func (s *Service) next(ctx context.Context, j *job, retryAt time.Time) *job {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.held, j)
	if !retryAt.IsZero() {
		// Ours, out for a delayed redelivery: not an orphan (see guard).
		s.delayed[j.seq()] = retryAt.Add(s.cfg.AckWait)
	}
	if j.key == "" {
		return nil
	}
	if !retryAt.IsZero() {
		// The head waits for its redelivery and the queue waits with it.
		// When it is late, checkBlocked asks the bus why before giving up.
		key, seq := j.key, j.seq()
		// A copy of the head redelivered while it ran (its ack deadline
		// passed while the bus was away) would sit in the queue, kept
		// pending by heartbeats, and the head would never come back: send
		// the copy back with the same delay.
		queue := s.keys[key][:0]
		for _, q := range s.keys[key] {
			if q.seq() != seq {
				queue = append(queue, q)
				continue
			}
			delete(s.held, q)
			_ = q.msg.NakWithDelay(time.Until(retryAt) + nakMargin)
		}
		s.keys[key] = queue
		b := block{seq: seq, id: j.ev.ID(), since: s.cfg.Now()}
		b.timer = time.AfterFunc(time.Until(retryAt)+s.cfg.AckWait, func() { s.checkBlocked(ctx, key, seq) })
		s.blocked[key] = b
		return nil
	}
	if isClosed(s.stop) {
		for _, q := range s.keys[j.key] {
			delete(s.held, q)
			_ = q.msg.Nak() // unstarted: hand back at once, see handBack
		}
		delete(s.keys, j.key)
		return nil
	}
	return s.popLocked(j.key)
}

// popLocked takes the next job queued on key, or forgets the key when none
// is left. s.mu must be held.
func (s *Service) popLocked(key string) *job {
	queue := s.keys[key]
	if len(queue) == 0 {
		delete(s.keys, key)
		return nil
	}
	s.keys[key] = queue[1:]
	return queue[0]
}

// maxLateChecks bounds how long a key waits for a head that the bus says is
// still pending: that many checks, one ack wait apart, that reached the bus.
const maxLateChecks = 10

// checkBlocked runs when a key's retried head is late. A head comes back
// unless it was settled elsewhere (another replica took it) or left the
// stream; a timer alone cannot tell, because while the broker restarts or is
// paused the delayed redelivery itself is lost and the head returns only
// after its ack deadline, measured by a broker that was away. So the key stays
// blocked while the head is provably still pending, or the bus cannot be
// asked, and is released once the head is settled or gone.
func (s *Service) checkBlocked(ctx context.Context, key string, seq uint64) {
	s.mu.Lock()
	b, ok := s.blocked[key]
	if !ok || b.seq != seq || isClosed(s.stop) {
		s.mu.Unlock()
		return
	}
	s.wg.Add(1) // under mu, before Run starts waiting
	s.mu.Unlock()
	defer s.wg.Done()

	cctx, cancel := context.WithTimeout(ctx, s.cfg.AckWait)
	pending, err := s.headPending(cctx, b.id, seq)
	cancel()
	s.mu.Lock()
	b, ok = s.blocked[key]
	if !ok || b.seq != seq { // the head came back meanwhile
		s.mu.Unlock()
		return
	}
	if err == nil {
		b.checks++
	}
	if (err != nil || pending) && b.checks < maxLateChecks && !isClosed(s.stop) {
		b.timer = time.AfterFunc(s.cfg.AckWait, func() { s.checkBlocked(ctx, key, seq) })
		s.blocked[key] = b
		s.mu.Unlock()
		if err != nil {
			s.log.Debug("retried command is late; bus not reachable, key stays blocked", "event_id", b.id, "err", err)
		}
		return
	}
	delete(s.blocked, key)
	nextJob := s.popLocked(key)
	s.mu.Unlock()
	if nextJob == nil {
		return
	}
	if pending {
		s.log.Warn("retried command did not come back; running the commands behind it",
			"event_id", b.id, "stream_seq", seq, "waited", s.cfg.Now().Sub(b.since))
	}
	s.startWorker(ctx, nextJob)
}

// headPending reports whether the command id, delivered as stream sequence
// seq, may still come back: its record is not settled and the consumer's
// acknowledgement floor is below it.
func (s *Service) headPending(ctx context.Context, id string, seq uint64) (bool, error) {
	if rec, _, err := s.idem.get(ctx, id); err != nil {
		return false, err
	} else if rec != nil && rec.settled() {
		return false, nil
	}
	info, err := s.ConsumerInfo(ctx)
	if err != nil {
		return false, err
	}
	// The floor also passes messages that left the stream unacknowledged.
	return info.AckFloor.Stream < seq, nil
}

// releaseBlocked hands back the commands queued behind retried heads; called
// once at shutdown, after the workers stopped.
func (s *Service) releaseBlocked() {
	s.mu.Lock()
	var queued []*job
	for key, b := range s.blocked {
		b.timer.Stop()
		queued = append(queued, s.keys[key]...)
		delete(s.keys, key)
		delete(s.blocked, key)
	}
	s.mu.Unlock()
	for _, j := range queued {
		s.handBack(j)
	}
}

// deferJob returns a message for redelivery after d (plus nakMargin).
func (s *Service) deferJob(j *job, d time.Duration) {
	if d < 0 {
		d = 0
	}
	j.until = s.cfg.Now().Add(d)
	s.release(j)
	_ = j.msg.NakWithDelay(d + nakMargin)
}

// nakMargin is added to redelivery delays so a message comes back after the
// command it follows.
const nakMargin = 50 * time.Millisecond

// handBack returns an unstarted message during shutdown so another replica
// can take it at once. It is not a retry: nothing was attempted.
func (s *Service) handBack(j *job) {
	s.release(j)
	_ = j.msg.Nak()
}

func (s *Service) release(j *job) {
	s.mu.Lock()
	delete(s.held, j)
	n := len(s.held)
	s.mu.Unlock()
	s.obs.Held(s.cfg.Name, n)
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// newJob decodes the message and finds its route and partition key.
func (s *Service) newJob(m jetstream.Msg) *job {
	j := &job{msg: m, received: s.cfg.Now(), route: s.routes[m.Subject()]}
	j.meta, _ = m.Metadata()
	s.mu.Lock()
	delete(s.delayed, j.seq()) // back from a delayed redelivery
	s.mu.Unlock()
	j.replay = headerValue(m.Headers(), "Loyalty-Replay") == "true"
	j.ev, j.mode, j.decodeErr = Decode(m.Headers(), m.Data())
	if j.decodeErr != nil || j.ev == nil {
		return j
	}
	// Validated here rather than on the worker: this goroutine lives on,
	// with a stack already grown for the validator's recursion, where each
	// new worker goroutine would grow (copy) its stack again.
	j.rejection = s.checkCommand(j)
	if pk, ok := j.ev.Extensions()["partitionkey"].(string); ok && pk != "" {
		j.key = pk
		return j
	}
	if j.route != nil && j.route.PartitionKey != "" {
		if data, err := j.parsedData(); err == nil {
			j.key = keyField(data, j.route.PartitionKey)
		}
	}
	return j
}

// keyField reads one top-level string or number field of parsed data as
// text ("" if absent); numbers keep their exact digits (big uids).
func keyField(data any, name string) string {
	obj, _ := data.(map[string]any)
	switch v := obj[name].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

// guard restores order after a take-over. Deliveries that another instance
// took before dying (or this process before a crash) come back only after
// their ack deadline, while later commands of the same keys arrive at once.
// So when the service becomes active (at start, or after PinnedTTL without
// deliveries: a standby that just got the pin) and the consumer has
// deliveries pending beyond this one, it holds every message for one
// AckWait, then runs them in stream order. It reports whether j was held.
func (s *Service) guard(ctx context.Context, j *job) bool {
	if s.cfg.Shared {
		return false
	}
	now := s.cfg.Now()
	s.mu.Lock()
	idle := s.lastDelivery.IsZero() || now.Sub(s.lastDelivery) >= s.cfg.PinnedTTL
	s.lastDelivery = now
	guarding := s.guarded != nil
	s.mu.Unlock()
	if !guarding && idle {
		ictx, cancel := context.WithTimeout(ctx, s.cfg.AckWait)
		info, err := s.ConsumerInfo(ictx)
		cancel()
		s.mu.Lock()
		mine := len(s.held) + s.delayedLocked(now)
		s.mu.Unlock()
		// This delivery, those held and this service's own delayed retries
		// are accounted for; anything beyond was taken by someone else.
		if err == nil && info.NumAckPending > mine+1 {
			s.mu.Lock()
			if !isClosed(s.stop) && s.guarded == nil {
				s.guarded = []*job{}
				s.wg.Add(1) // under mu, so it happens before Run starts waiting
				go s.releaseGuarded(ctx, now.Add(s.cfg.AckWait))
				guarding = true
			}
			s.mu.Unlock()
			s.log.Info("holding commands until deliveries taken before a take-over come back",
				"pending", info.NumAckPending, "at_most", s.cfg.AckWait)
		}
	}
	if !guarding {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.guarded == nil { // released meanwhile
		return false
	}
	s.held[j] = struct{}{} // kept alive by the heartbeat while held
	s.guarded = append(s.guarded, j)
	return true
}

// delayedLocked counts this service's messages out for a delayed
// redelivery, forgetting those that should long have come back (they went to
// another replica). s.mu must be held.
func (s *Service) delayedLocked(now time.Time) int {
	for seq, deadline := range s.delayed {
		if now.After(deadline) {
			delete(s.delayed, seq)
		}
	}
	return len(s.delayed)
}

// releaseGuarded runs the held messages in stream order once every pending
// delivery is one this service holds, or at the latest at until.
func (s *Service) releaseGuarded(ctx context.Context, until time.Time) {
	defer s.wg.Done()
	timer := time.NewTimer(time.Until(until))
	defer timer.Stop()
	// The first check often finds this service's own prefetched deliveries,
	// not yet dispatched: poll briskly so that costs milliseconds.
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
wait:
	for {
		select {
		case <-timer.C:
			break wait
		case <-s.stop:
			break wait
		case <-poll.C:
			info, err := s.ConsumerInfo(ctx)
			s.mu.Lock()
			mine := len(s.held) + s.delayedLocked(s.cfg.Now()) // running, queued, guarded, delayed
			s.mu.Unlock()
			if err == nil && info.NumAckPending <= mine {
				break wait // nothing is out with a dead instance any more
			}
		}
	}
	for {
		s.mu.Lock()
		batch := s.guarded
		if len(batch) == 0 {
			s.guarded = nil // new deliveries go straight to enqueue again
			s.mu.Unlock()
			return
		}
		s.guarded = []*job{}
		for _, j := range batch {
			delete(s.held, j)
		}
		s.mu.Unlock()
		sort.Slice(batch, func(a, b int) bool { return batch[a].seq() < batch[b].seq() })
		for _, j := range batch {
			if isClosed(s.stop) {
				s.handBack(j)
				continue
			}
			s.enqueue(ctx, j)
		}
	}
}
