package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/loyaltybus/loyaltybus/client"
	"github.com/loyaltybus/loyaltybus/events"
	"github.com/loyaltybus/loyaltybus/events/catalog"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
)

const dlqSynopsis = `loyaltybus dlq list [--subject loyalty.dlq.>] [--since ...] [--limit 100]
       loyaltybus dlq show SEQ
       loyaltybus dlq redrive SEQ [--data JSON|@FILE] [--wait [--timeout 30s]] [--keep]
       loyaltybus dlq redrive --all [--subject loyalty.dlq.points.>] [--keep]
       loyaltybus dlq purge SEQ | --all [--subject ...]

Dead letters (LOYALTY_DLQ) are copies of failed, rejected and conflicting
commands with their original headers and bytes, the reason, the attempts and
where the original is stored. SEQ is the dead letter's sequence in
LOYALTY_DLQ, as dlq list shows it.

redrive sends a dead letter back to its command subject with its original
CloudEvent id (so it stays idempotent), a fresh Nats-Msg-Id and the header
Loyalty-Replay: true; the service re-attempts the failed or rejected command.
--data replaces the command's data, validated against its schema, to fix a
rejected command by hand. The dead letter is removed once the redrive is
stored (--keep keeps it); a re-attempt that fails again is dead-lettered
anew. redrive --all redrives the latest dead letter of every command id under
--subject, skipping conflicts, messages without a usable id, and commands
whose current result is succeeded.`

// deadLetter is a DLQ message as the CLI shows it.
type deadLetter struct {
	Seq            uint64              `json:"seq"`
	Stored         time.Time           `json:"stored"`
	Subject        string              `json:"subject"`
	CommandSubject string              `json:"commandSubject,omitempty"`
	ID             string              `json:"id,omitempty"`
	Type           string              `json:"type,omitempty"`
	Reason         string              `json:"reason"`
	Attempts       int                 `json:"attempts"`
	OriginalStream string              `json:"originalStream,omitempty"`
	OriginalSeq    uint64              `json:"originalSeq,omitempty"`
	Mode           string              `json:"mode,omitempty"`
	Headers        map[string][]string `json:"headers"`
	Data           json.RawMessage     `json:"data,omitempty"`
	Payload        string              `json:"payload,omitempty"`

	msg *nats.Msg
}

func newDeadLetter(seq uint64, stored time.Time, subject string, h nats.Header, data []byte) deadLetter {
	d := deadLetter{Seq: seq, Stored: stored.UTC(), Subject: subject, Headers: map[string][]string{},
		msg: &nats.Msg{Subject: subject, Header: h, Data: data}}
	d.CommandSubject, _ = client.CommandSubject(subject)
	d.Reason = h.Get(events.HeaderDLQReason)
	d.Attempts, _ = strconv.Atoi(h.Get(events.HeaderDLQAttempts))
	d.OriginalStream = h.Get(events.HeaderDLQStream)
	d.OriginalSeq, _ = strconv.ParseUint(h.Get(events.HeaderDLQSequence), 10, 64)
	for k, v := range h {
		// The runtime gives the copy its own Nats-Msg-Id; the rest is original.
		if lk := strings.ToLower(k); !strings.HasPrefix(lk, "loyalty-dlq-") && lk != "nats-msg-id" {
			d.Headers[k] = v
		}
	}
	ev, mode, err := bus.Decode(h, data)
	if err == nil {
		d.ID, d.Type, d.Mode = ev.ID(), ev.Type(), mode.String()
		if json.Valid(ev.Data()) {
			d.Data = ev.Data()
		}
	}
	if d.Data == nil && len(data) > 0 {
		d.Payload = string(data)
	}
	return d
}

// redrivable says why a dead letter cannot be redriven ("" if it can).
func (d deadLetter) redrivable() string {
	switch {
	case d.CommandSubject == "":
		return "no command subject: the message had no usable command id; publish a corrected command instead"
	case d.ID == "" || !bus.ValidID(d.ID):
		return "no usable command id"
	case strings.HasPrefix(d.Reason, "conflict"):
		return "conflict: the command id was reused with a different payload and the first command's result stands; publish under a new id instead"
	}
	return ""
}

