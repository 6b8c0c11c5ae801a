// Package points serves the points commands (freeze, unfreeze, consume,
// adjust) against Shuyun CRM. It holds handlers only; consuming, validation,
// idempotency, retries and publishing are the runtime's (pkg/bus).
package points

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/loyaltybus/loyaltybus/adapters/shuyun"
	"github.com/loyaltybus/loyaltybus/events/points"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/services/internal/routing"
)

// Name is the service name: its durable consumer and output source.
const Name = "points"

// Vendor is what the service needs from Shuyun. The freeze token names the
// freeze for its whole life: unfreeze and consume send the freeze's token.
type Vendor interface {
	FreezePoints(ctx context.Context, token string, r shuyun.FreezeRequest) error
	UnfreezePoints(ctx context.Context, token string, r shuyun.UnfreezeRequest) error
	DeductFrozenPoints(ctx context.Context, token string, r shuyun.UnfreezeRequest) error
	ChangePoints(ctx context.Context, token string, r shuyun.PointChange) error
}

var _ Vendor = (*shuyun.Client)(nil)

// Service holds the points handlers.
type Service struct {
	vendor Vendor
}

// New returns the points service calling vendor.
func New(vendor Vendor) *Service { return &Service{vendor: vendor} }

// Routes lists the commands the service handles.
func (s *Service) Routes() []bus.Route {
	return []bus.Route{
		routing.Route(points.FreezeCommand, s.freeze),
		routing.Route(points.UnfreezeCommand, s.unfreeze),
		routing.Route(points.ConsumeCommand, s.consume),
		routing.Route(points.AdjustCommand, s.adjust),
	}
}

func (s *Service) freeze(ctx context.Context, cmd *bus.Command) (*bus.Outcome, error) {
	var d points.Freeze
	if err := cmd.Decode(&d); err != nil {
		return nil, err
	}
	err := s.vendor.FreezePoints(ctx, cmd.ID, shuyun.FreezeRequest{
		MemberID: d.MemberID, MemberType: d.MemberType, ChannelType: d.ChannelType,
		Point: d.Points, Description: description(d.Description, cmd), ShopCode: d.ShopCode,
	})
	if err != nil {
		return nil, fmt.Errorf("freeze %d points of member %s: %w", d.Points, d.MemberID, err)
	}
	return &bus.Outcome{
		Output: map[string]any{"freezeId": cmd.ID, "memberId": d.MemberID, "points": d.Points},
		Changes: []bus.Change{routing.Change(points.FrozenChange, points.Frozen{
			FreezeID: cmd.ID, MemberID: d.MemberID, MemberType: d.MemberType, ChannelType: d.ChannelType,
			Points: d.Points, Description: d.Description, ShopCode: d.ShopCode,
		})},
	}, nil
}

func (s *Service) unfreeze(ctx context.Context, cmd *bus.Command) (*bus.Outcome, error) {
	var d points.Unfreeze
	if err := cmd.Decode(&d); err != nil {
		return nil, err
	}
	if err := s.vendor.UnfreezePoints(ctx, d.FreezeID, settleRequest(d, cmd)); err != nil {
		return nil, fmt.Errorf("unfreeze freeze %s of member %s: %w", d.FreezeID, d.MemberID, err)
	}
	return &bus.Outcome{
		Output:  map[string]any{"freezeId": d.FreezeID, "memberId": d.MemberID},
		Changes: []bus.Change{routing.Change(points.UnfrozenChange, points.Unfrozen(d))},
	}, nil
}

func (s *Service) consume(ctx context.Context, cmd *bus.Command) (*bus.Outcome, error) {
	var d points.Consume
	if err := cmd.Decode(&d); err != nil {
		return nil, err
	}
	if err := s.vendor.DeductFrozenPoints(ctx, d.FreezeID, settleRequest(points.Unfreeze(d), cmd)); err != nil {
		return nil, fmt.Errorf("consume freeze %s of member %s: %w", d.FreezeID, d.MemberID, err)
	}
	return &bus.Outcome{
		Output:  map[string]any{"freezeId": d.FreezeID, "memberId": d.MemberID},
		Changes: []bus.Change{routing.Change(points.ConsumedChange, points.Consumed(d))},
	}, nil
}

func (s *Service) adjust(ctx context.Context, cmd *bus.Command) (*bus.Outcome, error) {
	var d points.Adjust
	if err := cmd.Decode(&d); err != nil {
		return nil, err
	}
	effect, err := vendorTime("effectTime", d.EffectTime)
	if err != nil {
		return nil, err
	}
	expiry, err := vendorTime("expiredTime", d.ExpiredTime)
	if err != nil {
		return nil, err
	}
	err = s.vendor.ChangePoints(ctx, cmd.ID, shuyun.PointChange{
		MemberID: d.MemberID, MemberType: d.MemberType, ChannelType: d.ChannelType,
		ChangeType: shuyun.ChangeType(d.ChangeType), Point: d.Points,
		Description: description(d.Description, cmd), EffectTime: effect, ExpiredTime: expiry,
		ShopCode: d.ShopCode, PointType: d.PointType, PointSource: d.PointSource, EventCode: d.EventCode,
	})
	if err != nil {
		return nil, fmt.Errorf("%s %d points for member %s: %w", d.ChangeType, d.Points, d.MemberID, err)
	}
	return &bus.Outcome{
		Output: map[string]any{"adjustmentId": cmd.ID, "memberId": d.MemberID, "changeType": d.ChangeType, "points": d.Points},
		Changes: []bus.Change{routing.Change(points.AdjustedChange, points.Adjusted{
			AdjustmentID: cmd.ID, MemberID: d.MemberID, MemberType: d.MemberType, ChannelType: d.ChannelType,
			ChangeType: d.ChangeType, Points: d.Points, EventCode: d.EventCode, Description: d.Description,
			EffectTime: d.EffectTime, ExpiredTime: d.ExpiredTime, ShopCode: d.ShopCode,
			PointType: d.PointType, PointSource: d.PointSource,
		})},
	}, nil
}

func settleRequest(d points.Unfreeze, cmd *bus.Command) shuyun.UnfreezeRequest {
	return shuyun.UnfreezeRequest{
		MemberID: d.MemberID, MemberType: d.MemberType, ChannelType: d.ChannelType,
		Description: description(d.Description, cmd), ShopCode: d.ShopCode,
	}
}

// description fills Shuyun's required remark. The vendor asks for a JSON
// string describing the event, so an absent one names the command.
func description(given string, cmd *bus.Command) string {
	if given != "" {
		return given
	}
	b, _ := json.Marshal(map[string]string{"commandId": cmd.ID, "commandType": cmd.Type, "source": cmd.Source})
	return string(b)
}

// vendorTime reads an RFC 3339 time, or Shuyun's own yyyy-MM-dd HH:mm:ss in
// Asia/Shanghai, rejecting anything else with the field named.
func vendorTime(field, s string) (shuyun.Time, error) {
	if s == "" {
		return shuyun.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return shuyun.Time{Time: t}, nil
	}
	t, err := time.ParseInLocation(time.DateTime, s, shuyun.ChinaStandardTime)
	if err != nil {
		return shuyun.Time{}, bus.Reject("data."+field, "must be RFC 3339 with an offset or yyyy-MM-dd HH:mm:ss, got %q", s)
	}
	return shuyun.Time{Time: t}, nil
}
