package bus

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
)

// Mode is a content mode of the CloudEvents NATS binding.
type Mode int

const (
	// Binary puts attributes in ce- headers and data in the payload.
	Binary Mode = iota
	// Structured puts the whole event, as JSON, in the payload.
	Structured
)

// String names the mode as configuration spells it.
func (m Mode) String() string {
	if m == Structured {
		return "structured"
	}
	return "binary"
}

// ParseMode reads "binary" or "structured" (any case; empty is binary).
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(s) {
	case "", "binary":
		return Binary, nil
	case "structured":
		return Structured, nil
	}
	return Binary, fmt.Errorf("content mode %q: want binary or structured", s)
}

const (
	headerContentType = "Content-Type"
	headerPrefix      = "ce-"
	contentTypeCE     = "application/cloudevents"
	contentTypeCEJSON = "application/cloudevents+json"
)

// Decode reads a CloudEvent from NATS message headers and payload following
// the NATS binding (1.0.3 draft): a Content-Type starting with
// application/cloudevents (any case) is structured; otherwise a ce-specversion
// header means binary; a message with neither is tried as structured JSON,
// as older structured-only publishers send it.
//
// The returned event is not validated beyond what decoding needs; callers
// check the attributes they rely on. Decode never panics on any input.
func Decode(h nats.Header, payload []byte) (*event.Event, Mode, error) {
	ct := headerValue(h, headerContentType)
	if hasPrefixFold(ct, contentTypeCE) {
		ev, err := decodeStructured(payload)
		return ev, Structured, err
	}
	if headerValue(h, headerPrefix+"specversion") != "" {
		ev, err := decodeBinary(h, payload)
		return ev, Binary, err
	}
	ev, err := decodeStructured(payload)
	return ev, Structured, err
}

func decodeStructured(payload []byte) (*event.Event, error) {
	if len(payload) == 0 {
		return nil, errors.New("empty payload: not a CloudEvent")
	}
	ev := event.New()
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("structured CloudEvent: %w", err)
	}
	return &ev, nil
}

func decodeBinary(h nats.Header, payload []byte) (*event.Event, error) {
	ev := event.New(headerValue(h, headerPrefix+"specversion"))
	var errs []error
	for k, vs := range h {
		if len(vs) == 0 || len(k) <= len(headerPrefix) || !hasPrefixFold(k, headerPrefix) {
			continue
		}
		name := strings.ToLower(k[len(headerPrefix):])
		v, err := percentDecode(vs[0])
		if err != nil {
			errs = append(errs, fmt.Errorf("header %s: %w", k, err))
			continue
		}
		switch name {
		case "specversion":
		case "id":
			ev.SetID(v)
		case "source":
			ev.SetSource(v)
		case "type":
			ev.SetType(v)
		case "subject":
			ev.SetSubject(v)
		case "dataschema":
			ev.SetDataSchema(v)
		case "time":
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				errs = append(errs, fmt.Errorf("header %s: %w", k, err))
				continue
			}
			ev.SetTime(t)
		default:
			if err := ev.Context.SetExtension(name, v); err != nil {
				errs = append(errs, fmt.Errorf("header %s: %w", k, err))
			}
		}
	}
	if ct := headerValue(h, headerContentType); ct != "" {
		ev.SetDataContentType(ct)
	}
	if len(payload) > 0 {
		ev.DataEncoded = payload
	}
	if err := errors.Join(errs...); err != nil {
		return &ev, fmt.Errorf("binary CloudEvent: %w", err)
	}
	return &ev, nil
}

// Encode writes ev into a NATS message in the given mode. The message id
// header (Nats-Msg-Id) is set to the event id so JetStream de-duplicates
// republished outputs.
func Encode(subject string, ev *event.Event, mode Mode) (*nats.Msg, error) {
	m := nats.NewMsg(subject)
	m.Header.Set(nats.MsgIdHdr, ev.ID())
	if mode == Structured {
		b, err := json.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("encode structured event %s: %w", ev.ID(), err)
		}
		m.Header.Set(headerContentType, contentTypeCEJSON)
		m.Data = b
		return m, nil
	}
	m.Header.Set(headerPrefix+"specversion", ev.SpecVersion())
	m.Header.Set(headerPrefix+"id", percentEncode(ev.ID()))
	m.Header.Set(headerPrefix+"source", percentEncode(ev.Source()))
	m.Header.Set(headerPrefix+"type", percentEncode(ev.Type()))
	if s := ev.Subject(); s != "" {
		m.Header.Set(headerPrefix+"subject", percentEncode(s))
	}
	if s := ev.DataSchema(); s != "" {
		m.Header.Set(headerPrefix+"dataschema", percentEncode(s))
	}
	if t := ev.Time(); !t.IsZero() {
		m.Header.Set(headerPrefix+"time", t.Format(time.RFC3339Nano))
	}
	for name, v := range ev.Extensions() {
		s, err := extensionString(v)
		if err != nil {
			return nil, fmt.Errorf("encode extension %s of event %s: %w", name, ev.ID(), err)
		}
		m.Header.Set(headerPrefix+name, percentEncode(s))
	}
	if ct := ev.DataContentType(); ct != "" {
		m.Header.Set(headerContentType, ct)
	}
	m.Data = ev.Data()
	return m, nil
}

func extensionString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case fmt.Stringer:
		return x.String(), nil
	case time.Time:
		return x.Format(time.RFC3339Nano), nil
	case int32, bool:
		return fmt.Sprint(x), nil
	}
	return "", fmt.Errorf("unsupported extension value %T", v)
}

// headerValue finds a header by case-insensitive name: the binding says header
// names are matched case-insensitively, while nats.Header is a plain map.
func headerValue(h nats.Header, name string) string {
	if vs := h[name]; len(vs) > 0 {
		return vs[0]
	}
	for k, vs := range h {
		if len(vs) > 0 && strings.EqualFold(k, name) {
			return vs[0]
		}
	}
	return ""
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// percentEncode applies the binding's header value encoding: space, double
// quote, percent and every byte outside printable ASCII become %XX of their
// UTF-8 bytes, so Chinese and Cyrillic text survives header transport.
func percentEncode(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if needsEscape(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if needsEscape(c) {
			b = append(b, '%', hex[c>>4], hex[c&15])
			continue
		}
		b = append(b, c)
	}
	return string(b)
}

func needsEscape(c byte) bool {
	return c <= ' ' || c >= 0x7f || c == '"' || c == '%'
}

// percentDecode reverses percentEncode; the result must be valid UTF-8.
func percentDecode(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("truncated percent escape in %q", s)
		}
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", fmt.Errorf("bad percent escape in %q", s)
		}
		b = append(b, hi<<4|lo)
		i += 2
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("percent-decoded value is not UTF-8")
	}
	return string(b), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
