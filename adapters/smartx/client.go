package smartx

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Header keys exactly as the register expects them. They are written into
// the header map directly, because http.Header.Set would canonicalise them
// to Intent_operation_type and Auth-Token.
const (
	HeaderIntent    = "INTENT_OPERATION_TYPE"
	HeaderAuthToken = "Auth-token"
)

// ResultOK is the resultCode of a successful answer.
const ResultOK = 200

// maxAnswer bounds the size of an answer body that is read.
const maxAnswer = 32 << 20

// Client talks to one SmartX register. It is safe for concurrent use; it
// authenticates lazily, shares one token between goroutines (one AUTH at a
// time), and on resultCode 401 or 405 (or HTTP 401) re-authenticates once
// and repeats the call.
type Client struct {
	cfg      Config
	endpoint string
	http     *http.Client
	timeout  time.Duration

	authSem chan struct{} // one AUTH in flight
	mu      sync.Mutex
	token   string
}

// New returns a Client for cfg, or the error from cfg.Validate.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	return &Client{
		cfg:      cfg,
		endpoint: strings.TrimRight(cfg.BaseURL, "/") + "/v1",
		http:     hc,
		timeout:  timeout,
		authSem:  make(chan struct{}, 1),
	}, nil
}

// Name returns Config.Name.
func (c *Client) Name() string { return c.cfg.Name }

// envelope is the part of every answer (BaseResponse) that decides it.
type envelope struct {
	ResultCode    json.Number `json:"resultCode"`
	MessageTitle  string      `json:"messageTitle"`
	MessageDetail string      `json:"messageDetail"`
	Type          string      `json:"type"`
}

// do sends one intent with payload, authenticating as needed, and returns
// the HTTP status and body of an answer with resultCode 200.
func (c *Client) do(ctx context.Context, intent string, payload any) (int, []byte, error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return 0, nil, fmt.Errorf("smartx %s: encode request: %w", intent, err)
	}
	for attempt := 0; ; attempt++ {
		token, err := c.currentToken(ctx)
		if err != nil {
			return 0, nil, err
		}
		status, answer, err := c.exchange(ctx, intent, token, body)
		if err == nil {
			return status, answer, nil
		}
		if attempt == 0 && c.cfg.PIN != "" && needsAuth(err) {
			c.dropToken(token)
			continue
		}
		return status, answer, err
	}
}

// needsAuth reports whether err says the token is missing, expired or bad.
func needsAuth(err error) bool {
	switch e := err.(type) {
	case *APIError:
		return e.Code == "401" || e.Code == "405"
	case *TransportError:
		return e.HTTPStatus == http.StatusUnauthorized
	}
	return false
}

// exchange makes one HTTP request and interprets the answer: it returns the
// body when resultCode is 200, an *APIError for any other resultCode and a
// *TransportError when there is no usable answer.
func (c *Client) exchange(ctx context.Context, intent, token string, body []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, nil, c.transportError(intent, 0, err)
	}
	req.Header["Content-Type"] = []string{"application/json; charset=utf-8"}
	req.Header["Accept"] = []string{"application/json"}
	req.Header[HeaderIntent] = []string{intent}
	if token != "" {
		req.Header[HeaderAuthToken] = []string{token}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, c.transportError(intent, 0, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return resp.StatusCode, nil, c.transportError(intent, resp.StatusCode, fmt.Errorf("read answer: %w", err))
	}
	var env envelope
	if jerr := json.Unmarshal(answer, &env); jerr != nil || env.ResultCode == "" {
		// No BaseResponse: the HTTP status is all there is.
		terr := c.transportError(intent, resp.StatusCode, errResponseNotJSONBody)
		switch {
		case resp.StatusCode < 200 || resp.StatusCode > 299:
			terr.Err = fmt.Errorf("%s: %s", http.StatusText(resp.StatusCode), snippet(answer))
			terr.RetryAfterHint = retryAfter(resp.Header.Get("Retry-After"), time.Now())
		case jerr != nil:
			terr.Err = fmt.Errorf("decode answer: %w", jerr)
		default:
			terr.Err = errMissingResultCode
		}
		return resp.StatusCode, nil, terr
	}
	code, err := strconv.Atoi(string(env.ResultCode))
	if err != nil {
		return resp.StatusCode, nil, c.transportError(intent, resp.StatusCode, fmt.Errorf("%w: %q", errUnparsableResult, env.ResultCode))
	}
	if code != ResultOK {
		return resp.StatusCode, nil, &APIError{
			Register:   c.cfg.Name,
			Intent:     intent,
			HTTPStatus: resp.StatusCode,
			Code:       strconv.Itoa(code),
			Title:      env.MessageTitle,
			Message:    env.MessageDetail,
		}
	}
	return resp.StatusCode, answer, nil
}

func (c *Client) transportError(intent string, status int, err error) *TransportError {
	return &TransportError{Register: c.cfg.Name, Intent: intent, HTTPStatus: status, Err: err}
}

// snippet returns the start of a non-JSON body for an error message.
func snippet(b []byte) string {
	const max = 200
	s := strings.TrimSpace(string(b))
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strconv.Quote(s)
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