func runDLQ(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, common := newFlagSet("dlq", dlqSynopsis, stderr)
	subject := fs.String("subject", events.SubjectDLQ, "dead-letter subjects (list, redrive --all, purge --all), e.g. loyalty.dlq.points.>")
	since := fs.String("since", "", "list: dead letters stored since 1h, an RFC 3339 time or seq:N (default: all)")
	limit := fs.Int("limit", 100, "list: at most this many (0: all)")
	data := fs.String("data", "", "redrive SEQ: replace the command's data with this JSON, or @FILE")
	all := fs.Bool("all", false, "redrive or purge every dead letter under --subject")
	keep := fs.Bool("keep", false, "redrive: keep the dead letter after redriving it")
	wait := fs.Bool("wait", false, "redrive SEQ: wait for the re-attempt's result and exit non-zero unless it succeeded")
	timeout := fs.Duration("timeout", 30*time.Second, "how long --wait waits for the result")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return helpOK(err)
	}
	if len(pos) == 0 {
		fs.Usage()
		return usageError("dlq: want list, show, redrive or purge")
	}
	if !strings.HasPrefix(*subject, "loyalty.dlq.") {
		return usageError("--subject %q: want a subject under loyalty.dlq.", *subject)
	}
	verb, rest := pos[0], pos[1:]
	var seq uint64
	needSeq := func() error {
		if *all {
			if len(rest) > 0 {
				return usageError("dlq %s: give SEQ or --all, not both", verb)
			}
			return nil
		}
		if len(rest) != 1 {
			return usageError("dlq %s: want one SEQ (the dead letter's sequence, see dlq list)", verb)
		}
		n, err := strconv.ParseUint(rest[0], 10, 64)
		if err != nil || n == 0 {
			return usageError("dlq %s: SEQ %q is not a stream sequence", verb, rest[0])
		}
		seq = n
		return nil
	}
	var fixed json.RawMessage
	switch verb {
	case "list":
		if len(rest) > 0 {
			return usageError("dlq list: unexpected argument %q", rest[0])
		}
	case "show":
		if *all {
			return usageError("dlq show: --all is not supported; use dlq list")
		}
		if err := needSeq(); err != nil {
			return err
		}
	case "redrive":
		if err := needSeq(); err != nil {
			return err
		}
		if *all && (*data != "" || *wait) {
			return usageError("dlq redrive --all: --data and --wait apply to one dead letter only")
		}
		if *data != "" {
			if fixed, err = readData(*data); err != nil {
				return err
			}
		}
		if *timeout <= 0 {
			return usageError("--timeout must be positive")
		}
	case "purge":
		if err := needSeq(); err != nil {
			return err
		}
	default:
		fs.Usage()
		return usageError("dlq: unknown action %q (want list, show, redrive or purge)", verb)
	}

	cn, err := connect(ctx, common.server, getenv)
	if err != nil {
		return err
	}
	defer cn.close()
	st, err := cn.js.Stream(ctx, events.StreamDLQ)
	if err != nil {
		return infraError(fmt.Errorf("stream %s (is loyaltybus provisioned?): %w", events.StreamDLQ, err))
	}
	switch {
	case verb == "list":
		from := point{}
		if *since != "" {
			if from, err = parsePoint(*since, time.Now()); err != nil {
				return usageError("--since %w", err)
			}
		}
		return dlqList(ctx, cn, *subject, from, *limit, stdout, common.json)
	case verb == "show":
		d, err := getDeadLetter(ctx, st, seq)
		if err != nil {
			return err
		}
		return dlqShow(stdout, common.json, d)
	case verb == "redrive" && *all:
		return dlqRedriveAll(ctx, cn, st, *subject, *keep, stdout, stderr, common.json)
	case verb == "redrive":
		return dlqRedrive(ctx, cn, st, seq, fixed, *keep, *wait, *timeout, stdout, common.json)
	case verb == "purge" && *all:
		return dlqPurgeAll(ctx, st, *subject, stdout, common.json)
	default:
		if err := st.DeleteMsg(ctx, seq); err != nil {
			if errors.Is(err, jetstream.ErrMsgNotFound) || errors.Is(err, jetstream.ErrMsgDeleteUnsuccessful) {
				return usageError("no dead letter at %s seq %d", events.StreamDLQ, seq)
			}
			return infraError(fmt.Errorf("purge %s seq %d: %w", events.StreamDLQ, seq, err))
		}
		if common.json {
			return writeJSON(stdout, map[string]any{"purged": []uint64{seq}})
		}
		_, err := fmt.Fprintf(stdout, "purged dead letter %s seq %d\n", events.StreamDLQ, seq)
		return err
	}
}

