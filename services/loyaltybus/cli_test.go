package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/shuyun"
	"github.com/loyaltybus/loyaltybus/adapters/shuyun/shuyuntest"
	"github.com/loyaltybus/loyaltybus/events"
	eventspoints "github.com/loyaltybus/loyaltybus/events/points"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/pkg/bus/bustest"
	"github.com/loyaltybus/loyaltybus/services/points"
)

const cliMember = "0040a85608844820900558fc2671cb7c"

// cliHarness is an embedded JetStream with the points service running
// against the Shuyun simulator, driven through run like a user would.
type cliHarness struct {
	url  string
	js   jetstream.JetStream
	sim  *shuyuntest.Simulator
	stop func()
}

func newCLIHarness(t *testing.T, cfg bus.Config) *cliHarness {
	t.Helper()
	srv := bustest.NewServer(t)
	_, js := bustest.Connect(t, srv.ClientURL())
	require.NoError(t, bus.Provision(t.Context(), js, bus.Topology{}))
	sim := shuyuntest.NewServer(t)
	vendor, err := shuyun.New(shuyun.Config{BaseURL: sim.URL, ClientID: shuyuntest.DefaultClientID, ClientSecret: shuyuntest.DefaultClientSecret})
	require.NoError(t, err)
	cfg.Name, cfg.SkipProvision = points.Name, true
	cfg.Backoff = bus.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond}
	stop := bustest.Start(t, srv.ClientURL(), cfg, points.New(vendor).Routes()...)
	return &cliHarness{url: srv.ClientURL(), js: js, sim: sim.Simulator, stop: stop}
}

// cli runs the binary's run with args and returns stdout, stderr and the exit code.
func (h *cliHarness) cli(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), args, env(map[string]string{"LOYALTY_NATS_URL": h.url}), &stdout, &stderr)
	if err != nil {
		fmt.Fprintln(&stderr, "loyaltybus:", err)
	}
	return stdout.String(), stderr.String(), exitCode(err)
}

// callsFor counts the vendor calls that carried token.
func (h *cliHarness) callsFor(path, token string) int {
	n := 0
	for _, c := range h.sim.Calls(path) {
		if c.Token == token {
			n++
		}
	}
	return n
}

func freezeData(pts int) string {
	return fmt.Sprintf(`{"memberId":%q,"memberType":"shuyun","channelType":"POS","points":%d}`, cliMember, pts)
}

// published is the --json output of publish and of a waited redrive.
type published struct {
	ID        string `json:"id"`
	Subject   string `json:"subject"`
	Stream    string `json:"stream"`
	Seq       uint64 `json:"seq"`
	MsgID     string `json:"msgId"`
	Duplicate bool   `json:"duplicate"`
	Result    *struct {
		ID          string        `json:"id"`
		Type        string        `json:"type"`
		CausationID string        `json:"causationid"`
		Data        events.Result `json:"data"`
	} `json:"result"`
}

func decodeJSON[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal([]byte(s), &v), "output is not JSON: %s", s)
	return v
}

// jsonLines parses output with one JSON document per line.
func jsonLines[T any](t *testing.T, s string) []T {
	t.Helper()
	var out []T
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		out = append(out, decodeJSON[T](t, sc.Text()))
	}
	return out
}

