package coupons_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/pospal"
	"github.com/loyaltybus/loyaltybus/adapters/pospal/pospaltest"
	"github.com/loyaltybus/loyaltybus/adapters/shuyun"
	"github.com/loyaltybus/loyaltybus/adapters/shuyun/shuyuntest"
	"github.com/loyaltybus/loyaltybus/events"
	"github.com/loyaltybus/loyaltybus/events/coupon"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/pkg/bus/bustest"
	"github.com/loyaltybus/loyaltybus/services/coupons"
)

const (
	member = "0040a85608844820900558fc2671cb7c"
	// rule is a Pospal coupon rule uid above 2^53: a float64 would round it.
	rule     coupon.UID = 886263699231969848
	customer coupon.UID = 832101480292933201
)

// docGrantParams are the params of the doc's grant example (7.3).
var docGrantParams = json.RawMessage(`{"campaignId":"100001","selectShopCode":"100001","orderId":"100001","sharedBy":"100001","sharedCouponCode":"100001"}`)

type harness struct {
	js  jetstream.JetStream
	url string
	sy  *shuyuntest.Server
	ps  *pospaltest.Server
	log *logBuffer
}

// newHarness starts NATS and both simulators; psOpts, when given, configure
// the Pospal simulator.
func newHarness(t *testing.T, topo bus.Topology, psOpts ...pospaltest.Options) *harness {
	t.Helper()
	srv := bustest.NewServer(t)
	_, js := bustest.Connect(t, srv.ClientURL())
	require.NoError(t, bus.Provision(t.Context(), js, topo))
	var opts pospaltest.Options
	if len(psOpts) > 0 {
		opts = psOpts[0]
	}
	ps := pospaltest.NewServer(t, opts)
	ps.AddPromotion(int64(rule), "双十一券")
	return &harness{js: js, url: srv.ClientURL(), sy: shuyuntest.NewServer(t), ps: ps, log: &logBuffer{}}
}

// start runs the coupons service; pospalCfg may adjust the Pospal client
// (a wrong AppKey, a small daily quota).
func (h *harness) start(t *testing.T, pospalCfg ...func(*pospal.Config)) {
	t.Helper()
	sy, err := shuyun.New(shuyun.Config{BaseURL: h.sy.URL, ClientID: h.sy.ClientID(), ClientSecret: h.sy.ClientSecret()})
	require.NoError(t, err)
	cfg := h.ps.Config()
	for _, f := range pospalCfg {
		f(&cfg)
	}
	ps, err := pospal.New(cfg)
	require.NoError(t, err)
	log := slog.New(slog.NewJSONHandler(h.log, nil))
	bustest.Start(t, h.url, bus.Config{
		Name: coupons.Name, SkipProvision: true, Logger: log,
		Backoff: bus.Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond},
	}, coupons.New(sy, ps, log).Routes()...)
}

func (h *harness) publish(t *testing.T, c events.Command, id string, data any) {
	t.Helper()
	bustest.Publish(t, h.js, c.Subject, bustest.Command(t, id, c.Type, data), bus.Binary)
}

// results waits for n results under filter and returns them by command id.
func (h *harness) results(t *testing.T, filter string, n int) map[string]bustest.ResultData {
	t.Helper()
	out := map[string]bustest.ResultData{}
	for _, o := range bustest.WaitMessages(t, h.js, events.StreamResults, filter, n) {
		r := o.Result(t)
		out[r.CommandID] = r
	}
	return out
}

// changes waits for n change events of c, checks each against c's schema and
// returns them.
func (h *harness) changes(t *testing.T, c events.Change, n int) []bustest.Output {
	t.Helper()
	outs := bustest.WaitMessages(t, h.js, events.StreamEvents, c.Subject, n)
	for _, o := range outs {
		require.NotNil(t, o.Event)
		assert.Equal(t, c.Type, o.Event.Type())
		assert.Equal(t, "loyaltybus/"+coupons.Name, o.Event.Source())
		conforms(t, c.Schema, o.Event.Data())
	}
	return outs
}

// conforms checks data against a JSON Schema of the contract.
func conforms(t *testing.T, schema, data []byte) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("mem:///schema.json", doc))
	s, err := c.Compile("mem:///schema.json")
	require.NoError(t, err)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	require.NoError(t, err)
	assert.NoError(t, s.Validate(inst), "%s", data)
}

// logBuffer collects JSON log lines; it is safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// find returns the first log record with msg, decoded.
func (b *logBuffer) find(msg string) (map[string]any, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for line := range strings.SplitSeq(b.buf.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
			return rec, true
		}
	}
	return nil, false
}

func shuyunGrant() coupon.Grant {
	return coupon.Grant{MemberID: member, MemberType: "shuyun", ChannelType: "KYLIN_GUIDE", ProjectID: "1001", Params: docGrantParams}
}

