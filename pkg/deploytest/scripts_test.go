package deploytest

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var scriptsDir = filepath.Join(deployDir, "..", "scripts")

// TestScripts runs scripts/certs.sh and scripts/nats-passwords.sh (they need
// bash and openssl) and shows that what they make is what the configuration
// and the deployments use: a server certificate valid for every name the
// nodes are reached by, client certificates for mutual TLS, and a password
// for every user of accounts.conf in the files compose and Kubernetes read.
func TestScripts(t *testing.T) {
	for _, tool := range []string{"bash", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
	dir := t.TempDir()
	run := func(script string, args ...string) {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), "bash", append([]string{filepath.Join(scriptsDir, script)}, args...)...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s: %s", script, out)
	}

	t.Run("certs.sh", func(t *testing.T) {
		tlsDir := filepath.Join(dir, "tls")
		run("certs.sh", tlsDir, "DNS:nats.example.com")
		run("certs.sh", tlsDir) // again: keeps the CA, reissues the rest

		pool := x509.NewCertPool()
		ca, err := os.ReadFile(filepath.Join(tlsDir, "ca.pem"))
		require.NoError(t, err)
		require.True(t, pool.AppendCertsFromPEM(ca))

		pair, err := tls.LoadX509KeyPair(filepath.Join(tlsDir, "server.pem"), filepath.Join(tlsDir, "server-key.pem"))
		require.NoError(t, err)
		cert, err := x509.ParseCertificate(pair.Certificate[0])
		require.NoError(t, err)
		for _, name := range []string{"nats-1", "nats-2", "nats-3", "localhost", "127.0.0.1", "nats", "nats-0.nats-headless", "nats.loyaltybus.svc.cluster.local"} {
			_, err := cert.Verify(x509.VerifyOptions{DNSName: name, Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
			assert.NoError(t, err, "server certificate for %s", name)
		}
		_, err = cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
		assert.NoError(t, err, "routes present the server certificate as clients")

		users := append(append([]string{"operator"}, components()...), "publisher", "subscriber")
		for _, u := range users {
			pair, err := tls.LoadX509KeyPair(filepath.Join(tlsDir, u+".pem"), filepath.Join(tlsDir, u+"-key.pem"))
			require.NoError(t, err, u)
			c, err := x509.ParseCertificate(pair.Certificate[0])
			require.NoError(t, err)
			assert.Equal(t, u, c.Subject.CommonName)
			_, err = c.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
			assert.NoError(t, err, "client certificate of %s", u)
		}
		fi, err := os.Stat(filepath.Join(tlsDir, "server-key.pem"))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "keys are private")

		// A node configured with them accepts a client with its certificate.
		cfg := newNATSConfigWith(t, &testPKI{
			Dir: tlsDir, CA: filepath.Join(tlsDir, "ca.pem"),
			ClientCert: filepath.Join(tlsDir, "points.pem"), ClientKey: filepath.Join(tlsDir, "points-key.pem"),
		})
		url := startNode(t, cfg, "mtls.conf")
		nc, err := nats.Connect(url, nats.UserInfo("points", cfg.Passwords["points"]), nats.RootCAs(cfg.PKI.CA),
			nats.ClientCert(cfg.PKI.ClientCert, cfg.PKI.ClientKey), nats.Timeout(waitFor), nats.NoReconnect())
		require.NoError(t, err, "mutual TLS with the script's certificates")
		nc.Close()
	})

	t.Run("nats-passwords.sh", func(t *testing.T) {
		secrets := filepath.Join(dir, "secrets")
		run("nats-passwords.sh", secrets)
		first, err := os.ReadFile(filepath.Join(secrets, "nats-points.password"))
		require.NoError(t, err)
		run("nats-passwords.sh", secrets)
		again, err := os.ReadFile(filepath.Join(secrets, "nats-points.password"))
		require.NoError(t, err)
		assert.Equal(t, first, again, "passwords are kept on a second run")

		f, err := os.Open(filepath.Join(secrets, "nats-server.env"))
		require.NoError(t, err)
		defer f.Close()
		env := map[string]string{}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), "=")
			require.True(t, ok, sc.Text())
			env[k] = v
		}
		require.NoError(t, sc.Err())
		assert.ElementsMatch(t, passwordVars(t), keys(env), "a server-side password for every user of accounts.conf")
		for k, v := range env {
			user := strings.ToLower(strings.TrimPrefix(k, "NATS_PASSWORD_"))
			b, err := os.ReadFile(filepath.Join(secrets, "nats-"+user+".password"))
			require.NoError(t, err, user)
			assert.Equal(t, strings.TrimSpace(string(b)), v, "the client's password is the server's, for %s", user)
			assert.GreaterOrEqual(t, len(v), 32)
		}

		// The files compose and the kustomization read are the ones made.
		compose := readYAML(t, filepath.Join(composeDir, "compose.yaml"))[0]
		for name := range mapping(t, compose, "secrets") {
			file := str(t, compose, "secrets", name, "file")
			if strings.HasPrefix(file, "./secrets/nats-") {
				_, err := os.Stat(filepath.Join(secrets, strings.TrimPrefix(file, "./secrets/")))
				assert.NoError(t, err, "compose secret %s", name)
			}
		}
		kust := readYAML(t, filepath.Join(k8sDir, "kustomization.yaml"))[0]
		for _, g := range list(t, kust, "secretGenerator") {
			var srcs []string
			if fs, ok := g.(map[string]any)["files"]; ok {
				for _, s := range stringList(t, fs.([]any)) {
					_, src, _ := strings.Cut(s, "=")
					srcs = append(srcs, src)
				}
			}
			if es, ok := g.(map[string]any)["envs"]; ok {
				srcs = append(srcs, stringList(t, es.([]any))...)
			}
			for _, src := range srcs {
				if strings.HasPrefix(src, "secrets/nats-") {
					_, err := os.Stat(filepath.Join(dir, src))
					assert.NoError(t, err, "kustomization secret %s", src)
				}
			}
		}
	})
}
