package wixtar

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// maxRefreshMargin caps how long before expiry a token is replaced; the
// margin is 10% of the token's lifetime or this, whichever is smaller.
const maxRefreshMargin = 60 * time.Second

// tokenCache holds the current token and the fetch in flight, if any.
type tokenCache struct {
	mu        sync.Mutex
	token     string
	refreshAt time.Time // zero: no known expiry, kept until a 401
	flight    *tokenFlight
}

// tokenFlight is one token request that concurrent callers wait for.
type tokenFlight struct {
	done  chan struct{}
	token string
	err   error
}

type tokenAnswer struct {
	AccessToken string          `json:"access_token"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
	TokenType   string          `json:"token_type"`
}

// Authenticate fetches a new token now, replacing the cached one. Calls
// fetch tokens by themselves, so this is only useful as a readiness check;
// wrong credentials give an *APIError matching ErrInvalidClient (or
// ErrUnauthorized), which is permanent.
func (c *Client) Authenticate(ctx context.Context) error {
	c.tokens.mu.Lock()
	old := c.tokens.token
	c.tokens.mu.Unlock()
	c.dropToken(old)
	_, err := c.accessToken(ctx)
	return err
}

// accessToken returns a token that is not about to expire, fetching one if
// needed. Concurrent callers share one fetch; if the fetching caller's
// context ends, a waiting caller whose context is still live fetches itself.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	for {
		c.tokens.mu.Lock()
		if tok := c.tokens.token; tok != "" && (c.tokens.refreshAt.IsZero() || c.now().Before(c.tokens.refreshAt)) {
			c.tokens.mu.Unlock()
			return tok, nil
		}
		f := c.tokens.flight
		leader := f == nil
		if leader {
			f = &tokenFlight{done: make(chan struct{})}
			c.tokens.flight = f
		}
		c.tokens.mu.Unlock()

		if leader {
			tok, refreshAt, err := c.fetchToken(ctx)
			c.tokens.mu.Lock()
			if err == nil {
				c.tokens.token, c.tokens.refreshAt = tok, refreshAt
			}
			f.token, f.err = tok, err
			c.tokens.flight = nil
			c.tokens.mu.Unlock()
			close(f.done)
			return tok, err
		}

		select {
		case <-f.done:
		case <-ctx.Done():
			return "", &TransportError{Op: OpToken, Err: fmt.Errorf("wait for token: %w", ctx.Err())}
		}
		if f.err == nil {
			return f.token, nil
		}
		if (errors.Is(f.err, context.Canceled) || errors.Is(f.err, context.DeadlineExceeded)) && ctx.Err() == nil {
			continue
		}
		return "", f.err
	}
}

// dropToken forgets tok if it is still the cached token, so that callers
// rejected with the same token cause one fetch, not several.
func (c *Client) dropToken(tok string) {
	c.tokens.mu.Lock()
	defer c.tokens.mu.Unlock()
	if c.tokens.token == tok {
		c.tokens.token, c.tokens.refreshAt = "", time.Time{}
	}
}

// fetchToken runs the client-credentials grant and returns the token and
// when to replace it.
func (c *Client) fetchToken(ctx context.Context) (string, time.Time, error) {
	form := url.Values{
		"client_id":     {c.cfg.ClientID},
		"client_secret": {string(c.cfg.ClientSecret)},
		"grant_type":    {"client_credentials"},
		"scope":         {c.cfg.Scope},
	}
	issued := c.now()
	resp, err := c.send(ctx, OpToken, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.TokenURL, strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		return req, nil
	})
	if err != nil {
		return "", time.Time{}, err
	}
	if resp.status < 200 || resp.status > 299 {
		return "", time.Time{}, newAPIError(OpToken, resp, c.now())
	}
	var a tokenAnswer
	if err := json.Unmarshal(resp.body, &a); err != nil {
		return "", time.Time{}, &TransportError{Op: OpToken, HTTPStatus: resp.status, Err: fmt.Errorf("decode token: %w", err)}
	}
	if a.AccessToken == "" {
		return "", time.Time{}, &TransportError{Op: OpToken, HTTPStatus: resp.status, Err: errors.New("answer has no access_token")}
	}
	if a.TokenType != "" && !strings.EqualFold(a.TokenType, "bearer") {
		return "", time.Time{}, &TransportError{Op: OpToken, HTTPStatus: resp.status, Err: fmt.Errorf("token_type %q is not Bearer", a.TokenType)}
	}
	n, err := lenientNumber(a.ExpiresIn)
	if err != nil {
		return "", time.Time{}, &TransportError{Op: OpToken, HTTPStatus: resp.status, Err: fmt.Errorf("expires_in: %w", err)}
	}
	var refreshAt time.Time
	if secs, err := n.Int64(); err == nil && secs > 0 {
		life := time.Duration(secs) * time.Second
		refreshAt = issued.Add(life - min(life/10, maxRefreshMargin))
	}
	return a.AccessToken, refreshAt, nil
}
