package chaos

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestMain fails the run if a test leaves a goroutine behind: the harness
// owns readers, publishers and process waiters, and must end them all.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestFastSubset runs one small round of cases 1, 2, 3, 5 and 6 against the
// real binary and nats-server processes (all of them with
// LOYALTY_CHAOS_FULL=1, the quick sizes kept).
func TestFastSubset(t *testing.T) {
	if testing.Short() {
		t.Skip("runs subprocesses for about half a minute")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bins, err := Build(ctx, dir)
	require.NoError(t, err)
	r := &Runner{Bins: bins, Dir: dir, Log: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	o := Options{N: 200, Burst: 2000, Kills: 3, Seed: uint64(time.Now().UnixNano()), Settle: 60 * time.Second}
	t.Logf("seed %d", o.Seed)
	want := []string{"1", "2", "3", "5", "6"}
	full := os.Getenv("LOYALTY_CHAOS_FULL") == "1"
	var rows []Row
	for _, c := range Cases() {
		if !full && !slices.Contains(want, c.ID) {
			continue
		}
		t.Run(c.ID, func(t *testing.T) {
			row, err := r.Run(ctx, c, o)
			rows = append(rows, row)
			require.NoError(t, err)
			assert.Zero(t, row.Lost, "lost: %v", row.Details)
			assert.Zero(t, row.DuplicateResults, "duplicate results: %v", row.Details)
			assert.Zero(t, row.DoubleEffects, "double effects: %v", row.Details)
			assert.Zero(t, row.Unexpected, "unexpected: %v", row.Details)
			assert.Zero(t, row.OrderViolations, "order violations: %v", row.Details)
		})
	}
	var table strings.Builder
	require.NoError(t, WriteTable(&table, rows))
	t.Log("\n" + table.String())
}

// testWriter sends log lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