func TestShuyunGrant(t *testing.T) {
	t.Parallel()
	for _, mode := range []bus.Mode{bus.Binary, bus.Structured} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, bus.Topology{})
			h.start(t)
			id := uuid.NewString()
			bustest.Publish(t, h.js, coupon.SubjectGrant, bustest.Command(t, id, coupon.TypeGrant, shuyunGrant()), mode)

			res := bustest.WaitMessages(t, h.js, events.StreamResults, "loyalty.result.coupon.grant", 1)[0]
			assert.Equal(t, "loyalty.coupon.grant.result.v1", res.Event.Type())
			r := res.Result(t)
			require.Equal(t, "succeeded", r.Status, "%+v", r.Error)
			granted := h.sy.Coupons(member)
			require.Len(t, granted, 1)
			c := granted[0]
			assert.Equal(t, "shuyun", r.Output["provider"])
			assert.Equal(t, member, r.Output["memberId"])
			assert.Equal(t, "1001", r.Output["projectId"])
			assert.Equal(t, c.InstanceID, r.Output["instanceId"])
			assert.Equal(t, c.CouponCode, r.Output["couponCode"])
			assert.Equal(t, "GRANTED", r.Output["status"])
			assert.Equal(t, c.InstanceID, r.Output["instanceIds"])
			grantTime, err := time.Parse(time.RFC3339, r.Output["grantTime"].(string))
			require.NoError(t, err)
			assert.True(t, c.GrantTime.Truncate(time.Millisecond).Equal(grantTime), "%v vs %v", c.GrantTime, grantTime)

			ev := h.changes(t, coupon.GrantedChange, 1)[0]
			assert.Equal(t, member, ev.Ext(events.AttrPartitionKey), "grants are ordered by member")
			assert.Equal(t, id, ev.Ext(events.AttrCausationID))
			var got coupon.Granted
			require.NoError(t, json.Unmarshal(ev.Event.Data(), &got))
			assert.JSONEq(t, string(docGrantParams), string(got.Params))
			got.Params = nil
			assert.Equal(t, coupon.Granted{Provider: "shuyun", CouponCode: c.CouponCode, MemberID: member, MemberType: "shuyun",
				ChannelType: "KYLIN_GUIDE", ProjectID: "1001", InstanceID: c.InstanceID, Status: "GRANTED",
				GrantTime: r.Output["grantTime"].(string)}, got)

			calls := h.sy.Calls(shuyun.PathGrantCoupon)
			require.Len(t, calls, 1)
			assert.Equal(t, id, calls[0].Token, "X-Request-Sequence is the command id")
			assert.Equal(t, []string{id}, calls[0].Header["X-Request-Sequence"])
			want, err := json.Marshal(shuyunGrant())
			require.NoError(t, err)
			assert.JSONEq(t, string(want), string(calls[0].Body), "the doc's params reach the vendor")
		})
	}
}

// TestStateOperations runs each Shuyun coupon operation on a coupon in a
// state that allows it.
func TestStateOperations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cmd    events.Command
		change events.Change
		path   string
		from   string
		want   string
	}{
		{coupon.RedeemCommand, coupon.RedeemedChange, "/offer/coupon/use", shuyuntest.StateValid, shuyuntest.StateUsed},
		{coupon.FreezeCommand, coupon.FrozenChange, "/offer/coupon/frozen", shuyuntest.StateGranted, shuyuntest.StateFrozen},
		{coupon.ThawCommand, coupon.ThawedChange, "/offer/coupon/thaw", shuyuntest.StateFrozen, shuyuntest.StateValid},
		{coupon.WriteOffCommand, coupon.WrittenOffChange, "/offer/coupon/writeoff", shuyuntest.StateFrozen, shuyuntest.StateUsed},
		{coupon.ReverseCommand, coupon.ReversedChange, "/offer/coupon/anticounting", shuyuntest.StateUsed, shuyuntest.StateValid},
		{coupon.InvalidateCommand, coupon.InvalidatedChange, "/offer/coupon/invalid", shuyuntest.StateValid, shuyuntest.StateExpired},
		{coupon.ReinstateCommand, coupon.ReinstatedChange, "/offer/coupon/effective", shuyuntest.StateExpired, shuyuntest.StateValid},
	}
	h := newHarness(t, bus.Topology{})
	h.start(t)
	params := json.RawMessage(`{"shopCode":"123","employeeId":"123","counterId":"123","ticketNum":"123","recordId":"123","productCode":"123","extra":"passed on"}`)
	ids := map[string]string{}
	for _, tt := range tests {
		code := "C" + strings.ToUpper(tt.path[len("/offer/coupon/"):])
		h.sy.AddCoupon(shuyuntest.CouponInstance{CouponCode: code, ProjectID: "1001", MemberID: member, State: tt.from})
		ids[tt.cmd.Type] = uuid.NewString()
		h.publish(t, tt.cmd, ids[tt.cmd.Type], coupon.Operation{CouponCode: code, MemberType: "shuyun", ChannelType: "KYLIN_GUIDE",
			MemberID: member, Params: params})
	}
	results := h.results(t, "loyalty.result.coupon.>", len(tests))
	for _, tt := range tests {
		t.Run(tt.cmd.Type, func(t *testing.T) {
			code := "C" + strings.ToUpper(tt.path[len("/offer/coupon/"):])
			r := results[ids[tt.cmd.Type]]
			require.Equal(t, "succeeded", r.Status, "%+v", r.Error)
			assert.Equal(t, map[string]any{"provider": "shuyun", "couponCode": code, "status": tt.want}, r.Output)
			state, ok := h.sy.Coupon(code)
			require.True(t, ok)
			assert.Equal(t, tt.want, state)

			calls := h.sy.Calls(tt.path)
			require.Len(t, calls, 1)
			assert.JSONEq(t, `{"couponCode":"`+code+`","memberType":"shuyun","channelType":"KYLIN_GUIDE","params":`+string(params)+`}`,
				string(calls[0].Body), "memberId stays with us; params pass verbatim")

			ev := h.changes(t, tt.change, 1)[0]
			assert.Equal(t, code, ev.Ext(events.AttrPartitionKey), "operations are ordered by coupon")
			var got coupon.StateChange
			require.NoError(t, json.Unmarshal(ev.Event.Data(), &got))
			assert.JSONEq(t, string(params), string(got.Params))
			got.Params = nil
			assert.Equal(t, coupon.StateChange{Provider: "shuyun", CouponCode: code, Status: tt.want, MemberID: member,
				MemberType: "shuyun", ChannelType: "KYLIN_GUIDE"}, got)
		})
	}
	assert.Empty(t, h.sy.Calls(shuyun.PathCouponDetail), "first attempts never read the coupon")
}

