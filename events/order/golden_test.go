package order_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/loyaltybus/loyaltybus/events/internal/golden"
	"github.com/loyaltybus/loyaltybus/events/order"
)

const docTime = "2021-07-13 08:36:03"

// docOrder is the Order example of Shuyun's doc §6.3 (repaired: the picture
// URL broken across a line joined), as a Go publisher writes it.
var docOrder = order.Save{
	MemberType: "shuyun", OrderID: "087989aaf6af4e58897794d18axxxxx", OriginOrderID: "087989aaf6af4e58897794d18axxxxx",
	CustomerNo: "T000001", ShopCode: "SHOP001", ShopName: "SHOP001", MemberID: "1c25f18ad274493882d01660e3exxxxx",
	ShopTypeCode: "TAOBAO", OrderType: order.NormalOrder, OrderStatus: "FINISHED", ChannelType: "TAOBAO",
	TotalQuantity: "1", TotalFee: "85", Payment: "85", Freight: "10", DiscountRate: "0.85", DiscountFee: "15",
	ReceiverName: "abc", ReceiverMobile: "18900000000", ReceiverTelephone: "18900000000", ReceiverProvince: "上海",
	ReceiverCity: "上海", ReceiverDistrict: "浦东新区", ReceiverAddress: "南京东路 100 号", ReceiverZipCode: "200000",
	CouponNo: "C123456", CouponFee: "15", GuideCode: "001", Description: "无",
	OrderTime: docTime, PayTime: docTime, FinishTime: docTime, ReceiveTime: docTime, ShippingTime: docTime,
	ExchangeTime: docTime, RefundTime: docTime, PointFlag: "1",
	OrderItems: []order.Item{{
		OrderItemID: "bf3a654f1afa4859bb5c0e8846bxxxxx", OriginOrderItemID: "bf3a654f1afa4859bb5c0e8846bxxxxx",
		ProductCode: "P001", ProductName: "P001", TotalFee: "85", Payment: "85", Quantity: "1", ChannelType: "TAOBAO",
		Status: "FINISHED", SkuID: "S001", ShopTypeCode: "TAOBAO", TagPrice: "100", RetailPrice: "100",
		DiscountRate: "0.85", DiscountFee: "15", OrderType: order.NormalOrder, FinishTime: docTime, PayTime: docTime, OrderTime: docTime,
		Picture:              []string{"https://allpro.saas.top/FsB-uzzX4WtCzpDuVuwqp2OdNbQ?e=1547742055&token=yNjhOp7gnH4St9yP72OlwuQ6JUNQf49pxAuGWYFt:1eZIUjRKIekGuMGG-c-s7UqNF1Y=;"},
		CustomizedProperties: map[string]string{"string": "update"},
	}},
	CustomizedProperties: map[string]string{
		"ticketNum": "123456789", "salesMode": "123456789", "presaleFlag": "123456789", "presaleStoreId": "123456789",
		"presalePosId": "123456789", "presaleBillNo": "123456789", "presaleReturnStoreId": "123456789",
		"presaleReturnPosId": "123456789", "presaleReturnBillNo": "123456789", "orderSource": "10",
	},
}

// examples are the canonical payloads of the order domain. A diff in
// testdata/ is a contract change.
var examples = map[string]any{
	"save": docOrder,
	"saved": order.Saved{OrderID: "087989aaf6af4e58897794d18axxxxx", OrderType: order.NormalOrder, OrderStatus: "FINISHED",
		OriginOrderID: "087989aaf6af4e58897794d18axxxxx", MemberID: "1c25f18ad274493882d01660e3exxxxx", MemberType: "shuyun",
		ChannelType: "TAOBAO", CustomerNo: "T000001", ShopCode: "SHOP001", ShopName: "SHOP001", TotalQuantity: "1",
		TotalFee: "85", Payment: "85", CouponNo: "C123456", TicketNum: "123456789",
		OrderTime: "2021-07-13T08:36:03+08:00", PayTime: "2021-07-13T08:36:03+08:00", ItemCount: 1},
}

func TestGolden(t *testing.T) { golden.Check(t, examples) }

// TestSaveIsTheDocOrder checks that Save knows every field of the doc's
// example: decoding and encoding it loses nothing, and the golden save
// payload is that example.
func TestSaveIsTheDocOrder(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("testdata", "doc_order_save.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s order.Save
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("the doc's order has a field Save lacks: %v", err)
	}
	if !reflect.DeepEqual(docOrder, s) {
		t.Errorf("decoded doc order differs from the golden example:\n%+v\n%+v", s, docOrder)
	}
	again, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(t, doc, again) {
		t.Errorf("round trip changed the doc's order:\n%s", again)
	}
}

func TestCatalogue(t *testing.T) {
	for _, c := range order.Commands() {
		if !json.Valid(c.Schema) {
			t.Errorf("%s: schema is not valid JSON", c.Type)
		}
		if c.PartitionKey != "orderId" {
			t.Errorf("%s: partition key %q, want orderId", c.Type, c.PartitionKey)
		}
	}
	for _, c := range order.Changes() {
		if !json.Valid(c.Schema) {
			t.Errorf("%s: schema is not valid JSON", c.Type)
		}
	}
	if got, want := order.SaveCommand.ResultSubject(), "loyalty.result.order.save"; got != want {
		t.Errorf("ResultSubject = %q, want %q", got, want)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}
