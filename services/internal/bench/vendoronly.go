package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/loyaltybus/loyaltybus/adapters/shuyun"
)

// vendorOnly calls the simulator straight from inFlight goroutines, n calls
// in all, with no bus: what the vendor and the HTTP client sustain on this
// machine at that concurrency, the ceiling of any pipeline in front of them.
// A simulated 20 ms answers in more than 20 ms once many calls arrive
// together on two cores.
func vendorOnly(ctx context.Context, inFlight int, latency time.Duration, n int, cap time.Duration) (row, error) {
	url, stop, err := vendor(latency)
	if err != nil {
		return row{}, err
	}
	defer stop()
	client, err := vendorClient(url, inFlight)
	if err != nil {
		return row{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, cap)
	defer cancel()
	runID := uuid.NewString()[:8]
	var next, done atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	rss := sampleRSS()
	cpu0 := cpuTime()
	start := time.Now()
	for range inFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				err := client.FreezePoints(ctx, fmt.Sprintf("%s-%d", runID, i), shuyun.FreezeRequest{
					MemberID: fmt.Sprintf("m%04d", i%1024), MemberType: "shuyun", ChannelType: "POS", Point: 1, Description: "bench"})
				if err != nil {
					if ctx.Err() == nil {
						once.Do(func() { firstErr = err })
					}
					continue
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	peak := rss()
	if firstErr != nil {
		return row{}, fmt.Errorf("vendor call: %w", firstErr)
	}
	r := row{Pipeline: "vendor", Mode: "backlog", InFlight: inFlight, Latency: latency, Commands: int(done.Load()),
		PerSecond: float64(done.Load()) / elapsed.Seconds(), PeakRSSMiB: peak}
	if d := done.Load(); d > 0 {
		r.CPUPerCmd = (cpuTime() - cpu0) / time.Duration(d)
	}
	return r, nil
}
