// Package usage is the contract of points usage: the points.usage.fetch
// command that reads Wixtar Omni's points usage records in a time window
// (GET /v1/points_usage_records) and the points.used event announced once
// per record.
//
// The subjects belong to the points domain of the contract
// (loyalty.cmd.points.usage.fetch, loyalty.event.points.used), but the
// package is separate from events/points, which holds the Shuyun commands.
package usage

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
	TypeFetch    = "loyalty.points.usage.fetch.v1"
	SubjectFetch = "loyalty.cmd.points.usage.fetch"
)

// Change event type and subject.
const (
	TypeUsed    = "loyalty.points.used.v1"
	SubjectUsed = "loyalty.event.points.used"
)

// Orders of Fetch.TimeSort.
const (
	TimeSortAsc  = "ASC"
	TimeSortDesc = "DESC"
)

// FetchCommand reads the usage records of a window. Fetches need no order:
// each record is announced once whichever fetch reads it first.
var FetchCommand = events.Command{Type: TypeFetch, Subject: SubjectFetch, Schema: schema("fetch")}

// UsedChange is announced once per usage record.
var UsedChange = events.Change{Type: TypeUsed, Subject: SubjectUsed, Schema: schema("used")}

// Commands lists the commands of this domain.
func Commands() []events.Command { return []events.Command{FetchCommand} }

// Changes lists the change events of this domain.
func Changes() []events.Change { return []events.Change{UsedChange} }
