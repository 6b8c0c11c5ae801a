package deploytest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDockerfile checks what can be checked without a Docker engine: a
// multi-stage build of the binary the tests build (./services/loyaltybus in
// the workspace), static (no cgo), on a minimal base, running as non-root,
// and that the build copies every module of the workspace.
func TestDockerfile(t *testing.T) {
	root := filepath.Join(deployDir, "..")
	b, err := os.ReadFile(filepath.Join(deployDir, "docker", "Dockerfile"))
	require.NoError(t, err)
	df := string(b)

	var froms []string
	for _, line := range strings.Split(df, "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.EqualFold(f[0], "FROM") {
			froms = append(froms, line)
		}
	}
	require.GreaterOrEqual(t, len(froms), 2, "multi-stage build")
	final := froms[len(froms)-1]
	assert.Contains(t, final, "distroless/static", "the final image is minimal: no shell, no libc")
	assert.Contains(t, final, ":nonroot")
	assert.Regexp(t, `(?m)^USER 65532:65532$`, df, "runs as a non-root user")
	assert.Contains(t, df, "CGO_ENABLED=0", "a static binary")

	build := regexp.MustCompile(`(?m)go build .* (\./\S+)\s*$`).FindStringSubmatch(df)
	require.NotNil(t, build, "no go build line")
	pkg := build[1]
	assert.Equal(t, "./services/loyaltybus", pkg, "the image holds the loyaltybus binary")
	main, err := os.ReadFile(filepath.Join(root, pkg, "main.go"))
	require.NoError(t, err, "%s is not in the repository", pkg)
	assert.Regexp(t, `(?m)^package main$`, string(main))
	assert.Regexp(t, `ENTRYPOINT \["/usr/local/bin/loyaltybus"\]`, df)

	// Every module of the workspace has its go.mod copied before the
	// download step, or "go mod download" fails in the image.
	work, err := os.ReadFile(filepath.Join(root, "go.work"))
	require.NoError(t, err)
	uses := regexp.MustCompile(`(?m)^\s*\./(\S+)\s*$`).FindAllStringSubmatch(string(work), -1)
	require.NotEmpty(t, uses)
	for _, u := range uses {
		assert.Regexp(t, `(?m)^COPY `+regexp.QuoteMeta(u[1])+`/go\.mod`, df, "module %s", u[1])
		if _, err := os.Stat(filepath.Join(root, u[1], "go.sum")); err == nil {
			assert.Regexp(t, `(?m)^COPY `+regexp.QuoteMeta(u[1])+`/go\.mod `+regexp.QuoteMeta(u[1])+`/go\.sum`, df, "module %s", u[1])
		}
	}

	ignore, err := os.ReadFile(filepath.Join(deployDir, "docker", "Dockerfile.dockerignore"))
	require.NoError(t, err)
	assert.Contains(t, strings.Fields(string(ignore)), ".git")
}
