// Package coupons serves the coupon commands: coupon.grant against Shuyun CRM
// (POST /offer/instance/grant) or, with provider "pospal", against Pospal
// (addCouponCode); coupon.redeem against Shuyun (/offer/coupon/use) or Pospal
// (promotionCouponCode/use); and the Shuyun state operations freeze, thaw,
// writeoff, reverse, invalidate and reinstate (/offer/coupon/frozen, thaw,
// writeoff, anticounting, invalid, effective). It holds handlers only;
// consuming, validation, idempotency, retries and publishing are the
// runtime's (pkg/bus).
//
// # Idempotency
//
//   - Shuyun grant: X-Request-Sequence is the command id; the vendor answers a
//     repeated sequence with the same coupon.
//   - Pospal grant: the coupon code is the command's code or
//     coupon.DerivedCode(command id). A retry adds the same code, and the
//     vendor's 3004 "code already exists" then means an earlier attempt added
//     it: the grant succeeded (output alreadyExisted: true). A code the
//     publisher chose is only taken as ours on a repeated attempt
//     (cmd.Attempt > 1); on the first attempt 3004 means the code belongs to
//     someone else and the grant fails.
//   - Shuyun state operations take no token: the idempotency record stops a
//     second call once the outcome is recorded. When an attempt's answer was
//     lost (a crash or timeout after the vendor applied it), the repeated call
//     is refused with success:false. On a repeated attempt the handler then
//     reads the coupon (GET /offer/coupon/detail) and, when the coupon is
//     already in the state the operation leads to, settles the command as
//     succeeded (output alreadyApplied: true) with its change event. The
//     coupon may also have been moved there by someone else in between; the
//     command's goal holds either way.
//   - Pospal redeem takes no token either: a repeated use after a lost answer
//     meets 3001 (invalid or used). On a repeated attempt the handler then
//     lists the codes used in the window where an earlier attempt's use
//     would lie (queryUsedPromotionCode) and, when the code is there, used
//     through the client's own appId (usedByUserAppId), settles the command
//     as succeeded (output alreadyApplied: true) with its coupon.redeemed
//     event. The window is the second of the command's useDateTime when it
//     gives one (the vendor records that time, so the use must match it);
//     otherwise it runs from the command's time to now, widened by five
//     minutes each way for the vendor's clock and cut to the vendor's limit
//     of 5 days back (a command's attempts lie hours apart at most). The
//     answer names the store, not the member: a use of the code by another
//     member through the same store within the window (with a useDateTime:
//     at that very second) passes as ours. A code not found keeps the 3001
//     refusal; a listing that fails temporarily (5xx, timeout, quota)
//     retries the command, and one that fails for good leaves the refusal
//     standing. Each page listed costs a call of the daily quota, so the walk
//     stops at the code.
//
// # Outputs
//
// A grant's output carries provider, memberId, projectId, instanceId,
// couponCode, status, grantTime (RFC 3339) and instanceIds (the vendor's
// comma-joined list) for Shuyun; provider, couponCode, promotionCouponUid and
// customerUid for Pospal. One coupon.granted event is published per coupon
// instance the vendor reported. A state operation's output carries provider,
// couponCode and status (the state the coupon is in afterwards).
//
// # Pospal quota
//
// The Pospal client counts its calls against the daily quota (300 per appId
// by default) and, once it is used up, refuses to call with a temporary error
// whose RetryAfter is the next midnight in Asia/Shanghai; the runtime delays
// the command until then instead of retrying into the limit. The handler logs
// the quota state (used, limit, reset time) when that happens.
package coupons

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/loyaltybus/loyaltybus/adapters/pospal"
	"github.com/loyaltybus/loyaltybus/adapters/shuyun"
	"github.com/loyaltybus/loyaltybus/events"
	"github.com/loyaltybus/loyaltybus/events/coupon"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/services/internal/routing"
)

// Name is the service name: its durable consumer and output source.
const Name = "coupons"

