package tickets

import (
	"errors"
	"strings"

	"github.com/loyaltybus/loyaltybus/events"
)

// Fetch is the data of a tickets.fetch command. It is a read: Pospal is not
// changed, but every page costs one call of the account's daily quota.
type Fetch struct {
	// CustomerUID is the member's Pospal uid (a JSON integer, up to 2^63-1).
	CustomerUID int64 `json:"customerUid"`
	// StartTime and EndTime bound the window, both inclusive: RFC 3339 with
	// an offset, or yyyy-MM-dd HH:mm:ss read in Asia/Shanghai.
	StartTime string `json:"startTime"`
	EndTime   string `json:"endTime"`
	// QueryAllStoreConsume asks for the member's tickets of every store of
	// the chain. JSON true/false, or the vendor's 1/0.
	QueryAllStoreConsume Flag `json:"queryAllStoreConsume,omitempty"`
}

// Command reports the command this data belongs to.
func (Fetch) Command() events.Command { return FetchCommand }

// Flag is a boolean that also reads the vendor's integer flags 1 and 0. It
// is written as a JSON boolean.
type Flag bool

// UnmarshalJSON reads true, false, 1 or 0.
func (f *Flag) UnmarshalJSON(b []byte) error {
	switch strings.TrimSpace(string(b)) {
	case "true", "1":
		*f = true
	case "false", "0", "null":
		*f = false
	default:
		return errors.New("tickets: flag must be true, false, 1 or 0")
	}
	return nil
}

// FetchOutput is the output of a succeeded tickets.fetch result. Counts
// cover the whole walk, also when it resumed after a redelivery.
type FetchOutput struct {
	CustomerUID int64 `json:"customerUid"`
	// Pages is the number of pages read.
	Pages int `json:"pages"`
	// Tickets is the number of tickets on them.
	Tickets int `json:"tickets"`
	// Recorded is the number of tickets announced by this command; Known
	// the number announced before.
	Recorded int `json:"recorded"`
	Known    int `json:"known"`
}
