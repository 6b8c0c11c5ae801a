// Package catalog lists every command and change event of the contract, for
// tools that work across domains (the CLI, the AsyncAPI test, publishers that
// validate before sending).
package catalog

import (
	"github.com/loyaltybus/loyaltybus/events"
	"github.com/loyaltybus/loyaltybus/events/cheques"
	"github.com/loyaltybus/loyaltybus/events/coupon"
	"github.com/loyaltybus/loyaltybus/events/order"
	"github.com/loyaltybus/loyaltybus/events/points"
	"github.com/loyaltybus/loyaltybus/events/tickets"
	"github.com/loyaltybus/loyaltybus/events/usage"
)

// Commands returns every command of the contract.
func Commands() []events.Command {
	var out []events.Command
	out = append(out, points.Commands()...)
	out = append(out, coupon.Commands()...)
	out = append(out, order.Commands()...)
	out = append(out, cheques.Commands()...)
	out = append(out, tickets.Commands()...)
	out = append(out, usage.Commands()...)
	return out
}

// Changes returns every change event of the contract.
func Changes() []events.Change {
	var out []events.Change
	out = append(out, points.Changes()...)
	out = append(out, coupon.Changes()...)
	out = append(out, order.Changes()...)
	out = append(out, cheques.Changes()...)
	out = append(out, tickets.Changes()...)
	out = append(out, usage.Changes()...)
	return out
}

// CommandByType finds a command by its CloudEvent type.
func CommandByType(typ string) (events.Command, bool) {
	for _, c := range Commands() {
		if c.Type == typ {
			return c, true
		}
	}
	return events.Command{}, false
}

// CommandBySubject finds a command by its subject.
func CommandBySubject(subject string) (events.Command, bool) {
	for _, c := range Commands() {
		if c.Subject == subject {
			return c, true
		}
	}
	return events.Command{}, false
}
