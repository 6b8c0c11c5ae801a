// Package resilience protects a vendor from loyaltybus and loyaltybus from a
// vendor: an HTTP transport with a rate limiter, a concurrency limit and a
// circuit breaker per endpoint. When a call cannot go now it fails fast with
// an error that is Temporary and says when to come back (RetryAfter), so the
// runtime hands the command back for delayed redelivery instead of holding a
// worker or hammering the vendor.
package resilience

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
	"golang.org/x/time/rate"
)

// Config configures the protection of one vendor. The zero value protects
// nothing but still breaks the circuit with the defaults below.
type Config struct {
	// Vendor names the vendor in errors and observations.
	Vendor string
	// Rate limits requests per second to the vendor (0: unlimited); Burst
	// is the bucket size (default: max(1, Rate)).
	Rate  float64
	Burst int
	// MaxConcurrent limits requests in flight (0: unlimited).
	MaxConcurrent int
	// MaxWait is the longest a request waits in place for the limiter or a
	// concurrency slot (default 1s); a longer wait hands the command back.
	MaxWait time.Duration
	// Breaker trips an endpoint's circuit after MinRequests requests in a
	// window of Window with a failure ratio of FailureRatio or more
	// (defaults 10, 30s, 0.5), or after MinRequests/2 failures in a row; it
	// stays open OpenFor (default 30s), then
	// lets one probe through and closes on its success. Failures are
	// transport errors, 5xx and 429, never business refusals.
	Breaker BreakerConfig
	// Endpoint keys the circuit of a request (default: the URL path).
	Endpoint func(*http.Request) string
	// Observer is told about breaker states and limiter waits (optional).
	Observer Observer
	// Next does the request (default http.DefaultTransport).
	Next http.RoundTripper
}

// BreakerConfig shapes the circuit breaker.
type BreakerConfig struct {
	MinRequests  uint32
	Window       time.Duration
	FailureRatio float64
	OpenFor      time.Duration
}

// Observer receives the transport's measurements.
type Observer interface {
	// BreakerState reports a circuit's state: 0 closed, 1 half-open, 2 open.
	BreakerState(vendor, endpoint string, state int)
	// LimiterWait reports how long a request waited in place, or that it
	// was handed back (throttled).
	LimiterWait(vendor string, d time.Duration, throttled bool)
}

// Transport is an http.RoundTripper applying Config. Create it with New.
type Transport struct {
	cfg     Config
	limiter *rate.Limiter
	slots   chan struct{}

	mu       sync.Mutex
	breakers map[string]*breaker
}

type breaker struct {
	cb       *gobreaker.TwoStepCircuitBreaker[struct{}]
	openedAt time.Time
}

// New returns a Transport for cfg.
func New(cfg Config) *Transport {
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = time.Second
	}
	if cfg.Breaker.MinRequests == 0 {
		cfg.Breaker.MinRequests = 10
	}
	if cfg.Breaker.Window <= 0 {
		cfg.Breaker.Window = 30 * time.Second
	}
	if cfg.Breaker.FailureRatio <= 0 {
		cfg.Breaker.FailureRatio = 0.5
	}
	if cfg.Breaker.OpenFor <= 0 {
		cfg.Breaker.OpenFor = 30 * time.Second
	}
	if cfg.Endpoint == nil {
		cfg.Endpoint = func(r *http.Request) string { return r.URL.Path }
	}
	if cfg.Next == nil {
		cfg.Next = http.DefaultTransport
	}
	t := &Transport{cfg: cfg, breakers: map[string]*breaker{}}
	if cfg.Rate > 0 {
		burst := cfg.Burst
		if burst <= 0 {
			burst = max(1, int(cfg.Rate))
		}
		t.limiter = rate.NewLimiter(rate.Limit(cfg.Rate), burst)
	}
	if cfg.MaxConcurrent > 0 {
		t.slots = make(chan struct{}, cfg.MaxConcurrent)
	}
	return t
}

