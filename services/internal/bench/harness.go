package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/loyaltybus/loyaltybus/adapters/shuyun"
	"github.com/loyaltybus/loyaltybus/adapters/shuyun/shuyuntest"
	eventspoints "github.com/loyaltybus/loyaltybus/events/points"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/pkg/natsembed"
	"github.com/loyaltybus/loyaltybus/services/points"
)

// harness holds the embedded server shared by every run.
type harness struct {
	dir string
	ns  *natsembed.Server
	nc  *nats.Conn
	js  jetstream.JetStream
}

func newHarness(ctx context.Context) (*harness, error) {
	dir, err := os.MkdirTemp("", "loyaltybus-bench-")
	if err != nil {
		return nil, err
	}
	ns, err := natsembed.Start(natsembed.Config{StoreDir: dir})
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		return nil, err
	}
	if err := bus.Provision(ctx, js, bus.Topology{}); err != nil {
		return nil, err
	}
	return &harness{dir: dir, ns: ns, nc: nc, js: js}, nil
}

func (h *harness) close() {
	h.nc.Close()
	h.ns.Shutdown()
	_ = os.RemoveAll(h.dir)
}

// vendor starts a fresh Shuyun simulator answering after latency.
func vendor(latency time.Duration) (url string, stop func(), err error) {
	// The bench never reads the call journal; keeping it would grow its heap.
	sim := shuyuntest.NewSimulator(shuyuntest.Options{DefaultBalance: 1 << 40, MaxCalls: 1})
	if latency > 0 {
		sim.Delay(latency)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: sim}
	go func() { _ = srv.Serve(l) }()
	return "http://" + l.Addr().String(), func() { _ = srv.Close() }, nil
}

// vendorClient is a Shuyun client of the simulator at url. Its HTTP client
// keeps a connection per in-flight call: Go's default of two idle connections
// per host would measure connection set-up instead.
func vendorClient(url string, inFlight int) (*shuyun.Client, error) {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: inFlight + 16, MaxIdleConns: inFlight + 16}}
	return shuyun.New(shuyun.Config{BaseURL: url, ClientID: shuyuntest.DefaultClientID, ClientSecret: shuyuntest.DefaultClientSecret, HTTPClient: hc})
}

// reset recreates the streams and buckets so each run starts alike. A purge
// would not do: a stream keeps the ids of its duplicate window (10 minutes
// on LOYALTY_COMMANDS) in memory, and earlier runs' ids would grow the heap
// whose garbage collection every later run pays for.
func (h *harness) reset(ctx context.Context) error {
	for _, name := range []string{"LOYALTY_COMMANDS", "LOYALTY_RESULTS", "LOYALTY_EVENTS", "LOYALTY_DLQ", "KV_" + bus.IdempotencyBucket, "KV_" + bus.MemoBucket} {
		if err := h.js.DeleteStream(ctx, name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return err
		}
	}
	return bus.Provision(ctx, h.js, bus.Topology{})
}

// command builds one points.freeze command; members spread the partition keys.
func command(i int, runID string) (*nats.Msg, string, error) {
	id := fmt.Sprintf("%s-%d", runID, i)
	data, _ := json.Marshal(eventspoints.Freeze{MemberID: fmt.Sprintf("m%04d", i%1024), MemberType: "shuyun", ChannelType: "POS", Points: 1})
	m := nats.NewMsg(eventspoints.SubjectFreeze)
	m.Header.Set("ce-specversion", "1.0")
	m.Header.Set("ce-id", id)
	m.Header.Set("ce-source", "bench")
	m.Header.Set("ce-type", eventspoints.TypeFreeze)
	m.Header.Set("Content-Type", "application/json")
	m.Header.Set(nats.MsgIdHdr, id)
	m.Data = data
	return m, id, nil
}

// results counts result events as they are published (a core subscription
// sees every JetStream publish) and records when each command's arrived.
type results struct {
	sub  *nats.Subscription
	n    atomic.Int64
	mu   sync.Mutex
	at   map[string]time.Time
	done chan struct{}
	want int64
}

func (h *harness) watchResults(want int) (*results, error) {
	r := &results{at: make(map[string]time.Time, want), done: make(chan struct{}), want: int64(want)}
	sub, err := h.nc.Subscribe("loyalty.result.points.freeze", func(m *nats.Msg) {
		now := time.Now()
		id := m.Header.Get("ce-causationid")
		r.mu.Lock()
		if _, seen := r.at[id]; !seen {
			r.at[id] = now
			if r.n.Add(1) == r.want {
				close(r.done)
			}
		}
		r.mu.Unlock()
	})
	if err != nil {
		return nil, err
	}
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		return nil, err
	}
	r.sub = sub
	return r, h.nc.Flush()
}

// start runs a pipeline until the returned stop is called.
func (h *harness) start(ctx context.Context, pipeline string, inFlight int, vendorURL string) (stop func(), err error) {
	client, err := vendorClient(vendorURL, inFlight)
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(h.ns.ClientURL())
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	switch pipeline {
	case "loyaltybus":
		svc, err := bus.New(js, bus.Config{Name: points.Name, Concurrency: inFlight, SkipProvision: true})
		if err != nil {
			cancel()
			return nil, err
		}
		for _, r := range points.New(client).Routes() {
			if err := svc.Handle(r); err != nil {
				cancel()
				return nil, err
			}
		}
		go func() { done <- svc.Run(ctx) }()
		select {
		case <-svc.Ready():
		case err := <-done:
			cancel()
			return nil, err
		}
	case "floor":
		go func() { done <- floor(ctx, js, client, inFlight) }()
	default:
		cancel()
		return nil, fmt.Errorf("unknown pipeline %q", pipeline)
	}
	return func() {
		cancel()
		<-done
		nc.Close()
	}, nil
}

