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

var k8sDir = filepath.Join(deployDir, "k8s")

// TestKubernetes parses every manifest and the kustomization, and checks the
// Deployments against the matrix: one per service, probes on the health
// endpoints, resource requests, credentials from Secrets mounted as files,
// settings from the ConfigMap.
func TestKubernetes(t *testing.T) {
	kust := readYAML(t, filepath.Join(k8sDir, "kustomization.yaml"))[0]
	byKind := map[string][]map[string]any{}
	for _, r := range stringList(t, list(t, kust, "resources")) {
		exists(t, k8sDir, r)
		path := filepath.Join(k8sDir, r)
		if fi, err := os.Stat(path); err == nil && fi.IsDir() {
			continue
		}
		for _, doc := range readYAML(t, path) {
			kind := str(t, doc, "kind")
			assert.NotEmpty(t, str(t, doc, "apiVersion"), r)
			assert.NotEmpty(t, str(t, doc, "metadata", "name"), r)
			byKind[kind] = append(byKind[kind], doc)
		}
	}
	// Every manifest in the directory is a resource of the kustomization.
	files, err := filepath.Glob(filepath.Join(k8sDir, "*.yaml"))
	require.NoError(t, err)
	more, err := filepath.Glob(filepath.Join(k8sDir, "deployments", "*.yaml"))
	require.NoError(t, err)
	for _, f := range append(files, more...) {
		rel, err := filepath.Rel(k8sDir, f)
		require.NoError(t, err)
		if rel != "kustomization.yaml" {
			assert.Contains(t, stringList(t, list(t, kust, "resources")), filepath.ToSlash(rel))
		}
	}

	generated := map[string]bool{}
	for _, g := range list(t, kust, "secretGenerator") {
		name := str(t, g, "name")
		generated[name] = true
		var sources []string
		if f, ok := g.(map[string]any)["files"]; ok {
			for _, s := range stringList(t, f.([]any)) {
				_, src, _ := strings.Cut(s, "=")
				sources = append(sources, src)
			}
		}
		if e, ok := g.(map[string]any)["envs"]; ok {
			sources = append(sources, stringList(t, e.([]any))...)
		}
		for _, src := range sources {
			assert.True(t, strings.HasPrefix(src, "secrets/") || strings.HasPrefix(src, "tls/"),
				"secret %s is made from %s, outside the ignored secrets/ and tls/", name, src)
		}
	}
	gitignore, err := os.ReadFile(filepath.Join(k8sDir, ".gitignore"))
	require.NoError(t, err)
	assert.Subset(t, strings.Fields(string(gitignore)), []string{"/secrets/", "/tls/"})

	require.Len(t, byKind["ConfigMap"], 1)
	config := mapping(t, byKind["ConfigMap"][0], "data")
	assert.Equal(t, "false", config["LOYALTY_PROVISION"], "the operator provisions")
	assert.Equal(t, "3", config["LOYALTY_STREAM_REPLICAS"])
	assert.True(t, strings.HasPrefix(config["LOYALTY_NATS_URL"].(string), "tls://"))
	for _, v := range []string{"SHUYUN", "POSPAL", "WIXTAR", "SMARTX"} {
		assert.NotEmpty(t, config["LOYALTY_"+v+"_URL"], "no simulator in a cluster: LOYALTY_%s_URL is set", v)
	}
	for k := range config {
		assert.False(t, strings.Contains(k, "SECRET") || strings.Contains(k, "PASSWORD") || strings.HasSuffix(k, "_PIN") || strings.HasSuffix(k, "_KEY"),
			"%s is a secret: it belongs in a Secret", k)
	}
	httpPort := strings.TrimPrefix(config["LOYALTY_HTTP_ADDR"].(string), ":")

	deployments := map[string]map[string]any{}
	for _, d := range byKind["Deployment"] {
		deployments[str(t, d, "metadata", "name")] = d
	}
	assert.Len(t, deployments, len(components()))
	for _, name := range components() {
		t.Run(name, func(t *testing.T) {
			d, ok := deployments["loyaltybus-"+name]
			require.True(t, ok, "no Deployment loyaltybus-%s", name)
			if name != "schedule" {
				assert.GreaterOrEqual(t, yamlPath(t, d, "spec", "replicas"), 2, "scaled horizontally")
			}
			pod := mapping(t, d, "spec", "template", "spec")
			assert.Equal(t, true, yamlPath(t, pod, "securityContext", "runAsNonRoot"))
			assert.Equal(t, false, yamlPath(t, pod, "automountServiceAccountToken"))
			c := mapping(t, pod, "containers", 0)
			assert.Equal(t, "loyaltybus", c["image"], "the image of the kustomization's images entry")
			assert.Equal(t, []string{"run", name}, stringList(t, list(t, c, "args")))
			assert.Equal(t, "loyaltybus-config", str(t, c, "envFrom", 0, "configMapRef", "name"))

			port := mapping(t, c, "ports", 0)
			assert.Equal(t, "http", port["name"])
			assert.Equal(t, httpPort, fmt.Sprint(port["containerPort"]), "the port of LOYALTY_HTTP_ADDR")
			for probe, path := range map[string]string{"readinessProbe": "/readyz", "livenessProbe": "/healthz", "startupProbe": "/healthz"} {
				assert.Equal(t, path, str(t, c, probe, "httpGet", "path"), probe)
				assert.Equal(t, "http", str(t, c, probe, "httpGet", "port"), probe)
			}
			assert.NotEmpty(t, yamlPath(t, c, "resources", "requests", "cpu"))
			assert.NotEmpty(t, yamlPath(t, c, "resources", "requests", "memory"))
			assert.NotEmpty(t, yamlPath(t, c, "resources", "limits", "memory"))
			assert.Equal(t, true, yamlPath(t, c, "securityContext", "readOnlyRootFilesystem"))
			assert.Equal(t, false, yamlPath(t, c, "securityContext", "allowPrivilegeEscalation"))

			env := map[string]string{}
			for _, e := range list(t, c, "env") {
				env[str(t, e, "name")] = str(t, e, "value")
			}
			assert.Equal(t, name, env["LOYALTY_NATS_USER"])
			assert.Equal(t, inboxPrefix(name), env["LOYALTY_NATS_INBOX_PREFIX"])

			// Every ..._FILE setting names a file of a mounted Secret, and the
			// service gets its own NATS password and its vendors' secrets.
			secretOf := map[string]string{} // mount path -> secret
			volumes := map[string]string{}
			for _, v := range list(t, pod, "volumes") {
				if name, ok := yamlPath(t, v, "secret").(map[string]any); ok {
					volumes[str(t, v, "name")] = name["secretName"].(string)
				}
			}
			for _, m := range list(t, c, "volumeMounts") {
				if secret, ok := volumes[str(t, m, "name")]; ok {
					secretOf[str(t, m, "mountPath")] = secret
					assert.True(t, generated[secret], "Secret %s is not generated by the kustomization", secret)
				}
			}
			files := map[string]string{}
			for k, v := range env {
				if strings.HasSuffix(k, "_FILE") {
					secret, ok := secretOf[filepath.Dir(v)]
					assert.True(t, ok, "%s=%s is not in a mounted Secret", k, v)
					files[k] = secret + "/" + filepath.Base(v)
				}
			}
			want := map[string]string{"LOYALTY_NATS_PASSWORD_FILE": "loyaltybus-nats-" + name + "/password"}
			for k, v := range vendorSecrets[name] {
				vendor, key, _ := strings.Cut(v, "/")
				want[k] = "loyaltybus-vendor-" + vendor + "/" + key
			}
			assert.Equal(t, want, files)
			assert.Equal(t, "nats-ca", secretOf[filepath.Dir(config["LOYALTY_NATS_TLS_CA"].(string))], "the CA from the nats-ca Secret")
		})
	}

	var pdbs []string
	for _, p := range byKind["PodDisruptionBudget"] {
		pdbs = append(pdbs, str(t, p, "spec", "selector", "matchLabels", "app.kubernetes.io/component"))
	}
	assert.ElementsMatch(t, servicesMatrix(), pdbs, "a PodDisruptionBudget per service")

	t.Run("provision job", func(t *testing.T) {
		require.Len(t, byKind["Job"], 1)
		pod := mapping(t, byKind["Job"][0], "spec", "template", "spec")
		c := mapping(t, pod, "containers", 0)
		assert.Equal(t, []string{"sh", "/jetstream/provision.sh", "/jetstream"}, stringList(t, list(t, c, "command")))
		env := map[string]string{}
		for _, e := range list(t, c, "env") {
			env[str(t, e, "name")] = str(t, e, "value")
		}
		assert.Equal(t, "operator", env["NATS_USER"])
		var cm string
		for _, v := range list(t, pod, "volumes") {
			if n, ok := yamlPath(t, v, "configMap").(map[string]any); ok {
				cm = n["name"].(string)
			}
		}
		assert.Equal(t, "loyaltybus-jetstream", cm)

		// The ConfigMap holds provision.sh and every stream definition.
		js := readYAML(t, filepath.Join(deployDir, "nats", "jetstream", "kustomization.yaml"))[0]
		gen := mapping(t, js, "configMapGenerator", 0)
		assert.Equal(t, cm, gen["name"])
		defs, err := filepath.Glob(filepath.Join(streamsDir, "*.json"))
		require.NoError(t, err)
		want := []string{"provision.sh"}
		for _, d := range defs {
			want = append(want, "streams/"+filepath.Base(d))
		}
		assert.ElementsMatch(t, want, stringList(t, list(t, gen, "files")))
	})
}

