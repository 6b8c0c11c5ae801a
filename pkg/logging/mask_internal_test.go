package logging

import (
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIsTerminal(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no /dev/null")
	}
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Skip(err)
	}
	defer devNull.Close()
	assert.True(t, isTerminal(devNull), "a character device counts as a terminal")

	r, w, err := os.Pipe()
	if err != nil {
		t.Skip(err)
	}
	defer r.Close()
	defer w.Close()
	assert.False(t, isTerminal(w))
	assert.False(t, isTerminal(nil))
	assert.False(t, isTerminal((*os.File)(nil)))
}

// panicky panics in every method fmt, json and errors call.
type panicky struct{ p *int }

func (p *panicky) Error() string                { return fmt.Sprint(*p.p) }
func (p *panicky) MarshalJSON() ([]byte, error) { return []byte(fmt.Sprint(*p.p)), nil }

func TestReplaceAttrSurvivesPanics(t *testing.T) {
	var nilErr *panicky
	for _, a := range []slog.Attr{
		slog.Any("err", nilErr),
		slog.Any("err", &panicky{}),
		slog.Any("list", []*panicky{{}}),
	} {
		assert.NotPanics(t, func() { ReplaceAttr(nil, a) })
	}
}
