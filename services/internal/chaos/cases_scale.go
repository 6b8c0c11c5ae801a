package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// liveReader watches LOYALTY_RESULTS from the harness's side and records
// when each result became visible: every 50 ms it asks the stream for its
// last sequence, and every sequence up to it is visible from that moment.
// (A stream without quorum answers nothing, so nothing becomes visible.)
type liveReader struct {
	mu    sync.Mutex
	marks []mark
	stop  func()
}

// mark says that sequences up to seq were visible at t.
type mark struct {
	seq uint64
	t   time.Time
}

func startLiveReader(ctx context.Context, e *Env) *liveReader {
	lr := &liveReader{}
	ctx, cancel := context.WithCancel(ctx)
	wait := background(func() error {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		var last uint64
		for {
			ictx, icancel := context.WithTimeout(ctx, time.Second)
			if s, err := e.JS.Stream(ictx, streamResults); err == nil {
				if info, err := s.Info(ictx); err == nil && info.State.LastSeq > last {
					last = info.State.LastSeq
					lr.mu.Lock()
					lr.marks = append(lr.marks, mark{seq: last, t: time.Now()})
					lr.mu.Unlock()
				}
			}
			icancel()
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
		}
	})
	lr.stop = func() { cancel(); _ = wait() }
	return lr
}

// visible returns when the result at seq was first seen.
func (lr *liveReader) visible(seq uint64) (time.Time, bool) {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	for _, m := range lr.marks {
		if m.seq >= seq {
			return m.t, true
		}
	}
	return time.Time{}, false
}

// caseCluster: a three-node JetStream cluster with R3 streams. The commands
// stream's leader is SIGKILLed and restarted, a node is paused for three
// seconds, then two nodes are SIGKILLed together (no quorum) for four
// seconds and restarted. No result may become visible while quorum is lost.
func caseCluster(ctx context.Context, r *Runner, o Options) (History, error) {
	e, err := r.env(ctx, "8", EnvOptions{Nodes: 3})
	if err != nil {
		return History{}, err
	}
	defer e.Close()
	if err := e.Vendor.Inject(ctx, Fault{Kind: "chaos", Latency: "10ms", Jitter: "40ms", Seed: o.Seed}); err != nil {
		return History{}, err
	}
	live := startLiveReader(ctx, e)
	defer live.stop()
	if _, err := e.StartService(ctx); err != nil {
		return History{}, err
	}
	msgs, err := NewWorkload("k8", max(4, o.N/20)).Next(o.N)
	if err != nil {
		return History{}, err
	}
	pub, waitPub, stopPub := publishPaced(ctx, e, msgs, max(1, o.N/30), 200*time.Millisecond)
	defer stopPub()
	rnd := rand.New(rand.NewPCG(o.Seed, 8))
	var notes []string

	// The commands stream's leader dies and comes back.
	if err := e.WaitResults(ctx, uint64(o.N/5), o.Settle); err != nil {
		return History{}, err
	}
	leader, err := waitLeader(ctx, e, streamCommands)
	if err != nil {
		return History{}, err
	}
	ln, err := e.Broker.Node(leader)
	if err != nil {
		return History{}, err
	}
	ln.Proc().Kill()
	hold(ctx, 2*time.Second) // the leader stays dead this long
	if err := ln.Start(ctx); err != nil {
		return History{}, err
	}
	if err := waitHealthy(ctx, e); err != nil {
		return History{}, err
	}
	notes = append(notes, "killed "+streamCommands+" leader "+leader)

	// A node freezes.
	if err := e.WaitResults(ctx, uint64(2*o.N/5), o.Settle); err != nil {
		return History{}, err
	}
	paused := e.Broker.Nodes[rnd.IntN(len(e.Broker.Nodes))]
	if err := paused.Proc().Pause(); err != nil {
		return History{}, err
	}
	hold(ctx, 3*time.Second) // the pause itself
	if err := paused.Proc().Resume(); err != nil {
		return History{}, err
	}
	if err := waitHealthy(ctx, e); err != nil {
		return History{}, err
	}
	notes = append(notes, "paused "+paused.Name+" for 3s")

	// Two of three nodes go: no quorum.
	if err := e.WaitResults(ctx, uint64(3*o.N/5), o.Settle); err != nil {
		return History{}, err
	}
	keep := rnd.IntN(len(e.Broker.Nodes))
	var down []*Node
	for i, n := range e.Broker.Nodes {
		if i != keep {
			down = append(down, n)
		}
	}
	before, _ := e.ResultCount(ctx)
	for _, n := range down {
		n.Proc().Kill()
	}
	lost := time.Now()
	hold(ctx, 4*time.Second) // quorum stays lost this long
	restored := time.Now()
	for _, n := range down {
		if err := n.Start(ctx); err != nil {
			return History{}, err
		}
	}
	if err := waitHealthy(ctx, e); err != nil {
		return History{}, err
	}
	// Results proposed just before the loss may still become visible in its
	// first second; after that nothing may.
	quiet := Window{From: lost.Add(time.Second), To: restored}
	notes = append(notes, fmt.Sprintf("quorum lost for %s (kept %s); %d results before",
		restored.Sub(lost).Round(100*time.Millisecond), e.Broker.Nodes[keep].Name, before))

	h, err := finish(ctx, e, "8", pub, waitPub, len(msgs), o)
	live.stop()
	h.Quiet = []Window{quiet}
	inWindow, unseen := 0, 0
	for i := range h.Results {
		t, ok := live.visible(h.Results[i].Seq)
		if !ok {
			unseen++
			continue
		}
		h.Results[i].Stored = t // when a subscriber could see it
		if t.After(quiet.From) && t.Before(quiet.To) {
			inWindow++
		}
	}
	h.Notes = append(h.Notes, notes...)
	h.Notes = append(h.Notes, fmt.Sprintf("live reader (stream state every 50ms): %d results visible during quorum loss, %d not seen live (judged by stream time)", inWindow, unseen))
	return h, err
}

