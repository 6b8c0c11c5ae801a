// Package deploytest proves the deployment files under deploy/ against real
// servers and parsers. It holds tests only:
//
//   - every deploy/nats/*.conf is read by nats-server's own configuration
//     parser, and a 3-node JetStream cluster is started from the three node
//     configurations, with TLS and the accounts, users and permissions they
//     define;
//   - each role connects as its user with nats.go and is shown both what it
//     may do (a real bus.Service per service user consumes its commands and
//     publishes results, change events, dead letters and memos; the publisher
//     reads results; the subscriber reads events) and what it may not (other
//     services' commands and events, stream administration, other users'
//     inboxes);
//   - plaintext clients are refused, and client certificates are required
//     when mtls.conf is used;
//   - the JetStream definitions in deploy/nats/jetstream match what
//     bus.Provision creates (go test -run TestCluster -update rewrites them);
//   - the compose file, the Kubernetes manifests, the Helm values, the
//     Dockerfile and the scripts parse and agree with the NATS configuration.
//
// It is the only package besides natsembed that imports nats-server, and
// only from its tests. DEPLOYTEST_LOG=1 prints the cluster's server logs.
package deploytest
