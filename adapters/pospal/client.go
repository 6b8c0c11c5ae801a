package pospal

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// APIPrefix is the path of the V1 open API below the base URL.
const APIPrefix = "/pospal-api2/openapi/v1/"

// maxAnswer bounds the size of an answer the client reads.
const maxAnswer = 64 << 20

// Client calls the Pospal open API V1 for one appId. It is safe for concurrent
// use; its daily call counter is shared by all calls of the Client.
type Client struct {
	cfg   Config
	base  string
	quota *quota
}

// New validates cfg, applies the defaults and returns a Client. It sends
// nothing.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Client{
		cfg:   cfg,
		base:  strings.TrimSuffix(cfg.BaseURL, "/") + APIPrefix,
		quota: &quota{limit: cfg.DailyQuota, now: cfg.Now},
	}, nil
}

// Quota returns how many calls the client made (or the vendor says were made)
// today, the daily limit, and the next midnight in Asia/Shanghai when the
// counter resets. For logs and metrics.
func (c *Client) Quota() (used, limit int, resetAt time.Time) {
	return c.quota.state()
}

// AppID returns the appId the client sends, e.g. to recognise the client's
// own store among the stores a query reports.
func (c *Client) AppID() string { return c.cfg.AppID }

// Sign returns UPPER(hex(MD5(appKey + body))), the value of the data-signature
// header of a request or answer with this body.
func Sign(appKey string, body []byte) string {
	h := md5.New()
	io.WriteString(h, appKey)
	h.Write(body)
	return strings.ToUpper(hex.EncodeToString(h.Sum(nil)))
}

// Marshal serialises v the way the client sends bodies: compact JSON with
// UTF-8 text as is (no \u escapes for <, > and &) and no trailing newline.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// call posts body (which must already carry appId) to op, e.g.
// "ticketOpenApi/queryCustomerHistoryTicketsByUid", and returns the envelope's
// data of a success answer. It counts the call against the daily quota.
func (c *Client) call(ctx context.Context, op string, body any) (json.RawMessage, error) {
	raw, err := Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("pospal %s: encode request: %w", op, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+op, bytes.NewReader(raw))
	if err != nil {
		return nil, &TransportError{Op: op, Err: err}
	}
	if err := ctx.Err(); err != nil { // do not spend quota on a dead call
		return nil, &TransportError{Op: op, Err: err, temporary: true}
	}
	ok, used, resetAt, now := c.quota.take()
	if !ok {
		return nil, &QuotaError{Op: op, Used: used, Limit: c.cfg.DailyQuota, ResetAt: resetAt, retryAfter: resetAt.Sub(now)}
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "openApi")
	req.Header.Set("time-stamp", strconv.FormatInt(now.UnixMilli(), 10))
	req.Header.Set("data-signature", Sign(c.cfg.AppKey, raw))
	// No Accept-Encoding: the Transport asks for gzip itself and then
	// decompresses transparently.

	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, &TransportError{Op: op, Err: err, temporary: true}
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, &TransportError{Op: op, HTTPStatus: resp.StatusCode, Err: fmt.Errorf("read answer: %w", err), temporary: true}
	}
	if len(answer) > maxAnswer {
		return nil, &TransportError{Op: op, HTTPStatus: resp.StatusCode, Err: fmt.Errorf("answer larger than %d bytes", maxAnswer), temporary: true}
	}
	return c.open(op, resp, answer)
}

// open checks and decodes an answer.
func (c *Client) open(op string, resp *http.Response, answer []byte) (json.RawMessage, error) {
	ok2xx := resp.StatusCode >= 200 && resp.StatusCode < 300
	env, err := decodeEnvelope(answer)
	if err != nil {
		temporary := true
		if !ok2xx {
			err = fmt.Errorf("%s: %.200q", http.StatusText(resp.StatusCode), answer)
			temporary = retryableStatus(resp.StatusCode)
		}
		return nil, &TransportError{Op: op, HTTPStatus: resp.StatusCode, Err: err, temporary: temporary, retryAfter: retryAfterHeader(resp.Header)}
	}
	code := env.code()
	// A signature error means the key relation is broken, so its answer
	// cannot be verified with our key; everything else that is signed must
	// match.
	if sig := resp.Header.Get("data-signature"); sig != "" && !c.cfg.IgnoreResponseSignature && (env.success() || code < 1031 || code > 1034) {
		if !strings.EqualFold(sig, Sign(c.cfg.AppKey, answer)) {
			return nil, &TransportError{Op: op, HTTPStatus: resp.StatusCode, Err: ErrResponseSignature, temporary: true}
		}
	}
	if env.success() && ok2xx {
		return env.Data, nil
	}
	apiErr := &APIError{
		HTTPStatus: resp.StatusCode,
		Status:     env.Status,
		ErrorCode:  code,
		Messages:   env.Messages,
		Op:         op,
		retryAfter: retryAfterHeader(resp.Header),
	}
	if env.success() { // success envelope with a non-2xx status
		apiErr.Messages = append(apiErr.Messages, http.StatusText(resp.StatusCode))
	}
	if !env.success() && slices.Contains(c.cfg.QuotaErrorCodes, code) {
		resetAt, now := c.quota.exhaust()
		apiErr.quota = true
		apiErr.retryAfter = resetAt.Sub(now)
	}
	return nil, apiErr
}

// decodeData decodes a success answer's data into out, strictly on the
// declared types.
func decodeData(op string, data json.RawMessage, out any) error {
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &TransportError{Op: op, HTTPStatus: http.StatusOK, Err: fmt.Errorf("decode data: %w", err)}
	}
	return nil
}

// retryAfterHeader reads a Retry-After header in seconds; 0 when absent.
func retryAfterHeader(h http.Header) time.Duration {
	s, err := strconv.Atoi(h.Get("Retry-After"))
	if err != nil || s < 0 {
		return 0
	}
	return time.Duration(s) * time.Second
}
