package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/loyaltybus/loyaltybus/events"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
)

const statusSynopsis = `loyaltybus status [--json]

Shows the health of a loyaltybus deployment: each stream (messages, bytes,
first and last message time), each service's consumer (pending, awaiting
acknowledgement, redelivered, last active), the dead letters and the size of
the idempotency bucket, followed by what needs attention. Exits 4 when NATS
is unreachable or a stream or the bucket is missing.`

// idleAfter is how long a consumer with pending commands may be inactive
// before status calls it out.
const idleAfter = 5 * time.Minute

type statusReport struct {
	Server      serverStatus      `json:"server"`
	Time        time.Time         `json:"time"`
	Streams     []streamStatus    `json:"streams"`
	Consumers   []consumerStatus  `json:"consumers"`
	DLQ         dlqStatus         `json:"dlq"`
	Idempotency idempotencyStatus `json:"idempotency"`
	Warnings    []string          `json:"warnings"`
	Healthy     bool              `json:"healthy"`
}

type serverStatus struct {
	URL     string `json:"url"`
	Name    string `json:"name"`
	Version string `json:"version"`
}

type streamStatus struct {
	Name      string     `json:"name"`
	Missing   bool       `json:"missing,omitempty"`
	Messages  uint64     `json:"messages"`
	Bytes     uint64     `json:"bytes"`
	FirstSeq  uint64     `json:"firstSeq"`
	LastSeq   uint64     `json:"lastSeq"`
	FirstTime *time.Time `json:"firstTime,omitempty"`
	LastTime  *time.Time `json:"lastTime,omitempty"`
	Consumers int        `json:"consumers"`
	Replicas  int        `json:"replicas"`
	MaxAge    string     `json:"maxAge"`
}

type consumerStatus struct {
	Stream      string     `json:"stream"`
	Name        string     `json:"name"`
	Pending     uint64     `json:"pending"`
	AckPending  int        `json:"ackPending"`
	Redelivered int        `json:"redelivered"`
	Waiting     int        `json:"waiting"`
	LastActive  *time.Time `json:"lastActive,omitempty"`
}

type dlqStatus struct {
	Count    uint64            `json:"count"`
	Subjects map[string]uint64 `json:"subjects"`
	Last     *time.Time        `json:"last,omitempty"`
}

type idempotencyStatus struct {
	Bucket  string `json:"bucket"`
	Missing bool   `json:"missing,omitempty"`
	Records uint64 `json:"records"`
	Bytes   uint64 `json:"bytes"`
	TTL     string `json:"ttl"`
}

func runStatus(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, common := newFlagSet("status", statusSynopsis, stderr)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return helpOK(err)
	}
	if len(pos) > 0 {
		return usageError("status: unexpected argument %q", pos[0])
	}
	cn, err := connect(ctx, common.server, getenv)
	if err != nil {
		return err
	}
	defer cn.close()
	rep, err := collectStatus(ctx, cn, time.Now())
	if err != nil {
		return err
	}
	if common.json {
		err = writeJSON(stdout, rep)
	} else {
		err = printStatus(stdout, rep)
	}
	if err != nil {
		return err
	}
	for _, s := range rep.Streams {
		if s.Missing {
			return infraError(fmt.Errorf("stream %s is missing", s.Name))
		}
	}
	if rep.Idempotency.Missing {
		return infraError(fmt.Errorf("bucket %s is missing", rep.Idempotency.Bucket))
	}
	return nil
}

