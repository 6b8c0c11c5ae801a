// Package schedule publishes fetch commands on configured intervals, so that
// scheduled work is ordinary work on the bus: each tick is a command on its
// subject in LOYALTY_COMMANDS, with a result, visible to every consumer and
// replayable like any other (CONTRACT §4).
//
// # Ticks and ids
//
// Ticks fall on multiples of the interval (a 5m schedule ticks at :00, :05,
// … UTC), so every scheduler instance computes the same ticks. A tick's
// command id is derived from the schedule name and the tick time
// ("sched:tickets.886263699231969848:20261101T100500Z"), and its data and
// attributes from the schedule and the tick alone. A restarted or duplicated
// scheduler therefore publishes byte-identical commands under the same id:
// the stream drops a copy within its duplicates window (Nats-Msg-Id) and the
// runtime's idempotency record answers a later one without a second vendor
// call. (Changing a schedule's settings changes its data: a tick published
// by the old settings and again by the new ones is then a conflict, settled
// by the first.)
//
// # Catch-up
//
// The last published tick of each schedule is kept in the KV bucket
// LOYALTY_SCHEDULES (created here, not by the runtime). After downtime the
// scheduler publishes the ticks it missed before waiting for the next one:
// every missed tick, oldest first, for a windowed schedule (each tick's
// window is its own part of the history), only the latest for a snapshot
// schedule (a cheques.fetch now covers every fetch it missed). At most
// Config.MaxCatchUp ticks are published per schedule after downtime; older
// ones are logged as skipped with their time range, for an operator to
// publish by hand. A schedule that has never ticked starts with the current
// tick.
//
// # Windows
//
// tickets.fetch and points.usage.fetch cover a sliding window
// [tick − interval − overlap, tick]: consecutive windows overlap by
// Overlap, so records that reach the vendor late are still read, and the
// fetch services announce each record once however many windows contain it.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/loyaltybus/loyaltybus/events"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
)

// Name is the component name; scheduled commands carry the source
// "loyaltybus/schedule".
const Name = "schedule"

// Source is the CloudEvent source of scheduled commands.
const Source = "loyaltybus/" + Name

// Bucket is the KV bucket holding the last published tick of each schedule.
const Bucket = "LOYALTY_SCHEDULES"

// DefaultMaxCatchUp bounds the missed ticks published per schedule after
// downtime when Config.MaxCatchUp is zero.
const DefaultMaxCatchUp = 1000

// Schedule publishes one fetch command at a fixed interval.
type Schedule struct {
	// Name identifies the schedule: its KV key and part of its command ids.
	// 1-40 characters of A-Z a-z 0-9 . _ -.
	Name string
	// Every is the interval, a whole number of seconds, at least 1s.
	Every time.Duration
	// Command is the command published.
	Command events.Command
	// PartitionKey, when set, is the partitionkey attribute of the commands.
	PartitionKey string
	// Windowed schedules publish every missed tick after downtime; others
	// publish only the latest.
	Windowed bool
	// Data returns the command data for a tick. It must depend on the tick
	// and the schedule's settings only.
	Data func(tick time.Time) any
}

var nameRule = regexp.MustCompile(`^[A-Za-z0-9._-]{1,40}$`)

func (s Schedule) validate() error {
	switch {
	case !nameRule.MatchString(s.Name):
		return fmt.Errorf("schedule %q: name must be 1-40 characters of A-Z a-z 0-9 . _ -", s.Name)
	case s.Every < time.Second || s.Every%time.Second != 0:
		return fmt.Errorf("schedule %s: interval %s must be a whole number of seconds, at least 1s", s.Name, s.Every)
	case s.Command.Type == "" || s.Command.Subject == "":
		return fmt.Errorf("schedule %s: no command", s.Name)
	case s.Data == nil:
		return fmt.Errorf("schedule %s: no data function", s.Name)
	}
	return nil
}

// CommandID is the id of the command a schedule publishes for a tick.
func CommandID(schedule string, tick time.Time) string {
	return "sched:" + schedule + ":" + tick.UTC().Format("20060102T150405Z")
}

