package bus

import (
	"context"
	"encoding/json"
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
	// vendor notes the vendor the handler called, for the log line.
	vendor *vendorNote
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
// in stream order. It blocks while all workers are busy, which is the
// back-pressure on fetching.
func (s *Service) dispatch(ctx context.Context, m jetstream.Msg) {
	j := s.newJob(m)
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

// startWorker runs j (and its key's queue) on a worker once a slot is free.
func (s *Service) startWorker(ctx context.Context, j *job) {
	s.mu.Lock()
	if isClosed(s.stop) {
		s.mu.Unlock()
		s.handBack(j)
		return
	}
	s.wg.Add(1) // under mu, so it happens before Run starts waiting
	s.mu.Unlock()
	select {
	case s.sem <- struct{}{}:
	case <-s.stop:
		s.handBack(j)
		s.wg.Done()
		return
	}
	go s.runKey(ctx, j)
}

// runKey processes j and then the jobs queued behind it on the same key.
func (s *Service) runKey(ctx context.Context, j *job) {
	defer s.wg.Done()
	defer func() { <-s.sem }()
	for j != nil {
		retryAt := s.process(ctx, j)
		j = s.next(ctx, j, retryAt)
	}
}

// next settles the key bookkeeping after j and returns the key's next job.
func (s *Service) next(ctx context.Context, j *job, retryAt time.Time) *job {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.held, j)
	if j.key == "" {
		return nil
	}
	if !retryAt.IsZero() {
		// The head waits for its redelivery and the queue waits with it. If
		// the head is redelivered elsewhere, stop waiting after a while.
		key, seq := j.key, j.seq()
		wait := time.Until(retryAt) + s.cfg.AckWait
		s.blocked[key] = block{seq: seq, timer: time.AfterFunc(wait, func() { s.unblock(ctx, key, seq) })}
		return nil
	}
	queue := s.keys[j.key]
	if len(queue) == 0 {
		delete(s.keys, j.key)
		return nil
	}
	if isClosed(s.stop) {
		delete(s.keys, j.key)
		for _, q := range queue {
			delete(s.held, q)
			_ = q.msg.Nak() // unstarted: hand back at once, see handBack
		}
		return nil
	}
	s.keys[j.key] = queue[1:]
	return queue[0]
}

// unblock gives up waiting for a retried head that did not come back.
func (s *Service) unblock(ctx context.Context, key string, seq uint64) {
	s.mu.Lock()
	b, ok := s.blocked[key]
	if !ok || b.seq != seq {
		s.mu.Unlock()
		return
	}
	delete(s.blocked, key)
	queue := s.keys[key]
	if len(queue) == 0 {
		delete(s.keys, key)
		s.mu.Unlock()
		return
	}
	s.keys[key] = queue[1:]
	s.mu.Unlock()
	s.startWorker(ctx, queue[0])
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

// deferJob returns a message for redelivery after d (plus a margin so it
// comes back after the command it follows).
func (s *Service) deferJob(j *job, d time.Duration) {
	if d < 0 {
		d = 0
	}
	s.release(j)
	_ = j.msg.NakWithDelay(d + 50*time.Millisecond)
}

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
	j.replay = headerValue(m.Headers(), "Loyalty-Replay") == "true"
	j.ev, j.mode, j.decodeErr = Decode(m.Headers(), m.Data())
	if j.decodeErr != nil || j.ev == nil {
		return j
	}
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