// Shuyun is what the service needs from Shuyun CRM.
type Shuyun interface {
	GrantCoupon(ctx context.Context, sequence string, r shuyun.GrantRequest) (shuyun.GrantResult, error)
	CouponOperation(ctx context.Context, op shuyun.CouponOp, r shuyun.CouponRequest) (shuyun.CouponResult, error)
	CouponDetail(ctx context.Context, r shuyun.CouponDetailRequest) (shuyun.CouponDetail, error)
}

// Pospal is what the service needs from Pospal. AppID names the client's own
// store among the stores the used-codes query reports; Quota reports the
// client's daily call counter for the logs.
type Pospal interface {
	AddCouponCode(ctx context.Context, r pospal.AddCouponCodeRequest) error
	UseCouponCode(ctx context.Context, r pospal.UseCouponCodeRequest) error
	QueryUsedPromotionCodes(ctx context.Context, q pospal.UsedCodeQuery, page func(pospal.UsedCodePage) error) error
	AppID() string
	Quota() (used, limit int, resetAt time.Time)
}

var (
	_ Shuyun = (*shuyun.Client)(nil)
	_ Pospal = (*pospal.Client)(nil)
)

// ErrPospalNotConfigured fails Pospal commands of a service built without a
// Pospal client.
var ErrPospalNotConfigured = errors.New("coupons: no Pospal client is configured")

// Service holds the coupon handlers. It is safe for concurrent use.
type Service struct {
	shuyun Shuyun
	pospal Pospal
	log    *slog.Logger
}

// New returns the coupon service calling shuyunC and pospalC. pospalC may be
// nil: Pospal commands then fail with ErrPospalNotConfigured. log receives the
// handler's own notes (quota exhaustion, confirmed repeats); nil discards them.
func New(shuyunC Shuyun, pospalC Pospal, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{shuyun: shuyunC, pospal: pospalC, log: log.With("service", Name)}
}

// Routes lists the commands the service handles.
func (s *Service) Routes() []bus.Route {
	return []bus.Route{
		routing.Route(coupon.GrantCommand, s.grant),
		routing.Route(coupon.RedeemCommand, s.redeem),
		routing.Route(coupon.FreezeCommand, s.operation(shuyun.CouponFreeze, coupon.FrozenChange)),
		routing.Route(coupon.ThawCommand, s.operation(shuyun.CouponThaw, coupon.ThawedChange)),
		routing.Route(coupon.WriteOffCommand, s.operation(shuyun.CouponWriteOff, coupon.WrittenOffChange)),
		routing.Route(coupon.ReverseCommand, s.operation(shuyun.CouponReverse, coupon.ReversedChange)),
		routing.Route(coupon.InvalidateCommand, s.operation(shuyun.CouponInvalidate, coupon.InvalidatedChange)),
		routing.Route(coupon.ReinstateCommand, s.operation(shuyun.CouponReinstate, coupon.ReinstatedChange)),
	}
}

// grantOutput is the result output of a grant.
type grantOutput struct {
	Provider           string     `json:"provider"`
	MemberID           string     `json:"memberId,omitempty"`
	ProjectID          string     `json:"projectId,omitempty"`
	InstanceID         string     `json:"instanceId,omitempty"`
	CouponCode         string     `json:"couponCode,omitempty"`
	Status             string     `json:"status,omitempty"`
	GrantTime          string     `json:"grantTime,omitempty"`
	InstanceIDs        string     `json:"instanceIds,omitempty"`
	PromotionCouponUID coupon.UID `json:"promotionCouponUid,omitempty"`
	CustomerUID        coupon.UID `json:"customerUid,omitempty"`
	// AlreadyExisted: Pospal answered 3004 to a code an earlier attempt added.
	AlreadyExisted bool `json:"alreadyExisted,omitempty"`
}

// operationOutput is the result output of a state operation.
type operationOutput struct {
	Provider    string     `json:"provider"`
	CouponCode  string     `json:"couponCode"`
	Status      string     `json:"status,omitempty"`
	CustomerUID coupon.UID `json:"customerUid,omitempty"`
	// AlreadyApplied: a repeated call was refused and the coupon was found
	// already in the operation's target state.
	AlreadyApplied bool `json:"alreadyApplied,omitempty"`
}

