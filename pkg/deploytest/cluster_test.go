package deploytest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
)

// deployDir is the repository's deploy/ directory, seen from this package
// (go test runs in the package directory, with or without the workspace).
var deployDir = filepath.Join("..", "..", "deploy")

// containerTLSDir is where the node configurations expect the certificates
// (a volume in compose, a Secret in Kubernetes). The tests point it at
// certificates they make; it is the only text they change in a configuration.
const containerTLSDir = "/etc/nats/tls/"

// waitFor bounds every wait of these tests. Under `go test -race work` on
// two cores, with every package's tests running beside it, a TLS node of a
// forming cluster took more than 10 s to accept connections.
const waitFor = 30 * time.Second

// nodeConfigs are the node configurations of the cluster, in node order.
var nodeConfigs = []string{"nats-1.conf", "nats-2.conf", "nats-3.conf"}

// passwordVar names the environment variable that holds user's password on
// the servers (include/accounts.conf).
func passwordVar(user string) string { return "NATS_PASSWORD_" + strings.ToUpper(user) }

var (
	passwordRef = regexp.MustCompile(`\$(NATS_PASSWORD_[A-Z0-9_]+)`)
	comment     = regexp.MustCompile(`(?m)#.*$`)
)

// passwordVars lists the password variables the accounts file refers to.
func passwordVars(t testing.TB) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(deployDir, "nats", "include", "accounts.conf"))
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, m := range passwordRef.FindAllStringSubmatch(comment.ReplaceAllString(string(b), ""), -1) {
		seen[m[1]] = true
	}
	var out []string
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// natsConfig is a copy of deploy/nats whose certificate paths point at pki,
// with a fresh password for every user in the environment, as the servers
// of a deployment get them.
type natsConfig struct {
	Dir       string
	PKI       *testPKI
	Passwords map[string]string // by user
}

func newNATSConfig(t *testing.T) *natsConfig {
	t.Helper()
	return newNATSConfigWith(t, newTestPKI(t))
}

// newNATSConfigWith is newNATSConfig with the certificates of pki.
func newNATSConfigWith(t *testing.T, pki *testPKI) *natsConfig {
	t.Helper()
	dst := t.TempDir()
	src := filepath.Join(deployDir, "nats")
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".conf") {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		text := strings.ReplaceAll(string(b), containerTLSDir, pki.Dir+string(filepath.Separator))
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), []byte(text), 0o600)
	})
	require.NoError(t, err)

	c := &natsConfig{Dir: dst, PKI: pki, Passwords: map[string]string{}}
	for _, v := range passwordVars(t) {
		user := strings.ToLower(strings.TrimPrefix(v, "NATS_PASSWORD_"))
		c.Passwords[user] = randomPassword(t)
		t.Setenv(v, c.Passwords[user])
	}
	return c
}

func randomPassword(t testing.TB) string {
	t.Helper()
	b := make([]byte, 16)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

// load parses one configuration file with nats-server's own parser.
func (c *natsConfig) load(t testing.TB, name string) *server.Options {
	t.Helper()
	opts, err := server.ProcessConfigFile(filepath.Join(c.Dir, name))
	require.NoError(t, err, "nats-server rejects %s", name)
	return opts
}

// cluster is the three nodes started from the node configurations.
type cluster struct {
	cfg     *natsConfig
	servers []*server.Server
	urls    string // client URLs, comma-separated, TLS
}

// startCluster starts the three nodes on loopback ports. Only listen
// addresses, routes and storage directories are changed after parsing:
// accounts, users, permissions, TLS and JetStream settings are the files'.
func startCluster(t *testing.T, cfg *natsConfig) *cluster {
	t.Helper()
	ports := freePorts(t, len(nodeConfigs))
	var routes []*url.URL
	for _, p := range ports {
		routes = append(routes, &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", p)})
	}
	c := &cluster{cfg: cfg}
	for i, name := range nodeConfigs {
		opts := cfg.load(t, name)
		opts.Host, opts.Port = "127.0.0.1", server.RANDOM_PORT
		opts.HTTPHost, opts.HTTPPort = "127.0.0.1", server.RANDOM_PORT
		opts.Cluster.Host, opts.Cluster.Port = "127.0.0.1", ports[i]
		opts.Routes = routes
		opts.StoreDir = t.TempDir()
		opts.NoSigs, opts.NoLog = true, os.Getenv("DEPLOYTEST_LOG") == ""
		opts.Logtime = false
		s, err := server.NewServer(opts)
		require.NoError(t, err, name)
		if !opts.NoLog {
			s.ConfigureLogger()
		}
		go s.Start()
		t.Cleanup(func() {
			s.Shutdown()
			s.WaitForShutdown()
		})
		c.servers = append(c.servers, s)
	}
	var urls []string
	for _, s := range c.servers {
		require.True(t, s.ReadyForConnections(waitFor), "%s not ready", s.Name())
		urls = append(urls, "tls://"+s.Addr().String())
	}
	c.urls = strings.Join(urls, ",")

	// The JetStream meta group has a leader that sees every node, and every
	// node follows it.
	require.Eventually(t, func() bool {
		leaders := 0
		for _, s := range c.servers {
			if !s.JetStreamIsCurrent() {
				return false
			}
			if s.JetStreamIsLeader() {
				leaders++
				if len(s.JetStreamClusterPeers()) != len(nodeConfigs) {
					return false
				}
			}
		}
		return leaders == 1
	}, waitFor, 20*time.Millisecond, "JetStream cluster did not form")
	return c
}

// freePorts reserves n loopback ports for the route listeners, which must be
// known before the nodes start because each node lists all routes.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		require.NoError(t, l.Close())
	}
	return ports
}

