// Package coupon is the contract of the coupon domain: granting a coupon
// (Shuyun CRM, or Pospal when the command names provider "pospal"), the seven
// coupon state operations (redeem, freeze, thaw, writeoff, reverse, invalidate,
// reinstate) and the change events they produce.
//
// # Ordering
//
// A grant is ordered by memberId (when it has one: Pospal grants carry none,
// so they run in parallel unless the publisher sets partitionkey); the state
// operations are ordered by couponCode, so operations on one coupon apply in
// the order they were published.
//
// # Idempotency
//
// A Shuyun grant sends the command id as X-Request-Sequence, which the vendor
// de-duplicates. A Pospal grant sends a coupon code that is unique per store:
// the command's code, or, when it gives none, DerivedCode(command id), so a
// retry adds the same code again and the vendor's "code already exists" (3004)
// means the earlier attempt succeeded. The state operations take no token at
// either vendor; the command id is kept in the bus's idempotency record, and a
// repeated Shuyun operation whose earlier attempt went unanswered is confirmed
// by reading the coupon's state.
//
// # Pospal uids
//
// Pospal uids (promotionCouponUid, customerUid) exceed 2^53. Publish them as
// JSON integers, or as decimal strings where the publisher's JSON library cannot
// keep such integers exact; they are decoded into int64 (UID), never float64,
// and always published as JSON integers.
package coupon

import (
	"embed"

	"github.com/loyaltybus/loyaltybus/events"
	"github.com/loyaltybus/loyaltybus/events/internal/schemafs"
)

//go:embed schemas/*.json
var schemas embed.FS

func schema(name string) []byte { return schemafs.Read(schemas, name) }

// Providers of a coupon. An empty provider means Shuyun.
const (
	ProviderShuyun = "shuyun"
	ProviderPospal = "pospal"
)

// Command types and subjects.
const (
	TypeGrant      = "loyalty.coupon.grant.v1"
	TypeRedeem     = "loyalty.coupon.redeem.v1"
	TypeFreeze     = "loyalty.coupon.freeze.v1"
	TypeThaw       = "loyalty.coupon.thaw.v1"
	TypeWriteOff   = "loyalty.coupon.writeoff.v1"
	TypeReverse    = "loyalty.coupon.reverse.v1"
	TypeInvalidate = "loyalty.coupon.invalidate.v1"
	TypeReinstate  = "loyalty.coupon.reinstate.v1"

	SubjectGrant      = "loyalty.cmd.coupon.grant"
	SubjectRedeem     = "loyalty.cmd.coupon.redeem"
	SubjectFreeze     = "loyalty.cmd.coupon.freeze"
	SubjectThaw       = "loyalty.cmd.coupon.thaw"
	SubjectWriteOff   = "loyalty.cmd.coupon.writeoff"
	SubjectReverse    = "loyalty.cmd.coupon.reverse"
	SubjectInvalidate = "loyalty.cmd.coupon.invalidate"
	SubjectReinstate  = "loyalty.cmd.coupon.reinstate"
)

// Change event types and subjects.
const (
	TypeGranted     = "loyalty.coupon.granted.v1"
	TypeRedeemed    = "loyalty.coupon.redeemed.v1"
	TypeFrozen      = "loyalty.coupon.frozen.v1"
	TypeThawed      = "loyalty.coupon.thawed.v1"
	TypeWrittenOff  = "loyalty.coupon.writtenoff.v1"
	TypeReversed    = "loyalty.coupon.reversed.v1"
	TypeInvalidated = "loyalty.coupon.invalidated.v1"
	TypeReinstated  = "loyalty.coupon.reinstated.v1"

	SubjectGranted     = "loyalty.event.coupon.granted"
	SubjectRedeemed    = "loyalty.event.coupon.redeemed"
	SubjectFrozen      = "loyalty.event.coupon.frozen"
	SubjectThawed      = "loyalty.event.coupon.thawed"
	SubjectWrittenOff  = "loyalty.event.coupon.writtenoff"
	SubjectReversed    = "loyalty.event.coupon.reversed"
	SubjectInvalidated = "loyalty.event.coupon.invalidated"
	SubjectReinstated  = "loyalty.event.coupon.reinstated"
)

// Commands of the coupon domain.
var (
	GrantCommand      = events.Command{Type: TypeGrant, Subject: SubjectGrant, Schema: schema("grant"), PartitionKey: "memberId"}
	RedeemCommand     = events.Command{Type: TypeRedeem, Subject: SubjectRedeem, Schema: schema("redeem"), PartitionKey: "couponCode"}
	FreezeCommand     = events.Command{Type: TypeFreeze, Subject: SubjectFreeze, Schema: schema("freeze"), PartitionKey: "couponCode"}
	ThawCommand       = events.Command{Type: TypeThaw, Subject: SubjectThaw, Schema: schema("thaw"), PartitionKey: "couponCode"}
	WriteOffCommand   = events.Command{Type: TypeWriteOff, Subject: SubjectWriteOff, Schema: schema("writeoff"), PartitionKey: "couponCode"}
	ReverseCommand    = events.Command{Type: TypeReverse, Subject: SubjectReverse, Schema: schema("reverse"), PartitionKey: "couponCode"}
	InvalidateCommand = events.Command{Type: TypeInvalidate, Subject: SubjectInvalidate, Schema: schema("invalidate"), PartitionKey: "couponCode"}
	ReinstateCommand  = events.Command{Type: TypeReinstate, Subject: SubjectReinstate, Schema: schema("reinstate"), PartitionKey: "couponCode"}
)

// Change events of the coupon domain.
var (
	GrantedChange     = events.Change{Type: TypeGranted, Subject: SubjectGranted, Schema: schema("granted")}
	RedeemedChange    = events.Change{Type: TypeRedeemed, Subject: SubjectRedeemed, Schema: schema("redeemed")}
	FrozenChange      = events.Change{Type: TypeFrozen, Subject: SubjectFrozen, Schema: schema("frozen")}
	ThawedChange      = events.Change{Type: TypeThawed, Subject: SubjectThawed, Schema: schema("thawed")}
	WrittenOffChange  = events.Change{Type: TypeWrittenOff, Subject: SubjectWrittenOff, Schema: schema("writtenoff")}
	ReversedChange    = events.Change{Type: TypeReversed, Subject: SubjectReversed, Schema: schema("reversed")}
	InvalidatedChange = events.Change{Type: TypeInvalidated, Subject: SubjectInvalidated, Schema: schema("invalidated")}
	ReinstatedChange  = events.Change{Type: TypeReinstated, Subject: SubjectReinstated, Schema: schema("reinstated")}
)

// Commands lists the commands of this domain.
func Commands() []events.Command {
	return []events.Command{GrantCommand, RedeemCommand, FreezeCommand, ThawCommand, WriteOffCommand,
		ReverseCommand, InvalidateCommand, ReinstateCommand}
}

// Changes lists the change events of this domain.
func Changes() []events.Change {
	return []events.Change{GrantedChange, RedeemedChange, FrozenChange, ThawedChange, WrittenOffChange,
		ReversedChange, InvalidatedChange, ReinstatedChange}
}
