package logging

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// redacted replaces secret values; it matches config.Secret's rendering.
const redacted = "[redacted]"

// kind says how a value is masked.
type kind int

const (
	plain   kind = iota // not sensitive
	phone               // 13812345678 → 138****5678
	idCard              // 11010519491231002X → 110105********002X
	email               // alice@example.com → a***@example.com
	name                // 张三丰 → 张**
	address             // 上海市浦东新区世纪大道100号 → 上海市浦东新****
	secret              // anything → [redacted]
)

// sensitiveKeys maps normalised keys (lower case, without '_' and '-') to
// how their values are masked.
var sensitiveKeys = map[string]kind{
	"mobile":          phone,
	"phone":           phone,
	"mobilephone":     phone,
	"receivermobile":  phone,
	"identitycard":    idCard,
	"idcard":          idCard,
	"email":           email,
	"name":            name,
	"fullname":        name,
	"customername":    name,
	"membername":      name,
	"receivername":    name,
	"address":         address,
	"receiveraddress": address,

	"password":      secret,
	"secret":        secret,
	"clientsecret":  secret,
	"appkey":        secret,
	"token":         secret,
	"accesstoken":   secret,
	"refreshtoken":  secret,
	"authorization": secret,
	"pin":           secret,
}

// keyKind returns how values under key are masked, matching keys
// case-insensitively and ignoring '_' and '-' (so receiver_mobile and
// receiverMobile are the same key).
func keyKind(key string) kind {
	if len(key) > 32 {
		return plain
	}
	var b [32]byte
	n := 0
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '_' || c == '-':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		b[n] = c
		n++
	}
	return sensitiveKeys[string(b[:n])]
}

// ReplaceAttr is the slog.HandlerOptions.ReplaceAttr New installs in both
// handlers; it is exported for code that builds its own handler.
//
// For an attribute whose key (at any group depth) is a PII key — mobile,
// phone, mobilePhone, identityCard, idCard, email, name, fullName,
// customerName, memberName, receiverName, receiverAddress, receiverMobile,
// address; case-insensitive, '_' and '-' ignored — the value is replaced by a
// masked string; for a secret key (password, secret, clientSecret, appKey,
// token, accessToken, refreshToken, authorization, pin) by "[redacted]".
//
// Values under other keys are masked best effort where they carry JSON:
// json.RawMessage and []byte values and strings that are or contain JSON
// objects go through MaskJSON, and so do error messages; maps, structs and
// slices are marshalled to JSON and replaced by the masked JSON only if it
// contained a sensitive key. Everything else is returned unchanged.
func ReplaceAttr(groups []string, a slog.Attr) slog.Attr {
	_ = groups // keys are matched wherever they are nested
	k := keyKind(a.Key)
	v := a.Value
	switch v.Kind() {
	case slog.KindString:
		s := v.String()
		switch {
		case k != plain:
			a.Value = slog.StringValue(maskString(k, s))
		case freeText[strings.ToLower(a.Key)]:
			a.Value = slog.StringValue(MaskText(s))
		default:
			if out, changed := maskEmbedded(s); changed {
				a.Value = slog.StringValue(out)
			}
		}
	case slog.KindInt64, slog.KindUint64, slog.KindFloat64:
		if k != plain {
			a.Value = slog.StringValue(maskString(k, v.String()))
		}
	case slog.KindAny:
		a.Value = maskAny(k, v)
	default:
		// Bool, Duration, Time and Group carry no PII by themselves; groups
		// are not passed to ReplaceAttr, their members are.
		if k == secret {
			a.Value = slog.StringValue(redacted)
		}
	}
	return a
}

// maskAny masks a KindAny value. A panic in a method it calls (Error,
// MarshalJSON on a nil pointer) leaves the value to the handler, which
// reports it as slog does.
func maskAny(k kind, v slog.Value) (out slog.Value) {
	defer func() {
		if r := recover(); r != nil {
			out = v
			if k != plain {
				out = slog.StringValue(maskString(k, ""))
			}
		}
	}()
	x := v.Any()
	if x == nil {
		return v
	}
	if _, ok := x.(*slog.Source); ok {
		return v
	}
	if _, ok := x.(slog.Level); ok {
		return v
	}
	if raw, ok := x.(json.RawMessage); ok {
		if out, changed, valid := maskJSON(raw); valid {
			if changed {
				return slog.AnyValue(json.RawMessage(out))
			}
			return v
		}
		if k != plain {
			return slog.StringValue(maskString(k, string(raw)))
		}
		return v
	}
	if bs, ok := byteSlice(x); ok {
		if out, changed, valid := maskJSON(bs); valid {
			if changed {
				return slog.AnyValue(out)
			}
			return v
		}
		if k != plain {
			return slog.StringValue(maskString(k, string(bs)))
		}
		if out, changed := maskEmbedded(string(bs)); changed {
			return slog.AnyValue([]byte(out))
		}
		return v
	}
	if k != plain {
		return slog.StringValue(maskString(k, fmt.Sprint(x)))
	}
	if err, ok := x.(error); ok {
		if msg := err.Error(); MaskText(msg) != msg {
			return slog.StringValue(MaskText(msg))
		}
		return v
	}
	t := reflect.TypeOf(x)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map, reflect.Slice, reflect.Array:
		data, err := json.Marshal(x)
		if err != nil {
			return v
		}
		if out, changed, _ := maskJSON(data); changed {
			return slog.AnyValue(json.RawMessage(out))
		}
	}
	return v
}

