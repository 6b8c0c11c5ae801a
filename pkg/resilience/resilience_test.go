package resilience_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/pkg/resilience"
)

// flaky answers with the status it is told, and counts the calls it got.
type flaky struct {
	status atomic.Int32
	calls  atomic.Int32
	block  chan struct{}
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	if f.block != nil {
		select {
		case <-f.block:
		case <-r.Context().Done():
		}
	}
	w.WriteHeader(int(f.status.Load()))
}

func get(t *testing.T, c *http.Client, url string) (int, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

type recorder struct {
	mu     sync.Mutex
	states []int
	waits  int
}

func (r *recorder) BreakerState(_, _ string, s int) {
	r.mu.Lock()
	r.states = append(r.states, s)
	r.mu.Unlock()
}
func (r *recorder) LimiterWait(string, time.Duration, bool) {
	r.mu.Lock()
	r.waits++
	r.mu.Unlock()
}

func TestBreakerOpensOnFailuresAndClosesAfterAProbe(t *testing.T) {
	v := &flaky{}
	v.status.Store(http.StatusServiceUnavailable)
	srv := httptest.NewServer(v)
	t.Cleanup(srv.Close)
	obs := &recorder{}
	c := &http.Client{Transport: resilience.New(resilience.Config{Vendor: "acme", Observer: obs,
		Breaker: resilience.BreakerConfig{MinRequests: 4, FailureRatio: 0.5, OpenFor: 50 * time.Millisecond}})}

	// Two failures in a row (half of MinRequests) trip it at once.
	for i := 0; i < 2; i++ {
		status, err := get(t, c, srv.URL+"/op")
		require.NoError(t, err)
		assert.Equal(t, http.StatusServiceUnavailable, status)
	}
	_, err := get(t, c, srv.URL+"/op")
	var unavailable *resilience.UnavailableError
	require.ErrorAs(t, err, &unavailable, "the open circuit refuses without calling the vendor")
	assert.True(t, unavailable.Temporary())
	assert.Positive(t, unavailable.RetryAfter())
	assert.EqualValues(t, 2, v.calls.Load())

	_, err = get(t, c, srv.URL+"/other")
	require.NoError(t, err, "circuits are per endpoint")

	v.status.Store(http.StatusOK)
	require.Eventually(t, func() bool {
		status, err := get(t, c, srv.URL+"/op")
		return err == nil && status == http.StatusOK
	}, 5*time.Second, 10*time.Millisecond, "a successful probe closes the circuit")
	obs.mu.Lock()
	defer obs.mu.Unlock()
	assert.Contains(t, obs.states, 2)
	assert.Equal(t, 0, obs.states[len(obs.states)-1])
}

func TestBusinessRefusalsDoNotTripTheBreaker(t *testing.T) {
	v := &flaky{}
	v.status.Store(http.StatusBadRequest)
	srv := httptest.NewServer(v)
	t.Cleanup(srv.Close)
	c := &http.Client{Transport: resilience.New(resilience.Config{Vendor: "acme", Breaker: resilience.BreakerConfig{MinRequests: 2}})}
	for i := 0; i < 10; i++ {
		_, err := get(t, c, srv.URL+"/op")
		require.NoError(t, err)
	}
	assert.EqualValues(t, 10, v.calls.Load())
}

func TestRateLimitHandsBackLongWaits(t *testing.T) {
	v := &flaky{}
	v.status.Store(http.StatusOK)
	srv := httptest.NewServer(v)
	t.Cleanup(srv.Close)
	c := &http.Client{Transport: resilience.New(resilience.Config{Vendor: "acme", Rate: 1, Burst: 1, MaxWait: 10 * time.Millisecond})}
	_, err := get(t, c, srv.URL+"/op")
	require.NoError(t, err)
	_, err = get(t, c, srv.URL+"/op")
	var unavailable *resilience.UnavailableError
	require.ErrorAs(t, err, &unavailable)
	assert.Greater(t, unavailable.RetryAfter(), 500*time.Millisecond, "the wait for the next token")
	assert.EqualValues(t, 1, v.calls.Load(), "the vendor saw one request")
}

func TestConcurrencyLimit(t *testing.T) {
	v := &flaky{block: make(chan struct{})}
	v.status.Store(http.StatusOK)
	srv := httptest.NewServer(v)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(v.block) })
	c := &http.Client{Transport: resilience.New(resilience.Config{Vendor: "acme", MaxConcurrent: 1, MaxWait: 20 * time.Millisecond})}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/slow", nil)
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	require.Eventually(t, func() bool { return v.calls.Load() == 1 }, 5*time.Second, time.Millisecond)
	_, err := get(t, c, srv.URL+"/op")
	var unavailable *resilience.UnavailableError
	require.True(t, errors.As(err, &unavailable), "got %v", err)
	assert.EqualValues(t, 1, v.calls.Load())
}
