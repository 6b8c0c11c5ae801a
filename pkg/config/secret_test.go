package config_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/pkg/config"
)

func TestSecretRedacts(t *testing.T) {
	const value = "hunter2-secret"
	type creds struct {
		User     string
		Password config.Secret
		Keys     map[string]config.Secret
		PINs     []config.Secret
		Ptr      *config.Secret
	}
	s := config.Secret(value)
	c := creds{User: "u", Password: s, Keys: map[string]config.Secret{"k": s}, PINs: []config.Secret{s}, Ptr: &s}

	tests := []struct {
		name string
		got  func() string
	}{
		{name: "String", got: s.String},
		{name: "GoString", got: s.GoString},
		{name: "%v", got: func() string { return fmt.Sprintf("%v", s) }},
		{name: "%s", got: func() string { return fmt.Sprintf("%s", s) }},
		{name: "%q", got: func() string { return fmt.Sprintf("%q", s) }},
		{name: "%x", got: func() string { return fmt.Sprintf("%x", s) }},
		{name: "%d bad verb", got: func() string { return fmt.Sprintf("%d", s) }},
		{name: "struct %v", got: func() string { return fmt.Sprintf("%v", c) }},
		{name: "struct %+v", got: func() string { return fmt.Sprintf("%+v", c) }},
		{name: "struct %#v", got: func() string { return fmt.Sprintf("%#v", c) }},
		{name: "pointer %+v", got: func() string { return fmt.Sprintf("%+v", *c.Ptr) }},
		{name: "json", got: func() string {
			b, err := json.Marshal(c)
			require.NoError(t, err)
			return string(b)
		}},
		{name: "slog text", got: func() string {
			var buf bytes.Buffer
			slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "secret", s, "creds", c)
			return buf.String()
		}},
		{name: "slog json", got: func() string {
			var buf bytes.Buffer
			slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "secret", s, "creds", c)
			return buf.String()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.got()
			assert.NotContains(t, got, value)
			assert.NotContains(t, got, fmt.Sprintf("%x", value))
			assert.Contains(t, got, "[redacted]")
		})
	}
	assert.Equal(t, value, s.Reveal())
}
