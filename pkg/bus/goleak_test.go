package bus_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if the runtime leaves a goroutine behind once every
// service of the tests has stopped.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
