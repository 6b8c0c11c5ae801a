// Package tickets is the contract of the tickets domain: the tickets.fetch
// command that walks a Pospal member's ticket history
// (queryCustomerHistoryTicketsByUid, page by page) and the ticket.recorded
// event announced once per ticket sn.
//
// Pospal uids exceed 2^53: customerUid, uid, cashierUid and productUid are
// JSON integers that must be decoded into int64 (or json.Number), never into
// a float64.
package tickets

import (
	"embed"

	"github.com/loyaltybus/loyaltybus/events"
	"github.com/loyaltybus/loyaltybus/events/internal/schemafs"
)

//go:embed schemas/*.json
var schemas embed.FS

func schema(name string) []byte { return schemafs.Read(schemas, name) }

// Command type and subject.
const (
	TypeFetch    = "loyalty.tickets.fetch.v1"
	SubjectFetch = "loyalty.cmd.tickets.fetch"
)

// Change event type and subject.
const (
	TypeRecorded    = "loyalty.ticket.recorded.v1"
	SubjectRecorded = "loyalty.event.ticket.recorded"
)

// FetchCommand walks a member's tickets in a time window. Its partition key
// names the data field customerUid; since that is a JSON number, publishers
// that need fetches of one member in order set the partitionkey attribute
// (the scheduler sets it to the uid in decimal).
var FetchCommand = events.Command{Type: TypeFetch, Subject: SubjectFetch, Schema: schema("fetch"), PartitionKey: "customerUid"}

// RecordedChange is announced once per ticket sn.
var RecordedChange = events.Change{Type: TypeRecorded, Subject: SubjectRecorded, Schema: schema("recorded")}

// Commands lists the commands of this domain.
func Commands() []events.Command { return []events.Command{FetchCommand} }

// Changes lists the change events of this domain.
func Changes() []events.Change { return []events.Change{RecordedChange} }