func (s *Service) grant(ctx context.Context, cmd *bus.Command) (*bus.Outcome, error) {
	var d coupon.Grant
	if err := cmd.Decode(&d); err != nil {
		return nil, err
	}
	if d.Provider == coupon.ProviderPospal {
		return s.grantPospal(ctx, cmd, d)
	}
	return s.grantShuyun(ctx, cmd, d)
}

func (s *Service) grantShuyun(ctx context.Context, cmd *bus.Command, d coupon.Grant) (*bus.Outcome, error) {
	res, err := s.shuyun.GrantCoupon(ctx, cmd.ID, shuyun.GrantRequest{
		MemberID: d.MemberID, MemberType: d.MemberType, ChannelType: d.ChannelType, ProjectID: d.ProjectID, Params: d.Params,
	})
	if err != nil {
		return nil, fmt.Errorf("grant coupon of project %s to member %s: %w", d.ProjectID, d.MemberID, err)
	}
	granted := func(in shuyun.CouponInstance) coupon.Granted {
		return coupon.Granted{
			Provider: coupon.ProviderShuyun, CouponCode: in.CouponCode, MemberID: d.MemberID, MemberType: d.MemberType,
			ChannelType: d.ChannelType, ProjectID: firstNonEmpty(in.ProjectID, d.ProjectID), InstanceID: in.InstanceID,
			Status: in.Status, GrantTime: rfc3339(in.GrantTime), Params: d.Params,
		}
	}
	instances := res.Instances
	if len(instances) == 0 { // an answer without instanceInfos: report what it said
		instances = []shuyun.CouponInstance{{InstanceID: res.InstanceID, CouponCode: res.CouponCode,
			ProjectID: res.ProjectID, Status: res.Status, GrantTime: res.GrantTime}}
	}
	changes := make([]bus.Change, 0, len(instances))
	for i, in := range instances {
		key := ""
		if i > 0 {
			key = fmt.Sprintf("instance-%d", i)
		}
		changes = append(changes, change(coupon.GrantedChange, key, granted(in)))
	}
	return &bus.Outcome{
		Output: grantOutput{
			Provider: coupon.ProviderShuyun, MemberID: d.MemberID, ProjectID: firstNonEmpty(res.ProjectID, d.ProjectID),
			InstanceID: res.InstanceID, CouponCode: res.CouponCode, Status: res.Status, GrantTime: rfc3339(res.GrantTime),
			InstanceIDs: res.InstanceIDs,
		},
		Changes: changes,
	}, nil
}

func (s *Service) grantPospal(ctx context.Context, cmd *bus.Command, d coupon.Grant) (*bus.Outcome, error) {
	if s.pospal == nil {
		return nil, bus.Permanent(ErrPospalNotConfigured)
	}
	code, derived := d.Code, d.Code == ""
	if derived {
		code = coupon.DerivedCode(cmd.ID)
	}
	err := s.pospal.AddCouponCode(ctx, pospal.AddCouponCodeRequest{
		PromotionCouponUID: int64(d.PromotionCouponUID), CustomerUID: int64(d.CustomerUID), Code: code,
	})
	existed := false
	if errors.Is(err, pospal.ErrCodeExists) && (derived || cmd.Attempt > 1) {
		// Our own code from an earlier attempt whose answer was lost.
		s.log.InfoContext(ctx, "pospal coupon code already exists: an earlier attempt added it",
			"event_id", cmd.ID, "code", code, "attempt", cmd.Attempt)
		existed, err = true, nil
	}
	if err != nil {
		s.noteQuota(ctx, cmd, err)
		return nil, fmt.Errorf("add pospal coupon code %s to rule %s: %w", code, d.PromotionCouponUID, err)
	}
	return &bus.Outcome{
		Output: grantOutput{Provider: coupon.ProviderPospal, CouponCode: code, PromotionCouponUID: d.PromotionCouponUID,
			CustomerUID: d.CustomerUID, AlreadyExisted: existed},
		Changes: []bus.Change{change(coupon.GrantedChange, "", coupon.Granted{
			Provider: coupon.ProviderPospal, CouponCode: code, PromotionCouponUID: d.PromotionCouponUID, CustomerUID: d.CustomerUID,
		})},
	}, nil
}

