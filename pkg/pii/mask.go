// Package pii masks member personal data (mobile and ID numbers, e-mail,
// names, addresses) and redacts secrets, by key in JSON and by shape in free
// text. Logs, results and dead-letter reasons all mask with it, so the rules
// live in one place; it has no dependency beyond the standard library.
package pii

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Redacted replaces secret values; it matches config.Secret's rendering.
const Redacted = "[redacted]"

// Kind says how a value is masked.
type Kind int

const (
	Plain   Kind = iota // not sensitive
	Phone               // 13812345678 → 138****5678
	IDCard              // 11010519491231002X → 110105********002X
	Email               // alice@example.com → a***@example.com
	Name                // 张三丰 → 张**
	Address             // 上海市浦东新区世纪大道100号 → 上海市浦东新****
	Secret              // anything → [redacted]
)

// sensitiveKeys maps normalised keys (lower case, without '_' and '-') to
// how their values are masked.
var sensitiveKeys = map[string]Kind{
	"mobile":          Phone,
	"phone":           Phone,
	"mobilephone":     Phone,
	"receivermobile":  Phone,
	"identitycard":    IDCard,
	"idcard":          IDCard,
	"email":           Email,
	"name":            Name,
	"fullname":        Name,
	"customername":    Name,
	"membername":      Name,
	"receivername":    Name,
	"address":         Address,
	"receiveraddress": Address,

	"password":      Secret,
	"secret":        Secret,
	"clientsecret":  Secret,
	"appkey":        Secret,
	"token":         Secret,
	"accesstoken":   Secret,
	"refreshtoken":  Secret,
	"authorization": Secret,
	"pin":           Secret,
}

// KeyKind returns how values under key are masked, matching keys
// case-insensitively and ignoring '_' and '-' (so receiver_mobile and
// receiverMobile are the same key).
func KeyKind(key string) Kind {
	if len(key) > 32 {
		return Plain
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
	if out, changed, valid := MaskJSONValid(data); valid {
		if changed {
			return out
		}
		return data
	}
	if out, changed := MaskEmbedded(string(data)); changed {
		return []byte(out)
	}
	return data
}

// MaskJSONValid masks a document holding exactly one JSON value. valid is false
// if data is not such a document, and then out is data.
func MaskJSONValid(data []byte) (out []byte, changed, valid bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	m := masker{dec: dec}
	if err := m.value(Plain, 0); err != nil {
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

// MaskEmbedded masks JSON objects and arrays that appear inside s.
func MaskEmbedded(s string) (string, bool) {
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
		if err := m.value(Plain, 0); err != nil {
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
var errDepth = fmt.Errorf("pii: JSON nested deeper than %d", maxDepth)

// value copies the next JSON value, masking scalars as k says (plain: only
// where a key inside says otherwise).
func (m *masker) value(k Kind, depth int) error {
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
				vk := KeyKind(key)
				if vk == Plain {
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
		case k != Plain:
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
		if k != Plain {
			writeJSONString(&m.buf, maskString(k, t.String()))
			m.changed = true
		} else {
			m.buf.WriteString(t.String())
		}
	case bool:
		if k == Secret {
			writeJSONString(&m.buf, Redacted)
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
	if err := inner.value(Plain, depth+1); err != nil || dec.More() || !inner.changed {
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
func maskString(k Kind, s string) string {
	if k == Secret {
		return Redacted
	}
	if s == "" {
		return ""
	}
	switch k {
	case Phone:
		return maskPhone(s)
	case IDCard:
		return maskIDCard(s)
	case Email:
		return maskEmail(s)
	case Name:
		return maskName(s)
	case Address:
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

// Mask masks s as k says. Empty strings stay empty (except secrets).
func (k Kind) Mask(s string) string { return maskString(k, s) }
