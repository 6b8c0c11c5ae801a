package coupons

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/loyaltybus/loyaltybus/adapters/pospal"
)

func TestPospalUseWindow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 11, 2, 30, 15, 500_000_000, time.UTC)
	at := func(d time.Duration) time.Time { return now.Add(d) }
	end := time.Date(2026, 11, 11, 2, 35, 16, 0, time.UTC) // now + 5 min, rounded up to a whole second
	tests := []struct {
		name             string
		cmdTime, useTime time.Time
		wantStart        time.Time
		wantEnd          time.Time
	}{
		{name: "useDateTime: its second", cmdTime: at(-time.Minute), useTime: time.Date(2020, 1, 2, 3, 4, 5, 600, time.UTC),
			wantStart: time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC), wantEnd: time.Date(2020, 1, 2, 3, 4, 6, 0, time.UTC)},
		{name: "from the command's time less the margin", cmdTime: at(-time.Hour),
			wantStart: at(-time.Hour - 5*time.Minute).Truncate(time.Second), wantEnd: end},
		{name: "a command from the future starts at now", cmdTime: at(time.Hour),
			wantStart: at(-5 * time.Minute).Truncate(time.Second), wantEnd: end},
		{name: "an old command is cut to 5 days", cmdTime: at(-30 * 24 * time.Hour),
			wantStart: end.Add(-pospal.MaxUsedCodeWindow), wantEnd: end},
		{name: "no command time: 5 days", wantStart: end.Add(-pospal.MaxUsedCodeWindow), wantEnd: end},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start, end := pospalUseWindow(tt.cmdTime, tt.useTime, now)
			assert.True(t, tt.wantStart.Equal(start), "start %v, want %v", start, tt.wantStart)
			assert.True(t, tt.wantEnd.Equal(end), "end %v, want %v", end, tt.wantEnd)
			assert.LessOrEqual(t, end.Sub(start), pospal.MaxUsedCodeWindow, "within the vendor's limit")
		})
	}
}
