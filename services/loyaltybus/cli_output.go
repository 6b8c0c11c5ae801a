package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"
)

// writeJSON prints v as one line of JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// timestamp renders t in UTC with milliseconds, as --since reads it back.
func timestamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// ago renders how long before now t was, coarsely: "12s ago", "3h ago".
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm ago", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

// bytesize renders n bytes with a binary unit.
func bytesize(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// clip shortens s to n runes on one line.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// compactJSON returns data on one line if it is JSON, else quoted.
func compactJSON(data []byte) string {
	if len(data) == 0 {
		return ""
	}
	var v any
	if json.Unmarshal(data, &v) != nil {
		return fmt.Sprintf("%q", data)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%q", data)
	}
	return string(b)
}

// progress reports the progress of a long operation on stderr: a bar
// redrawn in place on a terminal, otherwise a plain line at most once per
// second and at the end.
type progress struct {
	w      io.Writer
	tty    bool
	label  string
	total  int
	names  []string
	counts map[string]int
	start  time.Time
	last   time.Time
	now    func() time.Time
}

func newProgress(w io.Writer, label string, total int, names ...string) *progress {
	p := &progress{w: w, tty: isTerminal(w), label: label, total: total, names: names, counts: map[string]int{}, now: time.Now}
	p.start = p.now()
	p.last = p.start
	return p
}

// add counts one item under name and redraws when due.
func (p *progress) add(name string) {
	p.counts[name]++
	now := p.now()
	if p.tty && now.Sub(p.last) >= 100*time.Millisecond || !p.tty && now.Sub(p.last) >= time.Second {
		p.draw(now, false)
	}
}

func (p *progress) done() int {
	n := 0
	for _, c := range p.counts {
		n += c
	}
	return n
}

// finish draws the final state.
func (p *progress) finish() { p.draw(p.now(), true) }

func (p *progress) draw(now time.Time, final bool) {
	p.last = now
	done := p.done()
	var counts []string
	for _, n := range p.names {
		counts = append(counts, fmt.Sprintf("%s %d", n, p.counts[n]))
	}
	rate := 0.0
	if el := now.Sub(p.start).Seconds(); el > 0 {
		rate = float64(done) / el
	}
	pct := 100
	if p.total > 0 {
		pct = done * 100 / p.total
	}
	if !p.tty {
		fmt.Fprintf(p.w, "%s: %d/%d (%d%%) %s, %.0f/s\n", p.label, done, p.total, pct, strings.Join(counts, ", "), rate)
		return
	}
	const width = 30
	filled := width * pct / 100
	bar := strings.Repeat("=", filled)
	if filled < width {
		bar += ">" + strings.Repeat(" ", width-filled-1)
	}
	fmt.Fprintf(p.w, "\r\033[K%s [%s] %d/%d %3d%%  %s  %.0f/s", p.label, bar, done, p.total, pct, strings.Join(counts, "  "), rate)
	if final {
		fmt.Fprintln(p.w)
	}
}
