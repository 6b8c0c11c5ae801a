package points_test

import (
	"encoding/json"
	"testing"

	"github.com/loyaltybus/loyaltybus/events/internal/golden"
	"github.com/loyaltybus/loyaltybus/events/points"
)

// examples are the canonical payloads of the points domain. A diff in
// testdata/ is a contract change.
var examples = map[string]any{
	"freeze":   points.Freeze{MemberID: "0040a85608844820900558fc2671cb7c", MemberType: "shuyun", ChannelType: "POS", Points: 20, Description: "双十一冻结", ShopCode: "10001"},
	"unfreeze": points.Unfreeze{FreezeID: "0193a8e2-7c1e-7b4e-9f51-3a2d5c6e7f80", MemberID: "0040a85608844820900558fc2671cb7c", MemberType: "shuyun", ChannelType: "POS"},
	"consume":  points.Consume{FreezeID: "0193a8e2-7c1e-7b4e-9f51-3a2d5c6e7f80", MemberID: "0040a85608844820900558fc2671cb7c", MemberType: "shuyun", ChannelType: "POS", ShopCode: "10001"},
	"adjust": points.Adjust{MemberID: "0040a85608844820900558fc2671cb7c", MemberType: "shuyun", ChannelType: "POS", ChangeType: points.ChangeSend, Points: 20,
		EventCode: "E0001", Description: "备注", EffectTime: "2026-11-01T00:00:00+08:00", ExpiredTime: "2027-11-01 00:00:00", ShopCode: "10001", PointType: "活动积分", PointSource: "线下活动"},
	"frozen":   points.Frozen{FreezeID: "0193a8e2-7c1e-7b4e-9f51-3a2d5c6e7f80", MemberID: "0040a85608844820900558fc2671cb7c", MemberType: "shuyun", ChannelType: "POS", Points: 20, ShopCode: "10001"},
	"unfrozen": points.Unfrozen{FreezeID: "0193a8e2-7c1e-7b4e-9f51-3a2d5c6e7f80", MemberID: "0040a85608844820900558fc2671cb7c", MemberType: "shuyun", ChannelType: "POS"},
	"consumed": points.Consumed{FreezeID: "0193a8e2-7c1e-7b4e-9f51-3a2d5c6e7f80", MemberID: "0040a85608844820900558fc2671cb7c", MemberType: "shuyun", ChannelType: "POS"},
	"adjusted": points.Adjusted{AdjustmentID: "0193a8e2-8d2f-7c5f-8a62-4b3e6d7f8091", MemberID: "0040a85608844820900558fc2671cb7c", MemberType: "shuyun", ChannelType: "POS",
		ChangeType: points.ChangeSend, Points: 20, EventCode: "E0001"},
}

func TestGolden(t *testing.T) { golden.Check(t, examples) }

func TestCatalogue(t *testing.T) {
	for _, c := range points.Commands() {
		if !json.Valid(c.Schema) {
			t.Errorf("%s: schema is not valid JSON", c.Type)
		}
		if c.ResultSubject() == c.Subject || c.ResultType() == c.Type {
			t.Errorf("%s: result names must differ from the command's", c.Type)
		}
	}
	for _, c := range points.Changes() {
		if !json.Valid(c.Schema) {
			t.Errorf("%s: schema is not valid JSON", c.Type)
		}
	}
	if got, want := points.FreezeCommand.ResultType(), "loyalty.points.freeze.result.v1"; got != want {
		t.Errorf("ResultType = %q, want %q", got, want)
	}
	if got, want := points.FreezeCommand.ResultSubject(), "loyalty.result.points.freeze"; got != want {
		t.Errorf("ResultSubject = %q, want %q", got, want)
	}
}
