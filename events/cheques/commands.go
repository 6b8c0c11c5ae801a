package cheques

import "github.com/loyaltybus/loyaltybus/events"

// Fetch is the data of a cheques.fetch command (SmartX GET_CHEQUES). It is a
// read: the register is not changed.
type Fetch struct {
	// Register names a configured cash register. It may be omitted when
	// exactly one register is configured.
	Register string `json:"register,omitempty"`
	// UUIDs selects cheques by uuid; empty reads every parked cheque. A uuid
	// the register does not know fails the whole command with the vendor's
	// resultCode 488.
	UUIDs []string `json:"uuids,omitempty"`
}

// Command reports the command this data belongs to.
func (Fetch) Command() events.Command { return FetchCommand }

// FetchOutput is the output of a succeeded cheques.fetch result: what the
// register returned and what this attempt announced.
type FetchOutput struct {
	Register string `json:"register"`
	// Cheques is the number of cheques the register returned.
	Cheques int `json:"cheques"`
	// Recorded, Updated and Unchanged split them by what was announced.
	Recorded  int `json:"recorded"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
}
