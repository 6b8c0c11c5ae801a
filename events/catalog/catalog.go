// Package catalog lists every command and change event of the contract, for
// tools that work across domains (the CLI, the AsyncAPI test, publishers that
// validate before sending).
package catalog

import (
	"github.com/loyaltybus/loyaltybus/events"
	"github.com/loyaltybus/loyaltybus/events/points"
)

// Commands returns every command of the contract.
func Commands() []events.Command {
	var out []events.Command
	out = append(out, points.Commands()...)
	return out
}

// Changes returns every change event of the contract.
func Changes() []events.Change {
	var out []events.Change
	out = append(out, points.Changes()...)
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
