package events_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/loyaltybus/loyaltybus/events"
	"github.com/loyaltybus/loyaltybus/events/catalog"
)

var update = flag.Bool("update", false, "rewrite asyncapi.yaml from the catalogue")

// TestAsyncAPIDocumentIsCurrent regenerates asyncapi.yaml from the catalogue
// and its embedded schemas; a difference means the document is stale (run
// go test ./events -run AsyncAPI -update).
func TestAsyncAPIDocumentIsCurrent(t *testing.T) {
	got := asyncAPI(t)
	if *update {
		if err := os.WriteFile("asyncapi.yaml", got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("asyncapi.yaml")
	if err != nil {
		t.Fatalf("read asyncapi.yaml (run with -update to create): %v", err)
	}
	if !bytes.Equal(want, got) {
		t.Error("asyncapi.yaml is stale: run go test ./events -run AsyncAPI -update and review the diff")
	}
	for _, c := range catalog.Commands() {
		for _, s := range []string{c.Subject, c.ResultSubject(), events.DLQSubject(c.Subject)} {
			if !bytes.Contains(got, []byte("address: "+s+"\n")) {
				t.Errorf("document lacks channel %s", s)
			}
		}
	}
}

// channelID turns a subject into an AsyncAPI channel key.
func channelID(subject string) string {
	return strings.ReplaceAll(strings.TrimPrefix(subject, "loyalty."), ".", "_")
}

// inline renders a JSON document as a YAML flow value (JSON is YAML).
func inline(t *testing.T, b []byte) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	return buf.String()
}

func asyncAPI(t *testing.T) []byte {
	var w bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&w, format, args...) }
	p(`# Generated from events/catalog by TestAsyncAPIDocumentIsCurrent; do not edit by hand.
asyncapi: 3.0.0
info:
  title: loyaltybus
  version: 1.0.0
  description: |
    Commands are CloudEvents published on NATS JetStream (stream %[1]s, subjects loyalty.cmd.>),
    in binary mode (ce- headers, values percent-encoded, Content-Type = datacontenttype) or
    structured mode (Content-Type: application/cloudevents+json). Command id: 1-64 characters
    of A-Z a-z 0-9 . _ : - (a UUID is recommended); publishers set Nats-Msg-Id to it.
    Each command gets exactly one result (stream %[2]s) with causationid = the command id,
    and zero or more change events (stream %[3]s). Failed and rejected commands are copied
    with their original headers and bytes to %[4]s (loyalty.dlq.<domain>.<action>, or
    loyalty.dlq.invalid without a usable id) with headers Loyalty-Dlq-Reason, Loyalty-Dlq-Attempts,
    Loyalty-Dlq-Stream and Loyalty-Dlq-Sequence. Output ids are deterministic (UUIDv5 of the
    command id and the output's kind, or of the vendor fact for fetched records) and set as
    Nats-Msg-Id. Operator replays carry Loyalty-Replay: true and a fresh Nats-Msg-Id.
defaultContentType: application/json
servers:
  embedded:
    host: 127.0.0.1:4222
    protocol: nats
    description: the all-in-one binary's embedded server
channels:
`, events.StreamCommands, events.StreamResults, events.StreamEvents, events.StreamDLQ)
	cmds := catalog.Commands()
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Subject < cmds[j].Subject })
	changes := catalog.Changes()
	sort.Slice(changes, func(i, j int) bool { return changes[i].Subject < changes[j].Subject })
	for _, c := range cmds {
		id := channelID(c.Subject)
		p("  %s:\n    address: %s\n    description: command %s (stream %s); ordered by partitionkey, default data field %q\n    messages:\n      %s:\n        $ref: '#/components/messages/%s'\n",
			id, c.Subject, c.Type, events.StreamCommands, c.PartitionKey, id, id)
		rid := channelID(c.ResultSubject())
		p("  %s:\n    address: %s\n    description: results of %s (stream %s)\n    messages:\n      %s:\n        $ref: '#/components/messages/%s'\n",
			rid, c.ResultSubject(), c.Type, events.StreamResults, rid, rid)
		did := channelID(events.DLQSubject(c.Subject))
		p("  %s:\n    address: %s\n    description: dead letters of %s (stream %s): the original message plus Loyalty-Dlq-* headers\n",
			did, events.DLQSubject(c.Subject), c.Type, events.StreamDLQ)
	}
	p("  dlq_invalid:\n    address: %s\n    description: messages without a usable command id (stream %s)\n", events.SubjectDLQInvalid, events.StreamDLQ)
	for _, c := range changes {
		id := channelID(c.Subject)
		p("  %s:\n    address: %s\n    description: change event %s (stream %s)\n    messages:\n      %s:\n        $ref: '#/components/messages/%s'\n",
			id, c.Subject, c.Type, events.StreamEvents, id, id)
	}
	p("operations:\n")
	for _, c := range cmds {
		id := channelID(c.Subject)
		p("  handle_%s:\n    action: receive\n    channel:\n      $ref: '#/channels/%s'\n    reply:\n      channel:\n        $ref: '#/channels/%s'\n", id, id, channelID(c.ResultSubject()))
	}
	for _, c := range changes {
		id := channelID(c.Subject)
		p("  announce_%s:\n    action: send\n    channel:\n      $ref: '#/channels/%s'\n", id, id)
	}
	p("components:\n  messageTraits:\n    cloudevent:\n      headers:\n        type: object\n        properties:\n")
	for _, h := range []string{"ce-specversion", "ce-id", "ce-source", "ce-type", "ce-subject", "ce-time", "ce-" + events.AttrCausationID, "ce-" + events.AttrCorrelationID, "ce-" + events.AttrPartitionKey, "ce-" + events.AttrTraceparent, "Nats-Msg-Id", events.HeaderReplay} {
		p("          %s: {type: string}\n", h)
	}
	p("  messages:\n")
	for _, c := range cmds {
		id := channelID(c.Subject)
		p("    %s:\n      name: %s\n      title: %s\n      traits:\n        - $ref: '#/components/messageTraits/cloudevent'\n      payload:\n        schemaFormat: application/schema+json;version=draft-07\n        schema: %s\n",
			id, c.Type, c.Type, inline(t, c.Schema))
		rid := channelID(c.ResultSubject())
		p("    %s:\n      name: %s\n      title: %s\n      traits:\n        - $ref: '#/components/messageTraits/cloudevent'\n      payload:\n        schemaFormat: application/schema+json;version=draft-07\n        schema: %s\n",
			rid, c.ResultType(), c.ResultType(), inline(t, events.ResultSchema))
	}
	for _, c := range changes {
		id := channelID(c.Subject)
		p("    %s:\n      name: %s\n      title: %s\n      traits:\n        - $ref: '#/components/messageTraits/cloudevent'\n      payload:\n        schemaFormat: application/schema+json;version=draft-07\n        schema: %s\n",
			id, c.Type, c.Type, inline(t, c.Schema))
	}
	return w.Bytes()
}
