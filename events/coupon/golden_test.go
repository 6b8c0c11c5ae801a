package coupon_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/loyaltybus/loyaltybus/events/internal/golden"

	"github.com/loyaltybus/loyaltybus/events"
	"github.com/loyaltybus/loyaltybus/events/coupon"
)

const (
	member     = "0040a85608844820900558fc2671cb7c"
	couponCode = "SDSDSZ1"
	// bigUID exceeds 2^53: a float64 would turn it into 886263699231969792.
	bigUID coupon.UID = 886263699231969848
	// derivedGolden is DerivedCode of the golden command id.
	derivedGolden = "LBCZXY5WORZKFTTMCLOVTES5CP"
)

var (
	grantParams = json.RawMessage(`{"campaignId":"100001","selectShopCode":"100001","orderId":"100001","sharedBy":"100001","sharedCouponCode":"100001"}`)
	opParams    = json.RawMessage(`{"shopCode":"123","employeeId":"123","counterId":"123","ticketNum":"123","recordId":"123","productCode":"123"}`)
)

// examples are the canonical payloads of the coupon domain. A diff in
// testdata/ is a contract change.
var examples = map[string]any{
	"grant": coupon.Grant{MemberID: member, MemberType: "shuyun", ChannelType: "KYLIN_GUIDE", ProjectID: "1001", Params: grantParams},
	"grant_pospal": coupon.Grant{Provider: coupon.ProviderPospal, PromotionCouponUID: bigUID, CustomerUID: 832101480292933201,
		Code: "SPRING2026A17"},
	"redeem":        coupon.Redeem{CouponCode: couponCode, MemberType: "shuyun", ChannelType: "KYLIN_GUIDE", MemberID: member, Params: json.RawMessage(`{"shopCode":"123"}`)},
	"redeem_pospal": coupon.Redeem{Provider: coupon.ProviderPospal, CouponCode: "SPRING2026A17", CustomerUID: 832101480292933201, UseDateTime: "2026-11-11T10:30:00+08:00"},
	"freeze":        coupon.Freeze{CouponCode: couponCode, MemberType: "shuyun", ChannelType: "KYLIN_GUIDE"},
	"thaw":          coupon.Thaw{CouponCode: couponCode, MemberType: "shuyun", ChannelType: "KYLIN_GUIDE"},
	"writeoff":      coupon.WriteOff{CouponCode: couponCode, MemberType: "shuyun", ChannelType: "KYLIN_GUIDE", Params: opParams},
	"reverse":       coupon.Reverse{CouponCode: couponCode, MemberType: "shuyun", ChannelType: "KYLIN_GUIDE", Params: json.RawMessage(`{"shopCode":"123"}`)},
	"invalidate":    coupon.Invalidate{CouponCode: couponCode, MemberType: "shuyun", ChannelType: "KYLIN_GUIDE"},
	"reinstate":     coupon.Reinstate{CouponCode: couponCode, MemberType: "shuyun", ChannelType: "KYLIN_GUIDE"},
	"granted": coupon.Granted{Provider: coupon.ProviderShuyun, CouponCode: couponCode, MemberID: member, MemberType: "shuyun",
		ChannelType: "KYLIN_GUIDE", ProjectID: "1001", InstanceID: "001", Status: "GRANTED", GrantTime: "2021-12-15T17:10:01.218+08:00", Params: grantParams},
	"granted_pospal": coupon.Granted{Provider: coupon.ProviderPospal, CouponCode: "SPRING2026A17", PromotionCouponUID: bigUID, CustomerUID: 832101480292933201},
	"redeemed": coupon.Redeemed{Provider: coupon.ProviderShuyun, CouponCode: couponCode, Status: "USED", MemberID: member,
		MemberType: "shuyun", ChannelType: "KYLIN_GUIDE", Params: json.RawMessage(`{"shopCode":"123"}`)},
	"redeemed_pospal": coupon.Redeemed{Provider: coupon.ProviderPospal, CouponCode: "SPRING2026A17", CustomerUID: 832101480292933201, UseDateTime: "2026-11-11T10:30:00+08:00"},
	"frozen":          coupon.Frozen{Provider: coupon.ProviderShuyun, CouponCode: couponCode, Status: "FROZEN", MemberType: "shuyun", ChannelType: "KYLIN_GUIDE"},
	"thawed":          coupon.Thawed{Provider: coupon.ProviderShuyun, CouponCode: couponCode, Status: "VALID", MemberType: "shuyun", ChannelType: "KYLIN_GUIDE"},
	"writtenoff":      coupon.WrittenOff{Provider: coupon.ProviderShuyun, CouponCode: couponCode, Status: "USED", MemberType: "shuyun", ChannelType: "KYLIN_GUIDE", Params: opParams},
	"reversed":        coupon.Reversed{Provider: coupon.ProviderShuyun, CouponCode: couponCode, Status: "VALID", MemberType: "shuyun", ChannelType: "KYLIN_GUIDE"},
	"invalidated":     coupon.Invalidated{Provider: coupon.ProviderShuyun, CouponCode: couponCode, Status: "EXPIRED", MemberType: "shuyun", ChannelType: "KYLIN_GUIDE"},
	"reinstated":      coupon.Reinstated{Provider: coupon.ProviderShuyun, CouponCode: couponCode, Status: "VALID", MemberType: "shuyun", ChannelType: "KYLIN_GUIDE"},
}

