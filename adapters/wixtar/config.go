package wixtar

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// DefaultTimeout bounds each HTTP request when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// DefaultScope is the OAuth scope requested when Config.Scope is empty.
const DefaultScope = "api"

// Config configures a Client.
type Config struct {
	// BaseURL is the API root, e.g. https://omni.lafresh.com.tw, including any
	// path prefix. Endpoint paths such as /v1/points_usage_records are
	// appended. Required.
	BaseURL string
	// TokenURL is the OAuth token endpoint, e.g.
	// https://login.lafresh.com.tw/oauth/v1/token. Required.
	TokenURL string
	// ClientID and ClientSecret are the client credentials. Required.
	ClientID     string
	ClientSecret Secret
	// Scope is the OAuth scope; empty means DefaultScope.
	Scope string
	// Timeout bounds each HTTP request (token and API separately); zero means
	// DefaultTimeout.
	Timeout time.Duration
	// HTTPClient sends the requests; nil means a client of its own.
	HTTPClient *http.Client
	// Now is the clock used for token expiry; nil means time.Now.
	Now func() time.Time
}

// Validate reports the first problem with c, or nil.
func (c Config) Validate() error {
	if err := checkURL("BaseURL", c.BaseURL); err != nil {
		return err
	}
	if err := checkURL("TokenURL", c.TokenURL); err != nil {
		return err
	}
	if c.ClientID == "" {
		return errors.New("wixtar config: ClientID is required")
	}
	if c.ClientSecret == "" {
		return errors.New("wixtar config: ClientSecret is required")
	}
	if c.Timeout < 0 {
		return fmt.Errorf("wixtar config: Timeout %s must not be negative", c.Timeout)
	}
	return nil
}

func checkURL(field, s string) error {
	if s == "" {
		return fmt.Errorf("wixtar config: %s is required", field)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("wixtar config: %s: %w", field, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("wixtar config: %s %q must be an absolute http or https URL", field, s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("wixtar config: %s %q must not have a query or fragment", field, s)
	}
	return nil
}
