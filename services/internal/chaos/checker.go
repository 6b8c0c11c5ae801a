package chaos

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Command is one command the harness published, as the checker knows it.
type Command struct {
	// ID is the CloudEvent id.
	ID string
	// Member is the partition key (memberId).
	Member string
	// Kind is freeze, consume, unfreeze or adjust.
	Kind string
	// Index is the command's position in its member's publish order, from 0:
	// the order of the commands stream (Seq), which is the order the contract
	// promises to keep.
	Index int
	// Seq is the command's sequence in LOYALTY_COMMANDS.
	Seq uint64
	// FreezeID is the freeze a consume or unfreeze settles.
	FreezeID string
	// Op and Token name the vendor effect the command causes: the endpoint
	// path and the idempotency token it sends (the freeze's id for consume
	// and unfreeze).
	Op, Token string
	// Expect is the result status the command must end with ("" means
	// succeeded).
	Expect string
}

// Result is one result event read from LOYALTY_RESULTS.
type Result struct {
	// EventID is the result's own CloudEvent id; CommandID its causationid.
	EventID, CommandID string
	// Status is the result's data.status.
	Status string
	// Seq is the stream sequence and Stored the time the stream stored it.
	Seq    uint64
	Stored time.Time
}

// Effect is one entry of the vendor's effect ledger: how often the effect of
// (Op, Token) was applied. Ledger order is the order of first application.
type Effect struct {
	Op    string `json:"Op"`
	Token string `json:"Token"`
	Count int    `json:"Count"`
}

// Call is one request the vendor received.
type Call struct {
	Path  string    `json:"path"`
	Token string    `json:"token"`
	Time  time.Time `json:"time"`
}

// DeadLetter is one copy in LOYALTY_DLQ.
type DeadLetter struct {
	// CommandID is the ce-id of the copied command; Reason its
	// Loyalty-Dlq-Reason; Member the memberId of its data.
	CommandID, Reason, Member string
}

// conflict says the copy is a reused id's other payload.
func (d DeadLetter) conflict() bool { return strings.HasPrefix(d.Reason, "conflict") }

// Window is a span of time in which no result may be stored (the cluster had
// no quorum).
type Window struct{ From, To time.Time }

// History is everything observed in one run of a case.
type History struct {
	Case        string
	Commands    []Command
	Results     []Result
	Effects     []Effect
	Calls       []Call
	DeadLetters []DeadLetter
	// Conflicts is how many publishes reused a command id with another
	// payload; each must leave one DLQ copy with reason conflict.
	Conflicts int
	// Racing says the reused ids ran on other partition keys than their
	// first payload, in parallel with it: whichever claims the id first
	// stands, so the later copy may win. Where the DLQ holds the first
	// payload, the command's own outcome (and that of commands naming it as
	// their freeze) is the copy's, not checked against its expectation.
	Racing bool
	// Quiet are the windows in which no result may be stored.
	Quiet []Window
	// RateLimit, when positive, is the most vendor requests allowed in any
	// one-second window (the limiter's rate plus its burst).
	RateLimit int
	// InFlightDuplicates counts vendor requests that arrived while another
	// with the same path and token was still being handled.
	InFlightDuplicates int
	// Bounds are measurements with a ceiling (e.g. vendor requests while it
	// was down); each one above its ceiling is unexpected.
	Bounds []Bound
	// CallsAfterSettled counts vendor requests made after the consumer had
	// settled everything: a redelivery storm.
	CallsAfterSettled int
	// Wall is how long the case ran.
	Wall time.Duration
	// Notes are measurements to print beside the verdict.
	Notes []string
}

// Bound is a measurement that must not exceed Max.
type Bound struct {
	What     string
	Got, Max int
}

