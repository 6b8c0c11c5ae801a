package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Vendor is the Shuyun simulator running as its own process
// ("loyaltybus simulate shuyun"), inspected and steered over its /_sim/
// endpoints.
type Vendor struct {
	// URL is the base URL services call.
	URL  string
	proc *Process
	hc   *http.Client
}

// VendorOptions are the simulator's flags.
type VendorOptions struct {
	// NoDedup applies a repeated token again (replay mode no-dedup), so that
	// a second vendor call shows as a double effect.
	NoDedup bool
	// RateLimit is the gateway's requests per second (0: none).
	RateLimit int
}

// StartVendor starts the simulator process.
func StartVendor(ctx context.Context, bin, logDir string, o VendorOptions) (*Vendor, error) {
	// --max-calls 0: the checker reads the whole call log (rates, call order per token).
	args := []string{"simulate", "shuyun", "--addr", "127.0.0.1:0", "--balance", "1000000", "--max-calls", "0"}
	if o.NoDedup {
		args = append(args, "--replay-mode", "no-dedup")
	}
	if o.RateLimit > 0 {
		args = append(args, "--rate-limit", fmt.Sprint(o.RateLimit))
	}
	var u string
	p, err := StartProcess(ctx, ProcSpec{Name: "vendor", Bin: bin, Args: args, LogDir: logDir, FirstLine: &u})
	if err != nil {
		return nil, err
	}
	return &Vendor{URL: u, proc: p, hc: &http.Client{Timeout: 30 * time.Second}}, nil
}

// Close stops the simulator and the client's idle connections.
func (v *Vendor) Close() {
	v.proc.Stop(2 * time.Second)
	v.hc.CloseIdleConnections()
}

// Fault is a fault to inject (POST /_sim/faults; see simFault in the
// loyaltybus binary). Durations are Go duration strings.
type Fault struct {
	Kind         string  `json:"kind"`
	N            int     `json:"n,omitempty"`
	Status       int     `json:"status,omitempty"`
	Path         string  `json:"path,omitempty"`
	Delay        string  `json:"delay,omitempty"`
	DropShare    float64 `json:"dropShare,omitempty"`
	FailShare    float64 `json:"failShare,omitempty"`
	FailStatuses []int   `json:"failStatuses,omitempty"`
	TimeoutShare float64 `json:"timeoutShare,omitempty"`
	TimeoutAfter string  `json:"timeoutAfter,omitempty"`
	Latency      string  `json:"latency,omitempty"`
	Jitter       string  `json:"jitter,omitempty"`
	Seed         uint64  `json:"seed,omitempty"`
}

// Inject sends a fault to the simulator.
func (v *Vendor) Inject(ctx context.Context, f Fault) error {
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("inject %s: %w", f.Kind, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.URL+"/_sim/faults", bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("inject %s: %w", f.Kind, err)
	}
	resp, err := v.hc.Do(req)
	if err != nil {
		return fmt.Errorf("inject %s: %w", f.Kind, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		body, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("inject %s: %s %s", f.Kind, resp.Status, body)
	}
	return nil
}

// VendorStats are the simulator's request counters.
type VendorStats struct {
	Requests     int `json:"requests"`
	InFlight     int `json:"inFlight"`
	PeakInFlight int `json:"peakInFlight"`
	Overlaps     int `json:"overlaps"`
}

// Effects reads the effect ledger.
func (v *Vendor) Effects(ctx context.Context) ([]Effect, error) {
	var out []Effect
	return out, v.get(ctx, "/_sim/effects", &out)
}

// Calls reads the call log (path "" for every endpoint).
func (v *Vendor) Calls(ctx context.Context, path string) ([]Call, error) {
	var out []Call
	return out, v.get(ctx, "/_sim/calls?path="+url.QueryEscape(path), &out)
}

// Stats reads the request counters.
func (v *Vendor) Stats(ctx context.Context) (VendorStats, error) {
	var out VendorStats
	return out, v.get(ctx, "/_sim/stats", &out)
}

func (v *Vendor) get(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.URL+path, nil)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	resp, err := v.hc.Do(req)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("read %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}
