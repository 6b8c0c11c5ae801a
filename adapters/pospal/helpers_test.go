package pospal_test

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/pospal"
	"github.com/loyaltybus/loyaltybus/adapters/pospal/pospaltest"
)

// clock is a settable time source shared by client and simulator.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newClient returns a client of srv's default account; mod may change the
// configuration first.
func newClient(t testing.TB, srv *pospaltest.Server, mod func(*pospal.Config)) *pospal.Client {
	t.Helper()
	cfg := srv.Config()
	cfg.Timeout = 5 * time.Second
	if mod != nil {
		mod(&cfg)
	}
	c, err := pospal.New(cfg)
	require.NoError(t, err)
	return c
}

// classified is what every error of the package implements.
type classified interface {
	error
	Temporary() bool
	RetryAfter() time.Duration
	VendorDetail() (vendor string, httpStatus int, code, message string)
}

// requireClassified asserts err implements the classification methods and
// returns it.
func requireClassified(t testing.TB, err error) classified {
	t.Helper()
	require.Error(t, err)
	c, ok := err.(classified)
	require.Truef(t, ok, "%T does not classify itself", err)
	return c
}

// recorder remembers whether answers were decompressed by the Transport.
type recorder struct {
	mu           sync.Mutex
	uncompressed []bool
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil {
		r.mu.Lock()
		r.uncompressed = append(r.uncompressed, resp.Uncompressed)
		r.mu.Unlock()
	}
	return resp, err
}

// shanghai builds a time in Asia/Shanghai.
func shanghai(y int, m time.Month, d, hh, mm, ss int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, 0, pospal.Shanghai)
}

// bytesReader returns a reader of b.
func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// readAll reads an answer's body.
func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}
