package telemetry_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/pkg/bus/bustest"
	"github.com/loyaltybus/loyaltybus/pkg/telemetry"
)

const (
	typeCall    = "loyalty.test.call.v1"
	subjectCall = "loyalty.cmd.test.call"
)

// vendor answers by the command id in the path: "fail-once" gets one 503,
// "refuse" always 400; everything else 200. It records traceparent headers.
type vendor struct {
	mu          sync.Mutex
	seen        map[string]int
	traceparent map[string]string
}

func (v *vendor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/call/")
	v.mu.Lock()
	v.seen[id]++
	n := v.seen[id]
	v.traceparent[id] = r.Header.Get("traceparent")
	v.mu.Unlock()
	switch {
	case id == "fail-once" && n == 1:
		w.WriteHeader(http.StatusServiceUnavailable)
	case id == "refuse":
		w.WriteHeader(http.StatusBadRequest)
	default:
		w.WriteHeader(http.StatusOK)
	}
}

type temporary struct{ error }

func (temporary) Temporary() bool { return true }

// callHandler calls the vendor over the instrumented client, like an adapter.
func callHandler(client *http.Client, base string) bus.Handler {
	return func(ctx context.Context, cmd *bus.Command) (*bus.Outcome, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/call/"+cmd.ID, nil)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		switch {
		case resp.StatusCode >= 500:
			return nil, temporary{fmt.Errorf("vendor %d", resp.StatusCode)}
		case resp.StatusCode >= 400:
			return nil, bus.Permanent(fmt.Errorf("vendor refused: %d", resp.StatusCode))
		}
		return &bus.Outcome{}, nil
	}
}

func TestMetricsCountAScriptedRun(t *testing.T) {
	v := &vendor{seen: map[string]int{}, traceparent: map[string]string{}}
	vs := httptest.NewServer(v)
	t.Cleanup(vs.Close)
	reg := prometheus.NewRegistry()
	m, err := telemetry.NewMetrics(reg)
	require.NoError(t, err)
	client := &http.Client{Transport: &telemetry.Transport{Vendor: "acme", Metrics: m}}

	srv := bustest.NewServer(t)
	_, js := bustest.Connect(t, srv.ClientURL())
	require.NoError(t, bus.Provision(t.Context(), js, bus.Topology{}))
	bustest.Start(t, srv.ClientURL(), bus.Config{Name: "calls", SkipProvision: true, Observer: m,
		Backoff: bus.Backoff{Initial: 10 * time.Millisecond, Max: 20 * time.Millisecond}},
		bus.Route{Type: typeCall, Subject: subjectCall, Schema: []byte(`{"type":"object"}`), Handler: callHandler(client, vs.URL)})

	for _, id := range []string{"ok-1", "ok-2", "fail-once", "refuse"} {
		bustest.Publish(t, js, subjectCall, bustest.Command(t, id, typeCall, map[string]any{}), bus.Binary)
	}
	bustest.WaitMessages(t, js, "LOYALTY_RESULTS", "loyalty.result.>", 4)
	bustest.WaitIdle(t, js, "calls")

	settled := func(status string) float64 {
		return counter(t, reg, "loyaltybus_commands_settled_total", map[string]string{"service": "calls", "type": typeCall, "status": status})
	}
	assert.Equal(t, 3.0, settled("succeeded"))
	assert.Equal(t, 1.0, settled("failed"))
	assert.Equal(t, 0.0, settled("rejected"))
	assert.Equal(t, 1.0, counter(t, reg, "loyaltybus_commands_received_total", map[string]string{"service": "calls", "type": typeCall, "outcome": "retry"}))
	assert.Equal(t, 1.0, counter(t, reg, "loyaltybus_dlq_copies_total", map[string]string{"service": "calls", "type": typeCall, "reason": "failed"}))
	assert.Equal(t, 1.0, counter(t, reg, "loyaltybus_redeliveries_total", map[string]string{"service": "calls"}))
	assert.Equal(t, 1.0, counter(t, reg, "loyaltybus_vendor_errors_total", map[string]string{"vendor": "acme", "class": "http", "code": "503"}))
	assert.Equal(t, 1.0, counter(t, reg, "loyaltybus_vendor_errors_total", map[string]string{"vendor": "acme", "class": "http", "code": "400"}))

	// The same figures over HTTP, as Prometheus scrapes them.
	h := httptest.NewServer(telemetry.Handler(reg))
	t.Cleanup(h.Close)
	resp, err := http.Get(h.URL + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(body), `loyaltybus_commands_settled_total{service="calls",status="succeeded",type="loyalty.test.call.v1"} 3`)
	assert.Contains(t, string(body), `loyaltybus_vendor_request_duration_seconds_count{operation="ok-1",status="200",vendor="acme"} 1`)
}