func TestGolden(t *testing.T) { golden.Check(t, examples) }

func TestCatalogue(t *testing.T) {
	if got, want := len(coupon.Commands()), 8; got != want {
		t.Errorf("%d commands, want %d", got, want)
	}
	if got, want := len(coupon.Changes()), 8; got != want {
		t.Errorf("%d changes, want %d", got, want)
	}
	for _, c := range coupon.Commands() {
		if !json.Valid(c.Schema) {
			t.Errorf("%s: schema is not valid JSON", c.Type)
		}
		if c.ResultSubject() == c.Subject || c.ResultType() == c.Type {
			t.Errorf("%s: result names must differ from the command's", c.Type)
		}
		want := "memberId"
		if c.Type != coupon.TypeGrant {
			want = "couponCode" // operations on one coupon are ordered
		}
		if c.PartitionKey != want {
			t.Errorf("%s: partition key %q, want %q", c.Type, c.PartitionKey, want)
		}
		if !strings.Contains(string(c.Schema), `"title": "coupon.`) {
			t.Errorf("%s: schema has no coupon title", c.Type)
		}
	}
	for _, c := range coupon.Changes() {
		if !json.Valid(c.Schema) {
			t.Errorf("%s: schema is not valid JSON", c.Type)
		}
	}
	for name, v := range examples {
		if d, ok := v.(events.CommandData); ok {
			action, _, _ := strings.Cut(name, "_")
			if want := "loyalty.coupon." + action + ".v1"; d.Command().Type != want {
				t.Errorf("%s: Command().Type = %s, want %s", name, d.Command().Type, want)
			}
		}
	}
}

func TestUIDKeepsBigIntegersExact(t *testing.T) {
	tests := []struct {
		name, in string
		want     coupon.UID
		wantErr  bool
	}{
		{name: "integer above 2^53", in: `886263699231969848`, want: 886263699231969848},
		{name: "decimal string", in: `"832101480292933201"`, want: 832101480292933201},
		{name: "max int64", in: `9223372036854775807`, want: 9223372036854775807},
		{name: "beyond int64", in: `9223372036854775808`, wantErr: true},
		{name: "fraction", in: `1.5`, wantErr: true},
		{name: "exponent", in: `8.8e17`, wantErr: true},
		{name: "not a number", in: `"abc"`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g coupon.Grant
			err := json.Unmarshal([]byte(`{"provider":"pospal","promotionCouponUid":`+tt.in+`}`), &g)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("decoded %s as %d, want an error", tt.in, g.PromotionCouponUID)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g.PromotionCouponUID != tt.want {
				t.Errorf("got %d, want %d", g.PromotionCouponUID, tt.want)
			}
			out, err := json.Marshal(g)
			if err != nil {
				t.Fatal(err)
			}
			if want := `"promotionCouponUid":` + tt.want.String(); !strings.Contains(string(out), want) {
				t.Errorf("marshalled %s, want it to contain %s", out, want)
			}
		})
	}
}

func TestDerivedCode(t *testing.T) {
	ids := []string{"0193a8e2-7c1e-7b4e-9f51-3a2d5c6e7f80", "0193a8e27c1e7b4e9f513a2d5c6e7f80", "a", strings.Repeat("x", 64)}
	seen := map[string]string{}
	for _, id := range ids {
		code := coupon.DerivedCode(id)
		if code != coupon.DerivedCode(id) {
			t.Errorf("DerivedCode(%q) is not stable", id)
		}
		if len(code) == 0 || len(code) > 50 {
			t.Errorf("DerivedCode(%q) = %q: %d characters, want 1-50", id, code, len(code))
		}
		for _, r := range code {
			if !('0' <= r && r <= '9' || 'A' <= r && r <= 'Z' || 'a' <= r && r <= 'z') {
				t.Errorf("DerivedCode(%q) = %q has %q, want only ASCII letters and digits", id, code, r)
			}
		}
		if other, dup := seen[code]; dup {
			t.Errorf("DerivedCode(%q) = DerivedCode(%q) = %q", id, other, code)
		}
		seen[code] = id
	}
	// The derivation is part of the contract: codes already handed out must
	// not change.
	if got, want := coupon.DerivedCode("0193a8e2-7c1e-7b4e-9f51-3a2d5c6e7f80"), derivedGolden; got != want {
		t.Errorf("DerivedCode changed: got %s, want %s", got, want)
	}
}
