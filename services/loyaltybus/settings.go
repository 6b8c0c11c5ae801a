package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/loyaltybus/loyaltybus/pkg/config"
)

// settings are read from the environment in main's run and nowhere else
// (CONTRACT §7). Every one may also come from a file named by NAME_FILE.
type settings struct {
	NATSURL      string        `env:"LOYALTY_NATS_URL" usage:"external NATS server(s), comma-separated; unset: embedded server"`
	NATSCreds    string        `env:"LOYALTY_NATS_CREDS" usage:"NATS credentials file"`
	NATSUser     string        `env:"LOYALTY_NATS_USER" usage:"NATS user"`
	NATSPassword config.Secret `env:"LOYALTY_NATS_PASSWORD" usage:"NATS password"`
	NATSTLSCA    string        `env:"LOYALTY_NATS_TLS_CA" usage:"CA file to verify the NATS server"`
	NATSTLSCert  string        `env:"LOYALTY_NATS_TLS_CERT" usage:"client certificate file, for servers that require mutual TLS"`
	NATSTLSKey   string        `env:"LOYALTY_NATS_TLS_KEY" usage:"client certificate key file"`
	NATSInbox    string        `env:"LOYALTY_NATS_INBOX_PREFIX" usage:"reply subject prefix, e.g. _INBOX_points (deploy/nats gives each user its own)"`

	DataDir  string `env:"LOYALTY_DATA_DIR" default:"./data" usage:"embedded server storage"`
	NATSHost string `env:"LOYALTY_NATS_HOST" default:"127.0.0.1" usage:"embedded server listen host"`
	NATSPort int    `env:"LOYALTY_NATS_PORT" default:"4222" usage:"embedded server port (0: any free port)"`

	StreamReplicas int           `env:"LOYALTY_STREAM_REPLICAS" default:"1" usage:"stream and bucket replicas: 1 or 3"`
	Provision      bool          `env:"LOYALTY_PROVISION" default:"true" usage:"create or update streams at start-up"`
	OutputMode     string        `env:"LOYALTY_OUTPUT_MODE" default:"binary" usage:"content mode of outputs: binary or structured"`
	Concurrency    int           `env:"LOYALTY_CONCURRENCY" default:"64" usage:"handlers running at once, per service"`
	MaxAttempts    int           `env:"LOYALTY_MAX_ATTEMPTS" default:"8" usage:"attempts before a transient failure settles as failed"`
	AckWait        time.Duration `env:"LOYALTY_ACK_WAIT" default:"30s" usage:"consumer ack deadline"`
	PinnedTTL      time.Duration `env:"LOYALTY_PINNED_TTL" default:"10s" usage:"how long a silent (e.g. killed) replica stays pinned to its consumer before a standby or a restarted process takes over"`

	Shuyun struct {
		URL          string        `env:"URL" usage:"base URL incl. path prefix; unset: built-in simulator"`
		ClientID     string        `env:"CLIENT_ID"`
		ClientSecret config.Secret `env:"CLIENT_SECRET"`
		Timeout      time.Duration `env:"TIMEOUT" default:"10s"`
		Limits       vendorLimits
	} `envPrefix:"LOYALTY_SHUYUN_"`
	Pospal struct {
		URL    string        `env:"URL" usage:"base URL (https://areaN-win.pospal.cn:443); unset: built-in simulator"`
		AppID  string        `env:"APP_ID"`
		AppKey config.Secret `env:"APP_KEY"`
		// DailyQuota is Pospal's call limit per appId and day; the client
		// stops calling when it is used up and work waits for midnight.
		DailyQuota int `env:"DAILY_QUOTA" default:"300" usage:"Pospal calls allowed per appId and day (midnight Asia/Shanghai)"`
		Limits     vendorLimits
	} `envPrefix:"LOYALTY_POSPAL_"`
	Wixtar struct {
		URL          string        `env:"URL" usage:"API base URL; unset: built-in simulator"`
		TokenURL     string        `env:"TOKEN_URL"`
		ClientID     string        `env:"CLIENT_ID"`
		ClientSecret config.Secret `env:"CLIENT_SECRET"`
		Limits       vendorLimits
	} `envPrefix:"LOYALTY_WIXTAR_"`
	SmartX struct {
		URL    string        `env:"URL" usage:"cash register base URL; unset: built-in simulator"`
		PIN    config.Secret `env:"PIN"`
		Limits vendorLimits
		// RegistersFile lists several registers; LOYALTY_SMARTX_URL, when
		// set too, is the register named "default".
		RegistersFile string `env:"REGISTERS_FILE" usage:"JSON file listing cash registers as an array of {name, url, pin}; LOYALTY_SMARTX_URL, if also set, is the register named default"`
	} `envPrefix:"LOYALTY_SMARTX_"`

	// Schedule publishes fetch commands at intervals (services/schedule);
	// every interval is off by default.
	Schedule struct {
		Cheques          time.Duration `env:"CHEQUES" usage:"publish cheques.fetch for every SmartX register at this interval, e.g. 1m; unset or 0: off"`
		Tickets          time.Duration `env:"TICKETS" usage:"publish tickets.fetch for each customer of LOYALTY_SCHEDULE_TICKETS_CUSTOMERS at this interval (sliding window); unset or 0: off"`
		TicketsCustomers []string      `env:"TICKETS_CUSTOMERS" usage:"Pospal customer uids for the tickets schedule, comma-separated"`
		TicketsAllStores bool          `env:"TICKETS_ALL_STORES" default:"false" usage:"scheduled tickets.fetch read every store of the chain (queryAllStoreConsume)"`
		Usage            time.Duration `env:"USAGE" usage:"publish points.usage.fetch at this interval (sliding window); unset or 0: off"`
		UsageStoreID     string        `env:"USAGE_STORE_ID" usage:"store_id of the scheduled points.usage.fetch; unset: all stores"`
		Overlap          time.Duration `env:"OVERLAP" default:"5m" usage:"how far each sliding window reaches back before the previous tick, for records that reach the vendor late"`
		MaxCatchUp       int           `env:"MAX_CATCH_UP" default:"1000" usage:"most missed ticks published per schedule after downtime (older ones are logged as skipped)"`
	} `envPrefix:"LOYALTY_SCHEDULE_"`

	HTTPAddr     string `env:"LOYALTY_HTTP_ADDR" usage:"health (/healthz), readiness (/readyz) and Prometheus metrics (/metrics) address, e.g. :8080; unset: not served"`
	OTLPEndpoint string `env:"LOYALTY_OTLP_ENDPOINT" usage:"OTLP/HTTP trace collector, e.g. http://otel-collector:4318; unset: spans are not recorded (trace context still propagates)"`
	LogFormat    string `env:"LOYALTY_LOG_FORMAT" default:"text" usage:"text (tint) or json"`
	LogLevel     string `env:"LOYALTY_LOG_LEVEL" default:"info" usage:"debug, info, warn or error"`
}

// vendorLimits protect a vendor (pkg/resilience); they are read under the
// vendor's prefix, e.g. LOYALTY_SHUYUN_RATE.
type vendorLimits struct {
	Rate          float64       `env:"RATE" default:"0" usage:"requests per second to the vendor (0: unlimited)"`
	Burst         int           `env:"BURST" default:"0" usage:"requests allowed at once above the rate (0: the rate)"`
	MaxConcurrent int           `env:"MAX_CONCURRENT" default:"0" usage:"vendor calls in flight (0: unlimited)"`
	BreakerOpen   time.Duration `env:"BREAKER_OPEN_FOR" default:"30s" usage:"how long a tripped circuit stays open before a probe"`
}

func printSettings(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tDEFAULT\tMEANING")
	for _, s := range config.Describe(&settings{}) {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, s.Default, s.Usage)
	}
	return tw.Flush()
}