func getDeadLetter(ctx context.Context, st jetstream.Stream, seq uint64) (deadLetter, error) {
	raw, err := st.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return deadLetter{}, usageError("no dead letter at %s seq %d (redriven or purged already? see loyaltybus dlq list)", events.StreamDLQ, seq)
	}
	if err != nil {
		return deadLetter{}, infraError(fmt.Errorf("read %s seq %d: %w", events.StreamDLQ, seq, err))
	}
	return newDeadLetter(raw.Sequence, raw.Time, raw.Subject, raw.Header, raw.Data), nil
}

// readDeadLetters reads the dead letters under subject from a point.
func readDeadLetters(ctx context.Context, cn *conn, subject string, from point, limit int) ([]deadLetter, int, error) {
	cur, err := openCursor(ctx, cn.js, events.StreamDLQ, []string{subject}, from)
	if err != nil {
		return nil, 0, err
	}
	defer cur.close()
	var out []deadLetter
	total := 0
	for {
		m, md, err := cur.next(ctx, false)
		if err != nil {
			return nil, 0, err
		}
		if m == nil {
			return out, total, nil
		}
		total++
		if limit <= 0 || len(out) < limit {
			out = append(out, newDeadLetter(md.Sequence.Stream, md.Timestamp, m.Subject(), m.Headers(), m.Data()))
		}
	}
}

func dlqList(ctx context.Context, cn *conn, subject string, from point, limit int, w io.Writer, asJSON bool) error {
	list, total, err := readDeadLetters(ctx, cn, subject, from, limit)
	if err != nil {
		return err
	}
	if asJSON {
		if list == nil {
			list = []deadLetter{}
		}
		for i := range list {
			list[i].Headers, list[i].Data, list[i].Payload = nil, nil, ""
		}
		return writeJSON(w, list)
	}
	if total == 0 {
		_, err := fmt.Fprintf(w, "no dead letters under %s\n", subject)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tSTORED\tSUBJECT\tCOMMAND ID\tATTEMPTS\tREASON")
	for _, d := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\n", d.Seq, timestamp(d.Stored), d.Subject, d.ID, d.Attempts, clip(d.Reason, 80))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if total > len(list) {
		fmt.Fprintf(w, "… and %d more (--limit 0 lists all)\n", total-len(list))
	}
	_, err = fmt.Fprintf(w, "%d dead letter(s). Details: loyaltybus dlq show SEQ; send back: loyaltybus dlq redrive SEQ\n", total)
	return err
}

func dlqShow(w io.Writer, asJSON bool, d deadLetter) error {
	if asJSON {
		return writeJSON(w, d)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("dead letter", fmt.Sprintf("%s seq %d, stored %s", events.StreamDLQ, d.Seq, timestamp(d.Stored)))
	row("subject", d.Subject)
	row("command id", d.ID)
	row("type", d.Type)
	row("reason", d.Reason)
	row("attempts", strconv.Itoa(d.Attempts))
	row("original", fmt.Sprintf("%s seq %d on %s", d.OriginalStream, d.OriginalSeq, d.CommandSubject))
	row("content mode", d.Mode)
	if why := d.redrivable(); why != "" {
		row("redrive", "not possible: "+why)
	} else {
		row("redrive", fmt.Sprintf("loyaltybus dlq redrive %d [--data @fixed.json]", d.Seq))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "original headers:")
	keys := make([]string, 0, len(d.Headers))
	for k := range d.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %s: %s\n", k, strings.Join(d.Headers[k], ", "))
	}
	if d.Data != nil {
		var buf bytes.Buffer
		if json.Indent(&buf, d.Data, "  ", "  ") == nil {
			fmt.Fprintf(w, "data:\n  %s\n", buf.String())
		}
	} else if d.Payload != "" {
		fmt.Fprintf(w, "payload (not a CloudEvent with JSON data):\n  %q\n", d.Payload)
	}
	return nil
}

