package chaos

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Node is one nats-server process with JetStream, on 127.0.0.1. It keeps its
// ports and store across restarts.
type Node struct {
	Name        string
	Port        int
	ClusterPort int
	StoreDir    string

	conf string
	bin  string
	logs string
	proc *Process
}

// Broker is a single nats-server or a cluster of them.
type Broker struct {
	Nodes []*Node
}

// freePorts reserves n free loopback ports. The ports are released before
// use, so another process could take one in between; on the loopback of a
// test machine that is rare, and a failed start says so.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	ports := make([]int, n)
	for i := range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("reserve port: %w", err)
		}
		ls = append(ls, l)
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

// StartBroker starts size nats-server processes (1, or 3 for a cluster with
// routes between them) and waits until JetStream answers.
func StartBroker(ctx context.Context, bin, dir string, size int) (*Broker, error) {
	ports, err := freePorts(2 * size)
	if err != nil {
		return nil, err
	}
	b := &Broker{}
	for i := range size {
		n := &Node{
			Name: fmt.Sprintf("n%d", i+1), Port: ports[2*i], ClusterPort: ports[2*i+1],
			StoreDir: filepath.Join(dir, fmt.Sprintf("n%d", i+1)), bin: bin, logs: dir,
		}
		n.conf = filepath.Join(dir, n.Name+".conf")
		var routes []string
		for j := range size {
			if j != i {
				routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", ports[2*j+1]))
			}
		}
		conf := fmt.Sprintf("server_name: %s\nlisten: 127.0.0.1:%d\njetstream {\n  store_dir: %q\n}\n", n.Name, n.Port, n.StoreDir)
		if size > 1 {
			conf += fmt.Sprintf("cluster {\n  name: chaos\n  listen: 127.0.0.1:%d\n  routes: [%s]\n}\n", n.ClusterPort, strings.Join(routes, ", "))
		}
		if err := os.WriteFile(n.conf, []byte(conf), 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", n.conf, err)
		}
		b.Nodes = append(b.Nodes, n)
	}
	for _, n := range b.Nodes {
		if err := n.Start(ctx); err != nil {
			b.Close()
			return nil, err
		}
	}
	if err := b.WaitReady(ctx, 30*time.Second); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// Start starts the node's process (again, after Kill or Stop).
func (n *Node) Start(ctx context.Context) error {
	p, err := StartProcess(ctx, ProcSpec{Name: "nats-" + n.Name, Bin: n.bin, Args: []string{"-c", n.conf}, LogDir: n.logs})
	if err != nil {
		return err
	}
	n.proc = p
	return nil
}

// Proc is the node's current process.
func (n *Node) Proc() *Process { return n.proc }

// URL is the node's client URL.
func (n *Node) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.Port) }

// URLs is the comma-separated client URLs of every node.
func (b *Broker) URLs() string {
	urls := make([]string, len(b.Nodes))
	for i, n := range b.Nodes {
		urls[i] = n.URL()
	}
	return strings.Join(urls, ",")
}

// Node returns the node named name.
func (b *Broker) Node(name string) (*Node, error) {
	for _, n := range b.Nodes {
		if n.Name == name {
			return n, nil
		}
	}
	return nil, fmt.Errorf("no node %q", name)
}

// Close kills every node.
func (b *Broker) Close() {
	for _, n := range b.Nodes {
		if n.proc != nil {
			n.proc.Kill()
		}
	}
}

// WaitReady waits until JetStream answers account requests through a fresh
// connection to every node.
func (b *Broker) WaitReady(ctx context.Context, within time.Duration) error {
	return poll(ctx, within, 50*time.Millisecond, "JetStream ready", func() (bool, error) {
		nc, err := nats.Connect(b.URLs(), nats.Timeout(time.Second))
		if err != nil {
			return false, nil
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			return false, nil
		}
		actx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err = js.AccountInfo(actx)
		return err == nil, nil
	})
}

// poll calls cond every interval until it reports true, fails, or within
// passes.
func poll(ctx context.Context, within, interval time.Duration, what string, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		ok, err := cond()
		if err != nil {
			return fmt.Errorf("wait for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w", what, ctx.Err())
		case <-t.C:
		}
	}
}