func TestPublishWaitExitCodes(t *testing.T) {
	h := newCLIHarness(t, bus.Config{})

	t.Run("succeeded", func(t *testing.T) {
		out, errOut, code := h.cli(t, "publish", "points.freeze", "--data", freezeData(10), "--wait", "--json")
		require.Equal(t, exitOK, code, errOut)
		p := decodeJSON[published](t, out)
		require.NotNil(t, p.Result)
		assert.Equal(t, events.StatusSucceeded, p.Result.Data.Status)
		assert.Equal(t, p.ID, p.Result.CausationID)
		assert.Equal(t, "loyalty.points.freeze.result.v1", p.Result.Type)
		assert.Equal(t, eventspoints.SubjectFreeze, p.Subject)
		assert.Equal(t, p.ID, p.MsgID)
		assert.Equal(t, 1, h.callsFor(shuyun.PathFreezePoints, p.ID))
	})
	t.Run("human output and data from a file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "freeze.json")
		require.NoError(t, os.WriteFile(file, []byte(freezeData(3)+"\n"), 0o600))
		out, errOut, code := h.cli(t, "publish", "--data", "@"+file, "loyalty.points.freeze.v1", "--wait", "--id", "order-42-freeze")
		require.Equal(t, exitOK, code, errOut)
		assert.Contains(t, out, "published loyalty.points.freeze.v1 order-42-freeze to loyalty.cmd.points.freeze")
		assert.Contains(t, out, "SUCCEEDED after 1 attempt(s)")
	})
	t.Run("the same id again is a duplicate with the same result", func(t *testing.T) {
		out, errOut, code := h.cli(t, "publish", "points.freeze", "--data", freezeData(3), "--id", "order-42-freeze", "--wait", "--json")
		require.Equal(t, exitOK, code, errOut)
		p := decodeJSON[published](t, out)
		assert.True(t, p.Duplicate)
		require.NotNil(t, p.Result)
		assert.Equal(t, events.StatusSucceeded, p.Result.Data.Status)
		assert.Equal(t, 1, h.callsFor(shuyun.PathFreezePoints, "order-42-freeze"))
	})
	t.Run("vendor refusal exits 1", func(t *testing.T) {
		h.sim.BusinessErrorNext(1, shuyuntest.CodeParam, "参数异常", shuyuntest.OnPath(shuyun.PathFreezePoints))
		out, _, code := h.cli(t, "publish", "points.freeze", "--data", freezeData(4), "--wait")
		assert.Equal(t, exitFailed, code)
		assert.Contains(t, out, "FAILED after 1 attempt(s)")
		assert.Contains(t, out, "vendor: shuyun http 400 code "+shuyuntest.CodeParam+": 参数异常")
	})
	t.Run("rejection by the service exits 1", func(t *testing.T) {
		out, _, code := h.cli(t, "publish", "points.freeze", "--data", freezeData(-5), "--no-validate", "--wait", "--json")
		assert.Equal(t, exitFailed, code)
		p := decodeJSON[published](t, out)
		require.NotNil(t, p.Result)
		assert.Equal(t, events.StatusRejected, p.Result.Data.Status)
		require.NotNil(t, p.Result.Data.Error)
		assert.Contains(t, p.Result.Data.Error.Message, "data.points")
	})
	t.Run("usage errors exit 2 and send nothing", func(t *testing.T) {
		before := bustest.Count(t, h.js, events.StreamCommands, events.SubjectCommands)
		for name, args := range map[string][]string{
			"invalid data":     {"publish", "points.freeze", "--data", freezeData(0)},
			"not JSON":         {"publish", "points.freeze", "--data", "{memberId"},
			"no data":          {"publish", "points.freeze"},
			"unknown type":     {"publish", "points.melt", "--data", "{}"},
			"no type":          {"publish", "--data", "{}"},
			"unknown flag":     {"publish", "points.freeze", "--data", freezeData(1), "--frobnicate"},
			"bad id":           {"publish", "points.freeze", "--data", freezeData(1), "--id", "has space"},
			"bad content mode": {"publish", "points.freeze", "--data", freezeData(1), "--content-mode", "xml"},
		} {
			_, errOut, code := h.cli(t, args...)
			assert.Equal(t, exitUsage, code, "%s: %s", name, errOut)
		}
		_, errOut, _ := h.cli(t, "publish", "points.freeze", "--data", freezeData(0))
		assert.Contains(t, errOut, "data.points: must be greater than 0")
		assert.Equal(t, before, bustest.Count(t, h.js, events.StreamCommands, events.SubjectCommands))
	})
	t.Run("help exits 0", func(t *testing.T) {
		_, errOut, code := h.cli(t, "publish", "-h")
		assert.Equal(t, exitOK, code)
		assert.Contains(t, errOut, "loyalty.points.freeze.v1")
	})
	t.Run("unreachable NATS exits 4", func(t *testing.T) {
		_, errOut, code := h.cli(t, "publish", "points.freeze", "--data", freezeData(1), "--server", "nats://127.0.0.1:1")
		assert.Equal(t, exitInfra, code)
		assert.Contains(t, errOut, "connect to NATS at nats://127.0.0.1:1")
	})
	t.Run("no result in time exits 3", func(t *testing.T) {
		h.stop() // nothing consumes commands any more
		out, errOut, code := h.cli(t, "publish", "points.freeze", "--data", freezeData(2), "--wait", "--timeout", "200ms", "--json")
		assert.Equal(t, exitTimeout, code)
		assert.Contains(t, errOut, "no result for command")
		p := decodeJSON[published](t, out)
		assert.NotZero(t, p.Seq, "published all the same")
		assert.Nil(t, p.Result)
	})
}