// Row is the checker's verdict on one history, in the Jepsen vocabulary.
type Row struct {
	Case     string
	Commands int
	// Lost commands were published and have no result.
	Lost int
	// DuplicateResults counts commands with more than one distinct result
	// event id.
	DuplicateResults int
	// DoubleEffects counts vendor effects applied more than once.
	DoubleEffects int
	// Unexpected counts anything else that must not happen: a result for an
	// id never published, a status other than expected, an effect no
	// command asked for, a missing conflict copy, a result stored while the
	// cluster had no quorum, a request rate above the limiter, a duplicate
	// in-flight vendor call, vendor calls after everything settled.
	Unexpected int
	// OrderViolations counts effects applied before an effect of the same
	// member published earlier.
	OrderViolations int
	Wall            time.Duration
	// Details explain every non-zero count (a bounded sample); Notes carry
	// the measurements of the history.
	Details []string
	Notes   []string
}

// OK reports whether the row shows no anomaly.
func (r Row) OK() bool {
	return r.Lost == 0 && r.DuplicateResults == 0 && r.DoubleEffects == 0 && r.Unexpected == 0 && r.OrderViolations == 0
}

// maxDetails bounds the explanations kept per row.
const maxDetails = 12

// Check judges a history.
func Check(h History) Row {
	r := Row{Case: h.Case, Commands: len(h.Commands), Wall: h.Wall, Notes: h.Notes}
	detail := func(format string, args ...any) {
		if len(r.Details) < maxDetails {
			r.Details = append(r.Details, fmt.Sprintf(format, args...))
		}
	}

	byID := make(map[string]*Command, len(h.Commands))
	for i := range h.Commands {
		byID[h.Commands[i].ID] = &h.Commands[i]
	}

	// Results: one distinct result per command, with the expected status.
	ids := map[string]map[string]bool{}
	status := map[string]string{}
	for _, res := range h.Results {
		if byID[res.CommandID] == nil {
			r.Unexpected++
			detail("result %s for command %q that was never published", res.EventID, res.CommandID)
			continue
		}
		if ids[res.CommandID] == nil {
			ids[res.CommandID] = map[string]bool{}
		}
		ids[res.CommandID][res.EventID] = true
		if _, seen := status[res.CommandID]; !seen {
			status[res.CommandID] = res.Status
		}
		for _, w := range h.Quiet {
			if res.Stored.After(w.From) && res.Stored.Before(w.To) {
				r.Unexpected++
				detail("result of %s stored at %s while the cluster had no quorum", res.CommandID, res.Stored.Format(time.StampMilli))
			}
		}
	}
	lostRace := racesLost(h, byID)
	if len(lostRace) > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d of %d racing ids went to the later copy (first claim wins, by design)", len(lostRace), h.Conflicts))
	}
	firstCall, lastCall := callTimes(h.Calls)
	for _, c := range h.Commands {
		got, ok := status[c.ID]
		switch {
		case !ok:
			r.Lost++
			detail("lost: %s (%s of member %s) has no result", c.ID, c.Kind, c.Member)
			continue
		case len(ids[c.ID]) > 1:
			r.DuplicateResults++
			detail("duplicate: %s has %d distinct results", c.ID, len(ids[c.ID]))
		}
		if lostRace[c.ID] || lostRace[c.FreezeID] {
			continue // the copy's outcome, or a consequence of it
		}
		want := c.Expect
		if want == "" {
			want = "succeeded"
		}
		if got != want && c.FreezeID != "" && got == "failed" {
			// A consume or unfreeze the vendor refused because it met the
			// vendor before (a retry of) its freeze: the order broke.
			settle, freeze := firstCall[callKey{c.Op, c.Token}], lastCall[callKey{freezePath, c.FreezeID}]
			if !settle.IsZero() && freeze.After(settle) {
				r.OrderViolations++
				detail("order: %s (%s of member %s) reached the vendor before its freeze %s and failed", c.ID, c.Kind, c.Member, c.FreezeID)
				continue
			}
		}
		if got != want {
			r.Unexpected++
			detail("unexpected: %s (%s of member %s) ended %s, want %s", c.ID, c.Kind, c.Member, got, want)
		}
	}

	// Effects: each once, each asked for, in each member's publish order.
	type key struct{ op, token string }
	owner := make(map[key]*Command, len(h.Commands))
	for i := range h.Commands {
		c := &h.Commands[i]
		if c.Op != "" {
			owner[key{c.Op, c.Token}] = c
		}
	}
	last := map[string]int{} // member → highest index applied so far
	for _, e := range h.Effects {
		if e.Count > 1 {
			r.DoubleEffects++
			detail("double effect: %s token %s applied %d times", e.Op, e.Token, e.Count)
		}
		c := owner[key{e.Op, e.Token}]
		if c == nil {
			r.Unexpected++
			detail("effect %s token %s that no command asked for", e.Op, e.Token)
			continue
		}
		if lostRace[c.ID] {
			continue // the copy's effect, on another member
		}
		if prev, ok := last[c.Member]; ok && c.Index < prev {
			r.OrderViolations++
			detail("order: member %s applied command #%d (%s) after #%d", c.Member, c.Index, c.ID, prev)
			continue
		}
		last[c.Member] = c.Index
	}

	// Conflicts: every reused id leaves its DLQ copy.
	conflicts := 0
	for _, d := range h.DeadLetters {
		if d.conflict() {
			conflicts++
		}
	}
	if conflicts != h.Conflicts {
		r.Unexpected += abs(h.Conflicts - conflicts)
		detail("conflicts: %d DLQ copies with reason conflict, want %d", conflicts, h.Conflicts)
	}

	// The vendor: never faster than the limiter, never two calls of one
	// token at once.
	if h.RateLimit > 0 {
		// The limiter bounds when requests are sent, the simulator records
		// when they arrive: transport jitter of a few milliseconds may pull
		// the limit's worth of requests into a second. A 950 ms window
		// forgives 50 ms of jitter and still catches a hot loop.
		if peak, at := peakRate(h.Calls, 950*time.Millisecond); peak > h.RateLimit {
			r.Unexpected++
			detail("vendor saw %d requests in the second from %s, limit %d", peak, at.Format(time.StampMilli), h.RateLimit)
		}
	}
	if h.InFlightDuplicates > 0 {
		r.Unexpected += h.InFlightDuplicates
		detail("%d vendor calls arrived while a call with the same token was in flight", h.InFlightDuplicates)
	}
	for _, b := range h.Bounds {
		if b.Got > b.Max {
			r.Unexpected++
			detail("%s: %d, at most %d", b.What, b.Got, b.Max)
		}
	}
	if h.CallsAfterSettled > 0 {
		r.Unexpected++
		detail("redelivery storm: %d vendor calls after every command had settled", h.CallsAfterSettled)
	}
	return r
}

