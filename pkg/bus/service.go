package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Config configures a Service. Zero values take the documented defaults.
type Config struct {
	// Name names the service: its durable consumer and its output source
	// ("loyaltybus/<Name>"). Required.
	Name string
	// Concurrency bounds the handlers running at once (default 64). Neither
	// the claim before a handler nor settling after it (record, outputs,
	// ack) holds a slot, so these round trips to the bus do not stand in the
	// way of vendor calls; up to Concurrency more commands wait claimed.
	Concurrency int
	// AckWait is the consumer's ack deadline (default 30s). Handlers running
	// longer are kept alive with in-progress acks every AckWait/3.
	AckWait time.Duration
	// HandlerTimeout bounds one handler invocation (default 2m). It also
	// bounds the claim on a command id: twice HandlerTimeout (the wait for a
	// worker, then the handler) plus AckWait.
	HandlerTimeout time.Duration
	// MaxAttempts bounds transient retries of one command (default 8); the
	// last failure settles it as failed.
	MaxAttempts int
	// Backoff shapes the delay of redelivery after a transient failure.
	Backoff Backoff
	// OutputMode is the content mode of published results and events
	// (default Binary).
	OutputMode Mode
	// ShutdownTimeout bounds how long Run waits for running handlers after
	// its context ends (default 20s); handlers still running are then
	// cancelled and their commands left for redelivery.
	ShutdownTimeout time.Duration
	// Shared lets every replica of the service take commands at once. By
	// default one replica at a time is pinned to the consumer (a JetStream
	// pinned priority group) and the others stand by, so commands of a
	// partition key settle in publish order across replicas too; a standby
	// takes over within PinnedTTL of the active replica's death.
	Shared bool
	// PinnedTTL is how long the server keeps a silent replica pinned
	// (default 10s).
	PinnedTTL time.Duration
	// Topology is provisioned at start unless SkipProvision is set.
	Topology      Topology
	SkipProvision bool
	// Logger receives one line per settled command (default: discard).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Observer receives measurements for metrics (default: none).
	Observer Observer
	// TracerProvider creates the receive and publish spans (default: no-op;
	// the command's trace context still flows to vendors and outputs).
	TracerProvider trace.TracerProvider
}

// Backoff is exponential backoff with jitter, computed from the attempt number.
type Backoff struct {
	Initial    time.Duration // default 1s
	Max        time.Duration // default 2m
	Multiplier float64       // default 2
	Jitter     float64       // randomization factor, default 0.2
}

func (b Backoff) delay(attempt int) time.Duration {
	eb := &backoff.ExponentialBackOff{
		InitialInterval:     b.Initial,
		RandomizationFactor: b.Jitter,
		Multiplier:          b.Multiplier,
		MaxInterval:         b.Max,
	}
	eb.Reset()
	d := eb.NextBackOff()
	for i := 1; i < attempt; i++ {
		d = eb.NextBackOff()
	}
	return d
}

