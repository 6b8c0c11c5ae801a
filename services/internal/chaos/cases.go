package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/loyaltybus/loyaltybus/pkg/bus"
)

// Options size a run of the suite.
type Options struct {
	// N is the number of commands of each case (case 9 uses Burst).
	N int
	// Burst is the number of commands of case 9.
	Burst int
	// Seed seeds every random choice (kill points, vendor faults).
	Seed uint64
	// Kills is how often case 1 kills the service.
	Kills int
	// Settle bounds the wait for the last results of a case.
	Settle time.Duration
}

// withDefaults fills zero options.
func (o Options) withDefaults() Options {
	if o.N <= 0 {
		o.N = 200
	}
	if o.Burst <= 0 {
		o.Burst = 50000
	}
	if o.Kills <= 0 {
		o.Kills = 3
	}
	if o.Settle <= 0 {
		o.Settle = 90 * time.Second
	}
	return o
}

// Runner runs cases with binaries built once.
type Runner struct {
	Bins *Binaries
	// Dir holds one directory per case: node stores and process logs.
	Dir string
	Log *slog.Logger
}

// Case is one scenario of the suite.
type Case struct {
	// ID is the case's number in the issue ("1" … "9"), with a letter for
	// variants.
	ID   string
	Name string
	run  func(ctx context.Context, r *Runner, o Options) (History, error)
}

// Cases lists the suite.
func Cases() []Case {
	return []Case{
		{ID: "1", Name: "service SIGKILL at random points, restarted", run: caseServiceKill("1")},
		{ID: "1b", Name: "as 1 with the defaults' ratio PinnedTTL:AckWait = 1:3 (2s:6s)", run: caseServiceKill("1b", "LOYALTY_ACK_WAIT=6s", "LOYALTY_PINNED_TTL=2s")},
		{ID: "2", Name: "broker restart, SIGKILL and SIGSTOP (same store)", run: caseBroker},
		{ID: "3", Name: "vendor commit-then-drop 20%, then 50% 5xx/429/timeouts, then healthy", run: caseVendorFaults},
		{ID: "3b", Name: "vendor down (all 503) for 5s: breaker opens, probes, closes", run: caseVendorDown},
		{ID: "4", Name: "slow vendor (2x ack wait)", run: caseSlowVendor},
		{ID: "5", Name: "dedup window expiry, vendor without dedup", run: caseDedupExpiry},
		{ID: "6", Name: "same id, different payload (same member)", run: caseConflict(false)},
		{ID: "6b", Name: "same id, different payload and member, racing", run: caseConflict(true)},
		{ID: "7", Name: "three replicas, the active one killed", run: caseReplicas},
		{ID: "8", Name: "3-node cluster R3: leader kill, node pause, quorum loss", run: caseCluster},
		{ID: "9", Name: "burst, vendor limited to 100/s", run: caseBurst},
	}
}

// Run runs c and judges its history. An error means the harness itself
// failed (a process that would not start, a stream that would not answer).
func (r *Runner) Run(ctx context.Context, c Case, o Options) (Row, error) {
	o = o.withDefaults()
	start := time.Now()
	r.Log.Info("case start", "case", c.ID, "name", c.Name)
	h, err := c.run(ctx, r, o)
	h.Case = c.ID + " " + c.Name
	h.Wall = time.Since(start)
	row := Check(h)
	r.Log.Info("case done", "case", c.ID, "wall", h.Wall.Round(time.Millisecond), "ok", row.OK(), "err", err)
	if err != nil {
		return row, fmt.Errorf("case %s: %w", c.ID, err)
	}
	return row, nil
}

// env starts a case's environment in its own directory.
func (r *Runner) env(ctx context.Context, id string, o EnvOptions) (*Env, error) {
	dir := filepath.Join(r.Dir, "case-"+id)
	if err := os.RemoveAll(dir); err != nil { // a fresh store for every run
		return nil, fmt.Errorf("case %s: %w", id, err)
	}
	return NewEnv(ctx, r.Bins, dir, r.Log.With("case", id), o)
}

// background runs fn on a goroutine and returns a wait for its error. The
// caller must call wait before returning.
func background(fn func() error) (wait func() error) {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	var once sync.Once
	var err error
	return func() error {
		once.Do(func() { err = <-done })
		return err
	}
}