// eventLine is one line of events --json.
type eventLine struct {
	Stream  string    `json:"stream"`
	Seq     uint64    `json:"seq"`
	Subject string    `json:"subject"`
	Stored  time.Time `json:"stored"`
	Mode    string    `json:"mode"`
	Event   struct {
		ID          string          `json:"id"`
		Type        string          `json:"type"`
		CausationID string          `json:"causationid"`
		Data        json.RawMessage `json:"data"`
	} `json:"event"`
}

// storedAt is the time JetStream stored a message.
func storedAt(t *testing.T, js jetstream.JetStream, stream string, seq uint64) time.Time {
	t.Helper()
	st, err := js.Stream(t.Context(), stream)
	require.NoError(t, err)
	m, err := st.GetMsg(t.Context(), seq)
	require.NoError(t, err)
	return m.Time
}

func TestEventsSince(t *testing.T) {
	h := newCLIHarness(t, bus.Config{OutputMode: bus.Structured}) // outputs in structured mode, commands in binary
	var ids []string
	for i := 1; i <= 4; i++ {
		out, errOut, code := h.cli(t, "publish", "points.freeze", "--data", freezeData(i), "--wait", "--json")
		require.Equal(t, exitOK, code, errOut)
		ids = append(ids, decodeJSON[published](t, out).ID)
	}
	// A result can reach its waiter before the stream has stored it.
	stored := bustest.WaitMessages(t, h.js, events.StreamEvents, events.SubjectEvents, 4)
	require.Len(t, stored, 4)
	bustest.WaitMessages(t, h.js, events.StreamResults, events.SubjectResults, 4)

	t.Run("seq:N returns the events from N on, in order", func(t *testing.T) {
		out, errOut, code := h.cli(t, "events", "--stream", "events", "--since", "seq:"+strconv.FormatUint(stored[1].Seq, 10), "--json")
		require.Equal(t, exitOK, code, errOut)
		lines := jsonLines[eventLine](t, out)
		require.Len(t, lines, 3)
		for i, l := range lines {
			assert.Equal(t, stored[i+1].Seq, l.Seq)
			assert.Equal(t, ids[i+1], l.Event.CausationID)
			assert.Equal(t, eventspoints.TypeFrozen, l.Event.Type)
			assert.Equal(t, "structured", l.Mode)
			var frozen eventspoints.Frozen
			require.NoError(t, json.Unmarshal(l.Event.Data, &frozen))
			assert.Equal(t, int64(i+2), frozen.Points)
		}
	})
	t.Run("an RFC 3339 time returns what was stored from then on, results too", func(t *testing.T) {
		from := storedAt(t, h.js, events.StreamEvents, stored[2].Seq)
		out, errOut, code := h.cli(t, "events", "--since", from.Format(time.RFC3339Nano), "--json")
		require.Equal(t, exitOK, code, errOut)
		lines := jsonLines[eventLine](t, out)
		var want []string
		for _, o := range bustest.Messages(t, h.js, events.StreamEvents, events.SubjectEvents) {
			if !storedAt(t, h.js, events.StreamEvents, o.Seq).Before(from) {
				want = append(want, events.StreamEvents+"/"+o.Event.ID())
			}
		}
		for _, o := range bustest.Messages(t, h.js, events.StreamResults, events.SubjectResults) {
			if !storedAt(t, h.js, events.StreamResults, o.Seq).Before(from) {
				want = append(want, events.StreamResults+"/"+o.Event.ID())
			}
		}
		var got []string
		for i, l := range lines {
			got = append(got, l.Stream+"/"+l.Event.ID)
			assert.False(t, l.Stored.Before(from))
			if i > 0 {
				assert.False(t, l.Stored.Before(lines[i-1].Stored), "merged in stored order")
			}
		}
		assert.ElementsMatch(t, want, got)
		assert.Contains(t, got, events.StreamEvents+"/"+stored[2].Event.ID())
		assert.NotContains(t, got, events.StreamEvents+"/"+stored[1].Event.ID())
	})
	t.Run("--type selects one kind", func(t *testing.T) {
		out, errOut, code := h.cli(t, "events", "--since", "1h", "--type", "loyalty.points.freeze.result.v1", "--json")
		require.Equal(t, exitOK, code, errOut)
		lines := jsonLines[eventLine](t, out)
		require.Len(t, lines, 4)
		for _, l := range lines {
			assert.Equal(t, events.StreamResults, l.Stream)
		}
		out, _, code = h.cli(t, "events", "--since", "1h", "--type", "loyalty.points.frozen.v1")
		require.Equal(t, exitOK, code)
		assert.Equal(t, 4, strings.Count(out, "events#"))
		assert.Contains(t, out, "loyalty.points.frozen.v1  id=")
	})
	t.Run("seq:N across two streams is a usage error", func(t *testing.T) {
		_, errOut, code := h.cli(t, "events", "--since", "seq:1")
		assert.Equal(t, exitUsage, code)
		assert.Contains(t, errOut, "--stream")
	})
	t.Run("--follow prints new events until interrupted", func(t *testing.T) {
		var stdout, stderr syncBuffer
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"events", "--follow", "--stream", "events", "--since", "seq:" + strconv.FormatUint(stored[3].Seq, 10)},
				env(map[string]string{"LOYALTY_NATS_URL": h.url}), &stdout, &stderr)
		}()
		require.Eventually(t, func() bool { return strings.Contains(stdout.String(), ids[3]) }, 10*time.Second, 10*time.Millisecond)
		out, _, code := h.cli(t, "publish", "points.freeze", "--data", freezeData(9), "--json")
		require.Equal(t, exitOK, code)
		id := decodeJSON[published](t, out).ID
		require.Eventually(t, func() bool { return strings.Contains(stdout.String(), id) }, 10*time.Second, 10*time.Millisecond)
		cancel()
		require.NoError(t, <-done)
	})
}

