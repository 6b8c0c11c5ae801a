package tickets_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/loyaltybus/loyaltybus/events/internal/golden"
	"github.com/loyaltybus/loyaltybus/events/tickets"
)

// examples are the canonical payloads of the tickets domain. A diff in
// testdata/ is a contract change.
var examples = map[string]any{
	"fetch": tickets.Fetch{CustomerUID: 832101480292933201, StartTime: "2026-11-01T00:00:00+08:00", EndTime: "2026-11-01 23:59:59", QueryAllStoreConsume: true},
	"recorded": tickets.Recorded{Ticket: tickets.Ticket{
		UID: 832101480292933450, SN: "20261101160212000249", DateTime: "2026-11-01T16:02:12+08:00",
		CashierUID: 832101480292933200, Cashier: &tickets.Cashier{UID: 832101480292933200, JobNumber: "1001", Name: "收银员"},
		CustomerUID: 886263699231969848, TotalAmount: "72.50", TotalProfit: "1", Discount: "100", Rounding: "0",
		TicketType: "SELL", Payments: []tickets.Payment{{Code: "payCode_1", Amount: "72.50"}},
		Items: []tickets.Item{{
			Name: "拿铁", ProductUID: 379659791803681560, SellPrice: "24.00", Quantity: "3", Discount: "100", TotalAmount: "72.00",
			Attributes: []tickets.ItemAttribute{{AttributeName: "加料", AttributeValue: "多一勺"}},
		}},
		TicketStoreAppIDOrAccount: "store-01",
	}},
	"fetch_output": tickets.FetchOutput{CustomerUID: 832101480292933201, Pages: 3, Tickets: 250, Recorded: 250},
}

func TestGolden(t *testing.T) { golden.Check(t, examples) }

func TestCatalogue(t *testing.T) {
	for _, c := range tickets.Commands() {
		if !json.Valid(c.Schema) {
			t.Errorf("%s: schema is not valid JSON", c.Type)
		}
	}
	for _, c := range tickets.Changes() {
		if !json.Valid(c.Schema) {
			t.Errorf("%s: schema is not valid JSON", c.Type)
		}
	}
}

// TestBigUIDsSurviveDecoding decodes the golden event as a consumer would.
func TestBigUIDsSurviveDecoding(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "recorded.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r tickets.Recorded
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.UID != 832101480292933450 || r.CustomerUID != 886263699231969848 || r.Items[0].ProductUID != 379659791803681560 {
		t.Errorf("uids lost precision: %d %d %d", r.UID, r.CustomerUID, r.Items[0].ProductUID)
	}
	if !bytes.Contains(b, []byte(`"uid": 832101480292933450`)) {
		t.Error("uid is not a bare JSON integer")
	}
}

func TestFlagReadsVendorIntegers(t *testing.T) {
	tests := []struct {
		in   string
		want tickets.Flag
		err  bool
	}{
		{in: `{"queryAllStoreConsume":1}`, want: true},
		{in: `{"queryAllStoreConsume":0}`, want: false},
		{in: `{"queryAllStoreConsume":true}`, want: true},
		{in: `{}`, want: false},
		{in: `{"queryAllStoreConsume":"yes"}`, err: true},
	}
	for _, tt := range tests {
		var f tickets.Fetch
		err := json.Unmarshal([]byte(tt.in), &f)
		if (err != nil) != tt.err || f.QueryAllStoreConsume != tt.want {
			t.Errorf("%s: got %v, %v", tt.in, f.QueryAllStoreConsume, err)
		}
	}
}