// byteSlice returns a's bytes if its underlying type is []byte.
func byteSlice(a any) ([]byte, bool) {
	if bs, ok := a.([]byte); ok {
		return bs, true
	}
	rv := reflect.ValueOf(a)
	if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
		return rv.Bytes(), true
	}
	return nil, false
}

// MaskJSON returns data with the values of PII keys masked and the values of
// secret keys redacted, at any depth, using the same keys and masks as
// ReplaceAttr; a key whose value is an object or array masks every scalar
// inside it. Strings holding JSON (double-encoded payloads) are masked too.
//
// If data is a single JSON value, a masked document is re-encoded compactly
// (key order and number text preserved). Otherwise MaskJSON masks, best
// effort, the JSON objects and arrays embedded in the text, such as a vendor
// body quoted in an error message or a DLQ reason. When nothing needed
// masking it returns data itself; it never returns nil for non-nil data.
func MaskJSON(data []byte) []byte {
	if out, changed, valid := maskJSON(data); valid {
		if changed {
			return out
		}
		return data
	}
	if out, changed := maskEmbedded(string(data)); changed {
		return []byte(out)
	}
	return data
}

// maskJSON masks a document holding exactly one JSON value. valid is false
// if data is not such a document, and then out is data.
func maskJSON(data []byte) (out []byte, changed, valid bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	m := masker{dec: dec}
	if err := m.value(plain, 0); err != nil {
		return data, false, false
	}
	if dec.More() {
		return data, false, false
	}
	return m.buf.Bytes(), m.changed, true
}

// maxEmbedded bounds how many candidate JSON starts maskEmbedded tries, so a
// string full of braces costs little.
const maxEmbedded = 16

// maskEmbedded masks JSON objects and arrays that appear inside s.
func maskEmbedded(s string) (string, bool) {
	if !strings.ContainsAny(s, "{[") {
		return s, false
	}
	var b strings.Builder
	changed := false
	tries := 0
	i := 0
	for i < len(s) && tries < maxEmbedded {
		j := strings.IndexAny(s[i:], "{[")
		if j < 0 {
			break
		}
		start := i + j
		tries++
		dec := json.NewDecoder(strings.NewReader(s[start:]))
		dec.UseNumber()
		m := masker{dec: dec}
		if err := m.value(plain, 0); err != nil {
			b.WriteString(s[i : start+1])
			i = start + 1
			continue
		}
		end := start + int(dec.InputOffset())
		b.WriteString(s[i:start])
		if m.changed {
			b.Write(m.buf.Bytes())
			changed = true
		} else {
			b.WriteString(s[start:end])
		}
		i = end
	}
	if !changed {
		return s, false
	}
	b.WriteString(s[i:])
	return b.String(), true
}

// maxDepth bounds nesting (including JSON inside JSON strings).
const maxDepth = 64

// masker re-encodes one JSON value token by token, masking as it goes.
type masker struct {
	dec     *json.Decoder
	buf     bytes.Buffer
	changed bool
}

// errDepth stops masking of absurdly nested input.
var errDepth = fmt.Errorf("logging: JSON nested deeper than %d", maxDepth)

