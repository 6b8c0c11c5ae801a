package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/loyaltybus/loyaltybus/adapters/shuyun/shuyuntest"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
)

// serviceName is the service under test: its process argument and its
// durable consumer (CONTRACT §2: each service's consumer is named after it).
const serviceName = "points"

// EnvOptions shape the system one case runs against.
type EnvOptions struct {
	// Nodes is the number of nats-server processes: 1, or 3 for a cluster.
	Nodes int
	// Topology is provisioned by the harness before any service starts
	// (services run with LOYALTY_PROVISION=false, so a shortened duplicate
	// window stays short).
	Topology bus.Topology
	// Vendor configures the simulator process.
	Vendor VendorOptions
	// ServiceEnv is added to every service's environment, after the
	// defaults (see serviceEnv).
	ServiceEnv []string
}

// Env is one case's system: broker, vendor simulator, service processes, and
// the harness's own connection.
type Env struct {
	Dir    string
	Broker *Broker
	Vendor *Vendor
	NC     *nats.Conn
	JS     jetstream.JetStream
	Log    *slog.Logger

	bins     *Binaries
	opts     EnvOptions
	services []*Process
	started  int
}

// NewEnv starts the broker and the vendor, provisions the streams, and
// connects the harness. Close ends it all.
func NewEnv(ctx context.Context, bins *Binaries, dir string, log *slog.Logger, o EnvOptions) (_ *Env, err error) {
	if o.Nodes <= 0 {
		o.Nodes = 1
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("env dir: %w", err)
	}
	e := &Env{Dir: dir, Log: log, bins: bins, opts: o}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	if e.Broker, err = StartBroker(ctx, bins.NATSServer, dir, o.Nodes); err != nil {
		return nil, err
	}
	if e.Vendor, err = StartVendor(ctx, bins.Loyaltybus, dir, o.Vendor); err != nil {
		return nil, err
	}
	e.NC, err = nats.Connect(e.Broker.URLs(), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond),
		nats.RetryOnFailedConnect(true), nats.Timeout(2*time.Second), nats.Name("chaos-harness"))
	if err != nil {
		return nil, fmt.Errorf("harness connection: %w", err)
	}
	if e.JS, err = jetstream.New(e.NC, jetstream.WithPublishAsyncMaxPending(2*window)); err != nil {
		return nil, fmt.Errorf("harness jetstream: %w", err)
	}
	topo := o.Topology
	topo.Replicas = o.Nodes
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := bus.Provision(pctx, e.JS, topo); err != nil {
		return nil, fmt.Errorf("provision: %w", err)
	}
	return e, nil
}

// serviceEnv is the environment of a points service process. AckWait and
// PinnedTTL are short so that a killed process's commands come back within
// seconds; the vendor client's timeout stays below the ack wait.
func (e *Env) serviceEnv() []string {
	env := []string{
		"LOYALTY_NATS_URL=" + e.Broker.URLs(),
		"LOYALTY_SHUYUN_URL=" + e.Vendor.URL,
		"LOYALTY_SHUYUN_CLIENT_ID=" + shuyuntest.DefaultClientID,
		"LOYALTY_SHUYUN_CLIENT_SECRET=" + shuyuntest.DefaultClientSecret,
		"LOYALTY_PROVISION=false",
		fmt.Sprintf("LOYALTY_STREAM_REPLICAS=%d", e.opts.Nodes),
		"LOYALTY_ACK_WAIT=2s",
		"LOYALTY_PINNED_TTL=3s",
		"LOYALTY_SHUYUN_TIMEOUT=1500ms",
		"LOYALTY_LOG_FORMAT=json",
		"LOYALTY_LOG_LEVEL=info",
	}
	return append(env, e.opts.ServiceEnv...)
}

// StartService starts one more "loyaltybus run points" process.
func (e *Env) StartService(ctx context.Context) (*Process, error) {
	e.started++
	p, err := StartProcess(ctx, ProcSpec{
		Name: fmt.Sprintf("points-%d", e.started), Bin: e.bins.Loyaltybus, Args: []string{"run", serviceName},
		Env: e.serviceEnv(), LogDir: e.Dir,
	})
	if err != nil {
		return nil, err
	}
	e.services = append(e.services, p)
	return p, nil
}

// Services are the service processes started so far, running or not.
func (e *Env) Services() []*Process { return e.services }

// Close stops everything the environment started.
func (e *Env) Close() {
	for _, p := range e.services {
		p.Kill()
	}
	if e.NC != nil {
		e.NC.Close()
	}
	if e.Vendor != nil {
		e.Vendor.Close()
	}
	if e.Broker != nil {
		e.Broker.Close()
	}
}

