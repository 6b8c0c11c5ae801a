// Package config fills a settings struct from environment variables, driven
// by struct tags. It holds the mechanism only; each binary declares its own
// settings struct in main, which is the only place that reads them.
//
//	type Settings struct {
//		NATSURL  string        `env:"LOYALTY_NATS_URL" usage:"external NATS; unset: embedded"`
//		Replicas int           `env:"LOYALTY_STREAM_REPLICAS" default:"1"`
//		Timeout  time.Duration `env:"LOYALTY_SHUYUN_TIMEOUT" default:"10s"`
//		Shuyun   struct {
//			URL          string `env:"URL" required:"true"`
//			ClientSecret Secret `env:"CLIENT_SECRET" required:"true"`
//		} `envPrefix:"LOYALTY_SHUYUN_"`
//	}
//
// Tags:
//   - env:"NAME" names the variable (prefixed by every enclosing envPrefix).
//     Fields without it are ignored, except structs, which are walked.
//   - default:"v" is used when the variable is unset or empty.
//   - required:"true" makes an unset variable with no default an error.
//   - usage:"text" is a description for Describe.
//   - envPrefix:"P_" on a struct field prefixes the names inside it.
//
// Field types: string, bool, all int and uint sizes, float32/64,
// time.Duration, []string (comma-separated, blanks trimmed, empty items
// dropped), Secret, and any type whose pointer implements
// encoding.TextUnmarshaler (slog.Level, netip.Addr, …).
//
// Every setting may instead be read from a file: if NAME_FILE is set, the
// value is the file's content with trailing newlines removed (the Docker and
// Kubernetes secrets convention). Setting both NAME and NAME_FILE is an
// error.
//
// Values of Secret fields never appear in errors or in Describe.
package config

import (
	"encoding"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// FileSuffix is appended to a variable name to read its value from a file.
const FileSuffix = "_FILE"

var (
	secretType   = reflect.TypeFor[Secret]()
	durationType = reflect.TypeFor[time.Duration]()
	unmarshaler  = reflect.TypeFor[encoding.TextUnmarshaler]()
	marshaler    = reflect.TypeFor[encoding.TextMarshaler]()
)

// Load sets the tagged fields of the struct dst points to from getenv
// (os.Getenv in main, a map lookup in tests) and from NAME_FILE files.
// A variable that is unset or empty takes its default tag; with no default
// the field keeps the value it had, so callers may pre-fill dst.
//
// Load checks every field and returns all problems at once, joined with
// errors.Join; each is an *Error naming the variable and matching
// ErrRequired, ErrInvalid, ErrFile,
// ErrAmbiguous or ErrTag. Fields may be partly set when
// Load returns an error. dst must be a non-nil pointer to a struct.
func Load(dst any, getenv func(string) string) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("config: Load wants a non-nil pointer to a struct, got %T: %w", dst, ErrTag)
	}
	if getenv == nil {
		return fmt.Errorf("config: Load needs a getenv function: %w", ErrTag)
	}
	var errs []error
	for f := range fields(rv.Elem(), "", &errs) {
		if err := load(f, getenv); err != nil {
			errs = append(errs, &Error{Setting: f.name, Err: err})
		}
	}
	return errors.Join(errs...)
}

// load sets one field.
func load(f field, getenv func(string) string) error {
	raw, err := lookup(f.name, getenv)
	if err != nil {
		return err
	}
	isDef := false
	if raw == "" {
		switch {
		case f.hasDefault:
			raw, isDef = f.def, true
		case f.required:
			return ErrRequired
		default:
			return nil
		}
	}
	return set(f.value, raw, isDef)
}

// lookup returns the value of name, from NAME_FILE if that is set.
func lookup(name string, getenv func(string) string) (string, error) {
	v := getenv(name)
	path := getenv(name + FileSuffix)
	if path == "" {
		return v, nil
	}
	if v != "" {
		return "", fmt.Errorf("%w: both %s and %s%s are set", ErrAmbiguous, name, name, FileSuffix)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		// err names the path and the reason, never the content.
		return "", fmt.Errorf("%w %s%s: %w", ErrFile, name, FileSuffix, err)
	}
	return strings.TrimRight(string(data), "\r\n"), nil
}

// set parses raw into v according to v's type.
func set(v reflect.Value, raw string, isDef bool) error {
	t := v.Type()
	bad := func(want string, detail string) error {
		return &invalidError{want: want, got: raw, hidden: t == secretType, detail: detail, isDef: isDef}
	}
	switch {
	case t == secretType:
		v.SetString(raw)
		return nil
	case t == durationType:
		d, err := time.ParseDuration(strings.TrimSpace(raw))
		if err != nil {
			return bad("a duration such as 500ms, 30s or 5m", "")
		}
		v.SetInt(int64(d))
		return nil
	case reflect.PointerTo(t).Implements(unmarshaler):
		u := v.Addr().Interface().(encoding.TextUnmarshaler)
		if err := u.UnmarshalText([]byte(strings.TrimSpace(raw))); err != nil {
			return bad("a "+t.String(), err.Error())
		}
		return nil
	}
	s := strings.TrimSpace(raw)
	switch t.Kind() {
	case reflect.String:
		v.SetString(raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return bad("a boolean (true or false)", "")
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, t.Bits())
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return bad(fmt.Sprintf("an integer that fits in %s", t.Kind()), "")
			}
			return bad("an integer", "")
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, t.Bits())
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return bad(fmt.Sprintf("a non-negative integer that fits in %s", t.Kind()), "")
			}
			return bad("a non-negative integer", "")
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		x, err := strconv.ParseFloat(s, t.Bits())
		if err != nil {
			return bad("a number", "")
		}
		v.SetFloat(x)
	case reflect.Slice:
		if t.Elem().Kind() != reflect.String {
			return fmt.Errorf("%w: unsupported field type %s", ErrTag, t)
		}
		items := splitList(raw)
		sl := reflect.MakeSlice(t, len(items), len(items))
		for i, item := range items {
			sl.Index(i).SetString(item)
		}
		v.Set(sl)
	default:
		return fmt.Errorf("%w: unsupported field type %s", ErrTag, t)
	}
	return nil
}

// splitList splits a comma-separated list, trimming blanks and dropping
// empty items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
