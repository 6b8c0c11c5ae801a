// Command loyaltybus runs loyaltybus services. With no arguments it starts
// every service in one process with an embedded NATS server and a simulator
// for each vendor whose URL is not configured; "loyaltybus run points" runs
// only the points service (against LOYALTY_NATS_URL in production).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "loyaltybus:", err)
		os.Exit(exitCode(err))
	}
}

const usage = `loyaltybus — event-driven integration bus for retail loyalty systems

Usage:
  loyaltybus [run] [SERVICE...]   run services (default: all, with embedded NATS
                                  and simulators for unconfigured vendors)
  loyaltybus services             list the services
  loyaltybus settings             list the settings (environment variables)
  loyaltybus help                 show this help

Operator commands (against LOYALTY_NATS_URL, default nats://127.0.0.1:4222;
each takes --json for scripts and -h for its flags):
  loyaltybus publish TYPE --data JSON|@FILE [--wait]
                                  publish a command, optionally wait for its result
  loyaltybus events [--since 1h|RFC3339|seq:N] [--type T] [--follow]
                                  print or follow change events and results
  loyaltybus replay commands --since ... [--until ...] [--dry-run]
                                  re-publish stored commands so failed ones are re-attempted
  loyaltybus dlq list|show SEQ|redrive SEQ|redrive --all|purge SEQ
                                  inspect and redrive dead letters
  loyaltybus status               streams, consumers, dead letters, idempotency records
  loyaltybus simulate shuyun [--addr 127.0.0.1:0] [--replay-mode no-dedup] [--rate-limit N] [--max-calls N]
                                  serve a vendor simulator with /_sim/ inspection endpoints

Exit codes: 0 ok, 1 command failed or rejected (--wait), 2 usage error,
3 timeout waiting for a result, 4 NATS or stream unavailable.

Services: %s
`

// run is the whole program; main only wires signals and exit codes.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "run"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "help", "-h", "--help":
		fmt.Fprintf(stdout, usage, serviceNames())
		return nil
	case "services":
		for _, c := range components() {
			fmt.Fprintf(stdout, "%-10s %s\n", c.name, c.about)
		}
		return nil
	case "settings":
		return printSettings(stdout)
	case "run":
		return serve(ctx, args, getenv, stdout, stderr)
	case "publish":
		return runPublish(ctx, args, getenv, stdout, stderr)
	case "events":
		return runEvents(ctx, args, getenv, stdout, stderr)
	case "replay":
		return runReplay(ctx, args, getenv, stdout, stderr)
	case "dlq":
		return runDLQ(ctx, args, getenv, stdout, stderr)
	case "status":
		return runStatus(ctx, args, getenv, stdout, stderr)
	case "simulate":
		return runSimulate(ctx, args, getenv, stdout, stderr)
	}
	if _, ok := component(cmd); ok { // "loyaltybus points" is "loyaltybus run points"
		return serve(ctx, append([]string{cmd}, args...), getenv, stdout, stderr)
	}
	return usageError("unknown command %q (see loyaltybus help)", cmd)
}
