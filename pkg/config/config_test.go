package config_test

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/pkg/config"
)

// settings exercises every supported field type.
type settings struct {
	NATSURL  string        `env:"LOYALTY_NATS_URL" usage:"external NATS; unset: embedded"`
	DataDir  string        `env:"LOYALTY_DATA_DIR" default:"./data"`
	Replicas int           `env:"LOYALTY_STREAM_REPLICAS" default:"1"`
	MaxAge   int64         `env:"LOYALTY_MAX_AGE_SECONDS" default:"86400"`
	Small    uint8         `env:"LOYALTY_SMALL" default:"7"`
	Ratio    float64       `env:"LOYALTY_RATIO" default:"0.5"`
	Debug    bool          `env:"LOYALTY_DEBUG" default:"false"`
	Timeout  time.Duration `env:"LOYALTY_TIMEOUT" default:"10s"`
	Servers  []string      `env:"LOYALTY_SERVERS" default:"a, b"`
	Level    slog.Level    `env:"LOYALTY_LOG_LEVEL" default:"info"`
	Shuyun   shuyun        `envPrefix:"LOYALTY_SHUYUN_"`
}

type shuyun struct {
	URL          string        `env:"URL" required:"true"`
	ClientID     string        `env:"CLIENT_ID"`
	ClientSecret config.Secret `env:"CLIENT_SECRET" required:"true"`
}

// env returns a getenv backed by m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// minimal is the smallest valid environment for settings.
func minimal() map[string]string {
	return map[string]string{
		"LOYALTY_SHUYUN_URL":           "http://shuyun.test",
		"LOYALTY_SHUYUN_CLIENT_SECRET": "s3cr3t-value",
	}
}

func TestLoadDefaults(t *testing.T) {
	var got settings
	require.NoError(t, config.Load(&got, env(minimal())))

	want := settings{
		DataDir:  "./data",
		Replicas: 1,
		MaxAge:   86400,
		Small:    7,
		Ratio:    0.5,
		Timeout:  10 * time.Second,
		Servers:  []string{"a", "b"},
		Level:    slog.LevelInfo,
		Shuyun: shuyun{
			URL:          "http://shuyun.test",
			ClientSecret: "s3cr3t-value",
		},
	}
	assert.Equal(t, want, got)
}

func TestLoadValues(t *testing.T) {
	e := minimal()
	e["LOYALTY_NATS_URL"] = "nats://a:4222"
	e["LOYALTY_STREAM_REPLICAS"] = "3"
	e["LOYALTY_MAX_AGE_SECONDS"] = " 60 "
	e["LOYALTY_RATIO"] = "1.25"
	e["LOYALTY_DEBUG"] = "true"
	e["LOYALTY_TIMEOUT"] = "1m30s"
	e["LOYALTY_SERVERS"] = "nats://a, ,nats://b,"
	e["LOYALTY_LOG_LEVEL"] = "debug"
	e["LOYALTY_SHUYUN_CLIENT_ID"] = "id"

	var got settings
	require.NoError(t, config.Load(&got, env(e)))

	assert.Equal(t, "nats://a:4222", got.NATSURL)
	assert.Equal(t, 3, got.Replicas)
	assert.Equal(t, int64(60), got.MaxAge)
	assert.InDelta(t, 1.25, got.Ratio, 1e-9)
	assert.True(t, got.Debug)
	assert.Equal(t, 90*time.Second, got.Timeout)
	assert.Equal(t, []string{"nats://a", "nats://b"}, got.Servers)
	assert.Equal(t, slog.LevelDebug, got.Level)
	assert.Equal(t, "id", got.Shuyun.ClientID)
	assert.Equal(t, "s3cr3t-value", got.Shuyun.ClientSecret.Reveal())
}

