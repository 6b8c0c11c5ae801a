package config

import (
	"encoding"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Setting describes one variable of a settings struct, for --help output and
// start-up logs.
type Setting struct {
	// Name is the environment variable; Name+"_FILE" is accepted too.
	Name string
	// Type is "string", "bool", "int", "uint8", "float64", "duration",
	// "list", "secret", or the Go type of a TextUnmarshaler ("slog.Level").
	Type string
	// Default is the default tag ("[redacted]" for a Secret with one).
	Default string
	// Required is the required tag.
	Required bool
	// Secret is true for Secret fields.
	Secret bool
	// Usage is the usage tag.
	Usage string
	// Value is the field's current value as text; for a Secret, "" when
	// empty and "[redacted]" otherwise.
	Value string
}

// Describe lists the settings of src, a struct or pointer to struct declared
// for Load, in field order. Pass the struct after Load to show current
// values. Malformed fields are skipped (Load reports them); src of any other
// type yields nil.
func Describe(src any) []Setting {
	rv := reflect.ValueOf(src)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return nil
	}
	var out []Setting
	var ignored []error
	for f := range fields(rv, "", &ignored) {
		t := f.value.Type()
		s := Setting{
			Name:     f.name,
			Type:     typeName(t),
			Default:  f.def,
			Required: f.required,
			Secret:   t == secretType,
			Usage:    f.usage,
			Value:    text(f.value),
		}
		if s.Secret && s.Default != "" {
			s.Default = Redacted
		}
		out = append(out, s)
	}
	return out
}

// typeName names t for Setting.Type.
func typeName(t reflect.Type) string {
	switch {
	case t == secretType:
		return "secret"
	case t == durationType:
		return "duration"
	case reflect.PointerTo(t).Implements(unmarshaler):
		return t.String()
	case t.Kind() == reflect.Slice:
		return "list"
	}
	return t.Kind().String()
}

// text renders a field's current value; Secrets are redacted.
func text(v reflect.Value) string {
	t := v.Type()
	switch {
	case t == secretType:
		if v.String() == "" {
			return ""
		}
		return Redacted
	case t == durationType:
		return time.Duration(v.Int()).String()
	case t.Implements(marshaler):
		b, err := v.Interface().(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return fmt.Sprint(v.Interface())
		}
		return string(b)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		items := make([]string, v.Len())
		for i := range items {
			items[i] = v.Index(i).String()
		}
		return strings.Join(items, ",")
	}
	return fmt.Sprint(v.Interface())
}
