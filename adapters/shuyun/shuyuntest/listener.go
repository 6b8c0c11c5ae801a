package shuyuntest

import (
	"bytes"
	"net"
	"net/http"
	"strings"
	"sync"
)

// maxRawBuffer bounds the bytes kept per connection while looking for header blocks.
const maxRawBuffer = 1 << 20

// WrapListener returns a listener whose connections let the simulator record request header
// keys as the client spelled them (Call.RawHeaderCase). Serve the Simulator on the returned
// listener; NewServer does this. It works for HTTP/1.x without TLS.
func (s *Simulator) WrapListener(l net.Listener) net.Listener {
	return &rawListener{Listener: l, capture: &s.raw}
}

// rawCapture keeps, per remote address, the bytes read from wrapped connections.
type rawCapture struct {
	mu    sync.Mutex
	conns map[string]*rawConn
}

func (rc *rawCapture) add(c *rawConn) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.conns == nil {
		rc.conns = map[string]*rawConn{}
	}
	rc.conns[c.RemoteAddr().String()] = c
}

func (rc *rawCapture) remove(c *rawConn) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.conns[c.RemoteAddr().String()] == c {
		delete(rc.conns, c.RemoteAddr().String())
	}
}

// header returns the headers of r with the client's key spelling, if r came through a
// wrapped connection and its header block is found.
func (rc *rawCapture) header(r *http.Request) (http.Header, bool) {
	rc.mu.Lock()
	c := rc.conns[r.RemoteAddr]
	rc.mu.Unlock()
	if c == nil {
		return nil, false
	}
	return c.takeHeader(r.Method + " " + r.RequestURI + " HTTP/")
}

type rawListener struct {
	net.Listener
	capture *rawCapture
}

func (l *rawListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	rc := &rawConn{Conn: c, capture: l.capture}
	l.capture.add(rc)
	return rc, nil
}

// rawConn records what it reads. HTTP/1.x requests on one connection are handled one after
// another, so the first request line still in the buffer belongs to the current request.
type rawConn struct {
	net.Conn
	capture *rawCapture
	mu      sync.Mutex
	buf     []byte
}

func (c *rawConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		c.buf = append(c.buf, p[:n]...)
		if len(c.buf) > maxRawBuffer {
			c.buf = append([]byte(nil), c.buf[len(c.buf)-maxRawBuffer:]...)
		}
		c.mu.Unlock()
	}
	return n, err
}

func (c *rawConn) Close() error {
	c.capture.remove(c)
	return c.Conn.Close()
}

// takeHeader finds the header block after requestLine, parses it keeping key spelling, and
// discards the buffer up to its end.
func (c *rawConn) takeHeader(requestLine string) (http.Header, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	start := bytes.Index(c.buf, []byte(requestLine))
	if start < 0 {
		return nil, false
	}
	rest := c.buf[start:]
	end := bytes.Index(rest, []byte("\r\n\r\n"))
	if end < 0 {
		return nil, false
	}
	block := string(rest[:end])
	c.buf = append(c.buf[:0], rest[end+4:]...)
	h := http.Header{}
	lines := strings.Split(block, "\r\n")
	for _, line := range lines[1:] {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		h[k] = append(h[k], strings.TrimSpace(v))
	}
	return h, true
}
