// Package cheques is the contract of the cheques domain: the cheques.fetch
// command that reads the parked cheques (Postponed and Order) of an iKassa
// SmartX cash register, and the change events it produces.
//
// A fetch announces each cheque once per content: cheque.recorded the first
// time a cheque uuid is seen on a register, cheque.updated each time its
// content changed since it was last seen, nothing while it is unchanged.
// Event ids derive from the fact (register, uuid, revision and content hash),
// not from the command, so refetches, redeliveries and replays never announce
// the same content twice.
package cheques

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
	TypeFetch    = "loyalty.cheques.fetch.v1"
	SubjectFetch = "loyalty.cmd.cheques.fetch"
)

// Change event types and subjects. The events name one cheque, so their
// domain is singular (CONTRACT §6).
const (
	TypeRecorded = "loyalty.cheque.recorded.v1"
	TypeUpdated  = "loyalty.cheque.updated.v1"

	SubjectRecorded = "loyalty.event.cheque.recorded"
	SubjectUpdated  = "loyalty.event.cheque.updated"
)

// Cheque types of Info.ChequeType.
const (
	ChequePostponed = "Postponed"
	ChequeOrder     = "Order"
)

// FetchCommand reads cheques of one register. Fetches of one register are
// ordered by the data field register (commands that name no register and
// carry no partitionkey attribute are not ordered).
var FetchCommand = events.Command{Type: TypeFetch, Subject: SubjectFetch, Schema: schema("fetch"), PartitionKey: "register"}

// Change events of the cheques domain.
var (
	RecordedChange = events.Change{Type: TypeRecorded, Subject: SubjectRecorded, Schema: schema("recorded")}
	UpdatedChange  = events.Change{Type: TypeUpdated, Subject: SubjectUpdated, Schema: schema("updated")}
)

// Commands lists the commands of this domain.
func Commands() []events.Command { return []events.Command{FetchCommand} }

// Changes lists the change events of this domain.
func Changes() []events.Change { return []events.Change{RecordedChange, UpdatedChange} }
