package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	eventspoints "github.com/loyaltybus/loyaltybus/events/points"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/pkg/bus/bustest"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a running binary.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

var natsURL = regexp.MustCompile(`embedded NATS server at (nats://[0-9.:]+)\.`)

// TestAllInOneQuickStart runs the binary as the quick start does (embedded
// NATS, every service, simulators) and publishes the printed first command.
func TestAllInOneQuickStart(t *testing.T) {
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, nil, env(map[string]string{"LOYALTY_DATA_DIR": t.TempDir(), "LOYALTY_NATS_PORT": "0", "LOYALTY_LOG_FORMAT": "json"}), &stdout, &stderr)
	}()
	var url string
	require.Eventually(t, func() bool {
		m := natsURL.FindStringSubmatch(stdout.String())
		if m != nil {
			url = m[1]
		}
		return m != nil
	}, 20*time.Second, 10*time.Millisecond, "no quick-start text; stderr:\n%s", stderr.String())
	assert.Contains(t, stdout.String(), "loyalty.cmd.points.freeze")
	assert.Contains(t, stderr.String(), "VENDOR SIMULATOR IN USE")

	_, js := bustest.Connect(t, url)
	bustest.Publish(t, js, eventspoints.SubjectFreeze, bustest.Command(t, "first-freeze-1", eventspoints.TypeFreeze,
		eventspoints.Freeze{MemberID: "m-001", MemberType: "shuyun", ChannelType: "POS", Points: 10}), bus.Binary)
	r := bustest.WaitMessages(t, js, "LOYALTY_RESULTS", "loyalty.result.points.freeze", 1)[0].Result(t)
	assert.Equal(t, "succeeded", r.Status)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("run did not stop after its context ended")
	}
	assert.Contains(t, stderr.String(), `"outcome":"succeeded"`)
}

func TestRunRejectsBadSettingsNamingTheVariable(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		args []string
		want string
		code int // the exit code, when not the default 1
	}{
		{name: "bad integer", vars: map[string]string{"LOYALTY_STREAM_REPLICAS": "three"}, want: "LOYALTY_STREAM_REPLICAS"},
		{name: "bad output mode", vars: map[string]string{"LOYALTY_OUTPUT_MODE": "xml"}, want: "LOYALTY_OUTPUT_MODE"},
		{name: "bad log format", vars: map[string]string{"LOYALTY_LOG_FORMAT": "xml"}, want: "LOYALTY_LOG_FORMAT"},
		{name: "missing secret file", vars: map[string]string{"LOYALTY_SHUYUN_CLIENT_SECRET_FILE": "/nonexistent/secret"}, want: "LOYALTY_SHUYUN_CLIENT_SECRET"},
		{name: "unknown service", args: []string{"run", "nope"}, want: `unknown service "nope"`, code: exitUsage},
		{name: "unknown command", args: []string{"frobnicate"}, want: `unknown command "frobnicate"`, code: exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(t.Context(), tt.args, env(tt.vars), &out, &errOut)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			if tt.code != 0 {
				assert.Equal(t, tt.code, exitCode(err))
			}
		})
	}
}

func TestHelpListsServicesAndSettings(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"services"}, env(nil), &out, &out))
	assert.Contains(t, out.String(), "points")
	out.Reset()
	require.NoError(t, run(t.Context(), []string{"settings"}, env(nil), &out, &out))
	for _, v := range []string{"LOYALTY_NATS_URL", "LOYALTY_SHUYUN_URL", "LOYALTY_LOG_FORMAT"} {
		assert.True(t, strings.Contains(out.String(), v), "settings lack %s", v)
	}
}

var httpAddr = regexp.MustCompile(`"msg":"serving /healthz, /readyz and /metrics","addr":"([0-9.:]+)"`)

// TestReadinessFollowsTheNATSServer runs one service against an external
// server and stops and restarts that server under it.
func TestReadinessFollowsTheNATSServer(t *testing.T) {
	dir := t.TempDir()
	srv := bustest.NewServerAt(t, dir, 0)
	url := srv.ClientURL()
	port, err := strconv.Atoi(url[strings.LastIndexByte(url, ':')+1:])
	require.NoError(t, err)

	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"run", "points"}, env(map[string]string{
			"LOYALTY_NATS_URL": url, "LOYALTY_HTTP_ADDR": "127.0.0.1:0", "LOYALTY_LOG_FORMAT": "json",
		}), &stdout, &stderr)
	}()
	t.Cleanup(func() { cancel(); <-done })
	var addr string
	require.Eventually(t, func() bool {
		m := httpAddr.FindStringSubmatch(stderr.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	}, 20*time.Second, 10*time.Millisecond, "no health server; stderr:\n%s", stderr.String())
	status := func(path string) int {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	ready := func(want int) func() bool { return func() bool { return status("/readyz") == want } }
	require.Eventually(t, ready(http.StatusOK), 20*time.Second, 10*time.Millisecond)

	srv.Shutdown()
	require.Eventually(t, ready(http.StatusServiceUnavailable), 20*time.Second, 10*time.Millisecond)
	assert.Equal(t, http.StatusOK, status("/healthz"), "the process itself is alive")

	bustest.NewServerAt(t, dir, port)
	require.Eventually(t, ready(http.StatusOK), 30*time.Second, 20*time.Millisecond)
	resp, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(body), "loyaltybus_consumer_pending{consumer=\"points\"}")
}

// TestClosingTheConnectionIsNotAWarning checks a graceful shutdown does not
// log the connection's close as a lost server, while losing the server does.
func TestClosingTheConnectionIsNotAWarning(t *testing.T) {
	srv := bustest.NewServer(t)
	var logs bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// Callbacks run in order on one goroutine: the closed handler runs after
	// the disconnect handler.
	closed := make(chan struct{})
	nc, err := nats.Connect(srv.ClientURL(), append(natsOptions(&settings{}, log), nats.ClosedHandler(func(*nats.Conn) { close(closed) }))...)
	require.NoError(t, err)
	nc.Close()
	<-closed
	mu.Lock()
	assert.NotContains(t, logs.String(), "NATS disconnected")
	mu.Unlock()

	nc, err = nats.Connect(srv.ClientURL(), natsOptions(&settings{}, log)...)
	require.NoError(t, err)
	defer nc.Close()
	srv.Shutdown()
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(logs.String(), "NATS disconnected")
	}, 10*time.Second, 5*time.Millisecond, "losing the server was not logged")
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
