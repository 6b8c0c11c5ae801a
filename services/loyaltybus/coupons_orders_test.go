package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/events/coupon"
	"github.com/loyaltybus/loyaltybus/events/order"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/pkg/bus/bustest"
)

// TestCouponsAndOrdersRunOnTheSimulators runs the coupons and orders services
// as the binary wires them, with no vendor URL set: grants at both vendors and
// the doc's order go to the built-in simulators.
func TestCouponsAndOrdersRunOnTheSimulators(t *testing.T) {
	srv := bustest.NewServer(t)
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"run", "coupons,orders"}, env(map[string]string{
			"LOYALTY_NATS_URL": srv.ClientURL(), "LOYALTY_LOG_FORMAT": "json",
		}), &stdout, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Error("run did not stop after its context ended")
		}
	})
	require.Eventually(t, func() bool {
		return strings.Contains(stderr.String(), `"msg":"loyaltybus ready"`)
	}, 20*time.Second, 10*time.Millisecond, "not ready; stderr:\n%s", &stderr)
	assert.Contains(t, stderr.String(), `"vendor":"pospal"`, "the Pospal simulator is announced")

	_, js := bustest.Connect(t, srv.ClientURL())
	bustest.Publish(t, js, coupon.SubjectGrant, bustest.Command(t, "grant-shuyun-1", coupon.TypeGrant,
		coupon.Grant{MemberID: "m-001", MemberType: "shuyun", ChannelType: "POS", ProjectID: "1001"}), bus.Binary)
	bustest.Publish(t, js, coupon.SubjectGrant, bustest.Command(t, "grant-pospal-1", coupon.TypeGrant,
		coupon.Grant{Provider: coupon.ProviderPospal, PromotionCouponUID: simPospalRule}), bus.Binary)
	doc, err := os.ReadFile(filepath.Join("..", "..", "adapters", "shuyun", "testdata", "order_save.json"))
	require.NoError(t, err)
	bustest.Publish(t, js, order.SubjectSave, bustest.Command(t, "order-1", order.TypeSave, doc), bus.Binary)

	for _, o := range bustest.WaitMessages(t, js, "LOYALTY_RESULTS", "loyalty.result.>", 3) {
		r := o.Result(t)
		assert.Equal(t, "succeeded", r.Status, "%s: %+v", r.CommandID, r.Error)
	}
	bustest.WaitMessages(t, js, "LOYALTY_EVENTS", coupon.SubjectGranted, 2)
	bustest.WaitMessages(t, js, "LOYALTY_EVENTS", order.SubjectSaved, 1)
}
