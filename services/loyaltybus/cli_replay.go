package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/loyaltybus/loyaltybus/client"
	"github.com/loyaltybus/loyaltybus/events"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
)

const replaySynopsis = `loyaltybus replay commands --since 1h|RFC3339|seq:N [--until ...] [--subject loyalty.cmd.points.>] [--dry-run] [--include-succeeded]

Re-publishes the commands stored in LOYALTY_COMMANDS from --since (inclusive)
up to --until (exclusive; default: what is stored now) with the header
Loyalty-Replay: true, the same CloudEvent id and a fresh Nats-Msg-Id. The
services re-attempt a command whose current outcome is failed or rejected.

Each command id is replayed once, in the order it was first stored, with its
latest operator copy (a redrive with fixed data) or else its first copy.
Before publishing, the current result of every command is looked up in
LOYALTY_RESULTS (the latest result by causationid): a command that already
succeeded is skipped, because the services would answer it from their
idempotency record without calling the vendor anyway. --include-succeeded
re-publishes those too (the services then re-emit their stored results).
Commands without a result yet are replayed; the services settle each once.

--dry-run prints the plan and publishes nothing. The summary counts
replayed, skipped (already succeeded) and failed (could not be re-published,
exit code 4) commands.`

// replayItem is one command id of a replay.
type replayItem struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Subject   string    `json:"subject"`
	Seq       uint64    `json:"seq"`
	FirstSeq  uint64    `json:"firstSeq"`
	Stored    time.Time `json:"stored"`
	Current   string    `json:"current"`
	Action    string    `json:"action"`
	ReplaySeq uint64    `json:"replaySeq,omitempty"`
	Error     string    `json:"error,omitempty"`

	firstStored time.Time // when the command id was first stored
}

// Replay actions and the current outcome of a command without a result.
const (
	actionReplay  = "replay"
	actionSkip    = "skip"
	actionInvalid = "invalid"
	actionFailed  = "failed"
	currentNone   = "none"
)

// replayReport is the outcome of a replay (its --json output).
type replayReport struct {
	DryRun   bool         `json:"dryRun"`
	Stream   string       `json:"stream"`
	Subject  string       `json:"subject"`
	Since    string       `json:"since"`
	Until    string       `json:"until,omitempty"`
	Scanned  int          `json:"scanned"`
	Replayed int          `json:"replayed"`
	Skipped  int          `json:"skipped"`
	Failed   int          `json:"failed"`
	Invalid  int          `json:"invalid"`
	Duration string       `json:"duration"`
	Commands []replayItem `json:"commands"`
}

