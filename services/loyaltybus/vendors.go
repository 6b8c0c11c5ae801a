package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/loyaltybus/loyaltybus/adapters/pospal"
	"github.com/loyaltybus/loyaltybus/adapters/pospal/pospaltest"
	"github.com/loyaltybus/loyaltybus/adapters/shuyun"
	"github.com/loyaltybus/loyaltybus/adapters/shuyun/shuyuntest"
	"github.com/loyaltybus/loyaltybus/adapters/smartx"
	"github.com/loyaltybus/loyaltybus/adapters/wixtar"
	"github.com/loyaltybus/loyaltybus/pkg/resilience"
	"github.com/loyaltybus/loyaltybus/pkg/telemetry"
)

// simMaxCalls bounds the call journal (Options.MaxCalls) of the simulators the all-in-one
// and "loyaltybus simulate" start. The journal keeps each request's headers and body for
// tests; the all-in-one never reads it and /_sim/calls needs only recent calls, while
// unbounded it held about 40 MB after 30 000 commands and kept growing with every call.
const simMaxCalls = 1000

// vendors builds each vendor client once, on first use, from the settings;
// a vendor without a configured URL gets its built-in simulator, served on
// a loopback port and announced loudly in the log.
type vendors struct {
	ctx     context.Context
	s       *settings
	log     *slog.Logger
	metrics *telemetry.Metrics
	tracer  trace.TracerProvider

	mu      sync.Mutex
	servers []*http.Server
	shuyunC *shuyun.Client
	pospalC *pospal.Client
	// Read-side vendors (readers.go).
	wixtarC *wixtar.Client
	smartxC map[string]*smartx.Client
	closers []func() // simulators that run their own server
}

func (v *vendors) shuyun() (*shuyun.Client, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.shuyunC != nil {
		return v.shuyunC, nil
	}
	cfg := shuyun.Config{
		BaseURL: v.s.Shuyun.URL, ClientID: v.s.Shuyun.ClientID,
		ClientSecret: v.s.Shuyun.ClientSecret.Reveal(), Timeout: v.s.Shuyun.Timeout,
		HTTPClient: v.httpClient("shuyun", v.s.Shuyun.Limits),
	}
	if cfg.BaseURL == "" {
		sim := shuyuntest.NewSimulator(shuyuntest.Options{MaxCalls: simMaxCalls})
		url, err := v.serveSimulator("shuyun", sim, sim.WrapListener)
		if err != nil {
			return nil, err
		}
		cfg.BaseURL, cfg.ClientID, cfg.ClientSecret = url, sim.ClientID(), sim.ClientSecret()
	}
	c, err := shuyun.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("shuyun client (LOYALTY_SHUYUN_*): %w", err)
	}
	v.shuyunC = c
	return c, nil
}

// simPospalRule is the coupon rule (promotionCouponUid) the built-in Pospal
// simulator knows, so coupon.grant with provider pospal works out of the box.
const simPospalRule = 1001

// pospal returns the one Pospal client of the process (coupons and feeds
// share it): its daily call counter must see every call of the appId.
func (v *vendors) pospal() (*pospal.Client, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.pospalC != nil {
		return v.pospalC, nil
	}
	cfg := pospal.Config{
		BaseURL: v.s.Pospal.URL, AppID: v.s.Pospal.AppID, AppKey: v.s.Pospal.AppKey.Reveal(),
		DailyQuota: v.s.Pospal.DailyQuota, HTTPClient: v.httpClient("pospal", v.s.Pospal.Limits),
	}
	if cfg.BaseURL == "" {
		sim := pospaltest.NewSimulator(pospaltest.Options{DailyQuota: cfg.DailyQuota, MaxCalls: simMaxCalls})
		sim.AddPromotion(simPospalRule, "loyaltybus simulator coupon")
		url, err := v.serveSimulator("pospal", sim, nil)
		if err != nil {
			return nil, err
		}
		v.log.Warn("pospal simulator: coupon rule seeded", "promotionCouponUid", simPospalRule)
		cfg.BaseURL, cfg.AppID, cfg.AppKey = url, pospaltest.DefaultAppID, pospaltest.DefaultAppKey
	}
	c, err := pospal.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("pospal client (LOYALTY_POSPAL_*): %w", err)
	}
	if v.metrics != nil {
		quota := func() (int, int) { used, limit, _ := c.Quota(); return used, limit }
		if err := v.metrics.WatchQuota("pospal", cfg.AppID, quota); err != nil {
			return nil, fmt.Errorf("pospal quota metrics: %w", err)
		}
	}
	v.pospalC = c
	return c, nil
}

// httpClient is the HTTP client of one vendor: calls respect the vendor's
// limits and circuit breaker, and those made are measured, traced and carry
// the command's traceparent.
func (v *vendors) httpClient(vendor string, l vendorLimits) *http.Client {
	return &http.Client{Transport: resilience.New(resilience.Config{
		Vendor: vendor, Rate: l.Rate, Burst: l.Burst, MaxConcurrent: l.MaxConcurrent,
		Breaker:  resilience.BreakerConfig{OpenFor: l.BreakerOpen},
		Observer: v.metrics,
		Next:     &telemetry.Transport{Vendor: vendor, Metrics: v.metrics, TracerProvider: v.tracer, Next: v.transport()},
	})}
}

// transport keeps a connection per concurrent call: Go's default of two
// idle connections per host would open and close one per call under load.
func (v *vendors) transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	conns := max(v.s.Concurrency, 16)
	t.MaxIdleConns = 4 * conns
	t.MaxIdleConnsPerHost = conns
	return t
}

// serveSimulator serves h on a free loopback port until close.
func (v *vendors) serveSimulator(name string, h http.Handler, wrap func(net.Listener) net.Listener) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("listen for %s simulator: %w", name, err)
	}
	if wrap != nil {
		l = wrap(l)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			v.log.Error("simulator stopped", "vendor", name, "err", err)
		}
	}()
	v.servers = append(v.servers, srv)
	url := "http://" + l.Addr().String()
	v.log.Warn("VENDOR SIMULATOR IN USE: no URL configured, calls go to a built-in simulator, not the real vendor",
		"vendor", name, "url", url)
	return url, nil
}

func (v *vendors) close() {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, s := range v.servers {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = s.Shutdown(ctx)
		cancel()
	}
	for _, c := range v.closers {
		c()
	}
}
