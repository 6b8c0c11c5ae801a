package bus

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

type hint time.Duration

func (h hint) Error() string             { return "hint" }
func (h hint) RetryAfter() time.Duration { return time.Duration(h) }

type wrapper struct{ err error }

func (w wrapper) Error() string             { return "wrapper: " + w.err.Error() }
func (w wrapper) Unwrap() error             { return w.err }
func (w wrapper) RetryAfter() time.Duration { return 0 }

func TestRetryAfterTakesTheLongestHintInTheChain(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want time.Duration
	}{
		{"none", errors.New("x"), 0},
		{"direct", hint(time.Second), time.Second},
		{"wrapped by an adapter without a hint", fmt.Errorf("call: %w", wrapper{hint(3 * time.Second)}), 3 * time.Second},
		{"joined", errors.Join(hint(time.Second), hint(2*time.Second)), 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retryAfter(tt.err); got != tt.want {
				t.Errorf("retryAfter = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestKeyFieldReadsStringsAndExactNumbers(t *testing.T) {
	tests := []struct {
		data, want string
	}{
		{`{"k":"m-1"}`, "m-1"},
		{`{"k":832101480292933201}`, "832101480292933201"},
		{`{"k":null}`, ""},
		{`{"other":"x"}`, ""},
		{`not json`, ""},
	}
	for _, tt := range tests {
		data, _ := parseData([]byte(tt.data))
		if got := keyField(data, "k"); got != tt.want {
			t.Errorf("keyField(%s) = %q, want %q", tt.data, got, tt.want)
		}
	}
}

type spared struct{}

func (spared) Error() string   { return "rate limit reached" }
func (spared) Temporary() bool { return true }
func (spared) Attempted() bool { return false }

func TestAttempted(t *testing.T) {
	if attempted(fmt.Errorf("call: %w", spared{})) {
		t.Error("a call the limiter kept back counted as attempted")
	}
	if !attempted(errors.New("503")) {
		t.Error("an ordinary failure did not count")
	}
}