// racesLost returns the ids of a racing case whose later copy won: the DLQ
// conflict copy is the first payload (same member as the command).
func racesLost(h History, byID map[string]*Command) map[string]bool {
	lost := map[string]bool{}
	if !h.Racing {
		return lost
	}
	for _, d := range h.DeadLetters {
		c := byID[d.CommandID]
		if c != nil && d.conflict() && d.Member == c.Member {
			lost[c.ID] = true
		}
	}
	return lost
}

// freezePath is the vendor endpoint of a freeze, whose token consume and
// unfreeze name.
const freezePath = "/member/freezePoint"

// callKey names the calls of one operation and token.
type callKey struct{ path, token string }

// callTimes returns the first and the last call of each (path, token).
func callTimes(calls []Call) (first, last map[callKey]time.Time) {
	first, last = map[callKey]time.Time{}, map[callKey]time.Time{}
	for _, c := range calls {
		k := callKey{c.Path, c.Token}
		if f, ok := first[k]; !ok || c.Time.Before(f) {
			first[k] = c.Time
		}
		if c.Time.After(last[k]) {
			last[k] = c.Time
		}
	}
	return first, last
}

// peakRate returns the most calls in any window of length w and where that
// window starts.
func peakRate(calls []Call, w time.Duration) (int, time.Time) {
	ts := make([]time.Time, len(calls))
	for i, c := range calls {
		ts[i] = c.Time
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	best, at, lo := 0, time.Time{}, 0
	for hi := range ts {
		for ts[hi].Sub(ts[lo]) >= w {
			lo++
		}
		if n := hi - lo + 1; n > best {
			best, at = n, ts[lo]
		}
	}
	return best, at
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
