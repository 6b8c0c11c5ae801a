// Package schematest checks payloads against the contract's JSON Schemas in
// tests, so that what a service publishes is what the contract promises.
package schematest

import (
	"bytes"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Validate fails t unless data is valid against schema.
func Validate(t testing.TB, schema, data []byte) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("mem:///schema.json", doc); err != nil {
		t.Fatalf("add schema: %v", err)
	}
	s, err := c.Compile("mem:///schema.json")
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("payload is not JSON: %v\n%s", err, data)
	}
	if err := s.Validate(inst); err != nil {
		t.Errorf("payload does not match its schema: %v\n%s", err, data)
	}
}
