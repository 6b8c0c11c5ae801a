package smartx_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/adapters/smartx"
	"github.com/loyaltybus/loyaltybus/adapters/smartx/smartxtest"
)

// contractCases hold for the simulator and for a real register. They only
// read, so they are safe against a sandbox device.
var contractCases = []struct {
	name string
	run  func(t *testing.T, c *smartx.Client)
}{
	{name: "all cheques decode with exact decimals", run: func(t *testing.T, c *smartx.Client) {
		cheques, err := c.GetCheques(t.Context(), nil)
		require.NoError(t, err)
		for _, ch := range cheques {
			assert.NotEmpty(t, ch.Info.UUID)
			assert.NotEmpty(t, ch.Raw)
			if ch.Total != "" {
				_, err := smartx.ParseDecimal(string(ch.Total))
				assert.NoError(t, err)
			}
		}
	}},
	{name: "the doc's malformed uuid gets 488", run: func(t *testing.T, c *smartx.Client) {
		_, err := c.GetCheques(t.Context(), []string{docMalformedUUID})
		assert.ErrorIs(t, err, smartx.ErrChequesNotFound)
	}},
}

// TestContract runs the contract against the simulator and, when
// LOYALTY_SMARTX_SANDBOX_URL is set (with LOYALTY_SMARTX_SANDBOX_PIN), against
// that register.
func TestContract(t *testing.T) {
	targets := map[string]func(t *testing.T) *smartx.Client{
		"simulator": func(t *testing.T) *smartx.Client {
			srv := smartxtest.NewServer(t, smartxtest.Options{PIN: testPIN})
			require.NoError(t, srv.PutCheque(postponed("9aa03f0c-d77c-40ae-8f4d-236c432054a8")))
			require.NoError(t, srv.PutCheque(order("bb074ac8-3661-4c56-818e-26686d5a7ec3")))
			return newClient(t, srv.URL, testPIN)
		},
		"sandbox": func(t *testing.T) *smartx.Client {
			url := os.Getenv("LOYALTY_SMARTX_SANDBOX_URL")
			if url == "" {
				t.Skip("LOYALTY_SMARTX_SANDBOX_URL not set")
			}
			return newClient(t, url, smartx.Secret(os.Getenv("LOYALTY_SMARTX_SANDBOX_PIN")))
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
