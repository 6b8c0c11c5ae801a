package pii_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/loyaltybus/loyaltybus/pkg/pii"
)

func TestMaskString(t *testing.T) {
	tests := []struct {
		name string
		kind pii.Kind
		in   string
		want string
	}{
		{name: "mobile", kind: pii.Phone, in: "13812345678", want: "138****5678"},
		{name: "mobile with country code", kind: pii.Phone, in: "+8613812345678", want: "+86*******5678"},
		{name: "short phone", kind: pii.Phone, in: "5551234", want: "55***34"},
		{name: "tiny phone", kind: pii.Phone, in: "110", want: "***"},
		{name: "id card 18", kind: pii.IDCard, in: "11010519491231002X", want: "110105********002X"},
		{name: "id card 15", kind: pii.IDCard, in: "110105491231002", want: "110105*****1002"},
		{name: "short id", kind: pii.IDCard, in: "A1234567", want: "A1****67"},
		{name: "email", kind: pii.Email, in: "alice@example.com", want: "a***@example.com"},
		{name: "email multibyte", kind: pii.Email, in: "张三@example.cn", want: "张***@example.cn"},
		{name: "email without @", kind: pii.Email, in: "alice", want: "a****"},
		{name: "name", kind: pii.Name, in: "张三丰", want: "张**"},
		{name: "one-rune name", kind: pii.Name, in: "张", want: "*"},
		{name: "address", kind: pii.Address, in: "上海市浦东新区世纪大道100号", want: "上海市浦东新****"},
		{name: "short address", kind: pii.Address, in: "某路", want: "某****"},
		{name: "empty", kind: pii.Name, in: "", want: ""},
		{name: "secret", kind: pii.Secret, in: "x", want: "[redacted]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.kind.Mask(tt.in))
		})
	}
}

func TestKeyKind(t *testing.T) {
	assert.Equal(t, pii.Phone, pii.KeyKind("receiver_mobile"))
	assert.Equal(t, pii.Phone, pii.KeyKind("MobilePhone"))
	assert.Equal(t, pii.IDCard, pii.KeyKind("identity-card"))
	assert.Equal(t, pii.Secret, pii.KeyKind("client_secret"))
	assert.Equal(t, pii.Plain, pii.KeyKind("event_id"))
	assert.Equal(t, pii.Plain, pii.KeyKind("a_key_that_is_much_longer_than_thirty_two_bytes"))
}
