package logging_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/slogtest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltybus/loyaltybus/pkg/config"
	"github.com/loyaltybus/loyaltybus/pkg/logging"
)

var formats = []string{logging.FormatText, logging.FormatJSON}

// logLine logs one record with attrs in format and returns the output.
func logLine(t testing.TB, format string, args ...any) string {
	t.Helper()
	var buf bytes.Buffer
	logging.New(logging.Config{Format: format}, &buf).Info("member", args...)
	return buf.String()
}

func TestPIIMasked(t *testing.T) {
	tests := []struct {
		name  string
		key   string
		value any
		raw   string // must not appear in the output
		want  string // masked form that must appear
	}{
		{name: "mobile", key: "mobile", value: "13812345678", raw: "13812345678", want: "138****5678"},
		{name: "mobile as number", key: "mobile", value: int64(13812345678), raw: "13812345678", want: "138****5678"},
		{name: "phone", key: "phone", value: "13812345678", raw: "13812345678", want: "138****5678"},
		{name: "mobilePhone", key: "mobilePhone", value: "13812345678", raw: "13812345678", want: "138****5678"},
		{name: "receiverMobile", key: "receiverMobile", value: "13987654321", raw: "13987654321", want: "139****4321"},
		{name: "identityCard", key: "identityCard", value: "11010519491231002X", raw: "11010519491231002X", want: "110105********002X"},
		{name: "idCard any case", key: "IDCARD", value: "11010519491231002X", raw: "11010519491231002X", want: "110105********002X"},
		{name: "id_card snake", key: "id_card", value: "11010519491231002X", raw: "11010519491231002X", want: "110105********002X"},
		{name: "email", key: "email", value: "alice@example.com", raw: "alice@example.com", want: "a***@example.com"},
		{name: "name", key: "name", value: "张三丰", raw: "张三丰", want: "张**"},
		{name: "fullName", key: "fullName", value: "Alice Smith", raw: "Alice Smith", want: "A**********"},
		{name: "customerName", key: "customerName", value: "王小明", raw: "小明", want: "王**"},
		{name: "memberName", key: "memberName", value: "李四", raw: "李四", want: "李*"},
		{name: "receiverName", key: "receiverName", value: "赵六", raw: "赵六", want: "赵*"},
		{name: "address", key: "address", value: "北京市朝阳区建国路88号", raw: "建国路88号", want: "北京市朝阳区****"},
		{name: "receiverAddress", key: "receiverAddress", value: "上海市浦东新区世纪大道100号", raw: "世纪大道100号", want: "上海市浦东新****"},
	}
	for _, format := range formats {
		for _, tt := range tests {
			t.Run(format+"/"+tt.name, func(t *testing.T) {
				for _, args := range [][]any{
					{tt.key, tt.value},
					{slog.Group("member", tt.key, tt.value)},
					{slog.Group("order", slog.Group("receiver", tt.key, tt.value))},
				} {
					got := logLine(t, format, args...)
					assert.NotContains(t, got, tt.raw)
					assert.Contains(t, got, tt.want)
				}
			})
		}
	}
}

func TestPIIMaskedWithLoggerAttrs(t *testing.T) {
	for _, format := range formats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			log := logging.New(logging.Config{Format: format}, &buf)
			log.With("mobile", "13812345678").WithGroup("member").With("email", "alice@example.com").Info("x", "name", "张三丰")
			got := buf.String()
			for _, raw := range []string{"13812345678", "alice@example.com", "张三丰"} {
				assert.NotContains(t, got, raw)
			}
			for _, want := range []string{"138****5678", "a***@example.com", "张**"} {
				assert.Contains(t, got, want)
			}
		})
	}
}

