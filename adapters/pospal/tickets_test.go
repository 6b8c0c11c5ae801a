package pospal_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/pospal"
	"github.com/loyaltybus/loyaltybus/adapters/pospal/pospaltest"
)

var (
	dayStart = shanghai(2026, 11, 1, 0, 0, 0)
	dayEnd   = shanghai(2026, 11, 1, 23, 59, 59)
	dayQuery = pospal.TicketQuery{CustomerUID: memberUID, StartTime: dayStart, EndTime: dayEnd}
)

// walk collects all pages of a query.
func walk(t testing.TB, c *pospal.Client, q pospal.TicketQuery) ([]pospal.TicketPage, error) {
	t.Helper()
	var pages []pospal.TicketPage
	err := c.QueryCustomerHistoryTickets(t.Context(), q, func(p pospal.TicketPage) error {
		pages = append(pages, p)
		return nil
	})
	return pages, err
}

// uids returns the uids of the pages' tickets in order.
func uids(pages []pospal.TicketPage) []int64 {
	var out []int64
	for _, p := range pages {
		for _, tk := range p.Tickets {
			out = append(out, tk.UID)
		}
	}
	return out
}

// wantUIDs returns the generated tickets' uids, largest first.
func wantUIDs(tickets []pospal.Ticket) []int64 {
	out := make([]int64, len(tickets))
	for i, tk := range tickets {
		out[len(tickets)-1-i] = tk.UID
	}
	return out
}

// postBackOf returns the postBackParameter of a recorded request, nil when
// absent.
func postBackOf(t testing.TB, c pospaltest.Call) json.RawMessage {
	t.Helper()
	var body struct {
		PostBackParameter json.RawMessage `json:"postBackParameter"`
	}
	require.NoError(t, json.Unmarshal(c.Body, &body))
	return body.PostBackParameter
}

func TestTicketsWalkAllPages(t *testing.T) {
	t.Parallel()
	srv := pospaltest.NewServer(t, pospaltest.Options{})
	tickets := srv.GenerateTickets(memberUID, 250, dayStart.Add(time.Hour))
	srv.GenerateTickets(strangerUID, 5, dayStart.Add(time.Hour)) // another member's
	c := newClient(t, srv, nil)

	pages, err := walk(t, c, dayQuery)

	require.NoError(t, err)
	require.Len(t, pages, 3)
	assert.Equal(t, []int{100, 100, 50}, []int{len(pages[0].Tickets), len(pages[1].Tickets), len(pages[2].Tickets)})
	assert.Equal(t, []bool{false, false, true}, []bool{pages[0].Last, pages[1].Last, pages[2].Last})
	assert.Equal(t, wantUIDs(tickets), uids(pages), "every uid exact, above 2^53")
	assert.Equal(t, int64(832101480292933450), pages[0].Tickets[0].UID)
	assert.Equal(t, int64(832101480292933201), pages[2].Tickets[49].UID)
	assert.Equal(t, memberUID, pages[0].Tickets[0].CustomerUID)

	calls := srv.Calls("queryCustomerHistoryTicketsByUid")
	require.Len(t, calls, 3)
	assert.Nil(t, postBackOf(t, calls[0]), "the first page is asked without postBackParameter")
	for i := 1; i < 3; i++ {
		assert.Equal(t, string(pages[i-1].Next), string(postBackOf(t, calls[i])), "page %d echoes the parameter byte for byte", i+1)
		assert.Equal(t, string(pages[i-1].Next), string(pages[i].Request))
	}
	assert.JSONEq(t, `{"appId":"pospal-sim-app","startTime":"2026-11-01 00:00:00","endTime":"2026-11-01 23:59:59","customerUid":"886263699231969848"}`, string(calls[0].Body))
	assert.JSONEq(t, `{"parameterType":"LAST_RESULT_MIN_ID","parameterValue":"832101480292933351"}`, string(pages[0].Next))
}

func TestTicketsStopRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		tickets   int
		setup     func(*pospaltest.Server)
		wantPages []int
	}{
		{name: "no tickets", tickets: 0, wantPages: []int{0}},
		{name: "one short page", tickets: 7, wantPages: []int{7}},
		{name: "exactly a full page then an empty one", tickets: 100, wantPages: []int{100, 0}},
		{name: "empty page with a postBackParameter", tickets: 150, setup: func(s *pospaltest.Server) { s.EmptyPageNext(1) }, wantPages: []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := pospaltest.NewServer(t, pospaltest.Options{})
			srv.GenerateTickets(memberUID, tt.tickets, dayStart)
			if tt.setup != nil {
				tt.setup(srv)
			}
			c := newClient(t, srv, nil)

			pages, err := walk(t, c, dayQuery)

			require.NoError(t, err)
			var got []int
			for _, p := range pages {
				got = append(got, len(p.Tickets))
			}
			assert.Equal(t, tt.wantPages, got)
			assert.True(t, pages[len(pages)-1].Last)
			assert.Len(t, srv.Calls("queryCustomerHistoryTicketsByUid"), len(tt.wantPages))
		})
	}
}