// errVendorFailure marks an answer the breaker counts as a failure.
var errVendorFailure = errors.New("vendor failure")

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	endpoint := t.cfg.Endpoint(req)
	b := t.breaker(endpoint)
	done, err := b.cb.Allow()
	if err != nil {
		t.mu.Lock()
		wait := t.cfg.Breaker.OpenFor - time.Since(b.openedAt)
		t.mu.Unlock()
		return nil, &UnavailableError{Vendor: t.cfg.Vendor, Endpoint: endpoint, Reason: "circuit breaker open", Wait: max(wait, 100*time.Millisecond)}
	}
	release, err := t.admit(req.Context(), endpoint)
	if err != nil {
		done(nil) // not the vendor's fault: count as neither success nor failure
		return nil, err
	}
	defer release()
	resp, err := t.cfg.Next.RoundTrip(req)
	switch {
	case err != nil:
		if req.Context().Err() != nil {
			done(nil) // our own cancellation says nothing of the vendor
		} else {
			done(errVendorFailure)
		}
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		done(errVendorFailure)
	default:
		done(nil)
	}
	return resp, err
}

// admit waits for a concurrency slot and a limiter token, each at most
// MaxWait; a longer wait returns an UnavailableError saying how long.
func (t *Transport) admit(ctx context.Context, endpoint string) (release func(), err error) {
	release = func() {}
	start := time.Now()
	if t.slots != nil {
		timer := time.NewTimer(t.cfg.MaxWait)
		defer timer.Stop()
		select {
		case t.slots <- struct{}{}:
			release = func() { <-t.slots }
		case <-timer.C:
			t.observeWait(time.Since(start), true)
			return nil, &UnavailableError{Vendor: t.cfg.Vendor, Endpoint: endpoint, Reason: "concurrency limit reached", Wait: t.cfg.MaxWait}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if t.limiter != nil {
		r := t.limiter.Reserve()
		d := r.Delay()
		if d > t.cfg.MaxWait {
			r.Cancel()
			release()
			t.observeWait(time.Since(start), true)
			return nil, &UnavailableError{Vendor: t.cfg.Vendor, Endpoint: endpoint, Reason: "rate limit reached", Wait: d}
		}
		if d > 0 {
			timer := time.NewTimer(d)
			defer timer.Stop()
			select {
			case <-timer.C:
			case <-ctx.Done():
				r.Cancel()
				release()
				return nil, ctx.Err()
			}
		}
	}
	t.observeWait(time.Since(start), false)
	return release, nil
}

func (t *Transport) observeWait(d time.Duration, throttled bool) {
	if t.cfg.Observer != nil {
		t.cfg.Observer.LimiterWait(t.cfg.Vendor, d, throttled)
	}
}

func (t *Transport) breaker(endpoint string) *breaker {
	t.mu.Lock()
	defer t.mu.Unlock()
	if b, ok := t.breakers[endpoint]; ok {
		return b
	}
	b := &breaker{}
	bc := t.cfg.Breaker
	b.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        t.cfg.Vendor + " " + endpoint,
		MaxRequests: 1,
		Interval:    bc.Window,
		Timeout:     bc.OpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			// A run of failures trips at once: the ratio alone is slow when
			// the window still holds the successes from before an outage.
			return c.ConsecutiveFailures >= bc.MinRequests/2 ||
				c.Requests >= bc.MinRequests && float64(c.TotalFailures)/float64(c.Requests) >= bc.FailureRatio
		},
		OnStateChange: func(_ string, _, to gobreaker.State) {
			// Called with the breaker's own lock held, never ours.
			if to == gobreaker.StateOpen {
				t.mu.Lock()
				b.openedAt = time.Now()
				t.mu.Unlock()
			}
			if t.cfg.Observer != nil {
				t.cfg.Observer.BreakerState(t.cfg.Vendor, endpoint, stateNumber(to))
			}
		},
	})
	t.breakers[endpoint] = b
	if t.cfg.Observer != nil {
		t.cfg.Observer.BreakerState(t.cfg.Vendor, endpoint, 0)
	}
	return b
}

func stateNumber(s gobreaker.State) int {
	switch s {
	case gobreaker.StateHalfOpen:
		return 1
	case gobreaker.StateOpen:
		return 2
	}
	return 0
}

// UnavailableError says a call was not made because the vendor must be
// spared now; the command is retried after Wait.
type UnavailableError struct {
	Vendor, Endpoint, Reason string
	Wait                     time.Duration
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("%s %s: %s; retry in %s", e.Vendor, strings.TrimPrefix(e.Endpoint, "/"), e.Reason, e.Wait.Round(time.Millisecond))
}

// Temporary reports true: the call may go later.
func (e *UnavailableError) Temporary() bool { return true }

// RetryAfter is when the call may go.
func (e *UnavailableError) RetryAfter() time.Duration { return e.Wait }

// Attempted reports false: the vendor was not called, so the runtime does
// not count this against the command's attempts.
func (e *UnavailableError) Attempted() bool { return false }
