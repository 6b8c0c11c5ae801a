package feeds

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/loyaltybus/loyaltybus/adapters/wixtar"
	"github.com/loyaltybus/loyaltybus/events/usage"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
)

func (s *Service) fetchUsage(ctx context.Context, cmd *bus.Command) (*bus.Outcome, error) {
	var d usage.Fetch
	if err := cmd.Decode(&d); err != nil {
		return nil, err
	}
	from, to, err := window("startDate", d.StartDate, "endDate", d.EndDate, wixtar.Location())
	if err != nil {
		return nil, err
	}
	q := wixtar.UsageQuery{Start: from, End: to, StoreID: d.StoreID, TimeSort: wixtar.TimeSort(strings.ToUpper(d.TimeSort))}
	u, err := s.usage.PointsUsageRecords(ctx, q)
	if err != nil {
		if errors.Is(err, wixtar.ErrInvalidQuery) {
			err = bus.Permanent(err) // checked above; never worth a retry
		}
		return nil, fmt.Errorf("read points usage records %s to %s: %w", d.StartDate, d.EndDate, err)
	}

	out := usage.FetchOutput{Records: len(u.Logs)}
	var changes []bus.Change
	var memo []bus.MemoWrite
	flush := func() error {
		if len(changes) == 0 {
			return nil
		}
		if err := cmd.Emit(ctx, changes, memo); err != nil {
			return fmt.Errorf("announce points usage records: %w", err)
		}
		changes, memo = changes[:0], memo[:0]
		return nil
	}
	seen := map[string]bool{}
	for _, r := range u.Logs {
		key := r.Key()
		if seen[key] {
			continue
		}
		seen[key] = true
		_, known, err := cmd.Memo(ctx, "usage/"+key)
		if err != nil {
			return nil, err
		}
		if known {
			out.Known++
			continue
		}
		out.Recorded++
		changes = append(changes, bus.Change{Type: usage.TypeUsed, Subject: usage.SubjectUsed, FactKey: key, Data: usedOf(key, r)})
		memo = append(memo, bus.MemoWrite{Key: "usage/" + key, Value: []byte("1")})
		if len(changes) >= batch {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return &bus.Outcome{Output: out}, nil
}

// usedOf maps a vendor record to the contract's points.used data.
func usedOf(key string, r wixtar.Record) usage.Used {
	return usage.Used{
		Key:                  key,
		OrderID:              r.OrderID,
		DateTime:             r.DateTime.In(wixtar.Location()).Format(time.RFC3339Nano),
		PointType:            string(r.PointType),
		BonusPoints:          r.BonusPoints,
		OrderAmount:          r.OrderAmount.String(),
		GiftGive:             r.GiftGive,
		MemberName:           r.MemberName,
		StoreName:            r.StoreName,
		PointMemo:            r.PointMemo,
		UsePointInstructions: r.UsePointInstructions,
	}
}