// replayOutput is the --json output of replay.
type replayOutput struct {
	DryRun   bool `json:"dryRun"`
	Scanned  int  `json:"scanned"`
	Replayed int  `json:"replayed"`
	Skipped  int  `json:"skipped"`
	Failed   int  `json:"failed"`
	Commands []struct {
		ID        string `json:"id"`
		Seq       uint64 `json:"seq"`
		Current   string `json:"current"`
		Action    string `json:"action"`
		ReplaySeq uint64 `json:"replaySeq"`
	} `json:"commands"`
}

func TestReplayAfterVendorOutage(t *testing.T) {
	h := newCLIHarness(t, bus.Config{MaxAttempts: 2})
	publish := func(pts int) (string, int) {
		out, errOut, code := h.cli(t, "publish", "points.freeze", "--data", freezeData(pts), "--wait", "--json")
		require.Contains(t, []int{exitOK, exitFailed}, code, errOut)
		return decodeJSON[published](t, out).ID, code
	}
	ok, code := publish(1)
	require.Equal(t, exitOK, code)
	h.sim.FailNext(100, http.StatusServiceUnavailable, shuyuntest.OnPath(shuyun.PathFreezePoints)) // the outage
	down1, code := publish(2)
	require.Equal(t, exitFailed, code)
	down2, code := publish(3)
	require.Equal(t, exitFailed, code)
	h.sim.Reset() // the vendor is back
	bustest.WaitIdle(t, h.js, points.Name)
	require.Equal(t, 2, h.callsFor(shuyun.PathFreezePoints, down1), "two attempts before giving up")
	commandsBefore := bustest.Count(t, h.js, events.StreamCommands, events.SubjectCommands)

	out, errOut, code := h.cli(t, "replay", "commands", "--since", "seq:1", "--dry-run", "--json")
	require.Equal(t, exitOK, code, errOut)
	plan := decodeJSON[replayOutput](t, out)
	assert.True(t, plan.DryRun)
	assert.Equal(t, 2, plan.Replayed)
	assert.Equal(t, 1, plan.Skipped)
	actions := map[string]string{}
	for _, c := range plan.Commands {
		actions[c.ID] = c.Current + "/" + c.Action
	}
	assert.Equal(t, map[string]string{ok: "succeeded/skip", down1: "failed/replay", down2: "failed/replay"}, actions)
	assert.Equal(t, commandsBefore, bustest.Count(t, h.js, events.StreamCommands, events.SubjectCommands), "a dry run publishes nothing")

	out, errOut, code = h.cli(t, "replay", "commands", "--since", "seq:1", "--subject", "loyalty.cmd.points.>", "--json")
	require.Equal(t, exitOK, code, errOut)
	rep := decodeJSON[replayOutput](t, out)
	assert.Equal(t, 2, rep.Replayed)
	assert.Equal(t, 1, rep.Skipped)
	assert.Zero(t, rep.Failed)
	assert.Contains(t, errOut, "replay: 3/3 (100%) replayed 2, skipped 1, failed 0", "plain progress lines when not on a terminal")

	results := bustest.WaitMessages(t, h.js, events.StreamResults, events.SubjectResults, 5)
	bustest.WaitIdle(t, h.js, points.Name)
	latest := map[string]bustest.ResultData{}
	for _, r := range results {
		latest[r.Ext(events.AttrCausationID)] = r.Result(t)
	}
	for _, id := range []string{ok, down1, down2} {
		assert.Equal(t, "succeeded", latest[id].Status, id)
		assert.Equal(t, 1, h.sim.EffectCount(shuyun.PathFreezePoints, id), id)
	}
	assert.Equal(t, 3, latest[down1].Attempts, "attempts count on")
	assert.Equal(t, 1, h.callsFor(shuyun.PathFreezePoints, ok), "no second vendor call for the succeeded command")
	assert.Equal(t, 3, h.callsFor(shuyun.PathFreezePoints, down1), "one more call for each failed command")
	stored := bustest.Messages(t, h.js, events.StreamCommands, events.SubjectCommands)
	require.Len(t, stored, 5)
	for _, m := range stored[3:] {
		assert.Equal(t, "true", m.Header.Get(events.HeaderReplay))
		assert.NotEqual(t, m.Event.ID(), m.Header.Get("Nats-Msg-Id"), "a fresh Nats-Msg-Id")
	}

	// Everything succeeded now: a second replay has nothing to re-attempt,
	// and forcing the succeeded ones through calls no vendor either.
	out, _, code = h.cli(t, "replay", "commands", "--since", "seq:1", "--json")
	require.Equal(t, exitOK, code)
	rep = decodeJSON[replayOutput](t, out)
	assert.Equal(t, 0, rep.Replayed)
	assert.Equal(t, 3, rep.Skipped)
	out, _, code = h.cli(t, "replay", "commands", "--since", "seq:1", "--include-succeeded")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "replayed 3, skipped 0 (already succeeded), failed 0")
	bustest.WaitIdle(t, h.js, points.Name)
	for _, id := range []string{ok, down1, down2} {
		assert.Equal(t, 1, h.sim.EffectCount(shuyun.PathFreezePoints, id), id)
	}
	assert.Equal(t, 1, h.callsFor(shuyun.PathFreezePoints, ok))
	assert.Equal(t, 3, h.callsFor(shuyun.PathFreezePoints, down1))
	// The outcomes are still found when the latest copies are replays whose
	// results the results stream dropped as duplicates.
	out, _, code = h.cli(t, "replay", "commands", "--since", "seq:1", "--dry-run", "--json")
	require.Equal(t, exitOK, code)
	rep = decodeJSON[replayOutput](t, out)
	assert.Equal(t, 3, rep.Skipped)
	assert.Equal(t, 8, rep.Scanned, "3 commands, 2 replayed, 3 forced")

	t.Run("--until bounds the range, exclusive", func(t *testing.T) {
		out, _, code := h.cli(t, "replay", "commands", "--since", "seq:1", "--until", "seq:2", "--dry-run", "--json")
		require.Equal(t, exitOK, code)
		plan := decodeJSON[replayOutput](t, out)
		require.Len(t, plan.Commands, 1)
		assert.Equal(t, ok, plan.Commands[0].ID)
	})
	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{
			{"replay", "commands"},
			{"replay", "--since", "1h"},
			{"replay", "commands", "--since", "yesterday"},
			{"replay", "commands", "--since", "1h", "--subject", "loyalty.event.>"},
		} {
			_, _, code := h.cli(t, args...)
			assert.Equal(t, exitUsage, code, args)
		}
	})
}