// conn is a connection as one user, with the server's permission violations
// reported on a channel.
type conn struct {
	user       string
	nc         *nats.Conn
	js         jetstream.JetStream
	violations chan string
}

// inboxPrefix is the reply-inbox prefix a restricted user must use.
func inboxPrefix(user string) string { return "_INBOX_" + user }

// connect connects as user over TLS with the deployment CA, as the
// loyaltybus binary does (LOYALTY_NATS_USER, LOYALTY_NATS_PASSWORD,
// LOYALTY_NATS_TLS_CA, LOYALTY_NATS_INBOX_PREFIX).
func (c *cluster) connect(t testing.TB, user string, extra ...nats.Option) *conn {
	t.Helper()
	cn := &conn{user: user, violations: make(chan string, 256)}
	opts := []nats.Option{
		nats.Name("deploytest-" + user),
		nats.UserInfo(user, c.cfg.Passwords[user]),
		nats.RootCAs(c.cfg.PKI.CA),
		nats.Timeout(waitFor),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrPermissionViolation) {
				select {
				case cn.violations <- err.Error():
				default:
				}
			}
		}),
	}
	if user != "operator" {
		opts = append(opts, nats.CustomInboxPrefix(inboxPrefix(user)))
	}
	nc, err := nats.Connect(c.urls, append(opts, extra...)...)
	require.NoError(t, err, "connect as %s", user)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	cn.nc, cn.js = nc, js
	return cn
}

// expectViolation waits for the server to refuse op ("Publish" or
// "Subscription") on subject for this connection.
func (c *conn) expectViolation(t testing.TB, op, subject string) {
	t.Helper()
	want := strings.ToLower(op + ` to "` + subject + `"`)
	timeout := time.NewTimer(waitFor)
	defer timeout.Stop()
	for {
		select {
		case v := <-c.violations:
			if strings.Contains(strings.ToLower(v), want) {
				return
			}
		case <-timeout.C:
			t.Fatalf("%s: no permissions violation for %s to %q: the server allowed it", c.user, op, subject)
		}
	}
}

// denyPublish shows that the user cannot publish on subject.
func (c *conn) denyPublish(t testing.TB, subject string) {
	t.Helper()
	require.NoError(t, c.nc.Publish(subject, []byte("{}")))
	c.expectViolation(t, "Publish", subject)
}

// denySubscribe shows that the user cannot subscribe to subject.
func (c *conn) denySubscribe(t testing.TB, subject string) {
	t.Helper()
	sub, err := c.nc.SubscribeSync(subject)
	require.NoError(t, err)
	defer func() { _ = sub.Unsubscribe() }()
	c.expectViolation(t, "Subscription", subject)
}

// denyAPI shows that a JetStream call fails because the server refuses the
// publish of its request on apiSubject.
func (c *conn) denyAPI(t testing.TB, apiSubject string, call func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- call(ctx) }()
	c.expectViolation(t, "Publish", apiSubject)
	cancel()
	require.Error(t, <-done, "%s: %s succeeded", c.user, apiSubject)
}

// noViolations checks that nothing this connection did was refused.
// The server reports a violation before it answers the flush, and the
// client records it as its last error before the flush returns.
func (c *conn) noViolations(t testing.TB) {
	t.Helper()
	require.NoError(t, c.nc.Flush())
	if len(c.violations) == 0 {
		if err := c.nc.LastError(); errors.Is(err, nats.ErrPermissionViolation) {
			t.Errorf("%s was refused something it needs: %v", c.user, err)
		}
	}
	for len(c.violations) > 0 {
		t.Errorf("%s was refused something it needs: %s", c.user, <-c.violations)
	}
}
