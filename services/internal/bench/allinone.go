package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// allInOne measures the memory of the all-in-one binary (embedded server,
// every service, simulators) in a process of its own: resident set once
// ready and idle, its peak while a burst of points.freeze commands drains,
// and how fast it drained. Each burst gets a fresh process and data
// directory, so bursts of different sizes show whether memory grows with
// the backlog.
func allInOne(ctx context.Context, bin string, burst int) (row, error) {
	dir, err := os.MkdirTemp("", "loyaltybus-allinone-")
	if err != nil {
		return row{}, err
	}
	defer os.RemoveAll(dir)
	natsPort, err := freePort()
	if err != nil {
		return row{}, err
	}
	httpPort, err := freePort()
	if err != nil {
		return row{}, err
	}
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(os.Environ(),
		"LOYALTY_DATA_DIR="+filepath.Join(dir, "data"),
		"LOYALTY_NATS_PORT="+strconv.Itoa(natsPort),
		"LOYALTY_HTTP_ADDR=127.0.0.1:"+strconv.Itoa(httpPort),
		"LOYALTY_LOG_LEVEL=warn",
	)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return row{}, fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}()
	if err := waitReady(ctx, "http://127.0.0.1:"+strconv.Itoa(httpPort)+"/readyz", exited); err != nil {
		return row{}, err
	}
	pid := cmd.Process.Pid
	idle := pidRSSMiB(pid)

	nc, err := nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", natsPort))
	if err != nil {
		return row{}, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		return row{}, err
	}
	h := &harness{nc: nc, js: js}
	res, err := h.watchResults(burst)
	if err != nil {
		return row{}, err
	}
	defer res.sub.Unsubscribe()

	peak := sample(func() float64 { return pidRSSMiB(pid) })
	runID := uuid.NewString()[:8]
	msgs := make([]*nats.Msg, burst)
	for i := range msgs {
		msgs[i], _, _ = command(i, runID)
	}
	start := time.Now()
	if err := h.publishAll(ctx, msgs); err != nil {
		peak()
		return row{}, err
	}
	msgs = nil
	select {
	case <-res.done:
	case err := <-exited:
		peak()
		return row{}, fmt.Errorf("%s exited during the burst: %v", bin, err)
	case <-ctx.Done():
	}
	elapsed := time.Since(start)
	done := int(res.n.Load())
	return row{Pipeline: "all-in-one", Mode: "burst", InFlight: 64, Commands: done,
		PerSecond: float64(done) / elapsed.Seconds(), IdleRSSMiB: idle, PeakRSSMiB: peak()}, ctx.Err()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls the readiness endpoint until it answers 200.
func waitReady(ctx context.Context, url string, exited <-chan error) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("all-in-one exited before it was ready: %v", err)
		case <-ctx.Done():
			return errors.New("all-in-one not ready within a minute")
		case <-t.C:
		}
	}
}

// pidRSSMiB is the resident set of another process.
func pidRSSMiB(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	return vmRSS(string(b))
}

func vmRSS(status string) float64 {
	for _, line := range strings.Split(status, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
