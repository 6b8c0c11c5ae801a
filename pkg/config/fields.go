package config

import (
	"fmt"
	"iter"
	"reflect"
	"strconv"
)

// field is one tagged struct field.
type field struct {
	name       string // full variable name, prefixes applied
	def        string
	hasDefault bool
	required   bool
	usage      string
	value      reflect.Value
}

// fields yields the tagged fields of struct v in declaration order, walking
// nested and embedded structs. Malformed tags are appended to errs.
func fields(v reflect.Value, prefix string, errs *[]error) iter.Seq[field] {
	return func(yield func(field) bool) {
		walk(v, prefix, errs, yield)
	}
}

// walk implements fields; it returns false when yield asks to stop.
func walk(v reflect.Value, prefix string, errs *[]error, yield func(field) bool) bool {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		env, tagged := sf.Tag.Lookup("env")
		p, hasPrefix := sf.Tag.Lookup("envPrefix")
		fv := v.Field(i)
		if !tagged {
			if sf.Type.Kind() != reflect.Struct {
				if hasPrefix {
					*errs = append(*errs, tagError(sf.Name, "envPrefix on a non-struct field"))
				}
				continue
			}
			if !sf.IsExported() && !sf.Anonymous {
				continue
			}
			if !walk(fv, prefix+p, errs, yield) {
				return false
			}
			continue
		}
		name := prefix + env
		if env == "" {
			*errs = append(*errs, tagError(sf.Name, "empty env tag"))
			continue
		}
		if !sf.IsExported() {
			*errs = append(*errs, &Error{Setting: name, Err: fmt.Errorf("%w: field %s is unexported", ErrTag, sf.Name)})
			continue
		}
		f := field{name: name, value: fv, usage: sf.Tag.Get("usage")}
		f.def, f.hasDefault = sf.Tag.Lookup("default")
		if r, ok := sf.Tag.Lookup("required"); ok {
			req, err := strconv.ParseBool(r)
			if err != nil {
				*errs = append(*errs, &Error{Setting: name, Err: fmt.Errorf("%w: required tag %q is not a boolean", ErrTag, r)})
				continue
			}
			f.required = req
		}
		if !yield(f) {
			return false
		}
	}
	return true
}

// tagError reports a malformed field that has no variable name.
func tagError(field, problem string) error {
	return &Error{Setting: "field " + field, Err: fmt.Errorf("%w: %s", ErrTag, problem)}
}
