package smartxtest

import (
	"net"
	"sync"
)

// deviceListener is a listener that can be switched off: while off, its
// socket is closed, so dialling the address is refused, and open
// connections are dropped. Switched on again, it listens on the same address.
type deviceListener struct {
	addr string

	mu     sync.Mutex
	ln     net.Listener // nil while off
	wake   chan struct{}
	closed bool
	conns  map[*headConn]struct{}
}

func newDeviceListener(addr string) (*deviceListener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &deviceListener{
		addr:  ln.Addr().String(),
		ln:    ln,
		wake:  make(chan struct{}),
		conns: map[*headConn]struct{}{},
	}, nil
}

// Accept waits for a connection, sleeping while the device is off.
func (l *deviceListener) Accept() (net.Conn, error) {
	for {
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			return nil, net.ErrClosed
		}
		ln, wake := l.ln, l.wake
		l.mu.Unlock()
		if ln == nil {
			<-wake
			continue
		}
		c, err := ln.Accept()
		l.mu.Lock()
		switched, closed := l.ln != ln, l.closed
		if err == nil && !switched && !closed {
			hc := &headConn{Conn: c, onClose: l.forget}
			l.conns[hc] = struct{}{}
			l.mu.Unlock()
			return hc, nil
		}
		l.mu.Unlock()
		if c != nil {
			c.Close()
		}
		switch {
		case closed:
			return nil, net.ErrClosed
		case switched:
			continue
		}
		return nil, err
	}
}

func (l *deviceListener) forget(c *headConn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
}

// off closes the socket and every open connection.
func (l *deviceListener) off() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln != nil {
		l.ln.Close()
		l.ln = nil
	}
	for c := range l.conns {
		c.Conn.Close()
		delete(l.conns, c)
	}
}

// on listens again on the same address.
func (l *deviceListener) on() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", l.addr)
	if err != nil {
		return err
	}
	l.ln = ln
	close(l.wake)
	l.wake = make(chan struct{})
	return nil
}

// Close stops listening for good.
func (l *deviceListener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	close(l.wake)
	if l.ln != nil {
		return l.ln.Close()
	}
	return nil
}

// Addr returns the listening address, also while off.
func (l *deviceListener) Addr() net.Addr {
	a, err := net.ResolveTCPAddr("tcp", l.addr)
	if err != nil {
		return &net.TCPAddr{}
	}
	return a
}
