package smartxtest

import (
	"errors"
	"net/http"
	"testing"
)

// Server is a Simulator listening on 127.0.0.1 with a random port. The
// Simulator's methods are available on it directly.
type Server struct {
	*Simulator
	// URL is the register's base URL, e.g. http://127.0.0.1:40123; use it as
	// smartx.Config.BaseURL.
	URL string

	ln   *deviceListener
	srv  *http.Server
	done chan struct{}
}

// Start runs a Simulator with opts on 127.0.0.1:0 until Close. It serves one
// request per connection so that the raw header keys of each request can be
// recorded.
func Start(opts Options) (*Server, error) {
	ln, err := newDeviceListener("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{
		Simulator: NewSimulator(opts),
		URL:       "http://" + ln.addr,
		ln:        ln,
		done:      make(chan struct{}),
	}
	s.srv = &http.Server{Handler: s.Simulator, ConnContext: connContext}
	s.srv.SetKeepAlivesEnabled(false)
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// NewServer starts a Server for the test t and closes it in t.Cleanup.
func NewServer(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("smartxtest: start server: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// DeviceOff switches the register off: the port stops listening, so new
// connections are refused, and open connections are dropped.
func (s *Server) DeviceOff() { s.ln.off() }

// DeviceOn switches the register on again at the same address. It fails if
// the port was taken meanwhile.
func (s *Server) DeviceOn() error {
	if err := s.ln.on(); err != nil {
		return errors.Join(errors.New("smartxtest: listen again"), err)
	}
	return nil
}

// Close stops the server and drops open connections.
func (s *Server) Close() {
	_ = s.srv.Close()
	<-s.done
}