func TestLoadKeepsPrefilledValueWithoutDefault(t *testing.T) {
	got := settings{NATSURL: "nats://prefilled"}
	require.NoError(t, config.Load(&got, env(minimal())))
	assert.Equal(t, "nats://prefilled", got.NATSURL)
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		set     map[string]string
		unset   []string
		wantIs  error
		wantMsg string
	}{
		{
			name:    "required missing",
			unset:   []string{"LOYALTY_SHUYUN_URL"},
			wantIs:  config.ErrRequired,
			wantMsg: "LOYALTY_SHUYUN_URL: required but not set",
		},
		{
			name:    "required secret missing",
			unset:   []string{"LOYALTY_SHUYUN_CLIENT_SECRET"},
			wantIs:  config.ErrRequired,
			wantMsg: "LOYALTY_SHUYUN_CLIENT_SECRET: required but not set",
		},
		{
			name:    "bad int",
			set:     map[string]string{"LOYALTY_STREAM_REPLICAS": "x"},
			wantIs:  config.ErrInvalid,
			wantMsg: `LOYALTY_STREAM_REPLICAS: want an integer, got "x"`,
		},
		{
			name:    "int out of range",
			set:     map[string]string{"LOYALTY_SMALL": "300"},
			wantIs:  config.ErrInvalid,
			wantMsg: `LOYALTY_SMALL: want a non-negative integer that fits in uint8, got "300"`,
		},
		{
			name:    "bad duration",
			set:     map[string]string{"LOYALTY_TIMEOUT": "10"},
			wantIs:  config.ErrInvalid,
			wantMsg: `LOYALTY_TIMEOUT: want a duration such as 500ms, 30s or 5m, got "10"`,
		},
		{
			name:    "bad bool",
			set:     map[string]string{"LOYALTY_DEBUG": "yes"},
			wantIs:  config.ErrInvalid,
			wantMsg: `LOYALTY_DEBUG: want a boolean (true or false), got "yes"`,
		},
		{
			name:    "bad float",
			set:     map[string]string{"LOYALTY_RATIO": "half"},
			wantIs:  config.ErrInvalid,
			wantMsg: `LOYALTY_RATIO: want a number, got "half"`,
		},
		{
			name:    "bad text unmarshaler",
			set:     map[string]string{"LOYALTY_LOG_LEVEL": "loud"},
			wantIs:  config.ErrInvalid,
			wantMsg: `LOYALTY_LOG_LEVEL: want a slog.Level, got "loud"`,
		},
		{
			name:    "value and file both set",
			set:     map[string]string{"LOYALTY_NATS_URL_FILE": "/dev/null", "LOYALTY_NATS_URL": "nats://x"},
			wantIs:  config.ErrAmbiguous,
			wantMsg: "LOYALTY_NATS_URL: ambiguous: both LOYALTY_NATS_URL and LOYALTY_NATS_URL_FILE are set",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := minimal()
			for _, k := range tt.unset {
				delete(e, k)
			}
			for k, v := range tt.set {
				e[k] = v
			}
			var s settings
			err := config.Load(&s, env(e))
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.wantIs)
			assert.Contains(t, err.Error(), tt.wantMsg)
			assert.NotContains(t, err.Error(), "s3cr3t-value")

			var cerr *config.Error
			require.ErrorAs(t, err, &cerr)
		})
	}
}

func TestLoadJoinsAllErrors(t *testing.T) {
	e := map[string]string{
		"LOYALTY_STREAM_REPLICAS": "x",
		"LOYALTY_TIMEOUT":         "soon",
	}
	var s settings
	err := config.Load(&s, env(e))
	require.Error(t, err)

	joined, ok := err.(interface{ Unwrap() []error })
	require.True(t, ok, "want an errors.Join error, got %T", err)
	var names []string
	for _, e := range joined.Unwrap() {
		var cerr *config.Error
		require.ErrorAs(t, e, &cerr)
		names = append(names, cerr.Setting)
	}
	want := []string{"LOYALTY_STREAM_REPLICAS", "LOYALTY_TIMEOUT", "LOYALTY_SHUYUN_URL", "LOYALTY_SHUYUN_CLIENT_SECRET"}
	assert.Equal(t, want, names)
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "client_secret")
	require.NoError(t, os.WriteFile(secretFile, []byte("from-file-secret\r\n\n"), 0o600))
	replicasFile := filepath.Join(dir, "replicas")
	require.NoError(t, os.WriteFile(replicasFile, []byte("3\n"), 0o600))

	e := minimal()
	delete(e, "LOYALTY_SHUYUN_CLIENT_SECRET")
	e["LOYALTY_SHUYUN_CLIENT_SECRET_FILE"] = secretFile
	e["LOYALTY_STREAM_REPLICAS_FILE"] = replicasFile

	var got settings
	require.NoError(t, config.Load(&got, env(e)))
	assert.Equal(t, "from-file-secret", got.Shuyun.ClientSecret.Reveal())
	assert.Equal(t, 3, got.Replicas)
}