// deadLetterOutput is an entry of dlq list --json and dlq show --json.
type deadLetterOutput struct {
	Seq            uint64              `json:"seq"`
	Subject        string              `json:"subject"`
	CommandSubject string              `json:"commandSubject"`
	ID             string              `json:"id"`
	Type           string              `json:"type"`
	Reason         string              `json:"reason"`
	Attempts       int                 `json:"attempts"`
	OriginalStream string              `json:"originalStream"`
	OriginalSeq    uint64              `json:"originalSeq"`
	Headers        map[string][]string `json:"headers"`
	Data           json.RawMessage     `json:"data"`
}

func TestDLQRedriveOfACommandFixedByHand(t *testing.T) {
	h := newCLIHarness(t, bus.Config{})
	out, _, code := h.cli(t, "publish", "points.freeze", "--data", freezeData(0), "--no-validate", "--wait", "--json")
	require.Equal(t, exitFailed, code)
	cmd := decodeJSON[published](t, out)
	bustest.WaitMessages(t, h.js, events.StreamDLQ, events.SubjectDLQ, 1)

	out, errOut, code := h.cli(t, "dlq", "list", "--json")
	require.Equal(t, exitOK, code, errOut)
	list := decodeJSON[[]deadLetterOutput](t, out)
	require.Len(t, list, 1)
	dl := list[0]
	assert.Equal(t, cmd.ID, dl.ID)
	assert.Equal(t, "loyalty.dlq.points.freeze", dl.Subject)
	assert.Equal(t, eventspoints.SubjectFreeze, dl.CommandSubject)
	assert.True(t, strings.HasPrefix(dl.Reason, "rejected: data.points"), dl.Reason)
	assert.Equal(t, events.StreamCommands, dl.OriginalStream)
	assert.Equal(t, cmd.Seq, dl.OriginalSeq)

	out, errOut, code = h.cli(t, "dlq", "show", strconv.FormatUint(dl.Seq, 10), "--json")
	require.Equal(t, exitOK, code, errOut)
	shown := decodeJSON[deadLetterOutput](t, out)
	assert.Equal(t, []string{cmd.ID}, shown.Headers["ce-id"], "the original headers")
	assert.NotContains(t, shown.Headers, events.HeaderDLQReason)
	assert.JSONEq(t, freezeData(0), string(shown.Data))
	out, _, code = h.cli(t, "dlq", "show", strconv.FormatUint(dl.Seq, 10))
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "original headers:")
	assert.Contains(t, out, "ce-type: loyalty.points.freeze.v1")

	seq := strconv.FormatUint(dl.Seq, 10)
	_, errOut, code = h.cli(t, "dlq", "redrive", seq, "--data", `{"memberId":"m"}`)
	assert.Equal(t, exitUsage, code, "a fix that still breaks the schema is refused")
	assert.Contains(t, errOut, "data.channelType: is required")

	fixed := filepath.Join(t.TempDir(), "fixed.json")
	require.NoError(t, os.WriteFile(fixed, []byte(freezeData(5)), 0o600))
	out, errOut, code = h.cli(t, "dlq", "redrive", seq, "--data", "@"+fixed, "--wait", "--json")
	require.Equal(t, exitOK, code, errOut)
	red := decodeJSON[published](t, out)
	assert.Equal(t, cmd.ID, red.ID, "the original id")
	assert.NotEqual(t, cmd.ID, red.MsgID)
	require.NotNil(t, red.Result)
	assert.Equal(t, events.StatusSucceeded, red.Result.Data.Status)
	assert.Equal(t, 1, h.sim.EffectCount(shuyun.PathFreezePoints, cmd.ID))
	avail, frozen := h.sim.Balance(cliMember)
	assert.Equal(t, int64(5), frozen)
	assert.Equal(t, int64(shuyuntest.DefaultBalance-5), avail)

	_, errOut, code = h.cli(t, "dlq", "redrive", seq)
	assert.Equal(t, exitUsage, code, "the dead letter is gone: a redrive succeeds once")
	assert.Contains(t, errOut, "no dead letter at LOYALTY_DLQ seq "+seq)
	out, _, code = h.cli(t, "dlq", "list")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "no dead letters")
	bustest.WaitIdle(t, h.js, points.Name)
	assert.Len(t, h.sim.Calls(shuyun.PathFreezePoints), 1, "one vendor call in all")
}