func (s *Service) redeem(ctx context.Context, cmd *bus.Command) (*bus.Outcome, error) {
	var d coupon.Redeem
	if err := cmd.Decode(&d); err != nil {
		return nil, err
	}
	if d.Provider == coupon.ProviderPospal {
		return s.redeemPospal(ctx, cmd, d)
	}
	op := coupon.Operation{CouponCode: d.CouponCode, MemberType: d.MemberType, ChannelType: d.ChannelType,
		MemberID: d.MemberID, Params: d.Params}
	already, err := s.applyShuyun(ctx, cmd, shuyun.CouponRedeem, op)
	if err != nil {
		return nil, err
	}
	status := shuyun.CouponRedeem.Target()
	return &bus.Outcome{
		Output: operationOutput{Provider: coupon.ProviderShuyun, CouponCode: d.CouponCode, Status: status, AlreadyApplied: already},
		Changes: []bus.Change{change(coupon.RedeemedChange, "", coupon.Redeemed{
			Provider: coupon.ProviderShuyun, CouponCode: d.CouponCode, Status: status, MemberID: d.MemberID,
			MemberType: d.MemberType, ChannelType: d.ChannelType, Params: d.Params,
		})},
	}, nil
}

func (s *Service) redeemPospal(ctx context.Context, cmd *bus.Command, d coupon.Redeem) (*bus.Outcome, error) {
	if s.pospal == nil {
		return nil, bus.Permanent(ErrPospalNotConfigured)
	}
	used, err := pospalTime("data.useDateTime", d.UseDateTime)
	if err != nil {
		return nil, err
	}
	err = s.pospal.UseCouponCode(ctx, pospal.UseCouponCodeRequest{Code: d.CouponCode, CustomerUID: int64(d.CustomerUID), UseDateTime: used})
	already := false
	switch {
	case err != nil && cmd.Attempt > 1 && errors.Is(err, pospal.ErrCouponInvalid):
		already, err = s.usedByEarlierAttempt(ctx, cmd, d.CouponCode, used, err)
	case err != nil:
		err = fmt.Errorf("use pospal coupon code %s: %w", d.CouponCode, err)
	}
	if err != nil {
		s.noteQuota(ctx, cmd, err)
		return nil, err
	}
	usedAt := ""
	if !used.IsZero() {
		usedAt = used.In(pospal.Shanghai).Format(time.RFC3339)
	}
	return &bus.Outcome{
		Output: operationOutput{Provider: coupon.ProviderPospal, CouponCode: d.CouponCode, CustomerUID: d.CustomerUID,
			AlreadyApplied: already},
		Changes: []bus.Change{change(coupon.RedeemedChange, "", coupon.Redeemed{
			Provider: coupon.ProviderPospal, CouponCode: d.CouponCode, MemberID: d.MemberID, CustomerUID: d.CustomerUID, UseDateTime: usedAt,
		})},
	}, nil
}

// pospalClockSkew widens the window of use times the handler searches, for
// the difference between the publisher's, our and the vendor's clocks.
const pospalClockSkew = 5 * time.Minute

// errCodeFound stops a used-codes walk once the code is found.
var errCodeFound = errors.New("coupons: used code found")

