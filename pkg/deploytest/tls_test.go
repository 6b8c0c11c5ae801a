package deploytest

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

// startNode starts the first node's configuration alone (no routes, no
// JetStream) with its client TLS block taken from include/<tlsConf>, the way
// deploy/README.md tells an operator to switch to mutual TLS. It returns the
// client URL.
func startNode(t *testing.T, cfg *natsConfig, tlsConf string) string {
	t.Helper()
	node := filepath.Join(cfg.Dir, nodeConfigs[0])
	b, err := os.ReadFile(node)
	require.NoError(t, err)
	text := string(b)
	const include = `include "include/tls.conf"`
	require.Equal(t, 1, strings.Count(text, include), "a node includes tls.conf once")
	text = strings.Replace(text, include, `include "include/`+tlsConf+`"`, 1)
	require.NoError(t, os.WriteFile(node, []byte(text), 0o600))

	opts := cfg.load(t, nodeConfigs[0])
	opts.Host, opts.Port = "127.0.0.1", server.RANDOM_PORT
	opts.HTTPPort = 0
	opts.Cluster = server.ClusterOpts{}
	opts.Routes = nil
	opts.JetStream = false
	opts.NoSigs, opts.NoLog = true, true
	s, err := server.NewServer(opts)
	require.NoError(t, err)
	go s.Start()
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	require.True(t, s.ReadyForConnections(waitFor))
	return "tls://" + s.Addr().String()
}

// TestMutualTLS shows that with include/mtls.conf a client must present a
// certificate signed by the deployment CA besides its password.
func TestMutualTLS(t *testing.T) {
	cfg := newNATSConfig(t)
	opts := cfg.load(t, filepath.Join("include", "mtls.conf"))
	require.NotNil(t, opts.TLSConfig)
	require.Equal(t, tls.RequireAndVerifyClientCert, opts.TLSConfig.ClientAuth, "mtls.conf requires client certificates")
	url := startNode(t, cfg, "mtls.conf")

	base := []nats.Option{
		nats.UserInfo("points", cfg.Passwords["points"]),
		nats.RootCAs(cfg.PKI.CA),
		nats.Timeout(waitFor),
		nats.NoReconnect(),
	}
	_, err := nats.Connect(url, base...)
	assert.Error(t, err, "a client without a certificate is refused")

	nc, err := nats.Connect(url, append(base, nats.ClientCert(cfg.PKI.ClientCert, cfg.PKI.ClientKey))...)
	require.NoError(t, err, "a client with a certificate from the deployment CA connects")
	nc.Close()

	_, err = nats.Connect(url, nats.RootCAs(cfg.PKI.CA), nats.Timeout(waitFor), nats.NoReconnect(),
		nats.ClientCert(cfg.PKI.ClientCert, cfg.PKI.ClientKey))
	assert.ErrorIs(t, err, nats.ErrAuthorization, "a certificate does not replace the password")
}

// TestBcryptPasswords shows that the servers may hold bcrypt hashes instead
// of the passwords, as include/accounts.conf recommends.
func TestBcryptPasswords(t *testing.T) {
	cfg := newNATSConfig(t)
	hash, err := bcrypt.GenerateFromPassword([]byte(cfg.Passwords["points"]), bcrypt.MinCost)
	require.NoError(t, err)
	t.Setenv(passwordVar("points"), string(hash))
	url := startNode(t, cfg, "tls.conf")

	connect := func(password string) error {
		nc, err := nats.Connect(url, nats.UserInfo("points", password), nats.RootCAs(cfg.PKI.CA),
			nats.Timeout(waitFor), nats.NoReconnect())
		if err == nil {
			nc.Close()
		}
		return err
	}
	assert.NoError(t, connect(cfg.Passwords["points"]), "the client sends the password")
	assert.ErrorIs(t, connect(string(hash)), nats.ErrAuthorization, "the hash itself is no password")
}
