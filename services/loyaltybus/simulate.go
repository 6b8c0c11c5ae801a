package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/loyaltybus/loyaltybus/adapters/shuyun/shuyuntest"
)

// simControlPrefix is the path prefix of the simulator's inspection and
// control endpoints. No vendor path starts with it.
const simControlPrefix = "/_sim/"

// runSimulate serves a vendor simulator as a process of its own, so that a
// test harness can inspect its ledger from outside the service process:
//
//	loyaltybus simulate shuyun --addr 127.0.0.1:0 [--replay-mode no-dedup] [--rate-limit N] [--max-calls N]
//
// It prints the base URL on stdout, then serves until ctx ends. Besides the
// vendor API it answers, under /_sim/:
//
//	GET  /_sim/effects               applied side effects per (op, token), in order of first effect
//	GET  /_sim/calls?path=P&since=N  recorded requests from index N: method, path, token, time
//	                                 (only the latest --max-calls; N counts from the oldest kept)
//	GET  /_sim/stats                 requests, in flight, peak in flight, duplicate in-flight calls
//	GET  /_sim/balance?member=M      available and frozen points
//	POST /_sim/faults                inject a fault, see simFault
func runSimulate(ctx context.Context, args []string, _ func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return usageError("simulate: name the vendor (shuyun)")
	}
	vendor, args := args[0], args[1:]
	if vendor != "shuyun" {
		return usageError("simulate: no process simulator for %q (only shuyun)", vendor)
	}
	fs := flag.NewFlagSet("simulate "+vendor, flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address (loopback by default; port 0: any free port)")
	replay := fs.String("replay-mode", "token", "what a repeated token does: token (answer the first success), error (019004) or no-dedup (apply again)")
	rateLimit := fs.Int("rate-limit", 0, "requests per second the gateway accepts before answering 429 (0: no limit)")
	balance := fs.Int64("balance", 0, "available points of a member not seen before (0: the simulator's default, 1000)")
	prefix := fs.String("path-prefix", "", "path prefix of the vendor API, e.g. /schm-shuyun-crm-papi")
	maxCalls := fs.Int("max-calls", simMaxCalls, "recorded calls kept for /_sim/calls, the most recent (0: every call, memory grows with each)")
	if err := fs.Parse(args); err != nil {
		return usageError("simulate: %w", err)
	}
	opts := shuyuntest.Options{RateLimit: *rateLimit, DefaultBalance: *balance, PathPrefix: *prefix, MaxCalls: *maxCalls}
	switch *replay {
	case "token":
		opts.ReplayMode = shuyuntest.TokenReplay
	case "error":
		opts.ReplayMode = shuyuntest.TokenError
	case "no-dedup":
		opts.ReplayMode = shuyuntest.NoDedup
	default:
		return usageError("simulate: --replay-mode %q: want token, error or no-dedup", *replay)
	}
	sim := shuyuntest.NewSimulator(opts)
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("simulate: listen on %s: %w", *addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle(simControlPrefix, simControl(sim))
	mux.Handle("/", sim)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sim.WrapListener(l)) }()
	fmt.Fprintf(stdout, "http://%s%s\n", l.Addr(), strings.TrimRight(*prefix, "/"))

	select {
	case err := <-served:
		return fmt.Errorf("simulate: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("simulate: serve: %w", err)
	}
	return nil
}

// simCall is a recorded request as /_sim/calls lists it (no headers or body,
// so that tens of thousands of calls stay small).
type simCall struct {
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Token  string    `json:"token,omitempty"`
	Time   time.Time `json:"time"`
}

