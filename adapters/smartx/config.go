package smartx

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// DefaultTimeout bounds each HTTP request to the register when
// Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Config configures a Client for one cash register.
type Config struct {
	// Name identifies the register among several configured ones. It appears
	// in error messages. Optional.
	Name string
	// BaseURL is the register's root URL, e.g. http://192.168.1.2:37015,
	// including any path prefix. The client appends /v1. Required.
	BaseURL string
	// PIN is the cashier PIN sent with the AUTH intent. Empty means the till
	// is already logged in (or remembers its PIN): no AUTH is made and no
	// Auth-token is sent.
	PIN Secret
	// Timeout bounds each HTTP request (AUTH and the operation separately).
	// Zero means DefaultTimeout.
	Timeout time.Duration
	// HTTPClient sends the requests. Nil means a client of its own; its
	// Timeout field should stay zero, since Timeout above applies per request.
	HTTPClient *http.Client
}

// Validate reports the first problem with c, or nil.
func (c Config) Validate() error {
	if c.BaseURL == "" {
		return errors.New("smartx config: BaseURL is required")
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return fmt.Errorf("smartx config: BaseURL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("smartx config: BaseURL %q must be an absolute http or https URL", c.BaseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("smartx config: BaseURL %q must not have a query or fragment", c.BaseURL)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("smartx config: Timeout %s must not be negative", c.Timeout)
	}
	return nil
}