func TestLoadFileErrors(t *testing.T) {
	const content = "content-that-must-not-leak"
	dir := t.TempDir()

	unreadable := filepath.Join(dir, "unreadable")
	require.NoError(t, os.WriteFile(unreadable, []byte(content), 0o000))

	tests := []struct {
		name string
		path string
		skip func() bool
	}{
		{name: "missing", path: filepath.Join(dir, "missing")},
		{name: "directory", path: dir},
		{
			name: "unreadable",
			path: unreadable,
			skip: func() bool {
				// root and Windows can read a mode 0 file.
				_, err := os.ReadFile(unreadable)
				return err == nil || runtime.GOOS == "windows"
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip != nil && tt.skip() {
				t.Skip("file is readable here")
			}
			e := minimal()
			e["LOYALTY_SHUYUN_CLIENT_SECRET"] = ""
			e["LOYALTY_SHUYUN_CLIENT_SECRET_FILE"] = tt.path

			var s settings
			err := config.Load(&s, env(e))
			require.Error(t, err)
			assert.ErrorIs(t, err, config.ErrFile)
			assert.Contains(t, err.Error(), "LOYALTY_SHUYUN_CLIENT_SECRET: cannot read setting file LOYALTY_SHUYUN_CLIENT_SECRET_FILE")
			assert.NotContains(t, err.Error(), content)
			assert.NotContains(t, err.Error(), "s3cr3t-value")
		})
	}
}

func TestLoadRejectsBadDestinations(t *testing.T) {
	type badTag struct {
		N int `env:"N" required:"maybe"`
	}
	type unsupported struct {
		M map[string]int `env:"M" default:"x"`
	}
	type unexported struct {
		n int `env:"N"`
	}
	type badDefault struct {
		N int `env:"N" default:"many"`
	}
	tests := []struct {
		name    string
		dst     any
		wantIs  error
		wantMsg string
	}{
		{name: "not a pointer", dst: settings{}, wantIs: config.ErrTag},
		{name: "nil pointer", dst: (*settings)(nil), wantIs: config.ErrTag},
		{name: "pointer to non-struct", dst: new(int), wantIs: config.ErrTag},
		{name: "bad required tag", dst: &badTag{}, wantIs: config.ErrTag, wantMsg: `N: bad config struct: required tag "maybe" is not a boolean`},
		{name: "unsupported type", dst: &unsupported{}, wantIs: config.ErrTag, wantMsg: "M: bad config struct: unsupported field type map[string]int"},
		{name: "unexported", dst: &unexported{}, wantIs: config.ErrTag, wantMsg: "N: bad config struct: field n is unexported"},
		{name: "bad default", dst: &badDefault{}, wantIs: config.ErrInvalid, wantMsg: `N: default tag: want an integer, got "many"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := config.Load(tt.dst, env(nil))
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.wantIs)
			assert.Contains(t, err.Error(), tt.wantMsg)
		})
	}
	_ = unexported{}.n
}

func TestLoadNilGetenv(t *testing.T) {
	var s settings
	err := config.Load(&s, nil)
	assert.True(t, errors.Is(err, config.ErrTag))
}

func TestLoadEmbeddedStruct(t *testing.T) {
	type Common struct {
		Addr string `env:"HTTP_ADDR" default:":8080"`
	}
	type service struct {
		Common `envPrefix:"LOYALTY_"`
		Name   string `env:"LOYALTY_NAME"`
	}
	var got service
	require.NoError(t, config.Load(&got, env(map[string]string{"LOYALTY_NAME": "points"})))
	assert.Equal(t, ":8080", got.Addr)
	assert.Equal(t, "points", got.Name)
}
