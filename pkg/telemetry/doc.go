// Package telemetry makes loyaltybus observable: Prometheus metrics fed by
// the runtime (bus.Observer) and by an instrumented HTTP transport for vendor
// calls, OpenTelemetry tracing (OTLP when configured, a no-op otherwise, with
// the W3C trace context always propagated to vendors), and the health,
// readiness and metrics endpoints.
//
// Nothing here is global: metrics register on the registry they are given,
// and the tracer provider is passed to whoever creates spans.
package telemetry