// TestGrantDeduplication: a redelivered grant and a grant published twice
// each make one coupon, on both vendors.
func TestGrantDeduplication(t *testing.T) {
	t.Parallel()
	type vendorCase struct {
		name  string
		data  func() any
		drop  func(h *harness)
		check func(t *testing.T, h *harness, id string, r bustest.ResultData, wantCalls int)
	}
	vendors := []vendorCase{{
		name: "shuyun",
		data: func() any { return shuyunGrant() },
		drop: func(h *harness) { h.sy.CommitThenDrop(1, shuyuntest.OnPath(shuyun.PathGrantCoupon)) },
		check: func(t *testing.T, h *harness, id string, r bustest.ResultData, wantCalls int) {
			calls := h.sy.Calls(shuyun.PathGrantCoupon)
			require.Len(t, calls, wantCalls)
			for _, c := range calls {
				assert.Equal(t, id, c.Token, "the same X-Request-Sequence on every attempt")
			}
			assert.Equal(t, 1, h.sy.EffectCount(shuyun.PathGrantCoupon, id))
			require.Len(t, h.sy.Coupons(member), 1, "one coupon")
			assert.Equal(t, h.sy.Coupons(member)[0].CouponCode, r.Output["couponCode"])
		},
	}, {
		name: "pospal",
		data: func() any {
			return coupon.Grant{Provider: coupon.ProviderPospal, PromotionCouponUID: rule, CustomerUID: customer}
		},
		drop: func(h *harness) { h.ps.CommitThenDrop(1, "addCouponcode") },
		check: func(t *testing.T, h *harness, id string, r bustest.ResultData, wantCalls int) {
			code := coupon.DerivedCode(id)
			calls := h.ps.Calls("addCouponcode")
			require.Len(t, calls, wantCalls)
			for _, c := range calls {
				assert.Contains(t, string(c.Body), `"code":"`+code+`"`, "the same code on every attempt")
			}
			assert.Equal(t, 1, h.ps.CodesAdded(), "one coupon")
			assert.Equal(t, code, r.Output["couponCode"])
			st, ok := h.ps.CouponCode(code)
			require.True(t, ok)
			assert.Equal(t, int64(rule), st.PromotionCouponUID)
			assert.Equal(t, int64(customer), st.CustomerUID)
		},
	}}
	for _, v := range vendors {
		t.Run(v.name+"/redelivery after a lost answer", func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, bus.Topology{})
			v.drop(h)
			h.start(t)
			id := uuid.NewString()
			h.publish(t, coupon.GrantCommand, id, v.data())
			r := h.results(t, "loyalty.result.coupon.grant", 1)[id]
			require.Equal(t, "succeeded", r.Status, "%+v", r.Error)
			assert.Equal(t, 2, r.Attempts)
			if v.name == "pospal" {
				assert.Equal(t, true, r.Output["alreadyExisted"], "3004 confirmed our own code")
			}
			v.check(t, h, id, r, 2)
			bustest.WaitIdle(t, h.js, coupons.Name)
			assert.Equal(t, 1, bustest.Count(t, h.js, events.StreamEvents, coupon.SubjectGranted))
		})
		t.Run(v.name+"/duplicate publish", func(t *testing.T) {
			t.Parallel()
			// A dedup window this short lets the second publish through as a new message.
			h := newHarness(t, bus.Topology{DuplicatesWindow: 100 * time.Millisecond})
			h.start(t)
			id := uuid.NewString()
			cmd := bustest.Command(t, id, coupon.TypeGrant, v.data())
			bustest.Publish(t, h.js, coupon.SubjectGrant, cmd, bus.Binary)
			bustest.WaitIdle(t, h.js, coupons.Name)
			require.Eventually(t, func() bool { // until the stream forgot the id
				m, err := bus.Encode(coupon.SubjectGrant, cmd, bus.Binary)
				if err != nil {
					return false
				}
				ack, err := h.js.PublishMsg(t.Context(), m)
				return err == nil && !ack.Duplicate
			}, 10*time.Second, 20*time.Millisecond)
			bustest.WaitIdle(t, h.js, coupons.Name)
			assert.Equal(t, 2, bustest.Count(t, h.js, events.StreamCommands, coupon.SubjectGrant), "two copies reached the stream")
			r := h.results(t, "loyalty.result.coupon.grant", 1)[id]
			require.Equal(t, "succeeded", r.Status, "%+v", r.Error)
			v.check(t, h, id, r, 1)
			assert.Equal(t, 1, bustest.Count(t, h.js, events.StreamResults, "loyalty.result.>"))
			assert.Equal(t, 1, bustest.Count(t, h.js, events.StreamEvents, "loyalty.event.>"))
		})
	}
}

