package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/loyaltybus/loyaltybus/client"
	"github.com/loyaltybus/loyaltybus/events"
	"github.com/loyaltybus/loyaltybus/events/catalog"
)

const eventsSynopsis = `loyaltybus events [--since 1h|RFC3339|seq:N] [--type T]... [--stream events|results|all] [--follow]

Prints the change events (LOYALTY_EVENTS) and results (LOYALTY_RESULTS)
stored since a point, oldest first, merged by the time they were stored, and
with --follow goes on printing new ones until interrupted. Both content modes
are decoded. --since takes a duration ago (15m, 1h, 7d), an RFC 3339 time or
"now" (messages stored at or after it), or seq:N (messages from stream
sequence N on; needs a single stream, chosen by --stream, --type or
--subject). Without --since: the last hour, or only new messages with
--follow.`

// multiFlag is a repeatable string flag that also splits on commas.
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ",") }

func (m *multiFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*m = append(*m, s)
		}
	}
	return nil
}

func runEvents(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, common := newFlagSet("events", eventsSynopsis, stderr)
	since := fs.String("since", "", "where to start: 1h, 2026-11-01T00:00:00Z, now or seq:N")
	var types multiFlag
	fs.Var(&types, "type", "only events of this CloudEvent type (repeatable), e.g. loyalty.points.frozen.v1 or loyalty.points.freeze.result.v1")
	subject := fs.String("subject", "", "only messages on this NATS subject (wildcards allowed), e.g. loyalty.event.points.>")
	stream := fs.String("stream", "all", "events, results or all")
	follow := fs.Bool("follow", false, "keep printing new messages until interrupted")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return helpOK(err)
	}
	if len(pos) > 0 {
		return usageError("events: unexpected argument %q", pos[0])
	}
	sel, err := selectEvents(*stream, *subject, types)
	if err != nil {
		return err
	}
	from := *since
	if from == "" {
		from = "1h"
		if *follow {
			from = "now"
		}
	}
	start, err := parsePoint(from, time.Now())
	if err != nil {
		return usageError("--since %w", err)
	}
	if start.seq > 0 && len(sel.streams) > 1 {
		return usageError("--since seq:N names a position in one stream: add --stream events or --stream results")
	}

	cn, err := connect(ctx, common.server, getenv)
	if err != nil {
		return err
	}
	defer cn.close()
	var cursors []*cursor
	defer func() {
		for _, c := range cursors {
			c.close()
		}
	}()
	for _, s := range sel.streams {
		c, err := openCursor(ctx, cn.js, s, sel.subjects[s], start)
		if err != nil {
			return err
		}
		cursors = append(cursors, c)
	}
	emit := func(m jetstream.Msg) error { return printEvent(stdout, common.json, m, sel.types) }
	if err := mergeCaughtUp(ctx, cursors, emit); err != nil {
		return quietCancel(ctx, err)
	}
	if !*follow {
		return nil
	}
	return quietCancel(ctx, followAll(ctx, cursors, emit))
}

// quietCancel treats the end of ctx (Ctrl-C while following) as success.
func quietCancel(ctx context.Context, err error) error {
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return nil
	}
	return err
}

// eventSelection is which streams and subjects events reads.
type eventSelection struct {
	streams  []string
	subjects map[string][]string
	types    map[string]bool // nil: every type
}

func selectEvents(stream, subject string, types []string) (*eventSelection, error) {
	all := map[string][]string{events.StreamEvents: {events.SubjectEvents}, events.StreamResults: {events.SubjectResults}}
	allowed := map[string]bool{}
	switch stream {
	case "all", "":
		allowed[events.StreamEvents], allowed[events.StreamResults] = true, true
	case "events":
		allowed[events.StreamEvents] = true
	case "results":
		allowed[events.StreamResults] = true
	default:
		return nil, usageError("--stream %q: want events, results or all", stream)
	}
	picked := map[string][]string{}
	sel := &eventSelection{}
	switch {
	case subject != "":
		s := streamOfSubject(subject)
		if s == "" {
			return nil, usageError("--subject %q: want a subject under loyalty.event. or loyalty.result.", subject)
		}
		picked[s] = []string{subject}
	case len(types) > 0:
		known := true
		for _, t := range types {
			s, subj := subjectOfType(t)
			if s == "" {
				known = false
				break
			}
			picked[s] = append(picked[s], subj)
		}
		if !known { // a type the catalogue does not list: read all, filter here
			picked = all
		}
	default:
		picked = all
	}
	if len(types) > 0 {
		sel.types = map[string]bool{}
		for _, t := range types {
			sel.types[t] = true
		}
	}
	sel.subjects = map[string][]string{}
	for _, s := range []string{events.StreamEvents, events.StreamResults} {
		if subs, ok := picked[s]; ok && allowed[s] {
			sel.streams = append(sel.streams, s)
			sel.subjects[s] = subs
		}
	}
	if len(sel.streams) == 0 {
		return nil, usageError("--stream %s excludes what --type or --subject select", stream)
	}
	return sel, nil
}