func runReplay(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, common := newFlagSet("replay", replaySynopsis, stderr)
	since := fs.String("since", "", "first command to replay: 1h, 2026-11-01T00:00:00Z or seq:N (required)")
	until := fs.String("until", "", "stop before this point: a duration ago, an RFC 3339 time or seq:N (default: now)")
	subject := fs.String("subject", events.SubjectCommands, "command subjects to replay, e.g. loyalty.cmd.points.>")
	dryRun := fs.Bool("dry-run", false, "print what would be replayed and publish nothing")
	withSucceeded := fs.Bool("include-succeeded", false, "re-publish commands that already succeeded too")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return helpOK(err)
	}
	if len(pos) != 1 || pos[0] != "commands" {
		fs.Usage()
		return usageError("replay: want \"replay commands --since ...\"")
	}
	now := time.Now()
	if *since == "" {
		return usageError("replay: --since is required")
	}
	from, err := parsePoint(*since, now)
	if err != nil {
		return usageError("--since %w", err)
	}
	var to point
	if *until != "" {
		if to, err = parsePoint(*until, now); err != nil {
			return usageError("--until %w", err)
		}
	}
	if !strings.HasPrefix(*subject, "loyalty.cmd.") {
		return usageError("--subject %q: want a subject under loyalty.cmd.", *subject)
	}

	cn, err := connect(ctx, common.server, getenv)
	if err != nil {
		return err
	}
	defer cn.close()
	start := time.Now()
	rep := &replayReport{DryRun: *dryRun, Stream: events.StreamCommands, Subject: *subject, Since: from.String(), Until: to.String()}
	items, err := scanCommands(ctx, cn, *subject, from, to, rep)
	if err != nil {
		return err
	}
	if err := currentOutcomes(ctx, cn, *subject, items); err != nil {
		return err
	}
	for i := range items {
		it := &items[i]
		switch {
		case it.Action == actionInvalid:
			rep.Invalid++
		case it.Current == string(events.StatusSucceeded) && !*withSucceeded:
			it.Action = actionSkip
		default:
			it.Action = actionReplay
		}
	}
	if !*dryRun {
		if err := replayItems(ctx, cn, items, stderr); err != nil {
			return err
		}
	}
	for _, it := range items {
		switch it.Action {
		case actionReplay:
			rep.Replayed++
		case actionSkip:
			rep.Skipped++
		case actionFailed:
			rep.Failed++
		}
	}
	rep.Commands = items
	if rep.Commands == nil {
		rep.Commands = []replayItem{}
	}
	rep.Duration = time.Since(start).Round(time.Millisecond).String()
	if err := printReplay(stdout, common.json, rep, start); err != nil {
		return err
	}
	if rep.Failed > 0 {
		return infraError(fmt.Errorf("replay: %d command(s) could not be re-published", rep.Failed))
	}
	return nil
}

// scanCommands reads the stored commands in [from, to) and picks one copy
// per command id.
func scanCommands(ctx context.Context, cn *conn, subject string, from, to point, rep *replayReport) ([]replayItem, error) {
	cur, err := openCursor(ctx, cn.js, events.StreamCommands, []string{subject}, from)
	if err != nil {
		return nil, err
	}
	defer cur.close()
	var items []replayItem
	index := map[string]int{}
	for {
		m, md, err := cur.next(ctx, false)
		if err != nil {
			return nil, err
		}
		if m == nil {
			return items, nil
		}
		if to.seq > 0 && md.Sequence.Stream >= to.seq || !to.time.IsZero() && !md.Timestamp.Before(to.time) {
			return items, nil
		}
		rep.Scanned++
		ev, _, derr := bus.Decode(m.Headers(), m.Data())
		if derr != nil || !bus.ValidID(ev.ID()) {
			it := replayItem{Subject: m.Subject(), Seq: md.Sequence.Stream, FirstSeq: md.Sequence.Stream, Stored: md.Timestamp.UTC(), Current: currentNone, Action: actionInvalid}
			if derr != nil {
				it.Error = derr.Error()
			} else {
				it.ID, it.Type, it.Error = ev.ID(), ev.Type(), "no usable command id"
			}
			items = append(items, it)
			continue
		}
		id := ev.ID()
		if i, seen := index[id]; seen {
			// A later copy counts only if an operator made it (a redrive
			// with fixed data); any other is a duplicate or a conflict.
			if m.Headers().Get(events.HeaderReplay) == "true" {
				items[i].Seq, items[i].Type, items[i].Stored = md.Sequence.Stream, ev.Type(), md.Timestamp.UTC()
			}
			continue
		}
		index[id] = len(items)
		items = append(items, replayItem{ID: id, Type: ev.Type(), Subject: m.Subject(), Seq: md.Sequence.Stream, FirstSeq: md.Sequence.Stream,
			Stored: md.Timestamp.UTC(), firstStored: md.Timestamp.UTC(), Current: currentNone})
	}
}

