package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/loyaltybus/loyaltybus/client"
	"github.com/loyaltybus/loyaltybus/events"
	"github.com/loyaltybus/loyaltybus/events/catalog"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
)

const publishSynopsis = `loyaltybus publish TYPE --data JSON|@FILE [flags]

Publishes one command. TYPE is a command type (loyalty.points.freeze.v1) or
its short form (points.freeze). The data is validated against the command's
JSON Schema before anything is sent. With --wait, prints the command's result
and exits 0 if it succeeded, 1 if it failed or was rejected, 3 on timeout.`

// cliSource is the CloudEvent source of commands published by the CLI.
const cliSource = "loyaltybus/cli"

func runPublish(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, common := newFlagSet("publish", publishSynopsis+"\n\nCommand types:\n  "+strings.Join(commandTypes(), "\n  "), stderr)
	data := fs.String("data", "", "command data: JSON, or @FILE to read it from a file (@/dev/stdin for standard input)")
	id := fs.String("id", "", "command id (default: a new UUIDv7); the idempotency key of the command")
	source := fs.String("source", cliSource, "CloudEvent source: the system the command comes from")
	pkey := fs.String("partition-key", "", "partitionkey (default: the data's memberId)")
	corr := fs.String("correlation-id", "", "correlationid carried to every output")
	subject := fs.String("subject", "", "CloudEvent subject attribute (e.g. an order number)")
	mode := fs.String("content-mode", "binary", "binary or structured")
	noValidate := fs.Bool("no-validate", false, "send without checking the data against its schema (the service still does)")
	wait := fs.Bool("wait", false, "wait for the result and exit non-zero unless it succeeded")
	timeout := fs.Duration("timeout", 30*time.Second, "how long --wait waits for the result")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return helpOK(err)
	}
	if len(pos) != 1 {
		fs.Usage()
		return usageError("publish: want exactly one command TYPE, got %d arguments", len(pos))
	}
	cmd, err := lookupCommand(pos[0])
	if err != nil {
		return err
	}
	raw, err := readData(*data)
	if err != nil {
		return err
	}
	m, err := bus.ParseMode(*mode)
	if err != nil {
		return usageError("--content-mode: %w", err)
	}
	if *timeout <= 0 {
		return usageError("--timeout must be positive")
	}
	copts := []client.Option{client.WithSource(*source), client.WithContentMode(m)}
	if *noValidate {
		copts = append(copts, client.WithoutValidation())
	}
	var rcpt client.Receipt
	var res client.Event[events.Result]
	popts := []client.PublishOption{client.CaptureReceipt(&rcpt), client.CaptureResult(&res)}
	for _, o := range []struct {
		v   string
		opt func(string) client.PublishOption
	}{{*id, client.WithID}, {*pkey, client.WithPartitionKey}, {*corr, client.WithCorrelationID}, {*subject, client.WithSubject}} {
		if o.v != "" {
			popts = append(popts, o.opt(o.v))
		}
	}
	// Check the data before connecting, so a typo never needs a server.
	if !*noValidate {
		if err := client.Validate(cmd, raw); err != nil {
			return classify(err)
		}
	}

	cn, err := connect(ctx, common.server, getenv)
	if err != nil {
		return err
	}
	defer cn.close()
	c, err := client.New(cn.js, copts...)
	if err != nil {
		return usageError("publish: %w", err)
	}
	command := client.Raw{Cmd: cmd, Data: raw}
	if !*wait {
		if _, err := c.Publish(ctx, command, popts...); err != nil {
			return classify(err)
		}
		return printPublished(stdout, common.json, rcpt, cmd, nil)
	}
	wctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	_, werr := c.PublishAndWait(wctx, command, popts...)
	if rcpt.Stream == "" { // not even published
		return classify(werr)
	}
	var got *client.Event[events.Result]
	if res.ID != "" {
		got = &res
	}
	if err := printPublished(stdout, common.json, rcpt, cmd, got); err != nil {
		return err
	}
	if errors.Is(werr, client.ErrNoResult) {
		werr = fmt.Errorf("no result for command %s within %s; it was published and may still be processed (see loyaltybus events --type %s): %w",
			rcpt.ID, *timeout, cmd.ResultType(), werr)
	}
	return classify(werr)
}

