package smartxtest

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
)

// maxHead bounds the request head kept per connection.
const maxHead = 64 << 10

// headConn records the bytes of the first request head read from a
// connection. The Server disables keep-alives, so a connection carries
// exactly one request and its head is the one being handled.
type headConn struct {
	net.Conn
	onClose func(*headConn)

	mu   sync.Mutex
	head []byte
	done bool
}

// Read reads from the connection and keeps the head bytes.
func (c *headConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		if !c.done {
			c.head = append(c.head, p[:n]...)
			if i := bytes.Index(c.head, []byte("\r\n\r\n")); i >= 0 {
				c.head, c.done = c.head[:i], true
			} else if len(c.head) > maxHead {
				c.head, c.done = nil, true
			}
		}
		c.mu.Unlock()
	}
	return n, err
}

// Close closes the connection and tells the listener.
func (c *headConn) Close() error {
	if c.onClose != nil {
		c.onClose(c)
	}
	return c.Conn.Close()
}

// headerKeys returns the header field names of the recorded head, in the
// case the client sent them, or nil if the head is incomplete.
func (c *headConn) headerKeys() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.done || c.head == nil {
		return nil
	}
	lines := strings.Split(string(c.head), "\r\n")
	keys := make([]string, 0, len(lines))
	for _, l := range lines[1:] { // lines[0] is the request line
		if k, _, ok := strings.Cut(l, ":"); ok {
			keys = append(keys, k)
		}
	}
	return keys
}

type headConnKey struct{}

// connContext makes the connection's head recorder available to handlers.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if hc, ok := c.(*headConn); ok {
		return context.WithValue(ctx, headConnKey{}, hc)
	}
	return ctx
}

// rawHeaderKeys returns the header names of r as sent, or nil when the
// request did not come through a Server.
func rawHeaderKeys(r *http.Request) []string {
	hc, ok := r.Context().Value(headConnKey{}).(*headConn)
	if !ok {
		return nil
	}
	return hc.headerKeys()
}
