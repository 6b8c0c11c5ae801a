// Package client publishes loyaltybus commands from Go programs and
// subscribes to the change events the services emit.
//
// A Client turns a command's data (points.Freeze{…}, or any other type of the
// events module that implements events.CommandData) into a CloudEvent with a
// UUIDv7 id, validates the data against the command's embedded JSON Schema
// before anything is sent, and publishes it on the command's subject with
// Nats-Msg-Id set to the id, so a retried publish is de-duplicated by the
// stream (CONTRACT §3):
//
//	c, err := client.New(js, client.WithSource("checkout"))
//	id, err := c.Publish(ctx, points.Freeze{MemberID: "m-1", MemberType: "shuyun", ChannelType: "POS", Points: 20})
//
// PublishAndWait also waits for the command's result event (matched by its
// causationid) and returns the result; a failed or rejected command is a
// *CommandError. Subscribe delivers change events decoded into their Go type.
//
// Replay republishes a stored command for an operator replay or redrive: the
// same CloudEvent id with a fresh Nats-Msg-Id and the header
// Loyalty-Replay: true, so the services re-attempt a failed or rejected
// outcome and answer a succeeded one from their idempotency record (§5).
//
// The package depends on nats.go, the events module and pkg/bus (for the
// CloudEvents NATS binding and the runtime's schema validation) only; the
// loyaltybus command-line tool is built on it.
package client