func TestPIIInsideJSONValues(t *testing.T) {
	body := `{"member":{"mobile":"13812345678","fullName":"张三丰"}}`
	type member struct {
		Mobile   string `json:"mobile"`
		FullName string `json:"fullName"`
	}
	tests := []struct {
		name  string
		value any
	}{
		{name: "json.RawMessage", value: json.RawMessage(body)},
		{name: "[]byte", value: []byte(body)},
		{name: "string", value: body},
		{name: "error embedding a body", value: errors.New("shuyun 400: " + body)},
		{name: "struct", value: member{Mobile: "13812345678", FullName: "张三丰"}},
		{name: "map", value: map[string]any{"mobile": "13812345678", "fullName": "张三丰"}},
	}
	for _, format := range formats {
		for _, tt := range tests {
			t.Run(format+"/"+tt.name, func(t *testing.T) {
				got := logLine(t, format, "body", tt.value)
				if format == logging.FormatJSON && tt.name == "[]byte" {
					// slog's JSON handler base64-encodes []byte.
					var rec struct{ Body []byte }
					require.NoError(t, json.Unmarshal([]byte(got), &rec))
					got = string(rec.Body)
				}
				assert.NotContains(t, got, "13812345678")
				assert.NotContains(t, got, "张三丰")
				assert.Contains(t, got, "138****5678")
			})
		}
	}
}

func TestJSONOutputStaysValid(t *testing.T) {
	got := logLine(t, logging.FormatJSON, "body", json.RawMessage(`{"mobile":"13812345678","n":1}`), "mobile", 13812345678)
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(got), &rec))
	assert.Equal(t, map[string]any{"mobile": "138****5678", "n": float64(1)}, rec["body"])
	assert.Equal(t, "138****5678", rec["mobile"])
}

func TestNonPIIUnchanged(t *testing.T) {
	for _, format := range formats {
		t.Run(format, func(t *testing.T) {
			got := logLine(t, format, "event_id", "01HZY", "stream_seq", 42, "body", json.RawMessage(`{"points":10}`))
			assert.Contains(t, got, "01HZY")
			assert.Contains(t, got, "42")
			assert.Contains(t, got, map[string]string{
				logging.FormatText: `body="{\"points\":10}"`,
				logging.FormatJSON: `"body":{"points":10}`,
			}[format])
		})
	}
}

func TestSecretsNeverLogged(t *testing.T) {
	const value = "s3cr3t-client-secret"
	type shuyunConfig struct {
		URL          string
		ClientSecret config.Secret
	}
	s := config.Secret(value)
	cfg := shuyunConfig{URL: "http://shuyun.test", ClientSecret: s}

	tests := []struct {
		name string
		args []any
	}{
		{name: "top level", args: []any{"client_secret", s}},
		{name: "in group", args: []any{slog.Group("shuyun", "client_secret", s)}},
		{name: "in nested group", args: []any{slog.Group("vendor", slog.Group("shuyun", slog.Any("secret", s)))}},
		{name: "struct", args: []any{"config", cfg}},
		{name: "pointer to struct", args: []any{"config", &cfg}},
		{name: "struct in group", args: []any{slog.Group("shuyun", "config", cfg)}},
		{name: "fmt %v", args: []any{"config", fmt.Sprintf("%v", cfg)}},
		{name: "fmt %+v", args: []any{"config", fmt.Sprintf("%+v", cfg)}},
		{name: "fmt %#v", args: []any{"config", fmt.Sprintf("%#v", cfg)}},
		{name: "secret key holding a plain string", args: []any{"password", value}},
		{name: "secret key in JSON", args: []any{"body", json.RawMessage(`{"access_token":"` + value + `"}`)}},
	}
	for _, format := range formats {
		for _, tt := range tests {
			t.Run(format+"/"+tt.name, func(t *testing.T) {
				got := logLine(t, format, tt.args...)
				assert.NotContains(t, got, value)
				assert.Contains(t, got, "[redacted]")
			})
		}
	}
}

