package wixtar

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxBody bounds the size of a response body that is read.
const maxBody = 32 << 20

// Client calls the Wixtar Omni API. It is safe for concurrent use.
type Client struct {
	cfg     Config
	base    string
	http    *http.Client
	timeout time.Duration
	now     func() time.Time
	tokens  tokenCache
}

// New returns a Client for cfg, or the error from cfg.Validate.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Scope == "" {
		cfg.Scope = DefaultScope
	}
	c := &Client{
		cfg:     cfg,
		base:    strings.TrimRight(cfg.BaseURL, "/"),
		http:    cfg.HTTPClient,
		timeout: cfg.Timeout,
		now:     cfg.Now,
	}
	if c.http == nil {
		c.http = &http.Client{}
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// response is a completed HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

// get sends GET base+path?rawQuery with a Bearer token and returns a 2xx
// response body. On 401 it fetches a new token once and repeats.
func (c *Client) get(ctx context.Context, op, path, rawQuery string) (*response, error) {
	for attempt := 0; ; attempt++ {
		token, err := c.accessToken(ctx)
		if err != nil {
			return nil, err
		}
		resp, err := c.send(ctx, op, func(ctx context.Context) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
			if err != nil {
				return nil, err
			}
			req.URL.RawQuery = rawQuery
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Accept", "application/json")
			return req, nil
		})
		if err != nil {
			return nil, err
		}
		if resp.status == http.StatusUnauthorized && attempt == 0 {
			c.dropToken(token)
			continue
		}
		if resp.status < 200 || resp.status > 299 {
			return nil, newAPIError(op, resp, c.now())
		}
		return resp, nil
	}
}

// send makes one request built by build under the per-request timeout and
// reads the whole response.
func (c *Client) send(ctx context.Context, op string, build func(context.Context) (*http.Request, error)) (*response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := build(ctx)
	if err != nil {
		return nil, &TransportError{Op: op, Err: err}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &TransportError{Op: op, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, &TransportError{Op: op, HTTPStatus: resp.StatusCode, Err: fmt.Errorf("read body: %w", err)}
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// errorBody collects the fields error bodies commonly use; the vendor's own
// format is undocumented.
type errorBody struct {
	Error            json.RawMessage `json:"error"`
	Code             json.RawMessage `json:"code"`
	ErrorDescription string          `json:"error_description"`
	Message          string          `json:"message"`
	Msg              string          `json:"msg"`
}

func newAPIError(op string, resp *response, now time.Time) *APIError {
	e := &APIError{
		Op:             op,
		HTTPStatus:     resp.status,
		RetryAfterHint: retryAfter(resp.header.Get("Retry-After"), now),
	}
	var b errorBody
	if err := json.Unmarshal(resp.body, &b); err == nil {
		if s, err := lenientString(b.Error); err == nil && s != "" {
			e.Code = s
		} else if s, err := lenientString(b.Code); err == nil {
			e.Code = s
		}
		for _, m := range []string{b.ErrorDescription, b.Message, b.Msg} {
			if m != "" {
				e.Message = m
				break
			}
		}
	}
	if e.Message == "" && e.Code == "" {
		e.Message = snippet(resp.body)
	}
	return e
}

func snippet(b []byte) string {
	const max = 200
	s := strings.TrimSpace(string(b))
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// retryAfter parses a Retry-After header (seconds or HTTP date).
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
