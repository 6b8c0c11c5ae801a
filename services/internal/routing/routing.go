// Package routing binds the commands of the public contract (events) to
// handlers of the runtime (pkg/bus). The runtime does not import the contract,
// so services make this one translation here rather than each on its own.
package routing

import (
	"github.com/loyaltybus/loyaltybus/events"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
)

// Route returns the runtime route of command c served by h.
func Route(c events.Command, h bus.Handler) bus.Route {
	return bus.Route{Type: c.Type, Subject: c.Subject, Schema: c.Schema, PartitionKey: c.PartitionKey, Handler: h}
}

// Change returns a change event of type c carrying data.
func Change(c events.Change, data any) bus.Change {
	return bus.Change{Type: c.Type, Subject: c.Subject, Data: data}
}
