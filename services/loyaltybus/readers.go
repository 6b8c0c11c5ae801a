package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"

	"github.com/loyaltybus/loyaltybus/adapters/pospal/pospaltest"
	"github.com/loyaltybus/loyaltybus/adapters/smartx"
	"github.com/loyaltybus/loyaltybus/adapters/smartx/smartxtest"
	"github.com/loyaltybus/loyaltybus/adapters/wixtar"
	"github.com/loyaltybus/loyaltybus/adapters/wixtar/wixtartest"
)

// This file builds the clients of the vendors read by the fetch commands
// (Wixtar, SmartX; Pospal is vendors.pospal), in the manner of vendors.go: once, on first use,
// with a simulator served and announced loudly when no URL is configured.

// defaultRegister names the register of LOYALTY_SMARTX_URL, and the
// simulated register when none is configured.
const defaultRegister = "default"

// simulatorPIN is the PIN of the simulated register.
const simulatorPIN = "0000"

// registerConfig is one cash register of LOYALTY_SMARTX_REGISTERS_FILE.
type registerConfig struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	PIN  string `json:"pin"`
}

var registerName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// smartxRegisters lists the configured registers: "default" for
// LOYALTY_SMARTX_URL, then those of LOYALTY_SMARTX_REGISTERS_FILE. None
// means the simulator. Errors name the setting, never a PIN.
func smartxRegisters(s *settings) ([]registerConfig, error) {
	var regs []registerConfig
	if s.SmartX.URL != "" {
		regs = append(regs, registerConfig{Name: defaultRegister, URL: s.SmartX.URL, PIN: s.SmartX.PIN.Reveal()})
	}
	if path := s.SmartX.RegistersFile; path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("LOYALTY_SMARTX_REGISTERS_FILE: %w", err)
		}
		var listed []registerConfig
		if err := json.Unmarshal(b, &listed); err != nil {
			// The decoder's message may quote the file; give only its position.
			var syn *json.SyntaxError
			if errors.As(err, &syn) {
				return nil, fmt.Errorf("LOYALTY_SMARTX_REGISTERS_FILE %s: not JSON (offset %d); want [{\"name\",\"url\",\"pin\"}]", path, syn.Offset)
			}
			return nil, fmt.Errorf("LOYALTY_SMARTX_REGISTERS_FILE %s: want a JSON array of {\"name\",\"url\",\"pin\"}", path)
		}
		regs = append(regs, listed...)
	}
	var names []string
	for i, r := range regs {
		switch {
		case !registerName.MatchString(r.Name):
			return nil, fmt.Errorf("LOYALTY_SMARTX_REGISTERS_FILE: register %d: name %q must be 1-32 characters of A-Z a-z 0-9 _ -", i, r.Name)
		case slices.Contains(names, r.Name):
			return nil, fmt.Errorf("LOYALTY_SMARTX_REGISTERS_FILE: register %q configured twice (LOYALTY_SMARTX_URL is %q)", r.Name, defaultRegister)
		case r.URL == "":
			return nil, fmt.Errorf("LOYALTY_SMARTX_REGISTERS_FILE: register %q has no url", r.Name)
		}
		names = append(names, r.Name)
	}
	return regs, nil
}

// registerNames are the names commands may use: the configured registers,
// or the simulated "default".
func registerNames(s *settings) ([]string, error) {
	regs, err := smartxRegisters(s)
	if err != nil {
		return nil, err
	}
	if len(regs) == 0 {
		return []string{defaultRegister}, nil
	}
	names := make([]string, len(regs))
	for i, r := range regs {
		names[i] = r.Name
	}
	return names, nil
}

// smartx returns a client per cash register, by name.
func (v *vendors) smartx() (map[string]*smartx.Client, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.smartxC != nil {
		return v.smartxC, nil
	}
	regs, err := smartxRegisters(v.s)
	if err != nil {
		return nil, err
	}
	if len(regs) == 0 {
		srv, err := smartxtest.Start(smartxtest.Options{PIN: simulatorPIN, MaxCalls: simMaxCalls})
		if err != nil {
			return nil, fmt.Errorf("start smartx simulator: %w", err)
		}
		v.closers = append(v.closers, srv.Close)
		v.log.Warn("VENDOR SIMULATOR IN USE: no URL configured, calls go to a built-in simulator, not the real vendor",
			"vendor", "smartx", "register", defaultRegister, "url", srv.URL)
		regs = []registerConfig{{Name: defaultRegister, URL: srv.URL, PIN: simulatorPIN}}
	}
	clients := map[string]*smartx.Client{}
	for _, r := range regs {
		c, err := smartx.New(smartx.Config{
			Name: r.Name, BaseURL: r.URL, PIN: smartx.Secret(r.PIN),
			HTTPClient: v.httpClient("smartx", v.s.SmartX.Limits), // a breaker per register
		})
		if err != nil {
			return nil, fmt.Errorf("smartx register %s (LOYALTY_SMARTX_*): %w", r.Name, err)
		}
		clients[r.Name] = c
	}
	v.smartxC = clients
	return clients, nil
}

// pospalAppID is the appId of the Pospal client (vendors.pospal): it scopes
// ticket sns, which are unique per account.
func (v *vendors) pospalAppID() string {
	if v.s.Pospal.URL == "" {
		return pospaltest.DefaultAppID // the simulator's account
	}
	return v.s.Pospal.AppID
}

// wixtar returns the Wixtar Omni client.
func (v *vendors) wixtar() (*wixtar.Client, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.wixtarC != nil {
		return v.wixtarC, nil
	}
	cfg := wixtar.Config{
		BaseURL: v.s.Wixtar.URL, TokenURL: v.s.Wixtar.TokenURL,
		ClientID: v.s.Wixtar.ClientID, ClientSecret: wixtar.Secret(v.s.Wixtar.ClientSecret.Reveal()),
		HTTPClient: v.httpClient("wixtar", v.s.Wixtar.Limits),
	}
	if cfg.BaseURL == "" {
		sim := wixtartest.NewSimulator(wixtartest.Options{MaxCalls: simMaxCalls})
		url, err := v.serveSimulator("wixtar", sim, nil)
		if err != nil {
			return nil, err
		}
		cfg.BaseURL, cfg.TokenURL = url, url+wixtartest.PathToken
		cfg.ClientID, cfg.ClientSecret = wixtartest.DefaultClientID, wixtartest.DefaultClientSecret
	}
	c, err := wixtar.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("wixtar client (LOYALTY_WIXTAR_*): %w", err)
	}
	v.wixtarC = c
	return c, nil
}
