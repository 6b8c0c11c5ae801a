package shuyuntest

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// Server is a Simulator served over HTTP on 127.0.0.1 for one test.
type Server struct {
	*Simulator
	// URL is the base URL to configure the client with, including Options.PathPrefix.
	URL string

	ts *httptest.Server
}

// NewServer starts a Simulator configured by opts (at most one; none means the zero Options)
// on 127.0.0.1 with a random port, records raw header spelling, and closes it when t ends.
func NewServer(t testing.TB, opts ...Options) *Server {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if len(opts) > 1 {
		t.Fatalf("shuyuntest.NewServer: got %d Options, want at most one", len(opts))
	}
	sim := NewSimulator(o)
	ts := httptest.NewUnstartedServer(sim)
	ts.Listener = sim.WrapListener(ts.Listener)
	ts.Start()
	t.Cleanup(ts.Close)
	return &Server{Simulator: sim, URL: ts.URL + sim.opts.PathPrefix, ts: ts}
}

// Client returns an HTTP client for the server whose connections are closed with it.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Close shuts the server down; it is also done when the test ends.
func (s *Server) Close() { s.ts.Close() }
