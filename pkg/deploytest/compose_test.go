package deploytest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var composeDir = filepath.Join(deployDir, "compose")

// TestCompose checks the compose file without a Docker engine: it parses,
// has the cluster, the provision job and every service with the settings,
// secrets, volumes and ports a working system needs, and agrees with the NATS
// node configurations it mounts.
func TestCompose(t *testing.T) {
	doc := readYAML(t, filepath.Join(composeDir, "compose.yaml"))[0]
	services := mapping(t, doc, "services")
	secrets := mapping(t, doc, "secrets")
	volumes := mapping(t, doc, "volumes")

	want := append([]string{"nats-1", "nats-2", "nats-3", "provision", "shuyun-simulator"}, components()...)
	assert.ElementsMatch(t, want, keys(services), "compose services")

	secretFile := func(name string) string {
		return str(t, secrets, name, "file")
	}

	cfg := newNATSConfig(t)
	for i, node := range nodeConfigs {
		name := fmt.Sprintf("nats-%d", i+1)
		t.Run(name, func(t *testing.T) {
			svc := mapping(t, services, name)
			assert.Equal(t, "nats:"+natsServerImageTag(), str(t, svc, "image"),
				"the server image is the nats-server version the configuration is tested with")
			assert.Equal(t, []string{"nats-server", "--config", "/etc/nats/conf/" + node}, stringList(t, list(t, svc, "command")))
			mounts := stringList(t, list(t, svc, "volumes"))
			assert.Contains(t, mounts, "../nats:/etc/nats/conf:ro")
			assert.Contains(t, mounts, "./tls:"+strings.TrimSuffix(containerTLSDir, "/")+":ro", "certificates where the configuration reads them")
			exists(t, composeDir, "../nats/"+node)

			opts := cfg.load(t, node)
			data := name + "-data"
			assert.Contains(t, volumes, data)
			var target string
			for _, m := range mounts {
				if strings.HasPrefix(m, data+":") {
					target = strings.TrimPrefix(m, data+":")
				}
			}
			assert.True(t, target != "" && strings.HasPrefix(opts.StoreDir, target+"/"),
				"store_dir %s is on the node's own volume (%s mounted at %q)", opts.StoreDir, data, target)

			assert.Equal(t, "./secrets/nats-server.env", str(t, svc, "env_file"))
			assert.NotEmpty(t, mapping(t, svc, "healthcheck")["test"])
			ports, _ := svc["ports"].([]any)
			if i == 0 {
				assert.Equal(t, []string{"127.0.0.1:4222:4222"}, stringList(t, ports), "only the client port, on the host's loopback")
			} else {
				assert.Empty(t, ports)
			}
		})
	}

	t.Run("provision", func(t *testing.T) {
		svc := mapping(t, services, "provision")
		assert.True(t, strings.HasPrefix(str(t, svc, "image"), "natsio/nats-box:"))
		assert.Equal(t, []string{"sh", "/jetstream/provision.sh", "/jetstream/streams"}, stringList(t, list(t, svc, "command")))
		assert.Contains(t, stringList(t, list(t, svc, "volumes")), "../nats/jetstream:/jetstream:ro")
		exists(t, composeDir, "../nats/jetstream/provision.sh")
		env := mapping(t, svc, "environment")
		assert.Equal(t, "operator", env["NATS_USER"])
		assert.Equal(t, "/run/secrets/nats_operator_password", env["NATS_PASSWORD_FILE"])
		assert.Equal(t, "./secrets/nats-operator.password", secretFile("nats_operator_password"))
		assert.Equal(t, []string{"nats_operator_password"}, stringList(t, list(t, svc, "secrets")))
		for _, n := range []string{"nats-1", "nats-2", "nats-3"} {
			assert.Equal(t, "service_healthy", str(t, svc, "depends_on", n, "condition"))
		}
	})

	passthrough := map[string]bool{}
	for _, s := range components() {
		t.Run(s, func(t *testing.T) {
			svc := mapping(t, services, s)
			assert.Equal(t, "loyaltybus:local", str(t, svc, "image"))
			assert.Equal(t, "../..", str(t, svc, "build", "context"))
			dockerfile := str(t, svc, "build", "dockerfile")
			exists(t, filepath.Join(composeDir, "../.."), dockerfile)
			assert.Equal(t, []string{"run", s}, stringList(t, list(t, svc, "command")), "one image, one binary, the service as argument")

			env := mapping(t, svc, "environment")
			assert.Equal(t, s, env["LOYALTY_NATS_USER"])
			assert.Equal(t, inboxPrefix(s), env["LOYALTY_NATS_INBOX_PREFIX"])
			secret := "nats_" + s + "_password"
			assert.Equal(t, "/run/secrets/"+secret, env["LOYALTY_NATS_PASSWORD_FILE"])
			assert.Equal(t, []string{secret}, stringList(t, list(t, svc, "secrets")))
			assert.Equal(t, "./secrets/nats-"+s+".password", secretFile(secret))
			assert.Equal(t, "tls://nats-1:4222,tls://nats-2:4222,tls://nats-3:4222", env["LOYALTY_NATS_URL"])
			assert.Equal(t, "/etc/loyaltybus/tls/ca.pem", env["LOYALTY_NATS_TLS_CA"])
			assert.Contains(t, stringList(t, list(t, svc, "volumes")), "./tls/ca.pem:/etc/loyaltybus/tls/ca.pem:ro")
			assert.Equal(t, "false", env["LOYALTY_PROVISION"], "the operator provisions")
			assert.Equal(t, "3", env["LOYALTY_STREAM_REPLICAS"])
			assert.Equal(t, ":8080", env["LOYALTY_HTTP_ADDR"])
			for k, v := range env {
				if s, ok := v.(string); ok && s == "${"+k+":-}" {
					passthrough[k] = true
				}
			}

			assert.Equal(t, "service_completed_successfully", str(t, svc, "depends_on", "provision", "condition"))
			assert.Equal(t, true, svc["read_only"])
			if s != "schedule" {
				assert.GreaterOrEqual(t, yamlPath(t, svc, "deploy", "replicas"), 2, "scaled horizontally")
			}
			assert.Nil(t, svc["ports"], "services publish no ports")
		})
	}

	t.Run("simulators profile", func(t *testing.T) {
		svc := mapping(t, services, "shuyun-simulator")
		assert.Equal(t, []string{"simulators"}, stringList(t, list(t, svc, "profiles")))
		assert.Equal(t, "loyaltybus:local", str(t, svc, "image"))
		assert.Equal(t, []string{"simulate", "shuyun"}, stringList(t, list(t, svc, "command"))[:2])
		b, err := os.ReadFile(filepath.Join(composeDir, "simulators.env"))
		require.NoError(t, err)
		for _, line := range strings.Split(string(b), "\n") {
			if k, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
				assert.True(t, passthrough[k], "simulators.env sets %s, which no service receives", k)
			}
		}
	})

	t.Run("vendor secrets as files", func(t *testing.T) {
		doc := readYAML(t, filepath.Join(composeDir, "compose.vendors.yaml"))[0]
		vsecrets := mapping(t, doc, "secrets")
		for _, s := range servicesMatrix() {
			env := mapping(t, doc, "services", s, "environment")
			mounted := stringList(t, list(t, doc, "services", s, "secrets"))
			got := map[string]string{}
			for k, v := range env {
				got[k] = v.(string)
			}
			assert.Len(t, got, len(vendorSecrets[s]), "%s gets the files of its own vendors only", s)
			for setting := range vendorSecrets[s] {
				path := got[setting]
				name := strings.TrimPrefix(path, "/run/secrets/")
				assert.True(t, slices.Contains(mounted, name), "%s: %s names %s, which is not mounted", s, setting, path)
				assert.Contains(t, vsecrets, name)
			}
		}
	})

	t.Run("generated files are not committed", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(composeDir, ".gitignore"))
		require.NoError(t, err)
		for _, p := range []string{"/tls/", "/secrets/", "/.env"} {
			assert.Contains(t, strings.Fields(string(b)), p)
		}
	})
}

// servicesMatrix lists the command services of the matrix.
func servicesMatrix() []string {
	var out []string
	for _, s := range services {
		out = append(out, s.name)
	}
	return out
}

// components lists everything deployed from the loyaltybus image: the
// command services and the scheduler.
func components() []string { return append(servicesMatrix(), "schedule") }