func TestDLQRedriveAllAndPurge(t *testing.T) {
	h := newCLIHarness(t, bus.Config{})
	h.sim.BusinessErrorNext(3, shuyuntest.CodeParam, "参数异常", shuyuntest.OnPath(shuyun.PathFreezePoints))
	var ids []string
	for i := 1; i <= 3; i++ {
		out, _, code := h.cli(t, "publish", "points.freeze", "--data", freezeData(i), "--wait", "--json")
		require.Equal(t, exitFailed, code)
		ids = append(ids, decodeJSON[published](t, out).ID)
	}
	list := bustest.WaitMessages(t, h.js, events.StreamDLQ, events.SubjectDLQ, 3)

	out, errOut, code := h.cli(t, "dlq", "purge", strconv.FormatUint(list[2].Seq, 10))
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "purged dead letter")
	_, _, code = h.cli(t, "dlq", "purge", strconv.FormatUint(list[2].Seq, 10))
	assert.Equal(t, exitUsage, code, "gone already")

	out, errOut, code = h.cli(t, "dlq", "redrive", "--all", "--json")
	require.Equal(t, exitOK, code, errOut)
	rep := decodeJSON[struct {
		Redriven, Skipped, Failed int
	}](t, out)
	assert.Equal(t, 2, rep.Redriven)
	assert.Zero(t, rep.Failed)
	bustest.WaitMessages(t, h.js, events.StreamResults, events.SubjectResults, 5)
	bustest.WaitIdle(t, h.js, points.Name)
	assert.Equal(t, 1, h.sim.EffectCount(shuyun.PathFreezePoints, ids[0]))
	assert.Equal(t, 1, h.sim.EffectCount(shuyun.PathFreezePoints, ids[1]))
	assert.Zero(t, h.sim.EffectCount(shuyun.PathFreezePoints, ids[2]), "purged, not redriven")
	assert.Zero(t, bustest.Count(t, h.js, events.StreamDLQ, events.SubjectDLQ))

	out, _, code = h.cli(t, "dlq", "purge", "--all")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "purged 0 dead letter(s)")
	_, _, code = h.cli(t, "dlq", "redrive")
	assert.Equal(t, exitUsage, code)
	_, _, code = h.cli(t, "dlq", "frobnicate")
	assert.Equal(t, exitUsage, code)
}