// usedByEarlierAttempt decides a 3001 refusal (useErr) of a repeated Pospal
// use: it lists the codes used in the window where an earlier attempt of cmd
// recorded its use (see pospalUseWindow) and reports true when code is among
// them, used through the client's appId and, when the command gave one, at
// its useDateTime. Otherwise it returns the refusal, or a temporary error
// when the listing may succeed later.
func (s *Service) usedByEarlierAttempt(ctx context.Context, cmd *bus.Command, code string, useTime time.Time, useErr error) (bool, error) {
	start, end := pospalUseWindow(cmd.Time, useTime, time.Now())
	appID := s.pospal.AppID()
	var found *pospal.UsedCode
	err := s.pospal.QueryUsedPromotionCodes(ctx, pospal.UsedCodeQuery{StartTime: start, ExcludeEndTime: end}, func(p pospal.UsedCodePage) error {
		for i, u := range p.Codes {
			if u.Code != code || u.UsedByUserAppID != "" && u.UsedByUserAppID != appID {
				continue
			}
			if !useTime.IsZero() && !u.UsedDateTime.Equal(start) {
				continue
			}
			found = &p.Codes[i]
			return errCodeFound
		}
		return nil
	})
	window := []any{"window_start", start.Format(time.RFC3339), "window_end", end.Format(time.RFC3339)}
	switch {
	case found != nil:
		s.log.InfoContext(ctx, "pospal coupon code already used through this store: an earlier attempt used it",
			append(window, "event_id", cmd.ID, "coupon_code", code, "attempt", cmd.Attempt,
				"used_at", found.UsedDateTime.Format(time.RFC3339))...)
		return true, nil
	case err != nil && temporary(err):
		// Cannot tell yet: try the whole redeem again later.
		return false, fmt.Errorf("use pospal coupon code %s refused on attempt %d (%v); list the codes used: %w", code, cmd.Attempt, useErr, err)
	case err != nil:
		s.log.WarnContext(ctx, "pospal used codes unreadable after a refused repeat; the refusal stands",
			append(window, "event_id", cmd.ID, "coupon_code", code, "err", err)...)
		return false, fmt.Errorf("use pospal coupon code %s: %w", code, useErr)
	default:
		return false, fmt.Errorf("use pospal coupon code %s (not used through this store between %s and %s): %w",
			code, start.Format(time.RFC3339), end.Format(time.RFC3339), useErr)
	}
}

// pospalUseWindow returns the window [start, end) of use times in which an
// earlier attempt's use of a code was recorded. With a useDateTime the vendor
// records that time, so the window is its second. Without, the vendor's clock
// at the earlier attempt: after the command's time (cmdTime; zero when the
// publisher gave none) and before now, each widened by pospalClockSkew, and
// no longer than pospal.MaxUsedCodeWindow back from the end.
func pospalUseWindow(cmdTime, useTime, now time.Time) (start, end time.Time) {
	if !useTime.IsZero() {
		start = useTime.Truncate(time.Second)
		return start, start.Add(time.Second)
	}
	end = now.Add(pospalClockSkew).Truncate(time.Second).Add(time.Second)
	start = end.Add(-pospal.MaxUsedCodeWindow)
	if !cmdTime.IsZero() {
		if cmdTime.After(now) {
			cmdTime = now
		}
		if t := cmdTime.Add(-pospalClockSkew).Truncate(time.Second); t.After(start) {
			start = t
		}
	}
	return start, end
}

// operation returns the handler of a Shuyun state operation publishing c.
func (s *Service) operation(op shuyun.CouponOp, c events.Change) bus.Handler {
	return func(ctx context.Context, cmd *bus.Command) (*bus.Outcome, error) {
		var d coupon.Operation
		if err := cmd.Decode(&d); err != nil {
			return nil, err
		}
		already, err := s.applyShuyun(ctx, cmd, op, d)
		if err != nil {
			return nil, err
		}
		status := op.Target()
		return &bus.Outcome{
			Output: operationOutput{Provider: coupon.ProviderShuyun, CouponCode: d.CouponCode, Status: status, AlreadyApplied: already},
			Changes: []bus.Change{change(c, "", coupon.StateChange{
				Provider: coupon.ProviderShuyun, CouponCode: d.CouponCode, Status: status, MemberID: d.MemberID,
				MemberType: d.MemberType, ChannelType: d.ChannelType, Params: d.Params,
			})},
		}, nil
	}
}

