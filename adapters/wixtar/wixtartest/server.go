package wixtartest

import (
	"net"
	"net/http"
	"testing"
)

// Server is a Simulator listening on 127.0.0.1 with a random port. The
// Simulator's methods are available on it directly.
type Server struct {
	*Simulator
	// URL is the API base URL (wixtar.Config.BaseURL).
	URL string
	// TokenURL is the token endpoint (wixtar.Config.TokenURL).
	TokenURL string

	srv  *http.Server
	done chan struct{}
}

// Start runs a Simulator with opts on 127.0.0.1:0 until Close.
func Start(opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	url := "http://" + ln.Addr().String()
	s := &Server{
		Simulator: NewSimulator(opts),
		URL:       url,
		TokenURL:  url + PathToken,
		done:      make(chan struct{}),
	}
	s.srv = &http.Server{Handler: s.Simulator}
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
		t.Fatalf("wixtartest: start server: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Close stops the server and drops open connections.
func (s *Server) Close() {
	_ = s.srv.Close()
	<-s.done
}