// publishPaced publishes msgs in the background, chunk every interval (see
// paced). wait returns the publisher's outcome (for finish); stop cancels it
// and waits, for the deferred clean-up of a case that ends early.
func publishPaced(ctx context.Context, e *Env, msgs []Message, chunk int, every time.Duration) (pub *Publisher, wait func() error, stop func()) {
	pub = NewPublisher(e.JS)
	pctx, cancel := context.WithCancel(ctx)
	wait = background(func() error { return paced(pctx, pub, msgs, chunk, every) })
	return pub, wait, func() { cancel(); _ = wait() }
}

// paced publishes msgs in chunks of chunk, one chunk every every, so the
// faults of a case meet publishing as well as processing.
func paced(ctx context.Context, p *Publisher, msgs []Message, chunk int, every time.Duration) error {
	for start := 0; start < len(msgs); start += chunk {
		if start > 0 {
			hold(ctx, every)
		}
		if err := p.Publish(ctx, msgs[start:min(start+chunk, len(msgs))], time.Minute); err != nil {
			return err
		}
	}
	return nil
}

// progress returns n result counts between lo and hi of total, sorted: the
// random points at which a case strikes.
func progress(rnd *rand.Rand, n, total int, lo, hi float64) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		f := lo + rnd.Float64()*(hi-lo)
		out[i] = uint64(f * float64(total))
	}
	slices.Sort(out)
	return out
}

// finish waits for the publisher and the last results, then collects the
// history.
func finish(ctx context.Context, e *Env, name string, pub *Publisher, waitPub func() error, n int, o Options) (History, error) {
	perr := waitPub()
	serr := e.WaitSettled(ctx, n, o.Settle)
	h, herr := e.History(ctx, name, pub.Published())
	if serr != nil {
		h.Notes = append(h.Notes, "did not settle: "+serr.Error())
	}
	return h, errors.Join(perr, herr)
}

// caseServiceKill: one service, SIGKILLed at random points and restarted at
// once, while a slow-ish vendor keeps commands in flight. env overrides the
// services' settings.
func caseServiceKill(id string, env ...string) func(ctx context.Context, r *Runner, o Options) (History, error) {
	return func(ctx context.Context, r *Runner, o Options) (History, error) {
		return serviceKill(ctx, r, o, id, env)
	}
}

func serviceKill(ctx context.Context, r *Runner, o Options, id string, env []string) (History, error) {
	e, err := r.env(ctx, id, EnvOptions{ServiceEnv: env})
	if err != nil {
		return History{}, err
	}
	defer e.Close()
	if err := e.Vendor.Inject(ctx, Fault{Kind: "chaos", Latency: "20ms", Jitter: "60ms", Seed: o.Seed}); err != nil {
		return History{}, err
	}
	svc, err := e.StartService(ctx)
	if err != nil {
		return History{}, err
	}
	msgs, err := NewWorkload("k"+id, max(4, o.N/20)).Next(o.N)
	if err != nil {
		return History{}, err
	}
	pub, waitPub, stopPub := publishPaced(ctx, e, msgs, max(1, o.N/10), 100*time.Millisecond)
	defer stopPub()
	rnd := rand.New(rand.NewPCG(o.Seed, 1))
	for i, at := range progress(rnd, o.Kills, o.N, 0.05, 0.9) {
		if err := e.WaitResults(ctx, at, o.Settle); err != nil {
			return History{}, err
		}
		svc.Kill()
		e.Log.Info("killed service", "kill", i+1, "results", at)
		if svc, err = e.StartService(ctx); err != nil {
			return History{}, err
		}
	}
	h, err := finish(ctx, e, id, pub, waitPub, len(msgs), o)
	h.Notes = append(h.Notes, fmt.Sprintf("%d SIGKILLs, each followed by a restart; service settings %v", o.Kills, env))
	return h, err
}