func TestRefusalIsPermanent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, bus.Topology{})
	h.sy.AddCoupon(shuyuntest.CouponInstance{CouponCode: "96800081", ProjectID: "1001", MemberID: member, State: shuyuntest.StateUsed})
	h.start(t)
	id := uuid.NewString()
	h.publish(t, coupon.RedeemCommand, id, coupon.Redeem{CouponCode: "96800081", MemberType: "shuyun", ChannelType: "KYLIN_GUIDE"})

	r := h.results(t, "loyalty.result.coupon.redeem", 1)[id]
	assert.Equal(t, "failed", r.Status)
	assert.Equal(t, 1, r.Attempts)
	require.NotNil(t, r.Error)
	assert.Equal(t, "vendor", r.Error.Code)
	assert.False(t, r.Error.Retryable)
	require.NotNil(t, r.Error.Vendor)
	assert.Equal(t, "shuyun", r.Error.Vendor.Name)
	assert.Equal(t, http.StatusOK, r.Error.Vendor.HTTPStatus)
	assert.Equal(t, "卡券状态USED不允许/offer/coupon/use", r.Error.Vendor.Message, "the vendor's msg")
	dl := bustest.WaitMessages(t, h.js, events.StreamDLQ, "loyalty.dlq.coupon.redeem", 1)[0]
	assert.Equal(t, id, dl.Header.Get("ce-id"))
	bustest.WaitIdle(t, h.js, coupons.Name)
	assert.Len(t, h.sy.Calls("/offer/coupon/use"), 1, "not retried")
	assert.Empty(t, h.sy.Calls(shuyun.PathCouponDetail), "a first attempt's refusal stands")
	assert.Zero(t, bustest.Count(t, h.js, events.StreamEvents, "loyalty.event.>"))
}

// TestRepeatAfterLostAnswer covers the tokenless Shuyun operations when an
// attempt's answer is lost: the repeat is refused, and the coupon's state
// decides.
func TestRepeatAfterLostAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		cmd          events.Command
		from         string
		faults       func(sim *shuyuntest.Server)
		wantStatus   string
		wantAttempts int
		wantDetails  int
		wantMessage  string
	}{{
		name: "applied, answer lost: confirmed by the coupon's state", cmd: coupon.RedeemCommand, from: shuyuntest.StateValid,
		faults:     func(sim *shuyuntest.Server) { sim.CommitThenDrop(1, shuyuntest.OnPath("/offer/coupon/use")) },
		wantStatus: "succeeded", wantAttempts: 2, wantDetails: 1,
	}, {
		name: "applied, answer lost, state unreadable once: tried again", cmd: coupon.RedeemCommand, from: shuyuntest.StateValid,
		faults: func(sim *shuyuntest.Server) {
			sim.CommitThenDrop(1, shuyuntest.OnPath("/offer/coupon/use"))
			sim.FailNext(1, http.StatusBadGateway, shuyuntest.OnPath(shuyun.PathCouponDetail))
		},
		wantStatus: "succeeded", wantAttempts: 3, wantDetails: 2,
	}, {
		name: "not applied, coupon in another state: the refusal stands", cmd: coupon.FreezeCommand, from: shuyuntest.StateUsed,
		faults: func(sim *shuyuntest.Server) {
			sim.FailNext(1, http.StatusServiceUnavailable, shuyuntest.OnPath("/offer/coupon/frozen"))
		},
		wantStatus: "failed", wantAttempts: 2, wantDetails: 1, wantMessage: "freeze coupon 96800081 (now USED)",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, bus.Topology{})
			h.sy.AddCoupon(shuyuntest.CouponInstance{CouponCode: "96800081", ProjectID: "1001", MemberID: member, State: tt.from})
			tt.faults(h.sy)
			h.start(t)
			id := uuid.NewString()
			h.publish(t, tt.cmd, id, coupon.Operation{CouponCode: "96800081", MemberType: "shuyun", ChannelType: "KYLIN_GUIDE"})
			r := h.results(t, events.ResultSubject(tt.cmd.Subject), 1)[id]
			require.Equal(t, tt.wantStatus, r.Status, "%+v", r.Error)
			assert.Equal(t, tt.wantAttempts, r.Attempts)
			bustest.WaitIdle(t, h.js, coupons.Name)
			assert.Len(t, h.sy.Calls(shuyun.PathCouponDetail), tt.wantDetails)
			if tt.wantStatus == "succeeded" {
				assert.Equal(t, true, r.Output["alreadyApplied"])
				assert.Equal(t, "USED", r.Output["status"])
				state, _ := h.sy.Coupon("96800081")
				assert.Equal(t, shuyuntest.StateUsed, state)
				assert.Equal(t, 1, h.sy.EffectCount("/offer/coupon/use", "96800081"), "applied once")
				h.changes(t, coupon.RedeemedChange, 1)
				return
			}
			require.NotNil(t, r.Error)
			assert.Contains(t, r.Error.Message, tt.wantMessage)
			require.NotNil(t, r.Error.Vendor)
			assert.Contains(t, r.Error.Vendor.Message, "不允许")
			assert.Zero(t, bustest.Count(t, h.js, events.StreamEvents, "loyalty.event.>"))
		})
	}
}

