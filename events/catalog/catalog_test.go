package catalog_test

import (
	"strings"
	"testing"

	"github.com/loyaltybus/loyaltybus/events/catalog"
)

// TestNamesFollowTheContract checks the naming rules of CONTRACT §4 and §6 for
// every command and change event, and that none is listed twice.
func TestNamesFollowTheContract(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range catalog.Commands() {
		tail, ok := strings.CutPrefix(c.Subject, "loyalty.cmd.")
		if !ok {
			t.Errorf("%s: subject %s not under loyalty.cmd.", c.Type, c.Subject)
		}
		if want := "loyalty." + tail + ".v1"; c.Type != want {
			t.Errorf("subject %s: type %s, want %s", c.Subject, c.Type, want)
		}
		if seen[c.Type] {
			t.Errorf("%s listed twice", c.Type)
		}
		seen[c.Type] = true
		if got, ok := catalog.CommandByType(c.Type); !ok || got.Subject != c.Subject {
			t.Errorf("CommandByType(%s) = %v, %v", c.Type, got.Subject, ok)
		}
		if got, ok := catalog.CommandBySubject(c.Subject); !ok || got.Type != c.Type {
			t.Errorf("CommandBySubject(%s) = %v, %v", c.Subject, got.Type, ok)
		}
	}
	for _, c := range catalog.Changes() {
		tail, ok := strings.CutPrefix(c.Subject, "loyalty.event.")
		if !ok {
			t.Errorf("%s: subject %s not under loyalty.event.", c.Type, c.Subject)
		}
		if want := "loyalty." + tail + ".v1"; c.Type != want {
			t.Errorf("subject %s: type %s, want %s", c.Subject, c.Type, want)
		}
		if seen[c.Type] {
			t.Errorf("%s listed twice", c.Type)
		}
		seen[c.Type] = true
	}
}