// caseBroker: a single nats-server restarted gracefully, then SIGKILLed
// and restarted on the same store, then SIGSTOPped for three seconds.
func caseBroker(ctx context.Context, r *Runner, o Options) (History, error) {
	e, err := r.env(ctx, "2", EnvOptions{})
	if err != nil {
		return History{}, err
	}
	defer e.Close()
	if err := e.Vendor.Inject(ctx, Fault{Kind: "chaos", Latency: "20ms", Jitter: "60ms", Seed: o.Seed}); err != nil {
		return History{}, err
	}
	if _, err := e.StartService(ctx); err != nil {
		return History{}, err
	}
	msgs, err := NewWorkload("k2", max(4, o.N/20)).Next(o.N)
	if err != nil {
		return History{}, err
	}
	pub, waitPub, stopPub := publishPaced(ctx, e, msgs, max(1, o.N/20), 150*time.Millisecond)
	defer stopPub()
	node := e.Broker.Nodes[0]
	faults := []struct {
		name string
		do   func() error
	}{
		{"graceful restart", func() error { node.Proc().Stop(10 * time.Second); return node.Start(ctx) }},
		{"SIGKILL and restart", func() error { node.Proc().Kill(); return node.Start(ctx) }},
		{"SIGSTOP for 3s", func() error {
			if err := node.Proc().Pause(); err != nil {
				return err
			}
			hold(ctx, 3*time.Second) // the fault itself
			return node.Proc().Resume()
		}},
	}
	for i, f := range faults {
		at := uint64((i + 1) * o.N / (len(faults) + 2))
		if err := e.WaitResults(ctx, at, o.Settle); err != nil {
			return History{}, err
		}
		e.Log.Info("broker fault", "fault", f.name, "results", at)
		if err := f.do(); err != nil {
			return History{}, fmt.Errorf("%s: %w", f.name, err)
		}
		if err := e.Broker.WaitReady(ctx, 30*time.Second); err != nil {
			return History{}, fmt.Errorf("after %s: %w", f.name, err)
		}
	}
	h, err := finish(ctx, e, "2", pub, waitPub, len(msgs), o)
	h.Notes = append(h.Notes, "broker: graceful restart, SIGKILL+restart, SIGSTOP 3s")
	return h, err
}

// Limits of the vendor in case 3: the service's limiter and concurrency cap.
const (
	case3Rate  = 50
	case3Burst = 10
)

// caseVendorFaults: 20% of vendor calls commit and drop the connection;
// then for five seconds half the calls fail (5xx, 429 with Retry-After, or
// time out); then the vendor is healthy. The limiter must hold the rate, the
// breaker must open and close by itself, and nothing may be lost or doubled.
func caseVendorFaults(ctx context.Context, r *Runner, o Options) (History, error) {
	e, msgs, err := r.startCase(ctx, "3", EnvOptions{ServiceEnv: []string{
		fmt.Sprintf("LOYALTY_SHUYUN_RATE=%d", case3Rate), fmt.Sprintf("LOYALTY_SHUYUN_BURST=%d", case3Burst),
		"LOYALTY_SHUYUN_MAX_CONCURRENT=16", "LOYALTY_SHUYUN_BREAKER_OPEN_FOR=1s", "LOYALTY_SHUYUN_TIMEOUT=1s",
	}}, "k3", max(4, o.N/10), o.N)
	if err != nil {
		return History{}, err
	}
	defer e.Close()
	pub := NewPublisher(e.JS)
	half := len(msgs) / 2
	if err := e.Vendor.Inject(ctx, Fault{Kind: "chaos", DropShare: 0.2, Seed: o.Seed}); err != nil {
		return History{}, err
	}
	if err := pub.Publish(ctx, msgs[:half], time.Minute); err != nil {
		return History{}, err
	}
	if err := e.WaitResults(ctx, uint64(half/2), o.Settle); err != nil {
		return History{}, err
	}
	unhealthy := Fault{Kind: "chaos", FailShare: 0.4, TimeoutShare: 0.1, TimeoutAfter: "5s", Seed: o.Seed + 1}
	if err := e.Vendor.Inject(ctx, unhealthy); err != nil {
		return History{}, err
	}
	before, err := e.Vendor.Stats(ctx)
	if err != nil {
		return History{}, err
	}
	from := time.Now()
	if err := pub.Publish(ctx, msgs[half:], time.Minute); err != nil {
		return History{}, err
	}
	hold(ctx, 5*time.Second) // the vendor is unhealthy for this long
	after, err := e.Vendor.Stats(ctx)
	if err != nil {
		return History{}, err
	}
	unhealthyFor := time.Since(from)
	if err := e.Vendor.Inject(ctx, Fault{Kind: "clear-chaos"}); err != nil {
		return History{}, err
	}
	h, err := finish(ctx, e, "3", pub, func() error { return nil }, len(msgs), o)
	h.RateLimit = case3Rate + case3Burst
	h.Notes = append(h.Notes, fmt.Sprintf("hand-backs without a vendor call: breaker open %d, rate limit %d, concurrency limit %d",
		e.CountLog("circuit breaker open"), e.CountLog("rate limit reached"), e.CountLog("concurrency limit reached")))
	// A 429 says Retry-After: 1s; its retry must not come sooner.
	retries429, early := 0, 0
	e.LogRecords(func(rec map[string]any) {
		msg, _ := rec["err"].(string)
		in, ok := rec["retry_in"].(float64)
		if rec["outcome"] != "retry" || !ok || !strings.Contains(msg, "http 429") {
			return
		}
		retries429++
		if time.Duration(in) < time.Second {
			early++
		}
	})
	h.Bounds = append(h.Bounds, Bound{What: "retries of a 429 scheduled sooner than its Retry-After (1s)", Got: early, Max: 0})
	h.Notes = append(h.Notes, fmt.Sprintf("429 answers retried: %d, none sooner than Retry-After: %v", retries429, early == 0))
	peak, _ := peakRate(h.Calls, time.Second)
	h.Notes = append(h.Notes,
		fmt.Sprintf("while unhealthy (%s): %d vendor requests, %.1f/s; peak %d requests in any second (limit %d/s + burst %d)",
			unhealthyFor.Round(100*time.Millisecond), after.Requests-before.Requests,
			float64(after.Requests-before.Requests)/unhealthyFor.Seconds(), peak, case3Rate, case3Burst))
	return h, err
}

