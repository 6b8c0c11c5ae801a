package chaos

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// history is a clean history of two members with two commands each: a
// freeze and the consume of that freeze.
func history() History {
	return History{
		Case: "hand-made",
		Commands: []Command{
			{ID: "f1", Member: "a", Kind: "freeze", Index: 0, Op: "/member/freezePoint", Token: "f1"},
			{ID: "c1", Member: "a", Kind: "consume", Index: 1, Op: "/member/freezeDeductPoint", Token: "f1"},
			{ID: "f2", Member: "b", Kind: "freeze", Index: 0, Op: "/member/freezePoint", Token: "f2"},
			{ID: "c2", Member: "b", Kind: "consume", Index: 1, Op: "/member/freezeDeductPoint", Token: "f2"},
		},
		Results: []Result{
			{EventID: "r-f1", CommandID: "f1", Status: "succeeded"},
			{EventID: "r-f2", CommandID: "f2", Status: "succeeded"},
			{EventID: "r-c2", CommandID: "c2", Status: "succeeded"},
			{EventID: "r-c1", CommandID: "c1", Status: "succeeded"},
		},
		Effects: []Effect{
			{Op: "/member/freezePoint", Token: "f2", Count: 1},
			{Op: "/member/freezePoint", Token: "f1", Count: 1},
			{Op: "/member/freezeDeductPoint", Token: "f1", Count: 1},
			{Op: "/member/freezeDeductPoint", Token: "f2", Count: 1},
		},
	}
}

