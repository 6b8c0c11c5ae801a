package deploytest

import "strings"

// service is one loyaltybus service as deployed: its user (also the name of
// its durable consumer and its memo key prefix), the commands it consumes and
// the change events each command emits. This is the permission matrix of
// record; include/accounts.conf must grant exactly what it implies.
type service struct {
	name string
	// commands maps a command suffix (after loyalty.cmd.) to the change event
	// suffixes (after loyalty.event.) it emits.
	commands []command
	// emits marks a service that emits page by page (bus.Command.Emit) and
	// checkpoints in its memo, as the fetch services do.
	emits bool
}

type command struct {
	suffix string
	events []string
}

var services = []service{
	{name: "points", commands: []command{
		{"points.freeze", []string{"points.frozen"}},
		{"points.unfreeze", []string{"points.unfrozen"}},
		{"points.consume", []string{"points.consumed"}},
		{"points.adjust", []string{"points.adjusted"}},
	}},
	{name: "coupons", commands: []command{
		{"coupon.grant", []string{"coupon.granted"}},
		{"coupon.redeem", []string{"coupon.redeemed"}},
		{"coupon.freeze", []string{"coupon.frozen"}},
		{"coupon.thaw", []string{"coupon.thawed"}},
		{"coupon.writeoff", []string{"coupon.writtenoff"}},
		{"coupon.reverse", []string{"coupon.reversed"}},
		{"coupon.invalidate", []string{"coupon.invalidated"}},
		{"coupon.reinstate", []string{"coupon.reinstated"}},
	}},
	{name: "orders", commands: []command{
		{"order.save", []string{"order.saved"}},
	}},
	{name: "cheques", emits: true, commands: []command{
		{"cheques.fetch", []string{"cheque.recorded", "cheque.updated"}},
	}},
	{name: "feeds", emits: true, commands: []command{
		{"tickets.fetch", []string{"ticket.recorded"}},
		{"points.usage.fetch", []string{"points.used"}},
	}},
}

const dlqInvalid = "loyalty.dlq.invalid"

func (c command) subject() string    { return "loyalty.cmd." + c.suffix }
func (c command) typ() string        { return "loyalty." + c.suffix + ".v1" }
func (c command) result() string     { return "loyalty.result." + c.suffix }
func (c command) dlq() string        { return "loyalty.dlq." + c.suffix }
func eventSubject(e string) string   { return "loyalty.event." + e }
func eventType(e string) string      { return "loyalty." + e + ".v1" }
func (s service) firstEvent() string { return eventSubject(s.commands[0].events[0]) }

// publishAllow is everything the service's user may publish, in any order.
func (s service) publishAllow() []string {
	var out []string
	for _, c := range s.commands {
		out = append(out, c.result())
		for _, e := range c.events {
			out = append(out, eventSubject(e))
		}
		out = append(out, c.dlq())
	}
	out = append(out, dlqInvalid)
	for _, api := range []string{
		"$JS.API.CONSUMER.CREATE.LOYALTY_COMMANDS.%s",
		"$JS.API.CONSUMER.INFO.LOYALTY_COMMANDS.%s",
		"$JS.API.CONSUMER.MSG.NEXT.LOYALTY_COMMANDS.%s",
		"$JS.API.CONSUMER.UNPIN.LOYALTY_COMMANDS.%s",
		"$JS.ACK.LOYALTY_COMMANDS.%s.>",
		"$KV.LOYALTY_IDEMPOTENCY.>",
		"$JS.API.DIRECT.GET.KV_LOYALTY_IDEMPOTENCY.>",
		"$KV.LOYALTY_MEMO.%s.>",
		"$JS.API.DIRECT.GET.KV_LOYALTY_MEMO.$KV.LOYALTY_MEMO.%s.>",
		"$JS.API.INFO",
		"$JS.API.STREAM.INFO.LOYALTY_COMMANDS",
		"$JS.API.STREAM.INFO.LOYALTY_RESULTS",
		"$JS.API.STREAM.INFO.LOYALTY_EVENTS",
		"$JS.API.STREAM.INFO.LOYALTY_DLQ",
		"$JS.API.STREAM.INFO.KV_LOYALTY_IDEMPOTENCY",
		"$JS.API.STREAM.INFO.KV_LOYALTY_MEMO",
	} {
		out = append(out, strings.ReplaceAll(api, "%s", s.name))
	}
	return out
}

// advisories are the JetStream advisories every process of the loyaltybus
// binary watches (pkg/telemetry.WatchQuorum).
var advisories = []string{"$JS.EVENT.ADVISORY.STREAM.QUORUM_LOST.>", "$JS.EVENT.ADVISORY.CONSUMER.QUORUM_LOST.>"}

// subscribeAllow is everything a user of the loyaltybus binary that runs a
// component may subscribe to.
func subscribeAllow(user string) []string {
	return append([]string{inboxPrefix(user) + ".>"}, advisories...)
}

// scheduled are the commands the scheduler publishes.
var scheduled = []string{"loyalty.cmd.cheques.fetch", "loyalty.cmd.tickets.fetch", "loyalty.cmd.points.usage.fetch"}

// scheduleBucket is the scheduler's KV bucket, as services/schedule creates
// it when it provisions (the operator does in a deployment).
const scheduleBucket = "LOYALTY_SCHEDULES"

// clientRoles are the roles other than the command services, and what they
// may do.
var clientRoles = map[string]struct{ publish, subscribe []string }{
	"schedule": {
		publish: append(append([]string{}, scheduled...),
			"$KV.LOYALTY_SCHEDULES.>",
			"$JS.API.DIRECT.GET.KV_LOYALTY_SCHEDULES.>",
			"$JS.API.INFO",
			"$JS.API.STREAM.INFO.KV_LOYALTY_SCHEDULES",
		),
		subscribe: subscribeAllow("schedule"),
	},
	"publisher": {
		publish: []string{
			"loyalty.cmd.>",
			"$JS.API.INFO",
			"$JS.API.STREAM.INFO.LOYALTY_RESULTS",
			"$JS.API.CONSUMER.CREATE.LOYALTY_RESULTS.>",
			"$JS.API.CONSUMER.INFO.LOYALTY_RESULTS.*",
			"$JS.API.CONSUMER.MSG.NEXT.LOYALTY_RESULTS.*",
			"$JS.API.CONSUMER.DELETE.LOYALTY_RESULTS.*",
			"$JS.ACK.LOYALTY_RESULTS.>",
		},
		subscribe: []string{"loyalty.result.>", "_INBOX_publisher.>"},
	},
	"subscriber": {
		publish: []string{
			"$JS.API.INFO",
			"$JS.API.STREAM.INFO.LOYALTY_EVENTS",
			"$JS.API.CONSUMER.CREATE.LOYALTY_EVENTS.>",
			"$JS.API.CONSUMER.INFO.LOYALTY_EVENTS.*",
			"$JS.API.CONSUMER.MSG.NEXT.LOYALTY_EVENTS.*",
			"$JS.API.CONSUMER.DELETE.LOYALTY_EVENTS.*",
			"$JS.ACK.LOYALTY_EVENTS.>",
		},
		subscribe: []string{"loyalty.event.>", "_INBOX_subscriber.>"},
	},
}