func TestMaskJSONShuyunMember(t *testing.T) {
	in := `{
	  "code": "10000",
	  "message": "success",
	  "data": {
	    "memberId": "M0001",
	    "mobile": "13812345678",
	    "fullName": "张三丰",
	    "email": "alice@example.com",
	    "identityCard": "11010519491231002X",
	    "points": 1200,
	    "extend": {
	      "receiverName": "李四",
	      "receiverMobile": 13987654321,
	      "receiverAddress": "上海市浦东新区世纪大道100号"
	    },
	    "addresses": [
	      {"address": "北京市朝阳区建国路88号", "phone": "01065529988", "tag": "<home> & work"}
	    ],
	    "raw": "{\"mobile\":\"13700001111\"}"
	  }
	}`
	want := `{"code":"10000","message":"success","data":{"memberId":"M0001","mobile":"138****5678",` +
		`"fullName":"张**","email":"a***@example.com","identityCard":"110105********002X","points":1200,` +
		`"extend":{"receiverName":"李*","receiverMobile":"139****4321","receiverAddress":"上海市浦东新****"},` +
		`"addresses":[{"address":"北京市朝阳区****","phone":"010****9988","tag":"<home> & work"}],` +
		`"raw":"{\"mobile\":\"137****1111\"}"}}`

	got := logging.MaskJSON([]byte(in))

	assert.JSONEq(t, want, string(got))
	assert.Equal(t, want, string(got), "key order and numbers kept, compact")
}

func TestMaskJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "nothing to mask returns input", in: "{ \"points\": 10 }", want: "{ \"points\": 10 }"},
		{name: "object under PII key", in: `{"address":{"city":"上海市浦东新区","zip":200120}}`, want: `{"address":{"city":"上海市****","zip":"200****"}}`},
		{name: "array under PII key", in: `{"mobile":["13812345678",null]}`, want: `{"mobile":["138****5678",null]}`},
		{name: "top-level array", in: `[{"email":"bob@example.com"}]`, want: `[{"email":"b***@example.com"}]`},
		{name: "secret key", in: `{"clientSecret":"abc","pin":1234}`, want: `{"clientSecret":"[redacted]","pin":"[redacted]"}`},
		{name: "empty values", in: `{"mobile":"","name":""}`, want: `{"mobile":"","name":""}`},
		{name: "embedded in text", in: `dlq: shuyun 400 {"mobile":"13812345678"} after 5 attempts`, want: `dlq: shuyun 400 {"mobile":"138****5678"} after 5 attempts`},
		{name: "not JSON", in: `reason: {not json`, want: `reason: {not json`},
		{name: "empty", in: ``, want: ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, string(logging.MaskJSON([]byte(tt.in))))
		})
	}
}

func TestNewFormats(t *testing.T) {
	var buf bytes.Buffer
	logging.New(logging.Config{Format: logging.FormatJSON, Level: slog.LevelWarn}, &buf).Info("dropped")
	assert.Empty(t, buf.String())

	buf.Reset()
	logging.New(logging.Config{Format: logging.FormatJSON}, &buf).Info("hello", "k", "v")
	var rec map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &rec))
	assert.Equal(t, "hello", rec["msg"])

	buf.Reset()
	logging.New(logging.Config{}, &buf).Info("hello", "k", "v")
	assert.Contains(t, buf.String(), "INF hello k=v")
	assert.NotContains(t, buf.String(), "\x1b[", "no colour on a non-terminal")
}

func TestNewNoColourOnRegularFile(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	require.NoError(t, err)
	defer f.Close()

	logging.New(logging.Config{}, f).Info("hello")

	got, err := os.ReadFile(f.Name())
	require.NoError(t, err)
	assert.Contains(t, string(got), "hello")
	assert.NotContains(t, string(got), "\x1b[")
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		format  string
		wantErr bool
	}{
		{name: "zero", format: ""},
		{name: "text", format: "text"},
		{name: "json", format: "json"},
		{name: "unknown", format: "xml", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := logging.Config{Format: tt.format}.Validate()
			if tt.wantErr {
				assert.ErrorContains(t, err, `unknown format "xml"`)
			} else {
				assert.NoError(t, err)
			}
		})
	}
}

// TestJSONHandlerConformance runs slogtest against the JSON logger: masking
// must not break handler semantics for ordinary attributes.
func TestJSONHandlerConformance(t *testing.T) {
	var buf bytes.Buffer
	h := logging.New(logging.Config{Format: logging.FormatJSON}, &buf).Handler()
	results := func() []map[string]any {
		var ms []map[string]any
		for line := range strings.Lines(buf.String()) {
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &m))
			ms = append(ms, m)
		}
		return ms
	}
	require.NoError(t, slogtest.TestHandler(h, results))
}