// statusOutput is the part of status --json the test reads.
type statusOutput struct {
	Streams []struct {
		Name     string `json:"name"`
		Missing  bool   `json:"missing"`
		Messages uint64 `json:"messages"`
	} `json:"streams"`
	Consumers []struct {
		Name       string     `json:"name"`
		Stream     string     `json:"stream"`
		Pending    uint64     `json:"pending"`
		AckPending int        `json:"ackPending"`
		LastActive *time.Time `json:"lastActive"`
	} `json:"consumers"`
	DLQ struct {
		Count    uint64            `json:"count"`
		Subjects map[string]uint64 `json:"subjects"`
	} `json:"dlq"`
	Idempotency struct {
		Records uint64 `json:"records"`
	} `json:"idempotency"`
	Warnings []string `json:"warnings"`
	Healthy  bool     `json:"healthy"`
}

func TestStatus(t *testing.T) {
	h := newCLIHarness(t, bus.Config{})
	_, _, code := h.cli(t, "publish", "points.freeze", "--data", freezeData(1), "--wait")
	require.Equal(t, exitOK, code)
	_, _, code = h.cli(t, "publish", "points.freeze", "--data", freezeData(-1), "--no-validate", "--wait")
	require.Equal(t, exitFailed, code)
	bustest.WaitIdle(t, h.js, points.Name)

	out, errOut, code := h.cli(t, "status", "--json")
	require.Equal(t, exitOK, code, errOut)
	st := decodeJSON[statusOutput](t, out)
	counts := map[string]uint64{}
	for _, s := range st.Streams {
		assert.False(t, s.Missing)
		counts[s.Name] = s.Messages
	}
	assert.Equal(t, map[string]uint64{events.StreamCommands: 2, events.StreamResults: 2, events.StreamEvents: 1, events.StreamDLQ: 1}, counts)
	require.Len(t, st.Consumers, 1)
	assert.Equal(t, points.Name, st.Consumers[0].Name)
	assert.Zero(t, st.Consumers[0].Pending)
	assert.NotNil(t, st.Consumers[0].LastActive)
	assert.Equal(t, uint64(1), st.DLQ.Count)
	assert.Equal(t, map[string]uint64{"loyalty.dlq.points.freeze": 1}, st.DLQ.Subjects)
	assert.Equal(t, uint64(2), st.Idempotency.Records)
	assert.False(t, st.Healthy)
	require.Len(t, st.Warnings, 1)
	assert.Contains(t, st.Warnings[0], "1 dead letter(s)")

	out, _, code = h.cli(t, "status")
	require.Equal(t, exitOK, code)
	for _, want := range []string{"LOYALTY_COMMANDS", "CONSUMER", "points", "DLQ          1 dead letter(s) (loyalty.dlq.points.freeze: 1)", "IDEMPOTENCY  LOYALTY_IDEMPOTENCY: 2 record(s)", "ATTENTION:"} {
		assert.Contains(t, out, want)
	}

	t.Run("an unprovisioned server exits 4", func(t *testing.T) {
		srv := bustest.NewServer(t)
		var stdout, stderr bytes.Buffer
		err := run(t.Context(), []string{"status", "--json"}, env(map[string]string{"LOYALTY_NATS_URL": srv.ClientURL()}), &stdout, &stderr)
		assert.Equal(t, exitInfra, exitCode(err))
		st := decodeJSON[statusOutput](t, stdout.String())
		assert.True(t, st.Streams[0].Missing)
	})
}