func collectStatus(ctx context.Context, cn *conn, now time.Time) (*statusReport, error) {
	rep := &statusReport{
		Server:    serverStatus{URL: redactURL(cn.nc.ConnectedUrlRedacted()), Name: cn.nc.ConnectedServerName(), Version: cn.nc.ConnectedServerVersion()},
		Time:      now.UTC(),
		Streams:   []streamStatus{},
		Consumers: []consumerStatus{},
		DLQ:       dlqStatus{Subjects: map[string]uint64{}},
		Warnings:  []string{},
	}
	warn := func(format string, args ...any) { rep.Warnings = append(rep.Warnings, fmt.Sprintf(format, args...)) }
	for _, name := range []string{events.StreamCommands, events.StreamResults, events.StreamEvents, events.StreamDLQ} {
		st, err := cn.js.Stream(ctx, name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			rep.Streams = append(rep.Streams, streamStatus{Name: name, Missing: true})
			warn("stream %s is missing: no loyaltybus service has provisioned this server (or LOYALTY_PROVISION=false)", name)
			continue
		}
		if err != nil {
			return nil, infraError(fmt.Errorf("stream %s: %w", name, err))
		}
		var infoOpts []jetstream.StreamInfoOpt
		if name == events.StreamDLQ {
			infoOpts = append(infoOpts, jetstream.WithSubjectFilter(events.SubjectDLQ))
		}
		info, err := st.Info(ctx, infoOpts...)
		if err != nil {
			return nil, infraError(fmt.Errorf("stream %s: %w", name, err))
		}
		s := info.State
		ss := streamStatus{Name: name, Messages: s.Msgs, Bytes: s.Bytes, FirstSeq: s.FirstSeq, LastSeq: s.LastSeq,
			Consumers: s.Consumers, Replicas: info.Config.Replicas, MaxAge: days(info.Config.MaxAge)}
		if s.Msgs > 0 {
			first, last := s.FirstTime.UTC(), s.LastTime.UTC()
			ss.FirstTime, ss.LastTime = &first, &last
		}
		rep.Streams = append(rep.Streams, ss)
		if name == events.StreamDLQ {
			rep.DLQ.Count = s.Msgs
			for subj, n := range s.Subjects {
				rep.DLQ.Subjects[subj] = n
			}
			rep.DLQ.Last = ss.LastTime
		}
		durables := 0
		for ci := range st.ListConsumers(ctx).Info() {
			if ci.Config.Durable == "" {
				continue // readers of the CLI and ordered consumers
			}
			durables++
			cs := consumerStatus{Stream: name, Name: ci.Name, Pending: ci.NumPending, AckPending: ci.NumAckPending,
				Redelivered: ci.NumRedelivered, Waiting: ci.NumWaiting, LastActive: lastActive(ci)}
			rep.Consumers = append(rep.Consumers, cs)
			idle := cs.LastActive == nil || now.Sub(*cs.LastActive) > idleAfter
			if cs.Pending > 0 && idle {
				warn("consumer %s has %d message(s) waiting and was last active %s: is the %s service running?", cs.Name, cs.Pending, agoPtr(cs.LastActive, now), cs.Name)
			}
			if cs.Redelivered > 0 {
				warn("consumer %s is redelivering %d message(s): vendor retries in progress (see the service log)", cs.Name, cs.Redelivered)
			}
		}
		if name == events.StreamCommands && durables == 0 {
			warn("no service consumes %s: commands are stored but nothing processes them", name)
		}
	}
	sort.Slice(rep.Consumers, func(i, j int) bool {
		a, b := rep.Consumers[i], rep.Consumers[j]
		return a.Stream < b.Stream || a.Stream == b.Stream && a.Name < b.Name
	})
	if rep.DLQ.Count > 0 {
		warn("%d dead letter(s), the latest %s: loyaltybus dlq list", rep.DLQ.Count, agoPtr(rep.DLQ.Last, now))
	}
	rep.Idempotency.Bucket = bus.IdempotencyBucket
	kv, err := cn.js.KeyValue(ctx, bus.IdempotencyBucket)
	switch {
	case errors.Is(err, jetstream.ErrBucketNotFound):
		rep.Idempotency.Missing = true
		warn("bucket %s is missing: no loyaltybus service has provisioned this server", bus.IdempotencyBucket)
	case err != nil:
		return nil, infraError(fmt.Errorf("bucket %s: %w", bus.IdempotencyBucket, err))
	default:
		st, err := kv.Status(ctx)
		if err != nil {
			return nil, infraError(fmt.Errorf("bucket %s: %w", bus.IdempotencyBucket, err))
		}
		rep.Idempotency.Records, rep.Idempotency.Bytes, rep.Idempotency.TTL = st.Values(), st.Bytes(), days(st.TTL())
	}
	rep.Healthy = len(rep.Warnings) == 0
	return rep, nil
}

