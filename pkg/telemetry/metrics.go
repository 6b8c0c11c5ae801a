package telemetry

import (
	"context"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/pkg/resilience"
)

// Metrics holds the Prometheus collectors of a process. It implements
// bus.Observer; Transport feeds its vendor metrics.
type Metrics struct {
	reg            prometheus.Registerer
	deliveries     *prometheus.CounterVec
	settled        *prometheus.CounterVec
	attempts       *prometheus.HistogramVec
	redeliveries   *prometheus.CounterVec
	dlq            *prometheus.CounterVec
	idemHits       *prometheus.CounterVec
	handler        *prometheus.HistogramVec
	held           *prometheus.GaugeVec
	vendorDuration *prometheus.HistogramVec
	vendorErrors   *prometheus.CounterVec
	breaker        *prometheus.GaugeVec
	limiterWait    *prometheus.HistogramVec
	throttled      *prometheus.CounterVec
}

var (
	_ bus.Observer        = (*Metrics)(nil)
	_ resilience.Observer = (*Metrics)(nil)
)

// NewMetrics creates the collectors and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	latency := []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	m := &Metrics{
		reg: reg,
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "loyaltybus_commands_received_total",
			Help: "Command deliveries processed, by service, command type and outcome (succeeded, failed, rejected, retry, duplicate, conflict, invalid, deferred, interrupted, republished).",
		}, []string{"service", "type", "outcome"}),
		settled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "loyaltybus_commands_settled_total",
			Help: "Commands settled with a result, by service, command type and status.",
		}, []string{"service", "type", "status"}),
		attempts: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "loyaltybus_command_attempts",
			Help:    "Handler attempts a command needed when it settled.",
			Buckets: []float64{1, 2, 3, 4, 5, 6, 8, 10, 15, 20},
		}, []string{"service", "type"}),
		redeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "loyaltybus_redeliveries_total",
			Help: "Deliveries the server had delivered before (retries, crashes, expired ack deadlines).",
		}, []string{"service"}),
		dlq: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "loyaltybus_dlq_copies_total",
			Help: "Copies published to the dead-letter stream, by service, command type and reason.",
		}, []string{"service", "type", "reason"}),
		idemHits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "loyaltybus_idempotency_hits_total",
			Help: "Commands answered from their idempotency record without a vendor call.",
		}, []string{"service", "type"}),
		handler: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "loyaltybus_handler_duration_seconds",
			Help:    "Handler invocations by service, command type and error class (ok, transient, permanent, rejected).",
			Buckets: latency,
		}, []string{"service", "type", "class"}),
		held: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "loyaltybus_in_flight",
			Help: "Messages a service holds: running or queued behind their partition key.",
		}, []string{"service"}),
		vendorDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "loyaltybus_vendor_request_duration_seconds",
			Help:    "Vendor HTTP calls by vendor, operation and HTTP status (0: no answer).",
			Buckets: latency,
		}, []string{"vendor", "operation", "status"}),
		vendorErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "loyaltybus_vendor_errors_total",
			Help: "Vendor errors by vendor, class (transport, http, business) and vendor code.",
		}, []string{"vendor", "class", "code"}),
		breaker: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "loyaltybus_breaker_state",
			Help: "Circuit breaker state per vendor endpoint: 0 closed, 1 half-open, 2 open.",
		}, []string{"vendor", "endpoint"}),
		limiterWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "loyaltybus_limiter_wait_seconds",
			Help:    "Time vendor calls waited in place for the rate or concurrency limit.",
			Buckets: latency,
		}, []string{"vendor"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "loyaltybus_limiter_throttled_total",
			Help: "Vendor calls handed back for later because the limit would have made them wait too long.",
		}, []string{"vendor"}),
	}
	for _, c := range []prometheus.Collector{m.deliveries, m.settled, m.attempts, m.redeliveries, m.dlq, m.idemHits, m.handler, m.held, m.vendorDuration, m.vendorErrors, m.breaker, m.limiterWait, m.throttled} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Outcome implements bus.Observer.
func (m *Metrics) Outcome(o bus.Observation) {
	m.deliveries.WithLabelValues(o.Service, o.CommandType, o.Outcome).Inc()
	switch o.Outcome {
	case "succeeded", "failed", "rejected":
		m.settled.WithLabelValues(o.Service, o.CommandType, o.Outcome).Inc()
		m.attempts.WithLabelValues(o.Service, o.CommandType).Observe(float64(o.Attempts))
	}
	if o.Redelivered {
		m.redeliveries.WithLabelValues(o.Service).Inc()
	}
	if o.DeadLettered {
		m.dlq.WithLabelValues(o.Service, o.CommandType, o.Outcome).Inc()
	}
	if o.IdempotencyHit {
		m.idemHits.WithLabelValues(o.Service, o.CommandType).Inc()
	}
	if v := o.Vendor; v != nil && o.Outcome != "retry" {
		m.vendorErrors.WithLabelValues(v.Name, "business", v.Code).Inc()
	}
}

