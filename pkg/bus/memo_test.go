package bus_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/pkg/bus/bustest"
)

// factFetcher is a fetch-like handler: it reads n facts, announces the ones it
// does not remember (half by Emit, half with the outcome) and remembers them.
func factFetcher(ctx context.Context, cmd *bus.Command) (*bus.Outcome, error) {
	var d doData
	if err := cmd.Decode(&d); err != nil {
		return nil, err
	}
	var emitNow, withOutcome []bus.Change
	var memo []bus.MemoWrite
	for i := 0; i < d.N; i++ {
		key := fmt.Sprintf("fact:%d", i)
		if _, seen, err := cmd.Memo(ctx, key); err != nil {
			return nil, err
		} else if seen {
			continue
		}
		c := bus.Change{Type: "loyalty.test.fact.v1", Subject: "loyalty.event.test.fact", FactKey: key, Data: map[string]int{"i": i}}
		if i%2 == 0 {
			emitNow = append(emitNow, c)
			if err := cmd.Emit(ctx, []bus.Change{c}, []bus.MemoWrite{{Key: key, Value: []byte("1")}}); err != nil {
				return nil, err
			}
			continue
		}
		withOutcome = append(withOutcome, c)
		memo = append(memo, bus.MemoWrite{Key: key, Value: []byte("1")})
	}
	return &bus.Outcome{Output: map[string]int{"new": len(emitNow) + len(withOutcome)}, Changes: withOutcome, Memo: memo}, nil
}

func TestMemoAnnouncesEachFactOnce(t *testing.T) {
	e := newEnv(t, bus.Topology{})
	bustest.Start(t, e.url, bus.Config{Name: "facts", SkipProvision: true},
		bus.Route{Type: typeDo, Subject: subjectDo, Schema: []byte(schemaDo), Handler: factFetcher})
	bustest.Publish(t, e.js, subjectDo, bustest.Command(t, "fetch-1", typeDo, doData{MemberID: "r1", N: 4}), bus.Binary)
	first := bustest.WaitMessages(t, e.js, "LOYALTY_RESULTS", "loyalty.result.>", 1)[0].Result(t)
	assert.EqualValues(t, 4, first.Output["new"])
	bustest.Publish(t, e.js, subjectDo, bustest.Command(t, "fetch-2", typeDo, doData{MemberID: "r1", N: 6}), bus.Binary)
	second := bustest.WaitMessages(t, e.js, "LOYALTY_RESULTS", "loyalty.result.>", 2)[1].Result(t)
	assert.EqualValues(t, 2, second.Output["new"], "only the two facts not seen before")
	bustest.WaitIdle(t, e.js, "facts")
	facts := bustest.Messages(t, e.js, "LOYALTY_EVENTS", "loyalty.event.test.fact")
	require.Len(t, facts, 6)
	ids := map[string]bool{}
	for _, f := range facts {
		ids[f.Event.ID()] = true
	}
	assert.Len(t, ids, 6)
}
