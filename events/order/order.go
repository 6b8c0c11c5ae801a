// Package order is the contract of the order domain: saving (creating or
// updating) an order at Shuyun CRM and the order.saved event.
//
// The command's data is the Shuyun Order object of doc 003 §6.3 as it stands
// (flat, not wrapped in {"Order": …}). The bus checks the required fields and
// forwards the data to the vendor verbatim, so fields the contract does not
// name (extra customizedProperties, new vendor fields) reach the vendor too.
// Times are the vendor's yyyy-MM-dd HH:mm:ss (Asia/Shanghai) or RFC 3339 with
// an offset; RFC 3339 values are converted to the vendor's form before
// sending, and nothing else is changed.
//
// Shuyun upserts by orderId (and orderType), so saving again updates the
// order. Saves are ordered by orderId: an older state of an order never
// overwrites a newer one, also for orders without a memberId.
package order

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
	TypeSave    = "loyalty.order.save.v1"
	SubjectSave = "loyalty.cmd.order.save"
)

// Change event type and subject.
const (
	TypeSaved    = "loyalty.order.saved.v1"
	SubjectSaved = "loyalty.event.order.saved"
)

// Values of Save.OrderType.
const (
	NormalOrder = "NORMAL" // 正常单
	RefundOrder = "REFUND" // 退单
)

// SaveCommand is the order.save command.
var SaveCommand = events.Command{Type: TypeSave, Subject: SubjectSave, Schema: schema("save"), PartitionKey: "orderId"}

// SavedChange is the order.saved event.
var SavedChange = events.Change{Type: TypeSaved, Subject: SubjectSaved, Schema: schema("saved")}

// Commands lists the commands of this domain.
func Commands() []events.Command { return []events.Command{SaveCommand} }

// Changes lists the change events of this domain.
func Changes() []events.Change { return []events.Change{SavedChange} }
