package telemetry_test

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/pkg/bus/bustest"
	"github.com/loyaltybus/loyaltybus/pkg/telemetry"
)

// TestDashboardAndAlertsUseExportedMetrics keeps deploy/observability in step
// with the metrics this package registers.
func TestDashboardAndAlertsUseExportedMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	_, err := telemetry.NewMetrics(reg)
	require.NoError(t, err)
	srv := bustest.NewServer(t)
	nc, _ := bustest.Connect(t, srv.ClientURL())
	stop, err := telemetry.WatchQuorum(nc, reg)
	require.NoError(t, err)
	t.Cleanup(stop)
	require.NoError(t, telemetry.RegisterLag(reg))

	// Descriptions list every registered family, even those with no series yet.
	known := map[string]bool{}
	descs := make(chan *prometheus.Desc, 64)
	go func() { reg.Describe(descs); close(descs) }()
	descName := regexp.MustCompile(`fqName: "([a-z_]+)"`)
	for d := range descs {
		if m := descName.FindStringSubmatch(d.String()); m != nil {
			known[m[1]] = true
		}
	}
	for _, name := range []string{"loyaltybus_consumer_pending", "loyaltybus_consumer_ack_pending"} {
		known[name] = true // registered by RegisterLag, described only with sources
	}

	dash, err := os.ReadFile("../../deploy/observability/grafana-dashboard.json")
	require.NoError(t, err)
	require.True(t, json.Valid(dash), "dashboard is not JSON")
	alerts, err := os.ReadFile("../../deploy/observability/alerts.yaml")
	require.NoError(t, err)

	used := regexp.MustCompile(`loyaltybus_[a-z_]+`)
	for _, file := range [][]byte{dash, alerts} {
		for _, name := range used.FindAllString(string(file), -1) {
			base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_count"), "_sum")
			assert.Truef(t, known[base] || known[name], "%s is used but not exported", name)
		}
	}
}