func TestPospalGrantAndRedeem(t *testing.T) {
	t.Parallel()
	h := newHarness(t, bus.Topology{})
	h.start(t)
	derivedID, givenID, redeemID := uuid.NewString(), uuid.NewString(), uuid.NewString()
	h.publish(t, coupon.GrantCommand, derivedID, coupon.Grant{Provider: coupon.ProviderPospal, PromotionCouponUID: rule, CustomerUID: customer})
	// A publisher whose JSON cannot hold 64-bit integers sends the uids as strings.
	h.publish(t, coupon.GrantCommand, givenID, map[string]any{"provider": "pospal", "promotionCouponUid": rule.String(), "code": "SPRING2026A17"})
	grants := h.results(t, "loyalty.result.coupon.grant", 2)

	derived := coupon.DerivedCode(derivedID)
	r := grants[derivedID]
	require.Equal(t, "succeeded", r.Status, "%+v", r.Error)
	assert.Equal(t, "pospal", r.Output["provider"])
	assert.Equal(t, derived, r.Output["couponCode"])
	r = grants[givenID]
	require.Equal(t, "succeeded", r.Status, "%+v", r.Error)
	assert.Equal(t, "SPRING2026A17", r.Output["couponCode"])

	st, ok := h.ps.CouponCode(derived)
	require.True(t, ok)
	assert.Equal(t, int64(rule), st.PromotionCouponUID, "the big uid reached the vendor exactly")
	assert.Equal(t, int64(customer), st.CustomerUID)
	st, ok = h.ps.CouponCode("SPRING2026A17")
	require.True(t, ok)
	assert.Equal(t, int64(rule), st.PromotionCouponUID)
	for _, c := range h.ps.Calls("addCouponcode") {
		assert.Contains(t, string(c.Body), `"promotionCouponUid":886263699231969848`, "sent as a JSON integer")
	}

	evs := h.changes(t, coupon.GrantedChange, 2)
	byCode := map[string]coupon.Granted{}
	for _, ev := range evs {
		assert.Contains(t, string(ev.Event.Data()), `"promotionCouponUid":886263699231969848`, "published exactly, as an integer")
		var g coupon.Granted
		require.NoError(t, json.Unmarshal(ev.Event.Data(), &g))
		byCode[g.CouponCode] = g
	}
	assert.Equal(t, coupon.Granted{Provider: "pospal", CouponCode: derived, PromotionCouponUID: rule, CustomerUID: customer}, byCode[derived])

	h.publish(t, coupon.RedeemCommand, redeemID, coupon.Redeem{Provider: coupon.ProviderPospal, CouponCode: derived,
		CustomerUID: customer, UseDateTime: "2026-11-11 10:30:00"})
	r = h.results(t, "loyalty.result.coupon.redeem", 1)[redeemID]
	require.Equal(t, "succeeded", r.Status, "%+v", r.Error)
	st, _ = h.ps.CouponCode(derived)
	assert.True(t, st.Used)
	assert.Equal(t, int64(customer), st.UsedBy)
	assert.True(t, time.Date(2026, 11, 11, 2, 30, 0, 0, time.UTC).Equal(st.UsedAt), "read in Asia/Shanghai: %v", st.UsedAt)
	var redeemed coupon.Redeemed
	require.NoError(t, json.Unmarshal(h.changes(t, coupon.RedeemedChange, 1)[0].Event.Data(), &redeemed))
	assert.Equal(t, coupon.Redeemed{Provider: "pospal", CouponCode: derived, CustomerUID: customer, UseDateTime: "2026-11-11T10:30:00+08:00"}, redeemed)
	assert.Empty(t, h.sy.Calls(""), "nothing went to Shuyun")
}

// TestPospalCodeOfSomeoneElse: a code the publisher chose that already exists
// is not ours on a first attempt, so 3004 fails the grant.
func TestPospalCodeOfSomeoneElse(t *testing.T) {
	t.Parallel()
	h := newHarness(t, bus.Topology{})
	h.start(t)
	first, second := uuid.NewString(), uuid.NewString()
	data := coupon.Grant{Provider: coupon.ProviderPospal, PromotionCouponUID: rule, Code: "TAKEN1"}
	h.publish(t, coupon.GrantCommand, first, data)
	require.Equal(t, "succeeded", h.results(t, "loyalty.result.coupon.grant", 1)[first].Status)
	h.publish(t, coupon.GrantCommand, second, data)
	r := h.results(t, "loyalty.result.coupon.grant", 2)[second]
	assert.Equal(t, "failed", r.Status)
	require.NotNil(t, r.Error)
	require.NotNil(t, r.Error.Vendor)
	assert.Equal(t, "3004", r.Error.Vendor.Code)
	bustest.WaitIdle(t, h.js, coupons.Name)
	assert.Equal(t, 1, bustest.Count(t, h.js, events.StreamEvents, coupon.SubjectGranted))
}

// TestPospalWrongSignature guards against an adapter or configuration bug:
// a wrong AppKey is refused by the vendor (1032) and fails at once with the
// vendor's message instead of being retried.
func TestPospalWrongSignature(t *testing.T) {
	t.Parallel()
	h := newHarness(t, bus.Topology{})
	h.start(t, func(c *pospal.Config) { c.AppKey = "not-the-app-key" })
	id := uuid.NewString()
	h.publish(t, coupon.GrantCommand, id, coupon.Grant{Provider: coupon.ProviderPospal, PromotionCouponUID: rule})
	r := h.results(t, "loyalty.result.coupon.grant", 1)[id]
	assert.Equal(t, "failed", r.Status)
	assert.Equal(t, 1, r.Attempts)
	require.NotNil(t, r.Error)
	assert.False(t, r.Error.Retryable)
	require.NotNil(t, r.Error.Vendor)
	assert.Equal(t, "pospal", r.Error.Vendor.Name)
	assert.Equal(t, "1032", r.Error.Vendor.Code)
	assert.Equal(t, "消息体与消息签名不匹配", r.Error.Vendor.Message)
	bustest.WaitIdle(t, h.js, coupons.Name)
	assert.Len(t, h.ps.Calls("addCouponcode"), 1)
	assert.Zero(t, h.ps.CodesAdded())
}