func TestCheck(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		change func(h *History)
		want   Row
	}{
		{name: "clean history", change: func(*History) {}, want: Row{}},
		{name: "a command without result is lost", change: func(h *History) {
			h.Results = h.Results[:3]
		}, want: Row{Lost: 1}},
		{name: "the same result stored twice is one result", change: func(h *History) {
			h.Results = append(h.Results, h.Results[0])
		}, want: Row{}},
		{name: "a second distinct result is a duplicate", change: func(h *History) {
			h.Results = append(h.Results, Result{EventID: "r-f1-again", CommandID: "f1", Status: "succeeded"})
		}, want: Row{DuplicateResults: 1}},
		{name: "an effect applied twice is a double effect", change: func(h *History) {
			h.Effects[1].Count = 2
		}, want: Row{DoubleEffects: 1}},
		{name: "a result for an unknown id is unexpected", change: func(h *History) {
			h.Results = append(h.Results, Result{EventID: "r-x", CommandID: "x", Status: "succeeded"})
		}, want: Row{Unexpected: 1}},
		{name: "a failed command that should succeed is unexpected", change: func(h *History) {
			h.Results[3].Status = "failed"
		}, want: Row{Unexpected: 1}},
		{name: "an expected failure is fine", change: func(h *History) {
			h.Results[3].Status = "failed"
			h.Commands[1].Expect = "failed"
		}, want: Row{}},
		{name: "a consume refused because it met the vendor before its freeze is an order violation", change: func(h *History) {
			h.Commands[1].FreezeID = "f1"
			h.Results[3].Status = "failed"
			h.Effects = []Effect{h.Effects[0], h.Effects[1], h.Effects[3]}
			h.Calls = []Call{
				{Path: "/member/freezeDeductPoint", Token: "f1", Time: t0},
				{Path: "/member/freezePoint", Token: "f1", Time: t0.Add(time.Second)},
			}
		}, want: Row{OrderViolations: 1}},
		{name: "a consume refused after its freeze is unexpected", change: func(h *History) {
			h.Commands[1].FreezeID = "f1"
			h.Results[3].Status = "failed"
			h.Effects = []Effect{h.Effects[0], h.Effects[1], h.Effects[3]}
			h.Calls = []Call{
				{Path: "/member/freezePoint", Token: "f1", Time: t0},
				{Path: "/member/freezeDeductPoint", Token: "f1", Time: t0.Add(time.Second)},
			}
		}, want: Row{Unexpected: 1}},
		{name: "an effect nobody asked for is unexpected", change: func(h *History) {
			h.Effects = append(h.Effects, Effect{Op: "/member/point", Token: "zz", Count: 1})
		}, want: Row{Unexpected: 1}},
		{name: "a consume applied before its member's freeze is an order violation", change: func(h *History) {
			h.Effects[1], h.Effects[2] = h.Effects[2], h.Effects[1]
		}, want: Row{OrderViolations: 1}},
		{name: "another member's effects in between are no violation", change: func(h *History) {
			h.Effects = []Effect{h.Effects[1], h.Effects[0], h.Effects[3], h.Effects[2]}
		}, want: Row{}},
		{name: "a missing conflict copy is unexpected", change: func(h *History) {
			h.Conflicts = 2
			h.DeadLetters = []DeadLetter{{CommandID: "f1", Reason: "conflict"}}
		}, want: Row{Unexpected: 1}},
		{name: "a racing copy that won the id is not unexpected", change: func(h *History) {
			// f1's copy (member ax) claimed first; the original is the
			// conflict, and c1 fails at the vendor: a's freeze never was.
			h.Conflicts, h.Racing = 1, true
			h.Commands[1].FreezeID = "f1"
			h.DeadLetters = []DeadLetter{{CommandID: "f1", Reason: "conflict: other payload", Member: "a"}}
			h.Results[3].Status = "failed"
		}, want: Row{}},
		{name: "without a race, the same outcome is unexpected", change: func(h *History) {
			h.Conflicts = 1
			h.Commands[1].FreezeID = "f1"
			h.DeadLetters = []DeadLetter{{CommandID: "f1", Reason: "conflict: other payload", Member: "a"}}
			h.Results[3].Status = "failed"
		}, want: Row{Unexpected: 1}},
		{name: "a racing original that won is checked as usual", change: func(h *History) {
			h.Conflicts, h.Racing = 1, true
			h.Commands[1].FreezeID = "f1"
			h.DeadLetters = []DeadLetter{{CommandID: "f1", Reason: "conflict: other payload", Member: "ax"}}
			h.Results[3].Status = "failed"
		}, want: Row{Unexpected: 1}},
		{name: "conflict copies as many as conflicts", change: func(h *History) {
			h.Conflicts = 1
			h.DeadLetters = []DeadLetter{{CommandID: "f1", Reason: "conflict"}, {CommandID: "c1", Reason: "failed: x"}}
		}, want: Row{}},
		{name: "a result stored without quorum is unexpected", change: func(h *History) {
			for i := range h.Results {
				h.Results[i].Stored = t0.Add(time.Duration(i) * time.Second)
			}
			h.Quiet = []Window{{From: t0.Add(1500 * time.Millisecond), To: t0.Add(2500 * time.Millisecond)}}
		}, want: Row{Unexpected: 1}},
		{name: "a vendor rate above the limit is unexpected", change: func(h *History) {
			h.RateLimit = 3
			for i := range 4 {
				h.Calls = append(h.Calls, Call{Path: "/member/freezePoint", Time: t0.Add(time.Duration(i) * 100 * time.Millisecond)})
			}
		}, want: Row{Unexpected: 1}},
		{name: "the same rate spread over two seconds is fine", change: func(h *History) {
			h.RateLimit = 3
			for i := range 4 {
				h.Calls = append(h.Calls, Call{Path: "/member/freezePoint", Time: t0.Add(time.Duration(i) * 400 * time.Millisecond)})
			}
		}, want: Row{}},
		{name: "a measurement above its bound is unexpected", change: func(h *History) {
			h.Bounds = []Bound{{What: "requests while down", Got: 41, Max: 40}, {What: "fine", Got: 3, Max: 3}}
		}, want: Row{Unexpected: 1}},
		{name: "vendor calls after settling are a storm", change: func(h *History) {
			h.CallsAfterSettled = 5
		}, want: Row{Unexpected: 1}},
		{name: "duplicate in-flight calls are unexpected", change: func(h *History) {
			h.InFlightDuplicates = 2
		}, want: Row{Unexpected: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := history()
			tt.change(&h)
			got := Check(h)
			want := tt.want
			want.Case, want.Commands = "hand-made", 4
			assert.Equal(t, want.Lost, got.Lost, "lost")
			assert.Equal(t, want.DuplicateResults, got.DuplicateResults, "duplicate results")
			assert.Equal(t, want.DoubleEffects, got.DoubleEffects, "double effects")
			assert.Equal(t, want.Unexpected, got.Unexpected, "unexpected")
			assert.Equal(t, want.OrderViolations, got.OrderViolations, "order violations")
			assert.Equal(t, want.Commands, got.Commands)
			assert.Equal(t, want.OK(), got.OK())
			if !got.OK() {
				assert.NotEmpty(t, got.Details, "every anomaly is explained")
			}
		})
	}
}

func TestPeakRate(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var calls []Call
	for _, ms := range []int{900, 0, 100, 1050, 950, 3000} { // unordered on purpose
		calls = append(calls, Call{Time: t0.Add(time.Duration(ms) * time.Millisecond)})
	}
	got, at := peakRate(calls, time.Second)
	assert.Equal(t, 4, got)
	assert.Equal(t, t0, at)
	got, _ = peakRate(nil, time.Second)
	assert.Zero(t, got)
}
