package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/loyaltybus/loyaltybus/client"
	"github.com/loyaltybus/loyaltybus/pkg/config"
)

// Exit codes of the operator subcommands (publish, events, replay, dlq,
// status). main maps an *exitError to os.Exit; any other error exits 1.
const (
	exitOK      = 0
	exitFailed  = 1 // the command's result is failed or rejected (with --wait)
	exitUsage   = 2 // bad flags or arguments, or data that fails its schema: nothing was sent
	exitTimeout = 3 // no result within --timeout; the command was published
	exitInfra   = 4 // NATS unreachable, streams missing, a publish not acknowledged
)

// defaultNATSURL is where the all-in-one's embedded server listens.
const defaultNATSURL = "nats://127.0.0.1:4222"

// exitError is an error with the process exit code it stands for.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// exitCode is the process exit code for run's error.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

func infraError(err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	return &exitError{code: exitInfra, err: err}
}

// classify maps a client error to its exit code.
func classify(err error) error {
	var ve *client.ValidationError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ve):
		return &exitError{code: exitUsage, err: err}
	case errors.Is(err, client.ErrFailed), errors.Is(err, client.ErrRejected):
		return &exitError{code: exitFailed, err: err}
	case errors.Is(err, client.ErrNoResult):
		return &exitError{code: exitTimeout, err: err}
	}
	return infraError(err)
}

// commonFlags are the flags every operator subcommand has.
type commonFlags struct {
	server string
	json   bool
}

// newFlagSet returns the flag set of a subcommand, reporting to stderr.
func newFlagSet(name, synopsis string, stderr io.Writer) (*flag.FlagSet, *commonFlags) {
	fs := flag.NewFlagSet("loyaltybus "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &commonFlags{}
	fs.StringVar(&c.server, "server", "", "NATS server URL (default $LOYALTY_NATS_URL, else "+defaultNATSURL+")")
	fs.BoolVar(&c.json, "json", false, "print JSON for scripts instead of text")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs, c
}

// parseArgs parses flags and positional arguments in any order
// ("publish TYPE --data …" and "publish --data … TYPE" alike); everything
// after "--" is positional.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err // -h: the usage is printed, and that is success
			}
			return nil, &exitError{code: exitUsage, err: err}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if i := len(args) - len(rest) - 1; i >= 0 && args[i] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// helpOK turns a -h request into success.
func helpOK(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// conn is the CLI's connection to NATS.
type conn struct {
	nc  *nats.Conn
	js  jetstream.JetStream
	url string
}

func (c *conn) close() { c.nc.Close() }

// connect dials NATS with the settings of the services (CONTRACT §7): the URL
// from --server, else LOYALTY_NATS_URL, else the all-in-one's default; auth
// and TLS from LOYALTY_NATS_CREDS, _USER, _PASSWORD and _TLS_CA.
func connect(ctx context.Context, server string, getenv func(string) string) (*conn, error) {
	var s settings
	if err := config.Load(&s, getenv); err != nil {
		return nil, usageError("settings: %w", err)
	}
	url := server
	if url == "" {
		url = s.NATSURL
	}
	if url == "" {
		url = defaultNATSURL
	}
	// The services' auth and TLS options, without their connection logging:
	// a short-lived command reports failures through its exit code.
	opts := append(natsOptions(&s, slog.New(slog.DiscardHandler)), nats.Name("loyaltybus-cli"), nats.Timeout(5*time.Second),
		nats.DisconnectErrHandler(nil), nats.ReconnectHandler(nil))
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, infraError(fmt.Errorf("connect to NATS at %s (set LOYALTY_NATS_URL or --server): %w", redactURL(url), err))
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, infraError(fmt.Errorf("jetstream: %w", err))
	}
	if _, err := js.AccountInfo(ctx); err != nil {
		nc.Close()
		return nil, infraError(fmt.Errorf("JetStream at %s: %w", redactURL(url), err))
	}
	return &conn{nc: nc, js: js, url: url}, nil
}

// redactURL hides a password given in a NATS URL.
func redactURL(u string) string {
	at := strings.LastIndex(u, "@")
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return u
	}
	cred := u[scheme+3 : at]
	if user, _, ok := strings.Cut(cred, ":"); ok {
		return u[:scheme+3] + user + ":***" + u[at:]
	}
	return u
}

// point is a position in a stream: a sequence, or a time (zero: unset).
type point struct {
	seq  uint64
	time time.Time
}

// String renders p the way parsePoint reads it.
func (p point) String() string {
	switch {
	case p.seq > 0:
		return "seq:" + strconv.FormatUint(p.seq, 10)
	case !p.time.IsZero():
		return p.time.UTC().Format(time.RFC3339Nano)
	}
	return ""
}

// parsePoint reads seq:N, an RFC 3339 time, "now", or a duration ago
// (90s, 15m, 1h, 7d).
func parsePoint(s string, now time.Time) (point, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutPrefix(s, "seq:"); ok {
		seq, err := strconv.ParseUint(n, 10, 64)
		if err != nil || seq == 0 {
			return point{}, fmt.Errorf("%q: want seq:N with N ≥ 1", s)
		}
		return point{seq: seq}, nil
	}
	if s == "now" {
		return point{time: now}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return point{time: t}, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.ParseFloat(days, 64); err == nil && n > 0 {
			return point{time: now.Add(-time.Duration(n * 24 * float64(time.Hour)))}, nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return point{time: now.Add(-d)}, nil
	}
	return point{}, fmt.Errorf("%q: want a duration ago (1h, 7d), an RFC 3339 time (2026-11-01T00:00:00Z), now, or seq:N", s)
}
