package logging

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"

	"github.com/loyaltybus/loyaltybus/pkg/pii"
)

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
	k := pii.KeyKind(a.Key)
	v := a.Value
	switch v.Kind() {
	case slog.KindString:
		s := v.String()
		switch {
		case k != pii.Plain:
			a.Value = slog.StringValue(k.Mask(s))
		case freeText[strings.ToLower(a.Key)]:
			a.Value = slog.StringValue(pii.MaskText(s))
		default:
			if out, changed := pii.MaskEmbedded(s); changed {
				a.Value = slog.StringValue(out)
			}
		}
	case slog.KindInt64, slog.KindUint64, slog.KindFloat64:
		if k != pii.Plain {
			a.Value = slog.StringValue(k.Mask(v.String()))
		}
	case slog.KindAny:
		a.Value = maskAny(k, v)
	default:
		// Bool, Duration, Time and Group carry no PII by themselves; groups
		// are not passed to ReplaceAttr, their members are.
		if k == pii.Secret {
			a.Value = slog.StringValue(pii.Redacted)
		}
	}
	return a
}

// maskAny masks a KindAny value. A panic in a method it calls (Error,
// MarshalJSON on a nil pointer) leaves the value to the handler, which
// reports it as slog does.
func maskAny(k pii.Kind, v slog.Value) (out slog.Value) {
	defer func() {
		if r := recover(); r != nil {
			out = v
			if k != pii.Plain {
				out = slog.StringValue(k.Mask(""))
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
		if out, changed, valid := pii.MaskJSONValid(raw); valid {
			if changed {
				return slog.AnyValue(json.RawMessage(out))
			}
			return v
		}
		if k != pii.Plain {
			return slog.StringValue(k.Mask(string(raw)))
		}
		return v
	}
	if bs, ok := byteSlice(x); ok {
		if out, changed, valid := pii.MaskJSONValid(bs); valid {
			if changed {
				return slog.AnyValue(out)
			}
			return v
		}
		if k != pii.Plain {
			return slog.StringValue(k.Mask(string(bs)))
		}
		if out, changed := pii.MaskEmbedded(string(bs)); changed {
			return slog.AnyValue([]byte(out))
		}
		return v
	}
	if k != pii.Plain {
		return slog.StringValue(k.Mask(fmt.Sprint(x)))
	}
	if err, ok := x.(error); ok {
		if msg := err.Error(); pii.MaskText(msg) != msg {
			return slog.StringValue(pii.MaskText(msg))
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
		if out, changed, _ := pii.MaskJSONValid(data); changed {
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

// MaskJSON masks PII keys in JSON; see pii.MaskJSON.
func MaskJSON(data []byte) []byte { return pii.MaskJSON(data) }

// MaskText masks PII in free text; see pii.MaskText.
func MaskText(s string) string { return pii.MaskText(s) }

// freeText are attribute keys whose values are prose that may quote a
// vendor or a command: they are masked by shape, not only by key.
var freeText = map[string]bool{"err": true, "error": true, "reason": true, "msg_detail": true, "vendor_message": true}
