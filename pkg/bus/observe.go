package bus

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Observer receives the runtime's measurements, for metrics. Calls are made
// on the hot path: implementations must be fast and safe for concurrent use.
type Observer interface {
	// Outcome reports how one delivery of a command ended.
	Outcome(o Observation)
	// HandlerDone reports one handler invocation and how its error classed
	// ("" on success, "transient", "permanent", "rejected").
	HandlerDone(service, commandType string, d time.Duration, class string)
	// Held reports how many messages the service holds (running or queued).
	Held(service string, n int)
}

// Observation describes how one delivery of a command ended.
type Observation struct {
	Service     string
	CommandType string
	// Outcome is succeeded, failed, rejected, retry, duplicate, conflict,
	// invalid, deferred or interrupted.
	Outcome string
	// Attempts is the command's handler invocations so far.
	Attempts int
	// Redelivered is set when the server delivered this message before.
	Redelivered bool
	// DeadLettered is set when a DLQ copy was published.
	DeadLettered bool
	// IdempotencyHit is set when the outcome came from the stored record.
	IdempotencyHit bool
	// Vendor is the vendor's answer on a vendor error.
	Vendor   *VendorDetail
	Duration time.Duration
}

type nopObserver struct{}

func (nopObserver) Outcome(Observation)                               {}
func (nopObserver) HandlerDone(string, string, time.Duration, string) {}
func (nopObserver) Held(string, int)                                  {}

// traceContext extracts the W3C trace context a command carries in its
// traceparent attribute.
var traceContext = propagation.TraceContext{}

type traceCarrier struct{ traceparent string }

func (c *traceCarrier) Get(key string) string {
	if key == "traceparent" {
		return c.traceparent
	}
	return ""
}
func (c *traceCarrier) Set(key, value string) {
	if key == "traceparent" {
		c.traceparent = value
	}
}
func (c *traceCarrier) Keys() []string { return []string{"traceparent"} }

// startSpan starts the receive span of a command as a child of the trace the
// command carries, and returns the traceparent its outputs carry: the
// receive span when traces are recorded, else the command's own.
func (s *Service) startSpan(ctx context.Context, j *job) (context.Context, trace.Span) {
	in := &traceCarrier{}
	if j.ev != nil {
		in.traceparent, _ = j.ev.Extensions()["traceparent"].(string)
	}
	ctx = traceContext.Extract(ctx, in)
	name := "loyaltybus receive"
	if j.ev != nil {
		name += " " + j.ev.Type()
	}
	ctx, span := s.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindConsumer))
	out := &traceCarrier{}
	traceContext.Inject(ctx, out)
	j.traceparent = out.traceparent
	return ctx, span
}

// vendorNote collects the vendors a handler called, for the outcome's log
// line; an instrumented HTTP transport reports them with NoteVendor.
type vendorNote struct {
	mu   sync.Mutex
	name string
}

type vendorNoteKey struct{}

// NoteVendor records that the command running in ctx called vendor. Vendor
// transports call it (pkg/telemetry does) so that the command's log line
// names the vendor even on success; outside a command it does nothing.
func NoteVendor(ctx context.Context, vendor string) {
	if n, ok := ctx.Value(vendorNoteKey{}).(*vendorNote); ok {
		n.mu.Lock()
		n.name = vendor
		n.mu.Unlock()
	}
}

func (n *vendorNote) get() string {
	if n == nil {
		return ""
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.name
}
