package pii_test

import (
	"testing"

	"github.com/loyaltybus/loyaltybus/pkg/pii"
)

func TestMaskText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"mobile in a sentence", "会员 13812345678 不存在", "会员 138****5678 不存在"},
		{"mobile with country code", "call +8613812345678 now", "call +86*******5678 now"},
		{"id card", "identity 11010519491231002X refused", "identity 110105********002X refused"},
		{"email", "mail zhang.san@example.com bounced", "mail z***@example.com bounced"},
		{"json in text", `vendor said {"mobile":"13812345678","code":"1"}`, `vendor said {"mobile":"138****5678","code":"1"}`},
		{"long uid untouched", "ticket uid 832101480292933201", "ticket uid 832101480292933201"},
		{"order number untouched", "order 2026112513812345678901", "order 2026112513812345678901"},
		{"nothing to mask", "data.points: must be greater than 0 (got -5)", "data.points: must be greater than 0 (got -5)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pii.MaskText(tt.in); got != tt.want {
				t.Errorf("MaskText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
