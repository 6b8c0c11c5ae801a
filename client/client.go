package client

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/loyaltybus/loyaltybus/pkg/bus"
)

// Mode is a content mode of the CloudEvents NATS binding.
type Mode = bus.Mode

// Content modes of published commands. Services accept both (CONTRACT §3).
const (
	// Binary puts the attributes in ce- headers and the data in the payload (the default).
	Binary = bus.Binary
	// Structured puts the whole event, as JSON, in the payload.
	Structured = bus.Structured
)

// DefaultSource is the CloudEvent source of commands when WithSource is not
// given. Set a source that names the calling system.
const DefaultSource = "loyaltybus/client"

// Client publishes commands on a JetStream connection. It is safe for
// concurrent use; create it with New.
type Client struct {
	js       jetstream.JetStream
	source   string
	mode     Mode
	validate bool
	now      func() time.Time
}

// Option configures a Client.
type Option func(*Client) error

// WithSource sets the CloudEvent source of published commands: the calling
// system, e.g. "checkout" or "urn:pos:store-17" (default DefaultSource).
func WithSource(source string) Option {
	return func(c *Client) error {
		if source == "" {
			return errors.New("client: empty source")
		}
		c.source = source
		return nil
	}
}

// WithContentMode sets the content mode of published commands (default Binary).
func WithContentMode(m Mode) Option {
	return func(c *Client) error {
		if m != Binary && m != Structured {
			return fmt.Errorf("client: unknown content mode %d", m)
		}
		c.mode = m
		return nil
	}
}

// WithoutValidation publishes command data without checking it against the
// command's JSON Schema first. The services still validate it and reject what
// breaks the schema; this is for tests of exactly that.
func WithoutValidation() Option {
	return func(c *Client) error {
		c.validate = false
		return nil
	}
}

// WithClock sets the clock that stamps the CloudEvent time (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(c *Client) error {
		if now == nil {
			return errors.New("client: nil clock")
		}
		c.now = now
		return nil
	}
}

// New returns a Client publishing on js. The streams must exist: the
// services provision them at start-up (CONTRACT §2).
func New(js jetstream.JetStream, opts ...Option) (*Client, error) {
	if js == nil {
		return nil, errors.New("client: nil JetStream")
	}
	c := &Client{js: js, source: DefaultSource, mode: Binary, validate: true, now: time.Now}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// newID returns a UUIDv7: unique, and sortable by creation time.
func newID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("generate command id: %w", err)
	}
	return id.String(), nil
}
