package bus_test

import (
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/pkg/bus"
)

func sampleEvent(t testing.TB) *event.Event {
	ev := event.New()
	ev.SetID("0193a8e2-7c1e-7b4e-9f51-3a2d5c6e7f80")
	ev.SetSource("mini-program")
	ev.SetType("loyalty.points.freeze.v1")
	ev.SetSubject("会员 0040 заказ")
	ev.SetExtension("partitionkey", "0040a856")
	ev.SetExtension("correlationid", "双十一-Ёлка 100%")
	require.NoError(t, ev.SetData(event.ApplicationJSON, map[string]any{"description": "双十一冻结 заморозка", "points": 20}))
	return &ev
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, mode := range []bus.Mode{bus.Binary, bus.Structured} {
		t.Run(mode.String(), func(t *testing.T) {
			want := sampleEvent(t)
			m, err := bus.Encode("loyalty.cmd.points.freeze", want, mode)
			require.NoError(t, err)
			assert.Equal(t, want.ID(), m.Header.Get(nats.MsgIdHdr))
			if mode == bus.Binary {
				for k, vs := range m.Header {
					for _, v := range vs {
						for i := 0; i < len(v); i++ {
							assert.Truef(t, v[i] > ' ' && v[i] < 0x7f, "header %s has raw byte %q", k, v[i])
						}
					}
				}
			}
			got, gotMode, err := bus.Decode(m.Header, m.Data)
			require.NoError(t, err)
			assert.Equal(t, mode, gotMode)
			assert.Equal(t, want.ID(), got.ID())
			assert.Equal(t, want.Subject(), got.Subject())
			assert.Equal(t, want.Extensions()["correlationid"], got.Extensions()["correlationid"])
			assert.JSONEq(t, string(want.Data()), string(got.Data()))
		})
	}
}

func TestDecodeModeDetection(t *testing.T) {
	structured := []byte(`{"specversion":"1.0","id":"a1","source":"s","type":"t","datacontenttype":"application/json","data":{"x":1}}`)
	tests := []struct {
		name     string
		header   nats.Header
		payload  []byte
		wantMode bus.Mode
		wantID   string
		wantErr  bool
	}{
		{name: "structured by content type, any case", header: nats.Header{"content-type": {"Application/CloudEvents+JSON; charset=utf-8"}}, payload: structured, wantMode: bus.Structured, wantID: "a1"},
		{name: "binary with lower-case headers", header: nats.Header{"ce-specversion": {"1.0"}, "ce-id": {"b2"}, "ce-source": {"s"}, "ce-type": {"t"}, "Content-Type": {"application/json"}}, payload: []byte(`{"x":1}`), wantMode: bus.Binary, wantID: "b2"},
		{name: "binary with mixed-case headers", header: nats.Header{"Ce-Specversion": {"1.0"}, "CE-ID": {"c3"}, "Ce-Source": {"s"}, "Ce-Type": {"t"}}, payload: []byte(`{}`), wantMode: bus.Binary, wantID: "c3"},
		{name: "neither: tried as structured", header: nil, payload: structured, wantMode: bus.Structured, wantID: "a1"},
		{name: "not JSON", header: nil, payload: []byte("hello"), wantMode: bus.Structured, wantErr: true},
		{name: "bad percent escape", header: nats.Header{"ce-specversion": {"1.0"}, "ce-id": {"x%G1"}}, payload: nil, wantMode: bus.Binary, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, mode, err := bus.Decode(tt.header, tt.payload)
			assert.Equal(t, tt.wantMode, mode)
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantID, ev.ID())
		})
	}
}

func TestPercentEncodingFollowsBinding(t *testing.T) {
	ev := sampleEvent(t)
	ev.SetSubject(`a "b" 100%`)
	m, err := bus.Encode("x", ev, bus.Binary)
	require.NoError(t, err)
	assert.Equal(t, "a%20%22b%22%20100%25", m.Header.Get("ce-subject"))
}

func FuzzDecode(f *testing.F) {
	f.Add("", "", []byte(`{"specversion":"1.0","id":"a","source":"s","type":"t","data":{"memberId":"0040a85608844820900558fc2671cb7c","points":20}}`))
	f.Add("application/cloudevents+json", "", []byte(`{"specversion":"1.0","id":"a","source":"s","type":"t","data_base64":"e30="}`))
	f.Add("application/json", "1.0", []byte(`{"memberId":"0040a85608844820900558fc2671cb7c","description":"备注","channelType":"SHUYUN","memberType":"shuyun","shopCode":"string","idempotentMode":0,"point":20}`))
	f.Add("", "1.0", []byte{0xff, 0xfe})
	f.Fuzz(func(t *testing.T, contentType, specversion string, payload []byte) {
		h := nats.Header{}
		if contentType != "" {
			h.Set("Content-Type", contentType)
		}
		if specversion != "" {
			h.Set("ce-specversion", specversion)
			h.Set("ce-id", "%E5%8F%8C"+specversion)
		}
		ev, _, err := bus.Decode(h, payload)
		if err == nil && ev == nil {
			t.Fatal("nil event without error")
		}
	})
}