// HandlerDone implements bus.Observer.
func (m *Metrics) HandlerDone(service, commandType string, d time.Duration, class string) {
	if class == "" {
		class = "ok"
	}
	m.handler.WithLabelValues(service, commandType, class).Observe(d.Seconds())
}

// Held implements bus.Observer.
func (m *Metrics) Held(service string, n int) { m.held.WithLabelValues(service).Set(float64(n)) }

func (m *Metrics) vendorCall(vendor, op string, status int, d time.Duration, transportErr bool) {
	m.vendorDuration.WithLabelValues(vendor, op, strconv.Itoa(status)).Observe(d.Seconds())
	switch {
	case transportErr:
		m.vendorErrors.WithLabelValues(vendor, "transport", "").Inc()
	case status >= 400:
		m.vendorErrors.WithLabelValues(vendor, "http", strconv.Itoa(status)).Inc()
	}
}

// ConsumerSource reports the state of a durable consumer, for lag metrics;
// *bus.Service is one.
type ConsumerSource interface {
	Name() string
	ConsumerInfo(ctx context.Context) (*jetstream.ConsumerInfo, error)
}

var _ ConsumerSource = (*bus.Service)(nil)

// lagCollector reads consumer state at scrape time.
type lagCollector struct {
	sources    []ConsumerSource
	pending    *prometheus.Desc
	ackPending *prometheus.Desc
	redeliv    *prometheus.Desc
}

// RegisterLag registers consumer pending, ack-pending and redelivered gauges
// read from the sources at each scrape.
func RegisterLag(reg prometheus.Registerer, sources ...ConsumerSource) error {
	return reg.Register(&lagCollector{
		sources:    sources,
		pending:    prometheus.NewDesc("loyaltybus_consumer_pending", "Commands not yet delivered to the service (lag).", []string{"consumer"}, nil),
		ackPending: prometheus.NewDesc("loyaltybus_consumer_ack_pending", "Commands delivered and not yet settled.", []string{"consumer"}, nil),
		redeliv:    prometheus.NewDesc("loyaltybus_consumer_redelivered", "Unsettled commands that were redelivered.", []string{"consumer"}, nil),
	})
}

func (c *lagCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.pending
	ch <- c.ackPending
	ch <- c.redeliv
}

func (c *lagCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, s := range c.sources {
		info, err := s.ConsumerInfo(ctx)
		if err != nil {
			continue // absent series say more than stale ones
		}
		ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(info.NumPending), s.Name())
		ch <- prometheus.MustNewConstMetric(c.ackPending, prometheus.GaugeValue, float64(info.NumAckPending), s.Name())
		ch <- prometheus.MustNewConstMetric(c.redeliv, prometheus.GaugeValue, float64(info.NumRedelivered), s.Name())
	}
}

// BreakerState records a circuit's state (resilience.Observer).
func (m *Metrics) BreakerState(vendor, endpoint string, state int) {
	m.breaker.WithLabelValues(vendor, endpoint).Set(float64(state))
}

// LimiterWait records a wait for the vendor's limits (resilience.Observer).
func (m *Metrics) LimiterWait(vendor string, d time.Duration, throttled bool) {
	if throttled {
		m.throttled.WithLabelValues(vendor).Inc()
		return
	}
	m.limiterWait.WithLabelValues(vendor).Observe(d.Seconds())
}

// WatchQuota exports a vendor account's call quota (e.g. Pospal's daily
// calls per appId), read at scrape time from quota.
func (m *Metrics) WatchQuota(vendor, account string, quota func() (used, limit int)) error {
	labels := prometheus.Labels{"vendor": vendor, "account": account}
	used := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "loyaltybus_vendor_quota_used", Help: "Calls counted against the vendor's quota in the current period.", ConstLabels: labels,
	}, func() float64 { u, _ := quota(); return float64(u) })
	limit := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "loyaltybus_vendor_quota_limit", Help: "The vendor's quota for the current period.", ConstLabels: labels,
	}, func() float64 { _, l := quota(); return float64(l) })
	if err := m.reg.Register(used); err != nil {
		return err
	}
	return m.reg.Register(limit)
}