// waitLeader waits until stream has a leader and names it.
func waitLeader(ctx context.Context, e *Env, stream string) (string, error) {
	var leader string
	err := poll(ctx, 30*time.Second, 100*time.Millisecond, stream+" leader", func() (bool, error) {
		l, err := streamLeader(ctx, e.JS, stream)
		leader = l
		return err == nil, nil
	})
	return leader, err
}

// waitHealthy waits until every stream has a leader and all its replicas are
// current.
func waitHealthy(ctx context.Context, e *Env) error {
	if err := e.Broker.WaitReady(ctx, 30*time.Second); err != nil {
		return err
	}
	return poll(ctx, 60*time.Second, 100*time.Millisecond, "streams healthy", func() (bool, error) {
		for _, name := range []string{streamCommands, streamResults, "LOYALTY_EVENTS", streamDLQ, "KV_LOYALTY_IDEMPOTENCY"} {
			ictx, cancel := context.WithTimeout(ctx, 2*time.Second)
			s, err := e.JS.Stream(ictx, name)
			if err != nil {
				cancel()
				return false, nil
			}
			info, err := s.Info(ictx)
			cancel()
			if err != nil || info.Cluster == nil || info.Cluster.Leader == "" {
				return false, nil
			}
			for _, p := range info.Cluster.Replicas {
				if !p.Current || p.Offline {
					return false, nil
				}
			}
		}
		return true, nil
	})
}

// Limits of the vendor in case 9: the gateway answers 429 above burstVendor
// requests a second; the service's limiter keeps below it.
const (
	burstVendor = 100
	burstRate   = 90
	burstBurst  = 10
)

// caseBurst: a burst of commands against a vendor limited to 100 requests a
// second. In-flight work and memory must stay bounded, the vendor must never
// see more than its limit, and once done nothing may keep being redelivered.
func caseBurst(ctx context.Context, r *Runner, o Options) (History, error) {
	e, err := r.env(ctx, "9", EnvOptions{
		Vendor: VendorOptions{RateLimit: burstVendor},
		ServiceEnv: []string{
			fmt.Sprintf("LOYALTY_SHUYUN_RATE=%d", burstRate), fmt.Sprintf("LOYALTY_SHUYUN_BURST=%d", burstBurst),
			"LOYALTY_LOG_LEVEL=warn",
		},
	})
	if err != nil {
		return History{}, err
	}
	defer e.Close()
	svc, err := e.StartService(ctx)
	if err != nil {
		return History{}, err
	}
	msgs, err := NewWorkload("k9", 1000).Next(o.Burst)
	if err != nil {
		return History{}, err
	}

	// Watch in-flight work while the burst drains.
	var peakAckPending int
	mctx, stopWatch := context.WithCancel(ctx)
	waitWatch := background(func() error {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			if info, err := e.ConsumerInfo(mctx); err == nil {
				peakAckPending = max(peakAckPending, info.NumAckPending)
			}
			select {
			case <-mctx.Done():
				return nil
			case <-t.C:
			}
		}
	})
	defer func() { stopWatch(); _ = waitWatch() }()

	start := time.Now()
	pub := NewPublisher(e.JS)
	if err := pub.Publish(ctx, msgs, 5*time.Minute); err != nil {
		return History{}, err
	}
	published := time.Since(start)
	o.Settle = max(o.Settle, time.Duration(o.Burst/burstRate)*time.Second+2*time.Minute)
	serr := e.WaitSettled(ctx, len(msgs), o.Settle)
	drained := time.Since(start)
	stopWatch()
	_ = waitWatch()

	// Afterwards: no storm. The consumer is idle; count vendor calls over a
	// few quiet seconds.
	st0, err := e.Vendor.Stats(ctx)
	if err != nil {
		return History{}, err
	}
	hold(ctx, 3*time.Second) // the observation window
	st1, err := e.Vendor.Stats(ctx)
	if err != nil {
		return History{}, err
	}
	info, err := e.ConsumerInfo(ctx)
	if err != nil {
		return History{}, err
	}
	rss, rssErr := svc.PeakRSS()
	h, err := e.History(ctx, "9", pub.Published())
	h.RateLimit = burstVendor
	if serr != nil {
		h.Notes = append(h.Notes, "did not settle: "+serr.Error())
	}
	peak, _ := peakRate(h.Calls, time.Second)
	h.Notes = append(h.Notes,
		fmt.Sprintf("published in %s, drained in %s (%.0f commands/s); vendor peak %d requests/s (gateway limit %d)",
			published.Round(100*time.Millisecond), drained.Round(100*time.Millisecond), float64(len(msgs))/drained.Seconds(), peak, burstVendor),
		fmt.Sprintf("in flight: peak ack pending %d, vendor peak in flight %d; deliveries %d for %d commands (%.2f per command)",
			peakAckPending, st1.PeakInFlight, info.Delivered.Consumer, len(msgs), float64(info.Delivered.Consumer)/float64(max(1, len(msgs)))),
		fmt.Sprintf("afterwards: %d vendor requests in 3s, consumer pending %d, ack pending %d, redelivered %d",
			st1.Requests-st0.Requests, info.NumPending, info.NumAckPending, info.NumRedelivered))
	if rssErr == nil {
		h.Notes = append(h.Notes, fmt.Sprintf("service peak RSS %.0f MiB", float64(rss)/(1<<20)))
	}
	h.CallsAfterSettled = st1.Requests - st0.Requests
	return h, err
}
