package pospaltest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/loyaltybus/loyaltybus/adapters/pospal"
)

// FirstTicketUID is the uid of the first generated ticket; later ones count
// up. It is above 2^53, so a client that decodes uids as float64 loses digits.
const FirstTicketUID int64 = 832101480292933201

// ParameterType is the postBackParameter type of the ticket query.
const ParameterType = "LAST_RESULT_MIN_ID"

// postBack is the paging parameter the simulator issues.
type postBack struct {
	ParameterType  string `json:"parameterType"`
	ParameterValue string `json:"parameterValue"`
}

// AddTickets stores tickets of a member; a ticket whose CustomerUID is 0 gets
// customerUid. A ticket with the uid of a stored one replaces it.
func (s *Simulator) AddTickets(customerUID int64, tickets ...pospal.Ticket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.tickets[customerUID]
	for _, t := range tickets {
		if t.CustomerUID == 0 {
			t.CustomerUID = customerUID
		}
		t.Raw = nil
		list = slices.DeleteFunc(list, func(o pospal.Ticket) bool { return o.UID == t.UID })
		list = append(list, t)
	}
	slices.SortFunc(list, func(a, b pospal.Ticket) int { return cmp.Compare(b.UID, a.UID) })
	s.tickets[customerUID] = list
}

// GenerateTickets stores n tickets of a member, one a minute from start, with
// uids counting up from FirstTicketUID (across calls), and returns them.
func (s *Simulator) GenerateTickets(customerUID int64, n int, start time.Time) []pospal.Ticket {
	s.mu.Lock()
	first := s.nextUID
	s.nextUID += int64(n)
	s.mu.Unlock()
	out := make([]pospal.Ticket, n)
	for i := range out {
		at := start.Add(time.Duration(i) * time.Minute).In(pospal.Shanghai).Truncate(time.Second)
		amount := json.Number(fmt.Sprintf("%d.%02d", 10+i%90, i%100))
		out[i] = pospal.Ticket{
			UID:         first + int64(i),
			SN:          fmt.Sprintf("%s%06d", at.Format("20060102150405"), i),
			DateTime:    pospal.DateTime{Time: at},
			CashierUID:  FirstTicketUID - 1,
			CustomerUID: customerUID,
			TotalAmount: amount,
			TotalProfit: "1",
			Discount:    "100",
			Rounding:    "0",
			TicketType:  "SELL",
			Payments:    []pospal.Payment{{Code: "payCode_1", Amount: amount}},
			Items: []pospal.Item{{
				Name: "Coffee", ProductUID: 379659791803681560, Quantity: "1",
				SellPrice: amount, TotalAmount: amount, Discount: "100",
			}},
		}
	}
	s.AddTickets(customerUID, out...)
	return out
}

// queryTickets serves ticketOpenApi/queryCustomerHistoryTicketsByUid: the
// member's tickets with startTime ≤ datetime ≤ endTime, uid descending,
// PageSize per page, keyset-paged by postBackParameter
// {parameterType: LAST_RESULT_MIN_ID, parameterValue: "<smallest uid so far>"}.
// A parameter of another type, or whose value is not a uid of the member's
// tickets, answers 9003, as does a window wider than MaxTicketWindow.
func (s *Simulator) queryTickets(_ string, body map[string]json.RawMessage, rest string) (any, *vendorError) {
	var startS, endS string
	if json.Unmarshal(body["startTime"], &startS) != nil || json.Unmarshal(body["endTime"], &endS) != nil {
		return nil, errBadParameter
	}
	start, err1 := pospal.ParseDateTime(startS)
	end, err2 := pospal.ParseDateTime(endS)
	if err1 != nil || err2 != nil || end.Before(start) {
		return nil, errBadParameter
	}
	if w := s.opts.MaxTicketWindow; w > 0 && end.Sub(start) > w {
		return nil, errBadParameter
	}
	customerUID, ok, err := int64Field(body["customerUid"])
	if err != nil || !ok {
		return nil, errBadParameter
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	all := s.tickets[customerUID]
	page, verr := parseKeyset(body["postBackParameter"], func(id int64) bool {
		return slices.ContainsFunc(all, func(t pospal.Ticket) bool { return t.UID == id })
	})
	if verr != nil {
		return nil, verr
	}
	result := []pospal.Ticket{}
	for _, t := range all {
		if len(result) == s.opts.PageSize {
			break
		}
		if page.skip(t.UID) || t.DateTime.Before(start) || t.DateTime.After(end) {
			continue
		}
		result = append(result, t)
	}
	var last int64
	if len(result) > 0 {
		last = result[len(result)-1].UID
	}
	next := page.next(last, len(result) == 0)
	if page.req != nil && s.takeLocked(faultRepeatPostBack, rest) {
		next = page.req
	}
	if s.takeLocked(faultEmptyPage, rest) {
		result = []pospal.Ticket{}
	}
	return struct {
		PostBackParameter json.RawMessage `json:"postBackParameter"`
		Result            []pospal.Ticket `json:"result"`
		PageSize          int             `json:"pageSize"`
	}{next, result, s.opts.PageSize}, nil
}
