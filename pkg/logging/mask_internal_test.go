package logging

import (
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMaskString(t *testing.T) {
	tests := []struct {
		name string
		kind kind
		in   string
		want string
	}{
		{name: "mobile", kind: phone, in: "13812345678", want: "138****5678"},
		{name: "mobile with country code", kind: phone, in: "+8613812345678", want: "+86*******5678"},
		{name: "short phone", kind: phone, in: "5551234", want: "55***34"},
		{name: "tiny phone", kind: phone, in: "110", want: "***"},
		{name: "id card 18", kind: idCard, in: "11010519491231002X", want: "110105********002X"},
		{name: "id card 15", kind: idCard, in: "110105491231002", want: "110105*****1002"},
		{name: "short id", kind: idCard, in: "A1234567", want: "A1****67"},
		{name: "email", kind: email, in: "alice@example.com", want: "a***@example.com"},
		{name: "email multibyte", kind: email, in: "张三@example.cn", want: "张***@example.cn"},
		{name: "email without @", kind: email, in: "alice", want: "a****"},
		{name: "name", kind: name, in: "张三丰", want: "张**"},
		{name: "one-rune name", kind: name, in: "张", want: "*"},
		{name: "address", kind: address, in: "上海市浦东新区世纪大道100号", want: "上海市浦东新****"},
		{name: "short address", kind: address, in: "某路", want: "某****"},
		{name: "empty", kind: name, in: "", want: ""},
		{name: "secret", kind: secret, in: "x", want: "[redacted]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, maskString(tt.kind, tt.in))
		})
	}
}

func TestKeyKind(t *testing.T) {
	assert.Equal(t, phone, keyKind("receiver_mobile"))
	assert.Equal(t, phone, keyKind("MobilePhone"))
	assert.Equal(t, idCard, keyKind("identity-card"))
	assert.Equal(t, secret, keyKind("client_secret"))
	assert.Equal(t, plain, keyKind("event_id"))
	assert.Equal(t, plain, keyKind("a_key_that_is_much_longer_than_thirty_two_bytes"))
}

func TestIsTerminal(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no /dev/null")
	}
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Skip(err)
	}
	defer devNull.Close()
	assert.True(t, isTerminal(devNull), "a character device counts as a terminal")

	r, w, err := os.Pipe()
	if err != nil {
		t.Skip(err)
	}
	defer r.Close()
	defer w.Close()
	assert.False(t, isTerminal(w))
	assert.False(t, isTerminal(nil))
	assert.False(t, isTerminal((*os.File)(nil)))
}

// panicky panics in every method fmt, json and errors call.
type panicky struct{ p *int }

func (p *panicky) Error() string                { return fmt.Sprint(*p.p) }
func (p *panicky) MarshalJSON() ([]byte, error) { return []byte(fmt.Sprint(*p.p)), nil }

func TestReplaceAttrSurvivesPanics(t *testing.T) {
	var nilErr *panicky
	for _, a := range []slog.Attr{
		slog.Any("err", nilErr),
		slog.Any("err", &panicky{}),
		slog.Any("list", []*panicky{{}}),
	} {
		assert.NotPanics(t, func() { ReplaceAttr(nil, a) })
	}
}