func (c Config) withDefaults() Config {
	if c.Concurrency <= 0 {
		c.Concurrency = 64
	}
	if c.AckWait <= 0 {
		c.AckWait = 30 * time.Second
	}
	if c.HandlerTimeout <= 0 {
		c.HandlerTimeout = 2 * time.Minute
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.Backoff.Initial <= 0 {
		c.Backoff.Initial = time.Second
	}
	if c.Backoff.Max <= 0 {
		c.Backoff.Max = 2 * time.Minute
	}
	if c.Backoff.Multiplier < 1 {
		c.Backoff.Multiplier = 2
	}
	if c.Backoff.Jitter <= 0 || c.Backoff.Jitter > 1 {
		c.Backoff.Jitter = 0.2
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 20 * time.Second
	}
	if c.PinnedTTL <= 0 {
		c.PinnedTTL = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
	if c.TracerProvider == nil {
		c.TracerProvider = noop.NewTracerProvider()
	}
	c.Topology = c.Topology.Defaults()
	return c
}

// Validate reports configuration errors.
func (c Config) Validate() error {
	if c.Name == "" {
		return errors.New("bus config: Name is required")
	}
	if !validID(c.Name) || len(c.Name) > 32 {
		return fmt.Errorf("bus config: Name %q: want 1-32 characters of A-Z a-z 0-9 . _ : -", c.Name)
	}
	return nil
}

// Handler runs one command. It returns the outcome to publish, or an error
// that the runtime classifies: a *RejectionError (Reject) settles the command
// as rejected, Permanent errors and errors whose Temporary() is false settle
// it as failed, anything else is retried by delayed redelivery. Handlers never
// see the JetStream message; they must pass cmd.ID (or the vendor token the
// contract names) to the vendor so retries are idempotent.
type Handler func(ctx context.Context, cmd *Command) (*Outcome, error)

// Route binds a command type on a subject to its handler.
type Route struct {
	// Type is the CloudEvent type the subject carries.
	Type string
	// Subject is the command subject (loyalty.cmd.<domain>.<action>).
	Subject string
	// Schema is the JSON Schema of the command's data.
	Schema []byte
	// PartitionKey names the data field ordering commands that carry no
	// partitionkey attribute ("" for none).
	PartitionKey string
	// Handler runs the command.
	Handler Handler
}

type route struct {
	Route
	resultType    string
	resultSubject string
	dlqSubject    string
	validator     *schemaValidator
}

// Command is a decoded, validated command as a handler sees it.
type Command struct {
	ID            string
	Type          string
	Source        string
	Subject       string // the CloudEvent subject attribute
	Time          time.Time
	CorrelationID string
	PartitionKey  string
	Traceparent   string
	Data          []byte
	// Attempt counts handler invocations for this command id, from 1.
	Attempt int
	// Replay is set on operator replays and redrives.
	Replay bool

	run *commandRun
}

// commandRun ties a Command to the service running it (for Memo and Emit).
type commandRun struct {
	svc *Service
	job *job
}

// Decode unmarshals the command data into v. The data already passed its
// JSON Schema, so an error here means a schema and struct disagree.
func (c *Command) Decode(v any) error {
	if err := json.Unmarshal(c.Data, v); err != nil {
		return &RejectionError{Field: "data", Rule: err.Error()}
	}
	return nil
}

// Outcome is what a successful handler reports.
type Outcome struct {
	// Output is the vendor outcome placed in the result's output object
	// (a struct or map that marshals to a JSON object, or nil).
	Output any
	// Changes are the change events to publish with the result.
	Changes []Change
	// Memo is applied once the outcome is durable, before the outputs are
	// published (and again if they are republished after a crash).
	Memo []MemoWrite
}

// Change is a change event to publish.
type Change struct {
	Type    string
	Subject string
	// Key distinguishes several changes of one type from one command.
	Key string
	// FactKey, when set, derives the event id from the fact alone (e.g. a
	// ticket sn), so the same fact read by different commands is one event.
	FactKey string
	Data    any
}

// Service consumes the commands of its routes and settles each exactly once.
// Create it with New, register routes with Handle, then call Run.
type Service struct {
	js     jetstream.JetStream
	cfg    Config
	log    *slog.Logger
	source string
	routes map[string]*route
	idem   *idemStore
	memo   *memoStore
	cons   jetstream.Consumer
	tracer trace.Tracer
	obs    Observer

	mu      sync.Mutex
	keys    map[string][]*job // queued jobs per busy partition key
	blocked map[string]block  // keys waiting for a retried head
	// lastDelivery and guardUntil drive the take-over guard (dispatch.go).
	lastDelivery time.Time
	guarded      []*job               // non-nil while the take-over guard holds messages
	delayed      map[uint64]time.Time // own messages out for delayed redelivery, by stream seq
	held         map[*job]struct{}    // messages not yet settled, for heartbeats
	sem          chan struct{}
	claimSlots   chan struct{} // commands claimed and waiting for sem, see runKey
	wg           sync.WaitGroup
	stop         chan struct{}
	ready        chan struct{}
	running      bool
}

// block holds back a partition key while its head command waits for
// redelivery, so later commands of the key do not overtake it.
type block struct {
	seq   uint64
	id    string    // the head's command id, to look up its record
	since time.Time // when the key started waiting
	// checks counts the late checks that reached the bus (checkBlocked).
	checks int
	timer  *time.Timer
}

// New returns a Service on js. Register routes with Handle before Run.
func New(js jetstream.JetStream, cfg Config) (*Service, error) {
	if js == nil {
		return nil, errors.New("bus: nil JetStream")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Service{
		js:         js,
		cfg:        cfg,
		log:        cfg.Logger.With("service", cfg.Name),
		source:     "loyaltybus/" + cfg.Name,
		routes:     map[string]*route{},
		keys:       map[string][]*job{},
		blocked:    map[string]block{},
		held:       map[*job]struct{}{},
		delayed:    map[uint64]time.Time{},
		sem:        make(chan struct{}, cfg.Concurrency),
		claimSlots: make(chan struct{}, cfg.Concurrency),
		stop:       make(chan struct{}),
		ready:      make(chan struct{}),
		tracer:     cfg.TracerProvider.Tracer("github.com/loyaltybus/loyaltybus/pkg/bus"),
		obs:        cfg.Observer,
	}, nil
}

// Handle registers a route. It fails on a duplicate subject, a subject
// outside loyalty.cmd., or a schema that does not compile.
func (s *Service) Handle(r Route) error {
	if r.Handler == nil || r.Type == "" || r.Subject == "" {
		return fmt.Errorf("bus: route %q needs Type, Subject and Handler", r.Subject)
	}
	const prefix = "loyalty.cmd."
	if len(r.Subject) <= len(prefix) || r.Subject[:len(prefix)] != prefix {
		return fmt.Errorf("bus: route subject %q is not under %s", r.Subject, prefix)
	}
	if _, dup := s.routes[r.Subject]; dup {
		return fmt.Errorf("bus: subject %s registered twice", r.Subject)
	}
	v, err := compileSchema(r.Subject, r.Schema)
	if err != nil {
		return fmt.Errorf("bus: route %s: %w", r.Subject, err)
	}
	tail := r.Subject[len(prefix):]
	s.routes[r.Subject] = &route{
		Route:         r,
		resultType:    resultTypeOf(r.Type),
		resultSubject: "loyalty.result." + tail,
		dlqSubject:    "loyalty.dlq." + tail,
		validator:     v,
	}
	return nil
}

// pinnedGroup is the priority group replicas of a service pull from.
const pinnedGroup = "loyaltybus"

// resultTypeOf maps loyalty.points.freeze.v1 to loyalty.points.freeze.result.v1.
func resultTypeOf(t string) string {
	for i := len(t) - 1; i >= 0; i-- {
		if t[i] == '.' {
			if i+1 < len(t) && t[i+1] == 'v' {
				return t[:i] + ".result" + t[i:]
			}
			break
		}
	}
	return t + ".result"
}

// Ready is closed once Run has bound the consumer and started consuming.
func (s *Service) Ready() <-chan struct{} { return s.ready }

// Name is the service's name (its durable consumer).
func (s *Service) Name() string { return s.cfg.Name }

// Healthy reports nil while the service consumes: its consumer is bound and
// it is not stopping. It does not check the NATS connection itself.
func (s *Service) Healthy() error {
	switch {
	case !isClosed(s.ready):
		return fmt.Errorf("service %s: not consuming yet", s.cfg.Name)
	case isClosed(s.stop):
		return fmt.Errorf("service %s: draining", s.cfg.Name)
	}
	return nil
}

// ConsumerInfo returns the durable consumer's state (pending, ack pending,
// redelivered) for lag metrics and status.
func (s *Service) ConsumerInfo(ctx context.Context) (*jetstream.ConsumerInfo, error) {
	s.mu.Lock()
	c := s.cons
	s.mu.Unlock()
	if c == nil {
		return nil, fmt.Errorf("service %s: consumer not bound", s.cfg.Name)
	}
	return c.Info(ctx)
}

// Run provisions (unless told not to), binds the service's durable consumer
// and processes commands until ctx ends. It then stops fetching, lets running
// handlers finish within ShutdownTimeout and returns. Commands not settled by
// then stay unacknowledged and are redelivered; nothing is half-settled.
func (s *Service) Run(ctx context.Context) error {
	if len(s.routes) == 0 {
		return errors.New("bus: no routes registered")
	}
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return errors.New("bus: Run called twice")
	}
	s.running = true
	s.mu.Unlock()

	if !s.cfg.SkipProvision {
		if err := Provision(ctx, s.js, s.cfg.Topology); err != nil {
			return err
		}
	}
	kv, err := s.js.KeyValue(ctx, IdempotencyBucket)
	if err != nil {
		return fmt.Errorf("bind idempotency bucket: %w", err)
	}
	s.idem = &idemStore{kv: kv}
	memoKV, err := s.js.KeyValue(ctx, MemoBucket)
	if err != nil {
		return fmt.Errorf("bind memo bucket: %w", err)
	}
	s.memo = &memoStore{kv: memoKV, prefix: s.cfg.Name + "."}

	subjects := make([]string, 0, len(s.routes))
	for subj := range s.routes {
		subjects = append(subjects, subj)
	}
	cc := jetstream.ConsumerConfig{
		Durable:        s.cfg.Name,
		Description:    "loyaltybus service " + s.cfg.Name,
		FilterSubjects: subjects,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        s.cfg.AckWait,
		// Attempts are limited by the runtime from the idempotency record, so
		// the server never silently stops redelivering a command.
		MaxDeliver:    -1,
		MaxAckPending: 4 * s.cfg.Concurrency,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
	consumeOpts := []jetstream.PullConsumeOpt{jetstream.PullMaxMessages(2 * s.cfg.Concurrency)}
	if !s.cfg.Shared {
		cc.PriorityPolicy = jetstream.PriorityPolicyPinned
		cc.PriorityGroups = []string{pinnedGroup}
		cc.PinnedTTL = s.cfg.PinnedTTL
		consumeOpts = append(consumeOpts, jetstream.PullPriorityGroup(pinnedGroup))
	}
	cons, err := s.js.CreateOrUpdateConsumer(ctx, streamCommands, cc)
	if err != nil {
		return fmt.Errorf("bind consumer %s: %w", s.cfg.Name, err)
	}
	s.mu.Lock()
	s.cons = cons
	s.mu.Unlock()

	// Handlers get their own context: ending ctx stops fetching, while
	// running handlers may finish until the shutdown timeout.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()

	consumeOpts = append(consumeOpts, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		if !errors.Is(err, jetstream.ErrPinIDMismatch) { // a standby replica's normal state
			s.log.Warn("consume", "err", err)
		}
	}))
	consuming, err := cons.Consume(func(m jetstream.Msg) { s.dispatch(workCtx, m) }, consumeOpts...)
	if err != nil {
		return fmt.Errorf("consume %s: %w", s.cfg.Name, err)
	}
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		s.heartbeat(workCtx)
	}()
	close(s.ready)
	s.log.Info("service consuming", "subjects", subjects, "concurrency", s.cfg.Concurrency)

	<-ctx.Done()
	consuming.Stop()
	if !s.cfg.Shared {
		// Hand the pin to a standby now rather than after PinnedTTL.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		if st, err := s.js.Stream(uctx, streamCommands); err == nil {
			if err := st.UnpinConsumer(uctx, s.cfg.Name, pinnedGroup); err != nil {
				s.log.Debug("unpin consumer", "err", err)
			}
		}
		cancel()
	}
	s.mu.Lock()
	close(s.stop)
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(s.cfg.ShutdownTimeout):
		s.log.Warn("shutdown timeout: cancelling running handlers; their commands will be redelivered")
		cancelWork()
		<-done
	}
	s.releaseBlocked()
	cancelWork()
	<-hbDone
	s.log.Info("service stopped")
	return nil
}

// heartbeat sends in-progress acks for every message held longer than a third
// of AckWait, so slow vendor calls and queued commands are not redelivered.
func (s *Service) heartbeat(ctx context.Context) {
	every := s.cfg.AckWait / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := s.cfg.Now()
		s.mu.Lock()
		var due []*job
		for j := range s.held {
			if now.Sub(j.received) >= every {
				due = append(due, j)
			}
		}
		s.mu.Unlock()
		for _, j := range due {
			_ = j.msg.InProgress()
		}
	}
}
