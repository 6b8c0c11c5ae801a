package chaos

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Binaries are the programs the harness runs, built once per run.
type Binaries struct {
	// Loyaltybus is the loyaltybus binary (services and simulators).
	Loyaltybus string
	// NATSServer is nats-server, built from the module graph.
	NATSServer string
}

// Build compiles the loyaltybus binary and nats-server into dir. It runs the
// go command of the current toolchain in the services module of the
// workspace that contains the working directory.
func Build(ctx context.Context, dir string) (*Binaries, error) {
	root, err := workspaceRoot()
	if err != nil {
		return nil, err
	}
	b := &Binaries{Loyaltybus: filepath.Join(dir, "loyaltybus"), NATSServer: filepath.Join(dir, "nats-server")}
	for _, p := range []struct{ out, pkg string }{
		{b.Loyaltybus, "github.com/loyaltybus/loyaltybus/services/loyaltybus"},
		// nats-server is in the services module's graph through pkg
		// (pkg/natsembed); building it from there needs no extra require.
		{b.NATSServer, "github.com/nats-io/nats-server/v2"},
	} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", p.out, p.pkg)
		cmd.Dir = filepath.Join(root, "services")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %w\n%s", p.pkg, err, out)
		}
	}
	return b, nil
}

// workspaceRoot finds the directory holding go.work above the working
// directory.
func workspaceRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find workspace: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find workspace: no go.work above the working directory")
		}
		dir = parent
	}
}

// Process is a subprocess the harness started. Its output goes to a log file.
type Process struct {
	// Name names the process in logs and errors.
	Name string
	// Log is the file its stdout and stderr go to.
	Log string

	cmd    *exec.Cmd
	exited chan struct{}
	err    error
}

// ProcSpec describes a process to start.
type ProcSpec struct {
	Name string
	Bin  string
	Args []string
	// Env is added to a minimal environment (PATH, HOME).
	Env []string
	// LogDir is where the log file goes.
	LogDir string
	// FirstLine, when set, receives the first line the process writes to
	// stdout (the simulator's URL); the rest of stdout goes to the log.
	FirstLine *string
}

// StartProcess starts spec and returns once it runs (and, with FirstLine,
// once that line was read, bounded by ctx).
func StartProcess(ctx context.Context, spec ProcSpec) (*Process, error) {
	logPath := filepath.Join(spec.LogDir, spec.Name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	defer logFile.Close()
	fmt.Fprintf(logFile, "---- %s start %s %s\n", time.Now().Format(time.RFC3339Nano), spec.Bin, strings.Join(spec.Args, " "))
	cmd := exec.Command(spec.Bin, spec.Args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, spec.Env...)
	cmd.Stderr = logFile
	cmd.Stdout = logFile
	var lines *os.File
	if spec.FirstLine != nil {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", spec.Name, err)
		}
		defer w.Close()
		lines = r
		cmd.Stdout = w
	}
	if err := cmd.Start(); err != nil {
		if lines != nil {
			_ = lines.Close()
		}
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	p := &Process{Name: spec.Name, Log: logPath, cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	if lines == nil {
		return p, nil
	}
	// Read the first line without holding a goroutine past this call: the
	// read ends when the line arrives, or when the deadline closes the pipe.
	_ = lines.SetReadDeadline(deadline(ctx, 30*time.Second))
	line, err := bufio.NewReader(lines).ReadString('\n')
	_ = lines.Close()
	if err != nil {
		p.Kill()
		return nil, fmt.Errorf("start %s: read first line: %w (see %s)", spec.Name, err, logPath)
	}
	*spec.FirstLine = strings.TrimSpace(line)
	return p, nil
}

// deadline is ctx's deadline, or now plus d when it has none or a later one.
func deadline(ctx context.Context, d time.Duration) time.Time {
	t := time.Now().Add(d)
	if dl, ok := ctx.Deadline(); ok && dl.Before(t) {
		return dl
	}
	return t
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited is closed when the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Running reports whether the process has not exited.
func (p *Process) Running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Kill sends SIGKILL (which also ends a stopped process) and waits for the
// exit.
func (p *Process) Kill() {
	if !p.Running() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// Stop asks the process to end with SIGTERM and kills it after grace.
func (p *Process) Stop(grace time.Duration) {
	if !p.Running() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGCONT)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.exited:
	case <-t.C:
		p.Kill()
	}
}

// Pause freezes the process with SIGSTOP; Resume thaws it with SIGCONT.
func (p *Process) Pause() error {
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		return fmt.Errorf("pause %s: %w", p.Name, err)
	}
	return nil
}

// Resume continues a paused process.
func (p *Process) Resume() error {
	if err := p.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		return fmt.Errorf("resume %s: %w", p.Name, err)
	}
	return nil
}

// PeakRSS is the process's peak resident set size in bytes (VmHWM), read
// while it runs.
func (p *Process) PeakRSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return 0, fmt.Errorf("peak rss of %s: %w", p.Name, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("peak rss of %s: %w", p.Name, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("peak rss of %s: no VmHWM", p.Name)
}

// LogSize is the size of the process's log file, a cheap sign of activity.
func (p *Process) LogSize() int64 {
	fi, err := os.Stat(p.Log)
	if err != nil {
		return 0
	}
	return fi.Size()
}
