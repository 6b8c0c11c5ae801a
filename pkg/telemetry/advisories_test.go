package telemetry_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/pkg/bus/bustest"
	"github.com/loyaltybus/loyaltybus/pkg/telemetry"
)

func TestQuorumLostAdvisoriesAreCounted(t *testing.T) {
	srv := bustest.NewServer(t)
	nc, _ := bustest.Connect(t, srv.ClientURL())
	reg := prometheus.NewRegistry()
	stop, err := telemetry.WatchQuorum(nc, reg)
	require.NoError(t, err)
	t.Cleanup(stop)
	require.NoError(t, nc.Flush())

	// The server publishes these when a replicated stream loses its quorum;
	// a single test server can only be sent one.
	pub, _ := bustest.Connect(t, srv.ClientURL())
	require.NoError(t, pub.Publish("$JS.EVENT.ADVISORY.STREAM.QUORUM_LOST.LOYALTY_RESULTS", []byte(`{"type":"io.nats.jetstream.advisory.v1.stream_quorum_lost"}`)))
	require.NoError(t, pub.Flush())
	require.Eventually(t, func() bool {
		return counter(t, reg, "loyaltybus_jetstream_quorum_lost_total", map[string]string{"kind": "stream", "name": "LOYALTY_RESULTS"}) == 1
	}, 5*time.Second, 5*time.Millisecond)
}
