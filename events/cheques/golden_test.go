package cheques_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/loyaltybus/loyaltybus/events/cheques"
	"github.com/loyaltybus/loyaltybus/events/internal/golden"
)

func intp(n int) *int { return &n }

var order = cheques.Cheque{
	Info:           cheques.ChequeInfo{UUID: "bb074ac8-3661-4c56-818e-26686d5a7ec3", Name: "Чек 2", ChequeType: cheques.ChequeOrder, Table: intp(2), Place: intp(3)},
	Currency:       "BYN",
	ChequeDiscount: &cheques.Discount{IsPercent: true, Value: "5", Sum: "0.25"},
	SubTotal:       "5",
	Total:          "4.75",
	Items: []cheques.Item{{
		Name: "Чай", Code: &cheques.ItemCode{Type: 0, Value: "10"}, Price: "5", Quantity: "1",
		Tax: &cheques.Tax{Rate: "10", Value: "0.45"}, Sum: "5", Total: "5",
	}},
	Payments: []cheques.Payment{},
}

// examples are the canonical payloads of the cheques domain. A diff in
// testdata/ is a contract change.
var examples = map[string]any{
	"fetch":     cheques.Fetch{Register: "bar-1", UUIDs: []string{"bb074ac8-3661-4c56-818e-26686d5a7ec3"}},
	"fetch_all": cheques.Fetch{},
	"recorded": cheques.Recorded{Register: "bar-1", UUID: order.Info.UUID, Revision: 1,
		ContentHash: "4f0c4e1c0d6b1b3c7a8b9e2d5f6a7c8b9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6", Cheque: order},
	"updated": cheques.Updated{Register: "bar-1", UUID: order.Info.UUID, Revision: 2,
		ContentHash:  "9a8b7c6d5e4f30211f2e3d4c5b6a79880f1e2d3c4b5a69788796a5b4c3d2e1f0",
		PreviousHash: "4f0c4e1c0d6b1b3c7a8b9e2d5f6a7c8b9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6", Cheque: order},
	"fetch_output": cheques.FetchOutput{Register: "bar-1", Cheques: 2, Recorded: 1, Updated: 1},
}

func TestGolden(t *testing.T) { golden.Check(t, examples) }

func TestCatalogue(t *testing.T) {
	for _, c := range cheques.Commands() {
		if !json.Valid(c.Schema) {
			t.Errorf("%s: schema is not valid JSON", c.Type)
		}
	}
	for _, c := range cheques.Changes() {
		if !json.Valid(c.Schema) {
			t.Errorf("%s: schema is not valid JSON", c.Type)
		}
	}
	if got, want := cheques.FetchCommand.ResultSubject(), "loyalty.result.cheques.fetch"; got != want {
		t.Errorf("ResultSubject = %q, want %q", got, want)
	}
}

// TestRecordedDecodesLosslessly checks that a consumer decoding an event gets
// every decimal and code back exactly.
func TestRecordedDecodesLosslessly(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "recorded.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r cheques.Recorded
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.Total != "4.75" || r.Items[0].Code.Value != "10" || *r.Info.Table != 2 {
		t.Errorf("decoded %+v", r)
	}
}
