package deploytest

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/pkg/bus"
)

var update = flag.Bool("update", false, "rewrite deploy/nats/jetstream/streams from what bus.Provision creates")

// streamsDir holds one JSON stream definition per stream and bucket, the
// input of deploy/nats/jetstream/provision.sh ("nats stream add --config").
var streamsDir = filepath.Join(deployDir, "nats", "jetstream", "streams")

// provision sets up the streams as a deployment does: the operator applies
// the JSON definitions (what provision.sh does with the nats CLI), then
// bus.Provision and the scheduler's bucket creation run as the operator too.
// The definitions must be exactly what those create, or the services would
// find streams configured differently from what the runtime expects;
// -update rewrites them.
func provision(t *testing.T, op *conn) {
	t.Helper()
	ctx := t.Context()
	if !*update {
		for name, cfg := range readStreamDefinitions(t) {
			_, err := op.js.CreateStream(ctx, cfg)
			require.NoError(t, err, "apply %s.json", name)
		}
	}
	require.NoError(t, bus.Provision(ctx, op.js, bus.Topology{Replicas: len(nodeConfigs)}))
	// The scheduler's bucket, as services/schedule creates it when it
	// provisions itself (pkg cannot import services; keep the two in step).
	_, err := op.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      scheduleBucket,
		Description: "last published tick of each schedule",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    len(nodeConfigs),
	})
	require.NoError(t, err)

	got := map[string][]byte{}
	names := op.js.StreamNames(ctx)
	for name := range names.Name() {
		st, err := op.js.Stream(ctx, name)
		require.NoError(t, err)
		got[name] = encodeStreamConfig(t, st.CachedInfo().Config)
	}
	require.NoError(t, names.Err())

	if *update {
		require.NoError(t, os.RemoveAll(streamsDir))
		require.NoError(t, os.MkdirAll(streamsDir, 0o755))
		for name, b := range got {
			require.NoError(t, os.WriteFile(filepath.Join(streamsDir, name+".json"), b, 0o644))
		}
		return
	}
	want := map[string][]byte{}
	for name, cfg := range readStreamDefinitions(t) {
		want[name] = encodeStreamConfig(t, cfg)
	}
	assert.ElementsMatch(t, keys(want), keys(got),
		"deploy/nats/jetstream/streams has one definition per stream bus.Provision creates (go test ./deploytest -run TestCluster -update)")
	for name, w := range want {
		if g, ok := got[name]; ok {
			assert.JSONEq(t, string(w), string(g),
				"%s.json differs from what bus.Provision creates (go test ./deploytest -run TestCluster -update)", name)
		}
	}
}

func readStreamDefinitions(t testing.TB) map[string]jetstream.StreamConfig {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(streamsDir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no stream definitions in %s", streamsDir)
	out := map[string]jetstream.StreamConfig{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		var cfg jetstream.StreamConfig
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&cfg), f)
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		require.Equal(t, name, cfg.Name, "%s names stream %s", f, cfg.Name)
		out[name] = cfg
	}
	return out
}

// encodeStreamConfig is a stream configuration as a definition file holds
// it: without the metadata the server adds itself (_nats.*).
func encodeStreamConfig(t testing.TB, cfg jetstream.StreamConfig) []byte {
	t.Helper()
	md := map[string]string{}
	for k, v := range cfg.Metadata {
		if !strings.HasPrefix(k, "_nats.") {
			md[k] = v
		}
	}
	cfg.Metadata = nil
	if len(md) > 0 {
		cfg.Metadata = md
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep ">" readable in the definition files
	enc.SetIndent("", "  ")
	require.NoError(t, enc.Encode(cfg))
	return b.Bytes()
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