// ResultCount is the number of messages in LOYALTY_RESULTS, or an error
// while the stream does not answer.
func (e *Env) ResultCount(ctx context.Context) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	s, err := e.JS.Stream(ctx, streamResults)
	if err != nil {
		return 0, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.Msgs, nil
}

// WaitResults waits until LOYALTY_RESULTS holds at least n messages.
func (e *Env) WaitResults(ctx context.Context, n uint64, within time.Duration) error {
	return poll(ctx, within, 20*time.Millisecond, fmt.Sprintf("%d results", n), func() (bool, error) {
		got, err := e.ResultCount(ctx)
		return err == nil && got >= n, nil
	})
}

// ConsumerInfo reads the points service's durable consumer.
func (e *Env) ConsumerInfo(ctx context.Context) (*jetstream.ConsumerInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c, err := e.JS.Consumer(ctx, streamCommands, serviceName)
	if err != nil {
		return nil, err
	}
	return c.Info(ctx)
}

// WaitSettled waits until every one of n published commands has a result
// and the consumer has nothing pending, nothing unacknowledged and nothing
// waiting for redelivery: after that no service can publish anything more.
// It gives up after within; the checker then reports what is missing.
func (e *Env) WaitSettled(ctx context.Context, n int, within time.Duration) error {
	err := poll(ctx, within, 50*time.Millisecond, "settled", func() (bool, error) {
		got, err := e.ResultCount(ctx)
		if err != nil || got < uint64(n) {
			return false, nil
		}
		info, err := e.ConsumerInfo(ctx)
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0 && info.NumRedelivered == 0, nil
	})
	if err != nil {
		got, _ := e.ResultCount(ctx)
		e.Log.Warn("not settled", "results", got, "want", n, "err", err)
	}
	return err
}

// History collects what the case observed: published commands, results,
// dead letters, and the vendor's ledger and call log.
func (e *Env) History(ctx context.Context, name string, cmds []Command) (History, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	h := History{Case: name, Commands: InStreamOrder(cmds)}
	var errs []error
	var err error
	if h.Results, err = ReadResults(ctx, e.JS); err != nil {
		errs = append(errs, err)
	}
	if h.DeadLetters, err = ReadDeadLetters(ctx, e.JS); err != nil {
		errs = append(errs, err)
	}
	if h.Effects, err = e.Vendor.Effects(ctx); err != nil {
		errs = append(errs, err)
	}
	if h.Calls, err = e.Vendor.Calls(ctx, ""); err != nil {
		errs = append(errs, err)
	}
	st, err := e.Vendor.Stats(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	h.InFlightDuplicates = st.Overlaps
	perToken := map[[2]string]int{}
	for _, c := range h.Calls {
		perToken[[2]string{c.Path, c.Token}]++
	}
	repeats := 0
	for _, n := range perToken {
		repeats += n - 1
	}
	h.Notes = append(h.Notes, fmt.Sprintf("vendor calls %d (%d repeats of a token), peak in flight %d", len(h.Calls), repeats, st.PeakInFlight))
	return h, errors.Join(errs...)
}

// CountLog counts the lines of every service log that contain substr, e.g.
// how often the circuit breaker handed a command back.
func (e *Env) CountLog(substr string) int {
	n := 0
	for _, p := range e.services {
		b, err := os.ReadFile(p.Log)
		if err != nil {
			continue
		}
		n += strings.Count(string(b), substr)
	}
	return n
}

// LogRecords calls each with every JSON log record of every service.
func (e *Env) LogRecords(each func(map[string]any)) {
	for _, p := range e.services {
		b, err := os.ReadFile(p.Log)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil {
				each(rec)
			}
		}
	}
}

// ActiveService returns the running service whose log grows while the
// other processes' logs do not: the replica the consumer is pinned to.
func (e *Env) ActiveService(ctx context.Context, within time.Duration) (*Process, error) {
	var active *Process
	sizes := map[*Process]int64{}
	for _, p := range e.services {
		sizes[p] = p.LogSize()
	}
	err := poll(ctx, within, 100*time.Millisecond, "an active replica", func() (bool, error) {
		var grown []*Process
		for _, p := range e.services {
			if p.Running() && p.LogSize() > sizes[p] {
				grown = append(grown, p)
			}
		}
		if len(grown) == 0 {
			return false, nil
		}
		sort.Slice(grown, func(i, j int) bool { return grown[i].LogSize()-sizes[grown[i]] > grown[j].LogSize()-sizes[grown[j]] })
		active = grown[0]
		return true, nil
	})
	return active, err
}