// dlqRedrive sends one dead letter back, optionally with fixed data.
func dlqRedrive(ctx context.Context, cn *conn, st jetstream.Stream, seq uint64, fixed json.RawMessage, keep, wait bool, timeout time.Duration, w io.Writer, asJSON bool) error {
	d, err := getDeadLetter(ctx, st, seq)
	if err != nil {
		return err
	}
	if why := d.redrivable(); why != "" {
		return usageError("dead letter %d cannot be redriven: %s", seq, why)
	}
	cmd, ok := catalog.CommandByType(d.Type)
	if !ok {
		cmd = events.Command{Type: d.Type, Subject: d.CommandSubject}
	}
	m := d.msg
	if fixed != nil {
		if !ok {
			return usageError("dead letter %d: type %q is not in the catalogue, its data cannot be validated", seq, d.Type)
		}
		if err := client.Validate(cmd, fixed); err != nil {
			return classify(err)
		}
		if m, err = client.ReplaceData(m, fixed); err != nil {
			return usageError("dead letter %d: %w", seq, err)
		}
	}
	c, err := client.New(cn.js)
	if err != nil {
		return err
	}
	var rcpt client.Receipt
	var res client.Event[events.Result]
	opts := []client.PublishOption{
		client.WithMsgID(d.ID + ".redrive." + strconv.FormatInt(time.Now().UnixNano(), 10)),
		client.CaptureReceipt(&rcpt), client.CaptureResult(&res),
	}
	var rerr error
	if wait {
		wctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		_, rerr = c.ReplayAndWait(wctx, m, opts...)
	} else {
		_, rerr = c.Replay(ctx, m, opts...)
	}
	if rcpt.Stream == "" { // not published
		return classify(rerr)
	}
	removed := false
	if !keep {
		if err := st.DeleteMsg(ctx, seq); err != nil {
			return infraError(fmt.Errorf("redriven as %s seq %d, but removing dead letter %d failed: %w", rcpt.Stream, rcpt.Sequence, seq, err))
		}
		removed = true
	}
	var got *client.Event[events.Result]
	if res.ID != "" {
		got = &res
	}
	if asJSON {
		out := struct {
			DLQSeq  uint64 `json:"dlqSeq"`
			Removed bool   `json:"removed"`
			publishedJSON
		}{DLQSeq: seq, Removed: removed, publishedJSON: publishedJSON{ID: rcpt.ID, Type: d.Type, Subject: rcpt.Subject, Stream: rcpt.Stream, Seq: rcpt.Sequence, MsgID: rcpt.MsgID, Duplicate: rcpt.Duplicate}}
		if got != nil {
			b, err := json.Marshal(got.CloudEvent)
			if err != nil {
				return fmt.Errorf("encode result event: %w", err)
			}
			out.Result = b
		}
		if err := writeJSON(w, out); err != nil {
			return err
		}
	} else {
		note := "dead letter removed"
		if !removed {
			note = "dead letter kept"
		}
		if fixed != nil {
			note = "with fixed data; " + note
		}
		fmt.Fprintf(w, "redriven %s from %s seq %d to %s (%s seq %d), %s\n", d.ID, events.StreamDLQ, seq, rcpt.Subject, rcpt.Stream, rcpt.Sequence, note)
		if got != nil {
			printResult(w, got)
		}
	}
	return classify(rerr)
}

// redriveReport is the outcome of dlq redrive --all.
type redriveReport struct {
	Redriven int          `json:"redriven"`
	Skipped  int          `json:"skipped"`
	Failed   int          `json:"failed"`
	Items    []redriveRow `json:"deadLetters"`
}

type redriveRow struct {
	Seq       uint64 `json:"seq"`
	ID        string `json:"id,omitempty"`
	Subject   string `json:"subject"`
	Action    string `json:"action"`
	Reason    string `json:"reason,omitempty"`
	ReplaySeq uint64 `json:"replaySeq,omitempty"`
}