// commandTypes lists the catalogue's command types.
func commandTypes() []string {
	var out []string
	for _, c := range catalog.Commands() {
		out = append(out, c.Type)
	}
	sort.Strings(out)
	return out
}

// lookupCommand finds a command by type or short form (points.freeze).
func lookupCommand(name string) (events.Command, error) {
	for _, t := range []string{name, "loyalty." + name + ".v1", "loyalty." + name} {
		if c, ok := catalog.CommandByType(t); ok {
			return c, nil
		}
	}
	if c, ok := catalog.CommandBySubject(name); ok {
		return c, nil
	}
	return events.Command{}, usageError("unknown command type %q; known: %s", name, strings.Join(commandTypes(), ", "))
}

// readData reads --data: JSON inline or @FILE.
func readData(s string) (json.RawMessage, error) {
	if s == "" {
		return nil, usageError("--data is required: the command's data as JSON, or @FILE")
	}
	b := []byte(s)
	if name, ok := strings.CutPrefix(s, "@"); ok {
		var err error
		if b, err = os.ReadFile(name); err != nil {
			return nil, usageError("--data: %w", err)
		}
	}
	b = bytes.TrimSpace(b)
	if !json.Valid(b) {
		return nil, usageError("--data is not a JSON document")
	}
	return b, nil
}

// publishedJSON is the --json output of publish (and of a waited redrive).
type publishedJSON struct {
	ID        string          `json:"id"`
	Type      string          `json:"type,omitempty"`
	Subject   string          `json:"subject"`
	Stream    string          `json:"stream"`
	Seq       uint64          `json:"seq"`
	MsgID     string          `json:"msgId"`
	Duplicate bool            `json:"duplicate"`
	Result    json.RawMessage `json:"result,omitempty"`
}

func printPublished(w io.Writer, asJSON bool, r client.Receipt, cmd events.Command, res *client.Event[events.Result]) error {
	if asJSON {
		out := publishedJSON{ID: r.ID, Type: cmd.Type, Subject: r.Subject, Stream: r.Stream, Seq: r.Sequence, MsgID: r.MsgID, Duplicate: r.Duplicate}
		if res != nil {
			b, err := json.Marshal(res.CloudEvent)
			if err != nil {
				return fmt.Errorf("encode result event: %w", err)
			}
			out.Result = b
		}
		return writeJSON(w, out)
	}
	fmt.Fprintf(w, "published %s %s to %s (%s seq %d)\n", cmd.Type, r.ID, r.Subject, r.Stream, r.Sequence)
	if r.Duplicate {
		fmt.Fprintf(w, "  duplicate: the stream already held a message with Nats-Msg-Id %s (seq %d) and kept that one\n", r.MsgID, r.Sequence)
	}
	if res != nil {
		printResult(w, res)
	}
	return nil
}

// printResult describes a result event in a few lines.
func printResult(w io.Writer, res *client.Event[events.Result]) {
	r := res.Data
	where := ""
	if res.Stream != "" {
		where = fmt.Sprintf(" (%s seq %d)", res.Stream, res.Sequence)
	}
	fmt.Fprintf(w, "%s after %d attempt(s): result %s from %s at %s%s\n", strings.ToUpper(string(r.Status)), r.Attempts, res.ID, res.Source, timestamp(res.Time), where)
	if len(r.Output) > 0 {
		b, _ := json.Marshal(r.Output)
		fmt.Fprintf(w, "  output: %s\n", b)
	}
	if e := r.Error; e != nil {
		fmt.Fprintf(w, "  error: %s: %s (retryable: %t)\n", e.Code, e.Message, e.Retryable)
		if v := e.Vendor; v != nil {
			fmt.Fprintf(w, "  vendor: %s http %d code %s: %s\n", v.Name, v.HTTPStatus, v.Code, v.Message)
		}
	}
}