// Config configures a Scheduler. Zero values take the documented defaults.
type Config struct {
	// Schedules to run; none is valid (the scheduler then idles).
	Schedules []Schedule
	// MaxCatchUp bounds the missed ticks published per schedule after
	// downtime (default DefaultMaxCatchUp).
	MaxCatchUp int
	// Mode is the content mode of published commands (default Binary).
	Mode bus.Mode
	// Replicas of the LOYALTY_SCHEDULES bucket (default 1).
	Replicas int
	// SkipProvision binds the bucket instead of creating it.
	SkipProvision bool
	// RetryDelay is the wait before trying again after a failed publish
	// (default 5s).
	RetryDelay time.Duration
	// Clock is the time source (default the system clock).
	Clock Clock
	// Logger receives one line per published tick (default: discard).
	Logger *slog.Logger
}

// Scheduler publishes the commands of its schedules. Create it with New and
// call Run; Tick publishes what is due at a given time. Its methods are safe
// for concurrent use.
type Scheduler struct {
	js    jetstream.JetStream
	cfg   Config
	log   *slog.Logger
	ready chan struct{}

	mu sync.Mutex
	kv jetstream.KeyValue
}

// New returns a Scheduler publishing on js. It fails on an invalid or
// duplicate schedule.
func New(js jetstream.JetStream, cfg Config) (*Scheduler, error) {
	if js == nil {
		return nil, errors.New("schedule: nil JetStream")
	}
	seen := map[string]bool{}
	for _, s := range cfg.Schedules {
		if err := s.validate(); err != nil {
			return nil, err
		}
		if seen[s.Name] {
			return nil, fmt.Errorf("schedule %s: configured twice", s.Name)
		}
		seen[s.Name] = true
	}
	if cfg.MaxCatchUp <= 0 {
		cfg.MaxCatchUp = DefaultMaxCatchUp
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = 5 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{js: js, cfg: cfg, log: cfg.Logger.With("component", Name), ready: make(chan struct{})}, nil
}

// Ready is closed once Run has bound its bucket (at once without schedules).
func (s *Scheduler) Ready() <-chan struct{} { return s.ready }

// Run publishes due ticks until ctx ends: the missed ones first, then each
// as the clock reaches it. A failed publish is tried again after
// RetryDelay; the tick is not lost, because it is only remembered once
// published. Run returns nil when ctx ends, or an error if the bucket cannot
// be bound.
func (s *Scheduler) Run(ctx context.Context) error {
	if len(s.cfg.Schedules) == 0 {
		close(s.ready)
		s.log.Info("no schedules configured (LOYALTY_SCHEDULE_*); scheduler idle")
		<-ctx.Done()
		return nil
	}
	if _, err := s.bucket(ctx); err != nil {
		return err
	}
	close(s.ready)
	for _, sc := range s.cfg.Schedules {
		s.log.Info("schedule", "schedule", sc.Name, "every", sc.Every, "subject", sc.Command.Subject)
	}
	for {
		now := s.cfg.Clock.Now()
		_, err := s.Tick(ctx, now)
		if ctx.Err() != nil {
			return nil
		}
		next := s.next(now)
		if err != nil {
			s.log.Warn("publish scheduled commands; trying again", "err", err, "retry_in", s.cfg.RetryDelay)
			if retry := now.Add(s.cfg.RetryDelay); retry.Before(next) {
				next = retry
			}
		}
		if s.cfg.Clock.Wait(ctx, next) != nil {
			return nil
		}
	}
}

// next is the earliest tick of any schedule after now.
func (s *Scheduler) next(now time.Time) time.Time {
	var next time.Time
	for _, sc := range s.cfg.Schedules {
		t := now.Truncate(sc.Every).Add(sc.Every)
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	return next
}

// Tick publishes, for every schedule, the ticks due at now that were not
// published yet, and returns how many it published. Errors of one schedule
// do not stop the others; they are joined.
func (s *Scheduler) Tick(ctx context.Context, now time.Time) (int, error) {
	kv, err := s.bucket(ctx)
	if err != nil {
		return 0, err
	}
	var total int
	var errs []error
	for _, sc := range s.cfg.Schedules {
		n, err := s.tick(ctx, kv, sc, now)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("schedule %s: %w", sc.Name, err))
		}
	}
	return total, errors.Join(errs...)
}