// TestPospalQuotaDelaysTheCommand: with the daily quota used up the client
// refuses to call; the command waits for the reset (no result, no further
// call) and the quota state is logged.
func TestPospalQuotaDelaysTheCommand(t *testing.T) {
	t.Parallel()
	h := newHarness(t, bus.Topology{})
	h.start(t, func(c *pospal.Config) { c.DailyQuota = 1 })
	first, second := uuid.NewString(), uuid.NewString()
	h.publish(t, coupon.GrantCommand, first, coupon.Grant{Provider: coupon.ProviderPospal, PromotionCouponUID: rule})
	require.Equal(t, "succeeded", h.results(t, "loyalty.result.coupon.grant", 1)[first].Status)
	h.publish(t, coupon.GrantCommand, second, coupon.Grant{Provider: coupon.ProviderPospal, PromotionCouponUID: rule})

	var rec map[string]any
	require.Eventually(t, func() bool {
		var ok bool
		rec, ok = h.log.find("pospal daily call quota used up: the command waits for the reset")
		return ok
	}, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, second, rec["event_id"])
	assert.EqualValues(t, 1, rec["quota_used"])
	assert.EqualValues(t, 1, rec["quota_limit"])
	reset, err := time.Parse(time.RFC3339, rec["quota_reset_at"].(string))
	require.NoError(t, err)
	assert.True(t, pospal.NextMidnight(time.Now()).Equal(reset), "resets at the next midnight in Asia/Shanghai, not %v", reset)
	var retry map[string]any
	require.Eventually(t, func() bool {
		var ok bool
		retry, ok = h.log.find("command retry")
		return ok
	}, 10*time.Second, 10*time.Millisecond, "the runtime delays the command")
	assert.Contains(t, retry["err"], "daily quota used up")

	assert.Equal(t, 1, bustest.Count(t, h.js, events.StreamResults, "loyalty.result.>"), "no result while waiting")
	assert.Len(t, h.ps.Calls("addCouponcode"), 1, "no quota burnt on retries")
}

// TestBadCommandsAreRejected: validation names the missing or broken field,
// including the fields required only for one provider.
func TestBadCommandsAreRejected(t *testing.T) {
	t.Parallel()
	h := newHarness(t, bus.Topology{})
	h.start(t)
	tests := []struct {
		name      string
		cmd       events.Command
		data      string
		wantField string
	}{
		{"shuyun grant without projectId", coupon.GrantCommand, `{"memberId":"m","memberType":"shuyun","channelType":"POS"}`, "data.projectId"},
		{"grant without a provider's fields", coupon.GrantCommand, `{"promotionCouponUid":1}`, "data.channelType"},
		{"pospal grant without promotionCouponUid", coupon.GrantCommand, `{"provider":"pospal","code":"ABC"}`, "data.promotionCouponUid"},
		{"pospal code with a dash", coupon.GrantCommand, `{"provider":"pospal","promotionCouponUid":1,"code":"A-1"}`, "data.code"},
		{"pospal uid with a fraction", coupon.GrantCommand, `{"provider":"pospal","promotionCouponUid":1.5}`, "data.promotionCouponUid"},
		{"unknown provider", coupon.GrantCommand, `{"provider":"wixtar","memberId":"m","memberType":"shuyun","channelType":"POS","projectId":"p"}`, "data.provider"},
		{"params not an object", coupon.GrantCommand, `{"memberId":"m","memberType":"shuyun","channelType":"POS","projectId":"p","params":"x"}`, "data.params"},
		{"freeze without channelType", coupon.FreezeCommand, `{"couponCode":"c","memberType":"shuyun"}`, "data.channelType"},
		{"freeze at pospal", coupon.FreezeCommand, `{"provider":"pospal","couponCode":"c","memberType":"shuyun","channelType":"POS"}`, "data.provider"},
		{"shuyun redeem without memberType", coupon.RedeemCommand, `{"couponCode":"c","channelType":"POS"}`, "data.memberType"},
		{"pospal redeem with a bad time", coupon.RedeemCommand, `{"provider":"pospal","couponCode":"c","useDateTime":"2026-11-11T10:30:00"}`, "data.useDateTime"},
		{"pospal redeem with a long code", coupon.RedeemCommand, `{"provider":"pospal","couponCode":"` + strings.Repeat("A", 51) + `"}`, "data.couponCode"},
	}
	ids := make([]string, len(tests))
	for i, tt := range tests {
		ids[i] = uuid.NewString()
		h.publish(t, tt.cmd, ids[i], json.RawMessage(tt.data))
	}
	results := h.results(t, "loyalty.result.coupon.>", len(tests))
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := results[ids[i]]
			require.Equal(t, "rejected", r.Status, "%+v", r.Error)
			require.NotNil(t, r.Error)
			assert.True(t, strings.HasPrefix(r.Error.Message, tt.wantField+":"), "message %q names %s", r.Error.Message, tt.wantField)
		})
	}
	assert.Empty(t, h.sy.Calls(""), "nothing reached Shuyun")
	assert.Empty(t, h.ps.Calls(""), "nothing reached Pospal")
}