// lastActive is the later of the consumer's last delivery and last ack.
func lastActive(ci *jetstream.ConsumerInfo) *time.Time {
	var t *time.Time
	for _, c := range []*time.Time{ci.Delivered.Last, ci.AckFloor.Last} {
		if c != nil && (t == nil || c.After(*t)) {
			u := c.UTC()
			t = &u
		}
	}
	return t
}

func agoPtr(t *time.Time, now time.Time) string {
	if t == nil {
		return "never"
	}
	return ago(*t, now)
}

func printStatus(w io.Writer, rep *statusReport) error {
	now := rep.Time
	fmt.Fprintf(w, "loyaltybus status at %s — NATS %s (server %s, version %s)\n\n", timestamp(now), rep.Server.URL, rep.Server.Name, rep.Server.Version)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STREAM\tMESSAGES\tBYTES\tFIRST\tLAST\tREPLICAS\tMAX AGE")
	for _, s := range rep.Streams {
		if s.Missing {
			fmt.Fprintf(tw, "%s\tMISSING\t\t\t\t\t\n", s.Name)
			continue
		}
		first, last := "-", "-"
		if s.FirstTime != nil {
			first = fmt.Sprintf("%s (%s)", timestamp(*s.FirstTime), ago(*s.FirstTime, now))
			last = fmt.Sprintf("%s (%s)", timestamp(*s.LastTime), ago(*s.LastTime, now))
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\t%s\n", s.Name, s.Messages, bytesize(s.Bytes), first, last, s.Replicas, s.MaxAge)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONSUMER\tSTREAM\tPENDING\tACK PENDING\tREDELIVERED\tLAST ACTIVE")
	if len(rep.Consumers) == 0 {
		fmt.Fprintln(tw, "(none)\t\t\t\t\t")
	}
	for _, c := range rep.Consumers {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", c.Name, c.Stream, c.Pending, c.AckPending, c.Redelivered, agoPtr(c.LastActive, now))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	dlq := fmt.Sprintf("%d dead letter(s)", rep.DLQ.Count)
	if len(rep.DLQ.Subjects) > 0 {
		subs := make([]string, 0, len(rep.DLQ.Subjects))
		for s, n := range rep.DLQ.Subjects {
			subs = append(subs, fmt.Sprintf("%s: %d", s, n))
		}
		sort.Strings(subs)
		dlq += " (" + strings.Join(subs, ", ") + ")"
	}
	fmt.Fprintf(w, "DLQ          %s\n", dlq)
	if rep.Idempotency.Missing {
		fmt.Fprintf(w, "IDEMPOTENCY  %s MISSING\n", rep.Idempotency.Bucket)
	} else {
		fmt.Fprintf(w, "IDEMPOTENCY  %s: %d record(s), %s, kept %s\n", rep.Idempotency.Bucket, rep.Idempotency.Records, bytesize(rep.Idempotency.Bytes), rep.Idempotency.TTL)
	}
	fmt.Fprintln(w)
	if rep.Healthy {
		_, err := fmt.Fprintln(w, "OK: nothing needs attention")
		return err
	}
	fmt.Fprintln(w, "ATTENTION:")
	for _, m := range rep.Warnings {
		fmt.Fprintf(w, "  - %s\n", m)
	}
	return nil
}

// days renders a retention: whole days as "7d", else as a duration.
func days(d time.Duration) string {
	const day = 24 * time.Hour
	if d > 0 && d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}