func streamOfSubject(subject string) string {
	switch {
	case strings.HasPrefix(subject, "loyalty.event."):
		return events.StreamEvents
	case strings.HasPrefix(subject, "loyalty.result."):
		return events.StreamResults
	}
	return ""
}

// subjectOfType finds the stream and subject of a change or result type.
func subjectOfType(t string) (stream, subject string) {
	for _, c := range catalog.Changes() {
		if c.Type == t {
			return events.StreamEvents, c.Subject
		}
	}
	for _, c := range catalog.Commands() {
		if c.ResultType() == t {
			return events.StreamResults, c.ResultSubject()
		}
	}
	return "", ""
}

// mergeCaughtUp prints what the cursors held when opened, oldest stored first.
func mergeCaughtUp(ctx context.Context, cursors []*cursor, fn func(jetstream.Msg) error) error {
	for {
		var best *cursor
		var bestMD *jetstream.MsgMetadata
		for _, c := range cursors {
			m, md, err := c.peek(ctx)
			if err != nil {
				return err
			}
			if m != nil && (best == nil || md.Timestamp.Before(bestMD.Timestamp)) {
				best, bestMD = c, md
			}
		}
		if best == nil {
			return nil
		}
		m, _, err := best.next(ctx, false)
		if err != nil {
			return err
		}
		if err := fn(m); err != nil {
			return err
		}
	}
}

// followAll prints new messages of every cursor as they come, until ctx ends.
func followAll(ctx context.Context, cursors []*cursor, fn func(jetstream.Msg) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	msgs := make(chan jetstream.Msg)
	errs := make(chan error, len(cursors))
	var wg sync.WaitGroup
	for _, c := range cursors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				m, _, err := c.next(ctx, true)
				if err != nil {
					errs <- err
					return
				}
				select {
				case msgs <- m:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	defer wg.Wait()
	for {
		select {
		case m := <-msgs:
			if err := fn(m); err != nil {
				return err
			}
		case err := <-errs:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// eventJSON is one line of events --json.
type eventJSON struct {
	Stream  string          `json:"stream"`
	Seq     uint64          `json:"seq"`
	Subject string          `json:"subject"`
	Stored  time.Time       `json:"stored"`
	Mode    string          `json:"mode,omitempty"`
	Event   json.RawMessage `json:"event,omitempty"`
	Error   string          `json:"error,omitempty"`
}

func printEvent(w io.Writer, asJSON bool, m jetstream.Msg, types map[string]bool) error {
	ev, err := client.DecodeMsg[json.RawMessage](m)
	if err == nil && types != nil && !types[ev.Type] {
		return nil
	}
	md, _ := m.Metadata()
	var seq uint64
	var stored time.Time
	var stream string
	if md != nil {
		stream, seq, stored = md.Stream, md.Sequence.Stream, md.Timestamp
	}
	if asJSON {
		out := eventJSON{Stream: stream, Seq: seq, Subject: m.Subject(), Stored: stored.UTC()}
		if err != nil && ev.CloudEvent == nil {
			out.Error = err.Error()
			return writeJSON(w, out)
		}
		out.Mode = ev.Mode.String()
		b, merr := json.Marshal(ev.CloudEvent)
		if merr != nil {
			out.Error = merr.Error()
		} else {
			out.Event = b
		}
		if err != nil {
			out.Error = err.Error()
		}
		return writeJSON(w, out)
	}
	label := strings.ToLower(strings.TrimPrefix(stream, "LOYALTY_"))
	if err != nil && ev.CloudEvent == nil {
		_, werr := fmt.Fprintf(w, "%s  %s#%d  %s  undecodable: %v\n", timestamp(stored), label, seq, m.Subject(), err)
		return werr
	}
	if stream == events.StreamResults {
		var r events.Result
		if json.Unmarshal(ev.Data, &r) == nil && r.Status != "" {
			line := fmt.Sprintf("%s  %s#%d  %s  %s  cmd=%s attempts=%d", timestamp(stored), label, seq, ev.Type, strings.ToUpper(string(r.Status)), r.CommandID, r.Attempts)
			if r.Error != nil {
				line += "  " + clip(r.Error.Code+": "+r.Error.Message, 120)
			} else if len(r.Output) > 0 {
				b, _ := json.Marshal(r.Output)
				line += "  " + string(b)
			}
			_, werr := fmt.Fprintln(w, line)
			return werr
		}
	}
	_, werr := fmt.Fprintf(w, "%s  %s#%d  %s  id=%s cause=%s  %s\n", timestamp(stored), label, seq, ev.Type, ev.ID, ev.CausationID, compactJSON(ev.Data))
	return werr
}
