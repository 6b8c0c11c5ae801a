package bus

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// maxIDLen and validID implement the command id rule: 1–64 characters of
// A-Z a-z 0-9 . _ : - (CONTRACT §3).
const maxIDLen = 64

func validID(id string) bool {
	if len(id) == 0 || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

// schemaValidator validates command data against a compiled JSON Schema.
type schemaValidator struct {
	schema *jsonschema.Schema
}

var printer = message.NewPrinter(language.English)

func compileSchema(name string, schema []byte) (*schemaValidator, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	c := jsonschema.NewCompiler()
	url := "mem:///" + name + ".json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compile schema %s: %w", name, err)
	}
	return &schemaValidator{schema: s}, nil
}

// parseData reads command data the way the validator wants it (numbers kept
// exact); the runtime parses it once for the partition key and validation.
func parseData(data []byte) (any, error) {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, &RejectionError{Field: "data", Rule: "must be a JSON document: " + err.Error()}
	}
	return inst, nil
}

// validate returns a *RejectionError naming the first failing field and rule.
func (v *schemaValidator) validate(data []byte) error {
	inst, err := parseData(data)
	if err != nil {
		return err
	}
	return v.validateInstance(inst)
}

// validateInstance validates data already parsed by parseData.
func (v *schemaValidator) validateInstance(inst any) error {
	err := v.schema.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return &RejectionError{Field: "data", Rule: err.Error()}
	}
	leaves := leafErrors(ve, nil)
	sort.SliceStable(leaves, func(i, j int) bool { return leaves[i].Field < leaves[j].Field })
	rules := make([]string, 0, len(leaves))
	for _, l := range leaves {
		rules = append(rules, l.Error())
	}
	first := leaves[0]
	if len(leaves) > 1 {
		first.Rule = first.Rule + " (also: " + strings.Join(rules[1:], "; ") + ")"
	}
	return first
}

func leafErrors(ve *jsonschema.ValidationError, out []*RejectionError) []*RejectionError {
	if len(ve.Causes) == 0 {
		field := "data"
		if len(ve.InstanceLocation) > 0 {
			field = "data." + strings.Join(ve.InstanceLocation, ".")
		}
		if req, ok := ve.ErrorKind.(*kind.Required); ok {
			for _, m := range req.Missing {
				out = append(out, &RejectionError{Field: field + "." + m, Rule: "is required"})
			}
			return out
		}
		return append(out, &RejectionError{Field: field, Rule: rule(ve.ErrorKind)})
	}
	for _, c := range ve.Causes {
		out = leafErrors(c, out)
	}
	return out
}

// rule phrases common schema failures the way a publisher reads them; the
// validator's own wording is kept for the rest.
func rule(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.ExclusiveMinimum:
		return fmt.Sprintf("must be greater than %s (got %s)", k.Want.RatString(), k.Got.RatString())
	case *kind.Minimum:
		return fmt.Sprintf("must be at least %s (got %s)", k.Want.RatString(), k.Got.RatString())
	case *kind.Maximum:
		return fmt.Sprintf("must be at most %s (got %s)", k.Want.RatString(), k.Got.RatString())
	case *kind.MaxLength:
		return fmt.Sprintf("must be at most %d characters long (got %d)", k.Want, k.Got)
	case *kind.MinLength:
		return fmt.Sprintf("must be at least %d characters long (got %d)", k.Want, k.Got)
	case *kind.Pattern:
		return fmt.Sprintf("must match %s", k.Want)
	}
	return k.LocalizedString(printer)
}
