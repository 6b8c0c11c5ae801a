package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/pkg/bus/bustest"
	"github.com/loyaltybus/loyaltybus/pkg/config"
)

func TestSmartXRegistersFromURLAndFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	good := write("good.json", `[{"name":"bar-1","url":"http://10.0.0.11:37015","pin":"1111"},{"name":"bar-2","url":"http://10.0.0.12:37015","pin":"2222"}]`)
	tests := []struct {
		name      string
		vars      map[string]string
		wantNames []string
		wantErr   string
	}{
		{name: "none: the simulator", wantNames: []string{"default"}},
		{name: "URL only", vars: map[string]string{"LOYALTY_SMARTX_URL": "http://10.0.0.10:37015"}, wantNames: []string{"default"}},
		{name: "URL and file", vars: map[string]string{"LOYALTY_SMARTX_URL": "http://10.0.0.10:37015", "LOYALTY_SMARTX_REGISTERS_FILE": good},
			wantNames: []string{"default", "bar-1", "bar-2"}},
		{name: "file only", vars: map[string]string{"LOYALTY_SMARTX_REGISTERS_FILE": good}, wantNames: []string{"bar-1", "bar-2"}},
		{name: "missing file", vars: map[string]string{"LOYALTY_SMARTX_REGISTERS_FILE": filepath.Join(dir, "nope.json")}, wantErr: "LOYALTY_SMARTX_REGISTERS_FILE"},
		{name: "not JSON, PIN not repeated", vars: map[string]string{"LOYALTY_SMARTX_REGISTERS_FILE": write("bad.json", `[{"name":"a","pin":"9876"`)}, wantErr: "not JSON"},
		{name: "default twice", vars: map[string]string{"LOYALTY_SMARTX_URL": "http://x", "LOYALTY_SMARTX_REGISTERS_FILE": write("dup.json", `[{"name":"default","url":"http://y"}]`)}, wantErr: "twice"},
		{name: "bad name", vars: map[string]string{"LOYALTY_SMARTX_REGISTERS_FILE": write("name.json", `[{"name":"bar 1","url":"http://y"}]`)}, wantErr: "name"},
		{name: "no url", vars: map[string]string{"LOYALTY_SMARTX_REGISTERS_FILE": write("url.json", `[{"name":"bar-1"}]`)}, wantErr: "no url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s settings
			require.NoError(t, config.Load(&s, env(tt.vars)))
			names, err := registerNames(&s)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.NotContains(t, err.Error(), "9876", "a PIN never appears in an error")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantNames, names)
		})
	}
}

// TestAllInOneRunsTheSchedules starts the binary with every schedule on: the
// scheduler publishes the current tick of each at once, and the cheques and
// feeds services answer them against their simulators.
func TestAllInOneRunsTheSchedules(t *testing.T) {
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"run", "cheques,feeds,schedule"}, env(map[string]string{
			"LOYALTY_DATA_DIR": t.TempDir(), "LOYALTY_NATS_PORT": "0", "LOYALTY_LOG_FORMAT": "json",
			"LOYALTY_SCHEDULE_CHEQUES": "1h", "LOYALTY_SCHEDULE_TICKETS": "1h", "LOYALTY_SCHEDULE_USAGE": "1h",
			"LOYALTY_SCHEDULE_TICKETS_CUSTOMERS": "886263699231969848, 832101480292933201",
		}), &stdout, &stderr)
	}()
	var url string
	require.Eventually(t, func() bool {
		m := natsURL.FindStringSubmatch(stdout.String())
		if m != nil {
			url = m[1]
		}
		return m != nil
	}, 20*time.Second, 10*time.Millisecond, "no quick-start text; stderr:\n%s", stderr.String())

	_, js := bustest.Connect(t, url)
	results := bustest.WaitMessages(t, js, "LOYALTY_RESULTS", "loyalty.result.>", 4)
	got := map[string]int{}
	for _, o := range results {
		r := o.Result(t)
		assert.Equal(t, "succeeded", r.Status, "%s: %+v", r.CommandID, r.Error)
		assert.Regexp(t, `^sched:`, r.CommandID)
		got[o.Subject]++
	}
	assert.Equal(t, map[string]int{
		"loyalty.result.cheques.fetch":      1,
		"loyalty.result.tickets.fetch":      2,
		"loyalty.result.points.usage.fetch": 1,
	}, got)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("run did not stop after its context ended")
	}
	assert.Contains(t, stderr.String(), `"vendor":"smartx"`, "the SmartX simulator is announced")
}

func TestScheduleSettingsAreChecked(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		want string
	}{
		{name: "tickets without customers", vars: map[string]string{"LOYALTY_SCHEDULE_TICKETS": "5m"}, want: "LOYALTY_SCHEDULE_TICKETS_CUSTOMERS"},
		{name: "customer not a uid", vars: map[string]string{"LOYALTY_SCHEDULE_TICKETS": "5m", "LOYALTY_SCHEDULE_TICKETS_CUSTOMERS": "abc"}, want: "LOYALTY_SCHEDULE_TICKETS_CUSTOMERS"},
		{name: "sub-second interval", vars: map[string]string{"LOYALTY_SCHEDULE_USAGE": "100ms"}, want: "LOYALTY_SCHEDULE_"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{"LOYALTY_DATA_DIR": t.TempDir(), "LOYALTY_NATS_PORT": "0"}
			for k, v := range tt.vars {
				vars[k] = v
			}
			var out, errOut syncBuffer
			err := run(t.Context(), []string{"run", "schedule"}, env(vars), &out, &errOut)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