// currentOutcomes sets each item's current outcome from the latest result
// in LOYALTY_RESULTS whose causationid is its id.
func currentOutcomes(ctx context.Context, cn *conn, subject string, items []replayItem) error {
	index := map[string]int{}
	var first time.Time
	for i, it := range items {
		if it.Action == actionInvalid {
			continue
		}
		index[it.ID] = i
		if first.IsZero() || it.firstStored.Before(first) {
			first = it.firstStored
		}
	}
	if len(index) == 0 {
		return nil
	}
	// Results are stored after their commands.
	cur, err := openCursor(ctx, cn.js, events.StreamResults, []string{events.ResultSubject(subject)}, point{time: first})
	if err != nil {
		return err
	}
	defer cur.close()
	for {
		m, _, err := cur.next(ctx, false)
		if err != nil {
			return err
		}
		if m == nil {
			return nil
		}
		ev, err := client.DecodeMsg[events.Result](m)
		if err != nil {
			continue
		}
		if i, ok := index[ev.CausationID]; ok && ev.Data.Status != "" {
			items[i].Current = string(ev.Data.Status)
		}
	}
}

// replayItems re-publishes the items to replay, in the order first stored.
func replayItems(ctx context.Context, cn *conn, items []replayItem, stderr io.Writer) error {
	c, err := client.New(cn.js)
	if err != nil {
		return err
	}
	cmds, err := cn.js.Stream(ctx, events.StreamCommands)
	if err != nil {
		return infraError(fmt.Errorf("stream %s: %w", events.StreamCommands, err))
	}
	total := 0
	for _, it := range items {
		if it.Action == actionReplay || it.Action == actionSkip {
			total++
		}
	}
	run := strconv.FormatInt(time.Now().UnixNano(), 10)
	prog := newProgress(stderr, "replay", total, "replayed", "skipped", "failed")
	for i := range items {
		it := &items[i]
		switch it.Action {
		case actionSkip:
			prog.add("skipped")
			continue
		case actionReplay:
		default:
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		raw, err := cmds.GetMsg(ctx, it.Seq)
		if err == nil {
			var r client.Receipt
			// One Nats-Msg-Id per command and run: a retried run replays again.
			_, err = c.Replay(ctx, &nats.Msg{Subject: raw.Subject, Header: raw.Header, Data: raw.Data},
				client.WithMsgID(it.ID+".replay."+run), client.CaptureReceipt(&r))
			it.ReplaySeq = r.Sequence
		}
		if err != nil {
			it.Action, it.Error = actionFailed, err.Error()
			prog.add("failed")
			continue
		}
		prog.add("replayed")
	}
	prog.finish()
	return nil
}

func printReplay(w io.Writer, asJSON bool, rep *replayReport, start time.Time) error {
	if asJSON {
		return writeJSON(w, rep)
	}
	if rep.DryRun {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SEQ\tSTORED\tSUBJECT\tID\tCURRENT\tACTION")
		for _, it := range rep.Commands {
			note := it.Action
			if it.Error != "" {
				note += " (" + clip(it.Error, 60) + ")"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", it.Seq, timestamp(it.Stored), it.Subject, it.ID, it.Current, note)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		_, err := fmt.Fprintf(w, "dry run: would replay %d, skip %d (already succeeded); %d invalid; %d messages scanned from %s; nothing was published\n",
			rep.Replayed, rep.Skipped, rep.Invalid, rep.Scanned, rep.Since)
		return err
	}
	for _, it := range rep.Commands {
		if it.Action == actionFailed {
			fmt.Fprintf(w, "failed to re-publish %s (seq %d): %s\n", it.ID, it.Seq, it.Error)
		}
	}
	fmt.Fprintf(w, "replayed %d, skipped %d (already succeeded), failed %d; %d invalid; %d messages scanned from %s in %s\n",
		rep.Replayed, rep.Skipped, rep.Failed, rep.Invalid, rep.Scanned, rep.Since, rep.Duration)
	if rep.Replayed > 0 {
		fmt.Fprintf(w, "follow the new results: loyaltybus events --stream results --since %s\n", start.UTC().Format(time.RFC3339))
	}
	return nil
}
