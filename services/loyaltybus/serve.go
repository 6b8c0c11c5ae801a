package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/pkg/config"
	"github.com/loyaltybus/loyaltybus/pkg/logging"
	"github.com/loyaltybus/loyaltybus/pkg/natsembed"
	"github.com/loyaltybus/loyaltybus/pkg/telemetry"
)

// serve runs the selected services until ctx ends.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var s settings
	if err := config.Load(&s, getenv); err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	selected, err := selectComponents(args)
	if err != nil {
		return err
	}
	mode, err := bus.ParseMode(s.OutputMode)
	if err != nil {
		return fmt.Errorf("LOYALTY_OUTPUT_MODE: %w", err)
	}
	logCfg := logging.Config{Format: s.LogFormat}
	if err := logCfg.Validate(); err != nil {
		return fmt.Errorf("LOYALTY_LOG_FORMAT: %w", err)
	}
	if err := logCfg.Level.UnmarshalText([]byte(s.LogLevel)); err != nil {
		return fmt.Errorf("LOYALTY_LOG_LEVEL: %w", err)
	}
	log := logging.New(logCfg, stderr)

	url := s.NATSURL
	embedded := url == ""
	if embedded {
		dir, err := filepath.Abs(filepath.Join(s.DataDir, "jetstream"))
		if err != nil {
			return fmt.Errorf("LOYALTY_DATA_DIR: %w", err)
		}
		ns, err := natsembed.Start(natsembed.Config{Host: s.NATSHost, Port: s.NATSPort, StoreDir: dir, Logger: log.With("component", "nats")})
		if err != nil {
			return fmt.Errorf("embedded NATS (LOYALTY_NATS_PORT=%d, LOYALTY_DATA_DIR=%s): %w", s.NATSPort, s.DataDir, err)
		}
		defer ns.Shutdown()
		url = ns.ClientURL()
		log.Info("embedded NATS server with JetStream", "url", url, "store", dir)
	}
	nc, err := nats.Connect(url, natsOptions(&s, log)...)
	if err != nil {
		return fmt.Errorf("connect to NATS (LOYALTY_NATS_URL): %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	topo := bus.Topology{Replicas: s.StreamReplicas}
	if s.Provision {
		if err := bus.Provision(ctx, js, topo); err != nil {
			return err
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics, err := telemetry.NewMetrics(reg)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	tp, shutdownTracing, err := telemetry.NewTracerProvider(ctx, telemetry.TracingConfig{Endpoint: s.OTLPEndpoint})
	if err != nil {
		return fmt.Errorf("LOYALTY_OTLP_ENDPOINT: %w", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = shutdownTracing(sctx)
	}()

	v := &vendors{ctx: ctx, s: &s, log: log, metrics: metrics, tracer: tp}
	defer v.close()
	var svcs []*bus.Service
	var others []runner // components that are not command services (the scheduler)
	for _, c := range selected {
		if c.run != nil {
			r, err := c.run(js, v)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			others = append(others, r)
			continue
		}
		routes, err := c.routes(v)
		if err != nil {
			return fmt.Errorf("service %s: %w", c.name, err)
		}
		svc, err := bus.New(js, bus.Config{
			Name: c.name, Concurrency: s.Concurrency, MaxAttempts: s.MaxAttempts, AckWait: s.AckWait, PinnedTTL: s.PinnedTTL,
			OutputMode: mode, Topology: topo, SkipProvision: true, Logger: log,
			Observer: metrics, TracerProvider: tp,
		})
		if err != nil {
			return err
		}
		for _, r := range routes {
			if err := svc.Handle(r); err != nil {
				return fmt.Errorf("service %s: %w", c.name, err)
			}
		}
		svcs = append(svcs, svc)
	}

	if s.HTTPAddr != "" {
		sources := make([]telemetry.ConsumerSource, len(svcs))
		checks := []telemetry.Check{{Name: "nats", Check: func() error {
			if st := nc.Status(); st != nats.CONNECTED {
				return fmt.Errorf("NATS connection %s", st)
			}
			return nil
		}}}
		for i, svc := range svcs {
			sources[i] = svc
			checks = append(checks, telemetry.Check{Name: svc.Name(), Check: svc.Healthy})
		}
		if err := telemetry.RegisterLag(reg, sources...); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		stopWatch, err := telemetry.WatchQuorum(nc, reg)
		if err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		defer stopWatch()
		stopHTTP, err := serveHTTP(s.HTTPAddr, telemetry.Handler(reg, checks...), log)
		if err != nil {
			return fmt.Errorf("LOYALTY_HTTP_ADDR: %w", err)
		}
		defer stopHTTP()
	}

	// Run every service (and the other components); the first to fail
	// stops the others.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	all := make([]runner, 0, len(svcs)+len(others))
	for _, svc := range svcs {
		all = append(all, svc)
	}
	all = append(all, others...)
	errs := make(chan error, len(all))
	for _, r := range all {
		go func() { errs <- r.Run(ctx) }()
	}
	for _, r := range all {
		select {
		case <-r.Ready():
		case err := <-errs:
			cancel()
			return errors.Join(err, drain(errs, len(all)-1))
		}
	}
	names := make([]string, len(selected))
	for i, c := range selected {
		names[i] = c.name
	}
	log.Info("loyaltybus ready", "services", strings.Join(names, ","), "nats", url)
	if embedded {
		printQuickstart(stdout, url)
	}
	var first error
	for range all {
		if err := <-errs; err != nil && first == nil {
			first = err
			cancel()
		}
	}
	return first
}

// serveHTTP serves h on addr until the returned stop is called.
func serveHTTP(addr string, h http.Handler, log *slog.Logger) (stop func(), err error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("health and metrics server stopped", "err", err)
		}
	}()
	log.Info("serving /healthz, /readyz and /metrics", "addr", l.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

func drain(errs chan error, n int) error {
	var all []error
	for i := 0; i < n; i++ {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
}

func natsOptions(s *settings, log *slog.Logger) []nats.Option {
	opts := []nats.Option{
		nats.Name("loyaltybus"),
		nats.MaxReconnects(-1),
		nats.DisconnectErrHandler(func(c *nats.Conn, err error) {
			if c.IsClosed() { // our own shutdown, not a lost server
				log.Debug("NATS connection closed")
				return
			}
			log.Warn("NATS disconnected", "err", err)
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("NATS reconnected", "url", c.ConnectedUrlRedacted()) }),
	}
	if s.NATSCreds != "" {
		opts = append(opts, nats.UserCredentials(s.NATSCreds))
	}
	if s.NATSUser != "" {
		opts = append(opts, nats.UserInfo(s.NATSUser, s.NATSPassword.Reveal()))
	}
	if s.NATSTLSCA != "" {
		opts = append(opts, nats.RootCAs(s.NATSTLSCA))
	}
	if s.NATSTLSCert != "" || s.NATSTLSKey != "" {
		opts = append(opts, nats.ClientCert(s.NATSTLSCert, s.NATSTLSKey))
	}
	if s.NATSInbox != "" {
		// Restricted users may only subscribe to their own inbox prefix.
		opts = append(opts, nats.CustomInboxPrefix(s.NATSInbox))
	}
	return opts
}

// printQuickstart tells a new user how to publish a first command.
func printQuickstart(w io.Writer, url string) {
	fmt.Fprintf(w, `
loyaltybus is running with an embedded NATS server at %[1]s.
Publish a first command (with the nats CLI, https://github.com/nats-io/natscli):

  nats --server %[1]s sub 'loyalty.result.>' &
  nats --server %[1]s pub loyalty.cmd.points.freeze \
    -H ce-specversion:1.0 -H ce-id:first-freeze-1 -H ce-source:quickstart \
    -H ce-type:loyalty.points.freeze.v1 -H Content-Type:application/json \
    -H Nats-Msg-Id:first-freeze-1 \
    '{"memberId":"m-001","memberType":"shuyun","channelType":"POS","points":10}'

The result arrives on loyalty.result.points.freeze and a change event on
loyalty.event.points.frozen. Stop with Ctrl-C.
`, url)
}