// applyShuyun runs op on a Shuyun coupon. A refusal (success:false) of a
// repeated attempt is checked against the coupon's state: already being in
// op's target state means an earlier, unanswered attempt (or someone else)
// did it, and the operation counts as done (already is true).
func (s *Service) applyShuyun(ctx context.Context, cmd *bus.Command, op shuyun.CouponOp, d coupon.Operation) (already bool, err error) {
	_, err = s.shuyun.CouponOperation(ctx, op, shuyun.CouponRequest{
		CouponCode: d.CouponCode, MemberType: d.MemberType, ChannelType: d.ChannelType, Params: d.Params,
	})
	if err == nil {
		return false, nil
	}
	if cmd.Attempt <= 1 || !refused(err) {
		return false, fmt.Errorf("%s coupon %s: %w", op, d.CouponCode, err)
	}
	detail, derr := s.shuyun.CouponDetail(ctx, shuyun.CouponDetailRequest{
		CouponCode: d.CouponCode, MemberType: d.MemberType, ChannelType: d.ChannelType,
	})
	switch {
	case derr != nil && temporary(derr):
		// Cannot tell yet: try the whole operation again later.
		return false, fmt.Errorf("%s coupon %s refused on attempt %d (%v); read its state: %w", op, d.CouponCode, cmd.Attempt, err, derr)
	case derr != nil:
		s.log.WarnContext(ctx, "coupon state unreadable after a refused repeat; the refusal stands",
			"event_id", cmd.ID, "coupon_code", d.CouponCode, "op", string(op), "err", derr)
		return false, fmt.Errorf("%s coupon %s: %w", op, d.CouponCode, err)
	case detail.Status == op.Target():
		s.log.InfoContext(ctx, "coupon already in the operation's target state: an earlier attempt applied it",
			"event_id", cmd.ID, "coupon_code", d.CouponCode, "op", string(op), "status", detail.Status, "attempt", cmd.Attempt)
		return true, nil
	default:
		return false, fmt.Errorf("%s coupon %s (now %s): %w", op, d.CouponCode, detail.Status, err)
	}
}

// refused reports whether err is a Shuyun coupon refusal: HTTP 200 with
// success:false.
func refused(err error) bool {
	var apiErr *shuyun.APIError
	return errors.As(err, &apiErr) && apiErr.Msg != "" && apiErr.Code == ""
}

// temporary reports whether err says a retry may succeed.
func temporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// noteQuota logs the Pospal quota state when err is its exhaustion; the
// runtime delays the command until the reset the error announces.
func (s *Service) noteQuota(ctx context.Context, cmd *bus.Command, err error) {
	if !errors.Is(err, pospal.ErrQuotaExceeded) {
		return
	}
	used, limit, resetAt := s.pospal.Quota()
	attrs := []any{"event_id", cmd.ID, "event_type", cmd.Type, "quota_used", used, "quota_limit", limit,
		"quota_reset_at", resetAt.Format(time.RFC3339)}
	var h interface{ RetryAfter() time.Duration }
	if errors.As(err, &h) {
		attrs = append(attrs, "retry_in", h.RetryAfter().Round(time.Second))
	}
	s.log.WarnContext(ctx, "pospal daily call quota used up: the command waits for the reset", attrs...)
}

// pospalTime reads an RFC 3339 time, or Pospal's yyyy-MM-dd HH:mm:ss in
// Asia/Shanghai, rejecting anything else with the field named. Empty is zero.
func pospalTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := pospal.ParseDateTime(s)
	if err != nil {
		return time.Time{}, bus.Reject(field, "must be RFC 3339 with an offset or yyyy-MM-dd HH:mm:ss, got %q", s)
	}
	return t, nil
}

// change is a change event of type c with a key distinguishing several of
// one command.
func change(c events.Change, key string, data any) bus.Change {
	ch := routing.Change(c, data)
	ch.Key = key
	return ch
}

// rfc3339 formats a vendor time in its own zone, or "" for none.
func rfc3339(t shuyun.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(shuyun.ChinaStandardTime).Format(time.RFC3339Nano)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