func dlqRedriveAll(ctx context.Context, cn *conn, st jetstream.Stream, subject string, keep bool, w, stderr io.Writer, asJSON bool) error {
	list, _, err := readDeadLetters(ctx, cn, subject, point{}, 0)
	if err != nil {
		return err
	}
	// The latest dead letter of each command id is the one to redrive; the
	// older ones go with it.
	latest := map[string]int{}
	for i, d := range list {
		if d.redrivable() == "" {
			latest[d.ID] = i
		}
	}
	items := make([]replayItem, 0, len(latest))
	for id, i := range latest {
		// Read results from a little before the dead letter: its result was
		// published with it.
		items = append(items, replayItem{ID: id, Subject: list[i].CommandSubject, firstStored: list[i].Stored.Add(-time.Minute), Current: currentNone})
	}
	cmdSubject, _ := client.CommandSubject(subject)
	if err := currentOutcomes(ctx, cn, cmdSubject, items); err != nil {
		return err
	}
	succeeded := map[string]bool{}
	for _, it := range items {
		succeeded[it.ID] = it.Current == string(events.StatusSucceeded)
	}
	c, err := client.New(cn.js)
	if err != nil {
		return err
	}
	rep := redriveReport{Items: []redriveRow{}}
	prog := newProgress(stderr, "redrive", len(list), "redriven", "skipped", "failed")
	run := strconv.FormatInt(time.Now().UnixNano(), 10)
	redriven := map[string]bool{}
	for i, d := range list {
		row := redriveRow{Seq: d.Seq, ID: d.ID, Subject: d.Subject}
		switch {
		case d.redrivable() != "":
			row.Action, row.Reason = "skipped", d.redrivable()
		case succeeded[d.ID]:
			row.Action, row.Reason = "skipped", "the command has succeeded since"
		case latest[d.ID] != i:
			row.Action, row.Reason = "superseded", "a later dead letter of the same command is redriven"
		default:
			var r client.Receipt
			if _, err := c.Replay(ctx, d.msg, client.WithMsgID(d.ID+".redrive."+run), client.CaptureReceipt(&r)); err != nil {
				row.Action, row.Reason = "failed", err.Error()
			} else {
				row.Action, row.ReplaySeq = "redriven", r.Sequence
				redriven[d.ID] = true
			}
		}
		rep.Items = append(rep.Items, row)
		switch row.Action {
		case "redriven":
			rep.Redriven++
			prog.add("redriven")
		case "failed":
			rep.Failed++
			prog.add("failed")
		default:
			rep.Skipped++
			prog.add("skipped")
		}
	}
	prog.finish()
	if !keep { // remove what was redriven, including superseded copies
		for _, row := range rep.Items {
			if redriven[row.ID] && (row.Action == "redriven" || row.Action == "superseded") {
				if err := st.DeleteMsg(ctx, row.Seq); err != nil && !errors.Is(err, jetstream.ErrMsgDeleteUnsuccessful) {
					return infraError(fmt.Errorf("remove dead letter %d: %w", row.Seq, err))
				}
			}
		}
	}
	if asJSON {
		if err := writeJSON(w, rep); err != nil {
			return err
		}
	} else {
		for _, row := range rep.Items {
			if row.Action == "failed" || row.Action == "skipped" {
				fmt.Fprintf(w, "%s seq %d (%s): %s\n", row.Action, row.Seq, row.ID, row.Reason)
			}
		}
		fmt.Fprintf(w, "redriven %d, skipped %d, failed %d\n", rep.Redriven, rep.Skipped, rep.Failed)
	}
	if rep.Failed > 0 {
		return infraError(fmt.Errorf("dlq redrive: %d dead letter(s) could not be redriven", rep.Failed))
	}
	return nil
}

func dlqPurgeAll(ctx context.Context, st jetstream.Stream, subject string, w io.Writer, asJSON bool) error {
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		return infraError(fmt.Errorf("stream %s: %w", events.StreamDLQ, err))
	}
	var n uint64
	for _, c := range info.State.Subjects {
		n += c
	}
	if err := st.Purge(ctx, jetstream.WithPurgeSubject(subject)); err != nil {
		return infraError(fmt.Errorf("purge %s: %w", subject, err))
	}
	if asJSON {
		return writeJSON(w, map[string]any{"purgedCount": n, "subject": subject})
	}
	_, err = fmt.Fprintf(w, "purged %d dead letter(s) under %s\n", n, subject)
	return err
}