// TestHelmValues checks the values for the official NATS chart: a 3-node
// JetStream cluster with fsync on every write, TLS for clients and routes,
// the accounts file, and a password variable for every user it names.
func TestHelmValues(t *testing.T) {
	v := readYAML(t, filepath.Join(k8sDir, "nats", "values.yaml"))[0]
	assert.Equal(t, true, yamlPath(t, v, "config", "cluster", "enabled"))
	assert.Equal(t, 3, yamlPath(t, v, "config", "cluster", "replicas"))
	assert.Equal(t, true, yamlPath(t, v, "config", "cluster", "tls", "enabled"))
	assert.Equal(t, true, yamlPath(t, v, "config", "cluster", "tls", "merge", "verify"))
	assert.Equal(t, true, yamlPath(t, v, "config", "jetstream", "enabled"))
	assert.Equal(t, true, yamlPath(t, v, "config", "jetstream", "fileStore", "enabled"))
	assert.NotEmpty(t, yamlPath(t, v, "config", "jetstream", "fileStore", "dir"), "explicit store directory")
	assert.Equal(t, "always", yamlPath(t, v, "config", "jetstream", "merge", "sync_interval"))
	assert.Equal(t, true, yamlPath(t, v, "config", "nats", "tls", "enabled"))
	assert.Equal(t, true, yamlPath(t, v, "config", "monitor", "enabled"))
	assert.Equal(t, "accounts.conf", yamlPath(t, v, "config", "merge", "00$include"))
	assert.Equal(t, "nats-ca", yamlPath(t, v, "tlsCA", "secretName"))
	assert.Equal(t, natsServerImageTag(), yamlPath(t, v, "container", "image", "tag"),
		"the server image is the nats-server version the configuration is tested with")

	env := mapping(t, v, "container", "env")
	for _, pv := range passwordVars(t) {
		assert.Equal(t, "nats-users", yamlPath(t, env, pv, "valueFrom", "secretKeyRef", "name"), pv)
		assert.Equal(t, pv, yamlPath(t, env, pv, "valueFrom", "secretKeyRef", "key"), pv)
	}
	b, err := os.ReadFile(filepath.Join(k8sDir, "nats", "values.yaml"))
	require.NoError(t, err)
	assert.True(t, slices.ContainsFunc(strings.Split(string(b), "\n"), func(l string) bool {
		return strings.Contains(l, "--set-file") && strings.Contains(l, "deploy/nats/include/accounts.conf")
	}), "values.yaml tells how to add accounts.conf")
}
