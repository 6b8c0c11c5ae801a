package config_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/pkg/config"
)

func TestDescribe(t *testing.T) {
	var s settings
	require.NoError(t, config.Load(&s, env(minimal())))

	got := config.Describe(&s)

	byName := map[string]config.Setting{}
	var names []string
	for _, st := range got {
		byName[st.Name] = st
		names = append(names, st.Name)
	}
	wantNames := []string{
		"LOYALTY_NATS_URL", "LOYALTY_DATA_DIR", "LOYALTY_STREAM_REPLICAS", "LOYALTY_MAX_AGE_SECONDS",
		"LOYALTY_SMALL", "LOYALTY_RATIO", "LOYALTY_DEBUG", "LOYALTY_TIMEOUT", "LOYALTY_SERVERS",
		"LOYALTY_LOG_LEVEL", "LOYALTY_SHUYUN_URL", "LOYALTY_SHUYUN_CLIENT_ID", "LOYALTY_SHUYUN_CLIENT_SECRET",
	}
	assert.Equal(t, wantNames, names)

	tests := []struct {
		name string
		want config.Setting
	}{
		{name: "string with usage", want: config.Setting{Name: "LOYALTY_NATS_URL", Type: "string", Usage: "external NATS; unset: embedded"}},
		{name: "int", want: config.Setting{Name: "LOYALTY_STREAM_REPLICAS", Type: "int", Default: "1", Value: "1"}},
		{name: "duration", want: config.Setting{Name: "LOYALTY_TIMEOUT", Type: "duration", Default: "10s", Value: "10s"}},
		{name: "list", want: config.Setting{Name: "LOYALTY_SERVERS", Type: "list", Default: "a, b", Value: "a,b"}},
		{name: "text unmarshaler", want: config.Setting{Name: "LOYALTY_LOG_LEVEL", Type: "slog.Level", Default: "info", Value: "INFO"}},
		{name: "required", want: config.Setting{Name: "LOYALTY_SHUYUN_URL", Type: "string", Required: true, Value: "http://shuyun.test"}},
		{name: "secret redacted", want: config.Setting{Name: "LOYALTY_SHUYUN_CLIENT_SECRET", Type: "secret", Required: true, Secret: true, Value: "[redacted]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, byName[tt.want.Name])
		})
	}
	for _, st := range got {
		assert.NotContains(t, st.Value, "s3cr3t-value")
		assert.NotContains(t, st.Default, "s3cr3t-value")
	}
}

func TestDescribeSecretDefaultAndEmpty(t *testing.T) {
	type withDefault struct {
		Key   config.Secret `env:"KEY" default:"default-secret"`
		Empty config.Secret `env:"EMPTY"`
	}
	got := config.Describe(withDefault{Key: "live-secret"})
	require.Len(t, got, 2)
	assert.Equal(t, config.Setting{Name: "KEY", Type: "secret", Secret: true, Default: "[redacted]", Value: "[redacted]"}, got[0])
	assert.Equal(t, config.Setting{Name: "EMPTY", Type: "secret", Secret: true}, got[1])
}

func TestDescribeNonStruct(t *testing.T) {
	assert.Nil(t, config.Describe(42))
	assert.Nil(t, config.Describe((*settings)(nil)))
	assert.Nil(t, config.Describe(nil))
}
