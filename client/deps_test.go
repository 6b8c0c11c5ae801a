package client_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDependencies keeps the client small for the systems that import it:
// no NATS server, no logging stack, no services or vendor adapters, and of
// pkg only the bus runtime's codec and validation.
func TestDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.CommandContext(t.Context(), "go", "list", "-deps", ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	const mod = "github.com/loyaltybus/loyaltybus/"
	forbidden := []string{
		"github.com/nats-io/nats-server",
		"github.com/lmittmann/tint",
		mod + "services",
		mod + "adapters",
		mod + "pkg/natsembed",
		mod + "pkg/logging",
		mod + "pkg/config",
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("client depends on %s", dep)
			}
		}
	}
}
