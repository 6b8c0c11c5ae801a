// Package points is the contract of the points domain: the freeze, unfreeze,
// consume and adjust commands against Shuyun CRM and the change events they
// produce.
package points

import (
	"embed"

	"github.com/loyaltybus/loyaltybus/events"
	"github.com/loyaltybus/loyaltybus/events/internal/schemafs"
)

//go:embed schemas/*.json
var schemas embed.FS

func schema(name string) []byte { return schemafs.Read(schemas, name) }

// Command types and subjects.
const (
	TypeFreeze   = "loyalty.points.freeze.v1"
	TypeUnfreeze = "loyalty.points.unfreeze.v1"
	TypeConsume  = "loyalty.points.consume.v1"
	TypeAdjust   = "loyalty.points.adjust.v1"

	SubjectFreeze   = "loyalty.cmd.points.freeze"
	SubjectUnfreeze = "loyalty.cmd.points.unfreeze"
	SubjectConsume  = "loyalty.cmd.points.consume"
	SubjectAdjust   = "loyalty.cmd.points.adjust"
)

// Change event types and subjects.
const (
	TypeFrozen   = "loyalty.points.frozen.v1"
	TypeUnfrozen = "loyalty.points.unfrozen.v1"
	TypeConsumed = "loyalty.points.consumed.v1"
	TypeAdjusted = "loyalty.points.adjusted.v1"

	SubjectFrozen   = "loyalty.event.points.frozen"
	SubjectUnfrozen = "loyalty.event.points.unfrozen"
	SubjectConsumed = "loyalty.event.points.consumed"
	SubjectAdjusted = "loyalty.event.points.adjusted"
)

// Adjustment directions of Adjust.ChangeType.
const (
	ChangeSend   = "SEND"
	ChangeDeduct = "DEDUCT"
)

// Commands of the points domain.
var (
	FreezeCommand   = events.Command{Type: TypeFreeze, Subject: SubjectFreeze, Schema: schema("freeze"), PartitionKey: "memberId"}
	UnfreezeCommand = events.Command{Type: TypeUnfreeze, Subject: SubjectUnfreeze, Schema: schema("unfreeze"), PartitionKey: "memberId"}
	ConsumeCommand  = events.Command{Type: TypeConsume, Subject: SubjectConsume, Schema: schema("consume"), PartitionKey: "memberId"}
	AdjustCommand   = events.Command{Type: TypeAdjust, Subject: SubjectAdjust, Schema: schema("adjust"), PartitionKey: "memberId"}
)

// Change events of the points domain.
var (
	FrozenChange   = events.Change{Type: TypeFrozen, Subject: SubjectFrozen, Schema: schema("frozen")}
	UnfrozenChange = events.Change{Type: TypeUnfrozen, Subject: SubjectUnfrozen, Schema: schema("unfrozen")}
	ConsumedChange = events.Change{Type: TypeConsumed, Subject: SubjectConsumed, Schema: schema("consumed")}
	AdjustedChange = events.Change{Type: TypeAdjusted, Subject: SubjectAdjusted, Schema: schema("adjusted")}
)

// Commands lists the commands of this domain.
func Commands() []events.Command {
	return []events.Command{FreezeCommand, UnfreezeCommand, ConsumeCommand, AdjustCommand}
}

// Changes lists the change events of this domain.
func Changes() []events.Change {
	return []events.Change{FrozenChange, UnfrozenChange, ConsumedChange, AdjustedChange}
}