// caseVendorDown: the vendor answers every call with 503 for five seconds,
// then is healthy. The breaker must open after a few failures, let one probe
// through per open period, keep the commands waiting by redelivery (not fail
// them), and close by itself once a probe succeeds.
func caseVendorDown(ctx context.Context, r *Runner, o Options) (History, error) {
	const openFor, minRequests, maxConcurrent = time.Second, 10, 16
	e, msgs, err := r.startCase(ctx, "3b", EnvOptions{ServiceEnv: []string{
		fmt.Sprintf("LOYALTY_SHUYUN_RATE=%d", case3Rate), fmt.Sprintf("LOYALTY_SHUYUN_BURST=%d", case3Burst),
		fmt.Sprintf("LOYALTY_SHUYUN_MAX_CONCURRENT=%d", maxConcurrent), "LOYALTY_SHUYUN_BREAKER_OPEN_FOR=" + openFor.String(),
	}}, "k3b", max(4, o.N/10), o.N)
	if err != nil {
		return History{}, err
	}
	defer e.Close()
	pub := NewPublisher(e.JS)
	half := len(msgs) / 2
	if err := pub.Publish(ctx, msgs[:half], time.Minute); err != nil {
		return History{}, err
	}
	if err := e.WaitResults(ctx, uint64(half/2), o.Settle); err != nil {
		return History{}, err
	}
	if err := e.Vendor.Inject(ctx, Fault{Kind: "chaos", FailShare: 1, FailStatuses: []int{503}, Seed: o.Seed}); err != nil {
		return History{}, err
	}
	before, err := e.Vendor.Stats(ctx)
	if err != nil {
		return History{}, err
	}
	from := time.Now()
	if err := pub.Publish(ctx, msgs[half:], time.Minute); err != nil {
		return History{}, err
	}
	hold(ctx, 5*time.Second) // the outage
	after, err := e.Vendor.Stats(ctx)
	if err != nil {
		return History{}, err
	}
	down := time.Since(from)
	if err := e.Vendor.Inject(ctx, Fault{Kind: "clear-chaos"}); err != nil {
		return History{}, err
	}
	h, err := finish(ctx, e, "3b", pub, func() error { return nil }, len(msgs), o)
	during := after.Requests - before.Requests
	// Each endpoint's breaker (four points endpoints) should trip after
	// about minRequests failures, then let one probe through per open
	// period; the calls already in flight come on top.
	const endpoints = 4
	ceiling := endpoints*(minRequests+int(down/openFor)+1) + maxConcurrent
	h.Bounds = append(h.Bounds, Bound{What: "vendor requests during the outage", Got: during, Max: ceiling})
	h.Notes = append(h.Notes,
		fmt.Sprintf("outage %s: %d vendor requests (%.1f/s; without the breaker the limiter allows %d/s), ceiling %d",
			down.Round(100*time.Millisecond), during, float64(during)/down.Seconds(), case3Rate, ceiling),
		fmt.Sprintf("hand-backs without a vendor call: breaker open %d, rate limit %d, concurrency limit %d",
			e.CountLog("circuit breaker open"), e.CountLog("rate limit reached"), e.CountLog("concurrency limit reached")))
	return h, err
}

