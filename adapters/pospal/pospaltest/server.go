package pospaltest

import (
	"net/http/httptest"
	"testing"

	"github.com/loyaltybus/loyaltybus/adapters/pospal"
)

// Server is a Simulator listening on 127.0.0.1 on a random port.
type Server struct {
	*Simulator
	// URL is the base URL to put in pospal.Config.BaseURL, e.g.
	// http://127.0.0.1:41234.
	URL string

	srv *httptest.Server
}

// NewServer starts a Server for the test and closes it in t.Cleanup.
func NewServer(t testing.TB, opts Options) *Server {
	t.Helper()
	s := Start(opts)
	t.Cleanup(s.Close)
	return s
}

// Start starts a Server without a test; the caller must Close it.
func Start(opts Options) *Server {
	sim := NewSimulator(opts)
	srv := httptest.NewServer(sim)
	return &Server{Simulator: sim, URL: srv.URL, srv: srv}
}

// Close shuts the server down, waiting for running requests.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Config returns a client configuration for the server's default account,
// with the simulator's clock.
func (s *Server) Config() pospal.Config {
	return pospal.Config{
		BaseURL: s.URL,
		AppID:   s.opts.AppID,
		AppKey:  s.opts.AppKey,
		Now:     s.opts.Now,
	}
}
