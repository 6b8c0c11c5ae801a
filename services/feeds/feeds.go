// Package feeds serves the windowed read commands: tickets.fetch against
// Pospal's member ticket history and points.usage.fetch against Wixtar
// Omni's points usage records. It holds handlers only; consuming,
// validation, idempotency, retries and publishing are the runtime's
// (pkg/bus).
//
// Both are feeds of immutable records read by time window, announced once
// per record key however many fetches (overlapping scheduled windows,
// redeliveries, replays) read them: the event id derives from the record's
// key (CONTRACT §6), and the service remembers in its memo which keys it has
// announced, so a refetch announces nothing. They live in one service, apart
// from cheques (a snapshot of mutable cheques on devices in the shop),
// because they share that shape and their vendors are cloud APIs with
// quotas and tokens rather than cash registers on a LAN.
//
// # tickets.fetch
//
// The walk follows postBackParameter unchanged from page to page and stops on
// a short page, an empty parameter, or a repeated one (the loop guard, which
// fails the command after announcing the pages before it). Each page is
// published with Command.Emit together with a checkpoint in the memo
// ("tickets.fetch/<command id>": the parameter to resume from and the counts
// so far), so a fetch that is killed and redelivered resumes after the last
// page it announced instead of walking (and paying the daily quota for) the
// pages again. Each ticket is remembered as "ticket/<appId>/<sn>"; its event
// id derives from appId and sn.
//
// # points.usage.fetch
//
// One call returns every record of the window. Each is remembered as
// "usage/<key>" with key = order_id|date_time|point_type (wixtar.Record.Key),
// from which its event id derives. Records are published in batches with
// their memo.
package feeds

import (
	"context"
	"errors"

	"github.com/loyaltybus/loyaltybus/adapters/pospal"
	"github.com/loyaltybus/loyaltybus/adapters/wixtar"
	"github.com/loyaltybus/loyaltybus/events/tickets"
	"github.com/loyaltybus/loyaltybus/events/usage"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/services/internal/routing"
)

// Name is the service name: its durable consumer and output source.
const Name = "feeds"

// batch bounds the changes published by one Emit.
const batch = 100

// TicketReader is what tickets.fetch needs from Pospal.
type TicketReader interface {
	QueryCustomerHistoryTickets(ctx context.Context, q pospal.TicketQuery, page func(p pospal.TicketPage) error) error
}

// UsageReader is what points.usage.fetch needs from Wixtar.
type UsageReader interface {
	PointsUsageRecords(ctx context.Context, q wixtar.UsageQuery) (wixtar.Usage, error)
}

var (
	_ TicketReader = (*pospal.Client)(nil)
	_ UsageReader  = (*wixtar.Client)(nil)
)

// Service holds the feeds handlers.
type Service struct {
	tickets  TicketReader
	pospalID string
	usage    UsageReader
}

// New returns the service reading tickets of the Pospal account appID and
// usage records of Wixtar. appID scopes the ticket sns, which are unique per
// account.
func New(tickets TicketReader, appID string, usage UsageReader) (*Service, error) {
	switch {
	case tickets == nil || usage == nil:
		return nil, errors.New("feeds: need a ticket reader and a usage reader")
	case appID == "":
		return nil, errors.New("feeds: need the Pospal appId")
	}
	return &Service{tickets: tickets, pospalID: appID, usage: usage}, nil
}

// Routes lists the commands the service handles.
func (s *Service) Routes() []bus.Route {
	return []bus.Route{
		routing.Route(tickets.FetchCommand, s.fetchTickets),
		routing.Route(usage.FetchCommand, s.fetchUsage),
	}
}