// caseSlowVendor: every vendor call takes twice the ack wait. In-progress
// heartbeats must keep each message alive, so no second call of a token
// starts while the first runs.
func caseSlowVendor(ctx context.Context, r *Runner, o Options) (History, error) {
	e, err := r.env(ctx, "4", EnvOptions{ServiceEnv: []string{"LOYALTY_ACK_WAIT=2s", "LOYALTY_SHUYUN_TIMEOUT=10s"}})
	if err != nil {
		return History{}, err
	}
	defer e.Close()
	if err := e.Vendor.Inject(ctx, Fault{Kind: "delay", Delay: "4s"}); err != nil {
		return History{}, err
	}
	if _, err := e.StartService(ctx); err != nil {
		return History{}, err
	}
	n := min(o.N, 256)
	msgs, err := NewWorkload("k4", max(4, n/2)).Next(n)
	if err != nil {
		return History{}, err
	}
	pub := NewPublisher(e.JS)
	if err := pub.Publish(ctx, msgs, time.Minute); err != nil {
		return History{}, err
	}
	h, err := finish(ctx, e, "4", pub, func() error { return nil }, len(msgs), o)
	h.Notes = append(h.Notes, "vendor latency 4s, ack wait 2s")
	return h, err
}

// caseDedupExpiry: every command is published twice, the second time after
// the commands stream's duplicate window expired, against a vendor that
// applies a repeated token again. The idempotency record must answer.
func caseDedupExpiry(ctx context.Context, r *Runner, o Options) (History, error) {
	e, msgs, err := r.startCase(ctx, "5", EnvOptions{
		Topology: bus.Topology{DuplicatesWindow: time.Second},
		Vendor:   VendorOptions{NoDedup: true},
	}, "k5", max(4, o.N/10), o.N)
	if err != nil {
		return History{}, err
	}
	defer e.Close()
	pub := NewPublisher(e.JS)
	if err := pub.Publish(ctx, msgs, time.Minute); err != nil {
		return History{}, err
	}
	if err := e.WaitSettled(ctx, len(msgs), o.Settle); err != nil {
		return History{}, err
	}
	// Publish every command again once the stream has forgotten its id: a
	// publish the stream still calls a duplicate is retried a little later.
	pending := msgs
	if err := poll(ctx, 30*time.Second, 200*time.Millisecond, "every command published again after the window", func() (bool, error) {
		var still []Message
		for _, m := range pending {
			ack, err := e.JS.PublishMsg(ctx, copyMsg(m.Msg))
			if err != nil || ack.Duplicate {
				still = append(still, m)
			}
		}
		pending = still
		return len(pending) == 0, nil
	}); err != nil {
		return History{}, err
	}
	var stored uint64
	if s, err := e.JS.Stream(ctx, streamCommands); err == nil {
		if info, err := s.Info(ctx); err == nil {
			stored = info.State.Msgs
		}
	}
	h, err := finish(ctx, e, "5", pub, func() error { return nil }, len(msgs), o)
	h.Notes = append(h.Notes, fmt.Sprintf("commands stream holds %d messages for %d ids (each published again after the window)", stored, len(msgs)))
	return h, err
}

// caseConflict publishes every other command a second time right after the
// first, with the same id and another payload (another number of points or
// description; with otherMember, another member too, so that the copy runs
// on another partition key, in parallel with the original). The first must
// stand alone: one effect, one result, a conflict copy in the DLQ.
func caseConflict(otherMember bool) func(ctx context.Context, r *Runner, o Options) (History, error) {
	id := "6"
	if otherMember {
		id = "6b"
	}
	return func(ctx context.Context, r *Runner, o Options) (History, error) {
		e, msgs, err := r.startCase(ctx, id, EnvOptions{Vendor: VendorOptions{NoDedup: true}}, "k"+id, max(4, o.N/10), o.N)
		if err != nil {
			return History{}, err
		}
		defer e.Close()
		var all []Message
		conflicts := 0
		for i, m := range msgs {
			all = append(all, m)
			if i%2 == 1 {
				continue
			}
			c, err := conflicting(m, otherMember)
			if err != nil {
				return History{}, err
			}
			all = append(all, c)
			conflicts++
		}
		pub := NewPublisher(e.JS)
		if err := pub.Publish(ctx, all, time.Minute); err != nil {
			return History{}, err
		}
		h, err := finish(ctx, e, id, pub, func() error { return nil }, len(msgs), o)
		h.Conflicts = conflicts
		h.Racing = otherMember
		h.Notes = append(h.Notes, fmt.Sprintf("%d ids published again with another payload", conflicts))
		return h, err
	}
}

