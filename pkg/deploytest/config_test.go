package deploytest

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNATSConfigs reads every node configuration with nats-server's parser
// and checks what an operator relies on: names, durable storage, routes,
// TLS, monitoring, and the users and permissions of include/accounts.conf.
func TestNATSConfigs(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join(deployDir, "nats"))
	require.NoError(t, err)
	var confs []string
	for _, e := range entries {
		if !e.IsDir() && filepath.Ext(e.Name()) == ".conf" {
			confs = append(confs, e.Name())
		}
	}
	require.Equal(t, nodeConfigs, confs, "deploy/nats holds the three node configurations")

	cfg := newNATSConfig(t)
	stores := map[string]bool{}
	for i, name := range nodeConfigs {
		t.Run(name, func(t *testing.T) {
			opts := cfg.load(t, name)
			assert.Equal(t, fmt.Sprintf("nats-%d", i+1), opts.ServerName)

			assert.True(t, opts.JetStream, "JetStream enabled")
			assert.True(t, opts.SyncAlways, "sync_interval: always")
			assert.True(t, filepath.IsAbs(opts.StoreDir), "explicit store_dir, got %q", opts.StoreDir)
			assert.False(t, stores[opts.StoreDir], "store_dir %s shared with another node", opts.StoreDir)
			stores[opts.StoreDir] = true

			assert.Equal(t, "loyaltybus", opts.Cluster.Name)
			assert.Equal(t, 6222, opts.Cluster.Port)
			assert.Len(t, opts.Routes, len(nodeConfigs), "routes to every node")
			if assert.NotNil(t, opts.Cluster.TLSConfig, "route TLS") {
				assert.Equal(t, tls.RequireAndVerifyClientCert, opts.Cluster.TLSConfig.ClientAuth,
					"routes verify each other's certificates")
			}

			assert.Equal(t, 4222, opts.Port)
			if assert.NotNil(t, opts.TLSConfig, "client TLS") {
				assert.Equal(t, tls.NoClientCert, opts.TLSConfig.ClientAuth, "tls.conf does not ask for client certificates")
			}
			assert.Equal(t, 8222, opts.HTTPPort, "monitoring port")
			assert.Zero(t, opts.HTTPSPort)

			assert.Equal(t, "SYS", opts.SystemAccount)
			checkUsers(t, opts)
		})
	}
}

// checkUsers compares the users and permissions with the matrix.
func checkUsers(t *testing.T, opts *server.Options) {
	t.Helper()
	users := map[string]*server.User{}
	for _, u := range opts.Users {
		users[u.Username] = u
	}
	want := []string{"sys", "operator"}
	for name := range clientRoles {
		want = append(want, name)
	}
	for _, s := range services {
		want = append(want, s.name)
	}
	got := make([]string, 0, len(users))
	for name := range users {
		got = append(got, name)
	}
	assert.ElementsMatch(t, want, got, "users")

	account := func(u *server.User) string {
		if u.Account == nil {
			return ""
		}
		return u.Account.Name
	}
	if u := users["sys"]; assert.NotNil(t, u) {
		assert.Equal(t, "SYS", account(u))
	}
	if u := users["operator"]; assert.NotNil(t, u) {
		assert.Equal(t, "LOYALTY", account(u))
		assert.Nil(t, u.Permissions, "the operator role is not restricted")
	}
	check := func(name string, publish, subscribe []string) {
		u := users[name]
		if !assert.NotNil(t, u, name) {
			return
		}
		assert.Equal(t, "LOYALTY", account(u), name)
		if !assert.NotNil(t, u.Permissions, "%s has no permissions block", name) {
			return
		}
		p := u.Permissions
		if assert.NotNil(t, p.Publish, name) {
			assert.ElementsMatch(t, publish, p.Publish.Allow, "%s may publish", name)
			assert.Empty(t, p.Publish.Deny, name)
		}
		if assert.NotNil(t, p.Subscribe, name) {
			assert.ElementsMatch(t, subscribe, p.Subscribe.Allow, "%s may subscribe", name)
			assert.Empty(t, p.Subscribe.Deny, name)
		}
		assert.Nil(t, p.Response, "%s answers no requests", name)
	}
	for _, s := range services {
		check(s.name, s.publishAllow(), subscribeAllow(s.name))
	}
	for name, r := range clientRoles {
		check(name, r.publish, r.subscribe)
	}
}
