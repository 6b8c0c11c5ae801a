package telemetry

import (
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/loyaltybus/loyaltybus/pkg/bus"
)

// Transport instruments vendor HTTP calls: a client span per request, the
// W3C traceparent header (so the vendor sees the command's trace even when
// spans are not recorded), and latency and error metrics labelled with the
// vendor and the operation (the last path segments, never ids or queries).
type Transport struct {
	Vendor string
	// Next does the request (default http.DefaultTransport).
	Next http.RoundTripper
	// Metrics, when set, records the call.
	Metrics *Metrics
	// TracerProvider creates the client spans (default no-op).
	TracerProvider trace.TracerProvider
	// Operation names a request for metrics (default: the URL path's last segment).
	Operation func(*http.Request) string
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	next := t.Next
	if next == nil {
		next = http.DefaultTransport
	}
	tp := t.TracerProvider
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	op := operation(req)
	if t.Operation != nil {
		op = t.Operation(req)
	}
	ctx, span := tp.Tracer("github.com/loyaltybus/loyaltybus/pkg/telemetry").Start(req.Context(), t.Vendor+" "+op,
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("http.request.method", req.Method), attribute.String("loyaltybus.vendor", t.Vendor)))
	defer span.End()
	bus.NoteVendor(ctx, t.Vendor)
	req = req.Clone(ctx)
	propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(req.Header))

	start := time.Now()
	resp, err := next.RoundTrip(req)
	status := 0
	if resp != nil {
		status = resp.StatusCode
		span.SetAttributes(attribute.Int("http.response.status_code", status))
	}
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	if t.Metrics != nil {
		t.Metrics.vendorCall(t.Vendor, op, status, time.Since(start), err != nil)
	}
	return resp, err
}

// operation is the last path segment: "/member/freezePoint" → "freezePoint".
func operation(r *http.Request) string {
	p := strings.TrimRight(r.URL.Path, "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		p = p[i+1:]
	}
	if p == "" {
		return r.Method
	}
	return p
}