// conflicting returns m's command with the same id and another payload,
// published under another Nats-Msg-Id so that the stream keeps it. The
// harness does not count it as a command of its own.
func conflicting(m Message, otherMember bool) (Message, error) {
	var data map[string]any
	if err := jsonUnmarshal(m.Msg.Data, &data); err != nil {
		return Message{}, err
	}
	if p, ok := data["points"].(float64); ok {
		data["points"] = p + 100
	} else {
		data["description"] = "conflicting copy"
	}
	if otherMember {
		data["memberId"] = fmt.Sprint(data["memberId"]) + "x"
	}
	msg, err := commandMsg(m.Msg.Subject, m.Msg.Header.Get("ce-type"), m.Command.ID, data)
	if err != nil {
		return Message{}, err
	}
	msg.Header.Set("Nats-Msg-Id", m.Command.ID+"-conflict")
	c := m.Command
	c.ID = "" // not a command of its own: Published skips it
	return Message{Command: c, Msg: msg}, nil
}

// caseReplicas: three service processes share the consumer; the one it is
// pinned to is SIGKILLed mid-run. A standby takes over; each member's
// commands must still reach the vendor in publish order.
func caseReplicas(ctx context.Context, r *Runner, o Options) (History, error) {
	start := time.Now()
	e, err := r.env(ctx, "7", EnvOptions{})
	if err != nil {
		return History{}, err
	}
	defer e.Close()
	if err := e.Vendor.Inject(ctx, Fault{Kind: "chaos", Latency: "10ms", Jitter: "40ms", Seed: o.Seed}); err != nil {
		return History{}, err
	}
	for range 3 {
		if _, err := e.StartService(ctx); err != nil {
			return History{}, err
		}
	}
	msgs, err := NewWorkload("k7", max(4, o.N/20)).Next(o.N)
	if err != nil {
		return History{}, err
	}
	pub, waitPub, stopPub := publishPaced(ctx, e, msgs, max(1, o.N/20), 100*time.Millisecond)
	defer stopPub()
	if err := e.WaitResults(ctx, uint64(o.N/3), o.Settle); err != nil {
		return History{}, err
	}
	active, err := e.ActiveService(ctx, 10*time.Second)
	if err != nil {
		return History{}, err
	}
	killedAt := time.Now()
	active.Kill()
	e.Log.Info("killed the active replica", "name", active.Name)
	h, err := finish(ctx, e, "7", pub, waitPub, len(msgs), o)
	var working []string
	for _, p := range e.Services() {
		if p.Running() && p.LogSize() > 0 {
			working = append(working, p.Name)
		}
	}
	h.Notes = append(h.Notes, fmt.Sprintf("killed %s (the pinned replica) %s into the run; standbys %v", active.Name, killedAt.Sub(start).Round(time.Millisecond), working))
	return h, err
}

// jsonUnmarshal is json.Unmarshal with the error wrapped.
func jsonUnmarshal(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode command data: %w", err)
	}
	return nil
}

// streamLeader names the node leading stream.
func streamLeader(ctx context.Context, js jetstream.JetStream, stream string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return "", err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return "", err
	}
	if info.Cluster == nil || info.Cluster.Leader == "" {
		return "", fmt.Errorf("stream %s has no leader", stream)
	}
	return info.Cluster.Leader, nil
}

// startCase sets up the usual case: an environment with the service running
// and n commands of a fresh workload over the given number of members. The
// caller closes the environment.
func (r *Runner) startCase(ctx context.Context, id string, opts EnvOptions, prefix string, members, n int) (*Env, []Message, error) {
	e, err := r.env(ctx, id, opts)
	if err != nil {
		return nil, nil, err
	}
	if _, err := e.StartService(ctx); err != nil {
		e.Close()
		return nil, nil, err
	}
	msgs, err := NewWorkload(prefix, members).Next(n)
	if err != nil {
		e.Close()
		return nil, nil, err
	}
	return e, msgs, nil
}
