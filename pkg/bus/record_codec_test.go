package bus

import (
	"reflect"
	"testing"
)

func TestRecordCodecRoundTrip(t *testing.T) {
	want := record{State: stateSucceeded, Hash: "abc", Seq: 42, Lease: 7, Attempts: 3, GenAttempts: 2, Gen: 1,
		Memo: []MemoWrite{{Key: "k", Value: []byte("v")}, {Key: "d", Delete: true}},
		Outputs: []storedMsg{
			{Subject: "loyalty.result.points.freeze", Result: true, Header: map[string][]string{"ce-id": {"x"}, "Nats-Msg-Id": {"x"}}, Data: []byte(`{"a":"双十一"}`)},
			{Subject: "loyalty.event.points.frozen", Header: map[string][]string{}},
		}}
	b, err := marshalRecord(&want)
	if err != nil {
		t.Fatal(err)
	}
	var got record
	if err := unmarshalRecord(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(want, got) {
		t.Errorf("round trip:\nwant %+v\ngot  %+v", want, got)
	}
}

func FuzzUnmarshalRecord(f *testing.F) {
	r := record{State: stateFailed, Outputs: []storedMsg{{Subject: "s", Header: map[string][]string{"k": {"v"}}, Data: []byte("d")}}}
	b, _ := marshalRecord(&r)
	f.Add(b)
	f.Add([]byte("L\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r record
		if unmarshalRecord(b, &r) == nil {
			if _, err := marshalRecord(&r); err != nil {
				t.Fatal(err)
			}
		}
	})
}
