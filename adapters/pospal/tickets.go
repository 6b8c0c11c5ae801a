package pospal

import (
	"context"
	"encoding/json"
	"strconv"
	"time"
)

// OpQueryCustomerHistoryTickets is the ticket history endpoint of doc 000.
const OpQueryCustomerHistoryTickets = "ticketOpenApi/queryCustomerHistoryTicketsByUid"

// TicketQuery selects a member's tickets in a time window.
type TicketQuery struct {
	// CustomerUID is the member. Required. Sent as a decimal string, as doc
	// 000 types it.
	CustomerUID int64
	// StartTime and EndTime bound the window (both inclusive, as the doc's
	// example 01:59:59–23:59:59 suggests). Required; sent as yyyy-MM-dd
	// HH:mm:ss in Asia/Shanghai, so sub-second parts are dropped.
	StartTime, EndTime time.Time
	// QueryAllStoreConsume asks for the member's tickets of all stores of
	// the chain (queryAllStoreConsume = 1).
	QueryAllStoreConsume bool
	// Resume continues a walk after the page whose TicketPage.Next it is:
	// it is sent as postBackParameter of the first request. Nil starts at
	// the first page.
	Resume json.RawMessage
}

// TicketPage is one page of a ticket walk.
type TicketPage struct {
	// Number counts the pages of this walk from 1 (a resumed walk counts
	// anew).
	Number int
	// Tickets are the page's tickets in the vendor's order (uid descending).
	Tickets []Ticket
	// PageSize is the vendor's page size; a shorter page is the last.
	PageSize int
	// Request is the postBackParameter sent for this page (nil for the first
	// page of a walk that did not resume).
	Request json.RawMessage
	// Next is the postBackParameter the vendor returned, byte for byte.
	// Checkpoint it with the page: TicketQuery.Resume = Next continues after
	// this page.
	Next json.RawMessage
	// Last reports that no request follows this page.
	Last bool
}

// QueryCustomerHistoryTickets walks a member's tickets page by page, calling
// page for each page in order, and returns when the last page was handled.
//
// Each request after the first echoes the previous answer's
// postBackParameter unchanged. The walk stops cleanly after a page that is
// shorter than pageSize (the documented rule; an empty page included), or
// whose postBackParameter is absent, null or has an empty parameterValue (the
// rule production clients use). When an answer repeats a postBackParameter
// the walk already sent, the page is still handed to page, then the walk stops
// with a [*LoopError] (errors.Is(err, ErrPagingLoop)), because following it
// would fetch the same page forever.
//
// An error returned by page stops the walk and is returned unchanged. Each
// page costs one call of the daily quota; an error of a call (a
// [*QuotaError] included) stops the walk, and pages delivered so far stay
// delivered: resume from the last checkpointed Next.
func (c *Client) QueryCustomerHistoryTickets(ctx context.Context, q TicketQuery, page func(p TicketPage) error) error {
	const op = OpQueryCustomerHistoryTickets
	if err := q.validate(); err != nil {
		return err
	}
	body := struct {
		AppID                string          `json:"appId"`
		StartTime            string          `json:"startTime"`
		EndTime              string          `json:"endTime"`
		CustomerUID          string          `json:"customerUid"`
		QueryAllStoreConsume int             `json:"queryAllStoreConsume,omitempty"`
		PostBackParameter    json.RawMessage `json:"postBackParameter,omitempty"`
	}{
		AppID:       c.cfg.AppID,
		StartTime:   FormatDateTime(q.StartTime),
		EndTime:     FormatDateTime(q.EndTime),
		CustomerUID: strconv.FormatInt(q.CustomerUID, 10),
	}
	if q.QueryAllStoreConsume {
		body.QueryAllStoreConsume = 1
	}

	return walk(ctx, c, op, q.Resume, func(postBack json.RawMessage) any {
		body.PostBackParameter = postBack
		return body
	}, func(p rawPage[Ticket]) error {
		return page(TicketPage{
			Number:   p.number,
			Tickets:  p.result,
			PageSize: p.pageSize,
			Request:  p.request,
			Next:     p.next,
			Last:     p.last,
		})
	})
}

// validate checks the query before any call.
func (q *TicketQuery) validate() error {
	const op = OpQueryCustomerHistoryTickets
	switch {
	case q.CustomerUID <= 0:
		return &ValidationError{Op: op, Field: "customerUid", Rule: "must be a positive uid"}
	case q.StartTime.IsZero():
		return &ValidationError{Op: op, Field: "startTime", Rule: "is required"}
	case q.EndTime.IsZero():
		return &ValidationError{Op: op, Field: "endTime", Rule: "is required"}
	case q.EndTime.Before(q.StartTime):
		return &ValidationError{Op: op, Field: "endTime", Rule: "must not be before startTime"}
	case q.Resume != nil && !json.Valid(q.Resume):
		return &ValidationError{Op: op, Field: "postBackParameter", Rule: "resume value must be valid JSON"}
	}
	return nil
}