// TestOperationsOnOneCouponKeepTheirOrder: operations on one coupon apply in
// the order they were published (they are partitioned by couponCode), so a
// chain that is only valid in that order succeeds throughout.
func TestOperationsOnOneCouponKeepTheirOrder(t *testing.T) {
	t.Parallel()
	h := newHarness(t, bus.Topology{})
	h.sy.AddCoupon(shuyuntest.CouponInstance{CouponCode: "96800081", ProjectID: "1001", MemberID: member, State: shuyuntest.StateValid})
	h.start(t)
	chain := []events.Command{coupon.FreezeCommand, coupon.ThawCommand, coupon.FreezeCommand, coupon.WriteOffCommand,
		coupon.ReverseCommand, coupon.InvalidateCommand, coupon.ReinstateCommand, coupon.RedeemCommand}
	ids := make([]string, len(chain))
	for i, c := range chain {
		ids[i] = uuid.NewString()
		h.publish(t, c, ids[i], coupon.Operation{CouponCode: "96800081", MemberType: "shuyun", ChannelType: "POS"})
	}
	results := h.results(t, "loyalty.result.coupon.>", len(chain))
	for i, c := range chain {
		assert.Equal(t, "succeeded", results[ids[i]].Status, "step %d %s: %+v", i, c.Type, results[ids[i]].Error)
	}
	state, _ := h.sy.Coupon("96800081")
	assert.Equal(t, shuyuntest.StateUsed, state)
}

// TestGoldenPayloadsFollowTheSchemas checks the contract's golden payloads
// (events/coupon/testdata) against the schemas the runtime validates with.
func TestGoldenPayloadsFollowTheSchemas(t *testing.T) {
	t.Parallel()
	schemas := map[string][]byte{}
	for _, c := range coupon.Commands() {
		schemas[strings.TrimPrefix(c.Subject, "loyalty.cmd.coupon.")] = c.Schema
	}
	for _, c := range coupon.Changes() {
		schemas[strings.TrimPrefix(c.Subject, "loyalty.event.coupon.")] = c.Schema
	}
	files, err := filepath.Glob(filepath.Join("..", "..", "events", "coupon", "testdata", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		name, _, _ := strings.Cut(strings.TrimSuffix(filepath.Base(f), ".json"), "_")
		t.Run(filepath.Base(f), func(t *testing.T) {
			schema, ok := schemas[name]
			require.True(t, ok, "no schema for %s", name)
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			conforms(t, schema, data)
		})
	}
}

// pospalStore returns a Pospal client of the simulator's account appID
// (the default account for ""), as another system of a store would use.
func (h *harness) pospalStore(t *testing.T, appID, appKey string) *pospal.Client {
	t.Helper()
	cfg := h.ps.Config()
	if appID != "" {
		cfg.AppID, cfg.AppKey = appID, appKey
	}
	c, err := pospal.New(cfg)
	require.NoError(t, err)
	return c
}

// addPospalCode adds a code to the rule, as a grant would have.
func (h *harness) addPospalCode(t *testing.T, code string) {
	t.Helper()
	require.NoError(t, h.pospalStore(t, "", "").AddCouponCode(t.Context(),
		pospal.AddCouponCodeRequest{PromotionCouponUID: int64(rule), CustomerUID: int64(customer), Code: code}))
}

// TestPospalRedeemAfterLostAnswer: Pospal's use takes no token, so when an
// attempt's answer is lost after the vendor applied it, the repeat meets
// 3001; the used-codes listing shows the earlier attempt's use and the redeem
// succeeds, once.
func TestPospalRedeemAfterLostAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		useDateTime  string
		faults       func(sim *pospaltest.Server)
		wantAttempts int
		wantQueries  int
		wantWindow   [2]string // startTime, excludeEndTime; empty: around now
	}{{
		name:   "vendor's clock: found after the command's time",
		faults: func(sim *pospaltest.Server) { sim.CommitThenDrop(1, "use") },
		// The code is on the first page; the walk stops there.
		wantAttempts: 2, wantQueries: 1,
	}, {
		name:         "useDateTime: found at that second",
		useDateTime:  "2026-11-11 10:30:00",
		faults:       func(sim *pospaltest.Server) { sim.CommitThenDrop(1, "use") },
		wantAttempts: 2, wantQueries: 1,
		wantWindow: [2]string{"2026-11-11 10:30:00", "2026-11-11 10:30:01"},
	}, {
		name: "listing fails once: tried again",
		faults: func(sim *pospaltest.Server) {
			sim.CommitThenDrop(1, "use")
			sim.FailNext(1, http.StatusBadGateway, "queryUsedPromotionCode")
		},
		wantAttempts: 3, wantQueries: 2,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, bus.Topology{})
			h.addPospalCode(t, "LOST2026")
			tt.faults(h.ps)
			h.start(t)
			id := uuid.NewString()
			published := time.Now()
			h.publish(t, coupon.RedeemCommand, id, coupon.Redeem{Provider: coupon.ProviderPospal, CouponCode: "LOST2026",
				CustomerUID: customer, MemberID: member, UseDateTime: tt.useDateTime})

			r := h.results(t, "loyalty.result.coupon.redeem", 1)[id]
			require.Equal(t, "succeeded", r.Status, "%+v", r.Error)
			assert.Equal(t, tt.wantAttempts, r.Attempts)
			assert.Equal(t, map[string]any{"provider": "pospal", "couponCode": "LOST2026", "customerUid": float64(customer),
				"alreadyApplied": true}, r.Output)
			bustest.WaitIdle(t, h.js, coupons.Name)
			assert.Equal(t, 1, bustest.Count(t, h.js, events.StreamEvents, coupon.SubjectRedeemed), "one change event")
			var redeemed coupon.Redeemed
			require.NoError(t, json.Unmarshal(h.changes(t, coupon.RedeemedChange, 1)[0].Event.Data(), &redeemed))
			want := coupon.Redeemed{Provider: "pospal", CouponCode: "LOST2026", MemberID: member, CustomerUID: customer}
			if tt.useDateTime != "" {
				want.UseDateTime = "2026-11-11T10:30:00+08:00"
			}
			assert.Equal(t, want, redeemed, "the event of a normal redeem")

			assert.Equal(t, 1, h.ps.CodesUsed(), "the vendor applied the use once")
			st, _ := h.ps.CouponCode("LOST2026")
			assert.True(t, st.Used)
			assert.Equal(t, int64(customer), st.UsedBy)
			assert.Len(t, h.ps.Calls("use"), tt.wantAttempts, "one use per attempt")
			queries := h.ps.Calls("queryUsedPromotionCode")
			require.Len(t, queries, tt.wantQueries)
			var q struct{ StartTime, ExcludeEndTime string }
			require.NoError(t, json.Unmarshal(queries[0].Body, &q))
			if tt.wantWindow[0] != "" {
				assert.Equal(t, tt.wantWindow, [2]string{q.StartTime, q.ExcludeEndTime})
				return
			}
			start, err := pospal.ParseDateTime(q.StartTime)
			require.NoError(t, err)
			end, err := pospal.ParseDateTime(q.ExcludeEndTime)
			require.NoError(t, err)
			assert.WithinDuration(t, published.Add(-5*time.Minute), start, 2*time.Second, "from the command's time, less the clock margin")
			assert.WithinDuration(t, time.Now().Add(5*time.Minute), end, 5*time.Second, "to now, plus the clock margin")
		})
	}
}