func TestTicketsResumeFromCheckpoint(t *testing.T) {
	t.Parallel()
	srv := pospaltest.NewServer(t, pospaltest.Options{})
	tickets := srv.GenerateTickets(memberUID, 250, dayStart)
	c := newClient(t, srv, nil)
	errCrash := errors.New("worker crashed after checkpointing page 1")

	var checkpoint json.RawMessage
	var first []pospal.TicketPage
	err := c.QueryCustomerHistoryTickets(t.Context(), dayQuery, func(p pospal.TicketPage) error {
		first = append(first, p)
		checkpoint = p.Next
		return errCrash
	})
	require.ErrorIs(t, err, errCrash, "the callback's error comes back unchanged")

	q := dayQuery
	q.Resume = checkpoint
	rest, err := walk(t, c, q)

	require.NoError(t, err)
	require.Len(t, rest, 2)
	assert.Equal(t, string(checkpoint), string(rest[0].Request))
	assert.Equal(t, wantUIDs(tickets), uids(append(first, rest...)), "no ticket lost or repeated")
	calls := srv.Calls("queryCustomerHistoryTicketsByUid")
	require.Len(t, calls, 3)
	assert.Equal(t, string(checkpoint), string(postBackOf(t, calls[1])))
}

func TestTicketsLoopGuard(t *testing.T) {
	t.Parallel()
	srv := pospaltest.NewServer(t, pospaltest.Options{})
	tickets := srv.GenerateTickets(memberUID, 250, dayStart)
	srv.RepeatPostBackNext(1)
	c := newClient(t, srv, nil)

	pages, err := walk(t, c, dayQuery)

	var loop *pospal.LoopError
	require.ErrorAs(t, err, &loop)
	assert.ErrorIs(t, err, pospal.ErrPagingLoop)
	assert.False(t, requireClassified(t, err).Temporary())
	assert.Equal(t, 2, loop.Page)
	require.Len(t, pages, 2, "the page that repeated the parameter is still delivered")
	assert.True(t, pages[1].Last)
	assert.Equal(t, string(pages[0].Next), string(pages[1].Next))
	assert.Equal(t, wantUIDs(tickets)[:200], uids(pages))
	assert.Len(t, srv.Calls("queryCustomerHistoryTicketsByUid"), 2, "no third request")
}

func TestTicketsRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    pospaltest.Options
		query   func(q *pospal.TicketQuery)
		wantErr error
	}{
		{
			name: "tampered parameterValue is 9003",
			query: func(q *pospal.TicketQuery) {
				q.Resume = json.RawMessage(`{"parameterType":"LAST_RESULT_MIN_ID","parameterValue":"123"}`)
			},
			wantErr: pospal.ErrBadRequest,
		},
		{
			name: "changed parameterType is 9003",
			query: func(q *pospal.TicketQuery) {
				q.Resume = json.RawMessage(`{"parameterType":"LAST_RESULT_MAX_ID","parameterValue":"832101480292933201"}`)
			},
			wantErr: pospal.ErrBadRequest,
		},
		{
			name:    "window wider than the vendor's limit is 9003",
			opts:    pospaltest.Options{MaxTicketWindow: 24 * time.Hour},
			query:   func(q *pospal.TicketQuery) { q.EndTime = q.StartTime.Add(48 * time.Hour) },
			wantErr: pospal.ErrBadRequest,
		},
		{
			name:    "end before start is refused before sending",
			query:   func(q *pospal.TicketQuery) { q.EndTime = q.StartTime.Add(-time.Second) },
			wantErr: &pospal.ValidationError{},
		},
		{
			name:    "resume value that is not JSON is refused before sending",
			query:   func(q *pospal.TicketQuery) { q.Resume = json.RawMessage(`{"parameterType":`) },
			wantErr: &pospal.ValidationError{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := pospaltest.NewServer(t, tt.opts)
			srv.GenerateTickets(memberUID, 10, dayStart)
			c := newClient(t, srv, nil)
			q := dayQuery
			tt.query(&q)

			pages, err := walk(t, c, q)

			assert.Empty(t, pages)
			ce := requireClassified(t, err)
			assert.False(t, ce.Temporary())
			if ve, ok := tt.wantErr.(*pospal.ValidationError); ok {
				assert.ErrorAs(t, err, &ve)
				assert.Empty(t, srv.Calls(""))
				return
			}
			assert.ErrorIs(t, err, tt.wantErr)
			_, _, code, msg := ce.VendorDetail()
			assert.Equal(t, "9003", code)
			assert.Equal(t, "请求参数错误", msg)
		})
	}
}

func TestTicketKeepsUnknownFields(t *testing.T) {
	t.Parallel()
	var tk pospal.Ticket
	in := `{"uid":832101480292933201,"sn":"S1","datetime":"2015-11-12 16:02:12","customerUid":886263699231969848,"totalAmount":"72.50","ticketType":"sell_return","invalid":1,"payments":[],"items":[],"newField":{"x":1}}`

	require.NoError(t, json.Unmarshal([]byte(in), &tk))

	assert.Equal(t, int64(832101480292933201), tk.UID)
	assert.Equal(t, int64(886263699231969848), tk.CustomerUID)
	assert.Equal(t, json.Number("72.50"), tk.TotalAmount, "a decimal string is accepted")
	assert.True(t, shanghai(2015, 11, 12, 16, 2, 12).Equal(tk.DateTime.Time))
	assert.True(t, tk.Return())
	assert.True(t, tk.Voided())
	assert.JSONEq(t, in, string(tk.Raw))
}

func TestTicketRejectsFloatUID(t *testing.T) {
	t.Parallel()
	var tk pospal.Ticket
	err := json.Unmarshal([]byte(`{"uid":8.321014802929332e17}`), &tk)
	assert.Error(t, err, "uids are integers; a float would have lost digits")
}
