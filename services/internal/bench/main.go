// Command bench measures loyaltybus end to end: points.freeze commands
// through the real points service (validation, idempotency record, Shuyun
// call over HTTP to the simulator, result and change event, ack) against a
// minimal hand-written pipeline on the same streams and the same simulator,
// in backlog and open-loop modes. It runs everything in one process on an
// embedded, file-backed JetStream server and prints one table (and JSON).
//
//	go run ./services/internal/bench            # full run, about 4 minutes
//	go run ./services/internal/bench -quick     # CI-sized
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type options struct {
	n         int
	inFlight  []int
	latencies []time.Duration
	runCap    time.Duration
	openLoop  time.Duration
	jsonPath  string
	pipelines []string
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "small run for CI: 2000 commands, in-flight 16 and 64, no vendor latency")
	n := fs.Int("n", 20000, "commands per backlog run")
	inFlight := fs.String("inflight", "1,16,64,256", "in-flight values")
	latency := fs.String("latency", "0,20ms", "vendor latencies")
	runCap := fs.Duration("cap", 10*time.Second, "longest backlog run; throughput is measured over what finished")
	openLoop := fs.Duration("openloop", 5*time.Second, "length of each open-loop run (0: none)")
	rate := fs.Float64("rate", 0, "open-loop commands per second (0: half the pipeline's measured backlog maximum)")
	jsonPath := fs.String("json", "bench.json", "where to write the table as JSON (empty: nowhere)")
	pipelines := fs.String("pipelines", "loyaltybus,floor,vendor", "pipelines to run (vendor: the simulator called directly, no bus; backlog only)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	memProfile := fs.String("memprofile", "", "write a heap profile at the end of the run to this file")
	allInOneBin := fs.String("allinone", "", "loyaltybus binary for the all-in-one memory run (scripts/bench builds it); empty: skipped")
	bursts := fs.String("bursts", "10000,50000", "burst sizes of the all-in-one memory run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o := options{n: *n, runCap: *runCap, openLoop: *openLoop, jsonPath: *jsonPath, pipelines: strings.Split(*pipelines, ",")}
	if *quick {
		o.n, *inFlight, *latency, o.runCap, o.openLoop = 2000, "16,64", "0", 5*time.Second, 2*time.Second
	}
	var err error
	if o.inFlight, err = ints(*inFlight); err != nil {
		return fmt.Errorf("-inflight: %w", err)
	}
	if o.latencies, err = durations(*latency); err != nil {
		return fmt.Errorf("-latency: %w", err)
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	h, err := newHarness(ctx)
	if err != nil {
		return err
	}
	defer h.close()

	var rows []row
	max := map[string]float64{} // backlog throughput by pipeline/latency/in-flight
	for _, lat := range o.latencies {
		for _, inf := range o.inFlight {
			for _, p := range o.pipelines {
				var r row
				var err error
				if p == "vendor" {
					r, err = vendorOnly(ctx, inf, lat, o.n, o.runCap)
				} else {
					r, err = h.backlog(ctx, p, inf, lat, o.n, o.runCap)
				}
				if err != nil {
					return fmt.Errorf("%s backlog in-flight %d latency %s: %w", p, inf, lat, err)
				}
				rows = append(rows, r)
				max[key(p, inf, lat)] = r.PerSecond
				fmt.Fprintf(os.Stderr, "  %s\n", r.brief())
			}
		}
	}
	if o.openLoop > 0 {
		for _, lat := range o.latencies {
			inf := o.inFlight[len(o.inFlight)-1]
			for _, p := range o.pipelines {
				if p == "vendor" {
					continue
				}
				rate := *rate
				if rate == 0 {
					rate = max[key(p, inf, lat)] / 2
				}
				if rate == 0 {
					return fmt.Errorf("%s open loop: no backlog maximum to take half of; set -rate", p)
				}
				r, err := h.openLoop(ctx, p, inf, lat, rate, o.openLoop)
				if err != nil {
					return fmt.Errorf("%s open loop: %w", p, err)
				}
				rows = append(rows, r)
				fmt.Fprintf(os.Stderr, "  %s\n", r.brief())
			}
		}
	}
	for i := range rows {
		if f := max[key("floor", rows[i].InFlight, rows[i].Latency)]; f > 0 && rows[i].Mode == "backlog" {
			rows[i].VsFloor = rows[i].PerSecond / f
		}
		if v := max[key("vendor", rows[i].InFlight, rows[i].Latency)]; v > 0 && rows[i].Mode == "backlog" && rows[i].Pipeline != "vendor" {
			rows[i].VsVendor = rows[i].PerSecond / v
		}
	}
	if *allInOneBin != "" && !*quick {
		sizes, err := ints(*bursts)
		if err != nil {
			return fmt.Errorf("-bursts: %w", err)
		}
		for _, n := range sizes {
			r, err := allInOne(ctx, *allInOneBin, n)
			if err != nil {
				return fmt.Errorf("all-in-one burst of %d: %w", n, err)
			}
			rows = append(rows, r)
			fmt.Fprintf(os.Stderr, "  %s\n", r.brief())
		}
	}
	if *memProfile != "" {
		if err := writeHeapProfile(*memProfile); err != nil {
			return err
		}
	}
	printTable(out, rows)
	if o.jsonPath != "" {
		b, _ := json.MarshalIndent(rows, "", "  ")
		if err := os.WriteFile(o.jsonPath, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC() // the profile shows what is live, not what is garbage yet
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func key(p string, inf int, lat time.Duration) string { return fmt.Sprintf("%s/%d/%s", p, inf, lat) }

// row is one measured run.
type row struct {
	Pipeline   string        `json:"pipeline"`
	Mode       string        `json:"mode"`
	InFlight   int           `json:"inFlight"`
	Latency    time.Duration `json:"vendorLatency"`
	Commands   int           `json:"commands"`
	PerSecond  float64       `json:"commandsPerSecond"`
	P50        time.Duration `json:"p50,omitempty"`
	P99        time.Duration `json:"p99,omitempty"`
	Max        time.Duration `json:"max,omitempty"`
	CPUPerCmd  time.Duration `json:"cpuPerCommand"`
	IdleRSSMiB float64       `json:"idleRssMiB,omitempty"`
	PeakRSSMiB float64       `json:"peakRssMiB"`
	VsFloor    float64       `json:"vsFloor,omitempty"`
	// VsVendor compares with the simulator called directly at the same
	// concurrency: the ceiling the vendor and HTTP client set.
	VsVendor float64 `json:"vsVendor,omitempty"`
	Rate     float64 `json:"offeredRate,omitempty"`
}

func (r row) brief() string {
	return fmt.Sprintf("%-10s %-8s in-flight %3d latency %-5s %8.0f/s", r.Pipeline, r.Mode, r.InFlight, r.Latency, r.PerSecond)
}

func printTable(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "pipeline\tmode\tin-flight\tvendor\tcommands\tcmds/s\tp50\tp99\tmax\tCPU µs/cmd\tidle RSS MiB\tpeak RSS MiB\tvs floor\tvs vendor\t")
	dash := func(d time.Duration) string {
		if d == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
	for _, r := range rows {
		vs := "-"
		if r.VsFloor > 0 {
			vs = fmt.Sprintf("%.2f×", r.VsFloor)
		}
		vv := "-"
		if r.VsVendor > 0 {
			vv = fmt.Sprintf("%.2f", r.VsVendor)
		}
		idle := "-"
		if r.IdleRSSMiB > 0 {
			idle = fmt.Sprintf("%.0f", r.IdleRSSMiB)
		}
		cpu := "-"
		if r.CPUPerCmd > 0 {
			cpu = fmt.Sprintf("%.0f", float64(r.CPUPerCmd)/float64(time.Microsecond))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%.0f\t%s\t%s\t\n", r.Pipeline, r.Mode, r.InFlight, r.Latency, r.Commands,
			r.PerSecond, dash(r.P50), dash(r.P99), dash(r.Max), cpu, idle, r.PeakRSSMiB, vs, vv)
	}
	_ = tw.Flush()
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("bad value %q", f)
		}
		out = append(out, v)
	}
	return out, nil
}

func durations(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "0" {
			out = append(out, 0)
			continue
		}
		d, err := time.ParseDuration(f)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}