// counter reads one labelled counter series from the registry.
func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			match := len(m.GetLabel()) == len(labels)
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					match = false
				}
			}
			if match {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func TestTraceparentFlowsToVendorAndResult(t *testing.T) {
	v := &vendor{seen: map[string]int{}, traceparent: map[string]string{}}
	vs := httptest.NewServer(v)
	t.Cleanup(vs.Close)
	client := &http.Client{Transport: &telemetry.Transport{Vendor: "acme"}}
	srv := bustest.NewServer(t)
	_, js := bustest.Connect(t, srv.ClientURL())
	require.NoError(t, bus.Provision(t.Context(), js, bus.Topology{}))
	var logs lockedBuffer
	bustest.Start(t, srv.ClientURL(), bus.Config{Name: "calls", SkipProvision: true, Logger: slog.New(slog.NewJSONHandler(&logs, nil))},
		bus.Route{Type: typeCall, Subject: subjectCall, Schema: []byte(`{"type":"object"}`), Handler: callHandler(client, vs.URL)})

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	ev := bustest.Command(t, "traced", typeCall, map[string]any{})
	ev.SetExtension("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	bustest.Publish(t, js, subjectCall, ev, bus.Binary)
	res := bustest.WaitMessages(t, js, "LOYALTY_RESULTS", "loyalty.result.>", 1)[0]

	v.mu.Lock()
	sent := v.traceparent["traced"]
	v.mu.Unlock()
	assert.Contains(t, sent, traceID, "the vendor request carries the command's trace")
	assert.Contains(t, res.Ext("traceparent"), traceID, "the result carries the command's trace")
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), `"outcome":"succeeded"`) }, 5*time.Second, 5*time.Millisecond)
	assert.Contains(t, logs.String(), `"vendor":"acme"`, "the settled line names the vendor it called")
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestReadyzReportsFailingChecks(t *testing.T) {
	var ready bool
	var mu sync.Mutex
	h := httptest.NewServer(telemetry.Handler(prometheus.NewRegistry(), telemetry.Check{Name: "nats", Check: func() error {
		mu.Lock()
		defer mu.Unlock()
		if !ready {
			return errors.New("disconnected")
		}
		return nil
	}}))
	t.Cleanup(h.Close)
	get := func(path string) int {
		resp, err := http.Get(h.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusOK, get("/healthz"))
	assert.Equal(t, http.StatusServiceUnavailable, get("/readyz"))
	mu.Lock()
	ready = true
	mu.Unlock()
	assert.Equal(t, http.StatusOK, get("/readyz"))
}

func TestSpansForReceiveVendorCallAndPublish(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	v := &vendor{seen: map[string]int{}, traceparent: map[string]string{}}
	vs := httptest.NewServer(v)
	t.Cleanup(vs.Close)
	client := &http.Client{Transport: &telemetry.Transport{Vendor: "acme", TracerProvider: tp}}
	srv := bustest.NewServer(t)
	_, js := bustest.Connect(t, srv.ClientURL())
	require.NoError(t, bus.Provision(t.Context(), js, bus.Topology{}))
	bustest.Start(t, srv.ClientURL(), bus.Config{Name: "calls", SkipProvision: true, TracerProvider: tp},
		bus.Route{Type: typeCall, Subject: subjectCall, Schema: []byte(`{"type":"object"}`), Handler: callHandler(client, vs.URL)})

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	ev := bustest.Command(t, "spanned", typeCall, map[string]any{})
	ev.SetExtension("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	bustest.Publish(t, js, subjectCall, ev, bus.Binary)
	res := bustest.WaitMessages(t, js, "LOYALTY_RESULTS", "loyalty.result.>", 1)[0]

	var spans map[string]sdktrace.ReadOnlySpan
	require.Eventually(t, func() bool {
		spans = map[string]sdktrace.ReadOnlySpan{}
		for _, s := range rec.Ended() {
			spans[s.Name()] = s
		}
		return len(spans) >= 3
	}, 5*time.Second, 5*time.Millisecond)
	receive, call, publish := spans["loyaltybus receive "+typeCall], spans["acme spanned"], spans["loyaltybus publish"]
	require.NotNil(t, receive)
	require.NotNil(t, call)
	require.NotNil(t, publish)
	assert.Equal(t, traceID, receive.SpanContext().TraceID().String(), "the receive span continues the command's trace")
	assert.Equal(t, receive.SpanContext().SpanID(), call.Parent().SpanID())
	assert.Equal(t, receive.SpanContext().SpanID(), publish.Parent().SpanID())
	assert.Contains(t, res.Ext("traceparent"), receive.SpanContext().SpanID().String(), "outputs name the receive span as parent")
}

func TestQuotaIsExported(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := telemetry.NewMetrics(reg)
	require.NoError(t, err)
	used := 17
	require.NoError(t, m.WatchQuota("pospal", "app-1", func() (int, int) { return used, 300 }))
	used = 42
	families, err := reg.Gather()
	require.NoError(t, err)
	got := map[string]float64{}
	for _, f := range families {
		for _, s := range f.GetMetric() {
			got[f.GetName()] = s.GetGauge().GetValue()
		}
	}
	assert.Equal(t, 42.0, got["loyaltybus_vendor_quota_used"], "read at scrape time")
	assert.Equal(t, 300.0, got["loyaltybus_vendor_quota_limit"])
}
