package journal

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRecentKeepsTheLatest(t *testing.T) {
	var log []int
	for i := 1; i <= 7; i++ {
		log = Append(log, i, 3)
		want := []int{max(1, i-2)}
		for v := want[0] + 1; v <= i; v++ {
			want = append(want, v)
		}
		assert.Equal(t, want, Recent(log, 3), "after %d appends", i)
		assert.Less(t, len(log), 6, "the log outgrew twice its bound")
	}
}

func TestZeroKeepsEverything(t *testing.T) {
	var log []int
	for i := 1; i <= 7; i++ {
		log = Append(log, i, 0)
	}
	assert.Equal(t, []int{1, 2, 3, 4, 5, 6, 7}, Recent(log, 0))
}
