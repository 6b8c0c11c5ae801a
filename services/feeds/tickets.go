package feeds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/loyaltybus/loyaltybus/adapters/pospal"
	"github.com/loyaltybus/loyaltybus/events/tickets"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
)

// walk is the checkpoint of a ticket walk, remembered after every page.
type walk struct {
	// Resume is the postBackParameter of the last announced page, byte for
	// byte: TicketQuery.Resume continues after it.
	Resume json.RawMessage `json:"resume,omitempty"`
	// Done is set once the last page was announced.
	Done     bool `json:"done,omitempty"`
	Pages    int  `json:"pages"`
	Tickets  int  `json:"tickets"`
	Recorded int  `json:"recorded"`
	Known    int  `json:"known"`
}

func walkKey(commandID string) string { return "tickets.fetch/" + commandID }

func (s *Service) fetchTickets(ctx context.Context, cmd *bus.Command) (*bus.Outcome, error) {
	var d tickets.Fetch
	if err := cmd.Decode(&d); err != nil {
		return nil, err
	}
	from, to, err := window("startTime", d.StartTime, "endTime", d.EndTime, pospal.Shanghai)
	if err != nil {
		return nil, err
	}
	key := walkKey(cmd.ID)
	w, err := loadWalk(ctx, cmd, key)
	if err != nil {
		return nil, err
	}
	if !w.Done {
		q := pospal.TicketQuery{
			CustomerUID: d.CustomerUID, StartTime: from, EndTime: to,
			QueryAllStoreConsume: bool(d.QueryAllStoreConsume), Resume: w.Resume,
		}
		pages := w.Pages
		err = s.tickets.QueryCustomerHistoryTickets(ctx, q, func(p pospal.TicketPage) error {
			return s.announcePage(ctx, cmd, key, &w, p)
		})
		if err != nil && q.Resume != nil && w.Pages == pages && errors.Is(err, pospal.ErrBadRequest) {
			// The vendor no longer takes the remembered parameter: walk
			// again from the first page; announced tickets are remembered.
			w = walk{Pages: w.Pages, Tickets: w.Tickets, Recorded: w.Recorded, Known: w.Known}
			q.Resume = nil
			err = s.tickets.QueryCustomerHistoryTickets(ctx, q, func(p pospal.TicketPage) error {
				return s.announcePage(ctx, cmd, key, &w, p)
			})
		}
		if errors.Is(err, pospal.ErrPagingLoop) {
			// The walk is incomplete and fails; a replay starts afresh
			// rather than from the page that looped.
			if derr := cmd.Emit(ctx, nil, []bus.MemoWrite{{Key: key, Delete: true}}); derr != nil {
				err = errors.Join(err, derr)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("walk tickets of customer %d: %w", d.CustomerUID, err)
		}
	}
	return &bus.Outcome{
		Output: tickets.FetchOutput{CustomerUID: d.CustomerUID, Pages: w.Pages, Tickets: w.Tickets, Recorded: w.Recorded, Known: w.Known},
		// The checkpoint has served its purpose once the outcome is durable.
		Memo: []bus.MemoWrite{{Key: key, Delete: true}},
	}, nil
}

// loadWalk returns the checkpoint of an interrupted attempt of this command,
// or a fresh walk.
func loadWalk(ctx context.Context, cmd *bus.Command, key string) (walk, error) {
	var w walk
	raw, ok, err := cmd.Memo(ctx, key)
	if err != nil || !ok {
		return w, err
	}
	if json.Unmarshal(raw, &w) != nil {
		return walk{}, nil // unreadable: walk from the start; announced tickets are remembered
	}
	return w, nil
}

// announcePage publishes the page's tickets not announced before, then
// remembers them and the checkpoint after the page.
func (s *Service) announcePage(ctx context.Context, cmd *bus.Command, key string, w *walk, p pospal.TicketPage) error {
	var changes []bus.Change
	var memo []bus.MemoWrite
	next := *w
	inPage := map[string]bool{}
	for _, t := range p.Tickets {
		fact := s.ticketFact(t)
		if inPage[fact] {
			continue
		}
		inPage[fact] = true
		_, known, err := cmd.Memo(ctx, "ticket/"+fact)
		if err != nil {
			return err
		}
		if known {
			next.Known++
			continue
		}
		next.Recorded++
		changes = append(changes, bus.Change{
			Type: tickets.TypeRecorded, Subject: tickets.SubjectRecorded,
			FactKey: fact, Data: tickets.Recorded{Ticket: ticketOf(t)},
		})
		memo = append(memo, bus.MemoWrite{Key: "ticket/" + fact, Value: strconv.AppendInt(nil, t.UID, 10)})
	}
	next.Pages++
	next.Tickets += len(p.Tickets)
	next.Resume = p.Next
	next.Done = p.Last
	b, err := json.Marshal(next)
	if err != nil {
		return bus.Permanent(fmt.Errorf("encode checkpoint: %w", err))
	}
	memo = append(memo, bus.MemoWrite{Key: key, Value: b})
	if err := cmd.Emit(ctx, changes, memo); err != nil {
		return fmt.Errorf("announce page %d: %w", next.Pages, err)
	}
	*w = next
	return nil
}

// ticketFact names a ticket among all of the account: appId/sn, or
// appId/uid/<uid> for a ticket that came without an sn.
func (s *Service) ticketFact(t pospal.Ticket) string {
	if t.SN == "" {
		return s.pospalID + "/uid/" + strconv.FormatInt(t.UID, 10)
	}
	return s.pospalID + "/" + t.SN
}

// ticketOf maps the vendor's ticket to the contract's: amounts as the
// vendor's decimal text, uids exact, the time in RFC 3339 with +08:00.
func ticketOf(t pospal.Ticket) tickets.Ticket {
	out := tickets.Ticket{
		UID: t.UID, SN: t.SN, CashierUID: t.CashierUID, CustomerUID: t.CustomerUID,
		TotalAmount: t.TotalAmount.String(), TotalProfit: t.TotalProfit.String(),
		Discount: t.Discount.String(), Rounding: t.Rounding.String(),
		TicketType: t.TicketType, Invalid: t.Invalid,
		ExternalOrderNo: t.ExternalOrderNo, WebOrderNo: t.WebOrderNo, Remark: t.Remark,
		TaxFee: t.TaxFee.String(), ServiceFee: t.ServiceFee.String(),
		Payments:                  make([]tickets.Payment, 0, len(t.Payments)),
		Items:                     make([]tickets.Item, 0, len(t.Items)),
		TicketStoreAppIDOrAccount: t.TicketStoreAppIDOrAccount,
	}
	if !t.DateTime.IsZero() {
		out.DateTime = t.DateTime.In(pospal.Shanghai).Format(time.RFC3339)
	}
	if t.Cashier != nil {
		out.Cashier = &tickets.Cashier{UID: t.Cashier.UID, JobNumber: t.Cashier.JobNumber, Name: t.Cashier.Name}
	}
	for _, p := range t.Payments {
		out.Payments = append(out.Payments, tickets.Payment{Code: p.Code, Amount: p.Amount.String()})
	}
	for _, it := range t.Items {
		item := tickets.Item{
			Name: it.Name, ProductUID: it.ProductUID, ProductBarcode: it.ProductBarcode,
			BuyPrice: it.BuyPrice.String(), SellPrice: it.SellPrice.String(), CustomerPrice: it.CustomerPrice.String(),
			Quantity: it.Quantity.String(), Discount: it.Discount.String(), CustomerDiscount: it.CustomerDiscount.String(),
			IsCustomerDiscount: it.IsCustomerDiscount, TotalAmount: it.TotalAmount.String(), TotalProfit: it.TotalProfit.String(),
			IsWeighing: it.IsWeighing, DiscountDetails: it.DiscountDetails, SaleGuiderList: it.SaleGuiderList,
		}
		for _, a := range it.Attributes {
			item.Attributes = append(item.Attributes, tickets.ItemAttribute{AttributeName: a.AttributeName, AttributeValue: a.AttributeValue})
		}
		out.Items = append(out.Items, item)
	}
	return out
}