func TestParsePoint(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want point
	}{
		{in: "seq:42", want: point{seq: 42}},
		{in: "1h", want: point{time: now.Add(-time.Hour)}},
		{in: "90s", want: point{time: now.Add(-90 * time.Second)}},
		{in: "7d", want: point{time: now.Add(-7 * 24 * time.Hour)}},
		{in: "now", want: point{time: now}},
		{in: "2026-11-01T00:00:00+08:00", want: point{time: time.Date(2026, 10, 31, 16, 0, 0, 0, time.UTC)}},
		{in: "2026-11-01T08:00:00.123456789Z", want: point{time: time.Date(2026, 11, 1, 8, 0, 0, 123456789, time.UTC)}},
	}
	for _, tt := range tests {
		got, err := parsePoint(tt.in, now)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want.seq, got.seq, tt.in)
		assert.True(t, tt.want.time.Equal(got.time), "%s: got %v", tt.in, got.time)
	}
	for _, bad := range []string{"", "seq:0", "seq:x", "-1h", "yesterday", "2026-11-01"} {
		_, err := parsePoint(bad, now)
		assert.Error(t, err, bad)
	}
}

func TestParseArgsInterleavesFlagsAndArguments(t *testing.T) {
	fs, _ := newFlagSet("x", "x", &bytes.Buffer{})
	data := fs.String("data", "", "")
	pos, err := parseArgs(fs, []string{"a", "--data", "d", "b", "--", "--c"})
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "--c"}, pos)
	assert.Equal(t, "d", *data)
}

func TestExitCodes(t *testing.T) {
	assert.Equal(t, 0, exitCode(nil))
	assert.Equal(t, 1, exitCode(assert.AnError))
	assert.Equal(t, exitUsage, exitCode(fmt.Errorf("wrapped: %w", usageError("bad"))))
	assert.Equal(t, exitInfra, exitCode(infraError(assert.AnError)))
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"help"}, env(nil), &stdout, &stderr)
	require.NoError(t, err)
	assert.Contains(t, stdout.String(), "Exit codes: 0 ok, 1 command failed or rejected")
}

func TestProgressPlainLines(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, "replay", 4, "replayed", "skipped", "failed")
	clock := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return clock }
	p.start, p.last = clock, clock
	p.add("replayed")
	clock = clock.Add(2 * time.Second)
	p.add("skipped")
	p.add("replayed")
	p.finish()
	assert.Equal(t, "replay: 2/4 (50%) replayed 1, skipped 1, failed 0, 1/s\nreplay: 3/4 (75%) replayed 2, skipped 1, failed 0, 2/s\n", buf.String())
}
