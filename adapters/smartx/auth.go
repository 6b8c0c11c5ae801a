package smartx

import (
	"context"
	"encoding/json"
	"fmt"
)

// IntentAuth is the INTENT_OPERATION_TYPE that logs a cashier in.
const IntentAuth = "AUTH"

type authRequest struct {
	PIN         string `json:"pin"`
	RememberPIN bool   `json:"rememberPin"`
	ReturnToken bool   `json:"returnToken"`
}

type authAnswer struct {
	Token string `json:"token"`
}

// Authenticate logs in with Config.PIN now and keeps the new token for later
// calls, replacing any token held. Calls authenticate by themselves when
// needed, so this is only useful as a readiness check. With an empty PIN it
// does nothing. A wrong PIN is an *APIError (the register's resultCode,
// typically 401) and is permanent.
func (c *Client) Authenticate(ctx context.Context) error {
	if c.cfg.PIN == "" {
		return nil
	}
	c.mu.Lock()
	old := c.token
	c.mu.Unlock()
	c.dropToken(old)
	_, err := c.currentToken(ctx)
	return err
}

// currentToken returns the token to send: "" with no PIN configured, the
// cached token, or a fresh one from AUTH. Only one AUTH runs at a time;
// goroutines that wait for it use its token.
func (c *Client) currentToken(ctx context.Context) (string, error) {
	if c.cfg.PIN == "" {
		return "", nil
	}
	if tok := c.cachedToken(); tok != "" {
		return tok, nil
	}
	select {
	case c.authSem <- struct{}{}:
	case <-ctx.Done():
		return "", c.transportError(IntentAuth, 0, fmt.Errorf("wait for authentication: %w", ctx.Err()))
	}
	defer func() { <-c.authSem }()
	if tok := c.cachedToken(); tok != "" {
		return tok, nil
	}
	body, err := json.Marshal(authRequest{PIN: string(c.cfg.PIN), RememberPIN: true, ReturnToken: true})
	if err != nil {
		return "", fmt.Errorf("smartx AUTH: encode request: %w", err)
	}
	status, answer, err := c.exchange(ctx, IntentAuth, "", body)
	if err != nil {
		return "", err
	}
	var a authAnswer
	if err := json.Unmarshal(answer, &a); err != nil {
		return "", c.transportError(IntentAuth, status, fmt.Errorf("decode answer: %w", err))
	}
	if a.Token == "" {
		return "", c.transportError(IntentAuth, status, errUnexpectedNoToken)
	}
	c.mu.Lock()
	c.token = a.Token
	c.mu.Unlock()
	return a.Token, nil
}

func (c *Client) cachedToken() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token
}

// dropToken forgets tok if it is still the cached token, so that concurrent
// callers rejected with the same token cause one AUTH, not several.
func (c *Client) dropToken(tok string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == tok {
		c.token = ""
	}
}