// simFault is the body of POST /_sim/faults. Kind is one of fail (FailNext),
// business (BusinessErrorNext), drop (CommitThenDrop), delay (Delay, every
// request), delay-next (DelayNext), chaos (SetChaos: shares of requests),
// clear-chaos and reset (Reset and ClearChaos). Durations are Go durations
// ("1.5s").
type simFault struct {
	Kind       string `json:"kind"`
	N          int    `json:"n"`
	Status     int    `json:"status"`
	Path       string `json:"path"`
	Code       string `json:"code"`
	Desc       string `json:"desc"`
	Delay      string `json:"delay"`
	RetryAfter string `json:"retryAfter"`

	DropShare    float64 `json:"dropShare"`
	FailShare    float64 `json:"failShare"`
	FailStatuses []int   `json:"failStatuses"`
	TimeoutShare float64 `json:"timeoutShare"`
	TimeoutAfter string  `json:"timeoutAfter"`
	Latency      string  `json:"latency"`
	Jitter       string  `json:"jitter"`
	Seed         uint64  `json:"seed"`
}

// apply injects the fault into sim.
func (f simFault) apply(sim *shuyuntest.Simulator) error {
	dur := func(name, s string) (time.Duration, error) {
		if s == "" {
			return 0, nil
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		return d, nil
	}
	delay, err := dur("delay", f.Delay)
	if err != nil {
		return err
	}
	retryAfter, err := dur("retryAfter", f.RetryAfter)
	if err != nil {
		return err
	}
	var opts []shuyuntest.FaultOption
	if f.Path != "" {
		opts = append(opts, shuyuntest.OnPath(f.Path))
	}
	switch f.Kind {
	case "fail":
		if retryAfter > 0 {
			opts = append(opts, shuyuntest.WithRetryAfter(retryAfter))
		}
		sim.FailNext(f.N, f.Status, opts...)
	case "business":
		if f.Status != 0 {
			opts = append(opts, shuyuntest.WithStatus(f.Status))
		}
		sim.BusinessErrorNext(f.N, f.Code, f.Desc, opts...)
	case "drop":
		sim.CommitThenDrop(f.N, opts...)
	case "delay":
		sim.Delay(delay, opts...)
	case "delay-next":
		sim.DelayNext(f.N, delay, opts...)
	case "chaos":
		c := shuyuntest.Chaos{Path: f.Path, DropShare: f.DropShare, FailShare: f.FailShare,
			FailStatuses: f.FailStatuses, TimeoutShare: f.TimeoutShare, Seed: f.Seed}
		if c.TimeoutAfter, err = dur("timeoutAfter", f.TimeoutAfter); err != nil {
			return err
		}
		if c.Latency, err = dur("latency", f.Latency); err != nil {
			return err
		}
		if c.Jitter, err = dur("jitter", f.Jitter); err != nil {
			return err
		}
		sim.SetChaos(c)
	case "clear-chaos":
		sim.ClearChaos()
	case "reset":
		sim.Reset()
		sim.ClearChaos()
	default:
		return fmt.Errorf("unknown fault kind %q", f.Kind)
	}
	return nil
}

// simControl serves the inspection and control endpoints of sim.
func simControl(sim *shuyuntest.Simulator) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_sim/effects", func(w http.ResponseWriter, _ *http.Request) {
		writeSimJSON(w, http.StatusOK, sim.Effects())
	})
	mux.HandleFunc("GET /_sim/calls", func(w http.ResponseWriter, r *http.Request) {
		since, _ := strconv.Atoi(r.URL.Query().Get("since"))
		calls := sim.Calls(r.URL.Query().Get("path"))
		out := make([]simCall, 0, max(0, len(calls)-since))
		for i := max(since, 0); i < len(calls); i++ {
			c := calls[i]
			out = append(out, simCall{Method: c.Method, Path: c.Path, Token: c.Token, Time: c.Time})
		}
		writeSimJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("GET /_sim/stats", func(w http.ResponseWriter, _ *http.Request) {
		writeSimJSON(w, http.StatusOK, sim.Stats())
	})
	mux.HandleFunc("GET /_sim/balance", func(w http.ResponseWriter, r *http.Request) {
		avail, frozen := sim.Balance(r.URL.Query().Get("member"))
		writeSimJSON(w, http.StatusOK, map[string]int64{"available": avail, "frozen": frozen})
	})
	mux.HandleFunc("POST /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		var f simFault
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			writeSimJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		if err := f.apply(sim); err != nil {
			writeSimJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// writeSimJSON writes v as a JSON answer.
func writeSimJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
