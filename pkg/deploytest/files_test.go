package deploytest

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// vendorSecrets maps each service to the vendor secret settings it reads
// from files, and the Secret key holding each (deploy/k8s, compose.vendors.yaml).
var vendorSecrets = map[string]map[string]string{
	"points":  {"LOYALTY_SHUYUN_CLIENT_SECRET_FILE": "shuyun/client-secret"},
	"coupons": {"LOYALTY_SHUYUN_CLIENT_SECRET_FILE": "shuyun/client-secret", "LOYALTY_POSPAL_APP_KEY_FILE": "pospal/app-key"},
	"orders":  {"LOYALTY_SHUYUN_CLIENT_SECRET_FILE": "shuyun/client-secret"},
	"cheques": {"LOYALTY_SMARTX_PIN_FILE": "smartx/pin"},
	"feeds":   {"LOYALTY_POSPAL_APP_KEY_FILE": "pospal/app-key", "LOYALTY_WIXTAR_CLIENT_SECRET_FILE": "wixtar/client-secret"},
}

// natsServerImageTag is the nats image tag of the nats-server version the
// configuration is proven with here.
func natsServerImageTag() string { return server.VERSION + "-alpine" }

// readYAML decodes every document of a YAML file into generic maps.
func readYAML(t testing.TB, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "%s does not parse as YAML", path)
		if doc != nil {
			docs = append(docs, doc)
		}
	}
	require.NotEmpty(t, docs, "%s is empty", path)
	return docs
}

// yamlPath walks maps and lists: yamlPath(doc, "spec", "template", 0).
func yamlPath(t testing.TB, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			require.True(t, ok, "at %v: want a map for %q, got %T", path, k, v)
			v = m[k]
		case int:
			l, ok := v.([]any)
			require.True(t, ok && k < len(l), "at %v: want a list with index %d, got %v", path, k, v)
			v = l[k]
		}
	}
	return v
}

func str(t testing.TB, v any, path ...any) string {
	t.Helper()
	s, ok := yamlPath(t, v, path...).(string)
	require.True(t, ok, "at %v: want a string", path)
	return s
}

func list(t testing.TB, v any, path ...any) []any {
	t.Helper()
	l, ok := yamlPath(t, v, path...).([]any)
	require.True(t, ok, "at %v: want a list", path)
	return l
}

func mapping(t testing.TB, v any, path ...any) map[string]any {
	t.Helper()
	m, ok := yamlPath(t, v, path...).(map[string]any)
	require.True(t, ok, "at %v: want a map", path)
	return m
}

func stringList(t testing.TB, l []any) []string {
	t.Helper()
	out := make([]string, 0, len(l))
	for _, v := range l {
		s, ok := v.(string)
		require.True(t, ok, "want strings, got %v", l)
		out = append(out, s)
	}
	return out
}

// exists fails unless path (relative to dir) is a file or directory.
func exists(t testing.TB, dir, path string) {
	t.Helper()
	_, err := os.Stat(filepath.Join(dir, path))
	require.NoError(t, err, "%s refers to %s", dir, path)
}
