package telemetry

import (
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
)

// Subjects of the JetStream advisories that say a stream or consumer lost
// its quorum: while they last, no result can be published.
const (
	advisoryStreamQuorumLost   = "$JS.EVENT.ADVISORY.STREAM.QUORUM_LOST.>"
	advisoryConsumerQuorumLost = "$JS.EVENT.ADVISORY.CONSUMER.QUORUM_LOST.>"
)

// WatchQuorum counts quorum-lost advisories in
// loyaltybus_jetstream_quorum_lost_total{kind, name}, so an alert can fire
// on them. It returns a function that stops watching.
func WatchQuorum(nc *nats.Conn, reg prometheus.Registerer) (stop func(), err error) {
	lost := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "loyaltybus_jetstream_quorum_lost_total",
		Help: "JetStream quorum-lost advisories seen, by kind (stream, consumer) and name.",
	}, []string{"kind", "name"})
	if err := reg.Register(lost); err != nil {
		return nil, err
	}
	var subs []*nats.Subscription
	stop = func() {
		for _, s := range subs {
			_ = s.Unsubscribe()
		}
	}
	for kind, subject := range map[string]string{"stream": advisoryStreamQuorumLost, "consumer": advisoryConsumerQuorumLost} {
		prefix := strings.TrimSuffix(subject, ">")
		s, err := nc.Subscribe(subject, func(m *nats.Msg) {
			lost.WithLabelValues(kind, strings.TrimPrefix(m.Subject, prefix)).Inc()
		})
		if err != nil {
			stop()
			return nil, fmt.Errorf("watch %s: %w", subject, err)
		}
		subs = append(subs, s)
	}
	return stop, nil
}
