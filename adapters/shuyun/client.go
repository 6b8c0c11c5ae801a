// Package shuyun is an HTTP client for the Shuyun (数云) CRM "papi" that Shiseido China exposes
// through a MuleSoft gateway (vendor doc 003, VENDOR-NOTES §4).
//
// It covers the write operations loyaltybus needs: points (change, freeze, unfreeze, deduct
// frozen), coupons (grant, the seven state operations and the coupon detail read that confirms
// a state after an unanswered operation) and order save. Request and response
// types use the vendor's JSON field names; optional fields are omitted when empty.
//
// # Idempotency
//
// Points calls carry the X-Business-Token header and a coupon grant carries X-Request-Sequence.
// Callers pass the token explicitly and must send the same token on every retry of the same
// business request. Unfreeze and deduct-frozen take the token of the freeze they settle.
//
// # Errors
//
// Every call returns nil when the vendor confirmed (HTTP 200, 201, or 204 with an empty body), a
// *APIError when the vendor or its gateway answered with a failure, or a *TransportError when no
// answer arrived (timeout, refused or dropped connection). Both error types have
// Temporary() bool and VendorDetail(), so callers can classify an error with a small interface
// and without importing this package:
//
//	var t interface{ Temporary() bool }
//	retry := errors.As(err, &t) && t.Temporary()
//
// Business refusals (the {module, service, code, desc, uri} body at any HTTP status, coupon
// answers with success:false, 400, 401, 403, 404) are permanent; 408, 429, 5xx and transport
// errors are temporary. Errors never contain the client credentials.
//
// A Client is safe for concurrent use.
package shuyun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout is the per-call timeout used when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// maxResponseBytes caps how much of a response body is read.
const maxResponseBytes = 4 << 20

// Config configures a Client. BaseURL, ClientID and ClientSecret are required.
type Config struct {
	// BaseURL is the gateway URL including any path prefix, for example
	// https://schm-api-test.shiseido.cn/schm-shuyun-crm-papi. Endpoint paths are appended to it.
	BaseURL string
	// ClientID is sent as the header "client_id" on every request.
	ClientID string
	// ClientSecret is sent as the header "client_secret" on every request.
	ClientSecret string
	// HTTPClient sends the requests. Nil means a client with its own clone of
	// http.DefaultTransport. Its Timeout, if any, applies in addition to Timeout.
	HTTPClient *http.Client
	// Timeout bounds each call, from sending the request to reading the whole answer.
	// Zero means DefaultTimeout; negative is invalid.
	Timeout time.Duration
	// Header, when set, is called for every request with the call's context; the headers it
	// returns are added to the request with their keys exactly as returned (so a W3C
	// "traceparent" or "tracestate" keeps its lower case). It cannot replace the credentials,
	// Content-Type, X-Business-Token or X-Request-Sequence. Nil adds nothing.
	Header func(ctx context.Context) http.Header
}

// Validate reports the first problem with the configuration, or nil.
func (c Config) Validate() error {
	if c.BaseURL == "" {
		return errors.New("shuyun: config: BaseURL is required")
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return fmt.Errorf("shuyun: config: BaseURL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("shuyun: config: BaseURL scheme %q is not http or https", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("shuyun: config: BaseURL has no host")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return errors.New("shuyun: config: BaseURL must not have a query or fragment")
	}
	if c.ClientID == "" {
		return errors.New("shuyun: config: ClientID is required")
	}
	if c.ClientSecret == "" {
		return errors.New("shuyun: config: ClientSecret is required")
	}
	if c.Timeout < 0 {
		return fmt.Errorf("shuyun: config: Timeout %v is negative", c.Timeout)
	}
	return nil
}

// Client calls the Shuyun papi. Create it with New. It is safe for concurrent use.
type Client struct {
	base    string
	id      string
	secret  string
	hc      *http.Client
	timeout time.Duration
	header  func(ctx context.Context) http.Header
}

// New returns a Client for cfg, or the error from cfg.Validate.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	hc := cfg.HTTPClient
	if hc == nil {
		var rt http.RoundTripper = http.DefaultTransport
		if t, ok := http.DefaultTransport.(*http.Transport); ok {
			rt = t.Clone()
		}
		hc = &http.Client{Transport: rt}
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	return &Client{
		base:    strings.TrimRight(cfg.BaseURL, "/"),
		id:      cfg.ClientID,
		secret:  cfg.ClientSecret,
		hc:      hc,
		timeout: timeout,
		header:  cfg.Header,
	}, nil
}

// Header names the client writes. The credentials are written with exact lower case.
const (
	headerClientID        = "client_id"
	headerClientSecret    = "client_secret"
	headerBusinessToken   = "X-Business-Token"
	headerRequestSequence = "X-Request-Sequence"
)

// request is one vendor call.
type request struct {
	op     string            // operation name used in errors, e.g. "freeze points"
	method string            // HTTP method
	path   string            // endpoint path appended to the base URL
	header map[string]string // idempotency headers, canonical keys
	body   []byte            // JSON body
}

// reply is a successful vendor answer.
type reply struct {
	status int
	body   []byte // nil or empty when the vendor sent no body
}

// do sends r and returns the vendor's answer when it is a success (2xx without a business error
// body). Otherwise it returns a *APIError or a *TransportError.
func (c *Client) do(ctx context.Context, r request) (reply, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, r.method, c.base+r.path, bytes.NewReader(r.body))
	if err != nil {
		return reply{}, fmt.Errorf("shuyun: %s: build request: %w", r.op, err)
	}
	if c.header != nil {
		for k, vs := range c.header(ctx) {
			if reserved(k) {
				continue
			}
			req.Header[k] = append([]string(nil), vs...)
		}
	}
	req.Header[headerClientID] = []string{c.id}
	req.Header[headerClientSecret] = []string{c.secret}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range r.header {
		req.Header.Set(k, v)
	}

	resp, err := c.hc.Do(req)
	if err != nil {
		return reply{}, c.transportError(r.op, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return reply{}, c.transportError(r.op, fmt.Errorf("read response: %w", err))
	}
	if apiErr := c.classify(r.op, resp, body); apiErr != nil {
		return reply{}, apiErr
	}
	return reply{status: resp.StatusCode, body: body}, nil
}

// reserved reports whether a header from Config.Header must be ignored.
func reserved(key string) bool {
	switch strings.ToLower(key) {
	case headerClientID, headerClientSecret, "content-type", "x-business-token", "x-request-sequence":
		return true
	}
	return false
}

// transportError wraps err, scrubbing the secret in case a transport echoes it.
func (c *Client) transportError(op string, err error) error {
	return &TransportError{Op: op, Err: scrubbed{err: err, secret: c.secret}}
}

// scrubbed hides a secret in an error's text while keeping the error chain.
type scrubbed struct {
	err    error
	secret string
}

func (s scrubbed) Error() string { return scrub(s.err.Error(), s.secret) }
func (s scrubbed) Unwrap() error { return s.err }

// scrub replaces every occurrence of secret in text.
func scrub(text, secret string) string {
	if secret == "" {
		return text
	}
	return strings.ReplaceAll(text, secret, "***")
}
