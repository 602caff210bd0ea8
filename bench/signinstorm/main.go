// Command signinstorm fires many simultaneous sign-ins at a gatepass serve, each
// on a connection of its own, and reports what came back (200, 503 when every
// password-hashing slot stayed busy past the server's wait, 429 from the rate
// limiters), how fast the sign-ins were served and the server's peak RSS
// (VmHWM). It does so for the default --max-hashing, for a larger one, and for
// the defaults with the rate limiters on, then measures the raw argon2id rate
// of this machine, the ceiling of any sign-in rate.
//
//	go run ./bench/signinstorm -n 1000
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gatepass/gatepass/password"
	"golang.org/x/crypto/argon2"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "signinstorm:", err)
		}
		stop()
		os.Exit(1)
	}
}

// The account every sign-in uses. The password is published on purpose: the
// account lives only in the throwaway databases of the run.
const (
	accountName     = "storm"
	accountPassword = "storm-password-not-secret"
)

// config holds the flags.
type config struct {
	n          int
	largeSlots int
	rateLimit  bool
	hashRate   time.Duration
	dir        string
	gatepass   string
}

// run parses the flags, runs the storms and prints the table.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config
	fs := flag.NewFlagSet("signinstorm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.n, "n", 1000, "simultaneous sign-ins per storm")
	fs.IntVar(&c.largeSlots, "max-hashing", 64, "the larger --max-hashing to try")
	fs.BoolVar(&c.rateLimit, "rate-limited", true,
		"also run a storm against the default rate limits")
	fs.DurationVar(&c.hashRate, "hash-rate", 5*time.Second,
		"how long to measure the raw argon2id rate (0: skip)")
	fs.StringVar(&c.dir, "dir", "", "directory for the databases and logs "+
		"(default: a new temporary one, removed afterwards)")
	fs.StringVar(&c.gatepass, "gatepass", "", "gatepass binary (default: build one)")
	if err := fs.Parse(args); err != nil {
		return err
	} else if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	} else if c.n < 1 {
		return fmt.Errorf("n: must be at least 1, got %d", c.n)
	}

	if c.dir == "" {
		dir, err := os.MkdirTemp("", "gatepass-storm-")
		if err != nil {
			return fmt.Errorf("temporary directory: %w", err)
		}
		defer os.RemoveAll(dir)
		c.dir = dir
	}
	if c.gatepass == "" {
		c.gatepass = filepath.Join(c.dir, "gatepass")
		if err := buildGatepass(ctx, c.gatepass); err != nil {
			return err
		}
	}

	results, err := storms(ctx, &c)
	if err != nil {
		return err
	}
	writeTable(stdout, c.n, results)

	if c.hashRate > 0 {
		rate := hashRate(ctx, c.hashRate)
		fmt.Fprintf(stdout, "\nraw argon2id on %d goroutines: %.1f hashes/s\n",
			runtime.GOMAXPROCS(0), rate)
	}
	return ctx.Err()
}

// stormResult is what one storm measured.
type stormResult struct {
	label    string
	idleKiB  int
	peakKiB  int
	outcomes map[string]int
	seconds  float64
	ok       int
}

// storms runs one storm per server configuration, each on a new database.
func storms(ctx context.Context, c *config) ([]stormResult, error) {
	runs := []struct {
		label string
		args  []string
	}{
		{"--max-hashing default", []string{"--rate-limit", "off"}},
		{fmt.Sprintf("--max-hashing %d", c.largeSlots),
			[]string{"--rate-limit", "off", "--max-hashing", strconv.Itoa(c.largeSlots)}},
	}
	if c.rateLimit {
		runs = append(runs, struct {
			label string
			args  []string
		}{"defaults, rate limits on", nil})
	}

	var results []stormResult
	for i, r := range runs {
		db := filepath.Join(c.dir, fmt.Sprintf("storm-%d.db", i))
		if err := addAccount(ctx, c.gatepass, db); err != nil {
			return nil, err
		}
		got, err := storm(ctx, c, db, r.args)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.label, err)
		}
		got.label = r.label
		results = append(results, got)
	}
	return results, nil
}

// storm serves db with the extra flags, fires c.n sign-ins at once and
// records the outcomes and the server's memory.
func storm(ctx context.Context, c *config, db string, extra []string) (stormResult, error) {
	srv, err := startServer(ctx, c.gatepass, db, extra)
	if err != nil {
		return stormResult{}, err
	}
	defer srv.stop()

	pid := srv.cmd.Process.Pid
	idle, err := statusKiB(pid, "VmRSS")
	if err != nil {
		return stormResult{}, err
	}
	outcomes, secs := fire(ctx, srv.url, c.n)
	peak, err := statusKiB(pid, "VmHWM")
	if err != nil {
		return stormResult{}, err
	}
	return stormResult{idleKiB: idle, peakKiB: peak, outcomes: outcomes, seconds: secs,
		ok: outcomes["200"]}, nil
}

