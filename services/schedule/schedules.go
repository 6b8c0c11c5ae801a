package schedule

import (
	"strconv"
	"time"

	"github.com/loyaltybus/loyaltybus/adapters/pospal"
	"github.com/loyaltybus/loyaltybus/adapters/wixtar"
	"github.com/loyaltybus/loyaltybus/events/cheques"
	"github.com/loyaltybus/loyaltybus/events/tickets"
	"github.com/loyaltybus/loyaltybus/events/usage"
)

// Cheques fetches every parked cheque of a register at each tick. Missed
// ticks are not replayed one by one: the latest fetch covers them. Commands
// carry the register as partition key, so fetches of one register never
// overlap.
func Cheques(register string, every time.Duration) Schedule {
	return Schedule{
		Name: "cheques." + register, Every: every, Command: cheques.FetchCommand,
		PartitionKey: register,
		Data:         func(time.Time) any { return cheques.Fetch{Register: register} },
	}
}

// Tickets walks a member's tickets of the window [tick − every − overlap,
// tick] at each tick, every missed tick included. Commands carry the uid in
// decimal as partition key.
func Tickets(customerUID int64, allStores bool, every, overlap time.Duration) Schedule {
	uid := strconv.FormatInt(customerUID, 10)
	return Schedule{
		Name: "tickets." + uid, Every: every, Command: tickets.FetchCommand,
		PartitionKey: uid, Windowed: true,
		Data: func(tick time.Time) any {
			from, to := windowOf(tick, every, overlap, pospal.Shanghai)
			return tickets.Fetch{CustomerUID: customerUID, StartTime: from, EndTime: to, QueryAllStoreConsume: tickets.Flag(allStores)}
		},
	}
}

// Usage reads the points usage records of the window [tick − every −
// overlap, tick] at each tick, every missed tick included; storeID ("" for
// all stores) limits them to one store.
func Usage(storeID string, every, overlap time.Duration) Schedule {
	name := "usage"
	if storeID != "" {
		name += "." + storeID
	}
	return Schedule{
		Name: name, Every: every, Command: usage.FetchCommand, Windowed: true,
		Data: func(tick time.Time) any {
			from, to := windowOf(tick, every, overlap, wixtar.Location())
			return usage.Fetch{StartDate: from, EndDate: to, StoreID: storeID, TimeSort: usage.TimeSortAsc}
		},
	}
}

// windowOf returns the sliding window ending at tick, in RFC 3339 in the
// vendor's zone (so an operator reads the vendor's local times).
func windowOf(tick time.Time, every, overlap time.Duration, zone *time.Location) (from, to string) {
	return tick.Add(-every - overlap).In(zone).Format(time.RFC3339), tick.In(zone).Format(time.RFC3339)
}