// TestPospalRepeatedRedeemOfUnusableCode: a repeated attempt that meets 3001
// for a code no earlier attempt used keeps the refusal (a failed result, as on
// a first attempt), whatever the listing shows of other uses.
func TestPospalRepeatedRedeemOfUnusableCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		useDateTime string
		setup       func(t *testing.T, h *harness)
		wantUsed    int
		wantQueries int // pages listed: the listing has no pageSize, so it ends on an empty page
	}{{
		name: "never added", wantQueries: 1,
	}, {
		name: "used through another store",
		setup: func(t *testing.T, h *harness) {
			h.addPospalCode(t, "TAKEN2026")
			require.NoError(t, h.pospalStore(t, "other-store", "other-key").UseCouponCode(t.Context(),
				pospal.UseCouponCodeRequest{Code: "TAKEN2026"}))
		},
		wantUsed: 1, wantQueries: 2,
	}, {
		name: "used before the command",
		setup: func(t *testing.T, h *harness) {
			h.addPospalCode(t, "TAKEN2026")
			require.NoError(t, h.pospalStore(t, "", "").UseCouponCode(t.Context(),
				pospal.UseCouponCodeRequest{Code: "TAKEN2026", UseDateTime: time.Now().Add(-time.Hour)}))
		},
		wantUsed: 1, wantQueries: 1,
	}, {
		name:        "used at another time than the command's useDateTime",
		useDateTime: "2026-11-11 10:30:00",
		setup: func(t *testing.T, h *harness) {
			h.addPospalCode(t, "TAKEN2026")
			at, err := pospal.ParseDateTime("2026-11-11 10:29:59")
			require.NoError(t, err)
			require.NoError(t, h.pospalStore(t, "", "").UseCouponCode(t.Context(),
				pospal.UseCouponCodeRequest{Code: "TAKEN2026", UseDateTime: at}))
		},
		wantUsed: 1, wantQueries: 1,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, bus.Topology{}, pospaltest.Options{Apps: map[string]string{"other-store": "other-key"}})
			if tt.setup != nil {
				tt.setup(t, h)
			}
			h.ps.FailNext(1, http.StatusServiceUnavailable, "use") // the first attempt never reaches the vendor
			h.start(t)
			id := uuid.NewString()
			h.publish(t, coupon.RedeemCommand, id, coupon.Redeem{Provider: coupon.ProviderPospal, CouponCode: "TAKEN2026",
				CustomerUID: customer, UseDateTime: tt.useDateTime})

			r := h.results(t, "loyalty.result.coupon.redeem", 1)[id]
			require.Equal(t, "failed", r.Status, "%+v", r.Error)
			assert.Equal(t, 2, r.Attempts)
			require.NotNil(t, r.Error)
			assert.False(t, r.Error.Retryable)
			assert.Contains(t, r.Error.Message, "not used through this store between")
			require.NotNil(t, r.Error.Vendor)
			assert.Equal(t, "3001", r.Error.Vendor.Code)
			assert.Equal(t, "优惠券无效", r.Error.Vendor.Message)
			bustest.WaitIdle(t, h.js, coupons.Name)
			assert.Zero(t, bustest.Count(t, h.js, events.StreamEvents, "loyalty.event.>"))
			assert.Len(t, h.ps.Calls("queryUsedPromotionCode"), tt.wantQueries, "listed on the repeat only")
			assert.Equal(t, tt.wantUsed, h.ps.CodesUsed(), "nothing used by the command")
		})
	}
}

// TestPospalFirstRedeemRefusalIsNotChecked: 3001 on a first attempt cannot be
// an earlier attempt's doing, so no quota is spent on the listing.
func TestPospalFirstRedeemRefusalIsNotChecked(t *testing.T) {
	t.Parallel()
	h := newHarness(t, bus.Topology{})
	h.start(t)
	id := uuid.NewString()
	h.publish(t, coupon.RedeemCommand, id, coupon.Redeem{Provider: coupon.ProviderPospal, CouponCode: "NEVER2026"})

	r := h.results(t, "loyalty.result.coupon.redeem", 1)[id]
	require.Equal(t, "failed", r.Status, "%+v", r.Error)
	assert.Equal(t, 1, r.Attempts)
	bustest.WaitIdle(t, h.js, coupons.Name)
	assert.Empty(t, h.ps.Calls("queryUsedPromotionCode"))
}