func (h *harness) publishAll(ctx context.Context, msgs []*nats.Msg) error {
	for _, m := range msgs {
		if _, err := h.js.PublishMsgAsync(m); err != nil {
			return err
		}
	}
	select {
	case <-h.js.PublishAsyncComplete():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// backlog publishes n commands, then starts the pipeline and measures how
// fast it works the backlog off.
func (h *harness) backlog(ctx context.Context, pipeline string, inFlight int, latency time.Duration, n int, cap time.Duration) (row, error) {
	if err := h.reset(ctx); err != nil {
		return row{}, err
	}
	url, stopVendor, err := vendor(latency)
	if err != nil {
		return row{}, err
	}
	defer stopVendor()
	runID := uuid.NewString()[:8]
	msgs := make([]*nats.Msg, n)
	for i := range msgs {
		msgs[i], _, _ = command(i, runID)
	}
	if err := h.publishAll(ctx, msgs); err != nil {
		return row{}, err
	}
	res, err := h.watchResults(n)
	if err != nil {
		return row{}, err
	}
	defer res.sub.Unsubscribe()
	rss := sampleRSS()
	cpu0 := cpuTime()
	start := time.Now()
	stop, err := h.start(ctx, pipeline, inFlight, url)
	if err != nil {
		return row{}, err
	}
	select {
	case <-res.done:
	case <-time.After(cap):
	case <-ctx.Done():
	}
	elapsed := time.Since(start)
	done := int(res.n.Load())
	cpu := cpuTime() - cpu0
	stop()
	peak := rss()
	r := row{Pipeline: pipeline, Mode: "backlog", InFlight: inFlight, Latency: latency, Commands: done,
		PerSecond: float64(done) / elapsed.Seconds(), PeakRSSMiB: peak}
	if done > 0 {
		r.CPUPerCmd = cpu / time.Duration(done)
	}
	return r, ctx.Err()
}

// openLoop publishes at a fixed rate and measures command → result latency.
func (h *harness) openLoop(ctx context.Context, pipeline string, inFlight int, latency time.Duration, rate float64, length time.Duration) (row, error) {
	if err := h.reset(ctx); err != nil {
		return row{}, err
	}
	url, stopVendor, err := vendor(latency)
	if err != nil {
		return row{}, err
	}
	defer stopVendor()
	total := int(rate * length.Seconds())
	if total < 1 {
		total = 1
	}
	res, err := h.watchResults(total)
	if err != nil {
		return row{}, err
	}
	defer res.sub.Unsubscribe()
	stop, err := h.start(ctx, pipeline, inFlight, url)
	if err != nil {
		return row{}, err
	}
	defer stop()
	runID := uuid.NewString()[:8]
	sent := make(map[string]time.Time, total)
	rss := sampleRSS()
	cpu0 := cpuTime()
	begin := time.Now()
	ticker := time.NewTicker(time.Millisecond)
	defer ticker.Stop()
	for i := 0; i < total; {
		due := int(time.Since(begin).Seconds()*rate) + 1
		for ; i < due && i < total; i++ {
			m, id, _ := command(i, runID)
			sent[id] = time.Now()
			if _, err := h.js.PublishMsgAsync(m); err != nil {
				return row{}, err
			}
		}
		select {
		case <-ticker.C:
		case <-ctx.Done():
			return row{}, ctx.Err()
		}
	}
	select {
	case <-res.done:
	case <-time.After(length + 30*time.Second):
	}
	cpu := cpuTime() - cpu0
	res.mu.Lock()
	lat := make([]time.Duration, 0, len(res.at))
	for id, at := range res.at {
		if s, ok := sent[id]; ok {
			lat = append(lat, at.Sub(s))
		}
	}
	res.mu.Unlock()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	r := row{Pipeline: pipeline, Mode: "open-loop", InFlight: inFlight, Latency: latency, Commands: len(lat), Rate: rate,
		PerSecond: float64(len(lat)) / time.Since(begin).Seconds(), PeakRSSMiB: rss()}
	if len(lat) > 0 {
		r.P50, r.P99, r.Max = lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
		r.CPUPerCmd = cpu / time.Duration(len(lat))
	}
	return r, nil
}

// cpuTime is the CPU time of the whole process (server, services, vendor).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sampleRSS samples this process's resident set every 50ms; the returned
// function stops sampling and reports the peak in MiB.
func sampleRSS() func() float64 { return sample(rssMiB) }

// sample calls rss every 50ms until the returned function is called, which
// reports the largest value seen.
func sample(rss func() float64) func() float64 {
	stop := make(chan struct{})
	peak := make(chan float64, 1)
	go func() {
		var max float64
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if v := rss(); v > max {
				max = v
			}
			select {
			case <-stop:
				peak <- max
				return
			case <-t.C:
			}
		}
	}()
	return func() float64 { close(stop); return <-peak }
}

func rssMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	return vmRSS(string(b))
}
