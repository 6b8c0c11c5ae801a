package pospal

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// Defaults applied by [New] to zero fields of [Config].
const (
	// DefaultTimeout bounds one call (request and reading the answer).
	DefaultTimeout = 15 * time.Second
	// DefaultDailyQuota is Pospal's documented limit of calls per appId and day.
	DefaultDailyQuota = 300
	// DefaultQuotaErrorCode is the errorCode taken to mean "daily quota used
	// up". The real code is not public; this value is a placeholder that the
	// simulator uses too. Set [Config.QuotaErrorCodes] once the vendor confirms
	// the real one.
	DefaultQuotaErrorCode = 9999
)

// Config configures a [Client]. Zero values of optional fields are replaced by
// the documented defaults.
type Config struct {
	// BaseURL is the per-account host with any path prefix before
	// /pospal-api2, e.g. https://area9-win.pospal.cn:443. Required. The client
	// appends /pospal-api2/openapi/v1/<module>/<method>.
	BaseURL string
	// AppID is the access credential sent in every body. Required.
	AppID string
	// AppKey signs requests and verifies answers. Required; never logged.
	AppKey string
	// HTTPClient sends requests; nil means a new &http.Client{}. Do not set
	// a Transport with DisableCompression: gzip is negotiated by Go.
	HTTPClient *http.Client
	// Timeout bounds one call; 0 means DefaultTimeout. It is applied as a
	// context deadline on top of the caller's context.
	Timeout time.Duration
	// DailyQuota is the number of calls allowed per day (midnight
	// Asia/Shanghai); 0 means DefaultDailyQuota.
	DailyQuota int
	// QuotaErrorCodes are the errorCodes that mean "daily quota used up";
	// nil means []int{DefaultQuotaErrorCode}.
	QuotaErrorCodes []int
	// IgnoreResponseSignature turns off the check of the data-signature
	// header of answers. By default an answer that carries the header must
	// match UPPER(MD5(appKey + body)).
	IgnoreResponseSignature bool
	// Now returns the current time; nil means time.Now. For tests.
	Now func() time.Time
}

// Validate reports whether the required fields are set and the others are in
// range. It does not apply defaults.
func (c Config) Validate() error {
	var errs []error
	if c.BaseURL == "" {
		errs = append(errs, errors.New("BaseURL is required"))
	} else if u, err := url.Parse(c.BaseURL); err != nil {
		errs = append(errs, fmt.Errorf("BaseURL: %w", err))
	} else if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("BaseURL %q must be an absolute http or https URL", c.BaseURL))
	}
	if c.AppID == "" {
		errs = append(errs, errors.New("AppID is required"))
	}
	if c.AppKey == "" {
		errs = append(errs, errors.New("AppKey is required"))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("Timeout %v must not be negative", c.Timeout))
	}
	if c.DailyQuota < 0 {
		errs = append(errs, fmt.Errorf("DailyQuota %d must not be negative", c.DailyQuota))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("pospal config: %w", err)
	}
	return nil
}

// withDefaults returns c with the zero optional fields set.
func (c Config) withDefaults() Config {
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.DailyQuota == 0 {
		c.DailyQuota = DefaultDailyQuota
	}
	if c.QuotaErrorCodes == nil {
		c.QuotaErrorCodes = []int{DefaultQuotaErrorCode}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// LogValue implements slog.LogValuer; the AppKey is redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", c.BaseURL),
		slog.String("app_id", c.AppID),
		slog.String("app_key", redact(c.AppKey)),
		slog.Duration("timeout", c.Timeout),
		slog.Int("daily_quota", c.DailyQuota),
	)
}

// String describes the configuration with the AppKey redacted, so that
// printing a Config with %v does not leak it.
func (c Config) String() string {
	return fmt.Sprintf("pospal.Config{BaseURL:%q AppID:%q AppKey:%s Timeout:%v DailyQuota:%d}",
		c.BaseURL, c.AppID, redact(c.AppKey), c.Timeout, c.DailyQuota)
}

// redact hides a secret but tells whether it is set.
func redact(s string) string {
	if s == "" {
		return "(unset)"
	}
	return "REDACTED"
}
