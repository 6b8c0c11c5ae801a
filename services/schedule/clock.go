package schedule

import (
	"context"
	"time"
)

// Clock is the scheduler's time source. Tests substitute a clock they move
// by hand.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Wait blocks until the clock reads t or later, or ctx ends (then it
	// returns ctx's error).
	Wait(ctx context.Context, t time.Time) error
}

// SystemClock is the system's clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Wait waits on a timer until t.
func (SystemClock) Wait(ctx context.Context, t time.Time) error {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