// value copies the next JSON value, masking scalars as k says (plain: only
// where a key inside says otherwise).
func (m *masker) value(k kind, depth int) error {
	if depth > maxDepth {
		return errDepth
	}
	tok, err := m.dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m.buf.WriteByte('{')
			for i := 0; m.dec.More(); i++ {
				if i > 0 {
					m.buf.WriteByte(',')
				}
				kt, err := m.dec.Token()
				if err != nil {
					return err
				}
				key, _ := kt.(string)
				writeJSONString(&m.buf, key)
				m.buf.WriteByte(':')
				vk := keyKind(key)
				if vk == plain {
					vk = k
				}
				if err := m.value(vk, depth+1); err != nil {
					return err
				}
			}
			if _, err := m.dec.Token(); err != nil { // '}'
				return err
			}
			m.buf.WriteByte('}')
		case '[':
			m.buf.WriteByte('[')
			for i := 0; m.dec.More(); i++ {
				if i > 0 {
					m.buf.WriteByte(',')
				}
				if err := m.value(k, depth+1); err != nil {
					return err
				}
			}
			if _, err := m.dec.Token(); err != nil { // ']'
				return err
			}
			m.buf.WriteByte(']')
		}
	case string:
		switch {
		case k != plain:
			writeJSONString(&m.buf, maskString(k, t))
			m.changed = true
		default:
			if inner, changed := m.nested(t, depth); changed {
				writeJSONString(&m.buf, inner)
				m.changed = true
			} else {
				writeJSONString(&m.buf, t)
			}
		}
	case json.Number:
		if k != plain {
			writeJSONString(&m.buf, maskString(k, t.String()))
			m.changed = true
		} else {
			m.buf.WriteString(t.String())
		}
	case bool:
		if k == secret {
			writeJSONString(&m.buf, redacted)
			m.changed = true
		} else {
			m.buf.WriteString(strconv.FormatBool(t))
		}
	case nil:
		m.buf.WriteString("null")
	}
	return nil
}

// nested masks JSON carried inside a JSON string (a double-encoded body).
func (m *masker) nested(s string, depth int) (string, bool) {
	trimmed := strings.TrimSpace(s)
	if trimmed == "" || (trimmed[0] != '{' && trimmed[0] != '[') {
		return s, false
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	inner := masker{dec: dec}
	if err := inner.value(plain, depth+1); err != nil || dec.More() || !inner.changed {
		return s, false
	}
	return inner.buf.String(), true
}

// writeJSONString appends s as a JSON string without HTML escaping.
func writeJSONString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)           // encoding a string cannot fail
	buf.Truncate(buf.Len() - 1) // drop Encode's newline
}

// maskString masks s as k says. Empty strings stay empty (except secrets).
func maskString(k kind, s string) string {
	if k == secret {
		return redacted
	}
	if s == "" {
		return ""
	}
	switch k {
	case phone:
		return maskPhone(s)
	case idCard:
		return maskIDCard(s)
	case email:
		return maskEmail(s)
	case name:
		return maskName(s)
	case address:
		return maskAddress(s)
	}
	return s
}

// maskPhone keeps the first 3 and last 4 runes of an 11-rune or longer
// number, 2 and 2 of a 7–10 rune one, and nothing of a shorter one.
func maskPhone(s string) string {
	n := utf8.RuneCountInString(s)
	switch {
	case n >= 11:
		return keepEnds(s, 3, 4)
	case n >= 7:
		return keepEnds(s, 2, 2)
	default:
		return strings.Repeat("*", n)
	}
}

// maskIDCard keeps the first 6 (region) and last 4 runes of a 15- or
// 18-character resident ID, 2 and 2 of a shorter one of 8 or more runes.
func maskIDCard(s string) string {
	n := utf8.RuneCountInString(s)
	switch {
	case n >= 15:
		return keepEnds(s, 6, 4)
	case n >= 8:
		return keepEnds(s, 2, 2)
	default:
		return strings.Repeat("*", n)
	}
}

// maskEmail keeps the first rune of the local part and the domain.
func maskEmail(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return maskName(s)
	}
	local, domain := s[:at], s[at:]
	if local == "" {
		return "***" + domain
	}
	_, size := utf8.DecodeRuneInString(local)
	return local[:size] + "***" + domain
}

// maskName keeps the first rune and stars the rest; a one-rune name is all
// stars.
func maskName(s string) string {
	n := utf8.RuneCountInString(s)
	if n <= 1 {
		return strings.Repeat("*", n)
	}
	_, size := utf8.DecodeRuneInString(s)
	return s[:size] + strings.Repeat("*", n-1)
}

// maskAddress keeps up to 6 leading runes (at most half the address,
// typically province and city) and appends "****".
func maskAddress(s string) string {
	keep := min(6, utf8.RuneCountInString(s)/2)
	return string([]rune(s)[:keep]) + "****"
}

// keepEnds keeps head leading and tail trailing runes of s and stars the
// middle; a string of head+tail runes or fewer is all stars.
func keepEnds(s string, head, tail int) string {
	r := []rune(s)
	if len(r) <= head+tail {
		return strings.Repeat("*", len(r))
	}
	return string(r[:head]) + strings.Repeat("*", len(r)-head-tail) + string(r[len(r)-tail:])
}
