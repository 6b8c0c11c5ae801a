package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/pospal/pospaltest"
	"github.com/loyaltybus/loyaltybus/adapters/shuyun"
	"github.com/loyaltybus/loyaltybus/adapters/shuyun/shuyuntest"
	"github.com/loyaltybus/loyaltybus/adapters/smartx/smartxtest"
	"github.com/loyaltybus/loyaltybus/adapters/wixtar/wixtartest"
	"github.com/loyaltybus/loyaltybus/events/order"
	eventspoints "github.com/loyaltybus/loyaltybus/events/points"
	"github.com/loyaltybus/loyaltybus/pkg/bus"
	"github.com/loyaltybus/loyaltybus/pkg/bus/bustest"
)

// Personal data and secrets the scan must never find in the clear.
const (
	piiMobile = "13812345678"
	piiIDCard = "11010519491231002X"

	secretShuyun = "shuyun-S3CRET-9f2c41"
	secretPospal = "pospal-K3Y-77a1b2"
	secretWixtar = "wixtar-S3CRET-0d9e"
	secretPIN    = "918273"
)

// TestNoSecretOrPlainPIIEscapes runs every service against simulators that
// hold real-looking secrets, sends commands carrying member PII (and a vendor
// refusal quoting it), then scans everything the system wrote: logs, results
// and dead-letter reasons.
func TestNoSecretOrPlainPIIEscapes(t *testing.T) {
	sy := shuyuntest.NewServer(t, shuyuntest.Options{ClientID: "lb-client", ClientSecret: secretShuyun})
	ps := pospaltest.NewServer(t, pospaltest.Options{AppID: "app-77", AppKey: secretPospal})
	sx := smartxtest.NewServer(t, smartxtest.Options{PIN: secretPIN})
	wx := wixtartest.NewServer(t, wixtartest.Options{ClientID: "wx-client", ClientSecret: secretWixtar})

	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, nil, env(map[string]string{
			"LOYALTY_DATA_DIR": t.TempDir(), "LOYALTY_NATS_PORT": "0", "LOYALTY_LOG_FORMAT": "json", "LOYALTY_LOG_LEVEL": "debug",
			"LOYALTY_SHUYUN_URL": sy.URL, "LOYALTY_SHUYUN_CLIENT_ID": "lb-client", "LOYALTY_SHUYUN_CLIENT_SECRET": secretShuyun,
			"LOYALTY_POSPAL_URL": ps.URL, "LOYALTY_POSPAL_APP_ID": "app-77", "LOYALTY_POSPAL_APP_KEY": secretPospal,
			"LOYALTY_WIXTAR_URL": wx.URL, "LOYALTY_WIXTAR_TOKEN_URL": wx.TokenURL, "LOYALTY_WIXTAR_CLIENT_ID": "wx-client", "LOYALTY_WIXTAR_CLIENT_SECRET": secretWixtar,
			"LOYALTY_SMARTX_URL": sx.URL, "LOYALTY_SMARTX_PIN": secretPIN,
		}), &stdout, &stderr)
	}()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); require.NoError(t, <-done) }) }
	t.Cleanup(stop)
	var url string
	require.Eventually(t, func() bool {
		m := natsURL.FindStringSubmatch(stdout.String())
		if m != nil {
			url = m[1]
		}
		return m != nil
	}, 30*time.Second, 10*time.Millisecond, "stderr:\n%s", stderr.String())
	_, js := bustest.Connect(t, url)

	// A vendor refusal that quotes the member's personal data.
	sy.BusinessErrorNext(1, "019999", "会员手机号"+piiMobile+"身份证"+piiIDCard+"校验失败", shuyuntest.OnPath(shuyun.PathFreezePoints))
	freeze := eventspoints.Freeze{MemberID: "m-pii", MemberType: "shuyun", ChannelType: "POS", Points: 5, Description: "手机 " + piiMobile}
	bustest.Publish(t, js, eventspoints.SubjectFreeze, bustest.Command(t, uuid.NewString(), eventspoints.TypeFreeze, freeze), bus.Binary)

	// An order with the receiver's personal data, saved; and one rejected.
	raw, err := os.ReadFile("../../events/order/testdata/save.json")
	require.NoError(t, err)
	var o map[string]any
	require.NoError(t, json.Unmarshal(raw, &o))
	o["receiverName"], o["receiverMobile"], o["receiverAddress"] = "张三", piiMobile, "上海市浦东新区世纪大道100号"
	o["customizedProperties"] = map[string]any{"identityCard": piiIDCard, "email": "zhang.san@example.com"}
	bustest.Publish(t, js, order.SubjectSave, bustest.Command(t, uuid.NewString(), order.TypeSave, o), bus.Binary)
	delete(o, "orderId")
	bustest.Publish(t, js, order.SubjectSave, bustest.Command(t, uuid.NewString(), order.TypeSave, o), bus.Structured)

	results := bustest.WaitMessages(t, js, "LOYALTY_RESULTS", "loyalty.result.>", 3)
	statuses := map[string]int{}
	var scanned []string
	for _, r := range results {
		statuses[r.Result(t).Status]++
		scanned = append(scanned, string(r.Raw), r.Header.Get("ce-subject"))
	}
	assert.Equal(t, map[string]int{"succeeded": 1, "failed": 1, "rejected": 1}, statuses)
	dead := bustest.WaitMessages(t, js, "LOYALTY_DLQ", "loyalty.dlq.>", 2)
	for _, d := range dead {
		scanned = append(scanned, d.Header.Get("Loyalty-Dlq-Reason"))
	}
	require.Eventually(t, func() bool { return strings.Count(stderr.String(), `"msg":"command `) >= 3 }, 10*time.Second, 10*time.Millisecond)
	stop() // flush and close every log before scanning them
	scanned = append(scanned, stdout.String(), stderr.String())

	everything := strings.Join(scanned, "\n")
	for _, secret := range []string{secretShuyun, secretPospal, secretWixtar, secretPIN} {
		assert.NotContains(t, everything, secret, "a secret escaped")
	}
	for _, pii := range []string{piiMobile, piiIDCard, "zhang.san@example.com", "世纪大道"} {
		assert.NotContains(t, everything, pii, "personal data escaped unmasked")
	}
	assert.Contains(t, everything, "138****5678", "the refusal is still readable, masked")
}
