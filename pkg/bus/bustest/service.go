package bustest

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/pkg/bus"
)

// Start runs a service with routes on its own connection to url, and returns
// once it consumes. stop ends it (as SIGTERM would) and waits; it also runs
// when the test ends. Stopping cancels handlers still running after
// cfg.ShutdownTimeout, which is how a test simulates a crash mid-call.
func Start(t testing.TB, url string, cfg bus.Config, routes ...bus.Route) (stop func()) {
	t.Helper()
	_, js := Connect(t, url)
	svc, err := bus.New(js, cfg)
	require.NoError(t, err)
	for _, r := range routes {
		require.NoError(t, svc.Handle(r))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	select {
	case <-svc.Ready():
	case err := <-done:
		cancel()
		t.Fatalf("service %s stopped before consuming: %v", cfg.Name, err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("service %s: %v", cfg.Name, err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}
