package main_test

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// MustBuild compiles the gatepass binary once per test run.
func MustBuild(tb testing.TB) string {
	tb.Helper()
	if testing.Short() {
		tb.Skip("builds and runs the real binary; skipped in -short mode")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gatepass-bin")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "gatepass")
		out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
		if err != nil {
			buildErr = &buildError{out: string(out), err: err}
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return binary
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + e.out }

// Process is "gatepass serve" running as a real child process.
type Process struct {
	URL  string
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan error
}

var listenLine = regexp.MustCompile(`msg=listening addr=(\S+)`)

// StartProcess runs the binary's serve command on a free port of the loopback.
func StartProcess(tb testing.TB, bin, db string, args ...string) *Process {
	tb.Helper()
	args = append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db}, args...)
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}

	p := &Process{cmd: cmd, logs: &syncBuffer{}, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go p.readLogs(stderr, addr)
	go func() { p.done <- cmd.Wait() }()
	tb.Cleanup(func() { p.cmd.Process.Kill() })

	select {
	case a := <-addr:
		p.URL = "http://" + a
	case err := <-p.done:
		tb.Fatalf("serve exited early: %v\n%s", err, p.logs.String())
	case <-time.After(time.Minute):
		tb.Fatalf("serve did not start listening:\n%s", p.logs.String())
	}
	return p
}

func (p *Process) readLogs(r io.Reader, addr chan<- string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		p.logs.Write([]byte(line + "\n"))
		if m := listenLine.FindStringSubmatch(line); m != nil {
			addr <- m[1]
		}
	}
}

// Signal sends sig and waits for the process to exit.
func (p *Process) Signal(tb testing.TB, sig syscall.Signal) error {
	tb.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		tb.Fatal(err)
	}
	select {
	case err := <-p.done:
		return err
	case <-time.After(time.Minute):
		tb.Fatalf("process did not exit after %v", sig)
		return nil
	}
}

// Logs returns what the process has logged so far.
func (p *Process) Logs() string {
	return p.logs.String()
}

// mustAddUser creates a user with the real binary.
func mustAddUser(tb testing.TB, bin, db, name, password string) {
	tb.Helper()
	cmd := exec.Command(bin, "user", "add", name, "--password-stdin", "--db", db)
	cmd.Stdin = strings.NewReader(password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("user add: %v\n%s", err, out)
	}
}
