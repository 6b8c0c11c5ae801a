package wixtar_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/wixtar"
	"github.com/loyaltybus/loyaltybus/adapters/wixtar/wixtartest"
)

// contractCases hold for the simulator and for the vendor's sandbox. They
// only read.
var contractCases = []struct {
	name string
	run  func(t *testing.T, c *wixtar.Client)
}{
	{name: "records decode and have keys", run: func(t *testing.T, c *wixtar.Client) {
		u, err := c.PointsUsageRecords(t.Context(), window)
		require.NoError(t, err)
		seen := map[string]bool{}
		for _, r := range u.Logs {
			assert.False(t, r.DateTime.IsZero())
			assert.NotEmpty(t, r.Raw)
			assert.False(t, seen[r.Key()], "duplicate key %s", r.Key())
			seen[r.Key()] = true
		}
	}},
	{name: "a token serves several calls", run: func(t *testing.T, c *wixtar.Client) {
		for range 2 {
			_, err := c.PointsUsageRecords(t.Context(), wixtar.UsageQuery{Start: window.Start, End: window.Start.Add(time.Hour)})
			require.NoError(t, err)
		}
	}},
}

// TestContract runs the contract against the simulator and, when
// LOYALTY_WIXTAR_SANDBOX_URL is set (with ..._TOKEN_URL, ..._CLIENT_ID and
// ..._CLIENT_SECRET), against that sandbox.
func TestContract(t *testing.T) {
	targets := map[string]func(t *testing.T) *wixtar.Client{
		"simulator": func(t *testing.T) *wixtar.Client {
			srv := wixtartest.NewServer(t, wixtartest.Options{})
			seed(t, srv)
			return newClient(t, srv, nil)
		},
		"sandbox": func(t *testing.T) *wixtar.Client {
			url := os.Getenv("LOYALTY_WIXTAR_SANDBOX_URL")
			if url == "" {
				t.Skip("LOYALTY_WIXTAR_SANDBOX_URL not set")
			}
			c, err := wixtar.New(wixtar.Config{
				BaseURL:      url,
				TokenURL:     os.Getenv("LOYALTY_WIXTAR_SANDBOX_TOKEN_URL"),
				ClientID:     os.Getenv("LOYALTY_WIXTAR_SANDBOX_CLIENT_ID"),
				ClientSecret: wixtar.Secret(os.Getenv("LOYALTY_WIXTAR_SANDBOX_CLIENT_SECRET")),
			})
			require.NoError(t, err)
			return c
		},
	}
	for target, newTarget := range targets {
		t.Run(target, func(t *testing.T) {
			for _, tc := range contractCases {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, newTarget(t)) })
			}
		})
	}
}
