package usage_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/loyaltybus/loyaltybus/events/usage"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

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

func TestGolden(t *testing.T) {
	for name, v := range examples {
		t.Run(name, func(t *testing.T) {
			got, err := json.MarshalIndent(v, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", name+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden file (run with -update to create): %v", err)
			}
			if !bytes.Equal(want, got) {
				t.Errorf("%s changed; this is a contract change (run with -update if intended)\nwant:\n%s\ngot:\n%s", path, want, got)
			}
		})
	}
}

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