func (s *Scheduler) tick(ctx context.Context, kv jetstream.KeyValue, sc Schedule, now time.Time) (int, error) {
	due := now.Truncate(sc.Every)
	last, known, err := lastTick(ctx, kv, sc.Name)
	if err != nil {
		return 0, err
	}
	ticks := []time.Time{due}
	switch {
	case !known:
	case !last.Before(due):
		return 0, nil
	case sc.Windowed:
		ticks = ticks[:0]
		for t := last.Truncate(sc.Every).Add(sc.Every); !t.After(due); t = t.Add(sc.Every) {
			ticks = append(ticks, t)
		}
		if n := len(ticks); n > s.cfg.MaxCatchUp {
			skipped := ticks[:n-s.cfg.MaxCatchUp]
			ticks = ticks[n-s.cfg.MaxCatchUp:]
			s.log.Error("too many missed ticks: the oldest are skipped; publish fetch commands for their windows by hand",
				"schedule", sc.Name, "skipped", len(skipped), "from", skipped[0], "to", skipped[len(skipped)-1],
				"max_catch_up", s.cfg.MaxCatchUp)
		}
	}
	for i, t := range ticks {
		dup, err := s.publish(ctx, sc, t)
		if err != nil {
			return i, err
		}
		if err := remember(ctx, kv, sc.Name, t); err != nil {
			return i + 1, err
		}
		s.log.Info("scheduled command published", "schedule", sc.Name, "tick", t,
			"event_id", CommandID(sc.Name, t), "subject", sc.Command.Subject, "duplicate", dup, "catch_up", t.Before(due))
	}
	return len(ticks), nil
}

// publish sends the command of one tick and reports whether the stream
// already had it.
func (s *Scheduler) publish(ctx context.Context, sc Schedule, tick time.Time) (duplicate bool, err error) {
	ev := event.New()
	ev.SetID(CommandID(sc.Name, tick))
	ev.SetSource(Source)
	ev.SetType(sc.Command.Type)
	ev.SetTime(tick)
	ev.SetSubject(sc.Name)
	if sc.PartitionKey != "" {
		ev.SetExtension(events.AttrPartitionKey, sc.PartitionKey)
	}
	if err := ev.SetData(event.ApplicationJSON, sc.Data(tick)); err != nil {
		return false, fmt.Errorf("encode data of tick %s: %w", tick.Format(time.RFC3339), err)
	}
	m, err := bus.Encode(sc.Command.Subject, &ev, s.cfg.Mode)
	if err != nil {
		return false, err
	}
	ack, err := s.js.PublishMsg(ctx, m)
	if err != nil {
		return false, fmt.Errorf("publish tick %s: %w", tick.Format(time.RFC3339), err)
	}
	return ack.Duplicate, nil
}

// bucket binds (creating it unless told not to) the LOYALTY_SCHEDULES bucket.
func (s *Scheduler) bucket(ctx context.Context) (jetstream.KeyValue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kv != nil {
		return s.kv, nil
	}
	var kv jetstream.KeyValue
	var err error
	if s.cfg.SkipProvision {
		kv, err = s.js.KeyValue(ctx, Bucket)
	} else {
		kv, err = s.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      Bucket,
			Description: "last published tick of each schedule",
			History:     1,
			Storage:     jetstream.FileStorage,
			Replicas:    s.cfg.Replicas,
		})
	}
	if err != nil {
		return nil, fmt.Errorf("bind bucket %s: %w", Bucket, err)
	}
	s.kv = kv
	return kv, nil
}

// lastTick reads the last published tick of a schedule.
func lastTick(ctx context.Context, kv jetstream.KeyValue, name string) (time.Time, bool, error) {
	e, err := kv.Get(ctx, name)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read last tick: %w", err)
	}
	t, err := time.Parse(time.RFC3339Nano, string(e.Value()))
	if err != nil {
		return time.Time{}, false, nil // unreadable: start afresh with the current tick
	}
	return t, true, nil
}

// remember records tick as the last published one, unless a later tick is
// already recorded (by another instance): the record only moves forward.
func remember(ctx context.Context, kv jetstream.KeyValue, name string, tick time.Time) error {
	value := []byte(tick.UTC().Format(time.RFC3339Nano))
	for range 5 {
		e, err := kv.Get(ctx, name)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted):
			_, err = kv.Create(ctx, name, value)
		case err != nil:
			return fmt.Errorf("read last tick: %w", err)
		default:
			if prev, perr := time.Parse(time.RFC3339Nano, string(e.Value())); perr == nil && !prev.Before(tick) {
				return nil
			}
			_, err = kv.Update(ctx, name, value, e.Revision())
		}
		if err == nil {
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return fmt.Errorf("remember tick: %w", err)
		}
	}
	return errors.New("remember tick: lost the race five times")
}
