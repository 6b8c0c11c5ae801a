package usage_test

import (
	"encoding/json"
	"testing"

	"github.com/loyaltybus/loyaltybus/events/internal/golden"
	"github.com/loyaltybus/loyaltybus/events/usage"
)

// examples are the canonical payloads of points usage. A diff in testdata/
// is a contract change.
var examples = map[string]any{
	"fetch": usage.Fetch{StartDate: "2020-09-01T00:00:00+08:00", EndDate: "2020-09-04 23:59:59", StoreID: "S01", TimeSort: usage.TimeSortAsc},
	"used": usage.Used{
		Key: "MCSF0220090400024|2020-09-01T10:17:59|exchange_goods", OrderID: "MCSF0220090400024",
		DateTime: "2020-09-01T10:17:59+08:00", PointType: "exchange_goods", BonusPoints: "50", OrderAmount: "200",
		MemberName: "ming", StoreName: "左營文天", PointMemo: "測試", UsePointInstructions: "使用點數說明",
	},
	"fetch_output": usage.FetchOutput{Records: 3, Recorded: 2, Known: 1},
}

func TestGolden(t *testing.T) { golden.Check(t, examples) }

func TestCatalogue(t *testing.T) {
	for _, c := range usage.Commands() {
		if !json.Valid(c.Schema) {
			t.Errorf("%s: schema is not valid JSON", c.Type)
		}
	}
	for _, c := range usage.Changes() {
		if !json.Valid(c.Schema) {
			t.Errorf("%s: schema is not valid JSON", c.Type)
		}
	}
	if got, want := usage.FetchCommand.ResultType(), "loyalty.points.usage.fetch.result.v1"; got != want {
		t.Errorf("ResultType = %q, want %q", got, want)
	}
}