// fire sends n password sign-ins at once, each on a new connection, and
// returns the count of each outcome and the seconds from the start until the
// last successful answer.
func fire(ctx context.Context, base string, n int) (map[string]int, float64) {
	form := url.Values{"grant_type": {"password"}, "username": {accountName},
		"password": {accountPassword}}.Encode()

	var mu sync.Mutex
	outcomes := map[string]int{}
	var lastOK atomic.Int64
	var ready, wg sync.WaitGroup
	start := make(chan struct{})
	var t0 time.Time
	ready.Add(n)
	for range n {
		wg.Go(func() {
			// A transport per goroutine without keep-alives: n connections.
			client := &http.Client{Timeout: 5 * time.Minute,
				Transport: &http.Transport{DisableKeepAlives: true}}
			ready.Done()
			<-start
			kind := signIn(ctx, client, base, form)
			if kind == "200" {
				lastOK.Store(int64(time.Since(t0)))
			}
			mu.Lock()
			outcomes[kind]++
			mu.Unlock()
		})
	}
	ready.Wait()
	t0 = time.Now()
	close(start)
	wg.Wait()
	return outcomes, time.Duration(lastOK.Load()).Seconds()
}

// signIn sends one sign-in and returns its outcome: the status, with the
// OAuth error code when there is one, or the kind of transport failure.
func signIn(ctx context.Context, client *http.Client, base, form string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/oauth/token",
		strings.NewReader(form))
	if err != nil {
		return "request: " + err.Error()
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		var nerr net.Error
		if errors.As(err, &nerr) && nerr.Timeout() {
			return "timeout"
		}
		return "transport error"
	}
	defer resp.Body.Close()

	var body struct {
		Error       string `json:"error"`
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&body)
	switch {
	case resp.StatusCode == http.StatusOK && body.AccessToken != "":
		return "200"
	case resp.StatusCode == http.StatusOK:
		return "200 without access_token"
	case body.Error != "":
		return fmt.Sprintf("%d %s", resp.StatusCode, body.Error)
	}
	return strconv.Itoa(resp.StatusCode)
}

// writeTable prints the storms as a Markdown table.
func writeTable(w io.Writer, n int, results []stormResult) {
	fmt.Fprintf(w, "%d simultaneous sign-ins, one connection each\n\n", n)
	fmt.Fprintln(w, "| server | idle RSS KiB | peak RSS KiB | sign-ins/s | outcomes |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | --- |")
	for _, r := range results {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(r.outcomes)) {
			parts = append(parts, fmt.Sprintf("%d × %s", r.outcomes[k], k))
		}
		rate := 0.0
		if r.seconds > 0 {
			rate = float64(r.ok) / r.seconds
		}
		fmt.Fprintf(w, "| %s | %d | %d | %.1f | %s |\n", r.label, r.idleKiB, r.peakKiB,
			rate, strings.Join(parts, ", "))
	}
}

// hashRate computes argon2id hashes with gatepass's parameters on every CPU at
// once for d and returns how many it managed per second.
func hashRate(ctx context.Context, d time.Duration) float64 {
	h := password.NewHasher(0)
	pw, salt := []byte("correct horse battery staple"), make([]byte, h.SaltLen)

	var count atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for done := false; !done; {
				argon2.IDKey(pw, salt, h.Time, h.Memory, h.Threads, h.KeyLen)
				count.Add(1)
				done = ctx.Err() != nil || !time.Now().Before(deadline)
			}
		})
	}
	wg.Wait()
	return float64(count.Load()) / time.Since(start).Seconds()
}

// statusKiB reads a field such as VmHWM, in KiB, from /proc/PID/status.
func statusKiB(pid int, field string) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read process status: %w", err)
	}
	defer f.Close()

	for sc := bufio.NewScanner(f); sc.Scan(); {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		kib, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(value), " kB"))
		if err != nil {
			return 0, fmt.Errorf("parse %s: %w", field, err)
		}
		return kib, nil
	}
	return 0, fmt.Errorf("%s not in /proc/%d/status", field, pid)
}

// addAccount creates the storm account in a new database with "gatepass user
// add", as an operator would.
func addAccount(ctx context.Context, bin, db string) error {
	cmd := exec.CommandContext(ctx, bin, "user", "add", accountName, "--db", db,
		"--password-stdin", "--log-level", "warn")
	cmd.Stdin = strings.NewReader(accountPassword + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("gatepass user add: %w: %s", err, out)
	}
	return nil
}

// server is a running "gatepass serve".
type server struct {
	cmd  *exec.Cmd
	url  string
	done chan error
}

// buildGatepass builds the gatepass command into path.
func buildGatepass(ctx context.Context, path string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", path,
		"github.com/gatepass/gatepass/cmd/gatepass")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build gatepass: %w: %s", err, out)
	}
	return nil
}

// startServer starts "gatepass serve" on db on a free loopback port with the
// extra flags and waits until it answers /healthz. Its log goes beside db.
func startServer(ctx context.Context, bin, db string, extra []string) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("find a free port: %w", err)
	}
	addr := l.Addr().String()
	l.Close()
	logFile, err := os.Create(db + ".log")
	if err != nil {
		return nil, fmt.Errorf("server log: %w", err)
	}
	defer logFile.Close()

	args := append([]string{"serve", "--db", db, "--addr", addr}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start gatepass serve: %w", err)
	}
	s := &server{cmd: cmd, url: "http://" + addr, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()

	for range 300 {
		select {
		case err := <-s.done:
			s.done <- err
			return nil, fmt.Errorf("gatepass serve exited: %v", err)
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if resp, err := http.Get(s.url + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
	}
	s.stop()
	return nil, errors.New("gatepass serve did not become healthy")
}

// stop ends the server with SIGTERM and waits for it.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}
