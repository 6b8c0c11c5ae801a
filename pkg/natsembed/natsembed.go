// Package natsembed runs a NATS server with JetStream inside the current process.
//
// It backs the all-in-one binary and the tests, and is the only package of the
// project that imports nats-server, so services never depend on it.
package natsembed

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Config describes an embedded server. The zero value is a server on a random
// loopback port with JetStream in a temporary directory chosen by nats-server.
type Config struct {
	// Host to listen on; default 127.0.0.1 so the embedded server is never exposed by accident.
	Host string
	// Port to listen on; 0 picks a free port (server.RANDOM_PORT).
	Port int
	// StoreDir is where JetStream keeps its file store. Empty uses a temporary directory.
	StoreDir string
	// ServerName names the server in advisories and logs (default "loyaltybus").
	ServerName string
	// ReadyTimeout bounds the wait for the server to accept connections (default 10s).
	ReadyTimeout time.Duration
	// Logger, when set, receives the server's notices and errors.
	Logger *slog.Logger
}

// Server is a running embedded NATS server.
type Server struct {
	ns *server.Server
}

// Start starts a server described by cfg and waits until it accepts connections.
func Start(cfg Config) (*Server, error) {
	opts := &server.Options{
		ServerName: cfg.ServerName,
		Host:       cfg.Host,
		Port:       cfg.Port,
		JetStream:  true,
		StoreDir:   cfg.StoreDir,
		NoSigs:     true,
		NoLog:      cfg.Logger == nil,
	}
	if opts.ServerName == "" {
		opts.ServerName = "loyaltybus"
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if opts.Port == 0 {
		opts.Port = server.RANDOM_PORT
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("configure embedded nats server: %w", err)
	}
	if cfg.Logger != nil {
		ns.SetLoggerV2(&logAdapter{l: cfg.Logger}, false, false, false)
	}
	go ns.Start()
	wait := cfg.ReadyTimeout
	if wait <= 0 {
		wait = 10 * time.Second
	}
	if !ns.ReadyForConnections(wait) {
		ns.Shutdown()
		return nil, errors.New("embedded nats server not ready in time")
	}
	return &Server{ns: ns}, nil
}

// ClientURL is the URL clients connect to.
func (s *Server) ClientURL() string { return s.ns.ClientURL() }

// StoreDir is the JetStream storage directory in use.
func (s *Server) StoreDir() string { return s.ns.StoreDir() }

// Shutdown stops the server and waits for it to finish.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// logAdapter forwards nats-server logs to slog.
type logAdapter struct{ l *slog.Logger }

func (a *logAdapter) Noticef(format string, v ...any) { a.l.Debug(fmt.Sprintf(format, v...)) }
func (a *logAdapter) Warnf(format string, v ...any)   { a.l.Warn(fmt.Sprintf(format, v...)) }
func (a *logAdapter) Fatalf(format string, v ...any)  { a.l.Error(fmt.Sprintf(format, v...)) }
func (a *logAdapter) Errorf(format string, v ...any)  { a.l.Error(fmt.Sprintf(format, v...)) }
func (a *logAdapter) Debugf(format string, v ...any)  { a.l.Debug(fmt.Sprintf(format, v...)) }
func (a *logAdapter) Tracef(format string, v ...any)  {}
