package usage

import "github.com/loyaltybus/loyaltybus/events"

// Fetch is the data of a points.usage.fetch command. It is a read.
type Fetch struct {
	// StartDate and EndDate bound the window (the vendor's start_date and
	// end_date): RFC 3339 with an offset, or yyyy-MM-dd HH:mm:ss read in
	// Asia/Taipei.
	StartDate string `json:"startDate"`
	EndDate   string `json:"endDate"`
	// StoreID limits the records to one store (store_id). Optional.
	StoreID string `json:"storeId,omitempty"`
	// TimeSort orders the records: TimeSortAsc or TimeSortDesc. Optional.
	TimeSort string `json:"timeSort,omitempty"`
}

// Command reports the command this data belongs to.
func (Fetch) Command() events.Command { return FetchCommand }

// FetchOutput is the output of a succeeded points.usage.fetch result.
type FetchOutput struct {
	// Records is the number of records the vendor returned.
	Records int `json:"records"`
	// Recorded is the number announced by this command; Known the number
	// announced before.
	Recorded int `json:"recorded"`
	Known    int `json:"known"`
}
